/* json_schema_compile.c - a schema document into the nodes of
 * json_schema_node.h: one pass over the keywords (a table says which field
 * each one fills), then the $refs resolved against the nodes made, the
 * places they point at outside any keyword compiled on demand. */
#include "util/json_schema.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_number.h"
#include "util/json_pointer.h"
#include "util/json_schema_node.h"
#include "util/memory.h"

/* Maps each schema object of the document to its node. */
struct node_map {
    const json_t **keys;
    struct schema_node **values;
    size_t capacity;
    size_t count;
};

struct pending_reference {
    struct schema_node *node;
    const json_t *resource;
    char *place; /* where the $ref is, for messages */
};

struct anchor {
    const json_t *resource;
    const char *name;
    struct schema_node *node;
};

struct compiler {
    struct json_schema *schema;
    unsigned flags;
    struct wippy_error *error;
    struct json_pointer_path path;
    const char *place; /* put before path in messages: the $ref being resolved */
    const json_t *resource; /* the schema with the nearest "$id", or the document */
    unsigned depth;
    size_t node_capacity;
    size_t pattern_bytes;
    struct node_map map;
    struct pending_reference *references;
    size_t reference_count, reference_capacity;
    struct anchor *anchors;
    size_t anchor_count, anchor_capacity;
};

static struct schema_node *compile_schema(struct compiler *c, const json_t *value);

static int fail(struct compiler *c, const char *format, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct compiler *c, const char *format, ...)
{
    char where[512], reason[1024];
    json_pointer_format(&c->path, where, sizeof where);
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    if (c->place != NULL)
        return error_set(c->error, WIPPY_EINVAL, "%s%s: %s", c->place, where, reason);
    return error_set(c->error, WIPPY_EINVAL, "%s: %s", where[0] != '\0' ? where : "(root)", reason);
}

static const char *type_name(const json_t *value)
{
    static const char *const names[] = {"an object", "an array", "a string", "an integer",
                                        "a number", "true", "false", "null"};
    return names[json_typeof(value)];
}

static size_t pointer_hash(const void *pointer)
{
    uint64_t x = (uint64_t)(uintptr_t)pointer;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdu;
    x ^= x >> 33;
    return (size_t)x;
}

static struct schema_node *map_get(const struct node_map *map, const json_t *key)
{
    if (map->capacity == 0)
        return NULL;
    for (size_t i = pointer_hash(key) & (map->capacity - 1);; i = (i + 1) & (map->capacity - 1)) {
        if (map->keys[i] == key)
            return map->values[i];
        if (map->keys[i] == NULL)
            return NULL;
    }
}

static void map_put(struct node_map *map, const json_t *key, struct schema_node *value);

static void map_grow(struct node_map *map)
{
    struct node_map bigger = {NULL, NULL, map->capacity ? map->capacity * 2 : 64, 0};
    bigger.keys = xcalloc(bigger.capacity, sizeof *bigger.keys);
    bigger.values = xcalloc(bigger.capacity, sizeof *bigger.values);
    for (size_t i = 0; i < map->capacity; i++) {
        if (map->keys[i] != NULL)
            map_put(&bigger, map->keys[i], map->values[i]);
    }
    free(map->keys);
    free(map->values);
    *map = bigger;
}

static void map_put(struct node_map *map, const json_t *key, struct schema_node *value)
{
    if ((map->count + 1) * 2 > map->capacity)
        map_grow(map);
    size_t i = pointer_hash(key) & (map->capacity - 1);
    while (map->keys[i] != NULL)
        i = (i + 1) & (map->capacity - 1);
    map->keys[i] = key;
    map->values[i] = value;
    map->count++;
}

static struct schema_node *new_node(struct compiler *c, const json_t *source)
{
    struct json_schema *schema = c->schema;
    if (schema->node_count == c->node_capacity) {
        c->node_capacity = c->node_capacity ? c->node_capacity * 2 : 16;
        schema->nodes = xrealloc(schema->nodes, c->node_capacity * sizeof *schema->nodes);
    }
    struct schema_node *node = xcalloc(1, sizeof *node);
    node->source = source;
    node->max_length = node->max_items = node->max_contains = node->max_properties = SCHEMA_UNBOUNDED;
    node->min_contains = 1;
    schema->nodes[schema->node_count++] = node;
    return node;
}

