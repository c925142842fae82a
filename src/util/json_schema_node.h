/* json_schema_node.h - a compiled schema, shared by json_schema_compile.c
 * (which builds it) and json_schema_validate.c (which walks it). Every
 * const json_t * points into the document the schema holds. */
#ifndef WIPPY_UTIL_JSON_SCHEMA_NODE_H
#define WIPPY_UTIL_JSON_SCHEMA_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/json_regex.h"

enum schema_node_kind {
    SCHEMA_NODE_TRUE,  /* true, {} */
    SCHEMA_NODE_FALSE, /* false */
    SCHEMA_NODE_KEYWORDS,
};

/* Bits of "type". */
enum schema_type {
    SCHEMA_TYPE_NULL = 1 << 0,
    SCHEMA_TYPE_BOOLEAN = 1 << 1,
    SCHEMA_TYPE_OBJECT = 1 << 2,
    SCHEMA_TYPE_ARRAY = 1 << 3,
    SCHEMA_TYPE_NUMBER = 1 << 4,
    SCHEMA_TYPE_STRING = 1 << 5,
    SCHEMA_TYPE_INTEGER = 1 << 6,
};

#define SCHEMA_UNBOUNDED ((size_t)-1)

struct schema_node;

struct schema_list {
    struct schema_node **nodes;
    size_t count;
};

/* A member of properties or dependentSchemas (schema), or of
 * dependentRequired (names, an array of strings). */
struct schema_member {
    const char *name;
    size_t length;
    struct schema_node *schema;
    const json_t *names;
};

struct schema_members {
    struct schema_member *members;
    size_t count;
};

/* A member of patternProperties. */
struct schema_pattern {
    struct json_regex *regex;
    const char *source;
    struct schema_node *schema;
};

struct schema_node {
    enum schema_node_kind kind;
    const json_t *source;
    unsigned types; /* 0: any */
    const json_t *enum_values, *const_value;
    const json_t *multiple_of, *maximum, *exclusive_maximum, *minimum, *exclusive_minimum;
    size_t min_length, max_length; /* in code points */
    struct json_regex *pattern;
    const char *pattern_source;
    size_t min_items, max_items, min_contains, max_contains;
    bool unique_items;
    struct schema_list prefix_items;
    struct schema_node *items, *contains;
    size_t min_properties, max_properties;
    const json_t *required;
    const json_t *property_names_declared; /* the "properties" object, for additionalProperties */
    struct schema_members properties, dependent_required, dependent_schemas;
    struct schema_pattern *pattern_properties;
    size_t pattern_property_count;
    struct schema_node *additional_properties, *property_names;
    struct schema_list all_of, any_of, one_of;
    struct schema_node *not_schema, *if_schema, *then_schema, *else_schema;
    struct schema_node *ref;
    const char *ref_text;
    size_t cost; /* steps an evaluation takes: 1 and the entries of its lists */
};

struct json_schema {
    json_t *document;
    struct schema_node *root;
    struct schema_node **nodes; /* every node, to free them */
    size_t node_count;
};

#endif
