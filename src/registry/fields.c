/* fields.c - typed field access with located error messages. */
#include "registry/fields.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/duration.h"
#include "util/memory.h"
#include "util/size.h"

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

static const struct value *field_node(const struct entry *entry, const char *field)
{
    const struct value *node = value_map_get_path(entry->node, field);
    return node != NULL && node->type == VALUE_NULL ? NULL : node;
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
