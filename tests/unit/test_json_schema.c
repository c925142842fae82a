/* test_json_schema.c - JSON Schema without Lua: pointers, numbers by value,
 * equality, bounded regular expressions, then schemas compiled and
 * instances validated, hostile ones included. */
#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "test.h"
#include "util/json_compare.h"
#include "util/json_number.h"
#include "util/json_pointer.h"
#include "util/json_regex.h"
#include "util/json_schema.h"
#include "util/memory.h"

/* The time bounds below are a plain build's; sanitizers slow everything. */
#if defined(__SANITIZE_THREAD__)
#define SLOWDOWN 5
#elif defined(__SANITIZE_ADDRESS__)
#define SLOWDOWN 3
#else
#define SLOWDOWN 1
#endif

enum verdict { VALID, INVALID, STOPPED, REFUSED, BAD_TEST };

/* Compiles schema_text (with flags) and validates instance_text; the
 * message of a failure is left in error. */
static enum verdict judge_with(const char *schema_text, const char *instance_text, unsigned flags,
                               struct wippy_error *error)
{
    json_t *document = json_loads(schema_text, JSON_DECODE_ANY, NULL);
    json_t *instance = json_loads(instance_text, JSON_DECODE_ANY, NULL);
    enum verdict verdict = BAD_TEST;
    struct json_schema *schema = NULL;
    error_clear(error);
    if (document != NULL && instance != NULL) {
        if (json_schema_compile(document, flags, &schema, error) != 0) {
            verdict = REFUSED;
        } else {
            int rc = json_schema_validate(schema, instance, error);
            verdict = rc == 0 ? VALID : rc == WIPPY_EINVAL ? INVALID : rc == WIPPY_ETIMEDOUT ? STOPPED : BAD_TEST;
            json_schema_free(schema);
        }
    }
    json_decref(document);
    json_decref(instance);
    return verdict;
}

static enum verdict judge(const char *schema_text, const char *instance_text, struct wippy_error *error)
{
    return judge_with(schema_text, instance_text, 0, error);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* A JSON text of count copies of item joined by commas between head and tail. */
static char *repeated(const char *head, const char *item, size_t count, const char *tail)
{
    size_t size = strlen(head) + count * (strlen(item) + 1) + strlen(tail) + 1;
    char *text = xmalloc(size);
    strcpy(text, head);
    char *end = text + strlen(text);
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            *end++ = ',';
        strcpy(end, item);
        end += strlen(item);
    }
    strcpy(end, tail);
    return text;
}

/* open repeated count times, then middle, then close count times. */
static char *nested(const char *open, const char *middle, const char *close, size_t count)
{
    char *text = xmalloc(count * (strlen(open) + strlen(close)) + strlen(middle) + 1);
    char *end = text;
    for (size_t i = 0; i < count; i++, end += strlen(open))
        strcpy(end, open);
    strcpy(end, middle);
    end += strlen(middle);
    for (size_t i = 0; i < count; i++, end += strlen(close))
        strcpy(end, close);
    return text;
}

TEST(test_json_pointer_writes_and_resolves_escaped_names)
{
    struct json_pointer_path *path = xcalloc(1, sizeof *path);
    json_pointer_push_key(path, "a/b", 3);
    json_pointer_push_index(path, 0);
    json_pointer_push_key(path, "m~n", 3);
    char text[64];
    json_pointer_format(path, text, sizeof text);
    free(path);
    CHECK_STRING(text, "/a~1b/0/m~0n");

    json_t *document = json_loads("{\"$defs\": {\"a b\": 1, \"c/d\": [true, {\"%\": 2}]}}", 0, NULL);
    const json_t *target = NULL;
    struct wippy_error error;
    CHECK(json_pointer_resolve_fragment(document, "/$defs/a%20b", &target, &error) == 0 && json_integer_value(target) == 1);
    CHECK(json_pointer_resolve_fragment(document, "/$defs/c~1d/1/%25", &target, &error) == 0 &&
          json_integer_value(target) == 2);
    CHECK(json_pointer_resolve_fragment(document, "", &target, &error) == 0 && target == document);
    CHECK_EQUAL(json_pointer_resolve_fragment(document, "/$defs/c~1d/01", &target, &error), WIPPY_ENOENT);
    CHECK_EQUAL(json_pointer_resolve_fragment(document, "/$defs/x~2", &target, &error), WIPPY_EINVAL);
    CHECK_EQUAL(json_pointer_resolve_fragment(document, "$defs", &target, &error), WIPPY_EINVAL);
    json_decref(document);
    json_pointer_quote("a\"b\n\x01", 5, text, sizeof text);
    CHECK_STRING(text, "\"a\\\"b\\n\\u0001\"");
}

