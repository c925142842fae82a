/* fields.c - typed field access with located error messages. */
#include "registry/fields.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/duration.h"
#include "util/memory.h"
#include "util/size.h"
#include "util/suggest.h"

int field_error(const struct entry *entry, const struct value *node, const char *field,
                struct wippy_error *error, const char *format, ...)
{
    char detail[WIPPY_ERROR_MESSAGE_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    int line = node != NULL && node->line > 0 ? node->line : entry->line;
    return error_set(error, WIPPY_EINVAL, "%s:%d: entry %s: field \"%s\": %s", entry->file, line,
                     entry->id, field, detail);
}

/* ---- which fields a kind reads ---- */

/* The paths read for the entry being loaded: every field a reader asks for
 * is known by that alone, so the list of known fields can never drift from
 * the code that reads them. */
static struct {
    const struct entry *entry;
    char **paths;
    bool *any_below; /* a map of the user's own keys (imports, options) */
    size_t count;
} tracking;

static void track(const struct entry *entry, const char *path, bool any_below)
{
    if (tracking.entry != entry)
        return;
    for (size_t i = 0; i < tracking.count; i++) {
        if (strcmp(tracking.paths[i], path) == 0) {
            tracking.any_below[i] = tracking.any_below[i] || any_below;
            return;
        }
    }
    tracking.paths = xrealloc(tracking.paths, (tracking.count + 1) * sizeof(char *));
    tracking.any_below = xrealloc(tracking.any_below, (tracking.count + 1) * sizeof(bool));
    tracking.paths[tracking.count] = xstrdup(path);
    tracking.any_below[tracking.count++] = any_below;
}

void field_tracking_begin(const struct entry *entry)
{
    tracking.entry = entry;
    tracking.count = 0;
}

void field_allow_any_below(const struct entry *entry, const char *path)
{
    track(entry, path, true);
}

/* read: the path was read as such; below: a read path lies under it. */
static void known(const char *path, bool *read, bool *any_below, bool *below)
{
    size_t length = strlen(path);
    *read = *any_below = *below = false;
    for (size_t i = 0; i < tracking.count; i++) {
        const char *candidate = tracking.paths[i];
        if (strcmp(candidate, path) == 0) {
            *read = true;
            *any_below = *any_below || tracking.any_below[i];
        } else if (strncmp(candidate, path, length) == 0 && candidate[length] == '.') {
            *below = true;
        }
    }
}

static const char *closest_known(const char *prefix, const char *key)
{
    /* the names at this level that a reader asked for */
    const char *names[64];
    static char storage[64][64];
    size_t count = 0, length = strlen(prefix);
    for (size_t i = 0; i < tracking.count && count < 63; i++) {
        const char *candidate = tracking.paths[i];
        if (length > 0 && (strncmp(candidate, prefix, length) != 0 || candidate[length] != '.'))
            continue;
        const char *rest = length > 0 ? candidate + length + 1 : candidate;
        size_t name_length = strcspn(rest, ".");
        if (name_length >= sizeof storage[0])
            continue;
        memcpy(storage[count], rest, name_length);
        storage[count][name_length] = '\0';
        names[count] = storage[count];
        count++;
    }
    names[count] = NULL;
    return suggest_closest(key, names);
}

static int check_map(const struct entry *entry, const struct value *map, const char *prefix,
                     const char *const *unsupported, struct wippy_error *error)
{
    for (size_t i = 0; i < map->as.map.count; i++) {
        const char *key = map->as.map.keys[i];
        const struct value *child = map->as.map.values[i];
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] != '\0' ? "." : "", key);
        if (prefix[0] == '\0' && (strcmp(key, "name") == 0 || strcmp(key, "kind") == 0 ||
                                   strcmp(key, "meta") == 0))
            continue; /* every entry's; meta is free-form, as in Wippy */
        for (size_t u = 0; unsupported != NULL && unsupported[u] != NULL; u++)
            if (strcmp(unsupported[u], path) == 0)
                return field_error(entry, child, path, error,
                                   "Wippy defines it, but this runtime does not implement it");
        bool read, any_below, below;
        known(path, &read, &any_below, &below);
        if (any_below)
            continue;
        if (strchr(key, '.') != NULL) /* "policy.conditions" as one key would pass for the path */
            return field_error(entry, child, path, error, "a field name cannot contain '.'");
        if (below && child->type == VALUE_MAP) {
            int rc = check_map(entry, child, path, unsupported, error);
            if (rc < 0)
                return rc;
            continue;
        }
        if (read)
            continue;
        const char *near = closest_known(prefix, key);
        return field_error(entry, child, path, error, "unknown field for kind %s%s%s%s", entry->kind_name,
                           near != NULL ? " (did you mean \"" : "", near != NULL ? near : "",
                           near != NULL ? "\"?)" : "");
    }
    return WIPPY_OK;
}

