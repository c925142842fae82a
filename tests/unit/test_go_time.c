/* test_go_time.c - civil dates and Go's time layouts (expected texts are
 * what Go's time package prints and reports for the same input). */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/go_time.h"

/* Mon Jan 2 15:04:05.123456789 2006 at -0700 MST: Go's reference time. */
static struct go_time_fields reference(int nanosecond, int offset, const char *abbreviation)
{
    int64_t local = go_time_days_from_date(2006, 1, 2) * GO_TIME_SECONDS_PER_DAY + 15 * 3600 + 4 * 60 + 5;
    struct go_time_fields fields;
    go_time_fields_from_local(local, nanosecond, offset, abbreviation, &fields);
    return fields;
}

static const char *formatted(const char *layout, const struct go_time_fields *fields)
{
    static char kept[256];
    size_t length;
    char *text = go_time_format(layout, strlen(layout), fields, &length);
    strncpy(kept, text, sizeof kept - 1);
    kept[sizeof kept - 1] = '\0';
    free(text);
    return kept;
}

TEST(test_go_time_dates_count_days_from_1970_in_any_year)
{
    CHECK_EQUAL(go_time_days_from_date(1970, 1, 1), 0);
    CHECK_EQUAL(go_time_days_from_date(2000, 3, 1), 11017);
    CHECK_EQUAL(go_time_days_from_date(1, 1, 1), -719162);
    CHECK_EQUAL(go_time_days_from_date(2024, 13, 1), go_time_days_from_date(2025, 1, 1)); /* carried over */
    CHECK_EQUAL(go_time_days_from_date(2024, 3, 0), go_time_days_from_date(2024, 2, 29));
    CHECK_EQUAL(go_time_days_from_date(2024, 0, 1), go_time_days_from_date(2023, 12, 1));
    int64_t year;
    int month, day;
    go_time_date_from_days(-1, &year, &month, &day);
    CHECK(year == 1969 && month == 12 && day == 31);
    go_time_date_from_days(go_time_days_from_date(-400, 2, 29), &year, &month, &day);
    CHECK(year == -400 && month == 2 && day == 29);
    CHECK_EQUAL(go_time_weekday(0), 4);                                  /* a Thursday */
    CHECK_EQUAL(go_time_weekday(go_time_days_from_date(2006, 1, 2)), 1); /* a Monday */
}

TEST(test_go_time_formats_the_reference_layouts_as_go)
{
    struct go_time_fields f = reference(123456789, -7 * 3600, "MST");
    CHECK_STRING(formatted("2006-01-02T15:04:05Z07:00", &f), "2006-01-02T15:04:05-07:00");
    CHECK_STRING(formatted("Mon, 02 Jan 2006 15:04:05 MST", &f), "Mon, 02 Jan 2006 15:04:05 MST");
    CHECK_STRING(formatted("Monday, 02-Jan-06 15:04:05 -0700", &f), "Monday, 02-Jan-06 15:04:05 -0700");
    CHECK_STRING(formatted("Jan _2 15:04:05.000", &f), "Jan  2 15:04:05.123");
    CHECK_STRING(formatted("3:04PM", &f), "3:04PM");
    CHECK_STRING(formatted("03:04:05 pm", &f), "03:04:05 pm");
    CHECK_STRING(formatted("2006-01-02T15:04:05.999999999Z07:00", &f), "2006-01-02T15:04:05.123456789-07:00");
    CHECK_STRING(formatted("15:04:05,000000", &f), "15:04:05,123456");
    CHECK_STRING(formatted("002 __2 January 1 2", &f), "002   2 January 1 2");
    CHECK_STRING(formatted("-07 -07:00:00 Z070000", &f), "-07 -07:00:00 -070000");
    CHECK_STRING(formatted("_2006", &f), "_2006");
    CHECK_STRING(formatted("Janet Mondays", &f), "Janet Mondays"); /* not elements: a lower-case letter follows */

    struct go_time_fields whole = reference(0, 0, "UTC");
    CHECK_STRING(formatted("2006-01-02T15:04:05.999999999Z07:00", &whole), "2006-01-02T15:04:05Z");
    CHECK_STRING(formatted(".000 MST -0700", &whole), ".000 UTC +0000");

    struct go_time_fields unnamed = reference(0, 5 * 3600 + 30 * 60, "");
    CHECK_STRING(formatted("MST", &unnamed), "+0530");

    struct go_time_fields early;
    go_time_fields_from_local(go_time_days_from_date(5, 3, 1) * GO_TIME_SECONDS_PER_DAY, 0, 0, "UTC", &early);
    CHECK_STRING(formatted("2006 06", &early), "0005 05");
}

