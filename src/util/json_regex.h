/* json_regex.h - the regular expressions of JSON Schema ("pattern",
 * "patternProperties"): ECMA-262 approximated by PCRE2 (UTF-8, "$" only at
 * the very end, \uXXXX and \u{X...}), found anywhere in the subject, each
 * search's work counted against a budget so that no pattern can run away. */
#ifndef WIPPY_UTIL_JSON_REGEX_H
#define WIPPY_UTIL_JSON_REGEX_H

#include <stddef.h>

#include "util/error.h"

/* The longest pattern compiled, in bytes. */
#define JSON_REGEX_MAX_LENGTH 8192

struct json_regex;

/* Compiles source. Returns 0 with *regex, or WIPPY_EINVAL with PCRE2's
 * reason and the offset in error. */
int json_regex_compile(const char *source, size_t length, struct json_regex **regex, struct wippy_error *error);

/* The memory the compiled pattern takes, in bytes. */
size_t json_regex_size(const struct json_regex *regex);

/* Searches subject (UTF-8) for a match. Returns 1 (found) or 0 (not), or
 * WIPPY_ETIMEDOUT when the search needed more steps than *steps held or
 * than one search may take (a million and a thousand per byte), or
 * WIPPY_EINVAL (subject not UTF-8, or PCRE2's heap limit), error saying so.
 * Whatever the outcome, the steps the search was allowed are taken from
 * *steps (an upper bound of the work it did). */
int json_regex_search(const struct json_regex *regex, const char *subject, size_t length, size_t *steps,
                      struct wippy_error *error);

void json_regex_free(struct json_regex *regex);

#endif
