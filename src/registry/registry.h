/* registry.h - every entry of a project, loaded from the _index.yaml files
 * below its source directory, validated, with all references resolved. */
#ifndef WIPPY_REGISTRY_REGISTRY_H
#define WIPPY_REGISTRY_REGISTRY_H

#include "registry/entry.h"
#include "registry/override.h"
#include "util/error.h"

struct registry {
    struct entry **entries; /* sorted by id after loading */
    size_t count;
    struct value **documents; /* parsed _index.yaml trees, owned */
    char **files;             /* their paths, owned */
    size_t document_count;
    struct registry_override *overrides; /* while loading: set on the entries they name */
    size_t override_count;
};

/* Loads every _index.yaml under source_dir. On any problem returns a negative
 * code and one line "file:line: entry id: field name: message" in error;
 * nothing is kept then. */
int registry_load(const char *source_dir, struct registry **out, struct wippy_error *error);

/* Same, with command-line overrides of entry fields (override.h): each is
 * set before its entry is read, and one no entry took is an error. */
int registry_load_overridden(const char *source_dir, struct registry_override *overrides, size_t override_count,
                             struct registry **out, struct wippy_error *error);

/* Loads one document already parsed (used by tests and by registry_load). */
int registry_add_document(struct registry *registry, const char *file, struct value *document,
                          struct wippy_error *error);

/* Sorts, checks duplicates and resolves references after all documents. */
int registry_finish(struct registry *registry, struct wippy_error *error);

struct registry *registry_new(void);
void registry_free(struct registry *registry);

/* Finds an entry by full id, or NULL. */
const struct entry *registry_find(const struct registry *registry, const char *id);

#endif
