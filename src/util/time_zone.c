/* time_zone.c - TZif (RFC 8536) and POSIX TZ rule parsing, and the lookups
 * Go's time package makes in a Location, over zones that never change. */
#include "util/time_zone.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"

#define SECONDS_PER_HOUR 3600
#define SECONDS_PER_DAY 86400
/* The Gregorian calendar, weekdays included, repeats every 400 years. */
#define DAYS_PER_CYCLE 146097
#define SECONDS_PER_CYCLE ((int64_t)DAYS_PER_CYCLE * SECONDS_PER_DAY)
/* 1970-01-01 was a Thursday (0 is Sunday). */
#define EPOCH_WEEKDAY 4

#define TZIF_HEADER_BYTES 44
#define TZIF_TYPE_BYTES 6
#define TZIF_MAX_FOOTER_BYTES 255

#define RULE_ABBREVIATION_MAX 31
#define RULE_MAX_OFFSET_HOURS 24
#define RULE_MAX_TIME_HOURS 167 /* RFC 8536's extension of POSIX's 24 */
#define RULE_DEFAULT_TIME (2 * SECONDS_PER_HOUR)

/* Room for a name or rule quoted in a message: 64 bytes, each up to 4. */
#define QUOTED_BYTES 64
#define QUOTED_SIZE (QUOTED_BYTES * 4 + 4)

/* One local time type: an offset, whether it is daylight time, and where its
 * abbreviation starts in the zone's abbreviations. */
struct zone_type {
    int32_t offset;
    bool is_daylight;
    uint32_t abbreviation;
};

enum rule_date_form {
    RULE_DATE_JULIAN,         /* Jn: day 1 to 365, February 29 never counted */
    RULE_DATE_DAY_OF_YEAR,    /* n: day 0 to 365, February 29 counted */
    RULE_DATE_MONTH_WEEK_DAY, /* Mm.w.d: weekday d of week w (5: the last) of month m */
};

struct rule_date {
    enum rule_date_form form;
    int day; /* n, or the weekday d of Mm.w.d (0 is Sunday) */
    int month;
    int week;
    int32_t time; /* local seconds after midnight; may be negative or past 24 h */
};

/* A POSIX TZ rule. start is given in standard time, end in daylight time. */
struct zone_rule {
    bool present;
    bool has_daylight;
    int32_t standard_offset;
    int32_t daylight_offset;
    char standard_abbreviation[RULE_ABBREVIATION_MAX + 1];
    char daylight_abbreviation[RULE_ABBREVIATION_MAX + 1];
    struct rule_date start;
    struct rule_date end;
};

struct time_zone {
    atomic_long references;
    bool is_static;
    const char *name;
    size_t transition_count;
    const int64_t *transition_times; /* strictly ascending */
    const uint8_t *transition_types;
    size_t type_count;
    const struct zone_type *types;
    const char *abbreviations;
    size_t first_type; /* the type of the instants before the first transition */
    struct zone_rule rule; /* for the instants from the last transition on */
};

/* What a lookup finds: an offset and the instants [start, end) it covers. */
struct zone_period {
    int32_t offset;
    const char *abbreviation;
    int64_t start;
    int64_t end;
};

static const struct zone_type utc_types[] = {{0, false, 0}};

static const struct time_zone utc_zone = {
    .is_static = true,
    .name = "UTC",
    .type_count = 1,
    .types = utc_types,
    .abbreviations = "UTC",
};

/* ---- arithmetic and the calendar ---- */

static int64_t add_saturating(int64_t value, int64_t amount)
{
    if (amount > 0 && value > INT64_MAX - amount)
        return INT64_MAX;
    if (amount < 0 && value < INT64_MIN - amount)
        return INT64_MIN;
    return value + amount;
}

static int64_t floor_modulo(int64_t value, int64_t divisor)
{
    int64_t remainder = value % divisor;
    return remainder < 0 ? remainder + divisor : remainder;
}

