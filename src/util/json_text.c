/* json_text.c - see json_text.h. */
#include "util/json_text.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct text {
    char *bytes;
    size_t length;
    size_t capacity;
    bool failed;
};

static void add(struct text *text, const char *bytes, size_t length)
{
    if (text->failed)
        return;
    if (text->length + length + 1 > text->capacity) {
        size_t capacity = text->capacity * 2 > text->length + length + 1 ? text->capacity * 2
                                                                          : text->length + length + 64;
        char *grown = realloc(text->bytes, capacity);
        if (grown == NULL) {
            text->failed = true;
            return;
        }
        text->bytes = grown;
        text->capacity = capacity;
    }
    memcpy(text->bytes + text->length, bytes, length);
    text->length += length;
    text->bytes[text->length] = '\0';
}

static void add_string(struct text *text, const char *bytes, size_t length)
{
    static const char hex[] = "0123456789abcdef";
    add(text, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)bytes[i];
        const char *escape = NULL;
        char unicode[7];
        size_t skip = 1;
        if (c == '"')
            escape = "\\\"";
        else if (c == '\\')
            escape = "\\\\";
        else if (c == '\n')
            escape = "\\n";
        else if (c == '\r')
            escape = "\\r";
        else if (c == '\t')
            escape = "\\t";
        else if (c == '\b')
            escape = "\\b";
        else if (c == '\f')
            escape = "\\f";
        else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            snprintf(unicode, sizeof unicode, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            escape = unicode;
        } else if (c == 0xE2 && i + 2 < length && (unsigned char)bytes[i + 1] == 0x80 &&
                   ((unsigned char)bytes[i + 2] == 0xA8 || (unsigned char)bytes[i + 2] == 0xA9)) {
            escape = (unsigned char)bytes[i + 2] == 0xA8 ? "\\u2028" : "\\u2029"; /* JavaScript line ends */
            skip = 3;
        }
        if (escape == NULL)
            continue;
        add(text, bytes + start, i - start);
        add(text, escape, strlen(escape));
        i += skip - 1;
        start = i + 1;
    }
    add(text, bytes + start, length - start);
    add(text, "\"", 1);
}

size_t json_text_shortest_double(double number, char *buffer, size_t size)
{
    /* the fewest significant digits that read back as the same double */
    char scientific[40];
    for (int precision = 0; precision < 17; precision++) {
        snprintf(scientific, sizeof scientific, "%.*e", precision, number);
        if (strtod(scientific, NULL) == number)
            break;
    }
    const char *mantissa = scientific;
    bool negative = *mantissa == '-';
    if (negative)
        mantissa++;
    const char *e = strchr(mantissa, 'e');
    int exponent = atoi(e + 1);
    char digits[40];
    size_t count = 0;
    for (const char *c = mantissa; c < e; c++)
        if (*c != '.')
            digits[count++] = *c;
    while (count > 1 && digits[count - 1] == '0')
        count--;
    /* digits d1 d2 ... dn mean d1.d2...dn x 10^exponent: written out in full */
    size_t at = 0;
#define PUT(ch) do { if (at + 1 < size) buffer[at++] = (ch); } while (0)
    if (negative)
        PUT('-');
    if (exponent < 0) {
        PUT('0');
        PUT('.');
        for (int i = 0; i < -exponent - 1; i++)
            PUT('0');
        for (size_t i = 0; i < count; i++)
            PUT(digits[i]);
    } else {
        for (size_t i = 0; i < count || (int)i <= exponent; i++) {
            if ((int)i == exponent + 1)
                PUT('.');
            PUT(i < count ? digits[i] : '0');
        }
    }
#undef PUT
    buffer[at] = '\0';
    return at;
}

static void add_value(struct text *text, const json_t *value);

struct member {
    const char *key;
    size_t length; /* a key may hold zero bytes */
    const json_t *value;
};

static int compare_members(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int order = memcmp(x->key, y->key, x->length < y->length ? x->length : y->length);
    return order != 0 ? order : (x->length > y->length) - (x->length < y->length);
}

static void add_object(struct text *text, const json_t *object)
{
    size_t count = json_object_size(object), i = 0;
    struct member *members = malloc((count + 1) * sizeof *members);
    if (members == NULL) {
        text->failed = true;
        return;
    }
    const char *key;
    size_t length;
    json_t *member;
    json_object_keylen_foreach((json_t *)object, key, length, member)
        members[i++] = (struct member){key, length, member};
    qsort(members, count, sizeof *members, compare_members);
    add(text, "{", 1);
    for (i = 0; i < count; i++) {
        if (i > 0)
            add(text, ",", 1);
        add_string(text, members[i].key, members[i].length);
        add(text, ":", 1);
        add_value(text, members[i].value);
    }
    add(text, "}", 1);
    free(members);
}

static void add_value(struct text *text, const json_t *value)
{
    char number[400];
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        add_object(text, value);
        break;
    case JSON_ARRAY:
        add(text, "[", 1);
        for (size_t i = 0; i < json_array_size(value); i++) {
            if (i > 0)
                add(text, ",", 1);
            add_value(text, json_array_get(value, i));
        }
        add(text, "]", 1);
        break;
    case JSON_STRING:
        add_string(text, json_string_value(value), json_string_length(value));
        break;
    case JSON_INTEGER:
        add(text, number, (size_t)snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(value)));
        break;
    case JSON_REAL: {
        double real = json_real_value(value);
        if (real == floor(real) && real >= -9223372036854775808.0 && real < 9223372036854775808.0)
            add(text, number, (size_t)snprintf(number, sizeof number, "%lld", (long long)real));
        else
            add(text, number, json_text_shortest_double(real, number, sizeof number));
        break;
    }
    case JSON_TRUE:
        add(text, "true", 4);
        break;
    case JSON_FALSE:
        add(text, "false", 5);
        break;
    case JSON_NULL:
        add(text, "null", 4);
        break;
    }
}

char *json_text_write(const json_t *value, size_t *length)
{
    struct text text = {0};
    add(&text, "", 0);
    add_value(&text, value);
    if (text.failed) {
        free(text.bytes);
        return NULL;
    }
    *length = text.length;
    return text.bytes;
}
