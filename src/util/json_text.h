/* json_text.h - builds JSON text as Go's encoding/json writes the same data
 * (Go Wippy's json.encode): strings with <, > and & (and U+2028, U+2029)
 * escaped as \u003c..., a number with an integral value as an integer, any
 * other in its shortest form that reads back the same, without an exponent
 * (3.14, 0.0000001). The caller writes the structure ({, :, ,) itself. */
#ifndef WIPPY_UTIL_JSON_TEXT_H
#define WIPPY_UTIL_JSON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* A growing, NUL-terminated text. Start from {0}; free bytes when done.
 * Once memory runs out, failed is set and every later add does nothing. */
struct json_text {
    char *bytes;
    size_t length;
    size_t capacity;
    bool failed;
};

/* Appends length bytes as they are. */
void json_text_grow_and_add(struct json_text *text, const char *bytes, size_t length);
static inline void json_text_add(struct json_text *text, const char *bytes, size_t length)
{
    if (text->failed || text->length + length + 1 > text->capacity) {
        json_text_grow_and_add(text, bytes, length);
        return;
    }
    memcpy(text->bytes + text->length, bytes, length);
    text->length += length;
    text->bytes[text->length] = '\0';
}

/* Appends a quoted, escaped string. The bytes must be UTF-8
 * (json_text_is_utf8). */
void json_text_add_string(struct json_text *text, const char *bytes, size_t length);

/* Appends an integer in decimal. */
void json_text_add_integer(struct json_text *text, long long number);

/* Appends a finite double: an integral value in the range of long long as an
 * integer, any other as json_text_shortest_double writes it. */
void json_text_add_double(struct json_text *text, double number);

/* True when the bytes are well-formed UTF-8: no overlong form, no
 * surrogate, nothing above U+10FFFF (zero bytes are allowed). */
bool json_text_is_utf8(const char *bytes, size_t length);

/* The shortest text of a finite double as Go's strconv.FormatFloat(f, 'f',
 * -1, 64) writes it, into buffer (at least 400 bytes); returns its length. */
size_t json_text_shortest_double(double number, char *buffer, size_t size);

#endif