static int parsed(const char *layout, const char *value, struct go_time_parsed *out, struct wippy_error *error)
{
    return go_time_parse(layout, strlen(layout), value, strlen(value), out, error);
}

TEST(test_go_time_parses_with_layouts_as_go)
{
    struct go_time_parsed p;
    struct wippy_error error;
    CHECK_EQUAL(parsed("2006-01-02 15:04:05", "2024-12-29 15:04:05", &p, &error), WIPPY_OK);
    CHECK(p.year == 2024 && p.month == 12 && p.day == 29 && p.hour == 15 && p.minute == 4 && p.second == 5);
    CHECK(!p.has_offset && !p.has_abbreviation);

    CHECK_EQUAL(parsed("2006-01-02T15:04:05Z07:00", "2024-12-29T15:04:05Z", &p, &error), WIPPY_OK);
    CHECK(p.has_offset && p.offset == 0);
    CHECK_EQUAL(parsed("2006-01-02T15:04:05Z07:00", "2024-12-29T15:04:05+05:30", &p, &error), WIPPY_OK);
    CHECK(p.has_offset && p.offset == 19800);
    CHECK_EQUAL(parsed("2006-01-02T15:04:05.999999999Z07:00", "2024-12-29T15:04:05.5-01:00", &p, &error), WIPPY_OK);
    CHECK(p.nanosecond == 500000000 && p.offset == -3600);
    CHECK_EQUAL(parsed("15:04:05", "10:11:12.123456", &p, &error), WIPPY_OK); /* a fraction the layout omits */
    CHECK(p.nanosecond == 123456000 && p.year == 0 && p.month == 1 && p.day == 1);
    CHECK_EQUAL(parsed("Mon, 02 Jan 2006 15:04:05 MST", "Sun, 29 Dec 2024 15:04:05 EST", &p, &error), WIPPY_OK);
    CHECK(p.has_abbreviation && strcmp(p.abbreviation, "EST") == 0);
    CHECK_EQUAL(parsed("3:04PM", "12:30AM", &p, &error), WIPPY_OK);
    CHECK(p.hour == 0 && p.minute == 30);
    CHECK_EQUAL(parsed("3:04pm", "1:05pm", &p, &error), WIPPY_OK);
    CHECK(p.hour == 13);
    CHECK_EQUAL(parsed("January 2 2006", "february 29 2024", &p, &error), WIPPY_OK); /* names in any case */
    CHECK(p.month == 2 && p.day == 29);
    CHECK_EQUAL(parsed("2006 002", "2024 060", &p, &error), WIPPY_OK);
    CHECK(p.month == 2 && p.day == 29);
    CHECK_EQUAL(parsed("02 Jan 06", "01 Jan 70", &p, &error), WIPPY_OK);
    CHECK(p.year == 1970);
    CHECK_EQUAL(parsed("2006-01-02  15", "2024-01-02 15", &p, &error), WIPPY_OK); /* spaces match runs */
}

TEST(test_go_time_parse_failures_read_as_go)
{
    struct go_time_parsed p;
    struct wippy_error error;
    CHECK(parsed("2006-01-02", "2024-13-01", &p, &error) < 0);
    CHECK_STRING(error.message, "parsing time \"2024-13-01\": month out of range");
    CHECK(parsed("2006-01-02", "24-01-01", &p, &error) < 0);
    CHECK_STRING(error.message, "parsing time \"24-01-01\" as \"2006-01-02\": cannot parse \"24-01-01\" as \"2006\"");
    CHECK(parsed("2006-01-02", "2023-02-29", &p, &error) < 0);
    CHECK_STRING(error.message, "parsing time \"2023-02-29\": day out of range");
    CHECK(parsed("2006", "2024x", &p, &error) < 0);
    CHECK_STRING(error.message, "parsing time \"2024x\": extra text: \"x\"");
    CHECK(parsed("2006-01-02", "2024/01/02", &p, &error) < 0);
    CHECK_STRING(error.message, "parsing time \"2024/01/02\" as \"2006-01-02\": cannot parse \"/01/02\" as \"-\"");
    CHECK(parsed("15:04", "25:00", &p, &error) < 0);
    CHECK_STRING(error.message, "parsing time \"25:00\": hour out of range");
    CHECK(parsed("2006 002", "2023 366", &p, &error) < 0);
    CHECK_STRING(error.message, "parsing time \"2023 366\": day-of-year out of range");
    CHECK(parsed("-07:00", "+0530", &p, &error) < 0);
    CHECK(parsed(".000", ".12", &p, &error) < 0);
}