static bool multiple(json_t *value, json_t *divisor)
{
    bool result = json_number_is_multiple(value, divisor);
    json_decref(value);
    json_decref(divisor);
    return result;
}

TEST(test_json_numbers_compare_and_divide_by_their_decimal_value)
{
    json_t *one = json_integer(1), *one_real = json_real(1.0), *big = json_integer((json_int_t)9007199254740993);
    json_t *big_real = json_real(9007199254740992.0);
    CHECK_EQUAL(json_number_compare(one, one_real), 0);
    CHECK(json_number_compare(big, big_real) > 0); /* 2^53 + 1 is not rounded to 2^53 */
    CHECK(json_number_is_integral(one_real));
    json_decref(one);
    json_decref(one_real);
    json_decref(big);
    json_decref(big_real);

    CHECK(multiple(json_real(0.3), json_real(0.1))); /* 2.9999999999999996 in binary */
    CHECK(multiple(json_real(0.0075), json_real(0.0001)));
    CHECK(!multiple(json_real(0.00751), json_real(0.0001)));
    CHECK(!multiple(json_real(1e308), json_real(0.123456789)));
    CHECK(multiple(json_integer(12391239123), json_real(1e-8)));
    CHECK(multiple(json_real(4.5), json_real(1.5)));
    CHECK(!multiple(json_integer(7), json_integer(2)));
    CHECK(multiple(json_integer(-4), json_integer(2)));
    CHECK(multiple(json_integer(10), json_real(2.5)));
    CHECK(!multiple(json_real(0.01), json_integer(3)));

    char text[40];
    json_t *tenth = json_real(0.1), *huge = json_real(1e300);
    json_number_format(tenth, text, sizeof text);
    CHECK_STRING(text, "0.1");
    json_number_format(huge, text, sizeof text);
    CHECK_STRING(text, "1e+300");
    json_decref(tenth);
    json_decref(huge);
}

TEST(test_json_equality_ignores_member_order_and_number_form)
{
    json_t *a = json_loads("{\"a\": 1, \"b\": [1.0, {\"c\": null}]}", 0, NULL);
    json_t *b = json_loads("{\"b\": [1, {\"c\": null}], \"a\": 1.0}", 0, NULL);
    json_t *c = json_loads("{\"b\": [{\"c\": null}, 1], \"a\": 1.0}", 0, NULL);
    json_t *yes = json_true(), *one = json_integer(1);
    size_t steps = 1000;
    CHECK(json_compare_equal(a, b, &steps));
    CHECK(json_compare_hash(a, &steps) == json_compare_hash(b, &steps));
    CHECK(!json_compare_equal(a, c, &steps));
    CHECK(!json_compare_equal(yes, one, &steps));
    size_t few = 2;
    CHECK(!json_compare_equal(a, b, &few) && few == 0); /* out of steps is no answer */
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(one);
}

/* 1 found, 0 not, or the negative code of a failure. */
static int search(const char *pattern, const char *subject, size_t *steps)
{
    struct json_regex *regex = NULL;
    struct wippy_error error;
    int rc = json_regex_compile(pattern, strlen(pattern), &regex, &error);
    if (rc != 0)
        return rc;
    rc = json_regex_search(regex, subject, strlen(subject), steps, &error);
    json_regex_free(regex);
    return rc;
}

