/* test_util.c - durations, globs, value trees and YAML loading. */
#include <math.h>
#include <stdint.h>

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