static bool is_empty_array_as_object(const struct compiler *c, const json_t *value)
{
    return (c->flags & JSON_SCHEMA_EMPTY_ARRAY_AS_OBJECT) && json_is_array(value) && json_array_size(value) == 0;
}

/* The members of value, an object (or [] read as {}): 0, or fails. */
static int check_object(struct compiler *c, const json_t *value)
{
    if (json_is_object(value) || is_empty_array_as_object(c, value))
        return 0;
    return fail(c, "must be an object, not %s", type_name(value));
}

static int check_string_array(struct compiler *c, const json_t *value)
{
    if (!json_is_array(value))
        return fail(c, "must be an array of strings, not %s", type_name(value));
    for (size_t i = 0; i < json_array_size(value); i++) {
        if (!json_is_string(json_array_get(value, i)))
            return fail(c, "item %zu must be a string, not %s", i, type_name(json_array_get(value, i)));
    }
    return 0;
}

/* Compiles value as a schema at path key (member of the keyword's object). */
static struct schema_node *compile_member(struct compiler *c, const char *key, size_t length, const json_t *value)
{
    json_pointer_push_key(&c->path, key, length);
    struct schema_node *node = compile_schema(c, value);
    json_pointer_pop(&c->path);
    return node;
}

#define FIELD(type, node, offset) ((type *)((char *)(node) + (offset)))

static int compile_number(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (!json_is_number(value))
        return fail(c, "must be a number, not %s", type_name(value));
    *FIELD(const json_t *, node, field) = value;
    return 0;
}

static int compile_multiple_of(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (!json_is_number(value) || json_number_value(value) <= 0)
        return fail(c, "must be a number greater than 0");
    return compile_number(c, node, value, field);
}

/* A non-negative integer (2.0 is one), kept as a size_t. */
static int compile_count(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    double number = json_number_value(value);
    if (!json_is_number(value) || number < 0 || !json_number_is_integral(value))
        return fail(c, "must be a non-negative integer");
    if (json_is_integer(value))
        *FIELD(size_t, node, field) = (size_t)json_integer_value(value);
    else /* beyond any size anyway */
        *FIELD(size_t, node, field) = number < 1e18 ? (size_t)number : SCHEMA_UNBOUNDED - 1;
    return 0;
}

static int compile_subschema(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    struct schema_node *child = compile_schema(c, value);
    *FIELD(struct schema_node *, node, field) = child;
    return child != NULL ? 0 : WIPPY_EINVAL;
}

static int compile_items(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (json_is_array(value) && !is_empty_array_as_object(c, value))
        return fail(c, "must be a schema (the array form is draft 2019-09's; 2020-12 calls it prefixItems)");
    return compile_subschema(c, node, value, field);
}

static int compile_list(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (!json_is_array(value))
        return fail(c, "must be an array of schemas, not %s", type_name(value));
    struct schema_list *list = FIELD(struct schema_list, node, field);
    list->nodes = xcalloc(json_array_size(value) + 1, sizeof *list->nodes);
    for (size_t i = 0; i < json_array_size(value); i++) {
        json_pointer_push_index(&c->path, i);
        list->nodes[i] = compile_schema(c, json_array_get(value, i));
        json_pointer_pop(&c->path);
        if (list->nodes[i] == NULL)
            return WIPPY_EINVAL;
        list->count++;
    }
    return 0;
}

/* properties, dependentSchemas: an object of schemas. */
static int compile_members(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (check_object(c, value) != 0)
        return WIPPY_EINVAL;
    struct schema_members *members = FIELD(struct schema_members, node, field);
    members->members = xcalloc(json_object_size(value) + 1, sizeof *members->members);
    const char *key;
    size_t length;
    json_t *member;
    json_object_keylen_foreach((json_t *)value, key, length, member) {
        struct schema_node *child = compile_member(c, key, length, member);
        if (child == NULL)
            return WIPPY_EINVAL;
        members->members[members->count++] = (struct schema_member){key, length, child, NULL};
    }
    return 0;
}

