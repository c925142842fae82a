/* json_schema.h - JSON Schema (draft 2020-12) on jansson values: a schema is
 * compiled once (keywords checked, $refs resolved, patterns compiled, sizes
 * bounded), then validates instances with bounded work. A keyword that
 * would change the verdict and is not implemented fails the compilation:
 * nothing is quietly ignored. Words that are no keyword are annotations,
 * as 2020-12 says, and so are "format" and the content keywords. */
#ifndef WIPPY_UTIL_JSON_SCHEMA_H
#define WIPPY_UTIL_JSON_SCHEMA_H

#include <jansson.h>

#include "util/error.h"

/* How deep schemas may nest in the document, and how many a document holds. */
#define JSON_SCHEMA_MAX_DEPTH 128
#define JSON_SCHEMA_MAX_NODES 50000
/* The memory all compiled patterns of a document may take. */
#define JSON_SCHEMA_MAX_PATTERN_BYTES (16u << 20)

/* What one validation may do: evaluate subschemas and compare values this
 * many times, run patterns for this many PCRE2 steps, go this deep into the
 * instance, nest evaluations of subschemas ($refs included) this deep in
 * all and this much deeper without going one level further into the
 * instance (a $ref loop stops there). */
#define JSON_SCHEMA_MAX_STEPS 20000000u
#define JSON_SCHEMA_MAX_REGEX_STEPS 50000000u
#define JSON_SCHEMA_MAX_INSTANCE_DEPTH 256
#define JSON_SCHEMA_MAX_EVALUATION_DEPTH 2048
#define JSON_SCHEMA_MAX_DEPTH_PER_INSTANCE_LEVEL 256

/* The document came from a Lua table, where json.encode writes an empty
 * table as []: read [] as {} where a schema or an object is expected. */
#define JSON_SCHEMA_EMPTY_ARRAY_AS_OBJECT 0x1u

struct json_schema;

/* Compiles document (an object or a boolean; the schema keeps a reference
 * to it). Returns 0 with *schema, or WIPPY_EINVAL with the place in the
 * schema and the reason in error ("/properties/age/minimum: must be a
 * number", "/$ref: \"other.json\" is not supported: ..."). */
int json_schema_compile(json_t *document, unsigned flags, struct json_schema **schema, struct wippy_error *error);

/* Validates instance. Returns 0 when it is valid; WIPPY_EINVAL when it is
 * not, error saying where in the instance, which keyword and why
 * ("/age: minimum: must be >= 0"); WIPPY_ETIMEDOUT when deciding took more
 * than the limits above allow (a $ref loop that never goes into the
 * instance, a pattern that backtracks without end), error saying which. */
int json_schema_validate(const struct json_schema *schema, const json_t *instance, struct wippy_error *error);

void json_schema_free(struct json_schema *schema);

#endif
