/* value.h - a small tree of plain data (null, booleans, numbers, strings,
 * sequences, maps) that remembers the source line of every node. YAML
 * documents, configuration, actor metadata and context values all use it. */
#ifndef WIPPY_UTIL_VALUE_H
#define WIPPY_UTIL_VALUE_H

#include <stdbool.h>
#include <stddef.h>

enum value_type {
    VALUE_NULL,
    VALUE_BOOLEAN,
    VALUE_INTEGER,
    VALUE_NUMBER,
    VALUE_STRING,
    VALUE_SEQUENCE,
    VALUE_MAP,
};

struct value {
    enum value_type type;
    int line; /* 1-based source line, 0 when the value was built in memory */
    union {
        bool boolean;
        long long integer;
        double number;
        struct {
            char *bytes; /* always NUL-terminated; may also contain NULs */
            size_t length;
        } string;
        struct {
            struct value **items;
            size_t count;
        } sequence;
        struct {
            char **keys;
            struct value **values;
            size_t count;
        } map;
    } as;
};

struct value *value_new_null(void);
struct value *value_new_boolean(bool boolean);
struct value *value_new_integer(long long integer);
struct value *value_new_number(double number);
struct value *value_new_string(const char *bytes, size_t length);
struct value *value_new_sequence(void);
struct value *value_new_map(void);

/* Appends item (taking ownership) to a sequence. */
void value_sequence_append(struct value *sequence, struct value *item);
/* Sets key to item (taking ownership), replacing an existing key. */
void value_map_set(struct value *map, const char *key, struct value *item);
/* Adds key, which the caller knows is not in map yet. */
void value_map_append(struct value *map, const char *key, struct value *item);
/* Returns the value under key in a map, or NULL (also when map is no map). */
const struct value *value_map_get(const struct value *map, const char *key);
/* Follows a dotted path ("lifecycle.auto_start") through nested maps. */
const struct value *value_map_get_path(const struct value *map, const char *path);

struct value *value_copy(const struct value *value);
void value_free(struct value *value);

/* Deep-merges overlay into base: maps merge per key, anything else replaces. */
void value_merge(struct value *base, const struct value *overlay);

/* The name of a type as users read it: "a string", "a map"... */
const char *value_type_name(enum value_type type);

#endif
