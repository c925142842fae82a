/* json_schema_validate.c - an instance against the compiled nodes of
 * json_schema_node.h. The first failure ends the evaluation and is the one
 * reported, except inside anyOf, oneOf, not, if, contains and propertyNames
 * ("quiet"), where a subschema failing is an answer, not the verdict. Every
 * subschema evaluated and value compared takes a step from a budget, every
 * pattern search its PCRE2 steps from another. */
#include "util/json_schema.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_compare.h"
#include "util/json_number.h"
#include "util/json_pointer.h"
#include "util/json_schema_node.h"
#include "util/memory.h"

#define SHOWN_VALUE_BYTES 80

enum outcome {
    PASS,
    FAIL,
    STOP, /* a limit was reached: neither valid nor invalid */
};

struct evaluation {
    size_t steps;
    size_t regex_steps;
    unsigned depth;
    unsigned depth_at_descent; /* depth when the evaluation last went into the data */
    unsigned quiet;
    bool reported;
    struct json_pointer_path path; /* of the instance value being evaluated */
    struct wippy_error *error;
    char quoted[2][640]; /* names and values quoted for the message, kept off the recursion's stack */
};

static enum outcome evaluate(struct evaluation *e, const struct schema_node *node, const json_t *instance);

static enum outcome fail(struct evaluation *e, const char *keyword, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* True when a failure now would be the one reported. */
static bool reporting(const struct evaluation *e)
{
    return e->quiet == 0 && !e->reported;
}

static enum outcome fail(struct evaluation *e, const char *keyword, const char *format, ...)
{
    if (!reporting(e))
        return FAIL;
    char where[512], reason[1024];
    json_pointer_format(&e->path, where, sizeof where);
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    error_set(e->error, WIPPY_EINVAL, "%s: %s: %s", where[0] != '\0' ? where : "(root)", keyword, reason);
    e->reported = true;
    return FAIL;
}

/* A name or a value quoted for a message, in e's slot (0 or 1). */
static const char *quote(struct evaluation *e, int slot, const char *text, size_t length)
{
    json_pointer_quote(text, length, e->quoted[slot], sizeof e->quoted[slot]);
    return e->quoted[slot];
}

static enum outcome stop(struct evaluation *e, const char *format, ...) __attribute__((format(printf, 2, 3)));
static enum outcome stop(struct evaluation *e, const char *format, ...)
{
    char reason[768];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    error_set(e->error, WIPPY_ETIMEDOUT, "%s", reason);
    return STOP;
}

static enum outcome out_of_steps(struct evaluation *e)
{
    return stop(e, "validation needs more than %u steps (the schema or the data is too large)",
                JSON_SCHEMA_MAX_STEPS);
}

static bool spend(struct evaluation *e, size_t steps)
{
    if (e->steps < steps) {
        e->steps = 0;
        return false;
    }
    e->steps -= steps;
    return true;
}

/* The value as compact JSON, cut to fit. */
static void describe(const json_t *value, char *buffer, size_t size)
{
    char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
    if (json_is_number(value) || text == NULL)
        json_number_format(value, buffer, size);
    else if (strlen(text) <= SHOWN_VALUE_BYTES)
        snprintf(buffer, size, "%s", text);
    else
        snprintf(buffer, size, "%.*s...", SHOWN_VALUE_BYTES, text);
    free(text);
}

static enum outcome evaluate_index(struct evaluation *e, const struct schema_node *node, const json_t *item,
                                   size_t index)
{
    if (node->kind == SCHEMA_NODE_TRUE)
        return PASS;
    if (e->path.depth >= JSON_SCHEMA_MAX_INSTANCE_DEPTH)
        return stop(e, "the data nests deeper than %d levels", JSON_SCHEMA_MAX_INSTANCE_DEPTH);
    unsigned outer = e->depth_at_descent;
    e->depth_at_descent = e->depth;
    json_pointer_push_index(&e->path, index);
    enum outcome outcome = evaluate(e, node, item);
    json_pointer_pop(&e->path);
    e->depth_at_descent = outer;
    return outcome;
}

static enum outcome evaluate_member(struct evaluation *e, const struct schema_node *node, const json_t *value,
                                    const char *key, size_t length)
{
    if (node->kind == SCHEMA_NODE_TRUE)
        return PASS;
    if (e->path.depth >= JSON_SCHEMA_MAX_INSTANCE_DEPTH)
        return stop(e, "the data nests deeper than %d levels", JSON_SCHEMA_MAX_INSTANCE_DEPTH);
    unsigned outer = e->depth_at_descent;
    e->depth_at_descent = e->depth;
    json_pointer_push_key(&e->path, key, length);
    enum outcome outcome = evaluate(e, node, value);
    json_pointer_pop(&e->path);
    e->depth_at_descent = outer;
    return outcome;
}

/* Evaluates node quietly: PASS or FAIL is the answer, STOP still stops. */
static enum outcome test(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    e->quiet++;
    enum outcome outcome = evaluate(e, node, instance);
    e->quiet--;
    return outcome;
}

static unsigned type_of(const json_t *instance)
{
    switch (json_typeof(instance)) {
    case JSON_OBJECT:
        return SCHEMA_TYPE_OBJECT;
    case JSON_ARRAY:
        return SCHEMA_TYPE_ARRAY;
    case JSON_STRING:
        return SCHEMA_TYPE_STRING;
    case JSON_INTEGER:
    case JSON_REAL:
        return SCHEMA_TYPE_NUMBER | (json_number_is_integral(instance) ? SCHEMA_TYPE_INTEGER : 0);
    case JSON_TRUE:
    case JSON_FALSE:
        return SCHEMA_TYPE_BOOLEAN;
    default:
        return SCHEMA_TYPE_NULL;
    }
}

static const char *const type_names[] = {"null", "boolean", "object", "array", "number", "string", "integer"};

static enum outcome check_type(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    unsigned actual = type_of(instance);
    if (node->types == 0 || (node->types & actual) != 0)
        return PASS;
    char wanted[128] = "";
    for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++) {
        if (node->types & (1u << i))
            snprintf(wanted + strlen(wanted), sizeof wanted - strlen(wanted), "%s%s", wanted[0] ? " or " : "",
                     type_names[i]);
    }
    const char *got = (actual & SCHEMA_TYPE_INTEGER) ? "integer" : type_names[__builtin_ctz(actual)];
    return fail(e, "type", "must be %s, not %s", wanted, got);
}

