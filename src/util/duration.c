/* duration.c - the duration grammar, without floating-point surprises for
 * the common integer forms. */
#include "util/duration.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct duration_unit {
    const char *name;
    int64_t nanoseconds;
};

static const struct duration_unit duration_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000}, /* µs */
    {"ms", 1000000},
    {"s", 1000000000},
    {"m", INT64_C(60000000000)},
    {"h", INT64_C(3600000000000)},
};

int duration_from_seconds(double seconds, int64_t *nanoseconds, struct wippy_error *error)
{
    double scaled = seconds * 1e9;
    if (!isfinite(scaled) || fabs(scaled) >= 9.2e18)
        return error_set(error, WIPPY_EINVAL, "duration %g seconds is out of range", seconds);
    *nanoseconds = (int64_t)llround(scaled);
    return WIPPY_OK;
}

static bool parse_bare_seconds(const char *text, int64_t *nanoseconds)
{
    char *end = NULL;
    double seconds = strtod(text, &end);
    if (end == text || *end != '\0')
        return false;
    return duration_from_seconds(seconds, nanoseconds, NULL) == WIPPY_OK;
}

int duration_parse(const char *text, int64_t *nanoseconds, struct wippy_error *error)
{
    const char *cursor = text;
    bool negative = false;
    if (*cursor == '-' || *cursor == '+') {
        negative = *cursor == '-';
        cursor++;
    }
    if (*cursor == '\0')
        return error_set(error, WIPPY_EINVAL, "invalid duration \"%s\"", text);
    if (parse_bare_seconds(cursor, nanoseconds)) {
        if (negative)
            *nanoseconds = -*nanoseconds;
        return WIPPY_OK;
    }

    double total = 0;
    while (*cursor != '\0') {
        if (!isdigit((unsigned char)*cursor) && *cursor != '.')
            return error_set(error, WIPPY_EINVAL, "invalid duration \"%s\"", text);
        char *number_end = NULL;
        double amount = strtod(cursor, &number_end);
        if (number_end == cursor)
            return error_set(error, WIPPY_EINVAL, "invalid duration \"%s\"", text);
        cursor = number_end;
        const struct duration_unit *unit = NULL;
        size_t unit_length = 0;
        for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
            size_t length = strlen(duration_units[i].name);
            /* Prefer the longest unit that matches ("ms" over "m"). */
            if (length > unit_length && strncmp(cursor, duration_units[i].name, length) == 0) {
                unit = &duration_units[i];
                unit_length = length;
            }
        }
        if (unit == NULL)
            return error_set(error, WIPPY_EINVAL,
                             "invalid duration \"%s\": missing or unknown unit (use ns, us, ms, s, m, h)",
                             text);
        cursor += unit_length;
        total += amount * (double)unit->nanoseconds;
    }
    if (!isfinite(total) || total >= 9.2e18)
        return error_set(error, WIPPY_EINVAL, "duration \"%s\" is out of range", text);
    *nanoseconds = (int64_t)llround(negative ? -total : total);
    return WIPPY_OK;
}