int field_tracking_end(const struct entry *entry, const char *const *unsupported, struct wippy_error *error)
{
    int rc = error != NULL ? check_map(entry, entry->node, "", unsupported, error) : WIPPY_OK;
    for (size_t i = 0; i < tracking.count; i++)
        free(tracking.paths[i]);
    free(tracking.paths);
    free(tracking.any_below);
    tracking.paths = NULL;
    tracking.any_below = NULL;
    tracking.count = 0;
    tracking.entry = NULL;
    return rc;
}

static const struct value *field_node(const struct entry *entry, const char *field)
{
    track(entry, field, false);
    const struct value *node = value_map_get_path(entry->node, field);
    return node != NULL && node->type == VALUE_NULL ? NULL : node;
}

const struct value *field_lookup(const struct entry *entry, const char *field)
{
    return field_node(entry, field);
}

int field_string(const struct entry *entry, const char *field, bool required,
                 const char *fallback, char **out, struct wippy_error *error)
{
    const struct value *node = field_node(entry, field);
    if (node == NULL) {
        if (required)
            return field_error(entry, NULL, field, error, "is required");
        *out = fallback ? xstrdup(fallback) : NULL;
        return WIPPY_OK;
    }
    if (node->type != VALUE_STRING)
        return field_error(entry, node, field, error, "expected a string, got %s",
                           value_type_name(node->type));
    if (node->as.string.length != strlen(node->as.string.bytes))
        return field_error(entry, node, field, error, "contains a NUL byte");
    if (required && node->as.string.length == 0)
        return field_error(entry, node, field, error, "must not be empty");
    *out = xstrdup(node->as.string.bytes);
    return WIPPY_OK;
}

int field_boolean(const struct entry *entry, const char *field, bool fallback, bool *out,
                  struct wippy_error *error)
{
    const struct value *node = field_node(entry, field);
    if (node == NULL) {
        *out = fallback;
        return WIPPY_OK;
    }
    if (node->type != VALUE_BOOLEAN)
        return field_error(entry, node, field, error, "expected true or false, got %s",
                           value_type_name(node->type));
    *out = node->as.boolean;
    return WIPPY_OK;
}

int field_port(const struct entry *entry, const char *field, bool required, int fallback,
               int *out, struct wippy_error *error)
{
    const struct value *node = field_node(entry, field);
    if (node == NULL) {
        if (required)
            return field_error(entry, NULL, field, error, "is required");
        *out = fallback;
        return WIPPY_OK;
    }
    if (node->type != VALUE_INTEGER || node->as.integer < 1 || node->as.integer > 65535)
        return field_error(entry, node, field, error, "expected a port number from 1 to 65535");
    *out = (int)node->as.integer;
    return WIPPY_OK;
}

int field_count(const struct entry *entry, const char *field, int64_t fallback, int64_t *out,
                struct wippy_error *error)
{
    const struct value *node = field_node(entry, field);
    *out = fallback;
    if (node == NULL)
        return WIPPY_OK;
    if (node->type != VALUE_INTEGER || node->as.integer < 1)
        return field_error(entry, node, field, error, "expected a whole number of at least 1");
    *out = node->as.integer;
    return WIPPY_OK;
}