static enum outcome check_const(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (node->const_value == NULL)
        return PASS;
    bool equal = json_compare_equal(node->const_value, instance, &e->steps);
    if (e->steps == 0)
        return out_of_steps(e);
    if (equal)
        return PASS;
    char shown[SHOWN_VALUE_BYTES + 8] = "";
    if (reporting(e))
        describe(node->const_value, shown, sizeof shown);
    return fail(e, "const", "must be %s", shown);
}

static enum outcome check_enum(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (node->enum_values == NULL)
        return PASS;
    for (size_t i = 0; i < json_array_size(node->enum_values); i++) {
        bool equal = json_compare_equal(json_array_get(node->enum_values, i), instance, &e->steps);
        if (e->steps == 0)
            return out_of_steps(e);
        if (equal)
            return PASS;
    }
    char shown[SHOWN_VALUE_BYTES + 8] = "";
    if (reporting(e))
        describe(node->enum_values, shown, sizeof shown);
    return fail(e, "enum", "must be one of %s", shown);
}

static enum outcome check_number(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (!json_is_number(instance))
        return PASS;
    char bound[40];
    if (node->multiple_of != NULL && !json_number_is_multiple(instance, node->multiple_of)) {
        json_number_format(node->multiple_of, bound, sizeof bound);
        return fail(e, "multipleOf", "must be a multiple of %s", bound);
    }
    static const struct {
        size_t field;
        const char *keyword, *relation;
        int failing_sign; /* compare(instance, bound) has this sign: fails */
        bool or_equal;
    } bounds[] = {
        {offsetof(struct schema_node, maximum), "maximum", "<=", 1, false},
        {offsetof(struct schema_node, exclusive_maximum), "exclusiveMaximum", "<", 1, true},
        {offsetof(struct schema_node, minimum), "minimum", ">=", -1, false},
        {offsetof(struct schema_node, exclusive_minimum), "exclusiveMinimum", ">", -1, true},
    };
    for (size_t i = 0; i < sizeof bounds / sizeof *bounds; i++) {
        const json_t *limit = *(const json_t *const *)((const char *)node + bounds[i].field);
        if (limit == NULL)
            continue;
        int sign = json_number_compare(instance, limit);
        if (sign == bounds[i].failing_sign || (bounds[i].or_equal && sign == 0)) {
            json_number_format(limit, bound, sizeof bound);
            return fail(e, bounds[i].keyword, "must be %s %s", bounds[i].relation, bound);
        }
    }
    return PASS;
}

static size_t code_points(const char *text, size_t length)
{
    size_t count = 0;
    for (size_t i = 0; i < length; i++)
        count += ((unsigned char)text[i] & 0xC0) != 0x80;
    return count;
}

