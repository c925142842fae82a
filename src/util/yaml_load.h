/* yaml_load.h - reads a YAML file (or text) into a value tree whose nodes
 * carry their line numbers, resolving plain scalars as YAML 1.2's core schema
 * does (true/false, null, integers, floats; quoted scalars stay strings). */
#ifndef WIPPY_UTIL_YAML_LOAD_H
#define WIPPY_UTIL_YAML_LOAD_H

#include <stddef.h>

#include "util/error.h"
#include "util/value.h"

/* Parses the first document of path into *out (NULL for an empty file).
 * On failure returns a negative code with "path:line: message" in error. */
int yaml_load_file(const char *path, struct value **out, struct wippy_error *error);

/* Same for text already in memory; name is used in messages. */
int yaml_load_text(const char *name, const char *text, size_t length,
                   struct value **out, struct wippy_error *error);

/* Resolves one plain (unquoted) scalar the way a YAML document would. */
struct value *yaml_resolve_plain_scalar(const char *text, size_t length);

#endif
