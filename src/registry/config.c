/* config.c - composing configuration files and overrides. */
#include "registry/config.h"

#include <errno.h>
#include <libgen.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/duration.h"
#include "util/memory.h"
#include "util/size.h"
#include "util/suggest.h"
#include "util/yaml_load.h"

/* Builds {a: {b: {c: value}}} for "a.b.c=value". */
static int parse_set(const char *assignment, struct value **out, struct wippy_error *error)
{
    const char *equals = strchr(assignment, '=');
    if (equals == NULL || equals == assignment)
        return error_set(error, WIPPY_EINVAL, "--set %s: expected section.path=value", assignment);
    char *path = xstrndup(assignment, (size_t)(equals - assignment));
    const char *text = equals + 1;
    struct value *leaf = yaml_resolve_plain_scalar(text, strlen(text));
    /* Wrap the leaf from the last segment to the first. */
    struct value *tree = leaf;
    char *segment_end = path + strlen(path);
    while (segment_end > path) {
        char *dot = segment_end - 1;
        while (dot > path && *dot != '.')
            dot--;
        char *segment = *dot == '.' ? dot + 1 : dot;
        *segment_end = '\0';
        if (*segment == '\0') {
            value_free(tree);
            int rc = error_set(error, WIPPY_EINVAL, "--set %s: empty path segment", assignment);
            free(path);
            return rc;
        }
        struct value *parent = value_new_map();
        value_map_set(parent, segment, tree);
        tree = parent;
        segment_end = dot;
    }
    free(path);
    *out = tree;
    return WIPPY_OK;
}

/* "${env:NAME}" in a string of a configuration file becomes the value of
 * the environment variable NAME; an unset one is an error, never the
 * literal text. */
static int expand_environment(struct value *value, const char *file, struct wippy_error *error)
{
    if (value->type == VALUE_MAP || value->type == VALUE_SEQUENCE) {
        size_t count = value->type == VALUE_MAP ? value->as.map.count : value->as.sequence.count;
        struct value **items = value->type == VALUE_MAP ? value->as.map.values : value->as.sequence.items;
        for (size_t i = 0; i < count; i++) {
            int rc = expand_environment(items[i], file, error);
            if (rc < 0)
                return rc;
        }
        return WIPPY_OK;
    }
    if (value->type != VALUE_STRING || strstr(value->as.string.bytes, "${env:") == NULL)
        return WIPPY_OK;
    const char *text = value->as.string.bytes;
    size_t total = value->as.string.length;
    if (strncmp(text, "${env:", 6) == 0 && text[total - 1] == '}' && memchr(text, '}', total) == text + total - 1) {
        /* the whole value is one variable: read as YAML would read its text
         * (port: ${env:PORT} is a number, strict_mode: ${env:STRICT} true or false) */
        char *variable = xstrndup(text + 6, total - 7);
        const char *found = variable[0] != '\0' ? getenv(variable) : NULL;
        if (found == NULL) {
            int rc = error_set(error, WIPPY_EINVAL, "%s:%d: ${env:%s}: the environment variable is not set",
                               file, value->line > 0 ? value->line : 1, variable);
            free(variable);
            return rc;
        }
        free(variable);
        struct value *resolved = yaml_resolve_plain_scalar(found, strlen(found));
        if (resolved->type == VALUE_NULL) { /* an empty variable must not unset a setting */
            value_free(resolved);
            return error_set(error, WIPPY_EINVAL, "%s:%d: ${env:%.*s}: the environment variable is empty",
                             file, value->line > 0 ? value->line : 1, (int)(total - 7), text + 6);
        }
        int line = value->line;
        free(value->as.string.bytes);
        *value = *resolved;
        value->line = line;
        free(resolved); /* its contents now belong to value */
        return WIPPY_OK;
    }
    char *expanded = xstrdup("");
    for (const char *marker; (marker = strstr(text, "${env:")) != NULL;) {
        const char *name = marker + 6;
        const char *close = strchr(name, '}');
        if (close == NULL || close == name) {
            free(expanded);
            return error_set(error, WIPPY_EINVAL, "%s:%d: \"${env:\" without a variable name and \"}\"", file,
                             value->line > 0 ? value->line : 1);
        }
        char *variable = xstrndup(name, (size_t)(close - name));
        const char *found = getenv(variable);
        if (found == NULL) {
            int rc = error_set(error, WIPPY_EINVAL, "%s:%d: ${env:%s}: the environment variable is not set",
                               file, value->line > 0 ? value->line : 1, variable);
            free(variable);
            free(expanded);
            return rc;
        }
        char *joined = xasprintf("%s%.*s%s", expanded, (int)(marker - text), text, found);
        free(variable);
        free(expanded);
        expanded = joined;
        text = close + 1;
    }
    char *joined = xasprintf("%s%s", expanded, text);
    free(expanded);
    free(value->as.string.bytes);
    value->as.string.bytes = joined;
    value->as.string.length = strlen(joined);
    return WIPPY_OK;
}

