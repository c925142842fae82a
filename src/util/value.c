/* value.c - construction, lookup, copy and merge of value trees. */
#include "util/value.h"

#include <stdlib.h>
#include <string.h>

#include "util/memory.h"

static struct value *value_new(enum value_type type)
{
    struct value *value = xcalloc(1, sizeof *value);
    value->type = type;
    return value;
}

struct value *value_new_null(void) { return value_new(VALUE_NULL); }

struct value *value_new_boolean(bool boolean)
{
    struct value *value = value_new(VALUE_BOOLEAN);
    value->as.boolean = boolean;
    return value;
}

struct value *value_new_integer(long long integer)
{
    struct value *value = value_new(VALUE_INTEGER);
    value->as.integer = integer;
    return value;
}

struct value *value_new_number(double number)
{
    struct value *value = value_new(VALUE_NUMBER);
    value->as.number = number;
    return value;
}

struct value *value_new_string(const char *bytes, size_t length)
{
    struct value *value = value_new(VALUE_STRING);
    value->as.string.bytes = xstrndup(bytes, length);
    value->as.string.length = length;
    return value;
}

struct value *value_new_sequence(void) { return value_new(VALUE_SEQUENCE); }
struct value *value_new_map(void) { return value_new(VALUE_MAP); }

void value_sequence_append(struct value *sequence, struct value *item)
{
    size_t count = sequence->as.sequence.count;
    sequence->as.sequence.items =
        xrealloc(sequence->as.sequence.items, (count + 1) * sizeof(struct value *));
    sequence->as.sequence.items[count] = item;
    sequence->as.sequence.count = count + 1;
}

void value_map_append(struct value *map, const char *key, struct value *item)
{
    size_t count = map->as.map.count;
    if ((count & (count - 1)) == 0) { /* the room doubles at each power of two */
        size_t room = count == 0 ? 4 : count * 2;
        map->as.map.keys = xrealloc(map->as.map.keys, room * sizeof(char *));
        map->as.map.values = xrealloc(map->as.map.values, room * sizeof(struct value *));
    }
    map->as.map.keys[count] = xstrdup(key);
    map->as.map.values[count] = item;
    map->as.map.count = count + 1;
}

void value_map_set(struct value *map, const char *key, struct value *item)
{
    for (size_t i = 0; i < map->as.map.count; i++) {
        if (strcmp(map->as.map.keys[i], key) == 0) {
            value_free(map->as.map.values[i]);
            map->as.map.values[i] = item;
            return;
        }
    }
    value_map_append(map, key, item);
}

const struct value *value_map_get(const struct value *map, const char *key)
{
    if (map == NULL || map->type != VALUE_MAP)
        return NULL;
    for (size_t i = 0; i < map->as.map.count; i++)
        if (strcmp(map->as.map.keys[i], key) == 0)
            return map->as.map.values[i];
    return NULL;
}

const struct value *value_map_get_path(const struct value *map, const char *path)
{
    const struct value *current = map;
    const char *segment = path;
    while (current != NULL) {
        const char *dot = strchr(segment, '.');
        size_t length = dot ? (size_t)(dot - segment) : strlen(segment);
        char key[256];
        if (length >= sizeof key)
            return NULL;
        memcpy(key, segment, length);
        key[length] = '\0';
        current = value_map_get(current, key);
        if (dot == NULL)
            return current;
        segment = dot + 1;
    }
    return NULL;
}

struct value *value_copy(const struct value *value)
{
    struct value *copy;
    switch (value->type) {
    case VALUE_STRING:
        copy = value_new_string(value->as.string.bytes, value->as.string.length);
        break;
    case VALUE_SEQUENCE:
        copy = value_new_sequence();
        for (size_t i = 0; i < value->as.sequence.count; i++)
            value_sequence_append(copy, value_copy(value->as.sequence.items[i]));
        break;
    case VALUE_MAP:
        copy = value_new_map();
        for (size_t i = 0; i < value->as.map.count; i++)
            value_map_set(copy, value->as.map.keys[i], value_copy(value->as.map.values[i]));
        break;
    default:
        copy = value_new(value->type);
        copy->as = value->as;
        break;
    }
    copy->line = value->line;
    return copy;
}

void value_free(struct value *value)
{
    if (value == NULL)
        return;
    switch (value->type) {
    case VALUE_STRING:
        free(value->as.string.bytes);
        break;
    case VALUE_SEQUENCE:
        for (size_t i = 0; i < value->as.sequence.count; i++)
            value_free(value->as.sequence.items[i]);
        free(value->as.sequence.items);
        break;
    case VALUE_MAP:
        for (size_t i = 0; i < value->as.map.count; i++) {
            free(value->as.map.keys[i]);
            value_free(value->as.map.values[i]);
        }
        free(value->as.map.keys);
        free(value->as.map.values);
        break;
    default:
        break;
    }
    free(value);
}

void value_merge(struct value *base, const struct value *overlay)
{
    if (base->type != VALUE_MAP || overlay->type != VALUE_MAP)
        return;
    for (size_t i = 0; i < overlay->as.map.count; i++) {
        const char *key = overlay->as.map.keys[i];
        const struct value *incoming = overlay->as.map.values[i];
        struct value *existing = (struct value *)value_map_get(base, key);
        if (existing != NULL && existing->type == VALUE_MAP && incoming->type == VALUE_MAP)
            value_merge(existing, incoming);
        else
            value_map_set(base, key, value_copy(incoming));
    }
}

const char *value_type_name(enum value_type type)
{
    switch (type) {
    case VALUE_NULL: return "null";
    case VALUE_BOOLEAN: return "a boolean";
    case VALUE_INTEGER: return "an integer";
    case VALUE_NUMBER: return "a number";
    case VALUE_STRING: return "a string";
    case VALUE_SEQUENCE: return "a list";
    case VALUE_MAP: return "a map";
    }
    return "unknown";
}
