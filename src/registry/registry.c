/* registry.c - finding _index.yaml files, turning their entries into typed
 * struct entry values, and checking the whole set. */
#include "registry/registry.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registry/fields.h"
#include "registry/kinds.h"
#include "util/memory.h"
#include "util/suggest.h"
#include "util/yaml_load.h"

struct registry *registry_new(void)
{
    return xcalloc(1, sizeof(struct registry));
}

static void entry_free(struct entry *entry)
{
    const struct entry_kind_definition *definition = entry_kind_of(entry->kind);
    if (definition != NULL && definition->release != NULL)
        definition->release(entry);
    free(entry->id);
    free(entry->namespace_name);
    free(entry->name);
    free(entry);
}

void registry_free(struct registry *registry)
{
    if (registry == NULL)
        return;
    for (size_t i = 0; i < registry->count; i++)
        entry_free(registry->entries[i]);
    free(registry->entries);
    for (size_t i = 0; i < registry->document_count; i++) {
        value_free(registry->documents[i]);
        free(registry->files[i]);
    }
    free(registry->documents);
    free(registry->files);
    free(registry);
}

static int document_error(const char *file, const struct value *node, struct wippy_error *error,
                          const char *message)
{
    return error_set(error, WIPPY_EINVAL, "%s:%d: %s", file, node != NULL ? node->line : 1,
                     message);
}

static int read_entry(struct registry *registry, const char *file, const char *index_dir,
                      const char *namespace_name, const struct value *node,
                      struct wippy_error *error)
{
    if (node->type != VALUE_MAP)
        return document_error(file, node, error, "each entry must be a map");
    const struct value *name = value_map_get(node, "name");
    if (name == NULL || name->type != VALUE_STRING || name->as.string.length == 0)
        return document_error(file, node, error, "entry without a name (field \"name\" is required)");
    if (strchr(name->as.string.bytes, ':') != NULL)
        return error_set(error, WIPPY_EINVAL, "%s:%d: entry %s: field \"name\": must not contain ':'",
                         file, name->line, name->as.string.bytes);

    struct entry *entry = xcalloc(1, sizeof *entry);
    entry->name = xstrdup(name->as.string.bytes);
    entry->namespace_name = xstrdup(namespace_name);
    entry->id = xasprintf("%s:%s", namespace_name, entry->name);
    entry->file = file;
    entry->line = node->line;
    entry->node = node;
    entry->meta = value_map_get(node, "meta");

    const struct value *kind = value_map_get(node, "kind");
    int rc;
    if (kind == NULL || kind->type != VALUE_STRING) {
        rc = field_error(entry, kind, "kind", error, "is required");
    } else {
        const struct entry_kind_definition *definition = entry_kind_find(kind->as.string.bytes);
        if (definition == NULL) {
            rc = field_error(entry, kind, "kind", error, "unknown kind \"%s\"", kind->as.string.bytes);
        } else {
            entry->kind = definition->kind;
            entry->kind_name = definition->name;
            field_tracking_begin(entry);
            rc = definition->read(entry, index_dir, error);
            /* a reader that failed early read only some fields: its error stands */
            int unknown = field_tracking_end(entry, definition->unsupported, rc == WIPPY_OK ? error : NULL);
            if (rc == WIPPY_OK)
                rc = unknown;
        }
    }
    if (rc < 0 && entry->kind_name == NULL) {
        free(entry->id);
        free(entry->namespace_name);
        free(entry->name);
        free(entry);
        return rc;
    }
    /* A half-read entry is still appended so that registry_free releases
     * whatever its reader allocated before failing. */
    registry->entries = xrealloc(registry->entries, (registry->count + 1) * sizeof(struct entry *));
    registry->entries[registry->count++] = entry;
    return rc;
}

int registry_add_document(struct registry *registry, const char *file, struct value *document,
                          struct wippy_error *error)
{
    registry->documents = xrealloc(registry->documents,
                                   (registry->document_count + 1) * sizeof(struct value *));
    registry->files = xrealloc(registry->files, (registry->document_count + 1) * sizeof(char *));
    registry->documents[registry->document_count] = document;
    char *owned_file = xstrdup(file);
    registry->files[registry->document_count++] = owned_file;
    if (document == NULL)
        return WIPPY_OK; /* an empty file declares nothing */
    if (document->type != VALUE_MAP)
        return document_error(owned_file, document, error,
                              "expected a map with namespace and entries");

    static const char *const document_fields[] = {"version", "namespace", "meta", "entries", NULL};
    for (size_t i = 0; i < document->as.map.count; i++) {
        const char *key = document->as.map.keys[i];
        bool known = false;
        for (size_t k = 0; document_fields[k] != NULL && !known; k++)
            known = strcmp(document_fields[k], key) == 0;
        if (known)
            continue;
        const char *near = suggest_closest(key, document_fields);
        const struct value *node = document->as.map.values[i];
        return error_set(error, WIPPY_EINVAL,
                         "%s:%d: field \"%s\": unknown (an index has version, namespace, meta and entries)%s%s%s",
                         owned_file, node->line > 0 ? node->line : 1, key, near != NULL ? "; did you mean \"" : "",
                         near != NULL ? near : "", near != NULL ? "\"?" : "");
    }
    const struct value *version = value_map_get(document, "version");
    if (version != NULL && version->type != VALUE_STRING && version->type != VALUE_NUMBER &&
        version->type != VALUE_INTEGER)
        return document_error(owned_file, version, error, "field \"version\": expected \"1.0\"");
    const struct value *namespace_node = value_map_get(document, "namespace");
    if (namespace_node == NULL || namespace_node->type != VALUE_STRING ||
        namespace_node->as.string.length == 0)
        return document_error(owned_file, namespace_node ? namespace_node : document, error,
                              "field \"namespace\": a non-empty string is required");
    if (strchr(namespace_node->as.string.bytes, ':') != NULL)
        return document_error(owned_file, namespace_node, error,
                              "field \"namespace\": must not contain ':'");
    const struct value *entries = value_map_get(document, "entries");
    if (entries == NULL || entries->type == VALUE_NULL)
        return WIPPY_OK;
    if (entries->type != VALUE_SEQUENCE)
        return document_error(owned_file, entries, error, "field \"entries\": expected a list");

