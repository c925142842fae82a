/* json_regex.c - see json_regex.h. A search is one anchored match of
 * "(?s:.)*?(?:pattern)": PCRE2 restarts its match limit at every start
 * position of an unanchored search, so only an anchored one is bounded as a
 * whole. A search first gets a few steps per subject byte and eight times
 * more each time it runs out, up to a bound of its own, so that what it is
 * charged stays within eight times what it used. */
#include "util/json_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"

#define HEAP_LIMIT_KIB 16384
#define FIRST_LIMIT_BASE 64
#define FIRST_LIMIT_PER_BYTE 2
/* What one search may take at most: far more than a pattern that does not
 * backtrack needs, and soon enough for one that does to give up. */
#define SEARCH_LIMIT_BASE 1000000
#define SEARCH_LIMIT_PER_BYTE 1000
#define WRAPPER_PREFIX "(?s:.)*?(?:"
#define WRAPPER_SUFFIX ")"
#define COMPILE_OPTIONS (PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX | PCRE2_NEVER_BACKSLASH_C)

struct json_regex {
    pcre2_code *code;
    size_t size;
};

static pcre2_code *compile(const char *source, size_t length, uint32_t options, int *code, size_t *offset)
{
    pcre2_compile_context *context = pcre2_compile_context_create(NULL);
    pcre2_set_compile_extra_options(context, PCRE2_EXTRA_ALT_BSUX);
    PCRE2_SIZE error_offset = 0;
    pcre2_code *compiled = pcre2_compile((PCRE2_SPTR)source, length, options, code, &error_offset, context);
    pcre2_compile_context_free(context);
    *offset = error_offset;
    return compiled;
}

static int compile_failure(int code, size_t offset, const char *what, struct wippy_error *error)
{
    PCRE2_UCHAR reason[160];
    if (pcre2_get_error_message(code, reason, sizeof reason) < 0)
        strcpy((char *)reason, "unknown error");
    return error_set(error, WIPPY_EINVAL, "%s: %s at offset %zu", what, (const char *)reason, offset);
}

int json_regex_compile(const char *source, size_t length, struct json_regex **regex, struct wippy_error *error)
{
    if (length > JSON_REGEX_MAX_LENGTH)
        return error_set(error, WIPPY_EINVAL, "is %zu bytes long, more than %d", length, JSON_REGEX_MAX_LENGTH);
    int code;
    size_t offset;
    /* alone first: wrapped, "a)(b" would compile */
    pcre2_code *alone = compile(source, length, COMPILE_OPTIONS, &code, &offset);
    if (alone == NULL)
        return compile_failure(code, offset, "is not a valid regular expression", error);
    pcre2_code_free(alone);
    size_t wrapped_length = strlen(WRAPPER_PREFIX) + length + strlen(WRAPPER_SUFFIX);
    char *wrapped = xmalloc(wrapped_length + 1);
    memcpy(wrapped, WRAPPER_PREFIX, strlen(WRAPPER_PREFIX));
    memcpy(wrapped + strlen(WRAPPER_PREFIX), source, length);
    memcpy(wrapped + strlen(WRAPPER_PREFIX) + length, WRAPPER_SUFFIX, strlen(WRAPPER_SUFFIX) + 1);
    pcre2_code *searcher = compile(wrapped, wrapped_length, COMPILE_OPTIONS | PCRE2_ANCHORED, &code, &offset);
    free(wrapped);
    if (searcher == NULL)
        return compile_failure(code, offset, "cannot be searched for", error);
    *regex = xcalloc(1, sizeof **regex);
    (*regex)->code = searcher;
    pcre2_pattern_info(searcher, PCRE2_INFO_SIZE, &(*regex)->size);
    return 0;
}

size_t json_regex_size(const struct json_regex *regex)
{
    return regex->size;
}

static int run(const struct json_regex *regex, const char *subject, size_t length, size_t *steps,
               pcre2_match_context *context, pcre2_match_data *data, struct wippy_error *error)
{
    size_t limit = FIRST_LIMIT_BASE + FIRST_LIMIT_PER_BYTE * length;
    size_t most = SEARCH_LIMIT_BASE + SEARCH_LIMIT_PER_BYTE * length;
    for (;;) {
        if (limit > most)
            limit = most;
        if (limit > *steps)
            limit = *steps;
        if (limit > UINT32_MAX)
            limit = UINT32_MAX;
        if (limit == 0)
            return error_set(error, WIPPY_ETIMEDOUT, "needs more steps than the validation has left");
        pcre2_set_match_limit(context, (uint32_t)limit);
        *steps -= limit;
        int rc = pcre2_match(regex->code, (PCRE2_SPTR)subject, length, 0, 0, data, context);
        if (rc >= 0)
            return 1;
        if (rc == PCRE2_ERROR_NOMATCH)
            return 0;
        if (rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
            return error_set(error, WIPPY_ETIMEDOUT, "needs more than %d KiB of memory", HEAP_LIMIT_KIB);
        if (rc != PCRE2_ERROR_MATCHLIMIT) {
            PCRE2_UCHAR reason[160];
            pcre2_get_error_message(rc, reason, sizeof reason);
            return error_set(error, WIPPY_EINVAL, "cannot search the text: %s", (const char *)reason);
        }
        if (limit >= most)
            return error_set(error, WIPPY_ETIMEDOUT, "backtracks more than %zu steps on %zu bytes of text", most,
                             length);
        limit *= 8;
    }
}

int json_regex_search(const struct json_regex *regex, const char *subject, size_t length, size_t *steps,
                      struct wippy_error *error)
{
    pcre2_match_context *context = pcre2_match_context_create(NULL);
    pcre2_match_data *data = pcre2_match_data_create(1, NULL);
    if (context == NULL || data == NULL) {
        pcre2_match_context_free(context);
        pcre2_match_data_free(data);
        return error_set(error, WIPPY_ENOMEM, "out of memory");
    }
    pcre2_set_heap_limit(context, HEAP_LIMIT_KIB);
    int result = run(regex, subject, length, steps, context, data, error);
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    return result;
}

void json_regex_free(struct json_regex *regex)
{
    if (regex == NULL)
        return;
    pcre2_code_free(regex->code);
    free(regex);
}