static int compile_properties(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    node->property_names_declared = json_is_object(value) ? value : NULL;
    return compile_members(c, node, value, field);
}

static int compile_dependent_required(struct compiler *c, struct schema_node *node, const json_t *value,
                                      size_t field)
{
    if (check_object(c, value) != 0)
        return WIPPY_EINVAL;
    struct schema_members *members = FIELD(struct schema_members, node, field);
    members->members = xcalloc(json_object_size(value) + 1, sizeof *members->members);
    const char *key;
    size_t length;
    json_t *names;
    json_object_keylen_foreach((json_t *)value, key, length, names) {
        json_pointer_push_key(&c->path, key, length);
        int rc = check_string_array(c, names);
        json_pointer_pop(&c->path);
        if (rc != 0)
            return rc;
        members->members[members->count++] = (struct schema_member){key, length, NULL, names};
    }
    return 0;
}

static const char *quote(const json_t *string, char *buffer, size_t size)
{
    json_pointer_quote(json_string_value(string), json_string_length(string), buffer, size);
    return buffer;
}

static int compile_regex(struct compiler *c, const char *source, size_t length, struct json_regex **regex)
{
    struct wippy_error reason;
    char quoted[640];
    json_pointer_quote(source, length, quoted, sizeof quoted);
    if (json_regex_compile(source, length, regex, &reason) != 0)
        return fail(c, "pattern %s %s", quoted, reason.message);
    c->pattern_bytes += json_regex_size(*regex);
    if (c->pattern_bytes > JSON_SCHEMA_MAX_PATTERN_BYTES)
        return fail(c, "the patterns take more than %u bytes compiled", JSON_SCHEMA_MAX_PATTERN_BYTES);
    return 0;
}

static int compile_pattern(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (!json_is_string(value))
        return fail(c, "must be a string, not %s", type_name(value));
    node->pattern_source = json_string_value(value);
    return compile_regex(c, json_string_value(value), json_string_length(value), &node->pattern);
}

static int compile_pattern_properties(struct compiler *c, struct schema_node *node, const json_t *value,
                                      size_t field)
{
    if (check_object(c, value) != 0)
        return WIPPY_EINVAL;
    node->pattern_properties = xcalloc(json_object_size(value) + 1, sizeof *node->pattern_properties);
    const char *key;
    size_t length;
    json_t *member;
    json_object_keylen_foreach((json_t *)value, key, length, member) {
        struct schema_pattern *pattern = &node->pattern_properties[node->pattern_property_count++];
        pattern->source = key;
        json_pointer_push_key(&c->path, key, length);
        int rc = compile_regex(c, key, length, &pattern->regex);
        json_pointer_pop(&c->path);
        if (rc != 0)
            return rc;
        pattern->schema = compile_member(c, key, length, member);
        if (pattern->schema == NULL)
            return WIPPY_EINVAL;
    }
    return 0;
}

static int compile_type_name(struct compiler *c, const json_t *name, unsigned *types)
{
    static const char *const names[] = {"null", "boolean", "object", "array", "number", "string", "integer"};
    for (size_t i = 0; json_is_string(name) && i < sizeof names / sizeof *names; i++) {
        if (strcmp(json_string_value(name), names[i]) == 0) {
            *types |= 1u << i; /* the order of enum schema_type */
            return 0;
        }
    }
    if (!json_is_string(name))
        return fail(c, "must name types with strings, not %s", type_name(name));
    char quoted[640];
    return fail(c, "%s is not a JSON Schema type", quote(name, quoted, sizeof quoted));
}

static int compile_type(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (!json_is_array(value))
        return compile_type_name(c, value, &node->types);
    if (json_array_size(value) == 0)
        return fail(c, "must name at least one type");
    for (size_t i = 0; i < json_array_size(value); i++) {
        if (compile_type_name(c, json_array_get(value, i), &node->types) != 0)
            return WIPPY_EINVAL;
    }
    return 0;
}

static int compile_enum(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (!json_is_array(value))
        return fail(c, "must be an array, not %s", type_name(value));
    node->enum_values = value;
    return 0;
}

static int compile_const(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    node->const_value = value;
    return 0;
}