TEST(test_json_regex_searches_anywhere_with_ecma_anchors_and_escapes)
{
    size_t steps = 1000000;
    CHECK_EQUAL(search("b", "abc", &steps), 1);
    CHECK_EQUAL(search("^b", "abc", &steps), 0);
    CHECK_EQUAL(search("c$", "abc\n", &steps), 0); /* "$" is the very end, as in ECMA-262 */
    CHECK_EQUAL(search("^\\u0041\\u{1F600}$", "A\xF0\x9F\x98\x80", &steps), 1);
    CHECK_EQUAL(search("^.$", "\xC3\xA9", &steps), 1); /* one code point */
    CHECK_EQUAL(search("(", "", &steps), WIPPY_EINVAL);
    CHECK_EQUAL(search("a)(b", "a)(b", &steps), WIPPY_EINVAL); /* no way out of the wrapper */
    char *long_pattern = xmalloc(JSON_REGEX_MAX_LENGTH + 2);
    memset(long_pattern, 'a', JSON_REGEX_MAX_LENGTH + 1);
    long_pattern[JSON_REGEX_MAX_LENGTH + 1] = '\0';
    int rc = search(long_pattern, "a", &steps);
    free(long_pattern);
    CHECK_EQUAL(rc, WIPPY_EINVAL);
}

TEST(test_json_regex_gives_up_on_catastrophic_backtracking_at_once)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t steps = 50000000;
    CHECK_EQUAL(search("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", &steps), WIPPY_ETIMEDOUT);
    CHECK(steps > 40000000); /* one search may not take the whole budget */
    CHECK(seconds_since(&start) < 0.5 * SLOWDOWN);
    size_t few = 100;
    char subject[1001];
    memset(subject, 'a', 1000);
    subject[1000] = '\0';
    CHECK_EQUAL(search("[^a]", subject, &few), WIPPY_ETIMEDOUT); /* the budget runs out first */
    CHECK_EQUAL(few, 0);
}

TEST(test_json_schema_says_where_which_keyword_and_why)
{
    struct wippy_error error;
    const char *person = "{\"type\": \"object\", \"required\": [\"name\"], \"properties\": {"
                         "\"name\": {\"type\": \"string\"}, \"age\": {\"minimum\": 0},"
                         "\"tags\": {\"items\": {\"type\": \"string\"}}, \"a/b\": {\"const\": 1}},"
                         "\"additionalProperties\": false}";
    CHECK(judge(person, "{\"name\": \"x\", \"age\": 3, \"tags\": [\"t\"]}", &error) == VALID);
    CHECK(judge(person, "{\"name\": \"x\", \"age\": -1}", &error) == INVALID);
    CHECK_STRING(error.message, "/age: minimum: must be >= 0");
    CHECK(judge(person, "{\"age\": 1}", &error) == INVALID);
    CHECK_STRING(error.message, "(root): required: property \"name\" is missing");
    CHECK(judge(person, "{\"name\": \"x\", \"tags\": [\"t\", 2]}", &error) == INVALID);
    CHECK_STRING(error.message, "/tags/1: type: must be string, not integer");
    CHECK(judge(person, "{\"name\": \"x\", \"a/b\": 2}", &error) == INVALID);
    CHECK_STRING(error.message, "/a~1b: const: must be 1");
    CHECK(judge(person, "{\"name\": \"x\", \"extra\": 2}", &error) == INVALID);
    CHECK_STRING(error.message, "(root): additionalProperties: property \"extra\" is not allowed");
    CHECK(judge("{\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]}", "3", &error) == INVALID);
    CHECK_STRING(error.message, "(root): oneOf: matches schemas 0 and 1; exactly one must match");
    CHECK(judge("{\"type\": [\"string\", \"null\"]}", "1.5", &error) == INVALID);
    CHECK_STRING(error.message, "(root): type: must be null or string, not number");
}

