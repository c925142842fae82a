/* decimal.h - the decimal digits of a number, without printf (the server
 * frames every response with a few, and JSON writes integers). */
#ifndef WIPPY_UTIL_DECIMAL_H
#define WIPPY_UTIL_DECIMAL_H

#include <stddef.h>

/* Enough for any unsigned long long (20 digits) and a sign. */
#define DECIMAL_BUFFER_SIZE 24

/* Writes magnitude's digits, with a '-' before them when negative, at the
 * end of buffer; returns where they start (they run to buffer's end). */
static inline char *decimal_digits(unsigned long long magnitude, int negative, char buffer[DECIMAL_BUFFER_SIZE])
{
    char *at = buffer + DECIMAL_BUFFER_SIZE;
    do {
        *--at = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (negative)
        *--at = '-';
    return at;
}

#endif