static int compile_unique_items(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (!json_is_boolean(value))
        return fail(c, "must be true or false, not %s", type_name(value));
    node->unique_items = json_is_true(value);
    return 0;
}

static int compile_required(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (check_string_array(c, value) != 0)
        return WIPPY_EINVAL;
    node->required = value;
    return 0;
}

/* The definitions are compiled for the $refs that point at them. */
static int compile_definitions(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (check_object(c, value) != 0)
        return WIPPY_EINVAL;
    const char *key;
    size_t length;
    json_t *member;
    json_object_keylen_foreach((json_t *)value, key, length, member) {
        if (compile_member(c, key, length, member) == NULL)
            return WIPPY_EINVAL;
    }
    return 0;
}

static int compile_id(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (!json_is_string(value))
        return fail(c, "must be a string, not %s", type_name(value));
    const char *fragment = strchr(json_string_value(value), '#');
    char quoted[640];
    if (fragment != NULL && fragment[1] != '\0')
        return fail(c, "%s has a fragment; 2020-12 names a place with $anchor", quote(value, quoted, sizeof quoted));
    c->resource = node->source; /* "#..." in this schema now starts here */
    return 0;
}

static int compile_anchor(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (!json_is_string(value) || json_string_length(value) == 0)
        return fail(c, "must be a name");
    if (c->anchor_count == c->anchor_capacity) {
        c->anchor_capacity = c->anchor_capacity ? c->anchor_capacity * 2 : 8;
        c->anchors = xrealloc(c->anchors, c->anchor_capacity * sizeof *c->anchors);
    }
    c->anchors[c->anchor_count++] = (struct anchor){c->resource, json_string_value(value), node};
    return 0;
}

static int compile_ref(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (!json_is_string(value))
        return fail(c, "must be a string, not %s", type_name(value));
    char quoted[640];
    if (json_string_value(value)[0] != '#')
        return fail(c, "%s is not supported: only references inside the schema (\"#...\") are",
                    quote(value, quoted, sizeof quoted));
    node->ref_text = json_string_value(value);
    if (c->reference_count == c->reference_capacity) {
        c->reference_capacity = c->reference_capacity ? c->reference_capacity * 2 : 8;
        c->references = xrealloc(c->references, c->reference_capacity * sizeof *c->references);
    }
    char where[512];
    json_pointer_format(&c->path, where, sizeof where);
    c->references[c->reference_count++] =
        (struct pending_reference){node, c->resource, xasprintf("%s%s", c->place ? c->place : "", where)};
    return 0;
}

/* unevaluatedItems/Properties are not implemented; true (or {}) changes
 * nothing and is accepted. */
static int compile_unevaluated(struct compiler *c, struct schema_node *node, const json_t *value, size_t field)
{
    if (json_is_true(value) || (json_is_object(value) && json_object_size(value) == 0) ||
        is_empty_array_as_object(c, value))
        return 0;
    return fail(c, "is not supported (only true, which changes nothing)");
}

struct keyword {
    const char *name;
    int (*compile)(struct compiler *c, struct schema_node *node, const json_t *value, size_t field);
    size_t field;
    const char *refusal; /* not NULL: the keyword fails the compilation, saying this */
};

#define AT(member) offsetof(struct schema_node, member)

