/* fields.h - typed reads of an entry's fields; every failure is one line
 * naming the file, line, entry id and field. Internal to the registry. */
#ifndef WIPPY_REGISTRY_FIELDS_H
#define WIPPY_REGISTRY_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include "registry/entry.h"
#include "util/error.h"

/* Reports a problem with field (a dotted path) of entry; node gives the line
 * when present. Always returns WIPPY_EINVAL. */
int field_error(const struct entry *entry, const struct value *node, const char *field,
                struct wippy_error *error, const char *format, ...)
    __attribute__((format(printf, 5, 6)));

/* Unknown fields: registry.c brackets the reading of each entry with these.
 * Every path a field_* function reads is known; field_allow_any_below marks
 * a map of the user's own keys. At the end each key of the entry must be
 * known (name, kind and the free-form meta always are): an unknown one is
 * an error naming file, line, entry and field, with the nearest known name;
 * a path in unsupported (NULL-terminated, or NULL) is a field Wippy defines
 * that this runtime does not implement, an error of its own. With error
 * NULL nothing is checked (the reader failed already). */
void field_tracking_begin(const struct entry *entry);
void field_allow_any_below(const struct entry *entry, const char *path);
int field_tracking_end(const struct entry *entry, const char *const *unsupported, struct wippy_error *error);

/* The node at a dotted path (NULL when absent or null), known from now on. */
const struct value *field_lookup(const struct entry *entry, const char *field);

int field_string(const struct entry *entry, const char *field, bool required,
                 const char *fallback, char **out, struct wippy_error *error);
int field_boolean(const struct entry *entry, const char *field, bool fallback, bool *out,
                  struct wippy_error *error);
int field_port(const struct entry *entry, const char *field, bool required, int fallback,
               int *out, struct wippy_error *error);
/* A whole number of at least 1; fallback when absent. */
int field_count(const struct entry *entry, const char *field, int64_t fallback, int64_t *out,
                struct wippy_error *error);
int field_duration(const struct entry *entry, const char *field, int64_t fallback,
                   int64_t *out, struct wippy_error *error);
/* A string or a list of strings. */
/* A size in bytes (a whole number, or "64M" and the like: util/size.h);
 * 0 when absent. */
int field_size(const struct entry *entry, const char *field, int64_t *out, struct wippy_error *error);
int field_string_list(const struct entry *entry, const char *field, bool required,
                      char ***out, size_t *count, struct wippy_error *error);
int field_map(const struct entry *entry, const char *field, const struct value **out,
              struct wippy_error *error);
/* A reference to another entry, qualified with the entry's namespace. */
int field_reference(const struct entry *entry, const char *field, bool required, char **out,
                    struct wippy_error *error);

void field_free_list(char **items, size_t count);

#endif