static enum outcome check_string(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (!json_is_string(instance))
        return PASS;
    const char *text = json_string_value(instance);
    size_t length = json_string_length(instance);
    if (node->min_length > 0 || node->max_length != SCHEMA_UNBOUNDED) {
        if (!spend(e, 1 + length / 256))
            return out_of_steps(e);
        size_t count = code_points(text, length);
        if (count > node->max_length)
            return fail(e, "maxLength", "must be at most %zu characters long", node->max_length);
        if (count < node->min_length)
            return fail(e, "minLength", "must be at least %zu characters long", node->min_length);
    }
    if (node->pattern == NULL)
        return PASS;
    /* a search that cannot finish leaves its reason in e->error, which stop() rewrites */
    int found = json_regex_search(node->pattern, text, length, &e->regex_steps, e->error);
    const char *source = node->pattern_source;
    if (found < 0)
        return stop(e, "pattern %s: %s", quote(e, 0, source, strlen(source)), e->error->message);
    if (found || !reporting(e))
        return found ? PASS : FAIL;
    return fail(e, "pattern", "must match %s", quote(e, 0, source, strlen(source)));
}

struct hashed_item {
    uint64_t hash;
    size_t index;
};

static int by_hash_then_index(const void *a, const void *b)
{
    const struct hashed_item *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Hashes the items, sorts them by hash and compares only equal hashes. */
static enum outcome check_unique(struct evaluation *e, const json_t *array)
{
    size_t count = json_array_size(array);
    struct hashed_item *items = xmalloc((count + 1) * sizeof *items);
    for (size_t i = 0; i < count && e->steps > 0; i++)
        items[i] = (struct hashed_item){json_compare_hash(json_array_get(array, i), &e->steps), i};
    if (e->steps > 0)
        qsort(items, count, sizeof *items, by_hash_then_index);
    size_t first = 0, second = 0;
    bool duplicate = false;
    for (size_t i = 0; i < count && !duplicate && e->steps > 0; i++) {
        for (size_t j = i + 1; j < count && items[j].hash == items[i].hash && e->steps > 0; j++) {
            if (json_compare_equal(json_array_get(array, items[i].index), json_array_get(array, items[j].index),
                                   &e->steps)) {
                first = items[i].index < items[j].index ? items[i].index : items[j].index;
                second = items[i].index < items[j].index ? items[j].index : items[i].index;
                duplicate = true;
                break;
            }
        }
    }
    free(items);
    if (e->steps == 0)
        return out_of_steps(e);
    return duplicate ? fail(e, "uniqueItems", "items %zu and %zu are equal", first, second) : PASS;
}

static enum outcome check_items(struct evaluation *e, const struct schema_node *node, const json_t *array)
{
    size_t count = json_array_size(array), prefix = node->prefix_items.count;
    if (!spend(e, count))
        return out_of_steps(e);
    for (size_t i = 0; i < count && i < prefix; i++) {
        enum outcome outcome = evaluate_index(e, node->prefix_items.nodes[i], json_array_get(array, i), i);
        if (outcome != PASS)
            return outcome;
    }
    if (node->items == NULL || count <= prefix)
        return PASS;
    if (node->items->kind == SCHEMA_NODE_FALSE)
        return fail(e, "items", "must have at most %zu items", prefix);
    for (size_t i = prefix; i < count; i++) {
        enum outcome outcome = evaluate_index(e, node->items, json_array_get(array, i), i);
        if (outcome != PASS)
            return outcome;
    }
    return PASS;
}

static enum outcome check_contains(struct evaluation *e, const struct schema_node *node, const json_t *array)
{
    size_t matches = 0;
    if (!spend(e, json_array_size(array)))
        return out_of_steps(e);
    for (size_t i = 0; i < json_array_size(array); i++) {
        if (matches >= node->min_contains && node->max_contains == SCHEMA_UNBOUNDED)
            break;
        json_pointer_push_index(&e->path, i);
        enum outcome outcome = test(e, node->contains, json_array_get(array, i));
        json_pointer_pop(&e->path);
        if (outcome == STOP)
            return STOP;
        matches += outcome == PASS;
    }
    if (matches < node->min_contains && node->min_contains == 1)
        return fail(e, "contains", "no item matches");
    if (matches < node->min_contains)
        return fail(e, "minContains", "%zu items match, at least %zu must", matches, node->min_contains);
    if (matches > node->max_contains)
        return fail(e, "maxContains", "%zu items match, at most %zu may", matches, node->max_contains);
    return PASS;
}

static enum outcome check_array(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (!json_is_array(instance))
        return PASS;
    size_t count = json_array_size(instance);
    if (count > node->max_items)
        return fail(e, "maxItems", "must have at most %zu items", node->max_items);
    if (count < node->min_items)
        return fail(e, "minItems", "must have at least %zu items", node->min_items);
    if (node->unique_items && check_unique(e, instance) != PASS)
        return e->steps == 0 ? STOP : FAIL;
    enum outcome outcome = check_items(e, node, instance);
    if (outcome == PASS && node->contains != NULL)
        outcome = check_contains(e, node, instance);
    return outcome;
}

static enum outcome check_required(struct evaluation *e, const json_t *names, const json_t *instance,
                                   const char *keyword, const char *because, size_t because_length)
{
    for (size_t i = 0; i < json_array_size(names); i++) {
        const json_t *name = json_array_get(names, i);
        if (json_object_getn(instance, json_string_value(name), json_string_length(name)) != NULL)
            continue;
        if (!reporting(e))
            return FAIL;
        const char *missing = quote(e, 0, json_string_value(name), json_string_length(name));
        if (because == NULL)
            return fail(e, keyword, "property %s is missing", missing);
        return fail(e, keyword, "property %s is required when %s is present", missing,
                    quote(e, 1, because, because_length));
    }
    return PASS;
}

static enum outcome check_object_counts(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    size_t count = json_object_size(instance);
    if (count > node->max_properties)
        return fail(e, "maxProperties", "must have at most %zu properties", node->max_properties);
    if (count < node->min_properties)
        return fail(e, "minProperties", "must have at least %zu properties", node->min_properties);
    if (node->required != NULL && check_required(e, node->required, instance, "required", NULL, 0) != PASS)
        return FAIL;
    for (size_t i = 0; i < node->dependent_required.count; i++) {
        const struct schema_member *member = &node->dependent_required.members[i];
        if (json_object_getn(instance, member->name, member->length) != NULL &&
            check_required(e, member->names, instance, "dependentRequired", member->name, member->length) != PASS)
            return FAIL;
    }
    return PASS;
}

/* patternProperties and additionalProperties, member by member. */
static enum outcome check_member(struct evaluation *e, const struct schema_node *node, const char *key,
                                 size_t length, const json_t *value)
{
    bool matched = node->property_names_declared != NULL &&
                   json_object_getn(node->property_names_declared, key, length) != NULL;
    for (size_t i = 0; i < node->pattern_property_count; i++) {
        int found = json_regex_search(node->pattern_properties[i].regex, key, length, &e->regex_steps, e->error);
        if (found < 0) {
            const char *source = node->pattern_properties[i].source;
            return stop(e, "patternProperties %s: %s", quote(e, 0, source, strlen(source)), e->error->message);
        }
        if (!found)
            continue;
        matched = true;
        enum outcome outcome = evaluate_member(e, node->pattern_properties[i].schema, value, key, length);
        if (outcome != PASS)
            return outcome;
    }
    if (matched || node->additional_properties == NULL)
        return PASS;
    if (node->additional_properties->kind == SCHEMA_NODE_FALSE)
        return reporting(e) ? fail(e, "additionalProperties", "property %s is not allowed", quote(e, 0, key, length))
                            : FAIL;
    return evaluate_member(e, node->additional_properties, value, key, length);
}

static enum outcome check_property_name(struct evaluation *e, const struct schema_node *node, const char *key,
                                        size_t length)
{
    json_t *name = json_stringn_nocheck(key, length);
    enum outcome outcome = test(e, node->property_names, name);
    json_decref(name);
    if (outcome != FAIL || !reporting(e))
        return outcome;
    return fail(e, "propertyNames", "%s is not an allowed property name", quote(e, 0, key, length));
}

static enum outcome check_members(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    for (size_t i = 0; i < node->properties.count; i++) {
        const struct schema_member *member = &node->properties.members[i];
        const json_t *value = json_object_getn(instance, member->name, member->length);
        enum outcome outcome = value != NULL ? evaluate_member(e, member->schema, value, member->name, member->length)
                                             : PASS;
        if (outcome != PASS)
            return outcome;
    }
    if (node->pattern_property_count == 0 && node->additional_properties == NULL && node->property_names == NULL)
        return PASS;
    if (!spend(e, json_object_size(instance)))
        return out_of_steps(e);
    const char *key;
    size_t length;
    json_t *value;
    json_object_keylen_foreach((json_t *)instance, key, length, value) {
        enum outcome outcome = check_member(e, node, key, length, value);
        if (outcome == PASS && node->property_names != NULL)
            outcome = check_property_name(e, node, key, length);
        if (outcome != PASS)
            return outcome;
    }
    return PASS;
}

static enum outcome check_object(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (!json_is_object(instance))
        return PASS;
    enum outcome outcome = check_object_counts(e, node, instance);
    if (outcome == PASS)
        outcome = check_members(e, node, instance);
    for (size_t i = 0; outcome == PASS && i < node->dependent_schemas.count; i++) {
        const struct schema_member *member = &node->dependent_schemas.members[i];
        if (json_object_getn(instance, member->name, member->length) != NULL)
            outcome = evaluate(e, member->schema, instance);
    }
    return outcome;
}

static enum outcome check_ref(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    return node->ref != NULL ? evaluate(e, node->ref, instance) : PASS;
}

static enum outcome check_all_of(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    for (size_t i = 0; i < node->all_of.count; i++) {
        enum outcome outcome = evaluate(e, node->all_of.nodes[i], instance);
        if (outcome != PASS)
            return outcome;
    }
    return PASS;
}

static enum outcome check_any_of(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (node->any_of.nodes == NULL)
        return PASS;
    for (size_t i = 0; i < node->any_of.count; i++) {
        enum outcome outcome = test(e, node->any_of.nodes[i], instance);
        if (outcome != FAIL)
            return outcome;
    }
    return fail(e, "anyOf", "matches none of the %zu schemas", node->any_of.count);
}

static enum outcome check_one_of(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (node->one_of.nodes == NULL)
        return PASS;
    size_t matched[2], count = 0;
    for (size_t i = 0; i < node->one_of.count && count < 2; i++) {
        enum outcome outcome = test(e, node->one_of.nodes[i], instance);
        if (outcome == STOP)
            return STOP;
        if (outcome == PASS)
            matched[count++] = i;
    }
    if (count == 0)
        return fail(e, "oneOf", "matches none of the %zu schemas", node->one_of.count);
    if (count == 2)
        return fail(e, "oneOf", "matches schemas %zu and %zu; exactly one must match", matched[0], matched[1]);
    return PASS;
}

static enum outcome check_not(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (node->not_schema == NULL)
        return PASS;
    enum outcome outcome = test(e, node->not_schema, instance);
    if (outcome == STOP)
        return STOP;
    return outcome == PASS ? fail(e, "not", "must not match the schema") : PASS;
}

static enum outcome check_conditional(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (node->if_schema == NULL)
        return PASS;
    enum outcome outcome = test(e, node->if_schema, instance);
    if (outcome == STOP)
        return STOP;
    const struct schema_node *branch = outcome == PASS ? node->then_schema : node->else_schema;
    return branch != NULL ? evaluate(e, branch, instance) : PASS;
}

static enum outcome (*const checks[])(struct evaluation *, const struct schema_node *, const json_t *) = {
    check_type,   check_const,  check_enum,   check_number,     check_string, check_array,
    check_object, check_ref,    check_all_of, check_any_of,     check_one_of, check_not,
    check_conditional,
};

static enum outcome evaluate(struct evaluation *e, const struct schema_node *node, const json_t *instance)
{
    if (node->kind == SCHEMA_NODE_TRUE)
        return PASS;
    if (node->kind == SCHEMA_NODE_FALSE)
        return fail(e, "false schema", "no value is allowed here");
    if (!spend(e, node->cost))
        return out_of_steps(e);
    if (e->depth - e->depth_at_descent >= JSON_SCHEMA_MAX_DEPTH_PER_INSTANCE_LEVEL)
        return stop(e, "schemas nest more than %d levels deep without going further into the data (a $ref loop?)",
                    JSON_SCHEMA_MAX_DEPTH_PER_INSTANCE_LEVEL);
    if (e->depth >= JSON_SCHEMA_MAX_EVALUATION_DEPTH)
        return stop(e, "schemas nest more than %d levels deep", JSON_SCHEMA_MAX_EVALUATION_DEPTH);
    e->depth++;
    enum outcome outcome = PASS;
    for (size_t i = 0; outcome == PASS && i < sizeof checks / sizeof *checks; i++)
        outcome = checks[i](e, node, instance);
    e->depth--;
    return outcome;
}

int json_schema_validate(const struct json_schema *schema, const json_t *instance, struct wippy_error *error)
{
    struct evaluation *e = xcalloc(1, sizeof *e);
    e->steps = JSON_SCHEMA_MAX_STEPS;
    e->regex_steps = JSON_SCHEMA_MAX_REGEX_STEPS;
    e->error = error;
    enum outcome outcome = evaluate(e, schema->root, instance);
    free(e);
    return outcome == PASS ? 0 : outcome == FAIL ? WIPPY_EINVAL : WIPPY_ETIMEDOUT;
}
