/* go_time.h - wall-clock time as Go's time package writes and reads it:
 * civil dates from days since 1970 (proleptic Gregorian, any year), and
 * Go's layouts, where the reference time Mon Jan 2 15:04:05 MST 2006 shows
 * the format ("2006-01-02 15:04:05.000 -0700"). Pure: no zones here, only
 * the offset and abbreviation a caller looked up. */
#ifndef WIPPY_UTIL_GO_TIME_H
#define WIPPY_UTIL_GO_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define GO_TIME_SECONDS_PER_DAY INT64_C(86400)

/* Days since 1970-01-01 of a date; month and day may be out of range and
 * are carried over as Go's time.Date does (month 13 is January of the next
 * year, day 0 the last day of the month before). */
int64_t go_time_days_from_date(int64_t year, int64_t month, int64_t day);

/* The date of a day since 1970-01-01. */
void go_time_date_from_days(int64_t days, int64_t *year, int *month, int *day);

/* 0 = Sunday. */
int go_time_weekday(int64_t days);

/* Floor division and remainder (the remainder has the divisor's sign). */
int64_t go_time_floor_div(int64_t value, int64_t divisor);
int64_t go_time_floor_mod(int64_t value, int64_t divisor);

/* A wall-clock moment as a layout shows it. */
struct go_time_fields {
    int64_t year;
    int month;      /* 1-12 */
    int day;        /* 1-31 */
    int hour;       /* 0-23 */
    int minute;
    int second;
    int nanosecond;
    int weekday;    /* 0 = Sunday */
    int year_day;   /* 1-366 */
    int offset;     /* seconds east of UTC */
    const char *abbreviation; /* "EST", "UTC", or "" when the zone has none */
};

/* Fills fields for a wall-clock time: seconds of the local time counted as
 * if it were UTC (Unix seconds + offset). */
void go_time_fields_from_local(int64_t local_seconds, int nanosecond, int offset, const char *abbreviation,
                               struct go_time_fields *fields);

/* Formats fields with a Go layout. Returns a malloc'd string of *length
 * bytes (NUL-terminated). */
char *go_time_format(const char *layout, size_t layout_length, const struct go_time_fields *fields, size_t *length);

/* What a layout read from a text. Unset parts are Go's defaults (year 0
 * before its own adjustment: a layout without a year gives year 0,
 * January 1, midnight, as Go's Parse). */
struct go_time_parsed {
    int64_t year;
    int month, day, hour, minute, second, nanosecond;
    int year_day;             /* 0 when the layout had none */
    bool has_offset;          /* -0700, Z07:00 ... */
    int offset;
    bool has_abbreviation;    /* MST */
    char abbreviation[16];
};

/* Reads value with a Go layout. Errors read as Go's: `parsing time "v" as
 * "layout": cannot parse "rest" as "2006"`, `parsing time "v": month out of
 * range`. */
int go_time_parse(const char *layout, size_t layout_length, const char *value, size_t value_length,
                  struct go_time_parsed *parsed, struct wippy_error *error);

#endif
