/* test_util.c - durations, globs, value trees and YAML loading. */
#include <math.h>
#include <stdint.h>

#include <stdlib.h>

#include "test.h"
#include "util/duration.h"
#include "util/glob.h"
#include "util/value.h"
#include "util/yaml_load.h"

TEST(test_duration_parses_go_syntax_and_seconds)
{
    int64_t ns = 0;
    CHECK(duration_parse("500ms", &ns, NULL) == 0 && ns == 500000000);
    CHECK(duration_parse("15s", &ns, NULL) == 0 && ns == INT64_C(15000000000));
    CHECK(duration_parse("1m30s", &ns, NULL) == 0 && ns == INT64_C(90000000000));
    CHECK(duration_parse("2h45m", &ns, NULL) == 0 && ns == INT64_C(9900000000000));
    CHECK(duration_parse("1.5s", &ns, NULL) == 0 && ns == 1500000000);
    CHECK(duration_parse("10us", &ns, NULL) == 0 && ns == 10000);
    CHECK(duration_parse("3", &ns, NULL) == 0 && ns == INT64_C(3000000000));
    CHECK(duration_parse("-2s", &ns, NULL) == 0 && ns == INT64_C(-2000000000));
}

TEST(test_duration_rejects_garbage_with_the_text)
{
    int64_t ns = 0;
    struct wippy_error error;
    CHECK(duration_parse("10 parsecs", &ns, &error) == WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "10 parsecs");
    CHECK(duration_parse("", &ns, &error) == WIPPY_EINVAL);
    CHECK(duration_parse("5x", &ns, &error) == WIPPY_EINVAL);
    CHECK(duration_parse("s", &ns, &error) == WIPPY_EINVAL);
    CHECK_EQUAL(duration_from_seconds(INFINITY, &ns, &error), WIPPY_EINVAL);
}

TEST(test_glob_matches_stars_anywhere)
{
    CHECK(glob_match("*", "anything"));
    CHECK(glob_match("*", ""));
    CHECK(glob_match("network.*", "network.select"));
    CHECK(!glob_match("network.*", "process.spawn"));
    CHECK(glob_match("*.read", "document.read"));
    CHECK(glob_match("app:*or", "app:tor"));
    CHECK(!glob_match("app:tor", "app:torx"));
    CHECK(glob_match("a*b*c", "aXXbYYc"));
    CHECK(!glob_match("a*b*c", "aXXbYY"));
}

TEST(test_yaml_resolves_plain_scalars_like_yaml_1_2)
{
    struct value *document = NULL;
    const char text[] = "a: true\nb: \"true\"\nc: 42\nd: 1.5\ne: ~\nf: hello\ng: 0x10\n";
    CHECK(yaml_load_text("t.yaml", text, sizeof text - 1, &document, NULL) == 0);
    CHECK(value_map_get(document, "a")->type == VALUE_BOOLEAN);
    CHECK(value_map_get(document, "b")->type == VALUE_STRING);
    CHECK(value_map_get(document, "c")->type == VALUE_INTEGER &&
          value_map_get(document, "c")->as.integer == 42);
    CHECK(value_map_get(document, "d")->type == VALUE_NUMBER);
    CHECK(value_map_get(document, "e")->type == VALUE_NULL);
    CHECK(value_map_get(document, "f")->type == VALUE_STRING);
    CHECK(value_map_get(document, "g")->as.integer == 16);
    CHECK(value_map_get(document, "c")->line == 3);
    value_free(document);
}

TEST(test_yaml_reports_syntax_errors_and_duplicate_keys_with_lines)
{
    struct value *document = NULL;
    struct wippy_error error;
    const char bad[] = "a: [1, 2\nb: 3\n";
    CHECK(yaml_load_text("bad.yaml", bad, sizeof bad - 1, &document, &error) == WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "bad.yaml:");
    const char duplicate[] = "a: 1\nb: 2\na: 3\n";
    CHECK(yaml_load_text("dup.yaml", duplicate, sizeof duplicate - 1, &document, &error) ==
          WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "dup.yaml:3: duplicate key \"a\"");
}

/* Nine levels of ten aliases each: 10^9 values if expanded. */
TEST(test_yaml_aliases_cannot_expand_without_bound)
{
    char bomb[2048] = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int level = 1; level <= 9; level++) {
        char line[200];
        snprintf(line, sizeof line, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
                 level, level, level - 1, level - 1, level - 1, level - 1, level - 1, level - 1, level - 1,
                 level - 1, level - 1, level - 1);
        strcat(bomb, line);
    }
    struct value *document = NULL;
    struct wippy_error error;
    CHECK(yaml_load_text("bomb.yaml", bomb, strlen(bomb), &document, &error) == WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "bomb.yaml:");
    CHECK_CONTAINS(error.message, "aliases");
    const char few[] = "base: &base {x: 1}\none: *base\ntwo: *base\n";
    CHECK(yaml_load_text("few.yaml", few, sizeof few - 1, &document, &error) == WIPPY_OK);
    CHECK_EQUAL(value_map_get_path(document, "two.x")->as.integer, 1);
    value_free(document);
}

/* A 100 KB value repeated by 1,000 aliases is 100 MB of text: refused. */
TEST(test_yaml_aliases_of_long_values_are_bounded_in_bytes)
{
    size_t value_length = 100000, uses = 1000;
    char *text = malloc(value_length + uses * 8 + 64);
    size_t length = (size_t)sprintf(text, "big: &b ");
    memset(text + length, 'x', value_length);
    length += value_length;
    length += (size_t)sprintf(text + length, "\nuses: [");
    for (size_t i = 0; i < uses; i++)
        length += (size_t)sprintf(text + length, "*b, ");
    length += (size_t)sprintf(text + length, "*b]\n");
    struct value *document = NULL;
    struct wippy_error error;
    int rc = yaml_load_text("long.yaml", text, length, &document, &error);
    free(text);
    CHECK(rc == WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "MiB of text");
}

/* 200,000 keys, the last one a duplicate: found, in linear time (the unit
 * runner's 10 s timeout would catch the quadratic search it replaced). */
TEST(test_yaml_finds_a_duplicate_key_among_many_quickly)
{
    size_t count = 200000;
    char *text = malloc(count * 16 + 32);
    size_t length = 0;
    for (size_t i = 0; i < count; i++)
        length += (size_t)sprintf(text + length, "k%zu: %zu\n", i, i);
    length += (size_t)sprintf(text + length, "k7: 1\n");
    struct value *document = NULL;
    struct wippy_error error;
    int rc = yaml_load_text("many.yaml", text, length, &document, &error);
    free(text);
    CHECK(rc == WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "many.yaml:200001: duplicate key \"k7\"");
}

TEST(test_value_merge_overlays_maps_per_key)
{
    struct value *base = NULL, *overlay = NULL;
    const char a[] = "s:\n  x: 1\n  y: 2\nt: 1\n";
    const char b[] = "s:\n  y: 3\n  z: 4\n";
    CHECK(yaml_load_text("a", a, sizeof a - 1, &base, NULL) == 0);
    CHECK(yaml_load_text("b", b, sizeof b - 1, &overlay, NULL) == 0);
    value_merge(base, overlay);
    CHECK(value_map_get_path(base, "s.x")->as.integer == 1);
    CHECK(value_map_get_path(base, "s.y")->as.integer == 3);
    CHECK(value_map_get_path(base, "s.z")->as.integer == 4);
    CHECK(value_map_get_path(base, "t")->as.integer == 1);
    value_free(base);
    value_free(overlay);
}
