/* hex.h - the value of one hexadecimal digit, for the percent-decoders. */
#ifndef WIPPY_UTIL_HEX_H
#define WIPPY_UTIL_HEX_H

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

#endif
