/* kinds.h - the table of entry kinds this runtime understands: how each is
 * validated when read, how its references are checked once all entries are
 * known, and how its fields are released. Internal to the registry. */
#ifndef WIPPY_REGISTRY_KINDS_H
#define WIPPY_REGISTRY_KINDS_H

#include "registry/entry.h"
#include "util/error.h"

struct entry_kind_definition {
    const char *name;
    enum entry_kind kind;
    /* Reads and checks the kind's own fields; index_dir resolves file:// paths. */
    int (*read)(struct entry *entry, const char *index_dir, struct wippy_error *error);
    /* Checks references to other entries (NULL when the kind has none). */
    int (*check_references)(const struct entry_list *known, const struct entry *entry,
                            struct wippy_error *error);
    void (*release)(struct entry *entry);
    /* Fields Wippy defines for the kind that this runtime does not
     * implement (NULL-terminated, or NULL): an error of their own. */
    const char *const *unsupported;
};

/* Returns the definition for a kind name, or NULL when it is unknown. */
const struct entry_kind_definition *entry_kind_find(const char *name);
const struct entry_kind_definition *entry_kind_of(enum entry_kind kind);

#endif
