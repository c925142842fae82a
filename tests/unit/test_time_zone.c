/* test_time_zone.c - time zones: the real TZif files of /usr/share/zoneinfo,
 * POSIX TZ rules, Go's resolution of local times, hostile names and data.
 * Expected offsets were taken from Go 1.26 and `TZ=zone date -d @seconds
 * +%z%Z` (tzdata 2025b), which agreed on every one. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/time_zone.h"

#define ZONEINFO "/usr/share/zoneinfo/"

struct expected_offset {
    int64_t seconds;
    int offset;
    const char *abbreviation;
};

/* Checks zone at each row; on the first difference records it (with the
 * instant) as the test's failure and returns false. */
static bool offsets_match(const char *file, int line, const struct time_zone *zone,
                          const struct expected_offset *rows, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int offset = 0;
        const char *abbreviation = NULL;
        time_zone_lookup(zone, rows[i].seconds, &offset, &abbreviation);
        if (offset != rows[i].offset || abbreviation == NULL || strcmp(abbreviation, rows[i].abbreviation) != 0) {
            snprintf(test_failure, sizeof test_failure, "%s:%d: %s at %lld: got %d %s, want %d %s", file, line,
                     time_zone_name(zone), (long long)rows[i].seconds, offset, abbreviation ? abbreviation : "(null)",
                     rows[i].offset, rows[i].abbreviation);
            return false;
        }
    }
    return true;
}

#define CHECK_OFFSETS(zone, rows)                                                          \
    do {                                                                                   \
        if (!offsets_match(__FILE__, __LINE__, (zone), (rows), sizeof(rows) / sizeof((rows)[0]))) \
            return;                                                                        \
    } while (0)

/* Reads /usr/share/zoneinfo/name into a buffer of exactly its size (so that
 * AddressSanitizer sees any read past it), or NULL when it is absent. */
static unsigned char *read_zone_file(const char *name, size_t *length)
{
    char path[256];
    snprintf(path, sizeof path, ZONEINFO "%s", name);
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    static unsigned char buffer[TIME_ZONE_TZIF_MAX_BYTES + 1];
    *length = fread(buffer, 1, sizeof buffer, file);
    fclose(file);
    unsigned char *data = malloc(*length ? *length : 1);
    memcpy(data, buffer, *length);
    return data;
}

/* Parses a real zone file; NULL with why filled when it is absent or refused. */
static struct time_zone *load_zone(const char *name, char *why, size_t size)
{
    size_t length = 0;
    unsigned char *data = read_zone_file(name, &length);
    if (data == NULL) {
        snprintf(why, size, ZONEINFO "%s is absent (install tzdata)", name);
        return NULL;
    }
    struct time_zone *zone = NULL;
    struct wippy_error error;
    if (time_zone_from_tzif(name, data, length, &zone, &error) != WIPPY_OK)
        snprintf(why, size, "%s", error.message);
    free(data);
    return zone;
}