static int setting_error(const char *where, const struct value *node, const char *path,
                         struct wippy_error *error, const char *expected)
{
    return error_set(error, WIPPY_EINVAL, "%s:%d: %s: expected %s", where,
                     node->line > 0 ? node->line : 1, path, expected);
}

/* A duration setting (seconds, or Go syntax such as "10ms") of at least
 * minimum_ns, or fallback when absent. */
static int read_duration(const struct value *root, const char *where, const char *path,
                         int64_t fallback, int64_t minimum_ns, int64_t *out, struct wippy_error *error)
{
    const struct value *node = value_map_get_path(root, path);
    *out = fallback;
    if (node == NULL || node->type == VALUE_NULL)
        return WIPPY_OK;
    struct wippy_error reason;
    int rc;
    if (node->type == VALUE_STRING)
        rc = duration_parse(node->as.string.bytes, out, &reason);
    else if (node->type == VALUE_INTEGER)
        rc = duration_from_seconds((double)node->as.integer, out, &reason);
    else if (node->type == VALUE_NUMBER)
        rc = duration_from_seconds(node->as.number, out, &reason);
    else
        rc = WIPPY_EINVAL;
    if (rc < 0 || *out < minimum_ns)
        return setting_error(where, node, path, error, "a duration such as \"10ms\"");
    return WIPPY_OK;
}

/* The cores this process may run on (its affinity, which containers and
 * taskset narrow), at most CONFIG_MAX_THREADS: scheduler.threads' default. */
static int64_t usable_cores(void)
{
    cpu_set_t set;
    int count = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (count < 1)
        return 1;
    return count < CONFIG_MAX_THREADS ? count : CONFIG_MAX_THREADS;
}

/* A whole number setting of at least minimum, or fallback when absent. */
static int read_count(const struct value *root, const char *where, const char *path, int64_t fallback,
                      int64_t minimum, int64_t *out, struct wippy_error *error)
{
    const struct value *node = value_map_get_path(root, path);
    *out = fallback;
    if (node == NULL || node->type == VALUE_NULL)
        return WIPPY_OK;
    if (node->type != VALUE_INTEGER || node->as.integer < minimum)
        return setting_error(where, node, path, error, "a whole number of at least 1");
    *out = node->as.integer;
    return WIPPY_OK;
}

/* A size in bytes: a whole number, or text such as "512M" (util/size.h). */
static bool parse_size(const struct value *node, int64_t *out)
{
    if (node->type == VALUE_INTEGER && node->as.integer >= 0) {
        *out = node->as.integer;
        return true;
    }
    return node->type == VALUE_STRING && size_parse(node->as.string.bytes, out);
}

