/* json_encode.c - json.encode's writer: a Lua value straight to the text Go
 * Wippy writes (util/json_text.h), with no tree in between. Sequences become
 * arrays, string-keyed tables objects with their keys sorted, an empty
 * table "[]"; mixed or sparse tables, cycles and functions are errors; NaN
 * and infinities become null. */
#include "lua/json_encode.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/error_values.h"
#include "lua/modules.h"
#include "util/json_text.h"

struct member {
    const char *key; /* held by the table being written, which nothing changes meanwhile */
    size_t length;   /* a key may hold zero bytes */
    size_t value_start; /* where its value's text begins, from the first value of its object */
    size_t value_length;
};

struct encoder {
    struct json_text text;
    struct json_text scratch; /* an object's values while they are put in order */
    struct member *members; /* the keys of every object being written, innermost last */
    size_t member_count;
    size_t member_capacity;
    size_t values;
    char message[256];
};

lua_Integer json_encode_table_kind(lua_State *L, int index)
{
    lua_Integer count = 0, max_index = 0;
    bool has_strings = false, has_numbers = false;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            has_strings = true;
        } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
            has_numbers = true;
            if (lua_tointeger(L, -1) > max_index)
                max_index = lua_tointeger(L, -1);
        } else {
            lua_pop(L, 1);
            return -2;
        }
        count++;
    }
    if (has_strings && has_numbers)
        return -2;
    if (has_strings)
        return -1;
    return max_index == count ? count : -2;
}

static bool fail(struct encoder *encoder, const char *message)
{
    snprintf(encoder->message, sizeof encoder->message, "%s", message);
    return false;
}

static bool write_value(lua_State *L, int index, int depth, struct encoder *encoder);

static bool write_array(lua_State *L, int index, lua_Integer length, int depth, struct encoder *encoder)
{
    json_text_add(&encoder->text, "[", 1);
    for (lua_Integer i = 1; i <= length; i++) {
        if (i > 1)
            json_text_add(&encoder->text, ",", 1);
        lua_rawgeti(L, index, i);
        bool written = write_value(L, lua_gettop(L), depth + 1, encoder);
        lua_pop(L, 1);
        if (!written)
            return false;
    }
    json_text_add(&encoder->text, "]", 1);
    return true;
}

static int compare_members(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int order = memcmp(x->key, y->key, x->length < y->length ? x->length : y->length);
    return order != 0 ? order : (x->length > y->length) - (x->length < y->length);
}

/* Most objects have a handful of keys: an insertion sort beats qsort's
 * set-up there. */
static void sort_members(struct member *members, size_t count)
{
    if (count > 8) {
        qsort(members, count, sizeof *members, compare_members);
        return;
    }
    for (size_t i = 1; i < count; i++) {
        struct member member = members[i];
        size_t j = i;
        for (; j > 0 && compare_members(&members[j - 1], &member) > 0; j--)
            members[j] = members[j - 1];
        members[j] = member;
    }
}

static bool add_member(struct encoder *encoder, struct member member)
{
    if (encoder->member_count == encoder->member_capacity) {
        size_t capacity = encoder->member_capacity * 2 + 16;
        struct member *grown = realloc(encoder->members, capacity * sizeof *grown);
        if (grown == NULL)
            return false;
        encoder->members = grown;
        encoder->member_capacity = capacity;
    }
    encoder->members[encoder->member_count++] = member;
    return true;
}

/* Go sorts an object's keys; Lua's traversal has its own order. The values
 * are written in traversal order (so the first error found is the one a
 * traversal meets), each at the end of the text, then moved behind their
 * sorted keys. The keys' bytes stay valid until then: the table holds
 * them, it is on the stack, and nothing can change it meanwhile (no Lua
 * code runs while this writes: no metamethod is called, and the sandbox
 * refuses __gc). Anchoring each key on the stack instead would cap an
 * object at the stack's million slots, and charge them. */
