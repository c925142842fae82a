/* override.c - command-line overrides of entry fields (override.h). */
#include "registry/override.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/memory.h"

/* What Go Wippy makes of the text: true/false, a whole number written as
 * one, a number with a point or an exponent, or the text as it is. */
static struct value *parse_value(const char *raw)
{
    const char *start = raw, *end = raw + strlen(raw);
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    size_t length = (size_t)(end - start);
    char *trimmed = xstrndup(start, length);
    struct value *value = NULL;
    if (length == 0) {
        value = value_new_string(raw, strlen(raw));
    } else if (strcasecmp(trimmed, "true") == 0 || strcasecmp(trimmed, "false") == 0) {
        value = value_new_boolean(tolower((unsigned char)trimmed[0]) == 't');
    } else {
        char *stop = NULL;
        errno = 0;
        long long integer = strtoll(trimmed, &stop, 10);
        bool canonical = *stop == '\0' && errno == 0 && trimmed[0] != '+' &&
                         !(trimmed[0] == '0' && length > 1) && strncmp(trimmed, "-0", 2) != 0;
        if (canonical) {
            value = value_new_integer(integer);
        } else if (strpbrk(trimmed, ".eE") != NULL) {
            errno = 0;
            double number = strtod(trimmed, &stop);
            if (*stop == '\0' && errno == 0)
                value = value_new_number(number);
        }
        if (value == NULL)
            value = value_new_string(raw, strlen(raw));
    }
    free(trimmed);
    return value;
}

int override_parse(const char *text, struct registry_override *out, struct wippy_error *error)
{
    memset(out, 0, sizeof *out);
    out->text = text;
    const char *equals = strchr(text, '=');
    const char *first = strchr(text, ':');
    const char *second = first != NULL && (equals == NULL || first < equals) ? strchr(first + 1, ':') : NULL;
    if (equals == NULL || first == NULL || first > equals || second == NULL || second > equals)
        return error_set(error, WIPPY_EINVAL, "-o %s: expected namespace:entry:field=value", text);
    if (first == text || second == first + 1 || equals == second + 1)
        return error_set(error, WIPPY_EINVAL, "-o %s: the %s is empty (namespace:entry:field=value)", text,
                         first == text ? "namespace" : second == first + 1 ? "entry name" : "field");
    out->entry_id = xstrndup(text, (size_t)(second - text));
    out->path = xstrndup(second + 1, (size_t)(equals - second - 1));
    for (const char *segment = out->path; segment != NULL;) {
        const char *dot = strchr(segment, '.');
        if (dot == segment || *segment == '\0') {
            override_release(out);
            return error_set(error, WIPPY_EINVAL, "-o %s: a field path has an empty part", text);
        }
        segment = dot != NULL ? dot + 1 : NULL;
    }
    out->value = parse_value(equals + 1);
    return WIPPY_OK;
}

void override_release(struct registry_override *override)
{
    free(override->entry_id);
    free(override->path);
    value_free(override->value);
    override->entry_id = override->path = NULL;
    override->value = NULL;
}

static void set_lines(struct value *value, int line)
{
    value->line = line;
    if (value->type == VALUE_MAP)
        for (size_t i = 0; i < value->as.map.count; i++)
            set_lines(value->as.map.values[i], line);
}

static int apply_one(const struct registry_override *override, struct value *node, struct wippy_error *error)
{
    struct value *map = node;
    char *path = xstrdup(override->path);
    char *segment = path;
    for (char *dot = strchr(segment, '.'); dot != NULL; dot = strchr(segment, '.')) {
        *dot = '\0';
        struct value *child = (struct value *)value_map_get(map, segment);
        if (child == NULL) {
            child = value_new_map();
            child->line = node->line;
            value_map_set(map, segment, child);
        } else if (child->type != VALUE_MAP) {
            int rc = error_set(error, WIPPY_EINVAL, "-o %s: %s of entry %s is %s, not a map", override->text,
                               segment, override->entry_id, value_type_name(child->type));
            free(path);
            return rc;
        }
        map = child;
        segment = dot + 1;
    }
    struct value *value = value_copy(override->value);
    set_lines(value, node->line);
    value_map_set(map, segment, value);
    free(path);
    return WIPPY_OK;
}

int override_apply(struct registry_override *overrides, size_t count, const char *entry_id, struct value *node,
                   struct wippy_error *error)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(overrides[i].entry_id, entry_id) != 0)
            continue;
        int rc = apply_one(&overrides[i], node, error);
        if (rc < 0)
            return rc;
        overrides[i].applied = true;
    }
    return WIPPY_OK;
}

int override_check_all_applied(const struct registry_override *overrides, size_t count, struct wippy_error *error)
{
    for (size_t i = 0; i < count; i++)
        if (!overrides[i].applied)
            return error_set(error, WIPPY_EINVAL, "-o %s: no entry %s", overrides[i].text, overrides[i].entry_id);
    return WIPPY_OK;
}