static int read_size(const struct value *root, const char *where, const char *path, int64_t *out,
                     struct wippy_error *error)
{
    const struct value *node = value_map_get_path(root, path);
    *out = 0;
    if (node == NULL || node->type == VALUE_NULL)
        return WIPPY_OK;
    if (!parse_size(node, out))
        return setting_error(where, node, path, error, "a size such as 512M or 1G");
    return WIPPY_OK;
}

/* The sections this runtime adds, with every setting they may hold: a
 * misspelt one is refused, never ignored. */
static const struct {
    const char *section;
    const char *const settings[5];
} own_sections[] = {
    {"scheduler", {"time_slice", "unyieldable_limit", "heap_size", "threads", NULL}},
    {"funcs", {"max_depth", NULL}},
    {"process", {"max_inbox", NULL}},
    {"vm", {"memory_limit", NULL}},
    /* Wippy's sections, as far as this runtime reads them */
    {"network_service", {"state_dir", "default_network", NULL}},
    {"security", {"strict_mode", NULL}},
};

static bool is_known(const char *const *settings, const char *key)
{
    for (size_t i = 0; settings[i] != NULL; i++)
        if (strcmp(settings[i], key) == 0)
            return true;
    return false;
}

static int check_own_sections(const struct value *root, const char *where, struct wippy_error *error)
{
    for (size_t i = 0; i < sizeof own_sections / sizeof own_sections[0]; i++) {
        const struct value *section = value_map_get(root, own_sections[i].section);
        if (section == NULL || section->type == VALUE_NULL)
            continue;
        if (section->type != VALUE_MAP)
            return setting_error(where, section, own_sections[i].section, error, "a map of settings");
        for (size_t k = 0; k < section->as.map.count; k++) {
            if (is_known(own_sections[i].settings, section->as.map.keys[k]))
                continue;
            const struct value *node = section->as.map.values[k];
            const char *near = suggest_closest(section->as.map.keys[k], own_sections[i].settings);
            return error_set(error, WIPPY_EINVAL, "%s:%d: %s.%s: unknown setting%s%s%s", where,
                             node->line > 0 ? node->line : 1, own_sections[i].section,
                             section->as.map.keys[k], near != NULL ? " (did you mean \"" : "",
                             near != NULL ? near : "", near != NULL ? "\"?)" : "");
        }
    }
    return WIPPY_OK;
}

static int read_settings(struct config *config, const char *where, struct wippy_error *error)
{
    int rc = check_own_sections(config->root, where, error);
    if (rc < 0)
        return rc;
    rc = read_duration(config->root, where, "scheduler.time_slice", INT64_C(10) * 1000000,
                           INT64_C(1) * 1000000, &config->time_slice_ns, error);
    if (rc == WIPPY_OK)
        rc = read_duration(config->root, where, "scheduler.unyieldable_limit", INT64_C(5) * 1000000000,
                           0, &config->unyieldable_limit_ns, error);
    if (rc == WIPPY_OK)
        rc = read_count(config->root, where, "scheduler.heap_size", CONFIG_DEFAULT_HEAP_SIZE, 1,
                        &config->heap_size, error);
    if (rc == WIPPY_OK)
        rc = read_count(config->root, where, "scheduler.threads", usable_cores(), 1, &config->threads,
                        error);
    if (rc == WIPPY_OK && config->threads > CONFIG_MAX_THREADS)
        rc = setting_error(where, value_map_get_path(config->root, "scheduler.threads"), "scheduler.threads",
                           error, "a whole number from 1 to 256");
    if (rc == WIPPY_OK)
        rc = read_count(config->root, where, "funcs.max_depth", 1000, 1, &config->max_call_depth, error);
    if (rc == WIPPY_OK)
        rc = read_count(config->root, where, "process.max_inbox", 1000000, 1, &config->max_inbox, error);
    if (rc == WIPPY_OK)
        rc = read_size(config->root, where, "vm.memory_limit", &config->memory_limit, error);
    if (rc < 0)
        return rc;
    const struct value *state_dir = value_map_get_path(config->root, "network_service.state_dir");
    const struct value *network = value_map_get_path(config->root, "network_service.default_network");
    const struct value *strict = value_map_get_path(config->root, "security.strict_mode");

    const char *state_text = ".wippy/net";
    if (state_dir != NULL && state_dir->type != VALUE_NULL) {
        if (state_dir->type != VALUE_STRING || state_dir->as.string.length == 0)
            return setting_error(where, state_dir, "network_service.state_dir", error, "a path");
        state_text = state_dir->as.string.bytes;
    }
    config->state_dir = state_text[0] == '/' ? xstrdup(state_text)
                                             : xasprintf("%s/%s", config->base_dir, state_text);

    if (network != NULL && network->type != VALUE_NULL) {
        if (network->type != VALUE_STRING || network->as.string.length == 0)
            return setting_error(where, network, "network_service.default_network", error,
                                 "a network entry id such as app:tor");
        config->default_network = xstrdup(network->as.string.bytes);
        config->default_network_where = xasprintf("%s:%d", where, network->line > 0 ? network->line : 1);
    }
    if (strict != NULL && strict->type != VALUE_NULL) {
        if (strict->type != VALUE_BOOLEAN)
            return setting_error(where, strict, "security.strict_mode", error, "true or false");
        config->strict_mode = strict->as.boolean;
    }
    return WIPPY_OK;
}

