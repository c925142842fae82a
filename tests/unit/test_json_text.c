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

TEST(test_json_text_writes_values_as_go_does)
{
    json_t *value = json_pack("{s:[i,f,b,n], s:s, s:f, s:{}}", "b", 1, 2.5, 1, "a", "<x>&\n\"\xe2\x80\xa8\x01", "c",
                              3.0, "d");
    size_t length = 0;
    char *text = json_text_write(value, &length);
    CHECK_STRING(text, "{\"a\":\"\\u003cx\\u003e\\u0026\\n\\\"\\u2028\\u0001\",\"b\":[1,2.5,true,null],\"c\":3,\"d\":{}}");
    CHECK_EQUAL(length, strlen(text));
    free(text);
    json_decref(value);
}
