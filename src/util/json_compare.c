/* json_compare.c - see json_compare.h. */
#include "util/json_compare.h"

#include <math.h>
#include <string.h>


#include "util/json_number.h"

static bool spend(size_t *steps)
{
    if (*steps == 0)
        return false;
    (*steps)--;
    return true;
}

static bool equal_objects(const json_t *a, const json_t *b, size_t *steps)
{
    if (json_object_size(a) != json_object_size(b))
        return false;
    const char *key;
    size_t length;
    json_t *member;
    json_object_keylen_foreach((json_t *)a, key, length, member) {
        const json_t *other = json_object_getn(b, key, length);
        if (other == NULL || !json_compare_equal(member, other, steps))
            return false;
    }
    return true;
}

static bool equal_arrays(const json_t *a, const json_t *b, size_t *steps)
{
    size_t count = json_array_size(a);
    if (count != json_array_size(b))
        return false;
    for (size_t i = 0; i < count; i++) {
        if (!json_compare_equal(json_array_get(a, i), json_array_get(b, i), steps))
            return false;
    }
    return true;
}

bool json_compare_equal(const json_t *a, const json_t *b, size_t *steps)
{
    if (!spend(steps))
        return false;
    if (json_is_number(a) && json_is_number(b))
        return json_number_compare(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_OBJECT:
        return equal_objects(a, b, steps);
    case JSON_ARRAY:
        return equal_arrays(a, b, steps);
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    default: /* true, false, null */
        return true;
    }
}

static uint64_t mix(uint64_t hash, uint64_t value)
{
    hash ^= value + 0x9e3779b97f4a7c15u + (hash << 6) + (hash >> 2);
    return hash * 0xff51afd7ed558ccdu;
}

static uint64_t hash_bytes(const char *bytes, size_t length)
{
    uint64_t hash = 0xcbf29ce484222325u; /* FNV-1a */
    for (size_t i = 0; i < length; i++)
        hash = (hash ^ (unsigned char)bytes[i]) * 0x100000001b3u;
    return hash;
}

static uint64_t hash_number(const json_t *number)
{
    /* integral reals hash as the integer they equal */
    if (json_is_integer(number))
        return mix(1, (uint64_t)json_integer_value(number));
    double value = json_real_value(number);
    if (value == floor(value) && value >= -9223372036854775808.0 && value < 9223372036854775808.0)
        return mix(1, (uint64_t)(json_int_t)value);
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return mix(2, bits);
}

uint64_t json_compare_hash(const json_t *value, size_t *steps)
{
    if (!spend(steps))
        return 0;
    switch (json_typeof(value)) {
    case JSON_OBJECT: {
        uint64_t sum = 0; /* a sum, so that member order does not matter */
        const char *key;
        size_t length;
        json_t *member;
        json_object_keylen_foreach((json_t *)value, key, length, member)
            sum += mix(hash_bytes(key, length), json_compare_hash(member, steps));
        return mix(3, sum);
    }
    case JSON_ARRAY: {
        uint64_t hash = 4;
        for (size_t i = 0; i < json_array_size(value); i++)
            hash = mix(hash, json_compare_hash(json_array_get(value, i), steps));
        return hash;
    }
    case JSON_STRING:
        return mix(5, hash_bytes(json_string_value(value), json_string_length(value)));
    case JSON_INTEGER:
    case JSON_REAL:
        return hash_number(value);
    default:
        return mix(6, (uint64_t)json_typeof(value));
    }
}
