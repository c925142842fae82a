/* url_query.h - query strings as Go's net/url writes and reads them
 * (QueryEscape, QueryUnescape, Values.Encode): unreserved bytes as they
 * are, a space as '+', everything else %XX; pairs sorted by key when a
 * query is written. */
#ifndef WIPPY_UTIL_URL_QUERY_H
#define WIPPY_UTIL_URL_QUERY_H

#include <stddef.h>

#include "util/error.h"

/* The escaped text (malloc'd). */
char *url_query_escape(const char *text, size_t length);

/* The unescaped text (malloc'd, NUL-terminated, *out_length bytes), or NULL
 * with `invalid URL escape "%zz"` in error. */
char *url_query_unescape(const char *text, size_t length, size_t *out_length, struct wippy_error *error);

struct url_query_pair {
    const char *key;
    size_t key_length;
    const char *value;
    size_t value_length;
};

/* The url with pairs set in its query, as Go merges them: the pairs the
 * query already has (those that read back) are kept, each key given here
 * replaces all values of that key, and the query is written again sorted
 * by key; a fragment stays at the end. malloc'd. */
char *url_query_set(const char *url, const struct url_query_pair *pairs, size_t count);

/* key=value pairs sorted by key, escaped and joined with '&' (a form's
 * body). malloc'd. */
char *url_query_encode(const struct url_query_pair *pairs, size_t count);

#endif
