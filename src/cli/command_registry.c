/* command_registry.c - `wippy registry list [--json]` and `wippy registry
 * show ID [--json]`: the entries the project declares, as the runtime read
 * them, without starting anything. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "registry/registry.h"
#include "util/memory.h"

/* Text as JSON: bytes that are not UTF-8 written as \xNN, never dropped. */
static json_t *text_of(const char *bytes, size_t length)
{
    json_t *text = json_stringn(bytes, length);
    if (text != NULL)
        return text;
    char *escaped = xmalloc(length * 4 + 1);
    size_t out = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c < 0x80 && c != '\\')
            escaped[out++] = (char)c;
        else
            out += (size_t)snprintf(escaped + out, 5, "\\x%02x", c);
    }
    text = json_stringn(escaped, out);
    free(escaped);
    return text;
}

static json_t *to_json(const struct value *value)
{
    switch (value->type) {
    case VALUE_NULL: return json_null();
    case VALUE_BOOLEAN: return json_boolean(value->as.boolean);
    case VALUE_INTEGER: return json_integer(value->as.integer);
    case VALUE_NUMBER: /* YAML's .inf and .nan have no JSON number */
        return isfinite(value->as.number) ? json_real(value->as.number)
               : json_string(isnan(value->as.number) ? ".nan" : value->as.number > 0 ? ".inf" : "-.inf");
    case VALUE_STRING:
        return text_of(value->as.string.bytes, value->as.string.length);
    case VALUE_SEQUENCE: {
        json_t *array = json_array();
        for (size_t i = 0; i < value->as.sequence.count; i++)
            json_array_append_new(array, to_json(value->as.sequence.items[i]));
        return array;
    }
    case VALUE_MAP: {
        json_t *object = json_object();
        for (size_t i = 0; i < value->as.map.count; i++) {
            const char *key = value->as.map.keys[i];
            json_t *name = text_of(key, strlen(key));
            json_object_set_new(object, json_string_value(name), to_json(value->as.map.values[i]));
            json_decref(name);
        }
        return object;
    }
    }
    return json_null();
}

static json_t *describe(const struct entry *entry)
{
    json_t *object = json_object();
    json_object_set_new(object, "id", text_of(entry->id, strlen(entry->id)));
    json_object_set_new(object, "kind", json_string(entry->kind_name));
    json_object_set_new(object, "file", text_of(entry->file, strlen(entry->file)));
    json_object_set_new(object, "line", json_integer(entry->line));
    return object;
}

static int compare_ids(const void *a, const void *b)
{
    const struct entry *const *x = a, *const *y = b;
    return strcmp((*x)->id, (*y)->id);
}

static void print_json(json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (text != NULL)
        puts(text);
    free(text);
    json_decref(value);
}

static int list(const struct registry *registry, bool as_json)
{
    const struct entry **sorted = calloc(registry->count + 1, sizeof *sorted);
    for (size_t i = 0; i < registry->count; i++)
        sorted[i] = registry->entries[i];
    qsort(sorted, registry->count, sizeof *sorted, compare_ids);
    json_t *array = as_json ? json_array() : NULL;
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = sorted[i];
        if (as_json)
            json_array_append_new(array, describe(entry));
        else
            printf("%s\t%s\n", entry->id, entry->kind_name);
    }
    if (as_json)
        print_json(array);
    free(sorted);
    return 0;
}

static int show(const struct registry *registry, const char *id, bool as_json)
{
    const struct entry *entry = registry_find(registry, id);
    if (entry == NULL) {
        fprintf(stderr, "wippy registry show: no entry %s (see wippy registry list)\n", id);
        return 1;
    }
    if (as_json) {
        json_t *object = describe(entry);
        json_object_set_new(object, "fields", to_json(entry->node));
        print_json(object);
        return 0;
    }
    printf("id: %s\nkind: %s\nfile: %s:%d\n", entry->id, entry->kind_name, entry->file, entry->line);
    for (size_t i = 0; i < entry->node->as.map.count; i++) {
        const char *key = entry->node->as.map.keys[i];
        if (strcmp(key, "name") == 0 || strcmp(key, "kind") == 0)
            continue;
        json_t *value = to_json(entry->node->as.map.values[i]);
        char *text = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        printf("%s: %s\n", key, text != NULL ? text : "?");
        free(text);
        json_decref(value);
    }
    return 0;
}

int cli_command_registry(const struct cli_options *options)
{
    const char *action = options->argument_count > 0 ? options->arguments[0] : NULL;
    bool as_json = false;
    const char *id = NULL;
    for (int i = 1; i < options->argument_count; i++) {
        if (strcmp(options->arguments[i], "--json") == 0)
            as_json = true;
        else if (id == NULL && options->arguments[i][0] != '-')
            id = options->arguments[i];
        else {
            fprintf(stderr, "wippy registry: unknown option \"%s\"\n", options->arguments[i]);
            return 2;
        }
    }
    bool listing = action != NULL && strcmp(action, "list") == 0 && id == NULL;
    bool showing = action != NULL && strcmp(action, "show") == 0 && id != NULL;
    if (!listing && !showing) {
        fprintf(stderr, "usage: wippy registry list [--json] | wippy registry show ID [--json]\n");
        return 2;
    }
    struct registry *registry = NULL;
    if (cli_load_registry(options, &registry) < 0)
        return 1;
    int status = listing ? list(registry, as_json) : show(registry, id, as_json);
    registry_free(registry);
    return status;
}