static bool is_leap_year(int64_t year)
{
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

/* The leap years among 1 to year (year > 0). */
static int64_t leap_years_through(int64_t year)
{
    return year / 4 - year / 100 + year / 400;
}

/* Days from 1970-01-01 to January 1 of year (year > 0). */
static int64_t days_before_year(int64_t year)
{
    return 365 * (year - 1970) + leap_years_through(year - 1) - leap_years_through(1969);
}

/* The year of a day counted from 1970-01-01 (day >= 0). */
static int64_t year_of_day(int64_t day)
{
    int64_t year = 1970 + day / 366;
    while (days_before_year(year + 1) <= day)
        year++;
    return year;
}

static int month_length(int month, bool leap)
{
    static const int lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return lengths[month - 1] + (month == 2 && leap);
}

static int64_t month_start_day(int64_t year, int month)
{
    static const int days_before_month[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    return days_before_year(year) + days_before_month[month - 1] + (month > 2 && is_leap_year(year));
}

/* The day (counted from 1970-01-01) a rule date falls on in year. */
static int64_t rule_date_day(const struct rule_date *date, int64_t year)
{
    bool leap = is_leap_year(year);
    if (date->form == RULE_DATE_JULIAN)
        return days_before_year(year) + date->day - 1 + (leap && date->day >= 60);
    if (date->form == RULE_DATE_DAY_OF_YEAR)
        return days_before_year(year) + date->day;
    int64_t first = month_start_day(year, date->month);
    int first_weekday = (int)floor_modulo(first + EPOCH_WEEKDAY, 7);
    int64_t day = first + (date->day - first_weekday + 7) % 7 + 7 * (date->week - 1);
    if (day >= first + month_length(date->month, leap))
        day -= 7; /* week 5 means the last such weekday */
    return day;
}

/* ---- lookups ---- */

static void zone_type_period(const struct time_zone *zone, size_t type, int64_t start, int64_t end,
                             struct zone_period *period)
{
    period->offset = zone->types[type].offset;
    period->abbreviation = zone->abbreviations + zone->types[type].abbreviation;
    period->start = start;
    period->end = end;
}

/* The instant a rule date happens in year, given in local time at offset. */
static int64_t rule_date_instant(const struct rule_date *date, int64_t year, int32_t offset)
{
    return rule_date_day(date, year) * SECONDS_PER_DAY + date->time - offset;
}

/* The period of the rule holding unix_seconds, read as Go reads it: each UTC
 * calendar year on its own, split by that year's two changes into three
 * spans, the middle one daylight time (standard time when the change back
 * comes first, south of the equator). The bounds are Go's too (the first span
 * starts with the year, the last ends 365 days after it), because
 * time_zone_unix_from_local decides by them whether to look again. A rule
 * without daylight time holds from floor (a TZif zone's last transition) on. */
static void zone_rule_period(const struct zone_rule *rule, int64_t unix_seconds, int64_t floor,
                             struct zone_period *period)
{
    if (!rule->has_daylight) {
        *period = (struct zone_period){rule->standard_offset, rule->standard_abbreviation, floor,
                                       INT64_MAX};
        return;
    }
    /* Work within one 400-year cycle from 1970 and carry the answer back as
     * distances from unix_seconds, which cannot overflow. */
    int64_t within = floor_modulo(unix_seconds, SECONDS_PER_CYCLE);
    int64_t year = year_of_day(within / SECONDS_PER_DAY);
    int64_t year_start = days_before_year(year) * SECONDS_PER_DAY;
    int64_t to_daylight = rule_date_instant(&rule->start, year, rule->standard_offset);
    int64_t to_standard = rule_date_instant(&rule->end, year, rule->daylight_offset);
    bool middle_is_daylight = to_daylight <= to_standard;
    int64_t low = middle_is_daylight ? to_daylight : to_standard;
    int64_t high = middle_is_daylight ? to_standard : to_daylight;
    int64_t start = high, end = year_start + 365 * SECONDS_PER_DAY;
    bool daylight = !middle_is_daylight;
    if (within < low) {
        start = year_start;
        end = low;
    } else if (within < high) {
        start = low;
        end = high;
        daylight = middle_is_daylight;
    }
    period->offset = daylight ? rule->daylight_offset : rule->standard_offset;
    period->abbreviation = daylight ? rule->daylight_abbreviation : rule->standard_abbreviation;
    period->start = add_saturating(unix_seconds, start - within);
    period->end = add_saturating(unix_seconds, end - within);
}

/* The last transition at or before unix_seconds (which is not before the first). */
static size_t zone_transition_at(const struct time_zone *zone, int64_t unix_seconds)
{
    size_t low = 0, high = zone->transition_count;
    while (high - low > 1) {
        size_t middle = low + (high - low) / 2;
        if (zone->transition_times[middle] <= unix_seconds)
            low = middle;
        else
            high = middle;
    }
    return low;
}

static void zone_period_at(const struct time_zone *zone, int64_t unix_seconds, struct zone_period *period)
{
    size_t count = zone->transition_count;
    if (count == 0 && zone->rule.present) {
        zone_rule_period(&zone->rule, unix_seconds, INT64_MIN, period);
        return;
    }
    if (count == 0) {
        zone_type_period(zone, zone->first_type, INT64_MIN, INT64_MAX, period);
        return;
    }
    if (unix_seconds < zone->transition_times[0]) {
        zone_type_period(zone, zone->first_type, INT64_MIN, zone->transition_times[0], period);
        return;
    }
    size_t index = zone_transition_at(zone, unix_seconds);
    int64_t start = zone->transition_times[index];
    if (index + 1 == count && zone->rule.present) {
        zone_rule_period(&zone->rule, unix_seconds, start, period);
        return;
    }
    int64_t end = index + 1 < count ? zone->transition_times[index + 1] : INT64_MAX;
    zone_type_period(zone, zone->transition_types[index], start, end, period);
}

void time_zone_lookup(const struct time_zone *zone, int64_t unix_seconds, int *offset,
                      const char **abbreviation)
{
    struct zone_period period;
    zone_period_at(zone, unix_seconds, &period);
    if (offset != NULL)
        *offset = period.offset;
    if (abbreviation != NULL)
        *abbreviation = period.abbreviation;
}

int64_t time_zone_unix_from_local(const struct time_zone *zone, int64_t local_seconds)
{
    struct zone_period period;
    zone_period_at(zone, local_seconds, &period);
    int64_t offset = period.offset;
    int64_t guess = add_saturating(local_seconds, -offset);
    if (guess < period.start || guess >= period.end) {
        zone_period_at(zone, guess, &period);
        offset = period.offset;
    }
    return add_saturating(local_seconds, -offset);
}

/* ---- making and sharing zones ---- */

static struct time_zone *zone_new(const char *name)
{
    struct time_zone *zone = xcalloc(1, sizeof *zone);
    atomic_init(&zone->references, 1);
    zone->name = xstrdup(name != NULL ? name : "");
    return zone;
}

static void zone_free(struct time_zone *zone)
{
    free((void *)zone->name);
    free((void *)zone->transition_times);
    free((void *)zone->transition_types);
    free((void *)zone->types);
    free((void *)zone->abbreviations);
    free(zone);
}

struct time_zone *time_zone_utc(void)
{
    /* Never written through: retain and release leave static zones alone. */
    return (struct time_zone *)&utc_zone;
}

struct time_zone *time_zone_fixed(const char *name, int offset_seconds)
{
    struct time_zone *zone = zone_new(name);
    struct zone_type *type = xcalloc(1, sizeof *type);
    type->offset = offset_seconds;
    zone->types = type;
    zone->type_count = 1;
    zone->abbreviations = xstrdup(zone->name);
    return zone;
}

struct time_zone *time_zone_retain(struct time_zone *zone)
{
    if (zone != NULL && !zone->is_static)
        atomic_fetch_add_explicit(&zone->references, 1, memory_order_relaxed);
    return zone;
}

void time_zone_release(struct time_zone *zone)
{
    if (zone == NULL || zone->is_static)
        return;
    if (atomic_fetch_sub_explicit(&zone->references, 1, memory_order_acq_rel) == 1)
        zone_free(zone);
}

const char *time_zone_name(const struct time_zone *zone)
{
    return zone->name;
}

/* ---- messages ---- */

/* Copies length bytes of text into out (QUOTED_SIZE bytes) for a message:
 * printable ASCII as it is, anything else as \xHH, cut with "..." after
 * QUOTED_BYTES bytes, so hostile text stays one short line. */
static void quote_text(const char *text, size_t length, char *out)
{
    size_t used = 0;
    for (size_t i = 0; i < length && i < QUOTED_BYTES; i++) {
        unsigned char byte = (unsigned char)text[i];
        if (byte == '"' || byte == '\\')
            used += (size_t)snprintf(out + used, QUOTED_SIZE - used, "\\%c", byte);
        else if (byte >= 0x20 && byte < 0x7f)
            out[used++] = (char)byte;
        else
            used += (size_t)snprintf(out + used, QUOTED_SIZE - used, "\\x%02x", byte);
    }
    if (length > QUOTED_BYTES)
        used += (size_t)snprintf(out + used, QUOTED_SIZE - used, "...");
    out[used] = '\0';
}

static void quote_string(const char *text, char *out)
{
    text = text != NULL ? text : "";
    quote_text(text, strnlen(text, QUOTED_BYTES + 1), out);
}

/* ---- POSIX TZ rules ---- */

struct rule_parser {
    const char *at;
    char problem[160];
};

static bool is_ascii_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ascii_letter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

__attribute__((format(printf, 2, 3))) static bool rule_fail(struct rule_parser *parser,
                                                            const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(parser->problem, sizeof parser->problem, format, arguments);
    va_end(arguments);
    return false;
}

static bool is_quoted_abbreviation_char(char c)
{
    return is_ascii_letter(c) || is_ascii_digit(c) || c == '+' || c == '-';
}

/* An abbreviation: three or more letters, or <...> around letters, digits,
 * '+' and '-'. */
static bool rule_parse_abbreviation(struct rule_parser *parser, char *out)
{
    const char *begin = parser->at;
    size_t length = 0;
    if (*begin == '<') {
        begin++;
        while (is_quoted_abbreviation_char(begin[length]))
            length++;
        if (begin[length] != '>')
            return rule_fail(parser, begin[length] == '\0'
                                         ? "a '<' has no closing '>'"
                                         : "a quoted abbreviation may hold only letters, digits, '+' and '-'");
        parser->at = begin + length + 1;
    } else {
        while (is_ascii_letter(begin[length]))
            length++;
        parser->at = begin + length;
    }
    if (length < 3)
        return rule_fail(parser, "an abbreviation needs at least three characters");
    if (length > RULE_ABBREVIATION_MAX)
        return rule_fail(parser, "an abbreviation is longer than %d characters", RULE_ABBREVIATION_MAX);
    memcpy(out, begin, length);
    out[length] = '\0';
    return true;
}

static bool rule_parse_number(struct rule_parser *parser, int minimum, int maximum, const char *what,
                              int *value)
{
    if (!is_ascii_digit(*parser->at))
        return rule_fail(parser, "expected %s", what);
    int number = 0;
    while (is_ascii_digit(*parser->at)) {
        number = number * 10 + (*parser->at - '0');
        if (number > maximum)
            return rule_fail(parser, "%s is more than %d", what, maximum);
        parser->at++;
    }
    if (number < minimum)
        return rule_fail(parser, "%s is less than %d", what, minimum);
    *value = number;
    return true;
}

static bool rule_expect(struct rule_parser *parser, char expected, const char *where)
{
    if (*parser->at != expected)
        return rule_fail(parser, "expected '%c' %s", expected, where);
    parser->at++;
    return true;
}

/* [+|-]hh[:mm[:ss]], hours up to max_hours, as signed seconds. */
static bool rule_parse_clock(struct rule_parser *parser, int max_hours, const char *what, int32_t *seconds)
{
    int sign = 1;
    if (*parser->at == '+' || *parser->at == '-')
        sign = *parser->at++ == '-' ? -1 : 1;
    int hours = 0, minutes = 0, rest = 0;
    if (!rule_parse_number(parser, 0, max_hours, what, &hours))
        return false;
    if (*parser->at == ':') {
        parser->at++;
        if (!rule_parse_number(parser, 0, 59, "minutes", &minutes))
            return false;
        if (*parser->at == ':') {
            parser->at++;
            if (!rule_parse_number(parser, 0, 59, "seconds", &rest))
                return false;
        }
    }
    *seconds = sign * (hours * SECONDS_PER_HOUR + minutes * 60 + rest);
    return true;
}

/* Jn, n or Mm.w.d, then an optional /time. */
static bool rule_parse_date(struct rule_parser *parser, struct rule_date *date)
{
    bool parsed;
    if (*parser->at == 'J') {
        parser->at++;
        date->form = RULE_DATE_JULIAN;
        parsed = rule_parse_number(parser, 1, 365, "a Julian day (1-365)", &date->day);
    } else if (is_ascii_digit(*parser->at)) {
        date->form = RULE_DATE_DAY_OF_YEAR;
        parsed = rule_parse_number(parser, 0, 365, "a day of the year (0-365)", &date->day);
    } else if (*parser->at == 'M') {
        parser->at++;
        date->form = RULE_DATE_MONTH_WEEK_DAY;
        parsed = rule_parse_number(parser, 1, 12, "a month (1-12)", &date->month) &&
                 rule_expect(parser, '.', "after the month") &&
                 rule_parse_number(parser, 1, 5, "a week (1-5)", &date->week) &&
                 rule_expect(parser, '.', "after the week") &&
                 rule_parse_number(parser, 0, 6, "a weekday (0-6)", &date->day);
    } else {
        return rule_fail(parser, "expected a date (Jn, n or Mm.w.d)");
    }
    date->time = RULE_DEFAULT_TIME;
    if (parsed && *parser->at == '/') {
        parser->at++;
        parsed = rule_parse_clock(parser, RULE_MAX_TIME_HOURS, "a transition hour", &date->time);
    }
    return parsed;
}

/* The part after the daylight abbreviation: [offset][,start[/time],end[/time]]. */
static bool rule_parse_daylight(struct rule_parser *parser, struct zone_rule *rule)
{
    rule->has_daylight = true;
    rule->daylight_offset = rule->standard_offset + SECONDS_PER_HOUR;
    if (*parser->at != ',' && *parser->at != '\0') {
        int32_t west = 0;
        if (!rule_parse_clock(parser, RULE_MAX_OFFSET_HOURS, "daylight offset hours", &west))
            return false;
        rule->daylight_offset = -west;
    }
    if (*parser->at == '\0') {
        /* No dates: the US ones, as tzcode and Go assume. */
        rule->start = (struct rule_date){RULE_DATE_MONTH_WEEK_DAY, 0, 3, 2, RULE_DEFAULT_TIME};
        rule->end = (struct rule_date){RULE_DATE_MONTH_WEEK_DAY, 0, 11, 1, RULE_DEFAULT_TIME};
        return true;
    }
    return rule_expect(parser, ',', "before the start date") && rule_parse_date(parser, &rule->start) &&
           rule_expect(parser, ',', "before the end date") && rule_parse_date(parser, &rule->end);
}

static bool rule_parse(const char *text, struct zone_rule *rule, struct rule_parser *parser)
{
    memset(rule, 0, sizeof *rule);
    parser->at = text;
    if (*text == '\0')
        return rule_fail(parser, "the rule is empty");
    if (*text == ':')
        return rule_fail(parser, "a rule starting with ':' names a file");
    int32_t west = 0;
    if (!rule_parse_abbreviation(parser, rule->standard_abbreviation) ||
        !rule_parse_clock(parser, RULE_MAX_OFFSET_HOURS, "standard offset hours", &west))
        return false;
    rule->standard_offset = -west;
    rule->present = true;
    if (*parser->at != '\0' &&
        (!rule_parse_abbreviation(parser, rule->daylight_abbreviation) || !rule_parse_daylight(parser, rule)))
        return false;
    if (*parser->at != '\0')
        return rule_fail(parser, "unexpected text at byte %zu", (size_t)(parser->at - text));
    return true;
}

int time_zone_from_posix(const char *name, const char *rule_text, struct time_zone **out,
                         struct wippy_error *error)
{
    rule_text = rule_text != NULL ? rule_text : "";
    struct rule_parser parser;
    struct zone_rule rule;
    if (!rule_parse(rule_text, &rule, &parser)) {
        char quoted_name[QUOTED_SIZE], quoted_rule[QUOTED_SIZE];
        quote_string(name != NULL ? name : rule_text, quoted_name);
        quote_string(rule_text, quoted_rule);
        return error_set(error, WIPPY_EINVAL, "time zone \"%s\": bad TZ rule \"%s\": %s", quoted_name,
                         quoted_rule, parser.problem);
    }
    struct time_zone *zone = zone_new(name != NULL ? name : rule_text);
    zone->rule = rule;
    *out = zone;
    return WIPPY_OK;
}

/* ---- TZif ---- */

enum tzif_count { TZIF_UT_INDICATORS, TZIF_STANDARD_INDICATORS, TZIF_LEAP_SECONDS, TZIF_TRANSITIONS,
                  TZIF_TYPES, TZIF_ABBREVIATION_BYTES, TZIF_COUNTS };

/* The header's counts, in file order, with what each counts and its bound. */
static const struct {
    const char *what;
    uint32_t limit;
} tzif_counts[TZIF_COUNTS] = {
    [TZIF_UT_INDICATORS] = {"UT/local indicators", 256},
    [TZIF_STANDARD_INDICATORS] = {"standard/wall indicators", 256},
    [TZIF_LEAP_SECONDS] = {"leap-second records", 512},
    [TZIF_TRANSITIONS] = {"transitions", 4096},
    [TZIF_TYPES] = {"local time types", 256},
    [TZIF_ABBREVIATION_BYTES] = {"abbreviation bytes", 1024},
};

struct tzif_header {
    int version;
    uint32_t counts[TZIF_COUNTS];
};

/* The sections of one data block, as bytes still to be checked. */
struct tzif_block {
    size_t time_size; /* 4 in version 1 data, 8 in version 2+ data */
    const unsigned char *times;
    const unsigned char *time_types;
    const unsigned char *types;
    const unsigned char *abbreviations;
    const unsigned char *leap_seconds;
    const unsigned char *standard_indicators;
    const unsigned char *ut_indicators;
};

struct tzif_parser {
    const char *name;
    const unsigned char *data;
    size_t length;
    size_t offset;
    struct wippy_error *error;
};

__attribute__((format(printf, 2, 3))) static int tzif_fail(struct tzif_parser *parser, const char *format, ...)
{
    char problem[256];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(problem, sizeof problem, format, arguments);
    va_end(arguments);
    char quoted_name[QUOTED_SIZE];
    quote_string(parser->name, quoted_name);
    return error_set(parser->error, WIPPY_EINVAL, "time zone \"%s\": %s", quoted_name, problem);
}

/* The next count bytes, or NULL (and the error) when the data ends first. */
static const unsigned char *tzif_take(struct tzif_parser *parser, size_t count, const char *what)
{
    if (count > parser->length - parser->offset) {
        tzif_fail(parser, "TZif data ends in its %s (%zu bytes needed at byte %zu of %zu)", what, count,
                  parser->offset, parser->length);
        return NULL;
    }
    const unsigned char *bytes = parser->data + parser->offset;
    parser->offset += count;
    return bytes;
}

static uint32_t read_unsigned32(const unsigned char *bytes)
{
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

/* Two's complement without relying on implementation-defined conversions. */
static int64_t read_signed(const unsigned char *bytes, size_t size)
{
    uint64_t value = 0;
    for (size_t i = 0; i < size; i++)
        value = value << 8 | bytes[i];
    uint64_t sign = UINT64_C(1) << (size * 8 - 1);
    if ((value & sign) == 0)
        return (int64_t)value;
    uint64_t magnitude = ((~value + 1) & (sign | (sign - 1)));
    return magnitude == sign ? -(int64_t)(sign - 1) - 1 : -(int64_t)magnitude;
}

static int tzif_read_header(struct tzif_parser *parser, const char *which, struct tzif_header *header)
{
    const unsigned char *bytes = tzif_take(parser, TZIF_HEADER_BYTES, which);
    if (bytes == NULL)
        return WIPPY_EINVAL;
    if (memcmp(bytes, "TZif", 4) != 0)
        return tzif_fail(parser, "not TZif data (its %s lacks the \"TZif\" magic)", which);
    if (bytes[4] == 0)
        header->version = 1;
    else if (bytes[4] >= '2' && bytes[4] <= '9')
        header->version = bytes[4] - '0';
    else
        return tzif_fail(parser, "unknown TZif version byte 0x%02x", bytes[4]);
    for (int i = 0; i < TZIF_COUNTS; i++) {
        header->counts[i] = read_unsigned32(bytes + 20 + 4 * i);
        if (header->counts[i] > tzif_counts[i].limit)
            return tzif_fail(parser, "its %s counts %u %s, more than the %u allowed", which,
                             (unsigned)header->counts[i], tzif_counts[i].what, (unsigned)tzif_counts[i].limit);
    }
    return WIPPY_OK;
}

/* The rules RFC 8536 sets for the header of the block that is used. */
static int tzif_check_counts(struct tzif_parser *parser, const struct tzif_header *header)
{
    uint32_t types = header->counts[TZIF_TYPES];
    if (types == 0)
        return tzif_fail(parser, "TZif data has no local time types");
    if (header->counts[TZIF_ABBREVIATION_BYTES] == 0)
        return tzif_fail(parser, "TZif data has no abbreviation bytes");
    for (int i = TZIF_UT_INDICATORS; i <= TZIF_STANDARD_INDICATORS; i++)
        if (header->counts[i] != 0 && header->counts[i] != types)
            return tzif_fail(parser, "TZif data has %u %s for %u local time types", (unsigned)header->counts[i],
                             tzif_counts[i].what, (unsigned)types);
    return WIPPY_OK;
}

/* Takes the sections of a data block (sizes bounded by the header's limits). */
static int tzif_take_block(struct tzif_parser *parser, const struct tzif_header *header, size_t time_size,
                           struct tzif_block *block)
{
    const uint32_t *counts = header->counts;
    block->time_size = time_size;
    const struct {
        const char *what;
        size_t size;
        const unsigned char **bytes;
    } sections[] = {
        {"transition times", counts[TZIF_TRANSITIONS] * time_size, &block->times},
        {"transition types", counts[TZIF_TRANSITIONS], &block->time_types},
        {"local time types", counts[TZIF_TYPES] * (size_t)TZIF_TYPE_BYTES, &block->types},
        {"abbreviations", counts[TZIF_ABBREVIATION_BYTES], &block->abbreviations},
        {"leap-second records", counts[TZIF_LEAP_SECONDS] * (time_size + 4), &block->leap_seconds},
        {"standard/wall indicators", counts[TZIF_STANDARD_INDICATORS], &block->standard_indicators},
        {"UT/local indicators", counts[TZIF_UT_INDICATORS], &block->ut_indicators},
    };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        *sections[i].bytes = tzif_take(parser, sections[i].size, sections[i].what);
        if (*sections[i].bytes == NULL)
            return WIPPY_EINVAL;
    }
    return WIPPY_OK;
}

static int tzif_check_transitions(struct tzif_parser *parser, const struct tzif_header *header,
                                  const struct tzif_block *block)
{
    int64_t previous = 0;
    for (size_t i = 0; i < header->counts[TZIF_TRANSITIONS]; i++) {
        int64_t time = read_signed(block->times + i * block->time_size, block->time_size);
        if (i > 0 && time <= previous)
            return tzif_fail(parser, "TZif transition %zu (at %lld) is not after the one before", i,
                             (long long)time);
        if (block->time_types[i] >= header->counts[TZIF_TYPES])
            return tzif_fail(parser, "TZif transition %zu names local time type %u of %u", i,
                             block->time_types[i], (unsigned)header->counts[TZIF_TYPES]);
        previous = time;
    }
    return WIPPY_OK;
}

static int tzif_check_types(struct tzif_parser *parser, const struct tzif_header *header,
                            const struct tzif_block *block)
{
    size_t abbreviation_bytes = header->counts[TZIF_ABBREVIATION_BYTES];
    for (size_t i = 0; i < header->counts[TZIF_TYPES]; i++) {
        const unsigned char *type = block->types + i * TZIF_TYPE_BYTES;
        if (read_signed(type, 4) == INT32_MIN)
            return tzif_fail(parser, "TZif local time type %zu has the offset -2^31", i);
        if (type[4] > 1)
            return tzif_fail(parser, "TZif local time type %zu has daylight flag %u (not 0 or 1)", i, type[4]);
        if (type[5] >= abbreviation_bytes)
            return tzif_fail(parser, "TZif local time type %zu starts its abbreviation at byte %u of %zu", i,
                             type[5], abbreviation_bytes);
        if (memchr(block->abbreviations + type[5], '\0', abbreviation_bytes - type[5]) == NULL)
            return tzif_fail(parser, "TZif local time type %zu has an abbreviation without its NUL", i);
    }
    return WIPPY_OK;
}

static int tzif_check_indicators(struct tzif_parser *parser, const struct tzif_header *header,
                                 const struct tzif_block *block)
{
    for (size_t i = 0; i < header->counts[TZIF_STANDARD_INDICATORS]; i++)
        if (block->standard_indicators[i] > 1)
            return tzif_fail(parser, "TZif standard/wall indicator %zu is %u (not 0 or 1)", i,
                             block->standard_indicators[i]);
    for (size_t i = 0; i < header->counts[TZIF_UT_INDICATORS]; i++)
        if (block->ut_indicators[i] > 1)
            return tzif_fail(parser, "TZif UT/local indicator %zu is %u (not 0 or 1)", i,
                             block->ut_indicators[i]);
    return WIPPY_OK;
}

/* The footer of version 2+ data: a POSIX TZ rule (maybe empty) between two
 * newlines, which must end the data. */
static int tzif_read_footer(struct tzif_parser *parser, struct zone_rule *rule)
{
    const unsigned char *opening = tzif_take(parser, 1, "footer");
    if (opening == NULL)
        return WIPPY_EINVAL;
    if (*opening != '\n')
        return tzif_fail(parser, "TZif footer does not start with a newline");
    size_t left = parser->length - parser->offset;
    const unsigned char *text = parser->data + parser->offset;
    size_t searched = left < TZIF_MAX_FOOTER_BYTES + 1 ? left : TZIF_MAX_FOOTER_BYTES + 1;
    const unsigned char *closing = memchr(text, '\n', searched);
    if (closing == NULL)
        return left > TZIF_MAX_FOOTER_BYTES
                   ? tzif_fail(parser, "TZif footer is longer than %d bytes", TZIF_MAX_FOOTER_BYTES)
                   : tzif_fail(parser, "TZif footer lacks its closing newline");
    size_t length = (size_t)(closing - text);
    if (length + 1 != left)
        return tzif_fail(parser, "%zu bytes follow the TZif footer", left - length - 1);
    parser->offset = parser->length;
    memset(rule, 0, sizeof *rule);
    if (length == 0)
        return WIPPY_OK;
    if (memchr(text, '\0', length) != NULL)
        return tzif_fail(parser, "TZif footer holds a NUL byte");
    char footer[TZIF_MAX_FOOTER_BYTES + 1];
    memcpy(footer, text, length);
    footer[length] = '\0';
    struct rule_parser rule_parser;
    if (!rule_parse(footer, rule, &rule_parser)) {
        char quoted[QUOTED_SIZE];
        quote_string(footer, quoted);
        return tzif_fail(parser, "TZif footer \"%s\" is not a TZ rule: %s", quoted, rule_parser.problem);
    }
    return WIPPY_OK;
}

/* Goes to the block that is used (the second in version 2+ data) and checks it. */
static int tzif_read_block(struct tzif_parser *parser, struct tzif_header *header, struct tzif_block *block)
{
    int status = tzif_read_header(parser, "header", header);
    if (status == WIPPY_OK && header->version >= 2) {
        int first_version = header->version;
        status = tzif_take_block(parser, header, 4, block);
        if (status == WIPPY_OK)
            status = tzif_read_header(parser, "second header", header);
        if (status == WIPPY_OK && header->version != first_version)
            status = tzif_fail(parser, "TZif headers disagree on the version (%d, then %d)", first_version,
                               header->version);
    }
    if (status == WIPPY_OK)
        status = tzif_check_counts(parser, header);
    if (status == WIPPY_OK)
        status = tzif_take_block(parser, header, header->version >= 2 ? 8 : 4, block);
    if (status == WIPPY_OK)
        status = tzif_check_transitions(parser, header, block);
    if (status == WIPPY_OK)
        status = tzif_check_types(parser, header, block);
    if (status == WIPPY_OK)
        status = tzif_check_indicators(parser, header, block);
    return status;
}

/* Go's choice of type for the instants before the first transition (after
 * tzcode): type 0 if no transition uses it; else, when the first transition
 * is to daylight time, the nearest standard type listed before that one;
 * else the first standard type; else type 0. */
static size_t zone_first_type(const struct time_zone *zone)
{
    bool type_zero_used = false;
    for (size_t i = 0; i < zone->transition_count; i++)
        type_zero_used = type_zero_used || zone->transition_types[i] == 0;
    if (!type_zero_used)
        return 0;
    size_t first = zone->transition_types[0];
    if (zone->types[first].is_daylight)
        for (size_t i = first; i-- > 0;)
            if (!zone->types[i].is_daylight)
                return i;
    for (size_t i = 0; i < zone->type_count; i++)
        if (!zone->types[i].is_daylight)
            return i;
    return 0;
}

static struct time_zone *zone_from_block(const char *name, const struct tzif_header *header,
                                         const struct tzif_block *block, const struct zone_rule *rule)
{
    struct time_zone *zone = zone_new(name);
    size_t transitions = header->counts[TZIF_TRANSITIONS];
    int64_t *times = xcalloc(transitions, sizeof *times);
    uint8_t *time_types = xcalloc(transitions, 1);
    for (size_t i = 0; i < transitions; i++) {
        times[i] = read_signed(block->times + i * block->time_size, block->time_size);
        time_types[i] = block->time_types[i];
    }
    struct zone_type *types = xcalloc(header->counts[TZIF_TYPES], sizeof *types);
    for (size_t i = 0; i < header->counts[TZIF_TYPES]; i++) {
        const unsigned char *type = block->types + i * TZIF_TYPE_BYTES;
        types[i] = (struct zone_type){(int32_t)read_signed(type, 4), type[4] == 1, type[5]};
    }
    char *abbreviations = xmalloc(header->counts[TZIF_ABBREVIATION_BYTES]);
    memcpy(abbreviations, block->abbreviations, header->counts[TZIF_ABBREVIATION_BYTES]);
    zone->transition_count = transitions;
    zone->transition_times = times;
    zone->transition_types = time_types;
    zone->type_count = header->counts[TZIF_TYPES];
    zone->types = types;
    zone->abbreviations = abbreviations;
    zone->rule = *rule;
    zone->first_type = zone_first_type(zone);
    return zone;
}

int time_zone_from_tzif(const char *name, const unsigned char *data, size_t length,
                        struct time_zone **out, struct wippy_error *error)
{
    struct tzif_parser parser = {name, data, data != NULL ? length : 0, 0, error};
    if (length > TIME_ZONE_TZIF_MAX_BYTES)
        return tzif_fail(&parser, "TZif data of %zu bytes is larger than the %d allowed", length,
                         TIME_ZONE_TZIF_MAX_BYTES);
    struct tzif_header header;
    struct tzif_block block;
    struct zone_rule rule;
    memset(&rule, 0, sizeof rule);
    int status = tzif_read_block(&parser, &header, &block);
    if (status == WIPPY_OK && header.version >= 2)
        status = tzif_read_footer(&parser, &rule);
    else if (status == WIPPY_OK && parser.offset != parser.length)
        status = tzif_fail(&parser, "%zu bytes follow the TZif data", parser.length - parser.offset);
    if (status != WIPPY_OK)
        return status;
    *out = zone_from_block(name, &header, &block, &rule);
    return WIPPY_OK;
}

/* ---- zone files ---- */

/* Why name cannot name a file under the zone directory, or NULL when it can. */
static const char *zone_name_problem(const char *name, size_t length)
{
    if (name == NULL || length == 0)
        return "it is empty";
    if (length > TIME_ZONE_NAME_MAX)
        return "it is longer than 255 bytes";
    if (name[0] == '/')
        return "it is an absolute path";
    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)name[i];
        if (byte == '\0')
            return "it holds a NUL byte";
        if (byte == '\\')
            return "it holds a backslash";
        if (byte < 0x20 || byte == 0x7f)
            return "it holds a control character";
    }
    size_t start = 0;
    while (start <= length) {
        const char *slash = memchr(name + start, '/', length - start);
        size_t end = slash != NULL ? (size_t)(slash - name) : length;
        size_t size = end - start;
        if (size == 0)
            return "it has an empty component";
        if ((size == 1 || size == 2) && memcmp(name + start, "..", size) == 0)
            return "it has a \".\" or \"..\" component";
        start = end + 1;
    }
    return NULL;
}

int time_zone_path(const char *name, size_t name_length, char *path, size_t size,
                   struct wippy_error *error)
{
    char quoted[QUOTED_SIZE];
    const char *problem = zone_name_problem(name, name_length);
    if (problem != NULL) {
        quote_text(name != NULL ? name : "", name != NULL ? name_length : 0, quoted);
        return error_set(error, WIPPY_EINVAL, "invalid time zone name \"%s\": %s", quoted, problem);
    }
    const char *directory = getenv("ZONEINFO");
    if (directory == NULL || directory[0] == '\0')
        directory = "/usr/share/zoneinfo";
    int written = snprintf(path, size, "%s/%.*s", directory, (int)name_length, name);
    if (written < 0 || (size_t)written >= size) {
        quote_text(name, name_length, quoted);
        return error_set(error, WIPPY_EINVAL, "the file of time zone \"%s\" under %s does not fit in %zu bytes",
                         quoted, directory, size);
    }
    return WIPPY_OK;
}
