/* hex.h - hexadecimal digits: one digit's value (for the percent-decoders)
 * and bytes written as lower-case hex. */
#ifndef WIPPY_UTIL_HEX_H
#define WIPPY_UTIL_HEX_H

#include <stddef.h>

/* 0..15, or -1 when c is not a hexadecimal digit. */
static inline int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Writes 2 * length lower-case digits to out (no terminating NUL). */
static inline void hex_encode(const unsigned char *bytes, size_t length, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < length; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
}

#endif