/* In the order they are read: $id first, for the $anchor and $ref beside it. */
static const struct keyword keywords[] = {
    {"$id", compile_id, 0, NULL},
    {"$anchor", compile_anchor, 0, NULL},
    {"$dynamicAnchor", compile_anchor, 0, NULL}, /* without $dynamicRef, an $anchor */
    {"$ref", compile_ref, 0, NULL},
    {"$defs", compile_definitions, 0, NULL},
    {"definitions", compile_definitions, 0, NULL},
    {"type", compile_type, 0, NULL},
    {"enum", compile_enum, 0, NULL},
    {"const", compile_const, 0, NULL},
    {"multipleOf", compile_multiple_of, AT(multiple_of), NULL},
    {"maximum", compile_number, AT(maximum), NULL},
    {"exclusiveMaximum", compile_number, AT(exclusive_maximum), NULL},
    {"minimum", compile_number, AT(minimum), NULL},
    {"exclusiveMinimum", compile_number, AT(exclusive_minimum), NULL},
    {"maxLength", compile_count, AT(max_length), NULL},
    {"minLength", compile_count, AT(min_length), NULL},
    {"pattern", compile_pattern, 0, NULL},
    {"maxItems", compile_count, AT(max_items), NULL},
    {"minItems", compile_count, AT(min_items), NULL},
    {"uniqueItems", compile_unique_items, 0, NULL},
    {"maxContains", compile_count, AT(max_contains), NULL},
    {"minContains", compile_count, AT(min_contains), NULL},
    {"prefixItems", compile_list, AT(prefix_items), NULL},
    {"items", compile_items, AT(items), NULL},
    {"contains", compile_subschema, AT(contains), NULL},
    {"maxProperties", compile_count, AT(max_properties), NULL},
    {"minProperties", compile_count, AT(min_properties), NULL},
    {"required", compile_required, 0, NULL},
    {"dependentRequired", compile_dependent_required, AT(dependent_required), NULL},
    {"properties", compile_properties, AT(properties), NULL},
    {"patternProperties", compile_pattern_properties, 0, NULL},
    {"additionalProperties", compile_subschema, AT(additional_properties), NULL},
    {"propertyNames", compile_subschema, AT(property_names), NULL},
    {"dependentSchemas", compile_members, AT(dependent_schemas), NULL},
    {"allOf", compile_list, AT(all_of), NULL},
    {"anyOf", compile_list, AT(any_of), NULL},
    {"oneOf", compile_list, AT(one_of), NULL},
    {"not", compile_subschema, AT(not_schema), NULL},
    {"if", compile_subschema, AT(if_schema), NULL},
    {"then", compile_subschema, AT(then_schema), NULL},
    {"else", compile_subschema, AT(else_schema), NULL},
    {"unevaluatedItems", compile_unevaluated, 0, NULL},
    {"unevaluatedProperties", compile_unevaluated, 0, NULL},
    {"$dynamicRef", NULL, 0, "is not supported"},
    {"$recursiveRef", NULL, 0, "is not supported (draft 2019-09)"},
    {"$recursiveAnchor", NULL, 0, "is not supported (draft 2019-09)"},
    {"additionalItems", NULL, 0, "is not supported (before 2020-12; use items with prefixItems)"},
    {"dependencies", NULL, 0, "is not supported (before 2020-12; use dependentRequired or dependentSchemas)"},
};