struct keyword_case {
    const char *schema, *instance;
    enum verdict verdict;
};

static const struct keyword_case keyword_cases[] = {
    {"{\"type\": \"integer\"}", "1.0", VALID},
    {"{\"type\": \"integer\"}", "1.5", INVALID},
    {"{\"type\": \"number\"}", "true", INVALID},
    {"{\"enum\": [1, \"a\", {\"b\": [null]}]}", "{\"b\": [null]}", VALID},
    {"{\"enum\": [1, \"a\"]}", "true", INVALID},
    {"{\"const\": 2}", "2.0", VALID},
    {"{\"const\": false}", "0", INVALID},
    {"{\"multipleOf\": 0.01}", "19.99", VALID},
    {"{\"multipleOf\": 2}", "7", INVALID},
    {"{\"maximum\": 3, \"exclusiveMinimum\": 1}", "3", VALID},
    {"{\"exclusiveMaximum\": 3}", "3", INVALID},
    {"{\"minimum\": 1.5}", "1", INVALID},
    {"{\"maxLength\": 2}", "\"\xC3\xA9\xC3\xA9\"", VALID}, /* code points, not bytes */
    {"{\"minLength\": 3}", "\"ab\"", INVALID},
    {"{\"pattern\": \"^[a-z]+$\"}", "\"abc\"", VALID},
    {"{\"pattern\": \"^[a-z]+$\"}", "\"ab1\"", INVALID},
    {"{\"pattern\": \"^[a-z]+$\"}", "12", VALID}, /* only strings */
    {"{\"maxItems\": 1}", "[1, 2]", INVALID},
    {"{\"minItems\": 1}", "[]", INVALID},
    {"{\"uniqueItems\": true}", "[1, [1], {\"a\": 1}, \"1\"]", VALID},
    {"{\"uniqueItems\": true}", "[{\"a\": 1, \"b\": 2}, {\"b\": 2, \"a\": 1.0}]", INVALID},
    {"{\"prefixItems\": [{\"type\": \"string\"}], \"items\": {\"type\": \"integer\"}}", "[\"a\", 1, 2]", VALID},
    {"{\"prefixItems\": [{\"type\": \"string\"}], \"items\": false}", "[\"a\", 1]", INVALID},
    {"{\"contains\": {\"type\": \"string\"}}", "[1, \"a\"]", VALID},
    {"{\"contains\": {\"type\": \"string\"}}", "[1, 2]", INVALID},
    {"{\"contains\": {\"type\": \"string\"}, \"minContains\": 0}", "[]", VALID},
    {"{\"contains\": {\"type\": \"string\"}, \"minContains\": 2, \"maxContains\": 2}", "[\"a\", \"b\", \"c\"]",
     INVALID},
    {"{\"maxProperties\": 1}", "{\"a\": 1, \"b\": 2}", INVALID},
    {"{\"minProperties\": 1}", "{}", INVALID},
    {"{\"required\": [\"a\"]}", "[]", VALID},
    {"{\"dependentRequired\": {\"a\": [\"b\"]}}", "{\"a\": 1}", INVALID},
    {"{\"dependentRequired\": {\"a\": [\"b\"]}}", "{\"b\": 1}", VALID},
    {"{\"patternProperties\": {\"^x\": {\"type\": \"integer\"}}, \"additionalProperties\": {\"type\": \"string\"}}",
     "{\"x1\": 1, \"y\": \"s\"}", VALID},
    {"{\"patternProperties\": {\"^x\": {\"type\": \"integer\"}}, \"additionalProperties\": {\"type\": \"string\"}}",
     "{\"x1\": \"s\"}", INVALID},
    {"{\"propertyNames\": {\"maxLength\": 2}}", "{\"abc\": 1}", INVALID},
    {"{\"propertyNames\": false}", "{}", VALID},
    {"{\"dependentSchemas\": {\"a\": {\"required\": [\"b\"]}}}", "{\"a\": 1}", INVALID},
    {"{\"allOf\": [{\"minimum\": 1}, {\"maximum\": 2}]}", "3", INVALID},
    {"{\"anyOf\": [{\"type\": \"string\"}, {\"minimum\": 2}]}", "3", VALID},
    {"{\"anyOf\": [{\"type\": \"string\"}, {\"minimum\": 2}]}", "1", INVALID},
    {"{\"oneOf\": [{\"type\": \"string\"}, {\"minimum\": 2}]}", "3", VALID},
    {"{\"not\": {\"type\": \"null\"}}", "null", INVALID},
    {"{\"if\": {\"minimum\": 10}, \"then\": {\"multipleOf\": 10}, \"else\": {\"maximum\": 5}}", "20", VALID},
    {"{\"if\": {\"minimum\": 10}, \"then\": {\"multipleOf\": 10}, \"else\": {\"maximum\": 5}}", "15", INVALID},
    {"{\"if\": {\"minimum\": 10}, \"then\": {\"multipleOf\": 10}, \"else\": {\"maximum\": 5}}", "7", INVALID},
    {"{\"then\": false}", "1", VALID},
    {"true", "{\"anything\": []}", VALID},
    {"false", "null", INVALID},
    {"{\"format\": \"email\", \"title\": \"t\", \"x-vendor\": {\"type\": \"string\"}}", "12", VALID},
    {"{\"unevaluatedProperties\": true}", "{\"a\": 1}", VALID},
};

