/* json_number.c - see json_number.h. */
#include "util/json_number.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A finite number as digits * 10^exponent, digits without a sign. */
struct decimal {
    uint64_t digits;
    int exponent;
};

static int compare_integer_real(json_int_t integer, double real)
{
    /* long double holds every int64 exactly on the platforms we build for */
    long double left = (long double)integer;
    return left < real ? -1 : left > real ? 1 : 0;
}

int json_number_compare(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (json_is_integer(a))
        return compare_integer_real(json_integer_value(a), json_real_value(b));
    if (json_is_integer(b))
        return -compare_integer_real(json_integer_value(b), json_real_value(a));
    double x = json_real_value(a), y = json_real_value(b);
    return x < y ? -1 : x > y ? 1 : 0;
}

bool json_number_is_integral(const json_t *number)
{
    if (json_is_integer(number))
        return true;
    double value = json_real_value(number);
    return isfinite(value) && value == floor(value);
}

static void shortest_text(double value, char *buffer, size_t size)
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buffer, size, "%.*e", precision - 1, value);
        if (strtod(buffer, NULL) == value)
            return;
    }
}

static struct decimal decimal_of_real(double value)
{
    char text[40];
    shortest_text(fabs(value), text, sizeof text);
    struct decimal decimal = {0, 0};
    int fraction_digits = 0;
    bool after_point = false;
    const char *p = text;
    for (; *p != '\0' && *p != 'e'; p++) {
        if (*p == '.') {
            after_point = true;
            continue;
        }
        decimal.digits = decimal.digits * 10 + (uint64_t)(*p - '0');
        fraction_digits += after_point;
    }
    decimal.exponent = (*p == 'e' ? atoi(p + 1) : 0) - fraction_digits;
    return decimal;
}

static struct decimal decimal_of(const json_t *number)
{
    if (json_is_integer(number)) {
        json_int_t value = json_integer_value(number);
        uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
        return (struct decimal){magnitude, 0};
    }
    return decimal_of_real(json_real_value(number));
}

/* 10^exponent modulo modulus (> 0). */
static uint64_t power_of_ten_modulo(int exponent, uint64_t modulus)
{
    unsigned __int128 result = 1 % modulus;
    for (int i = 0; i < exponent; i++)
        result = result * 10 % modulus;
    return (uint64_t)result;
}

bool json_number_is_multiple(const json_t *value, const json_t *divisor)
{
    if (json_is_integer(value) && json_is_integer(divisor))
        return json_integer_value(divisor) > 0 && json_integer_value(value) % json_integer_value(divisor) == 0;
    if (json_is_real(value) && !isfinite(json_real_value(value)))
        return false;
    struct decimal x = decimal_of(value), m = decimal_of(divisor);
    if (m.digits == 0)
        return false;
    if (x.digits == 0)
        return true;
    /* x / m = (x.digits / m.digits) * 10^(x.exponent - m.exponent) */
    if (x.exponent >= m.exponent) {
        unsigned __int128 product = (unsigned __int128)(x.digits % m.digits) *
                                    power_of_ten_modulo(x.exponent - m.exponent, m.digits);
        return product % m.digits == 0;
    }
    int shift = m.exponent - x.exponent;
    if (shift > 19) /* m.digits * 10^shift exceeds any 64-bit x.digits */
        return false;
    unsigned __int128 scaled = m.digits;
    for (int i = 0; i < shift; i++)
        scaled *= 10;
    return x.digits % scaled == 0;
}

void json_number_format(const json_t *number, char *buffer, size_t size)
{
    if (json_is_integer(number)) {
        snprintf(buffer, size, "%" JSON_INTEGER_FORMAT, json_integer_value(number));
        return;
    }
    double value = json_real_value(number);
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buffer, size, "%.*g", precision, value);
        if (strtod(buffer, NULL) == value)
            return;
    }
}
