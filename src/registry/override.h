/* override.h - `-o namespace:entry:path=value` (as Go Wippy's run flag):
 * one field of one entry set from the command line before the entry is
 * read, so every check of the field applies to the new value. The path
 * goes into maps with dots (meta.command.name); the value is a boolean, a
 * whole number or a number when it reads as one, else the text. An
 * override naming no entry is an error, never ignored. */
#ifndef WIPPY_REGISTRY_OVERRIDE_H
#define WIPPY_REGISTRY_OVERRIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"
#include "util/value.h"

struct registry_override {
    const char *text; /* as given, for errors */
    char *entry_id;   /* namespace:name */
    char *path;
    struct value *value;
    bool applied;
};

/* Parses text; on error says which part is missing. */
int override_parse(const char *text, struct registry_override *out, struct wippy_error *error);
void override_release(struct registry_override *override);

/* Sets every override for entry_id in node (an entry's map, line kept for
 * errors); fails when a part of a path is there and is not a map. */
int override_apply(struct registry_override *overrides, size_t count, const char *entry_id, struct value *node,
                   struct wippy_error *error);

/* Fails on the first override no entry took. */
int override_check_all_applied(const struct registry_override *overrides, size_t count, struct wippy_error *error);

#endif