TEST(test_json_schema_keywords_decide_as_draft_2020_12)
{
    for (size_t i = 0; i < sizeof keyword_cases / sizeof *keyword_cases; i++) {
        struct wippy_error error;
        enum verdict verdict = judge(keyword_cases[i].schema, keyword_cases[i].instance, &error);
        if (verdict != keyword_cases[i].verdict) {
            snprintf(test_failure, sizeof test_failure, "%s with %s: verdict %d, want %d (%s)", keyword_cases[i].schema,
                     keyword_cases[i].instance, verdict, keyword_cases[i].verdict, error.message);
            return;
        }
    }
}

TEST(test_json_schema_resolves_references_inside_the_document)
{
    struct wippy_error error;
    const char *tree = "{\"type\": \"object\", \"properties\": {\"value\": {\"type\": \"integer\"},"
                       "\"children\": {\"type\": \"array\", \"items\": {\"$ref\": \"#\"}}}}";
    CHECK(judge(tree, "{\"value\": 1, \"children\": [{\"value\": 2, \"children\": []}]}", &error) == VALID);
    CHECK(judge(tree, "{\"value\": 1, \"children\": [{\"value\": \"x\"}]}", &error) == INVALID);
    CHECK_STRING(error.message, "/children/0/value: type: must be integer, not string");
    const char *defs = "{\"$defs\": {\"a b\": {\"type\": \"string\"}, \"n\": {\"$anchor\": \"num\", \"type\": \"number\"}},"
                       "\"properties\": {\"s\": {\"$ref\": \"#/$defs/a%20b\"}, \"n\": {\"$ref\": \"#num\"},"
                       "\"again\": {\"$ref\": \"#/properties/s\"}}}";
    CHECK(judge(defs, "{\"s\": \"x\", \"n\": 1, \"again\": \"y\"}", &error) == VALID);
    CHECK(judge(defs, "{\"again\": 1}", &error) == INVALID);
    /* inside a schema with its own $id, "#..." starts at that schema */
    const char *scoped = "{\"$defs\": {\"x\": {\"type\": \"null\"}}, \"properties\": {\"p\": {\"$id\": \"http://e.com/p\","
                         "\"$defs\": {\"x\": {\"type\": \"string\"}}, \"$ref\": \"#/$defs/x\"}}}";
    CHECK(judge(scoped, "{\"p\": \"s\"}", &error) == VALID);
    CHECK(judge(scoped, "{\"p\": null}", &error) == INVALID);
    CHECK(judge("{\"$ref\": \"#/$defs/missing\"}", "1", &error) == REFUSED);
    CHECK_STRING(error.message, "/$ref -> \"#/$defs/missing\": points at nothing");
    CHECK(judge("{\"$ref\": \"#nowhere\"}", "1", &error) == REFUSED);
    CHECK_STRING(error.message, "/$ref -> \"#nowhere\": no such $anchor in this schema");
    CHECK(judge("{\"$ref\": \"#/enum\", \"enum\": [1]}", "1", &error) == REFUSED);
    CHECK_CONTAINS(error.message, "a schema must be an object or a boolean");
}

