/* yaml_load.c - libyaml's document API turned into value trees. */
#include "util/yaml_load.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/memory.h"

static bool text_equals_any(const char *text, const char *const *choices)
{
    for (; *choices != NULL; choices++)
        if (strcmp(text, *choices) == 0)
            return true;
    return false;
}

struct value *yaml_resolve_plain_scalar(const char *text, size_t length)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const infinities[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const negative_infinities[] = {"-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};

    if (strlen(text) != length)
        return value_new_string(text, length);
    if (text_equals_any(text, nulls))
        return value_new_null();
    if (text_equals_any(text, trues))
        return value_new_boolean(true);
    if (text_equals_any(text, falses))
        return value_new_boolean(false);
    if (text_equals_any(text, infinities))
        return value_new_number(INFINITY);
    if (text_equals_any(text, negative_infinities))
        return value_new_number(-INFINITY);
    if (text_equals_any(text, nans))
        return value_new_number(NAN);

    char *end = NULL;
    errno = 0;
    int base = 10;
    const char *digits = text;
    if (strncmp(text, "0x", 2) == 0) {
        base = 16;
        digits = text + 2;
    } else if (strncmp(text, "0o", 2) == 0) {
        base = 8;
        digits = text + 2;
    }
    if (*digits != '\0' && strchr(" \t", *digits) == NULL) {
        long long integer = strtoll(digits, &end, base);
        if (errno == 0 && end != NULL && *end == '\0')
            return value_new_integer(integer);
    }
    if (strchr("+-.0123456789", text[0]) != NULL) {
        errno = 0;
        double number = strtod(text, &end);
        if (errno == 0 && end != NULL && *end == '\0' && strpbrk(text, "xXpP") == NULL)
            return value_new_number(number);
    }
    return value_new_string(text, length);
}

/* Aliases make a small file describe a huge tree ("billion laughs"): the
 * tree built from one file is bounded, and so are the aliases followed. */
#define MAX_NODES 1000000
#define MAX_ALIAS_USES 10000
#define MAX_TEXT_BYTES (64u << 20) /* of all the scalars built: an alias copies its text again */

struct conversion {
    const char *name;
    yaml_document_t *document;
    size_t nodes;       /* values built so far */
    size_t alias_uses;  /* nodes reached again through an alias */
    size_t text_bytes;  /* of the scalars built so far */
    unsigned char *seen; /* per document node: reached before */
};

/* A set of the keys of one map being read, for finding a duplicate in
 * time linear in the map's size. */
struct key_set {
    const char **slots;
    size_t mask;
};

static uint64_t hash_text(const char *text)
{
    uint64_t hash = 1469598103934665603u; /* FNV-1a */
    for (; *text != '\0'; text++)
        hash = (hash ^ (unsigned char)*text) * 1099511628211u;
    return hash;
}

/* Adds key; false when it was there already. */
static bool key_set_add(struct key_set *set, const char *key)
{
    for (size_t at = hash_text(key) & set->mask;; at = (at + 1) & set->mask) {
        if (set->slots[at] == NULL) {
            set->slots[at] = key;
            return true;
        }
        if (strcmp(set->slots[at], key) == 0)
            return false;
    }
}

static int convert_node(struct conversion *conversion, yaml_node_t *node, int depth, struct value **out,
                        struct wippy_error *error)
{
    const char *name = conversion->name;
    yaml_document_t *document = conversion->document;
    int line = (int)node->start_mark.line + 1;
    if (depth > 64)
        return error_set(error, WIPPY_EINVAL, "%s:%d: nesting deeper than 64 levels", name, line);
    size_t index = (size_t)(node - document->nodes.start);
    if (conversion->seen[index] && ++conversion->alias_uses > MAX_ALIAS_USES)
        return error_set(error, WIPPY_EINVAL, "%s:%d: more than %d uses of aliases", name, line,
                         MAX_ALIAS_USES);
    conversion->seen[index] = 1;
    if (++conversion->nodes > MAX_NODES)
        return error_set(error, WIPPY_EINVAL, "%s:%d: the document expands to more than %d values "
                         "(aliases inside aliases?)", name, line, MAX_NODES);

    struct value *value = NULL;
    switch (node->type) {
    case YAML_SCALAR_NODE: {
        const char *text = (const char *)node->data.scalar.value;
        size_t length = node->data.scalar.length;
        conversion->text_bytes += length;
        if (conversion->text_bytes > MAX_TEXT_BYTES)
            return error_set(error, WIPPY_EINVAL, "%s:%d: the document expands to more than %u MiB of text "
                             "(aliases of long values?)", name, line, MAX_TEXT_BYTES >> 20);
        if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            value = yaml_resolve_plain_scalar(text, length);
        else
            value = value_new_string(text, length);
        break;
    }
    case YAML_SEQUENCE_NODE:
        value = value_new_sequence();
        for (yaml_node_item_t *item = node->data.sequence.items.start;
             item < node->data.sequence.items.top; item++) {
            struct value *child = NULL;
            int rc = convert_node(conversion, yaml_document_get_node(document, *item), depth + 1, &child,
                                  error);
            if (rc < 0) {
                value_free(value);
                return rc;
            }
            value_sequence_append(value, child);
        }
        break;
    case YAML_MAPPING_NODE: {
        value = value_new_map();
        size_t pairs = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
        size_t room = 8;
        while (room < pairs * 2)
            room *= 2;
        struct key_set keys = {xcalloc(room, sizeof(const char *)), room - 1};
        int rc = WIPPY_OK;
        for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
             rc == WIPPY_OK && pair < node->data.mapping.pairs.top; pair++) {
            yaml_node_t *key = yaml_document_get_node(document, pair->key);
            int key_line = (int)key->start_mark.line + 1;
            if (key->type != YAML_SCALAR_NODE) {
                rc = error_set(error, WIPPY_EINVAL, "%s:%d: map keys must be plain text", name, key_line);
                break;
            }
            const char *key_text = (const char *)key->data.scalar.value;
            if (!key_set_add(&keys, key_text)) {
                rc = error_set(error, WIPPY_EINVAL, "%s:%d: duplicate key \"%s\"", name, key_line, key_text);
                break;
            }
            struct value *child = NULL;
            rc = convert_node(conversion, yaml_document_get_node(document, pair->value), depth + 1, &child,
                              error);
            if (rc == WIPPY_OK)
                value_map_append(value, key_text, child);
        }
        free(keys.slots);
        if (rc < 0) {
            value_free(value);
            return rc;
        }
        break;
    }
    default:
        return error_set(error, WIPPY_EINVAL, "%s:%d: empty YAML node", name, line);
    }
    value->line = line;
    *out = value;
    return WIPPY_OK;
}

