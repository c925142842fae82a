/* url_query.c - see url_query.h. */
#include "util/url_query.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"
#include "util/hex.h"

struct buffer {
    char *bytes;
    size_t length;
    size_t capacity;
};

static void add(struct buffer *b, const char *bytes, size_t length)
{
    if (b->length + length + 1 > b->capacity) {
        b->capacity = (b->length + length + 1) * 2;
        b->bytes = xrealloc(b->bytes, b->capacity);
    }
    memcpy(b->bytes + b->length, bytes, length);
    b->length += length;
    b->bytes[b->length] = '\0';
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

static void add_escaped(struct buffer *b, const char *text, size_t length)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (unreserved(c)) {
            add(b, (const char *)&c, 1);
        } else if (c == ' ') {
            add(b, "+", 1);
        } else {
            char escaped[3] = {'%', hex[c >> 4], hex[c & 15]};
            add(b, escaped, 3);
        }
    }
}

char *url_query_escape(const char *text, size_t length)
{
    struct buffer b = {xstrdup(""), 0, 1};
    add_escaped(&b, text, length);
    return b.bytes;
}

char *url_query_unescape(const char *text, size_t length, size_t *out_length, struct wippy_error *error)
{
    char *out = xmalloc(length + 1);
    size_t used = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '%') {
            int high = i + 1 < length ? hex_digit_value(text[i + 1]) : -1;
            int low = i + 2 < length ? hex_digit_value(text[i + 2]) : -1;
            if (high < 0 || low < 0) {
                size_t shown = length - i < 3 ? length - i : 3;
                error_set(error, WIPPY_EINVAL, "invalid URL escape \"%.*s\"", (int)shown, text + i);
                free(out);
                return NULL;
            }
            out[used++] = (char)(high * 16 + low);
            i += 2;
        } else {
            out[used++] = text[i] == '+' ? ' ' : text[i];
        }
    }
    out[used] = '\0';
    *out_length = used;
    return out;
}

/* One pair of a query being rebuilt: text owned here. */
struct owned_pair {
    char *key;
    size_t key_length;
    char *value;
    size_t value_length;
    size_t order; /* to keep a key's values in their order */
};

static int compare_pairs(const void *a, const void *b)
{
    const struct owned_pair *x = a, *y = b;
    size_t shorter = x->key_length < y->key_length ? x->key_length : y->key_length;
    int order = memcmp(x->key, y->key, shorter);
    if (order == 0)
        order = (x->key_length > y->key_length) - (x->key_length < y->key_length);
    if (order == 0)
        order = (x->order > y->order) - (x->order < y->order);
    return order;
}

static char *encode_owned(struct owned_pair *pairs, size_t count)
{
    qsort(pairs, count, sizeof *pairs, compare_pairs);
    struct buffer b = {xstrdup(""), 0, 1};
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            add(&b, "&", 1);
        add_escaped(&b, pairs[i].key, pairs[i].key_length);
        add(&b, "=", 1);
        add_escaped(&b, pairs[i].value, pairs[i].value_length);
    }
    return b.bytes;
}

static void free_owned(struct owned_pair *pairs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
}

static struct owned_pair copy_pair(const struct url_query_pair *pair, size_t order)
{
    return (struct owned_pair){xstrndup(pair->key, pair->key_length), pair->key_length,
                               xstrndup(pair->value, pair->value_length), pair->value_length, order};
}

char *url_query_encode(const struct url_query_pair *pairs, size_t count)
{
    struct owned_pair *owned = xcalloc(count + 1, sizeof *owned);
    for (size_t i = 0; i < count; i++)
        owned[i] = copy_pair(&pairs[i], i);
    char *text = encode_owned(owned, count);
    free_owned(owned, count);
    return text;
}

static bool replaced(const char *key, size_t key_length, const struct url_query_pair *pairs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (pairs[i].key_length == key_length && memcmp(pairs[i].key, key, key_length) == 0)
            return true;
    return false;
}

char *url_query_set(const char *url, const struct url_query_pair *pairs, size_t count)
{
    const char *fragment = strchr(url, '#');
    size_t before_fragment = fragment != NULL ? (size_t)(fragment - url) : strlen(url);
    const char *question = memchr(url, '?', before_fragment);
    size_t base_length = question != NULL ? (size_t)(question - url) : before_fragment;
    const char *query = question != NULL ? question + 1 : url + before_fragment;
    size_t query_length = (size_t)(url + before_fragment - query);

    size_t capacity = count + 1 + query_length / 2 + 1, used = 0;
    struct owned_pair *owned = xcalloc(capacity, sizeof *owned);
    /* the pairs the url has, as Go's Query() reads them: split at '&',
     * a pair with ';' or a bad escape dropped */
    for (size_t start = 0; start < query_length;) {
        const char *end = memchr(query + start, '&', query_length - start);
        size_t length = end != NULL ? (size_t)(end - (query + start)) : query_length - start;
        const char *pair = query + start;
        start += length + 1;
        if (length == 0 || memchr(pair, ';', length) != NULL)
            continue;
        const char *equals = memchr(pair, '=', length);
        size_t key_length = equals != NULL ? (size_t)(equals - pair) : length;
        struct wippy_error ignored;
        size_t key_out, value_out;
        char *key = url_query_unescape(pair, key_length, &key_out, &ignored);
        char *value = key != NULL ? url_query_unescape(equals != NULL ? equals + 1 : "",
                                                       equals != NULL ? length - key_length - 1 : 0, &value_out,
                                                       &ignored)
                                  : NULL;
        if (key == NULL || value == NULL || replaced(key, key_out, pairs, count)) {
            free(key);
            free(value);
            continue;
        }
        owned[used] = (struct owned_pair){key, key_out, value, value_out, used};
        used++;
    }
    for (size_t i = 0; i < count; i++) {
        owned[used] = copy_pair(&pairs[i], used);
        used++;
    }
    char *encoded = encode_owned(owned, used);
    free_owned(owned, used);
    struct buffer b = {xstrdup(""), 0, 1};
    add(&b, url, base_length);
    if (encoded[0] != '\0') {
        add(&b, "?", 1);
        add(&b, encoded, strlen(encoded));
    }
    free(encoded);
    if (fragment != NULL)
        add(&b, fragment, strlen(fragment));
    return b.bytes;
}