static int compile_keywords(struct compiler *c, struct schema_node *node, const json_t *object)
{
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++) {
        const json_t *value = json_object_get(object, keywords[i].name);
        if (value == NULL)
            continue;
        json_pointer_push_key(&c->path, keywords[i].name, strlen(keywords[i].name));
        int rc = keywords[i].refusal != NULL ? fail(c, "%s", keywords[i].refusal)
                                             : keywords[i].compile(c, node, value, keywords[i].field);
        json_pointer_pop(&c->path);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static size_t cost_of(const struct schema_node *node)
{
    size_t cost = 1 + node->prefix_items.count + node->all_of.count + node->any_of.count + node->one_of.count +
                  node->properties.count + node->dependent_schemas.count + node->pattern_property_count +
                  json_array_size(node->required);
    for (size_t i = 0; i < node->dependent_required.count; i++)
        cost += 1 + json_array_size(node->dependent_required.members[i].names);
    return cost;
}

static struct schema_node *compile_schema(struct compiler *c, const json_t *value)
{
    struct schema_node *known = json_is_object(value) ? map_get(&c->map, value) : NULL;
    if (known != NULL)
        return known;
    if (c->depth >= JSON_SCHEMA_MAX_DEPTH) {
        fail(c, "schemas nest deeper than %d levels", JSON_SCHEMA_MAX_DEPTH);
        return NULL;
    }
    if (c->schema->node_count >= JSON_SCHEMA_MAX_NODES) {
        fail(c, "the document holds more than %d schemas", JSON_SCHEMA_MAX_NODES);
        return NULL;
    }
    if (!json_is_object(value) && !json_is_boolean(value) && !is_empty_array_as_object(c, value)) {
        fail(c, "a schema must be an object or a boolean, not %s", type_name(value));
        return NULL;
    }
    struct schema_node *node = new_node(c, value);
    if (!json_is_object(value)) {
        node->kind = json_is_false(value) ? SCHEMA_NODE_FALSE : SCHEMA_NODE_TRUE;
        return node;
    }
    node->kind = SCHEMA_NODE_KEYWORDS;
    map_put(&c->map, value, node);
    const json_t *outer_resource = c->resource;
    c->depth++;
    int rc = compile_keywords(c, node, value);
    c->depth--;
    node->cost = cost_of(node);
    c->resource = outer_resource;
    return rc == 0 ? node : NULL;
}

static struct schema_node *find_anchor(const struct compiler *c, const json_t *resource, const char *name)
{
    for (size_t i = 0; i < c->anchor_count; i++) {
        if (c->anchors[i].resource == resource && strcmp(c->anchors[i].name, name) == 0)
            return c->anchors[i].node;
    }
    return NULL;
}

static int resolve_reference(struct compiler *c, const struct pending_reference *reference)
{
    const char *fragment = reference->node->ref_text + 1;
    char quoted[640];
    json_pointer_quote(reference->node->ref_text, strlen(reference->node->ref_text), quoted, sizeof quoted);
    char *place = xasprintf("%s -> %s", reference->place, quoted);
    c->place = place;
    c->path.depth = 0;
    c->depth = 0;
    c->resource = reference->resource;
    int rc = 0;
    if (fragment[0] == '\0' || fragment[0] == '/') {
        const json_t *target = NULL;
        struct wippy_error reason;
        if (json_pointer_resolve_fragment(reference->resource, fragment, &target, &reason) != 0)
            rc = fail(c, "%s", reason.message);
        else if ((reference->node->ref = compile_schema(c, target)) == NULL)
            rc = WIPPY_EINVAL;
    } else if ((reference->node->ref = find_anchor(c, reference->resource, fragment)) == NULL) {
        rc = fail(c, "no such $anchor in this schema");
    }
    c->place = NULL;
    free(place);
    return rc;
}

/* Compiling a target may add references: the count grows as they resolve. */
static int resolve_references(struct compiler *c)
{
    for (size_t i = 0; i < c->reference_count; i++) {
        struct pending_reference reference = c->references[i];
        int rc = resolve_reference(c, &reference);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void compiler_free(struct compiler *c)
{
    for (size_t i = 0; i < c->reference_count; i++)
        free(c->references[i].place);
    free(c->references);
    free(c->anchors);
    free(c->map.keys);
    free(c->map.values);
    free(c);
}

int json_schema_compile(json_t *document, unsigned flags, struct json_schema **schema, struct wippy_error *error)
{
    struct compiler *c = xcalloc(1, sizeof *c);
    c->schema = xcalloc(1, sizeof *c->schema);
    c->schema->document = json_incref(document);
    c->flags = flags;
    c->error = error;
    c->resource = document;
    c->schema->root = compile_schema(c, document);
    int rc = c->schema->root != NULL ? resolve_references(c) : WIPPY_EINVAL;
    struct json_schema *compiled = c->schema;
    compiler_free(c);
    if (rc != 0) {
        json_schema_free(compiled);
        return rc;
    }
    *schema = compiled;
    return 0;
}

static void node_free(struct schema_node *node)
{
    free(node->prefix_items.nodes);
    free(node->all_of.nodes);
    free(node->any_of.nodes);
    free(node->one_of.nodes);
    free(node->properties.members);
    free(node->dependent_required.members);
    free(node->dependent_schemas.members);
    for (size_t i = 0; i < node->pattern_property_count; i++)
        json_regex_free(node->pattern_properties[i].regex);
    free(node->pattern_properties);
    json_regex_free(node->pattern);
    free(node);
}

void json_schema_free(struct json_schema *schema)
{
    if (schema == NULL)
        return;
    for (size_t i = 0; i < schema->node_count; i++)
        node_free(schema->nodes[i]);
    free(schema->nodes);
    json_decref(schema->document);
    free(schema);
}