    char *directory_buffer = xstrdup(owned_file);
    char *index_dir = xstrdup(dirname(directory_buffer));
    free(directory_buffer);
    int rc = WIPPY_OK;
    for (size_t i = 0; i < entries->as.sequence.count && rc == WIPPY_OK; i++) {
        struct value *node = entries->as.sequence.items[i];
        const struct value *name = value_map_get(node, "name");
        if (registry->override_count > 0 && name != NULL && name->type == VALUE_STRING) {
            char *id = xasprintf("%s:%s", namespace_node->as.string.bytes, name->as.string.bytes);
            rc = override_apply(registry->overrides, registry->override_count, id, node, error);
            free(id);
        }
        if (rc == WIPPY_OK)
            rc = read_entry(registry, owned_file, index_dir, namespace_node->as.string.bytes, node, error);
    }
    free(index_dir);
    return rc;
}

static int compare_entries(const void *left, const void *right)
{
    const struct entry *a = *(const struct entry *const *)left;
    const struct entry *b = *(const struct entry *const *)right;
    int by_id = strcmp(a->id, b->id);
    if (by_id != 0)
        return by_id;
    /* Keep declaration order among duplicates so the error names the later one. */
    int by_file = strcmp(a->file, b->file);
    return by_file != 0 ? by_file : a->line - b->line;
}

int registry_finish(struct registry *registry, struct wippy_error *error)
{
    if (registry->count > 1)
        qsort(registry->entries, registry->count, sizeof(struct entry *), compare_entries);
    for (size_t i = 1; i < registry->count; i++) {
        const struct entry *first = registry->entries[i - 1];
        const struct entry *second = registry->entries[i];
        if (strcmp(first->id, second->id) == 0)
            return error_set(error, WIPPY_EINVAL,
                             "%s:%d: entry %s: duplicate id (first defined at %s:%d)",
                             second->file, second->line, second->id, first->file, first->line);
    }
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        const struct entry_kind_definition *definition = entry_kind_of(entry->kind);
        if (definition->check_references != NULL) {
            struct entry_list known = {registry->entries, registry->count};
            int rc = definition->check_references(&known, entry, error);
            if (rc < 0)
                return rc;
        }
    }
    return WIPPY_OK;
}

static int compare_strings(const void *left, const void *right)
{
    return strcmp(*(char *const *)left, *(char *const *)right);
}

/* Collects every _index.yaml below directory, in a stable (sorted) order. */
static int collect_index_files(const char *directory, char ***files, size_t *count,
                               struct wippy_error *error)
{
    DIR *handle = opendir(directory);
    if (handle == NULL)
        return error_set(error, WIPPY_ENOENT, "%s: cannot open source directory: %s", directory,
                         strerror(errno));
    char **names = NULL;
    size_t name_count = 0;
    struct dirent *item;
    while ((item = readdir(handle)) != NULL) {
        if (item->d_name[0] == '.')
            continue;
        names = xrealloc(names, (name_count + 1) * sizeof(char *));
        names[name_count++] = xstrdup(item->d_name);
    }
    closedir(handle);
    if (name_count > 1)
        qsort(names, name_count, sizeof(char *), compare_strings);

    int rc = WIPPY_OK;
    for (size_t i = 0; i < name_count; i++) {
        char *path = xasprintf("%s/%s", directory, names[i]);
        struct stat info;
        if (rc == WIPPY_OK && stat(path, &info) == 0) {
            if (S_ISDIR(info.st_mode)) {
                rc = collect_index_files(path, files, count, error);
            } else if (strcmp(names[i], "_index.yaml") == 0) {
                *files = xrealloc(*files, (*count + 1) * sizeof(char *));
                (*files)[(*count)++] = path;
                path = NULL;
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return rc;
}

int registry_load(const char *source_dir, struct registry **out, struct wippy_error *error)
{
    return registry_load_overridden(source_dir, NULL, 0, out, error);
}

int registry_load_overridden(const char *source_dir, struct registry_override *overrides, size_t override_count,
                             struct registry **out, struct wippy_error *error)
{
    *out = NULL;
    char **files = NULL;
    size_t file_count = 0;
    int rc = collect_index_files(source_dir, &files, &file_count, error);
    struct registry *registry = registry_new();
    registry->overrides = overrides;
    registry->override_count = override_count;
    for (size_t i = 0; i < file_count; i++) {
        if (rc == WIPPY_OK) {
            struct value *document = NULL;
            rc = yaml_load_file(files[i], &document, error);
            if (rc == WIPPY_OK)
                rc = registry_add_document(registry, files[i], document, error);
        }
        free(files[i]);
    }
    free(files);
    if (rc == WIPPY_OK)
        rc = override_check_all_applied(overrides, override_count, error);
    registry->overrides = NULL;
    registry->override_count = 0;
    if (rc == WIPPY_OK)
        rc = registry_finish(registry, error);
    if (rc < 0) {
        registry_free(registry);
        return rc;
    }
    *out = registry;
    return WIPPY_OK;
}

const struct entry *registry_find(const struct registry *registry, const char *id)
{
    struct entry_list known = {registry->entries, registry->count};
    return entry_list_find(&known, id);
}
