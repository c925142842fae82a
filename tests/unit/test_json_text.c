/* test_json_text.c - JSON written as Go's encoding/json writes it. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/json_text.h"

static const char *shortest(double number)
{
    static char buffer[400];
    json_text_shortest_double(number, buffer, sizeof buffer);
    return buffer;
}

TEST(test_json_text_writes_numbers_as_go_does)
{
    CHECK_STRING(shortest(3.14), "3.14");
    CHECK_STRING(shortest(0.1), "0.1");
    CHECK_STRING(shortest(1e-7), "0.0000001");
    CHECK_STRING(shortest(123456.789), "123456.789");
    CHECK_STRING(shortest(-2.5), "-2.5");
    CHECK_STRING(shortest(1.0 / 3), "0.3333333333333333");
    CHECK_STRING(shortest(1.5e22), "15000000000000000000000");
    CHECK_STRING(shortest(0.000123), "0.000123");
    CHECK_EQUAL(strlen(shortest(5e-324)), 2 + 323 + 1);
    CHECK_EQUAL(strlen(shortest(-1.7976931348623157e308)), 1 + 309);
}

TEST(test_json_text_shortest_reads_back_the_same_double)
{
    uint64_t state = 88172645463325252ULL;
    char buffer[400];
    for (int i = 0; i < 200000; i++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        double number;
        memcpy(&number, &state, sizeof number);
        if (!isfinite(number))
            continue;
        json_text_shortest_double(number, buffer, sizeof buffer);
        CHECK(strtod(buffer, NULL) == number);
        CHECK(strpbrk(buffer, "eE") == NULL);
    }
}

TEST(test_json_text_writes_strings_and_numbers_as_go_does)
{
    struct json_text text = {0};
    const char string[] = "<x>&\n\"\\\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\x01\x1f\x7f\0z";
    json_text_add_string(&text, string, sizeof string - 1);
    json_text_add(&text, " ", 1);
    json_text_add_integer(&text, -9223372036854775807LL - 1);
    json_text_add(&text, " ", 1);
    json_text_add_integer(&text, 0);
    json_text_add(&text, " ", 1);
    json_text_add_double(&text, 3.0);
    json_text_add(&text, " ", 1);
    json_text_add_double(&text, -2.5);
    json_text_add(&text, " ", 1);
    json_text_add_double(&text, 1e19);
    CHECK(!text.failed);
    CHECK_STRING(text.bytes, "\"\\u003cx\\u003e\\u0026\\n\\\"\\\\\\u2028\\u2029\xe2\x80\\u0001\\u001f\x7f\\u0000z\" "
                             "-9223372036854775808 0 3 -2.5 10000000000000000000");
    CHECK_EQUAL(text.length, strlen(text.bytes));
    free(text.bytes);
}

TEST(test_json_text_accepts_only_well_formed_utf8)
{
    static const struct {
        const char *bytes;
        bool valid;
    } cases[] = {
        {"plain", true},
        {"\xc3\xa9", true},                /* é */
        {"\xe2\x82\xac", true},            /* € */
        {"\xf0\x9f\x98\x80", true},        /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", true},        /* U+10FFFF */
        {"\xed\x9f\xbf", true},            /* U+D7FF */
        {"\xee\x80\x80", true},            /* U+E000 */
        {"\xc0\xaf", false},               /* overlong / */
        {"\xc1\xbf", false},               /* overlong */
        {"\xe0\x9f\xbf", false},           /* overlong three bytes */
        {"\xf0\x8f\xbf\xbf", false},       /* overlong four bytes */
        {"\xed\xa0\x80", false},           /* U+D800, a surrogate */
        {"\xed\xbf\xbf", false},           /* U+DFFF */
        {"\xf4\x90\x80\x80", false},       /* past U+10FFFF */
        {"\xf5\x80\x80\x80", false},
        {"\xff", false},
        {"\x80", false},                   /* a lone continuation */
        {"\xc3", false},                   /* cut short */
        {"\xe2\x82", false},
        {"\xe2\x28\xa1", false},           /* a bad continuation */
        {"a\xc3\xa9\xf0\x9f\x98", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(json_text_is_utf8(cases[i].bytes, strlen(cases[i].bytes)) == cases[i].valid);
    CHECK(json_text_is_utf8("a\0b", 3));
}
