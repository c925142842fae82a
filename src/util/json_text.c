/* json_text.c - see json_text.h. */
#include "util/json_text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/decimal.h"

void json_text_grow_and_add(struct json_text *text, const char *bytes, size_t length)
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

/* What a byte of a string needs: 0 nothing, 1 an escape, 2 a look at the
 * next two (0xE2 starts U+2028 and U+2029). */
static unsigned char escape_class(unsigned char c)
{
    if (c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&')
        return 1;
    return c == 0xE2 ? 2 : 0;
}

void json_text_add_string(struct json_text *text, const char *bytes, size_t length)
{
    static const char hex[] = "0123456789abcdef";
    json_text_add(text, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)bytes[i];
        unsigned char class = escape_class(c);
        if (class == 0)
            continue;
        char escape[7] = {'\\', 0};
        size_t escape_length = 2, skip = 1;
        if (class == 2) {
            if (i + 2 >= length || (unsigned char)bytes[i + 1] != 0x80 ||
                ((unsigned char)bytes[i + 2] != 0xA8 && (unsigned char)bytes[i + 2] != 0xA9))
                continue;
            memcpy(escape, (unsigned char)bytes[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6); /* JavaScript line ends */
            escape_length = 6;
            skip = 3;
        } else if (c == '"' || c == '\\') {
            escape[1] = (char)c;
        } else if (c == '\n') {
            escape[1] = 'n';
        } else if (c == '\r') {
            escape[1] = 'r';
        } else if (c == '\t') {
            escape[1] = 't';
        } else if (c == '\b') {
            escape[1] = 'b';
        } else if (c == '\f') {
            escape[1] = 'f';
        } else {
            memcpy(escape, "\\u00", 4);
            escape[4] = hex[c >> 4];
            escape[5] = hex[c & 15];
            escape_length = 6;
        }
        json_text_add(text, bytes + start, i - start);
        json_text_add(text, escape, escape_length);
        i += skip - 1;
        start = i + 1;
    }
    json_text_add(text, bytes + start, length - start);
    json_text_add(text, "\"", 1);
}

void json_text_add_integer(struct json_text *text, long long number)
{
    char buffer[DECIMAL_BUFFER_SIZE];
    unsigned long long magnitude = number < 0 ? 0ULL - (unsigned long long)number : (unsigned long long)number;
    const char *digits = decimal_digits(magnitude, number < 0, buffer);
    json_text_add(text, digits, (size_t)(buffer + sizeof buffer - digits));
}

void json_text_add_double(struct json_text *text, double number)
{
    if (number == floor(number) && number >= -9223372036854775808.0 && number < 9223372036854775808.0) {
        json_text_add_integer(text, (long long)number);
        return;
    }
    char buffer[400];
    json_text_add(text, buffer, json_text_shortest_double(number, buffer, sizeof buffer));
}

bool json_text_is_utf8(const char *bytes, size_t length)
{
    const unsigned char *at = (const unsigned char *)bytes, *end = at + length;
    while (at < end) {
        unsigned char first = *at;
        if (first < 0x80) {
            at++;
            continue;
        }
        size_t count;
        uint32_t code;
        if (first >= 0xC2 && first <= 0xDF)
            count = 2, code = first & 0x1F;
        else if (first >= 0xE0 && first <= 0xEF)
            count = 3, code = first & 0x0F;
        else if (first >= 0xF0 && first <= 0xF4)
            count = 4, code = first & 0x07;
        else
            return false; /* a continuation byte, an overlong ASCII form (C0, C1) or past F4 */
        if ((size_t)(end - at) < count)
            return false;
        for (size_t i = 1; i < count; i++) {
            if ((at[i] & 0xC0) != 0x80)
                return false;
            code = (code << 6) | (at[i] & 0x3F);
        }
        if ((count == 3 && code < 0x800) || (count == 4 && code < 0x10000) || code > 0x10FFFF ||
            (code >= 0xD800 && code <= 0xDFFF))
            return false;
        at += count;
    }
    return true;
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
