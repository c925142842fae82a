/* go_time.c - see go_time.h. The layout elements and their order of
 * recognition are those Go documents for its time package. */
#include "util/go_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"

/* ---- dates ---- */

int64_t go_time_floor_div(int64_t value, int64_t divisor)
{
    int64_t quotient = value / divisor;
    return (value % divisor != 0 && ((value < 0) != (divisor < 0))) ? quotient - 1 : quotient;
}

int64_t go_time_floor_mod(int64_t value, int64_t divisor)
{
    int64_t remainder = value % divisor;
    return remainder != 0 && ((remainder < 0) != (divisor < 0)) ? remainder + divisor : remainder;
}

/* Days from 1970-01-01 of a valid date (month 1-12), counting eras of 400
 * years from March so that leap days fall at the end of a year. */
static int64_t days_from_valid_date(int64_t year, int month, int64_t day)
{
    year -= month <= 2;
    int64_t era = go_time_floor_div(year, 400);
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

int64_t go_time_days_from_date(int64_t year, int64_t month, int64_t day)
{
    int64_t month_index = month - 1;
    year += go_time_floor_div(month_index, 12);
    month_index = go_time_floor_mod(month_index, 12);
    return days_from_valid_date(year, (int)month_index + 1, 1) + day - 1;
}

void go_time_date_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    days += 719468;
    int64_t era = go_time_floor_div(days, 146097);
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t shifted_month = (5 * day_of_year + 2) / 153;
    *day = (int)(day_of_year - (153 * shifted_month + 2) / 5 + 1);
    *month = (int)(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

int go_time_weekday(int64_t days)
{
    return (int)go_time_floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
}

static bool is_leap(int64_t year)
{
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

static int days_in_month(int month, int64_t year)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

void go_time_fields_from_local(int64_t local_seconds, int nanosecond, int offset, const char *abbreviation,
                               struct go_time_fields *fields)
{
    int64_t days = go_time_floor_div(local_seconds, GO_TIME_SECONDS_PER_DAY);
    int64_t seconds = go_time_floor_mod(local_seconds, GO_TIME_SECONDS_PER_DAY);
    go_time_date_from_days(days, &fields->year, &fields->month, &fields->day);
    fields->hour = (int)(seconds / 3600);
    fields->minute = (int)(seconds / 60 % 60);
    fields->second = (int)(seconds % 60);
    fields->nanosecond = nanosecond;
    fields->weekday = go_time_weekday(days);
    fields->year_day = (int)(days - days_from_valid_date(fields->year, 1, 1)) + 1;
    fields->offset = offset;
    fields->abbreviation = abbreviation != NULL ? abbreviation : "";
}

/* ---- layout elements ---- */

enum element {
    ELEMENT_NONE,
    LONG_MONTH, MONTH, NUM_MONTH, ZERO_MONTH,
    LONG_WEEKDAY, WEEKDAY,
    DAY, UNDER_DAY, ZERO_DAY, UNDER_YEAR_DAY, ZERO_YEAR_DAY,
    HOUR, HOUR12, ZERO_HOUR12, MINUTE, ZERO_MINUTE, SECOND, ZERO_SECOND,
    LONG_YEAR, YEAR, PM, LOWER_PM, ZONE_NAME,
    ISO_ZONE, ISO_SECONDS_ZONE, ISO_SHORT_ZONE, ISO_COLON_ZONE, ISO_COLON_SECONDS_ZONE,
    NUM_ZONE, NUM_SECONDS_ZONE, NUM_SHORT_ZONE, NUM_COLON_ZONE, NUM_COLON_SECONDS_ZONE,
    FRACTION_ZEROS, FRACTION_NINES,
};

struct chunk {
    size_t start;       /* where the element starts (the text before it is literal) */
    size_t length;      /* of the element in the layout */
    enum element element;
    int digits;         /* fractions */
    char separator;     /* fractions: '.' or ',' */
};

static bool has(const char *layout, size_t length, size_t at, const char *text)
{
    size_t n = strlen(text);
    return at + n <= length && memcmp(layout + at, text, n) == 0;
}

static bool is_digit_at(const char *text, size_t length, size_t at)
{
    return at < length && text[at] >= '0' && text[at] <= '9';
}

static bool lower_at(const char *text, size_t length, size_t at)
{
    return at < length && text[at] >= 'a' && text[at] <= 'z';
}

static struct chunk found(size_t start, size_t length, enum element element)
{
    return (struct chunk){start, length, element, 0, 0};
}

/* The next element of layout at or after from. */
static struct chunk next_chunk(const char *layout, size_t length, size_t from)
{
    static const enum element zero_elements[] = {ZERO_MONTH, ZERO_DAY, ZERO_HOUR12, ZERO_MINUTE, ZERO_SECOND, YEAR};
    static const struct {
        const char *text;
        enum element element;
    } zones[] = {
        {"Z070000", ISO_SECONDS_ZONE}, {"Z07:00:00", ISO_COLON_SECONDS_ZONE}, {"Z0700", ISO_ZONE},
        {"Z07:00", ISO_COLON_ZONE},    {"Z07", ISO_SHORT_ZONE},             {"-070000", NUM_SECONDS_ZONE},
        {"-07:00:00", NUM_COLON_SECONDS_ZONE}, {"-0700", NUM_ZONE},          {"-07:00", NUM_COLON_ZONE},
        {"-07", NUM_SHORT_ZONE},
    };
    for (size_t i = from; i < length; i++) {
        switch (layout[i]) {
        case 'J':
            if (has(layout, length, i, "January"))
                return found(i, 7, LONG_MONTH);
            if (has(layout, length, i, "Jan") && !lower_at(layout, length, i + 3))
                return found(i, 3, MONTH);
            break;
        case 'M':
            if (has(layout, length, i, "Monday"))
                return found(i, 6, LONG_WEEKDAY);
            if (has(layout, length, i, "Mon") && !lower_at(layout, length, i + 3))
                return found(i, 3, WEEKDAY);
            if (has(layout, length, i, "MST"))
                return found(i, 3, ZONE_NAME);
            break;
        case '0':
            if (i + 1 < length && layout[i + 1] >= '1' && layout[i + 1] <= '6')
                return found(i, 2, zero_elements[layout[i + 1] - '1']);
            if (has(layout, length, i, "002"))
                return found(i, 3, ZERO_YEAR_DAY);
            break;
        case '1':
            if (has(layout, length, i, "15"))
                return found(i, 2, HOUR);
            return found(i, 1, NUM_MONTH);
        case '2':
            if (has(layout, length, i, "2006"))
                return found(i, 4, LONG_YEAR);
            return found(i, 1, DAY);
        case '_':
            if (i + 1 < length && layout[i + 1] == '2') {
                if (has(layout, length, i + 1, "2006")) /* "_2006" is a literal _ and the year */
                    return found(i + 1, 4, LONG_YEAR);
                return found(i, 2, UNDER_DAY);
            }
            if (has(layout, length, i, "__2"))
                return found(i, 3, UNDER_YEAR_DAY);
            break;
        case '3':
            return found(i, 1, HOUR12);
        case '4':
            return found(i, 1, MINUTE);
        case '5':
            return found(i, 1, SECOND);
        case 'P':
            if (has(layout, length, i, "PM"))
                return found(i, 2, PM);
            break;
        case 'p':
            if (has(layout, length, i, "pm"))
                return found(i, 2, LOWER_PM);
            break;
        case '-':
        case 'Z':
            for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++)
                if (zones[z].text[0] == layout[i] && has(layout, length, i, zones[z].text))
                    return found(i, strlen(zones[z].text), zones[z].element);
            break;
        case '.':
        case ',':
            if (i + 1 < length && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
                char digit = layout[i + 1];
                size_t end = i + 1;
                while (end < length && layout[end] == digit)
                    end++;
                if (!is_digit_at(layout, length, end)) {
                    struct chunk chunk = found(i, end - i, digit == '0' ? FRACTION_ZEROS : FRACTION_NINES);
                    chunk.digits = (int)(end - i - 1);
                    chunk.separator = layout[i];
                    return chunk;
                }
            }
            break;
        default:
            break;
        }
    }
    return found(length, 0, ELEMENT_NONE);
}

static const char *const long_months[] = {"January", "February", "March",     "April",   "May",      "June",
                                          "July",    "August",   "September", "October", "November", "December"};
static const char *const long_days[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

/* ---- formatting ---- */

struct text {
    char *bytes;
    size_t length;
    size_t capacity;
};

static void append(struct text *text, const char *bytes, size_t length)
{
    if (text->length + length + 1 > text->capacity) {
        text->capacity = (text->length + length + 1) * 2;
        text->bytes = xrealloc(text->bytes, text->capacity);
    }
    memcpy(text->bytes + text->length, bytes, length);
    text->length += length;
    text->bytes[text->length] = '\0';
}

/* value zero-padded to width digits (a minus sign first when negative). */
static void append_number(struct text *text, int64_t value, int width)
{
    char digits[32];
    uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    int n = snprintf(digits, sizeof digits, "%0*llu", width, (unsigned long long)magnitude);
    if (value < 0)
        append(text, "-", 1);
    append(text, digits, (size_t)n);
}

static void append_zone(struct text *text, enum element element, int offset)
{
    bool iso = element == ISO_ZONE || element == ISO_SECONDS_ZONE || element == ISO_SHORT_ZONE ||
               element == ISO_COLON_ZONE || element == ISO_COLON_SECONDS_ZONE;
    if (iso && offset == 0) {
        append(text, "Z", 1);
        return;
    }
    int minutes = offset / 60, seconds = offset;
    if (minutes < 0 || (minutes == 0 && offset < 0)) {
        append(text, "-", 1);
        minutes = -minutes;
        seconds = -seconds;
    } else {
        append(text, "+", 1);
    }
    append_number(text, minutes / 60, 2);
    bool colon = element == ISO_COLON_ZONE || element == NUM_COLON_ZONE || element == ISO_COLON_SECONDS_ZONE ||
                 element == NUM_COLON_SECONDS_ZONE;
    if (colon)
        append(text, ":", 1);
    if (element != NUM_SHORT_ZONE && element != ISO_SHORT_ZONE)
        append_number(text, minutes % 60, 2);
    if (element == ISO_SECONDS_ZONE || element == NUM_SECONDS_ZONE || element == ISO_COLON_SECONDS_ZONE ||
        element == NUM_COLON_SECONDS_ZONE) {
        if (colon)
            append(text, ":", 1);
        append_number(text, seconds % 60, 2);
    }
}

static void append_fraction(struct text *text, const struct chunk *chunk, int nanosecond)
{
    bool trim = chunk->element == FRACTION_NINES;
    int digits = chunk->digits > 9 ? 9 : chunk->digits;
    if (trim && nanosecond == 0)
        return;
    char buffer[16];
    snprintf(buffer, sizeof buffer, "%09d", nanosecond);
    size_t used = (size_t)digits;
    if (trim)
        while (used > 0 && buffer[used - 1] == '0')
            used--;
    if (used == 0 && trim)
        return;
    append(text, &chunk->separator, 1);
    append(text, buffer, used);
}

static void append_element(struct text *text, const struct chunk *chunk, const struct go_time_fields *f)
{
    int hour12 = f->hour % 12 == 0 ? 12 : f->hour % 12;
    switch (chunk->element) {
    case LONG_MONTH: append(text, long_months[f->month - 1], strlen(long_months[f->month - 1])); break;
    case MONTH: append(text, long_months[f->month - 1], 3); break;
    case NUM_MONTH: append_number(text, f->month, 0); break;
    case ZERO_MONTH: append_number(text, f->month, 2); break;
    case LONG_WEEKDAY: append(text, long_days[f->weekday], strlen(long_days[f->weekday])); break;
    case WEEKDAY: append(text, long_days[f->weekday], 3); break;
    case DAY: append_number(text, f->day, 0); break;
    case UNDER_DAY:
        if (f->day < 10)
            append(text, " ", 1);
        append_number(text, f->day, 0);
        break;
    case ZERO_DAY: append_number(text, f->day, 2); break;
    case UNDER_YEAR_DAY:
        if (f->year_day < 100)
            append(text, f->year_day < 10 ? "  " : " ", f->year_day < 10 ? 2 : 1);
        append_number(text, f->year_day, 0);
        break;
    case ZERO_YEAR_DAY: append_number(text, f->year_day, 3); break;
    case HOUR: append_number(text, f->hour, 2); break;
    case HOUR12: append_number(text, hour12, 0); break;
    case ZERO_HOUR12: append_number(text, hour12, 2); break;
    case MINUTE: append_number(text, f->minute, 0); break;
    case ZERO_MINUTE: append_number(text, f->minute, 2); break;
    case SECOND: append_number(text, f->second, 0); break;
    case ZERO_SECOND: append_number(text, f->second, 2); break;
    case LONG_YEAR: append_number(text, f->year, 4); break;
    case YEAR: append_number(text, (f->year < 0 ? -f->year : f->year) % 100, 2); break;
    case PM: append(text, f->hour >= 12 ? "PM" : "AM", 2); break;
    case LOWER_PM: append(text, f->hour >= 12 ? "pm" : "am", 2); break;
    case ZONE_NAME:
        if (f->abbreviation[0] != '\0')
            append(text, f->abbreviation, strlen(f->abbreviation));
        else
            append_zone(text, NUM_ZONE, f->offset - f->offset % 60);
        break;
    case FRACTION_ZEROS:
    case FRACTION_NINES: append_fraction(text, chunk, f->nanosecond); break;
    case ELEMENT_NONE: break;
    default: append_zone(text, chunk->element, f->offset); break;
    }
}

char *go_time_format(const char *layout, size_t layout_length, const struct go_time_fields *fields, size_t *length)
{
    struct text text = {xmalloc(64), 0, 64};
    text.bytes[0] = '\0';
    size_t at = 0;
    while (at <= layout_length) {
        struct chunk chunk = next_chunk(layout, layout_length, at);
        append(&text, layout + at, chunk.start - at);
        if (chunk.element == ELEMENT_NONE)
            break;
        append_element(&text, &chunk, fields);
        at = chunk.start + chunk.length;
    }
    *length = text.length;
    return text.bytes;
}

/* ---- parsing ---- */

struct reading {
    const char *layout;
    size_t layout_length;
    const char *value;
    size_t value_length;
    struct wippy_error *error;
};

/* Go quotes with strconv.Quote; the texts here are printable enough that
 * escaping quotes and backslashes, and showing others as \xNN, is the same. */
static void quote(struct text *text, const char *bytes, size_t length)
{
    append(text, "\"", 1);
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)bytes[i];
        char escaped[8];
        if (c == '"' || c == '\\') {
            escaped[0] = '\\';
            escaped[1] = (char)c;
            append(text, escaped, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(escaped, sizeof escaped, "\\x%02x", c);
            append(text, escaped, 4);
        } else {
            append(text, (const char *)&c, 1);
        }
    }
    append(text, "\"", 1);
}

/* `parsing time "value" as "layout": cannot parse "rest" as "element"`, or
 * `parsing time "value": message` when message is given. */
static int parse_error(const struct reading *r, const char *element, size_t element_length, const char *rest,
                       size_t rest_length, const char *message)
{
    struct text text = {xmalloc(64), 0, 64};
    append(&text, "parsing time ", 13);
    quote(&text, r->value, r->value_length);
    if (message != NULL) {
        append(&text, message, strlen(message));
    } else {
        append(&text, " as ", 4);
        quote(&text, r->layout, r->layout_length);
        append(&text, ": cannot parse ", 15);
        quote(&text, rest, rest_length);
        append(&text, " as ", 4);
        quote(&text, element, element_length);
    }
    int rc = error_set(r->error, WIPPY_EINVAL, "%s", text.bytes);
    free(text.bytes);
    return rc;
}

/* The value left to read. */
struct cursor {
    const char *at;
    size_t left;
};

static void advance(struct cursor *c, size_t n)
{
    c->at += n;
    c->left -= n;
}

static bool digit(const struct cursor *c, size_t i)
{
    return i < c->left && c->at[i] >= '0' && c->at[i] <= '9';
}

/* One or two digits (exactly two when fixed). */
static bool get_number(struct cursor *c, bool fixed, int *out)
{
    if (!digit(c, 0))
        return false;
    if (!digit(c, 1)) {
        if (fixed)
            return false;
        *out = c->at[0] - '0';
        advance(c, 1);
        return true;
    }
    *out = (c->at[0] - '0') * 10 + (c->at[1] - '0');
    advance(c, 2);
    return true;
}

/* One to three digits (exactly three when fixed). */
static bool get_number3(struct cursor *c, bool fixed, int *out)
{
    int n = 0, value = 0;
    while (n < 3 && digit(c, (size_t)n))
        value = value * 10 + (c->at[n++] - '0');
    if (n == 0 || (fixed && n != 3))
        return false;
    *out = value;
    advance(c, (size_t)n);
    return true;
}

static bool lookup_name(struct cursor *c, const char *const *names, size_t count, size_t prefix, int *out)
{
    for (size_t i = 0; i < count; i++) {
        size_t n = prefix > 0 ? prefix : strlen(names[i]);
        if (n > c->left)
            continue;
        size_t k = 0;
        while (k < n && (c->at[k] | 0x20) == (names[i][k] | 0x20))
            k++;
        if (k == n) {
            *out = (int)i;
            advance(c, n);
            return true;
        }
    }
    return false;
}

/* The literal text before an element: a space in the layout matches any
 * run of spaces (at least one when the value has text there). */
static bool skip_literal(struct cursor *c, const char *prefix, size_t length)
{
    while (length > 0) {
        if (prefix[0] == ' ') {
            if (c->left > 0 && c->at[0] != ' ')
                return false;
            while (length > 0 && prefix[0] == ' ') {
                prefix++;
                length--;
            }
            while (c->left > 0 && c->at[0] == ' ')
                advance(c, 1);
            continue;
        }
        if (c->left == 0 || c->at[0] != prefix[0])
            return false;
        prefix++;
        length--;
        advance(c, 1);
    }
    return true;
}

/* The separator and digits of a fraction (n bytes with the separator;
 * digits past the ninth are read and dropped). */
static bool parse_nanoseconds(const struct cursor *c, size_t n, int *out)
{
    if (c->left == 0 || (c->at[0] != '.' && c->at[0] != ','))
        return false;
    if (n > 10)
        n = 10;
    int value = 0;
    for (size_t i = 1; i < n; i++) {
        if (!digit(c, i))
            return false;
        value = value * 10 + (c->at[i] - '0');
    }
    for (size_t i = n; i < 10; i++)
        value *= 10;
    *out = value;
    return true;
}

/* How long a zone abbreviation at the cursor is (0: none), as Go reads one. */
static size_t signed_offset_length(const struct cursor *c, size_t from)
{
    if (from >= c->left || (c->at[from] != '+' && c->at[from] != '-'))
        return 0;
    size_t i = from + 1;
    int64_t value = 0;
    while (i < c->left && c->at[i] >= '0' && c->at[i] <= '9') {
        value = value * 10 + (c->at[i] - '0');
        if (value > 23)
            return 0;
        i++;
    }
    return i == from + 1 ? 0 : i - from;
}

static size_t zone_name_length(const struct cursor *c)
{
    if (c->left < 3)
        return 0;
    if (c->left >= 4 && (memcmp(c->at, "ChST", 4) == 0 || memcmp(c->at, "MeST", 4) == 0))
        return 4;
    if (memcmp(c->at, "GMT", 3) == 0)
        return 3 + signed_offset_length(c, 3);
    if (c->at[0] == '+' || c->at[0] == '-')
        return signed_offset_length(c, 0);
    size_t upper = 0;
    while (upper < 6 && upper < c->left && c->at[upper] >= 'A' && c->at[upper] <= 'Z')
        upper++;
    switch (upper) {
    case 3: return 3;
    case 4: return c->at[3] == 'T' || memcmp(c->at, "WITA", 4) == 0 ? 4 : 0;
    case 5: return c->at[4] == 'T' ? 5 : 0;
    default: return 0;
    }
}

static bool read_zone(struct cursor *c, enum element element, struct go_time_parsed *parsed, const char **range)
{
    bool iso = element == ISO_ZONE || element == ISO_SECONDS_ZONE || element == ISO_SHORT_ZONE ||
               element == ISO_COLON_ZONE || element == ISO_COLON_SECONDS_ZONE;
    if (iso && c->left >= 1 && c->at[0] == 'Z') {
        advance(c, 1);
        parsed->has_offset = true;
        parsed->offset = 0;
        return true;
    }
    /* positions of hours, minutes, seconds (or -1 for "00") and the length */
    int h = 1, m = 3, s = -1;
    size_t need = 5;
    if (element == ISO_COLON_ZONE || element == NUM_COLON_ZONE) {
        if (c->left < 6 || c->at[3] != ':')
            return false;
        m = 4, need = 6;
    } else if (element == NUM_SHORT_ZONE || element == ISO_SHORT_ZONE) {
        m = -1, need = 3;
    } else if (element == ISO_COLON_SECONDS_ZONE || element == NUM_COLON_SECONDS_ZONE) {
        if (c->left < 9 || c->at[3] != ':' || c->at[6] != ':')
            return false;
        m = 4, s = 7, need = 9;
    } else if (element == ISO_SECONDS_ZONE || element == NUM_SECONDS_ZONE) {
        m = 3, s = 5, need = 7;
    }
    if (c->left < need)
        return false;
    int parts[3] = {0, 0, 0};
    int at[3] = {h, m, s};
    for (int i = 0; i < 3; i++) {
        if (at[i] < 0)
            continue;
        struct cursor two = {c->at + at[i], 2};
        if (!get_number(&two, true, &parts[i]))
            return false;
    }
    if (parts[0] > 24)
        *range = "time zone offset hour";
    if (parts[1] > 60)
        *range = "time zone offset minute";
    if (parts[2] > 60)
        *range = "time zone offset second";
    int offset = (parts[0] * 60 + parts[1]) * 60 + parts[2];
    if (c->at[0] == '-')
        offset = -offset;
    else if (c->at[0] != '+')
        return false;
    advance(c, need);
    parsed->has_offset = true;
    parsed->offset = offset;
    return true;
}

int go_time_parse(const char *layout, size_t layout_length, const char *value, size_t value_length,
                  struct go_time_parsed *parsed, struct wippy_error *error)
{
    struct reading r = {layout, layout_length, value, value_length, error};
    struct cursor c = {value, value_length};
    memset(parsed, 0, sizeof *parsed);
    int month = -1, day = -1, year_day = -1;
    bool pm = false, am = false;
    size_t at = 0;
    for (;;) {
        struct chunk chunk = next_chunk(layout, layout_length, at);
        const char *element = layout + chunk.start;
        if (!skip_literal(&c, layout + at, chunk.start - at))
            return parse_error(&r, layout + at, chunk.start - at, c.at, c.left, NULL);
        if (chunk.element == ELEMENT_NONE) {
            if (c.left == 0)
                break;
            struct text extra = {xmalloc(32), 0, 32};
            append(&extra, ": extra text: ", 14);
            quote(&extra, c.at, c.left);
            int rc = parse_error(&r, NULL, 0, NULL, 0, extra.bytes);
            free(extra.bytes);
            return rc;
        }
        at = chunk.start + chunk.length;
        struct cursor hold = c;
        const char *range = NULL;
        bool ok = true;
        int number = 0;
        switch (chunk.element) {
        case YEAR:
            ok = c.left >= 2 && digit(&c, 0) && digit(&c, 1);
            if (ok) {
                number = (c.at[0] - '0') * 10 + (c.at[1] - '0');
                parsed->year = number >= 69 ? 1900 + number : 2000 + number;
                advance(&c, 2);
            }
            break;
        case LONG_YEAR:
            ok = c.left >= 4 && digit(&c, 0) && digit(&c, 1) && digit(&c, 2) && digit(&c, 3);
            if (ok) {
                parsed->year = (c.at[0] - '0') * 1000 + (c.at[1] - '0') * 100 + (c.at[2] - '0') * 10 + (c.at[3] - '0');
                advance(&c, 4);
            }
            break;
        case MONTH:
        case LONG_MONTH:
            ok = lookup_name(&c, long_months, 12, chunk.element == MONTH ? 3 : 0, &month);
            month++;
            break;
        case NUM_MONTH:
        case ZERO_MONTH:
            ok = get_number(&c, chunk.element == ZERO_MONTH, &month);
            if (ok && (month <= 0 || month > 12))
                range = "month";
            break;
        case WEEKDAY:
        case LONG_WEEKDAY:
            ok = lookup_name(&c, long_days, 7, chunk.element == WEEKDAY ? 3 : 0, &number);
            break;
        case DAY:
        case UNDER_DAY:
        case ZERO_DAY:
            if (chunk.element == UNDER_DAY && c.left > 0 && c.at[0] == ' ')
                advance(&c, 1);
            ok = get_number(&c, chunk.element == ZERO_DAY, &day);
            break;
        case UNDER_YEAR_DAY:
        case ZERO_YEAR_DAY:
            for (int i = 0; i < 2; i++)
                if (chunk.element == UNDER_YEAR_DAY && c.left > 0 && c.at[0] == ' ')
                    advance(&c, 1);
            ok = get_number3(&c, chunk.element == ZERO_YEAR_DAY, &year_day);
            break;
        case HOUR:
            ok = get_number(&c, false, &parsed->hour);
            if (ok && parsed->hour >= 24)
                range = "hour";
            break;
        case HOUR12:
        case ZERO_HOUR12:
            ok = get_number(&c, chunk.element == ZERO_HOUR12, &parsed->hour);
            if (ok && parsed->hour > 12)
                range = "hour";
            break;
        case MINUTE:
        case ZERO_MINUTE:
            ok = get_number(&c, chunk.element == ZERO_MINUTE, &parsed->minute);
            if (ok && parsed->minute >= 60)
                range = "minute";
            break;
        case SECOND:
        case ZERO_SECOND:
            ok = get_number(&c, chunk.element == ZERO_SECOND, &parsed->second);
            if (!ok)
                break;
            if (parsed->second >= 60) {
                range = "second";
                break;
            }
            /* a fraction in the value that the layout does not show */
            if (c.left >= 2 && (c.at[0] == '.' || c.at[0] == ',') && digit(&c, 1)) {
                struct chunk following = next_chunk(layout, layout_length, at);
                if (following.element == FRACTION_ZEROS || following.element == FRACTION_NINES)
                    break;
                size_t n = 2;
                while (digit(&c, n))
                    n++;
                ok = parse_nanoseconds(&c, n, &parsed->nanosecond);
                advance(&c, n);
            }
            break;
        case PM:
        case LOWER_PM: {
            bool upper = chunk.element == PM;
            pm = c.left >= 2 && memcmp(c.at, upper ? "PM" : "pm", 2) == 0;
            am = c.left >= 2 && memcmp(c.at, upper ? "AM" : "am", 2) == 0;
            ok = pm || am;
            if (ok)
                advance(&c, 2);
            break;
        }
        case ZONE_NAME:
            if (c.left >= 3 && memcmp(c.at, "UTC", 3) == 0) {
                advance(&c, 3);
                parsed->has_offset = true;
                parsed->offset = 0;
                break;
            }
            number = (int)zone_name_length(&c);
            ok = number > 0 && (size_t)number < sizeof parsed->abbreviation;
            if (ok) {
                memcpy(parsed->abbreviation, c.at, (size_t)number);
                parsed->abbreviation[number] = '\0';
                parsed->has_abbreviation = true;
                advance(&c, (size_t)number);
            }
            break;
        case FRACTION_ZEROS: {
            size_t n = 1 + (size_t)chunk.digits;
            ok = c.left >= n && parse_nanoseconds(&c, n, &parsed->nanosecond);
            if (ok)
                advance(&c, n);
            break;
        }
        case FRACTION_NINES: {
            if (c.left < 2 || (c.at[0] != '.' && c.at[0] != ',') || !digit(&c, 1))
                break; /* left out */
            size_t n = 1;
            while (digit(&c, n))
                n++;
            ok = parse_nanoseconds(&c, n, &parsed->nanosecond);
            advance(&c, n);
            break;
        }
        default:
            ok = read_zone(&c, chunk.element, parsed, &range);
            break;
        }
        if (range != NULL) {
            char message[64];
            snprintf(message, sizeof message, ": %s out of range", range);
            return parse_error(&r, NULL, 0, NULL, 0, message);
        }
        if (!ok)
            return parse_error(&r, element, chunk.length, hold.at, hold.left, NULL);
    }
    if (pm && parsed->hour < 12)
        parsed->hour += 12;
    else if (am && parsed->hour == 12)
        parsed->hour = 0;
    if (year_day >= 0) {
        int m = 0, d = 0;
        if (is_leap(parsed->year)) {
            if (year_day == 31 + 29)
                m = 2, d = 29;
            else if (year_day > 31 + 29)
                year_day--;
        }
        if (year_day < 1 || year_day > 365)
            return parse_error(&r, NULL, 0, NULL, 0, ": day-of-year out of range");
        if (m == 0) {
            static const int before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};
            m = (year_day - 1) / 31 + 1;
            if (before[m] < year_day)
                m++;
            d = year_day - before[m - 1];
        }
        if (month >= 0 && month != m)
            return parse_error(&r, NULL, 0, NULL, 0, ": day-of-year does not match month");
        month = m;
        if (day >= 0 && day != d)
            return parse_error(&r, NULL, 0, NULL, 0, ": day-of-year does not match day");
        day = d;
        parsed->year_day = year_day;
    } else {
        if (month < 0)
            month = 1;
        if (day < 0)
            day = 1;
    }
    if (day < 1 || day > days_in_month(month, parsed->year))
        return parse_error(&r, NULL, 0, NULL, 0, ": day out of range");
    parsed->month = month;
    parsed->day = day;
    return WIPPY_OK;
}
