/* json_number.h - JSON numbers (jansson integers and reals) as JSON Schema
 * reads them: by their mathematical value, so 1 and 1.0 are equal and
 * multipleOf is decided on the decimal forms, not in binary floating point. */
#ifndef WIPPY_UTIL_JSON_NUMBER_H
#define WIPPY_UTIL_JSON_NUMBER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Compares two numbers: negative, 0 or positive as a <, == or > b. */
int json_number_compare(const json_t *a, const json_t *b);

/* True when the number has no fractional part (1.0 is an integer). */
bool json_number_is_integral(const json_t *number);

/* True when value is an integer multiple of divisor (> 0), computed
 * exactly on the shortest decimal forms of both (0.3 is a multiple of 0.1). */
bool json_number_is_multiple(const json_t *value, const json_t *divisor);

/* Writes the shortest text that reads back as the number. */
void json_number_format(const json_t *number, char *buffer, size_t size);

#endif