#define LOAD_ZONE_OR_SKIP(variable, name)                                                  \
    char why_##variable[1200];                                                             \
    struct time_zone *variable = load_zone((name), why_##variable, sizeof why_##variable); \
    do {                                                                                   \
        if (variable == NULL && strstr(why_##variable, "is absent") != NULL)               \
            SKIP(why_##variable);                                                          \
        if (variable == NULL) {                                                            \
            snprintf(test_failure, sizeof test_failure, "%s:%d: %s", __FILE__, __LINE__, why_##variable); \
            return;                                                                        \
        }                                                                                  \
    } while (0)

static struct time_zone *posix_zone(const char *rule)
{
    struct time_zone *zone = NULL;
    struct wippy_error error;
    if (time_zone_from_posix(NULL, rule, &zone, &error) != WIPPY_OK) {
        snprintf(test_failure, sizeof test_failure, "%s", error.message);
        return NULL;
    }
    return zone;
}

#define POSIX_ZONE_OR_FAIL(variable, rule)                                                 \
    struct time_zone *variable = posix_zone(rule);                                         \
    do {                                                                                   \
        if (variable == NULL)                                                              \
            return;                                                                        \
    } while (0)

/* ---- UTC, fixed zones, references ---- */

TEST(test_time_zone_utc_is_static_with_offset_zero_everywhere)
{
    struct time_zone *utc = time_zone_utc();
    CHECK(utc == time_zone_utc());
    CHECK_STRING(time_zone_name(utc), "UTC");
    const struct expected_offset rows[] = {
        {INT64_MIN, 0, "UTC"}, {-9000000000, 0, "UTC"}, {0, 0, "UTC"}, {4102444800, 0, "UTC"}, {INT64_MAX, 0, "UTC"},
    };
    CHECK_OFFSETS(utc, rows);
    CHECK(time_zone_retain(utc) == utc);
    for (int i = 0; i < 10; i++)
        time_zone_release(utc); /* more releases than retains: a static zone ignores them */
    CHECK_EQUAL(time_zone_unix_from_local(utc, 1622548800), 1622548800);
    CHECK_STRING(time_zone_name(utc), "UTC");
}

TEST(test_time_zone_fixed_zone_is_its_name_and_offset_at_every_instant)
{
    struct time_zone *est = time_zone_fixed("EST", -5 * 3600);
    CHECK_STRING(time_zone_name(est), "EST");
    const struct expected_offset rows[] = {
        {INT64_MIN, -18000, "EST"}, {-3000000000, -18000, "EST"}, {1615705200, -18000, "EST"},
        {INT64_MAX, -18000, "EST"},
    };
    CHECK_OFFSETS(est, rows);
    /* 2021-06-01 12:00 at -05:00 is 17:00 UTC. */
    CHECK_EQUAL(time_zone_unix_from_local(est, 1622548800), 1622548800 + 18000);
    /* Saturates instead of wrapping. */
    CHECK(time_zone_unix_from_local(est, INT64_MAX - 10) == INT64_MAX);
    time_zone_release(est);

    struct time_zone *unnamed = time_zone_fixed(NULL, 12600);
    CHECK_STRING(time_zone_name(unnamed), "");
    int offset = 0;
    const char *abbreviation = NULL;
    time_zone_lookup(unnamed, 0, &offset, &abbreviation);
    CHECK_EQUAL(offset, 12600);
    CHECK_STRING(abbreviation, "");
    time_zone_lookup(unnamed, 0, NULL, NULL); /* either output may be left out */
    time_zone_release(unnamed);

    struct time_zone *extreme = time_zone_fixed("far", INT32_MIN);
    CHECK(time_zone_unix_from_local(extreme, INT64_MAX - 5) == INT64_MAX);
    time_zone_release(extreme);
}

TEST(test_time_zone_reference_counts_keep_a_zone_until_the_last_release)
{
    struct time_zone *zone = time_zone_fixed("Keep", 3600);
    CHECK(time_zone_retain(zone) == zone);
    CHECK(time_zone_retain(zone) == zone);
    time_zone_release(zone);
    time_zone_release(zone);
    /* One reference is left: the zone must still be whole (ASan would see a
     * use after free), and the last release frees it (LeakSanitizer would
     * report it otherwise). */
    CHECK_STRING(time_zone_name(zone), "Keep");
    int offset = 0;
    time_zone_lookup(zone, 0, &offset, NULL);
    CHECK_EQUAL(offset, 3600);
    time_zone_release(zone);
    CHECK(time_zone_retain(NULL) == NULL);
    time_zone_release(NULL);
}

#define SHARING_THREADS 4
#define SHARING_ROUNDS 100000

static void *share_zone(void *argument)
{
    struct time_zone *zone = argument;
    for (int i = 0; i < SHARING_ROUNDS; i++) {
        time_zone_retain(zone);
        int offset = 0;
        time_zone_lookup(zone, 1615705200 + i, &offset, NULL);
        time_zone_release(zone);
    }
    return NULL;
}

TEST(test_time_zone_reference_counts_are_atomic_across_threads)
{
    POSIX_ZONE_OR_FAIL(zone, "EST5EDT,M3.2.0,M11.1.0");
    pthread_t threads[SHARING_THREADS];
    for (int i = 0; i < SHARING_THREADS; i++)
        CHECK(pthread_create(&threads[i], NULL, share_zone, zone) == 0);
    for (int i = 0; i < SHARING_THREADS; i++)
        pthread_join(threads[i], NULL);
    /* Had an increment been lost, the zone would be gone by now. */
    int offset = 0;
    time_zone_lookup(zone, 1615705200, &offset, NULL);
    CHECK_EQUAL(offset, -14400);
    time_zone_release(zone);
}

/* ---- real zone files ---- */

TEST(test_time_zone_new_york_follows_its_history_and_its_footer)
{
    LOAD_ZONE_OR_SKIP(zone, "America/New_York");
    CHECK_STRING(time_zone_name(zone), "America/New_York");
    const struct expected_offset rows[] = {
        {-3000000000, -17762, "LMT"}, /* 1874: local mean time, before the first transition */
        {-2717650801, -17762, "LMT"}, /* 1883-11-18 16:59:59 UTC */
        {-2717650800, -18000, "EST"}, /* railway time */
        {126687599, -18000, "EST"},   /* 1974-01-06: the energy-crisis DST */
        {126687600, -14400, "EDT"},
        {1615705199, -18000, "EST"}, /* 2021-03-14 06:59:59 UTC */
        {1615705200, -14400, "EDT"},
        {1636264799, -14400, "EDT"}, /* 2021-11-07 05:59:59 UTC */
        {1636264800, -18000, "EST"},
        {2140667999, -14400, "EDT"}, /* 2037-11-01: the last transition in the file */
        {2140668000, -18000, "EST"},
        {4102444800, -18000, "EST"}, /* 2100, from the footer */
        {4108690799, -18000, "EST"},
        {4108690800, -14400, "EDT"}, /* 2100-03-14 07:00 UTC */
        {4118083200, -14400, "EDT"},
        {4129250399, -14400, "EDT"},
        {4129250400, -18000, "EST"}, /* 2100-11-07 06:00 UTC */
        {32503680000, -18000, "EST"}, /* 3000-01-01 */
    };
    CHECK_OFFSETS(zone, rows);
    time_zone_release(zone);
}

TEST(test_time_zone_london_follows_its_history_and_its_footer)
{
    LOAD_ZONE_OR_SKIP(zone, "Europe/London");
    const struct expected_offset rows[] = {
        {-3852662326, -75, "LMT"}, /* 1847-12-01 00:01:14 UTC */
        {-3852662325, 0, "GMT"},
        {0, 3600, "BST"}, /* British Standard Time, 1968-1971 */
        {1616893199, 0, "GMT"},
        {1616893200, 3600, "BST"}, /* 2021-03-28 01:00 UTC */
        {1635641999, 3600, "BST"},
        {1635642000, 0, "GMT"}, /* 2021-10-31 01:00 UTC */
        {4109878799, 0, "GMT"},
        {4109878800, 3600, "BST"}, /* 2100-03-28, from the footer */
        {4128627599, 3600, "BST"},
        {4128627600, 0, "GMT"}, /* 2100-10-31 */
    };
    CHECK_OFFSETS(zone, rows);
    time_zone_release(zone);
}

TEST(test_time_zone_kolkata_has_odd_offsets_and_no_dst_today)
{
    LOAD_ZONE_OR_SKIP(zone, "Asia/Kolkata");
    const struct expected_offset rows[] = {
        {-4000000000, 21208, "LMT"}, {-3645237208, 21200, "HMT"}, {-862617600, 23400, "+0630"},
        {-807408000, 23400, "+0630"}, {1700000000, 19800, "IST"}, {4102444800, 19800, "IST"},
    };
    CHECK_OFFSETS(zone, rows);
    time_zone_release(zone);
}

TEST(test_time_zone_lord_howe_moves_its_clocks_by_thirty_minutes)
{
    LOAD_ZONE_OR_SKIP(zone, "Australia/Lord_Howe");
    const struct expected_offset rows[] = {
        {-3000000000, 38180, "LMT"},
        {1617461999, 39600, "+11"},
        {1617462000, 37800, "+1030"}, /* 2021-04-04 02:00 local */
        {1633188599, 37800, "+1030"},
        {1633188600, 39600, "+11"}, /* 2021-10-03 02:00 local */
        {4110447599, 39600, "+11"}, /* 2100, from the footer (southern: DST spans New Year) */
        {4110447600, 37800, "+1030"},
        {4126174199, 37800, "+1030"},
        {4126174200, 39600, "+11"},
    };
    CHECK_OFFSETS(zone, rows);
    time_zone_release(zone);
}

TEST(test_time_zone_utc_file_is_utc_at_every_instant)
{
    LOAD_ZONE_OR_SKIP(zone, "UTC");
    const struct expected_offset rows[] = {
        {INT64_MIN, 0, "UTC"}, {-9000000000, 0, "UTC"}, {0, 0, "UTC"}, {4102444800, 0, "UTC"}, {INT64_MAX, 0, "UTC"},
    };
    CHECK_OFFSETS(zone, rows);
    time_zone_release(zone);
}

TEST(test_time_zone_lookup_and_local_times_survive_the_ends_of_int64)
{
    LOAD_ZONE_OR_SKIP(new_york, "America/New_York");
    POSIX_ZONE_OR_FAIL(lord_howe, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
    const int64_t extremes[] = {INT64_MIN,        INT64_MIN + 1, -(INT64_C(1) << 62),
                                INT64_C(1) << 62, INT64_MAX - 1, INT64_MAX};
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
        int offset = 1;
        time_zone_lookup(new_york, extremes[i], &offset, NULL);
        CHECK(offset == -17762 || offset == -18000 || offset == -14400);
        time_zone_lookup(lord_howe, extremes[i], &offset, NULL);
        CHECK(offset == 37800 || offset == 39600);
        time_zone_unix_from_local(new_york, extremes[i]);
        time_zone_unix_from_local(lord_howe, extremes[i]);
    }
    CHECK(time_zone_unix_from_local(new_york, INT64_MAX) == INT64_MAX);
    CHECK(time_zone_unix_from_local(lord_howe, INT64_MIN) == INT64_MIN);
    /* The 400-year cycle: 2100-07-01 and 400 years later agree. */
    int now = 0, later = 0;
    time_zone_lookup(new_york, 4118083200, &now, NULL);
    time_zone_lookup(new_york, 4118083200 + INT64_C(12622780800), &later, NULL);
    CHECK_EQUAL(now, -14400);
    CHECK_EQUAL(later, -14400);
    time_zone_release(new_york);
    time_zone_release(lord_howe);
}

/* ---- local times ---- */

struct expected_local {
    int64_t local_seconds; /* the wall-clock time read as UTC */
    int64_t unix_seconds;  /* what Go's time.Date gives */
};

static bool locals_match(const char *file, int line, const struct time_zone *zone,
                         const struct expected_local *rows, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int64_t got = time_zone_unix_from_local(zone, rows[i].local_seconds);
        if (got != rows[i].unix_seconds) {
            snprintf(test_failure, sizeof test_failure, "%s:%d: %s local %lld: got %lld, want %lld", file, line,
                     time_zone_name(zone), (long long)rows[i].local_seconds, (long long)got,
                     (long long)rows[i].unix_seconds);
            return false;
        }
    }
    return true;
}

#define CHECK_LOCALS(zone, rows)                                                           \
    do {                                                                                   \
        if (!locals_match(__FILE__, __LINE__, (zone), (rows), sizeof(rows) / sizeof((rows)[0]))) \
            return;                                                                        \
    } while (0)

/* Go's time.Date keeps the offset in effect at the wall-clock time read as
 * UTC when the result falls in that offset's period, else it takes the
 * offset in effect at the result: a skipped time moves back by the gap
 * (02:30 → 01:30 EST in New York, not 03:30 EDT), a repeated one is the EDT
 * one in New York but the GMT one in London. */
TEST(test_time_zone_unix_from_local_resolves_gaps_and_overlaps_as_go_does)
{
    LOAD_ZONE_OR_SKIP(new_york, "America/New_York");
    const struct expected_local new_york_rows[] = {
        {1615689000, 1615703400}, /* 2021-03-14 02:30 (skipped) → 01:30 EST, 06:30 UTC */
        {1615687140, 1615705140}, /* 01:59 EST */
        {1615690800, 1615705200}, /* 03:00 EDT */
        {1636248600, 1636263000}, /* 2021-11-07 01:30 (twice) → 01:30 EDT, 05:30 UTC */
        {1636246740, 1636261140}, /* 00:59 EDT */
        {1636250400, 1636268400}, /* 02:00 EST */
        {4108674600, 4108689000}, /* 2100-03-14 02:30 (footer) → 01:30 EST */
        {4129234200, 4129248600}, /* 2100-11-07 01:30 (footer) → 01:30 EDT */
        {-3786825600, -3786807838}, /* 1850-01-01 00:00 LMT */
    };
    CHECK_LOCALS(new_york, new_york_rows);
    time_zone_release(new_york);

    LOAD_ZONE_OR_SKIP(london, "Europe/London");
    const struct expected_local london_rows[] = {
        {1616895000, 1616895000}, /* 2021-03-28 01:30 (skipped) → 02:30 BST */
        {1635643800, 1635643800}, /* 2021-10-31 01:30 (twice) → 01:30 GMT, the second */
    };
    CHECK_LOCALS(london, london_rows);
    time_zone_release(london);

    LOAD_ZONE_OR_SKIP(lord_howe, "Australia/Lord_Howe");
    const struct expected_local lord_howe_rows[] = {
        {1633227300, 1633189500}, /* 2021-10-03 02:15 (skipped) → 02:45 +11 */
        {1617500700, 1617462900}, /* 2021-04-04 01:45 (twice) → 01:45 +1030, the second */
    };
    CHECK_LOCALS(lord_howe, lord_howe_rows);
    time_zone_release(lord_howe);

    LOAD_ZONE_OR_SKIP(kolkata, "Asia/Kolkata");
    const struct expected_local kolkata_rows[] = {{1622548800, 1622529000}}; /* 2021-06-01 12:00 IST */
    CHECK_LOCALS(kolkata, kolkata_rows);
    time_zone_release(kolkata);
}

/* ---- POSIX rules ---- */

TEST(test_time_zone_posix_month_week_day_rule_matches_new_york)
{
    struct time_zone *zone = NULL;
    struct wippy_error error;
    CHECK(time_zone_from_posix("Eastern", "EST5EDT,M3.2.0,M11.1.0", &zone, &error) == WIPPY_OK);
    CHECK_STRING(time_zone_name(zone), "Eastern");
    const struct expected_offset rows[] = {
        {1615705199, -18000, "EST"}, {1615705200, -14400, "EDT"}, {1636264799, -14400, "EDT"},
        {1636264800, -18000, "EST"}, {4108690800, -14400, "EDT"}, {4129250400, -18000, "EST"},
    };
    CHECK_OFFSETS(zone, rows);
    const struct expected_local locals[] = {{1615689000, 1615703400}, {1636248600, 1636263000}};
    CHECK_LOCALS(zone, locals);
    time_zone_release(zone);

    /* With no name the rule names the zone. */
    POSIX_ZONE_OR_FAIL(unnamed, "EST5EDT,M3.2.0,M11.1.0");
    CHECK_STRING(time_zone_name(unnamed), "EST5EDT,M3.2.0,M11.1.0");
    time_zone_release(unnamed);
}

TEST(test_time_zone_posix_without_dates_uses_the_us_dates)
{
    POSIX_ZONE_OR_FAIL(zone, "EST5EDT");
    const struct expected_offset rows[] = {
        {1615705199, -18000, "EST"}, {1615705200, -14400, "EDT"},
        {1636264799, -14400, "EDT"}, {1636264800, -18000, "EST"},
    };
    CHECK_OFFSETS(zone, rows);
    time_zone_release(zone);
}

/* J60 is March 1 in every year; 59 is February 29 in a leap year and
 * March 1 otherwise. */
TEST(test_time_zone_posix_julian_and_zero_based_days_differ_in_leap_years)
{
    POSIX_ZONE_OR_FAIL(julian, "XXX3YYY,J60/2,J300/2");
    const struct expected_offset julian_rows[] = {
        {1709269199, -10800, "XXX"}, {1709269200, -7200, "YYY"}, /* 2024-03-01 02:00 local */
        {1677646799, -10800, "XXX"}, {1677646800, -7200, "YYY"}, /* 2023-03-01 */
        {1730001599, -7200, "YYY"},  {1730001600, -10800, "XXX"}, /* 2024-10-27 (day 300 of 365) */
        {1698379199, -7200, "YYY"},  {1698379200, -10800, "XXX"}, /* 2023-10-27 */
    };
    CHECK_OFFSETS(julian, julian_rows);
    time_zone_release(julian);

    POSIX_ZONE_OR_FAIL(zero_based, "XXX3YYY,59/2,299/2");
    const struct expected_offset zero_based_rows[] = {
        {1709182799, -10800, "XXX"}, {1709182800, -7200, "YYY"}, /* 2024-02-29 */
        {1677646799, -10800, "XXX"}, {1677646800, -7200, "YYY"}, /* 2023-03-01 */
        {1729915199, -7200, "YYY"},  {1729915200, -10800, "XXX"}, /* 2024-10-26 */
        {1698379199, -7200, "YYY"},  {1698379200, -10800, "XXX"}, /* 2023-10-27 */
    };
    CHECK_OFFSETS(zero_based, zero_based_rows);
    time_zone_release(zero_based);
}

TEST(test_time_zone_posix_transition_times_may_pass_24_hours_or_be_negative)
{
    /* Second Sunday of March at 26:00: Monday 02:00 EST. */
    POSIX_ZONE_OR_FAIL(late, "EST5EDT,M3.2.0/26,M11.1.0");
    const struct expected_offset late_rows[] = {
        {1615705200, -18000, "EST"}, {1615791599, -18000, "EST"}, {1615791600, -14400, "EDT"},
    };
    CHECK_OFFSETS(late, late_rows);
    time_zone_release(late);

    /* Greenland's rule: last Sunday of March at -1:00, i.e. Saturday 23:00. */
    POSIX_ZONE_OR_FAIL(nuuk, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    const struct expected_offset nuuk_rows[] = {
        {1711846799, -7200, "-02"}, {1711846800, -3600, "-01"}, {1729990799, -3600, "-01"}, {1729990800, -7200, "-02"},
    };
    CHECK_OFFSETS(nuuk, nuuk_rows);
    time_zone_release(nuuk);

    /* Offsets and times with seconds; the end given in daylight time. */
    POSIX_ZONE_OR_FAIL(seconds, "AAA+5:30:15BBB+4:00:01,M4.1.0/0:00:01,M10.5.6/23:59:59");
    const struct expected_offset seconds_rows[] = {
        {1617514215, -19815, "AAA"}, {1617514216, -14401, "BBB"}, /* 2021-04-04 00:00:01 AAA */
        {1635652799, -14401, "BBB"}, {1635652800, -19815, "AAA"}, /* 2021-10-30 23:59:59 BBB */
    };
    CHECK_OFFSETS(seconds, seconds_rows);
    time_zone_release(seconds);
}

TEST(test_time_zone_posix_quoted_names_and_signed_offsets)
{
    POSIX_ZONE_OR_FAIL(tehran, "<+0330>-3:30");
    POSIX_ZONE_OR_FAIL(minus_three, "<-03>3");
    POSIX_ZONE_OR_FAIL(plus_sign, "ABC+4");
    POSIX_ZONE_OR_FAIL(kolkata, "IST-5:30");
    const struct expected_offset tehran_rows[] = {{1622505600, 12600, "+0330"}, {INT64_MIN, 12600, "+0330"}};
    const struct expected_offset minus_three_rows[] = {{1622505600, -10800, "-03"}};
    const struct expected_offset plus_sign_rows[] = {{0, -14400, "ABC"}};
    const struct expected_offset kolkata_rows[] = {{1700000000, 19800, "IST"}};
    CHECK_OFFSETS(tehran, tehran_rows);
    CHECK_OFFSETS(minus_three, minus_three_rows);
    CHECK_OFFSETS(plus_sign, plus_sign_rows);
    CHECK_OFFSETS(kolkata, kolkata_rows);
    CHECK_EQUAL(time_zone_unix_from_local(tehran, 1622505600), 1622505600 - 12600);
    time_zone_release(tehran);
    time_zone_release(minus_three);
    time_zone_release(plus_sign);
    time_zone_release(kolkata);
}

/* The footer of Australia/Lord_Howe alone gives what the file gives after
 * its last transition, every six hours for two years. */
TEST(test_time_zone_posix_southern_rule_matches_the_lord_howe_file)
{
    LOAD_ZONE_OR_SKIP(file, "Australia/Lord_Howe");
    POSIX_ZONE_OR_FAIL(rule, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
    const struct expected_offset rows[] = {
        {1901717999, 39600, "+11"}, {1901718000, 37800, "+1030"}, /* 2030-04-07 */
        {1917444599, 37800, "+1030"}, {1917444600, 39600, "+11"}, /* 2030-10-06 */
    };
    CHECK_OFFSETS(rule, rows);
    for (int64_t seconds = 2208988800; seconds < 2208988800 + 2 * 366 * 86400; seconds += 6 * 3600) {
        int from_file = 0, from_rule = 0;
        const char *file_abbreviation = NULL, *rule_abbreviation = NULL;
        time_zone_lookup(file, seconds, &from_file, &file_abbreviation);
        time_zone_lookup(rule, seconds, &from_rule, &rule_abbreviation);
        CHECK_EQUAL(from_rule, from_file);
        CHECK_STRING(rule_abbreviation, file_abbreviation);
    }
    time_zone_release(file);
    time_zone_release(rule);
}

TEST(test_time_zone_posix_refuses_malformed_rules_with_the_reason)
{
    const struct {
        const char *rule;
        const char *reason;
    } cases[] = {
        {"", "empty"},
        {"EST", "expected standard offset hours"},
        {"ES5", "at least three characters"},
        {"EST25", "more than 24"},
        {"EST5:60", "minutes is more than 59"},
        {"<+03", "no closing '>'"},
        {"<+0 3>-3", "only letters, digits"},
        {"EST5EDT,M13.1.0,M11.1.0", "a month (1-12) is more than 12"},
        {"EST5EDT,M3.6.0,M11.1.0", "a week (1-5) is more than 5"},
        {"EST5EDT,M3.2.7,M11.1.0", "a weekday (0-6) is more than 6"},
        {"EST5EDT,M3.0.0,M11.1.0", "a week (1-5) is less than 1"},
        {"EST5EDT,J0,J365", "a Julian day (1-365) is less than 1"},
        {"EST5EDT,366,J365", "a day of the year (0-365) is more than 365"},
        {"EST5EDT,M3.2.0", "expected ',' before the end date"},
        {"EST5EDT,M3.2.0/168,M11.1.0", "a transition hour is more than 167"},
        {"EST5EDT;M3.2.0,M11.1.0", "expected daylight offset hours"},
        {"EST5EDT4M3.2.0,M11.1.0", "expected ',' before the start date"},
        {"EST5EDT,X3,M11.1.0", "expected a date"},
        {"EST5 junk", "at least three characters"},
        {"EST5EDT,M3.2.0,M11.1.0x", "unexpected text at byte 22"},
        {":America/New_York", "names a file"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG5", "longer than 31"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct time_zone *zone = NULL;
        struct wippy_error error;
        CHECK_EQUAL(time_zone_from_posix("Test/Zone", cases[i].rule, &zone, &error), WIPPY_EINVAL);
        CHECK(zone == NULL);
        CHECK_CONTAINS(error.message, "time zone \"Test/Zone\": bad TZ rule \"");
        CHECK_CONTAINS(error.message, cases[i].reason);
    }
    struct time_zone *zone = NULL;
    struct wippy_error error;
    CHECK_EQUAL(time_zone_from_posix(NULL, "A\nB\x01", &zone, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "A\\x0aB\\x01"); /* hostile text stays on one line */
    CHECK_EQUAL(time_zone_from_posix(NULL, NULL, &zone, &error), WIPPY_EINVAL);
}

/* ---- zone file paths ---- */

TEST(test_time_zone_path_maps_names_under_the_zone_directory)
{
    char path[64];
    struct wippy_error error;
    unsetenv("ZONEINFO");
    CHECK(time_zone_path("America/New_York", 16, path, sizeof path, &error) == WIPPY_OK);
    CHECK_STRING(path, "/usr/share/zoneinfo/America/New_York");
    setenv("ZONEINFO", "", 1); /* empty counts as unset, as in Go */
    CHECK(time_zone_path("UTC", 3, path, sizeof path, &error) == WIPPY_OK);
    CHECK_STRING(path, "/usr/share/zoneinfo/UTC");
    setenv("ZONEINFO", "/opt/zones", 1);
    CHECK(time_zone_path("Etc/GMT+5", 9, path, sizeof path, &error) == WIPPY_OK);
    CHECK_STRING(path, "/opt/zones/Etc/GMT+5");
    /* Only name_length bytes of name are the name. */
    CHECK(time_zone_path("Europe/LondonXYZ", 13, path, sizeof path, &error) == WIPPY_OK);
    CHECK_STRING(path, "/opt/zones/Europe/London");
    char small[16];
    CHECK_EQUAL(time_zone_path("America/New_York", 16, small, sizeof small, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "does not fit in 16 bytes");
}

TEST(test_time_zone_path_refuses_names_that_could_escape_the_directory)
{
    unsetenv("ZONEINFO");
    char long_name[TIME_ZONE_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const struct {
        const char *name;
        size_t length;
        const char *reason;
    } cases[] = {
        {"", 0, "it is empty"},
        {"/etc/passwd", 11, "absolute path"},
        {"../../etc/passwd", 16, "\"..\" component"},
        {"America/../../etc/passwd", 24, "\"..\" component"},
        {"America/..", 10, "\"..\" component"},
        {"./UTC", 5, "\".\" or \"..\" component"},
        {"America//New_York", 17, "empty component"},
        {"America/", 8, "empty component"},
        {"..\\..\\etc", 9, "backslash"},
        {"America/New_York\0/../../etc", 27, "NUL byte"},
        {"America/New\nYork", 16, "control character"},
        {long_name, TIME_ZONE_NAME_MAX + 1, "longer than 255 bytes"},
    };
    char path[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct wippy_error error;
        CHECK_EQUAL(time_zone_path(cases[i].name, cases[i].length, path, sizeof path, &error), WIPPY_EINVAL);
        CHECK_CONTAINS(error.message, "invalid time zone name \"");
        CHECK_CONTAINS(error.message, cases[i].reason);
        CHECK(strchr(error.message, '\n') == NULL);
    }
    struct wippy_error error;
    CHECK_EQUAL(time_zone_path(NULL, 0, path, sizeof path, &error), WIPPY_EINVAL);
    /* Dots inside a component are names like any other. */
    CHECK(time_zone_path("a..b/.c", 7, path, sizeof path, &error) == WIPPY_OK);
    long_name[TIME_ZONE_NAME_MAX] = '\0';
    CHECK(time_zone_path(long_name, TIME_ZONE_NAME_MAX, path, sizeof path, &error) == WIPPY_OK);
}

/* ---- TZif data made here ---- */

struct tzif_type_spec {
    int32_t offset;
    uint8_t is_daylight;
    uint8_t abbreviation;
};

/* What tzif_build writes. The version 1 block of a version 2+ file holds the
 * same data in 32 bits, as zic's fat files do. */
struct tzif_spec {
    unsigned char version; /* 0, '2', '3' */
    size_t transitions;
    int64_t times[4];
    uint8_t time_types[4];
    size_t types;
    struct tzif_type_spec type[4];
    size_t abbreviation_bytes;
    const char *abbreviations;
    size_t leap_seconds;
    size_t indicators;
    const char *footer; /* the whole footer, newlines included */
};

struct tzif_bytes {
    unsigned char data[1024];
    size_t length;
    size_t second_header; /* where the version 2+ header starts */
};

static void put_bytes(struct tzif_bytes *out, const void *bytes, size_t length)
{
    memcpy(out->data + out->length, bytes, length);
    out->length += length;
}

static void put_big_endian(struct tzif_bytes *out, uint64_t value, size_t size)
{
    for (size_t i = 0; i < size; i++)
        out->data[out->length++] = (unsigned char)(value >> (8 * (size - 1 - i)));
}

static void put_block(struct tzif_bytes *out, const struct tzif_spec *spec, size_t time_size)
{
    put_bytes(out, "TZif", 4);
    out->data[out->length++] = spec->version;
    memset(out->data + out->length, 0, 15);
    out->length += 15;
    const size_t counts[] = {spec->indicators, spec->indicators, spec->leap_seconds, spec->transitions, spec->types,
                             spec->abbreviation_bytes};
    for (size_t i = 0; i < 6; i++)
        put_big_endian(out, counts[i], 4);
    for (size_t i = 0; i < spec->transitions; i++)
        put_big_endian(out, (uint64_t)spec->times[i], time_size);
    put_bytes(out, spec->time_types, spec->transitions);
    for (size_t i = 0; i < spec->types; i++) {
        put_big_endian(out, (uint32_t)spec->type[i].offset, 4);
        out->data[out->length++] = spec->type[i].is_daylight;
        out->data[out->length++] = spec->type[i].abbreviation;
    }
    put_bytes(out, spec->abbreviations, spec->abbreviation_bytes);
    for (size_t i = 0; i < spec->leap_seconds; i++) {
        put_big_endian(out, (uint64_t)(78796800 + 15552000 * (int64_t)i), time_size);
        put_big_endian(out, i + 1, 4);
    }
    memset(out->data + out->length, 0, 2 * spec->indicators);
    out->length += 2 * spec->indicators;
}

static void tzif_build(const struct tzif_spec *spec, struct tzif_bytes *out)
{
    out->length = 0;
    put_block(out, spec, 4);
    out->second_header = out->length;
    if (spec->version == 0)
        return;
    put_block(out, spec, 8);
    if (spec->footer != NULL)
        put_bytes(out, spec->footer, strlen(spec->footer));
}

/* Eastern time from 2001 (EDT at 2001-09-09, EST at 2002-01-02), then the US rule. */
static struct tzif_spec eastern_spec(void)
{
    return (struct tzif_spec){
        .version = '2',
        .transitions = 2,
        .times = {1000000000, 1010000000},
        .time_types = {1, 0},
        .types = 2,
        .type = {{-18000, 0, 0}, {-14400, 1, 4}},
        .abbreviation_bytes = 8,
        .abbreviations = "EST\0EDT",
        .footer = "\nEST5EDT,M3.2.0,M11.1.0\n",
    };
}

static int parse_spec(const struct tzif_spec *spec, struct time_zone **zone, struct wippy_error *error)
{
    struct tzif_bytes bytes;
    tzif_build(spec, &bytes);
    return time_zone_from_tzif("Test/Eastern", bytes.data, bytes.length, zone, error);
}

TEST(test_time_zone_tzif_reads_versions_1_2_and_3)
{
    struct tzif_spec spec = eastern_spec();
    struct time_zone *zone = NULL;
    struct wippy_error error;

    spec.version = 0; /* version 1: no footer, the last type forever */
    CHECK(parse_spec(&spec, &zone, &error) == WIPPY_OK);
    const struct expected_offset version_1[] = {
        {0, -18000, "EST"}, /* before the first transition (to EDT): the standard type before it */
        {1000000000, -14400, "EDT"},
        {1010000000, -18000, "EST"},
        {1625097600, -18000, "EST"}, /* 2021-07-01: no footer to say otherwise */
    };
    CHECK_OFFSETS(zone, version_1);
    CHECK_STRING(time_zone_name(zone), "Test/Eastern");
    time_zone_release(zone);

    spec.version = '2';
    spec.leap_seconds = 3; /* read past, ignored */
    spec.indicators = 2;
    CHECK(parse_spec(&spec, &zone, &error) == WIPPY_OK);
    const struct expected_offset version_2[] = {
        {999999999, -18000, "EST"}, {1000000000, -14400, "EDT"},
        {1625097600, -14400, "EDT"}, {1636264800, -18000, "EST"}, /* the footer from 2002 */
    };
    CHECK_OFFSETS(zone, version_2);
    time_zone_release(zone);

    spec.version = '3';
    spec.footer = "\n<-02>2<-01>,M3.5.0/-1,M10.5.0/0\n"; /* version 3's hours below 0 */
    CHECK(parse_spec(&spec, &zone, &error) == WIPPY_OK);
    const struct expected_offset version_3[] = {{1711846799, -7200, "-02"}, {1711846800, -3600, "-01"}};
    CHECK_OFFSETS(zone, version_3);
    time_zone_release(zone);

    spec.footer = "\n\n"; /* an empty footer: the last type from the last transition on */
    CHECK(parse_spec(&spec, &zone, &error) == WIPPY_OK);
    const struct expected_offset empty_footer[] = {{1625097600, -18000, "EST"}};
    CHECK_OFFSETS(zone, empty_footer);
    time_zone_release(zone);

    spec = eastern_spec();
    spec.transitions = 0; /* no transitions: the footer covers every instant */
    CHECK(parse_spec(&spec, &zone, &error) == WIPPY_OK);
    const struct expected_offset no_transitions[] = {{1615705200, -14400, "EDT"}, {1636264800, -18000, "EST"}};
    CHECK_OFFSETS(zone, no_transitions);
    time_zone_release(zone);
}

/* Before the first transition Go (after tzcode) takes type 0 when no
 * transition uses it, else the standard type nearest before the first
 * transition's daylight type, else the first standard type. */
TEST(test_time_zone_tzif_picks_go_type_before_the_first_transition)
{
    struct tzif_spec spec = eastern_spec();
    spec.version = 0;
    spec.types = 4;
    spec.type[0] = (struct tzif_type_spec){3600, 1, 0};
    spec.type[1] = (struct tzif_type_spec){7200, 0, 4};
    spec.type[2] = (struct tzif_type_spec){10800, 1, 8};
    spec.type[3] = (struct tzif_type_spec){14400, 0, 12};
    spec.abbreviation_bytes = 16;
    spec.abbreviations = "AAA\0BBB\0CCC\0DDD";
    struct time_zone *zone = NULL;
    struct wippy_error error;
    int offset = 0;
    const char *abbreviation = NULL;

    spec.time_types[0] = 3; /* type 0 unused: it is taken */
    spec.time_types[1] = 1;
    CHECK(parse_spec(&spec, &zone, &error) == WIPPY_OK);
    time_zone_lookup(zone, 0, &offset, &abbreviation);
    CHECK_STRING(abbreviation, "AAA");
    time_zone_release(zone);

    spec.time_types[0] = 2; /* first to daylight CCC: the standard BBB before it */
    spec.time_types[1] = 0;
    CHECK(parse_spec(&spec, &zone, &error) == WIPPY_OK);
    time_zone_lookup(zone, 0, &offset, &abbreviation);
    CHECK_STRING(abbreviation, "BBB");
    time_zone_release(zone);

    spec.time_types[0] = 3; /* first to standard DDD: the first standard type */
    spec.time_types[1] = 0;
    CHECK(parse_spec(&spec, &zone, &error) == WIPPY_OK);
    time_zone_lookup(zone, 0, &offset, &abbreviation);
    CHECK_STRING(abbreviation, "BBB");
    CHECK_EQUAL(offset, 7200);
    time_zone_release(zone);
}

TEST(test_time_zone_tzif_refuses_corrupt_data_with_the_reason)
{
    struct {
        struct tzif_spec spec;
        const char *reason;
    } cases[] = {
        {eastern_spec(), "transition 1 (at 1000000000) is not after the one before"},
        {eastern_spec(), "transition 1 names local time type 7 of 2"},
        {eastern_spec(), "local time type 1 has daylight flag 2"},
        {eastern_spec(), "local time type 1 starts its abbreviation at byte 8 of 8"},
        {eastern_spec(), "local time type 1 has an abbreviation without its NUL"},
        {eastern_spec(), "local time type 0 has the offset -2^31"},
        {eastern_spec(), "has no local time types"},
        {eastern_spec(), "TZif footer lacks its closing newline"},
        {eastern_spec(), "TZif footer does not start with a newline"},
        {eastern_spec(), "TZif footer \"EST5EDT,M13.1.0,M11.1.0\" is not a TZ rule: a month (1-12) is more than 12"},
        {eastern_spec(), "1 bytes follow the TZif footer"},
        {eastern_spec(), "TZif data ends in its footer"},
        {eastern_spec(), "2 UT/local indicators for 3 local time types"},
    };
    cases[0].spec.times[1] = 1000000000;
    cases[1].spec.time_types[1] = 7;
    cases[2].spec.type[1].is_daylight = 2;
    cases[3].spec.type[1].abbreviation = 8;
    cases[4].spec.abbreviations = "EST\0EDTX";
    cases[5].spec.type[0].offset = INT32_MIN;
    cases[6].spec.types = 0;
    cases[6].spec.transitions = 0;
    cases[7].spec.footer = "\nEST5EDT";
    cases[8].spec.footer = "EST5EDT\n";
    cases[9].spec.footer = "\nEST5EDT,M13.1.0,M11.1.0\n";
    cases[10].spec.footer = "\nEST5EDT\nX";
    cases[11].spec.footer = "";
    cases[12].spec.types = 3;
    cases[12].spec.type[2] = (struct tzif_type_spec){0, 0, 0};
    cases[12].spec.indicators = 2;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct time_zone *zone = NULL;
        struct wippy_error error;
        CHECK_EQUAL(parse_spec(&cases[i].spec, &zone, &error), WIPPY_EINVAL);
        CHECK(zone == NULL);
        CHECK_CONTAINS(error.message, "time zone \"Test/Eastern\": ");
        CHECK_CONTAINS(error.message, cases[i].reason);
    }
}

TEST(test_time_zone_tzif_refuses_bad_headers_and_sizes)
{
    struct tzif_spec spec = eastern_spec();
    struct tzif_bytes bytes;
    struct time_zone *zone = NULL;
    struct wippy_error error;

    tzif_build(&spec, &bytes);
    bytes.data[3] = 'g';
    CHECK_EQUAL(time_zone_from_tzif("X", bytes.data, bytes.length, &zone, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "time zone \"X\": not TZif data");

    tzif_build(&spec, &bytes);
    bytes.data[4] = '1';
    CHECK_EQUAL(time_zone_from_tzif("X", bytes.data, bytes.length, &zone, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "unknown TZif version byte 0x31");

    tzif_build(&spec, &bytes);
    bytes.data[bytes.second_header + 4] = '3';
    CHECK_EQUAL(time_zone_from_tzif("X", bytes.data, bytes.length, &zone, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "TZif headers disagree on the version (2, then 3)");

    /* A transition count of 2^32-1 in the header used: refused before any
     * size is computed from it. */
    tzif_build(&spec, &bytes);
    memset(bytes.data + bytes.second_header + 32, 0xff, 4);
    CHECK_EQUAL(time_zone_from_tzif("X", bytes.data, bytes.length, &zone, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "second header counts 4294967295 transitions, more than the 4096 allowed");

    tzif_build(&spec, &bytes);
    bytes.data[20 + 4 * 5 + 3] = 200; /* 200 abbreviation bytes in the first block: past the end */
    CHECK_EQUAL(time_zone_from_tzif("X", bytes.data, bytes.length, &zone, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "TZif data ends in its abbreviations");

    CHECK_EQUAL(time_zone_from_tzif("X", NULL, 0, &zone, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "TZif data ends in its header");
    CHECK_EQUAL(time_zone_from_tzif("X", (const unsigned char *)"TZif", 4, &zone, &error), WIPPY_EINVAL);

    unsigned char *huge = calloc(TIME_ZONE_TZIF_MAX_BYTES + 1, 1);
    tzif_build(&spec, &bytes);
    memcpy(huge, bytes.data, bytes.length);
    CHECK_EQUAL(time_zone_from_tzif("X", huge, TIME_ZONE_TZIF_MAX_BYTES + 1, &zone, &error), WIPPY_EINVAL);
    free(huge);
    CHECK_CONTAINS(error.message, "is larger than the 131072 allowed");
    CHECK(zone == NULL);

    /* Hostile names stay one line in messages. */
    tzif_build(&spec, &bytes);
    bytes.data[0] = 'X';
    CHECK_EQUAL(time_zone_from_tzif("bad\nname", bytes.data, bytes.length, &zone, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "time zone \"bad\\x0aname\"");
}

/* Every proper prefix of a real file is refused, each from a buffer of
 * exactly its length so that AddressSanitizer catches a read past it. */
TEST(test_time_zone_tzif_refuses_every_truncation_of_a_real_file)
{
    size_t length = 0;
    unsigned char *data = read_zone_file("America/New_York", &length);
    if (data == NULL)
        SKIP(ZONEINFO "America/New_York is absent (install tzdata)");
    for (size_t cut = 0; cut < length; cut++) {
        unsigned char *prefix = malloc(cut ? cut : 1);
        memcpy(prefix, data, cut);
        struct time_zone *zone = NULL;
        struct wippy_error error;
        int status = time_zone_from_tzif("America/New_York", prefix, cut, &zone, &error);
        free(prefix);
        if (status != WIPPY_EINVAL || zone != NULL) {
            snprintf(test_failure, sizeof test_failure, "a prefix of %zu of %zu bytes was accepted", cut, length);
            free(data);
            return;
        }
    }
    struct time_zone *zone = NULL;
    CHECK(time_zone_from_tzif("America/New_York", data, length, &zone, NULL) == WIPPY_OK);
    free(data);
    time_zone_release(zone);
}

/* Each single-bit change of a real file is either refused or parsed into a
 * zone whose lookups stay within the data (AddressSanitizer watches). */
TEST(test_time_zone_tzif_survives_every_single_bit_flip)
{
    size_t length = 0;
    unsigned char *data = read_zone_file("Australia/Lord_Howe", &length);
    if (data == NULL)
        SKIP(ZONEINFO "Australia/Lord_Howe is absent (install tzdata)");
    size_t refused = 0, accepted = 0;
    for (size_t bit = 0; bit < length * 8; bit++) {
        data[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        struct time_zone *zone = NULL;
        struct wippy_error error;
        if (time_zone_from_tzif("Australia/Lord_Howe", data, length, &zone, &error) == WIPPY_OK) {
            const int64_t instants[] = {INT64_MIN, -3000000000, 0, 1617462000, 2208988800, INT64_MAX};
            for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
                const char *abbreviation = NULL;
                time_zone_lookup(zone, instants[i], NULL, &abbreviation);
                CHECK(abbreviation != NULL && strlen(abbreviation) < 64);
                time_zone_unix_from_local(zone, instants[i]);
            }
            time_zone_release(zone);
            accepted++;
        } else {
            CHECK(zone == NULL);
            refused++;
        }
        data[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    free(data);
    /* Both kinds must occur, or the test proves nothing. */
    CHECK(refused > 0);
    CHECK(accepted > 0);
}
