/* json_pointer.c - see json_pointer.h. */
#include "util/json_pointer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"
#include "util/hex.h"

#define SEGMENT_SHOWN_BYTES 64
#define QUOTED_SHOWN_BYTES 100

bool json_pointer_push_key(struct json_pointer_path *path, const char *key, size_t length)
{
    if (path->depth >= JSON_POINTER_MAX_DEPTH)
        return false;
    path->segments[path->depth++] = (struct json_pointer_segment){key, length, 0};
    return true;
}

bool json_pointer_push_index(struct json_pointer_path *path, size_t index)
{
    if (path->depth >= JSON_POINTER_MAX_DEPTH)
        return false;
    path->segments[path->depth++] = (struct json_pointer_segment){NULL, 0, index};
    return true;
}

void json_pointer_pop(struct json_pointer_path *path)
{
    if (path->depth > 0)
        path->depth--;
}

struct writer {
    char *buffer;
    size_t size;
    size_t length;
};

static void write_byte(struct writer *w, char byte)
{
    if (w->length + 1 < w->size)
        w->buffer[w->length++] = byte;
}

static void write_text(struct writer *w, const char *text)
{
    while (*text != '\0')
        write_byte(w, *text++);
}

/* How many of length bytes to show at most limit: a UTF-8 sequence is not cut. */
static size_t shown_bytes(const char *text, size_t length, size_t limit)
{
    if (length <= limit)
        return length;
    while (limit > 0 && ((unsigned char)text[limit] & 0xC0) == 0x80)
        limit--;
    return limit;
}

/* Writes a byte of a name or value: control characters as JSON escapes. */
static void write_visible(struct writer *w, char byte)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = (unsigned char)byte;
    if (c == '\n') {
        write_text(w, "\\n");
    } else if (c == '\t') {
        write_text(w, "\\t");
    } else if (c < 0x20 || c == 0x7f) {
        char escape[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '\0'};
        write_text(w, escape);
    } else {
        write_byte(w, byte);
    }
}

static void write_key(struct writer *w, const char *key, size_t length)
{
    size_t shown = shown_bytes(key, length, SEGMENT_SHOWN_BYTES);
    for (size_t i = 0; i < shown; i++) {
        if (key[i] == '~')
            write_text(w, "~0");
        else if (key[i] == '/')
            write_text(w, "~1");
        else
            write_visible(w, key[i]);
    }
    if (shown < length)
        write_text(w, "...");
}

void json_pointer_quote(const char *text, size_t length, char *buffer, size_t size)
{
    struct writer w = {buffer, size, 0};
    size_t shown = shown_bytes(text, length, QUOTED_SHOWN_BYTES);
    write_byte(&w, '"');
    for (size_t i = 0; i < shown; i++) {
        if (text[i] == '"' || text[i] == '\\')
            write_byte(&w, '\\');
        write_visible(&w, text[i]);
    }
    write_text(&w, shown < length ? "...\"" : "\"");
    if (size > 0)
        buffer[w.length] = '\0';
}

void json_pointer_format(const struct json_pointer_path *path, char *buffer, size_t size)
{
    struct writer w = {buffer, size, 0};
    for (size_t i = 0; i < path->depth; i++) {
        const struct json_pointer_segment *segment = &path->segments[i];
        write_byte(&w, '/');
        if (segment->key != NULL) {
            write_key(&w, segment->key, segment->length);
        } else {
            char digits[24];
            snprintf(digits, sizeof digits, "%zu", segment->index);
            write_text(&w, digits);
        }
    }
    if (size > 0)
        buffer[w.length] = '\0';
}

/* The fragment with %XX decoded (malloc'd, *length bytes), or NULL. */
static char *percent_decode(const char *fragment, size_t *length)
{
    size_t size = strlen(fragment);
    char *decoded = xmalloc(size + 1);
    size_t out = 0;
    for (size_t i = 0; i < size; i++) {
        if (fragment[i] != '%') {
            decoded[out++] = fragment[i];
            continue;
        }
        int high = i + 2 < size ? hex_digit_value(fragment[i + 1]) : -1;
        int low = high >= 0 ? hex_digit_value(fragment[i + 2]) : -1;
        if (low < 0) {
            free(decoded);
            return NULL;
        }
        decoded[out++] = (char)(high * 16 + low);
        i += 2;
    }
    decoded[out] = '\0';
    *length = out;
    return decoded;
}

/* Unescapes one reference token in place (~1 is '/', ~0 is '~'); returns its
 * new length, or -1 for a '~' followed by anything else. */
static long unescape_token(char *token, size_t length)
{
    size_t out = 0;
    for (size_t i = 0; i < length; i++) {
        if (token[i] != '~') {
            token[out++] = token[i];
        } else if (i + 1 < length && (token[i + 1] == '0' || token[i + 1] == '1')) {
            token[out++] = token[i + 1] == '0' ? '~' : '/';
            i++;
        } else {
            return -1;
        }
    }
    return (long)out;
}

static bool parse_index(const char *token, size_t length, size_t *index)
{
    if (length == 0 || length > 18 || (length > 1 && token[0] == '0'))
        return false;
    size_t value = 0;
    for (size_t i = 0; i < length; i++) {
        if (token[i] < '0' || token[i] > '9')
            return false;
        value = value * 10 + (size_t)(token[i] - '0');
    }
    *index = value;
    return true;
}

static const json_t *step(const json_t *value, const char *token, size_t length)
{
    if (json_is_object(value))
        return json_object_getn(value, token, length);
    size_t index;
    if (json_is_array(value) && parse_index(token, length, &index))
        return json_array_get(value, index);
    return NULL;
}

int json_pointer_resolve_fragment(const json_t *document, const char *fragment, const json_t **target,
                                  struct wippy_error *error)
{
    size_t length;
    char *pointer = percent_decode(fragment, &length);
    if (pointer == NULL || (length > 0 && pointer[0] != '/')) {
        free(pointer);
        return error_set(error, WIPPY_EINVAL, "is not a JSON pointer");
    }
    const json_t *value = document;
    size_t start = 1;
    while (value != NULL && start <= length) {
        char *token = pointer + start;
        size_t end = start;
        while (end < length && pointer[end] != '/')
            end++;
        long token_length = unescape_token(token, end - start);
        if (token_length < 0) {
            free(pointer);
            return error_set(error, WIPPY_EINVAL, "has a '~' that is not ~0 or ~1");
        }
        value = step(value, token, (size_t)token_length);
        start = end + 1;
    }
    free(pointer);
    if (value == NULL)
        return error_set(error, WIPPY_ENOENT, "points at nothing");
    *target = value;
    return 0;
}
