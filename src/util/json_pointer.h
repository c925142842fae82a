/* json_pointer.h - JSON Pointers (RFC 6901): the path to a place in a JSON
 * document kept while walking it and written for messages, and the place a
 * URI fragment such as "#/$defs/a%20b" points at. */
#ifndef WIPPY_UTIL_JSON_POINTER_H
#define WIPPY_UTIL_JSON_POINTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define JSON_POINTER_MAX_DEPTH 512

/* One step: a member name (key not NULL; it stays owned by the document)
 * or an array index. */
struct json_pointer_segment {
    const char *key;
    size_t length;
    size_t index;
};

struct json_pointer_path {
    struct json_pointer_segment segments[JSON_POINTER_MAX_DEPTH];
    size_t depth;
};

/* Each returns false, leaving the path as it was, when it is
 * JSON_POINTER_MAX_DEPTH deep already. */
bool json_pointer_push_key(struct json_pointer_path *path, const char *key, size_t length);
bool json_pointer_push_index(struct json_pointer_path *path, size_t index);
void json_pointer_pop(struct json_pointer_path *path);

/* Writes the pointer ("/a/0/b~1c", "" for the root) into buffer, cut to
 * size; a name longer than 64 bytes is cut and ends with "...". */
void json_pointer_format(const struct json_pointer_path *path, char *buffer, size_t size);

/* Writes text between double quotes as JSON writes a string (control
 * characters escaped), cut after 100 bytes with "...": a name or a value
 * inside a one-line message. */
void json_pointer_quote(const char *text, size_t length, char *buffer, size_t size);

/* The value the fragment (what follows '#' in a URI: percent-encoded, then
 * "" or "/..." ) points at in document. Returns 0 with *target, or
 * WIPPY_EINVAL (a malformed fragment) or WIPPY_ENOENT (nothing there), the
 * error saying so without repeating the fragment. */
int json_pointer_resolve_fragment(const json_t *document, const char *fragment, const json_t **target,
                                  struct wippy_error *error);

#endif
