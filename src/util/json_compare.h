/* json_compare.h - equality of JSON values as JSON Schema defines it (enum,
 * const, uniqueItems): numbers by value (1 equals 1.0), objects whatever
 * the order of their members, arrays item by item; and a hash that agrees
 * with it. Both spend a step budget, one step per value visited. */
#ifndef WIPPY_UTIL_JSON_COMPARE_H
#define WIPPY_UTIL_JSON_COMPARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when a equals b. Takes one step from *steps per value visited and
 * stops (returning false) when *steps reaches 0: the caller checks *steps. */
bool json_compare_equal(const json_t *a, const json_t *b, size_t *steps);

/* A hash of value such that equal values hash alike; spends *steps the
 * same way (the hash is meaningless once *steps is 0). */
uint64_t json_compare_hash(const json_t *value, size_t *steps);

#endif