int config_load(const char *const *files, size_t file_count, bool explicit,
                const char *const *sets, size_t set_count, struct config **out,
                struct wippy_error *error)
{
    struct config *config = xcalloc(1, sizeof *config);
    config->root = value_new_map();
    int rc = WIPPY_OK;
    const char *where = "configuration";
    for (size_t i = 0; i < file_count && rc == WIPPY_OK; i++) {
        if (i == 0) {
            char *copy = xstrdup(files[i]);
            config->base_dir = xstrdup(dirname(copy));
            free(copy);
        }
        if (!explicit && access(files[i], F_OK) != 0)
            continue;
        struct value *document = NULL;
        rc = yaml_load_file(files[i], &document, error);
        if (rc == WIPPY_OK && document != NULL)
            rc = expand_environment(document, files[i], error);
        if (rc == WIPPY_OK && document != NULL) {
            if (document->type != VALUE_MAP)
                rc = error_set(error, WIPPY_EINVAL, "%s:%d: expected a map of sections",
                               files[i], document->line);
            else
                value_merge(config->root, document);
            where = files[i];
        }
        value_free(document);
    }
    if (config->base_dir == NULL)
        config->base_dir = xstrdup(".");
    for (size_t i = 0; i < set_count && rc == WIPPY_OK; i++) {
        struct value *tree = NULL;
        rc = parse_set(sets[i], &tree, error);
        if (rc == WIPPY_OK) {
            value_merge(config->root, tree);
            value_free(tree);
        }
    }
    if (rc == WIPPY_OK)
        rc = read_settings(config, set_count > 0 ? "--set" : where, error);
    if (rc < 0) {
        config_free(config);
        return rc;
    }
    *out = config;
    return WIPPY_OK;
}

int config_check_against(const struct config *config, const struct registry *registry,
                         struct wippy_error *error)
{
    if (config->default_network == NULL)
        return WIPPY_OK;
    const struct entry *network = registry_find(registry, config->default_network);
    if (network == NULL || !entry_is_network(network))
        return error_set(error, WIPPY_EINVAL,
                         "%s: network_service.default_network: overlay network \"%s\": not found",
                         config->default_network_where, config->default_network);
    return WIPPY_OK;
}

void config_free(struct config *config)
{
    if (config == NULL)
        return;
    value_free(config->root);
    free(config->base_dir);
    free(config->state_dir);
    free(config->default_network);
    free(config->default_network_where);
    free(config);
}