TEST(test_json_schema_refuses_what_it_does_not_implement_naming_it)
{
    static const char *const refused[][2] = {
        {"{\"unevaluatedProperties\": false}", "unevaluatedProperties"},
        {"{\"unevaluatedItems\": {\"type\": \"string\"}}", "unevaluatedItems"},
        {"{\"$dynamicRef\": \"#x\"}", "$dynamicRef"},
        {"{\"$recursiveRef\": \"#\"}", "$recursiveRef"},
        {"{\"$ref\": \"https://example.com/schema.json\"}", "https://example.com/schema.json"},
        {"{\"properties\": {\"a\": {\"$ref\": \"other.json#/x\"}}}", "/properties/a/$ref"},
        {"{\"additionalItems\": false}", "additionalItems"},
        {"{\"dependencies\": {\"a\": [\"b\"]}}", "dependencies"},
        {"{\"items\": [{\"type\": \"string\"}]}", "prefixItems"},
        {"{\"minimum\": \"5\"}", "/minimum: must be a number"},
        {"{\"type\": \"strin\"}", "\"strin\" is not a JSON Schema type"},
        {"{\"required\": [1]}", "/required: item 0 must be a string"},
        {"{\"properties\": {\"a\": {\"pattern\": \"(\"}}}", "/properties/a/pattern: pattern \"(\" is not a valid"},
        {"{\"multipleOf\": 0}", "greater than 0"},
        {"{\"minItems\": -1}", "non-negative integer"},
        {"{\"$id\": \"http://e.com/a#b\"}", "$anchor"},
        {"[1]", "a schema must be an object or a boolean, not an array"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        struct wippy_error error;
        if (judge(refused[i][0], "null", &error) != REFUSED || strstr(error.message, refused[i][1]) == NULL) {
            snprintf(test_failure, sizeof test_failure, "%s: \"%s\" lacks \"%s\"", refused[i][0], error.message,
                     refused[i][1]);
            return;
        }
    }
}

TEST(test_json_schema_reads_empty_arrays_as_objects_only_when_asked)
{
    struct wippy_error error;
    const char *from_lua = "{\"type\": \"object\", \"properties\": [], \"items\": [], \"$defs\": [],"
                           "\"not\": {\"required\": [], \"allOf\": []}}";
    CHECK(judge_with(from_lua, "{}", JSON_SCHEMA_EMPTY_ARRAY_AS_OBJECT, &error) == INVALID);
    CHECK_STRING(error.message, "(root): not: must not match the schema");
    CHECK(judge_with("{\"properties\": {\"a\": []}}", "{\"a\": 1}", JSON_SCHEMA_EMPTY_ARRAY_AS_OBJECT, &error) ==
          VALID);
    CHECK(judge("{\"properties\": []}", "{}", &error) == REFUSED);
    CHECK(judge("{\"properties\": {\"a\": []}}", "{}", &error) == REFUSED);
}

TEST(test_json_schema_stops_a_reference_loop_that_never_reaches_into_the_data)
{
    struct wippy_error error;
    CHECK(judge("{\"$ref\": \"#\"}", "{}", &error) == STOPPED);
    CHECK_CONTAINS(error.message, "a $ref loop?");
    CHECK(judge("{\"$defs\": {\"a\": {\"$ref\": \"#/$defs/b\"}, \"b\": {\"anyOf\": [{\"$ref\": \"#/$defs/a\"}]}},"
                "\"$ref\": \"#/$defs/a\"}",
                "1", &error) == STOPPED);
    /* a recursive schema on recursive data goes as deep as the data */
    char *shallow = nested("{\"a\":", "1", "}", 200);
    enum verdict verdict = judge("{\"properties\": {\"a\": {\"$ref\": \"#\"}}}", shallow, &error);
    free(shallow);
    CHECK(verdict == VALID);
    char *deep = nested("{\"a\":", "1", "}", JSON_SCHEMA_MAX_INSTANCE_DEPTH + 10);
    verdict = judge("{\"properties\": {\"a\": {\"$ref\": \"#\"}}}", deep, &error);
    free(deep);
    CHECK(verdict == STOPPED);
    CHECK_CONTAINS(error.message, "the data nests deeper than 256 levels");
}

TEST(test_json_schema_bounds_exponential_evaluation)
{
    /* each definition tries the next twice: 2^40 evaluations unbounded */
    char *text = xmalloc(8192);
    strcpy(text, "{\"$ref\": \"#/$defs/d0\", \"$defs\": {");
    for (int i = 0; i < 40; i++)
        sprintf(text + strlen(text), "\"d%d\": {\"anyOf\": [{\"$ref\": \"#/$defs/d%d\"}, {\"$ref\": \"#/$defs/d%d\"}]},",
                i, i + 1, i + 1);
    strcat(text, "\"d40\": {\"type\": \"string\"}}}");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct wippy_error error;
    enum verdict verdict = judge(text, "1", &error);
    free(text);
    CHECK(verdict == STOPPED);
    CHECK_CONTAINS(error.message, "validation needs more than 20000000 steps");
    CHECK(seconds_since(&start) < 1.5 * SLOWDOWN);
}

TEST(test_json_schema_bounds_the_size_of_a_schema)
{
    struct wippy_error error;
    char *deep = nested("{\"not\":", "{}", "}", JSON_SCHEMA_MAX_DEPTH + 1);
    enum verdict verdict = judge(deep, "1", &error);
    free(deep);
    CHECK(verdict == REFUSED);
    CHECK_CONTAINS(error.message, "schemas nest deeper than 128 levels");
    char *wide = repeated("{\"allOf\": [", "{}", JSON_SCHEMA_MAX_NODES, "]}");
    verdict = judge(wide, "1", &error);
    free(wide);
    CHECK(verdict == REFUSED);
    CHECK_CONTAINS(error.message, "more than 50000 schemas");
    /* each compiles to some 50 kB: the total is bounded, not only each */
    char *patterns = repeated("{\"anyOf\": [", "{\"pattern\": \"(?:ab){5000}\"}", 400, "]}");
    verdict = judge(patterns, "1", &error);
    free(patterns);
    CHECK(verdict == REFUSED);
    CHECK_CONTAINS(error.message, "the patterns take more than");
}

TEST(test_json_schema_bounds_large_data_and_unique_items)
{
    struct wippy_error error;
    char *numbers = xmalloc(200000 * 8 + 16);
    char *end = numbers + sprintf(numbers, "[0");
    for (int i = 1; i < 200000; i++)
        end += sprintf(end, ",%d", i);
    strcpy(end, ",0]");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    enum verdict verdict = judge("{\"uniqueItems\": true, \"items\": {\"type\": \"integer\"}}", numbers, &error);
    free(numbers);
    CHECK(verdict == INVALID);
    CHECK_STRING(error.message, "(root): uniqueItems: items 0 and 200000 are equal");
    CHECK(seconds_since(&start) < 1 * SLOWDOWN);
    char *strings = repeated("[", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"", 1000, "]");
    verdict = judge("{\"items\": {\"pattern\": \"(a+)+$\"}}", strings, &error);
    free(strings);
    CHECK(verdict == STOPPED);
    CHECK_CONTAINS(error.message, "pattern \"(a+)+$\": backtracks more than");
    CHECK(seconds_since(&start) < 1.5 * SLOWDOWN);
}
