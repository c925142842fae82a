/* duration.h - durations as users write them: "500ms", "15s", "1m30s",
 * "2h45m", "1.5s", or a plain number of seconds. */
#ifndef WIPPY_UTIL_DURATION_H
#define WIPPY_UTIL_DURATION_H

#include <stdint.h>

#include "util/error.h"

#define DURATION_NANOSECONDS_PER_SECOND INT64_C(1000000000)

/* Parses text into nanoseconds. Accepts Go's syntax (units ns, us, µs, ms,
 * s, m, h, optional sign, fractions) and a bare decimal number of seconds.
 * Returns WIPPY_EINVAL with a message naming the text on failure. */
int duration_parse(const char *text, int64_t *nanoseconds, struct wippy_error *error);

/* Converts seconds (may be fractional) to nanoseconds, or WIPPY_EINVAL when
 * the number is not finite or does not fit. */
int duration_from_seconds(double seconds, int64_t *nanoseconds, struct wippy_error *error);

#endif
