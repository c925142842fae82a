/* json_text.h - writes a jansson value as Go's encoding/json writes the
 * same data (Go Wippy's json.encode): compact, object keys sorted, strings
 * with <, > and & (and U+2028, U+2029) escaped as \u003c..., a number with
 * an integral value as an integer, any other in its shortest form that
 * reads back the same, without an exponent (3.14, 0.0000001). */
#ifndef WIPPY_UTIL_JSON_TEXT_H
#define WIPPY_UTIL_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* The text (malloc'd, NUL-terminated; *length without the NUL), or NULL
 * when memory runs out. Reals must be finite (the encoder makes the others
 * null). */
char *json_text_write(const json_t *value, size_t *length);

/* The shortest text of a finite double as Go's strconv.FormatFloat(f, 'f',
 * -1, 64) writes it, into buffer (at least 400 bytes); returns its length. */
size_t json_text_shortest_double(double number, char *buffer, size_t size);

#endif
