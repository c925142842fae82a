/* test.h - a minimal test harness: each test is a function registered in
 * main.c and run in its own process with a timeout; assertions record the
 * first failure (with both values where there are two) and return from the
 * test. */
#ifndef WIPPY_TEST_H
#define WIPPY_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern char test_failure[4096];

#define TEST(name) void name(void)

#define CHECK(condition)                                                                   \
    do {                                                                                   \
        if (!(condition)) {                                                                \
            snprintf(test_failure, sizeof test_failure, "%s:%d: CHECK(%s)", __FILE__,      \
                     __LINE__, #condition);                                                \
            return;                                                                        \
        }                                                                                  \
    } while (0)

#define CHECK_EQUAL(actual, expected)                                                      \
    do {                                                                                   \
        long long actual_ = (long long)(actual);                                           \
        long long expected_ = (long long)(expected);                                       \
        if (actual_ != expected_) {                                                        \
            snprintf(test_failure, sizeof test_failure, "%s:%d: %s is %lld, want %lld",    \
                     __FILE__, __LINE__, #actual, actual_, expected_);                     \
            return;                                                                        \
        }                                                                                  \
    } while (0)

#define CHECK_STRING(actual, expected)                                                     \
    do {                                                                                   \
        const char *actual_ = (actual);                                                    \
        const char *expected_ = (expected);                                                \
        if (actual_ == NULL || strcmp(actual_, expected_) != 0) {                          \
            snprintf(test_failure, sizeof test_failure, "%s:%d: got \"%.1500s\", want \"%.1500s\"",  \
                     __FILE__, __LINE__, actual_ ? actual_ : "(null)", expected_);         \
            return;                                                                        \
        }                                                                                  \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                   \
    do {                                                                                   \
        const char *haystack_ = (haystack);                                                \
        if (haystack_ == NULL || strstr(haystack_, (needle)) == NULL) {                    \
            snprintf(test_failure, sizeof test_failure, "%s:%d: \"%.1500s\" lacks \"%.1500s\"",      \
                     __FILE__, __LINE__, haystack_ ? haystack_ : "(null)", (needle));      \
            return;                                                                        \
        }                                                                                  \
    } while (0)

/* Ends the test as skipped, with the reason (the runner says so; a skip is
 * only for what this machine cannot offer, never for a failure). */
#define SKIP(reason)                                                                       \
    do {                                                                                   \
        snprintf(test_failure, sizeof test_failure, "%s%s", TEST_SKIPPED, (reason));        \
        return;                                                                            \
    } while (0)

#define TEST_SKIPPED "skipped: "

#endif