static bool write_object(lua_State *L, int index, int depth, struct encoder *encoder)
{
    size_t first = encoder->member_count, values_start = encoder->text.length;
    const char *refusal = NULL;
    lua_pushnil(L);
    while (refusal == NULL && lua_next(L, index) != 0) {
        struct member member = {.value_start = encoder->text.length - values_start};
        member.key = lua_tolstring(L, -2, &member.length);
        bool written = write_value(L, lua_gettop(L), depth + 1, encoder);
        lua_pop(L, 1);
        member.value_length = encoder->text.length - values_start - member.value_start;
        if (!written)
            refusal = "";
        else if (!json_text_is_utf8(member.key, member.length))
            refusal = "key is not valid UTF-8";
        else if (!add_member(encoder, member))
            refusal = "out of memory";
    }
    size_t count = encoder->member_count - first;
    encoder->member_count = first;
    if (refusal != NULL) {
        lua_pop(L, 1); /* the key lua_next left */
        return refusal[0] == '\0' ? false : fail(encoder, refusal);
    }
    bool written = true;
    if (!encoder->text.failed) { /* else told as running out of memory once the value is done */
        size_t values_length = encoder->text.length - values_start;
        struct json_text *values = &encoder->scratch;
        values->length = 0;
        json_text_add(values, encoder->text.bytes + values_start, values_length);
        written = !values->failed || fail(encoder, "out of memory");
        encoder->text.length = values_start;
        struct member *members = encoder->members + first;
        sort_members(members, count);
        json_text_add(&encoder->text, "{", 1);
        for (size_t i = 0; i < count && written; i++) {
            if (i > 0)
                json_text_add(&encoder->text, ",", 1);
            json_text_add_string(&encoder->text, members[i].key, members[i].length);
            json_text_add(&encoder->text, ":", 1);
            json_text_add(&encoder->text, values->bytes + members[i].value_start, members[i].value_length);
        }
        json_text_add(&encoder->text, "}", 1);
    }
    return written;
}

static bool write_table(lua_State *L, int index, int depth, struct encoder *encoder)
{
    if (depth >= JSON_ENCODE_MAX_DEPTH) {
        snprintf(encoder->message, sizeof encoder->message, "nesting deeper than %d levels (or a cycle)",
                 JSON_ENCODE_MAX_DEPTH);
        return false;
    }
    if (!lua_checkstack(L, 6))
        return fail(encoder, "out of stack space");
    lua_Integer kind = json_encode_table_kind(L, index);
    if (kind == -2)
        return fail(encoder, "cannot encode a table with mixed or sparse keys");
    if (kind >= 0)
        return write_array(L, index, kind, depth, encoder);
    return write_object(L, index, depth, encoder);
}

static bool write_string(struct encoder *encoder, const char *bytes, size_t length, const char *not_utf8)
{
    if (!json_text_is_utf8(bytes, length))
        return fail(encoder, not_utf8);
    json_text_add_string(&encoder->text, bytes, length);
    return true;
}

static bool write_value(lua_State *L, int index, int depth, struct encoder *encoder)
{
    if (++encoder->values > JSON_ENCODE_MAX_VALUES) {
        snprintf(encoder->message, sizeof encoder->message, "more than %d values", JSON_ENCODE_MAX_VALUES);
        return false;
    }
    switch (lua_type(L, index)) {
    case LUA_TNIL:
        json_text_add(&encoder->text, "null", 4);
        return true;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, index))
            json_text_add(&encoder->text, "true", 4);
        else
            json_text_add(&encoder->text, "false", 5);
        return true;
    case LUA_TNUMBER: {
        if (lua_isinteger(L, index)) {
            json_text_add_integer(&encoder->text, lua_tointeger(L, index));
            return true;
        }
        double number = lua_tonumber(L, index);
        if (!isfinite(number))
            json_text_add(&encoder->text, "null", 4);
        else
            json_text_add_double(&encoder->text, number);
        return true;
    }
    case LUA_TSTRING: {
        size_t length;
        const char *text = lua_tolstring(L, index, &length);
        return write_string(encoder, text, length, "string is not valid UTF-8");
    }
    case LUA_TTABLE:
        return write_table(L, index, depth, encoder);
    case LUA_TUSERDATA:
        if (error_value_is(L, index)) { /* an error is its message, as Go Wippy encodes it */
            size_t length;
            const char *message = luaL_tolstring(L, index, &length);
            bool written = write_string(encoder, message, length, "an error's message is not valid UTF-8");
            lua_pop(L, 1);
            return written;
        }
        /* fall through */
    default:
        snprintf(encoder->message, sizeof encoder->message, "cannot encode a %s", luaL_typename(L, index));
        return false;
    }
}

/* Runs protected, so that a memory error raised by Lua midway cannot lose
 * the encoder's malloc'd buffers: the caller frees them either way. */
static int encode_protected(lua_State *L)
{
    struct encoder *encoder = lua_touserdata(L, 2);
    if (!write_value(L, 1, 0, encoder))
        return 0;
    if (encoder->text.failed)
        return fail(encoder, "out of memory"), 0;
    lua_pushlstring(L, encoder->text.bytes, encoder->text.length);
    return 1;
}

bool mod_json_encode(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    struct encoder encoder = {0};
    lua_pushcfunction(L, encode_protected);
    lua_pushvalue(L, index);
    lua_pushlightuserdata(L, &encoder);
    int status = lua_pcall(L, 2, 1, 0);
    free(encoder.text.bytes);
    free(encoder.scratch.bytes);
    free(encoder.members);
    if (status != LUA_OK)
        lua_error(L); /* the memory error, raised now that the buffers are freed */
    if (encoder.message[0] != '\0') {
        lua_pop(L, 1);
        lua_pushfstring(L, "json.encode: %s", encoder.message);
        return false;
    }
    return true;
}