int yaml_load_text(const char *name, const char *text, size_t length, struct value **out,
                   struct wippy_error *error)
{
    yaml_parser_t parser;
    yaml_document_t document;
    *out = NULL;
    if (!yaml_parser_initialize(&parser))
        return error_set(error, WIPPY_ENOMEM, "%s: cannot start the YAML parser", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, length);
    if (!yaml_parser_load(&parser, &document)) {
        int rc = error_set(error, WIPPY_EINVAL, "%s:%zu: invalid YAML: %s%s%s", name,
                           parser.problem_mark.line + 1,
                           parser.problem ? parser.problem : "syntax error",
                           parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return rc;
    }
    int rc = WIPPY_OK;
    yaml_node_t *root = yaml_document_get_root_node(&document);
    if (root != NULL) {
        struct conversion conversion = {name, &document, 0, 0, 0, NULL};
        conversion.seen = xcalloc((size_t)(document.nodes.top - document.nodes.start) + 1, 1);
        rc = convert_node(&conversion, root, 0, out, error);
        free(conversion.seen);
    }
    yaml_document_delete(&document);
    yaml_parser_delete(&parser);
    return rc;
}

int yaml_load_file(const char *path, struct value **out, struct wippy_error *error)
{
    *out = NULL;
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return error_set(error, WIPPY_ENOENT, "%s: cannot open: %s", path, strerror(errno));
    size_t capacity = 4096, length = 0;
    char *text = xmalloc(capacity);
    size_t got;
    while ((got = fread(text + length, 1, capacity - length, file)) > 0) {
        length += got;
        if (length == capacity)
            text = xrealloc(text, capacity *= 2);
    }
    bool failed = ferror(file);
    fclose(file);
    if (failed) {
        free(text);
        return error_set(error, WIPPY_EIO, "%s: cannot read", path);
    }
    int rc = yaml_load_text(path, text, length, out, error);
    free(text);
    return rc;
}