int field_duration(const struct entry *entry, const char *field, int64_t fallback,
                   int64_t *out, struct wippy_error *error)
{
    const struct value *node = field_node(entry, field);
    if (node == NULL) {
        *out = fallback;
        return WIPPY_OK;
    }
    struct wippy_error detail;
    int rc;
    if (node->type == VALUE_INTEGER)
        rc = duration_from_seconds((double)node->as.integer, out, &detail);
    else if (node->type == VALUE_NUMBER)
        rc = duration_from_seconds(node->as.number, out, &detail);
    else if (node->type == VALUE_STRING)
        rc = duration_parse(node->as.string.bytes, out, &detail);
    else
        return field_error(entry, node, field, error, "expected a duration, got %s",
                           value_type_name(node->type));
    if (rc < 0)
        return field_error(entry, node, field, error, "%s", detail.message);
    if (*out < 0)
        return field_error(entry, node, field, error, "must not be negative");
    return WIPPY_OK;
}

int field_size(const struct entry *entry, const char *field, int64_t *out, struct wippy_error *error)
{
    const struct value *node = field_node(entry, field);
    *out = 0;
    if (node == NULL)
        return WIPPY_OK;
    if (node->type == VALUE_INTEGER && node->as.integer >= 0) {
        *out = node->as.integer;
        return WIPPY_OK;
    }
    if (node->type == VALUE_STRING && size_parse(node->as.string.bytes, out))
        return WIPPY_OK;
    return field_error(entry, node, field, error, "expected a size such as 64M or 1G");
}

int field_string_list(const struct entry *entry, const char *field, bool required,
                      char ***out, size_t *count, struct wippy_error *error)
{
    const struct value *node = field_node(entry, field);
    *out = NULL;
    *count = 0;
    if (node == NULL)
        return required ? field_error(entry, NULL, field, error, "is required") : WIPPY_OK;
    if (node->type == VALUE_STRING) {
        *out = xmalloc(sizeof(char *));
        (*out)[0] = xstrdup(node->as.string.bytes);
        *count = 1;
        return WIPPY_OK;
    }
    if (node->type != VALUE_SEQUENCE)
        return field_error(entry, node, field, error, "expected a list of strings, got %s",
                           value_type_name(node->type));
    char **items = xcalloc(node->as.sequence.count + 1, sizeof(char *));
    for (size_t i = 0; i < node->as.sequence.count; i++) {
        const struct value *item = node->as.sequence.items[i];
        if (item->type != VALUE_STRING) {
            field_free_list(items, i);
            return field_error(entry, item, field, error, "item %zu: expected a string, got %s",
                               i + 1, value_type_name(item->type));
        }
        items[i] = xstrdup(item->as.string.bytes);
    }
    *out = items;
    *count = node->as.sequence.count;
    return WIPPY_OK;
}

int field_map(const struct entry *entry, const char *field, const struct value **out,
              struct wippy_error *error)
{
    const struct value *node = field_node(entry, field);
    *out = NULL;
    if (node == NULL)
        return WIPPY_OK;
    if (node->type != VALUE_MAP)
        return field_error(entry, node, field, error, "expected a map, got %s",
                           value_type_name(node->type));
    *out = node;
    return WIPPY_OK;
}

int field_reference(const struct entry *entry, const char *field, bool required, char **out,
                    struct wippy_error *error)
{
    char *text = NULL;
    int rc = field_string(entry, field, required, NULL, &text, error);
    if (rc < 0 || text == NULL) {
        *out = NULL;
        return rc;
    }
    *out = entry_qualify_reference(entry->namespace_name, text);
    free(text);
    return WIPPY_OK;
}

void field_free_list(char **items, size_t count)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}
