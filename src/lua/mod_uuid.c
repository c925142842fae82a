/* mod_uuid.c - the uuid module as Wippy's: v3, v4 and v5 from libuuid,
 * v1 (time and a random node) and v7 (Unix milliseconds and random bits,
 * RFC 9562; newer than Debian's libuuid) by hand; validate, version, variant, parse and format reading
 * the forms Go's uuid.Parse reads (hyphenated, {braced}, urn:uuid:, 32 hex
 * digits). Output is lowercase. Bad input is `nil, err`, never raised. */
#include <ctype.h>
#include <lauxlib.h>
#include <stdatomic.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <uuid.h>

#include "lua/error_values.h"
#include "lua/modules.h"

static int fail(lua_State *L, const char *message)
{
    return error_value_fail_with(L, ERROR_KIND_INVALID, "%s", message);
}

static int push_uuid(lua_State *L, const uuid_t id)
{
    char text[37];
    uuid_unparse_lower(id, text);
    lua_pushstring(L, text);
    lua_pushnil(L);
    return 2;
}

static int hex_value(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10 : -1;
}

/* Reads the forms Go's uuid.Parse reads; false when text is none of them. */
static bool parse_text(const char *text, size_t length, uuid_t out)
{
    if (length == 45 && strncasecmp(text, "urn:uuid:", 9) == 0) {
        text += 9;
        length -= 9;
    } else if (length == 38 && text[0] == '{' && text[37] == '}') {
        text += 1;
        length -= 2;
    }
    bool hyphens = length == 36;
    if (!hyphens && length != 32)
        return false;
    size_t at = 0;
    for (int byte = 0; byte < 16; byte++) {
        if (hyphens && (at == 8 || at == 13 || at == 18 || at == 23)) {
            if (text[at] != '-')
                return false;
            at++;
        }
        int high = hex_value(text[at]), low = hex_value(text[at + 1]);
        if (high < 0 || low < 0)
            return false;
        out[byte] = (unsigned char)(high << 4 | low);
        at += 2;
    }
    return true;
}

static bool string_argument(lua_State *L, int index, uuid_t out, int *pushed)
{
    if (lua_type(L, index) != LUA_TSTRING) {
        *pushed = fail(L, "input must be a string");
        return false;
    }
    size_t length;
    const char *text = lua_tolstring(L, index, &length);
    if (!parse_text(text, length, out)) {
        *pushed = fail(L, "invalid UUID format");
        return false;
    }
    return true;
}

/* Version 1 by hand, not libuuid's uuid_generate_time, which keeps its clock
 * in a locked file (/var/lib/libuuid/clock.txt): a disk wait on the loop.
 * The node is random with the multicast bit set and the clock sequence
 * random, as RFC 4122 allows; times only go forward within the runtime. */
static int v1_lua(lua_State *L)
{
    static atomic_uint_fast64_t last_ticks; /* every scheduler thread's */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    /* 100 ns intervals since 1582-10-15, the Gregorian reform */
    uint64_t ticks = (uint64_t)now.tv_sec * 10000000 + (uint64_t)now.tv_nsec / 100 + UINT64_C(0x01B21DD213814000);
    uint_fast64_t last = atomic_load(&last_ticks);
    do {
        if (ticks <= last)
            ticks = last + 1;
    } while (!atomic_compare_exchange_weak(&last_ticks, &last, ticks));
    uuid_t id;
    if (RAND_bytes(id + 8, 8) != 1)
        return fail(L, "no random bytes for a UUID");
    id[0] = (unsigned char)(ticks >> 24);
    id[1] = (unsigned char)(ticks >> 16);
    id[2] = (unsigned char)(ticks >> 8);
    id[3] = (unsigned char)ticks;
    id[4] = (unsigned char)(ticks >> 40);
    id[5] = (unsigned char)(ticks >> 32);
    id[6] = (unsigned char)(0x10 | ((ticks >> 56) & 0x0f));
    id[7] = (unsigned char)(ticks >> 48);
    id[8] = (unsigned char)(0x80 | (id[8] & 0x3f));
    id[10] |= 0x01; /* a random node, never a network card's address */
    return push_uuid(L, id);
}

static int v4_lua(lua_State *L)
{
    uuid_t id;
    uuid_generate_random(id);
    return push_uuid(L, id);
}

static int v7_lua(lua_State *L)
{
    uuid_t id;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t milliseconds = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    if (RAND_bytes(id + 6, 10) != 1)
        return fail(L, "no random bytes for a UUID");
    for (int i = 0; i < 6; i++)
        id[i] = (unsigned char)(milliseconds >> (40 - 8 * i));
    id[6] = (unsigned char)(0x70 | (id[6] & 0x0f));
    id[8] = (unsigned char)(0x80 | (id[8] & 0x3f));
    return push_uuid(L, id);
}

static int name_based(lua_State *L, void (*generate)(uuid_t, const uuid_t, const char *, size_t))
{
    if (lua_type(L, 1) != LUA_TSTRING || lua_type(L, 2) != LUA_TSTRING)
        return fail(L, "namespace and name must be strings");
    size_t length, name_length;
    const char *text = lua_tolstring(L, 1, &length);
    const char *name = lua_tolstring(L, 2, &name_length);
    uuid_t namespace, id;
    if (!parse_text(text, length, namespace))
        return fail(L, "invalid namespace UUID");
    generate(id, namespace, name, name_length);
    return push_uuid(L, id);
}

static int v3_lua(lua_State *L) { return name_based(L, uuid_generate_md5); }
static int v5_lua(lua_State *L) { return name_based(L, uuid_generate_sha1); }

static int validate_lua(lua_State *L)
{
    uuid_t id;
    size_t length = 0;
    const char *text = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &length) : NULL;
    lua_pushboolean(L, text != NULL && parse_text(text, length, id));
    lua_pushnil(L);
    return 2;
}

static int version_lua(lua_State *L)
{
    uuid_t id;
    int pushed;
    if (!string_argument(L, 1, id, &pushed))
        return pushed;
    lua_pushinteger(L, id[6] >> 4);
    lua_pushnil(L);
    return 2;
}

static const char *variant_name(const uuid_t id)
{
    if ((id[8] & 0x80) == 0)
        return "Reserved"; /* the NCS range, as Go's uuid names it */
    if ((id[8] & 0xc0) == 0x80)
        return "RFC4122";
    if ((id[8] & 0xe0) == 0xc0)
        return "Microsoft";
    return "Future";
}

static int variant_lua(lua_State *L)
{
    uuid_t id;
    int pushed;
    if (!string_argument(L, 1, id, &pushed))
        return pushed;
    lua_pushstring(L, variant_name(id));
    lua_pushnil(L);
    return 2;
}

/* Unix seconds of a v1 (100 ns since 1582-10-15) or v7 (milliseconds). */
static bool timestamp_of(const uuid_t id, lua_Integer *seconds)
{
    int version = id[6] >> 4;
    if (version == 1) {
        uint64_t ticks = ((uint64_t)(id[6] & 0x0f) << 56) | ((uint64_t)id[7] << 48) | ((uint64_t)id[4] << 40) |
                         ((uint64_t)id[5] << 32) | ((uint64_t)id[0] << 24) | ((uint64_t)id[1] << 16) |
                         ((uint64_t)id[2] << 8) | id[3];
        *seconds = (lua_Integer)((int64_t)(ticks / 10000000) - INT64_C(12219292800));
        return true;
    }
    if (version == 7) {
        uint64_t milliseconds = 0;
        for (int i = 0; i < 6; i++)
            milliseconds = milliseconds << 8 | id[i];
        *seconds = (lua_Integer)(milliseconds / 1000);
        return true;
    }
    return false;
}

static int parse_lua(lua_State *L)
{
    uuid_t id;
    int pushed;
    if (!string_argument(L, 1, id, &pushed))
        return pushed;
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, id[6] >> 4);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, variant_name(id));
    lua_setfield(L, -2, "variant");
    lua_Integer seconds;
    if (timestamp_of(id, &seconds)) {
        lua_pushinteger(L, seconds);
        lua_setfield(L, -2, "timestamp");
    }
    if (id[6] >> 4 == 1) {
        lua_pushlstring(L, (const char *)id + 10, 6); /* the node's six bytes, as Go Wippy gives them */
        lua_setfield(L, -2, "node");
    }
    lua_pushnil(L);
    return 2;
}

static int format_lua(lua_State *L)
{
    uuid_t id;
    int pushed;
    if (!string_argument(L, 1, id, &pushed))
        return pushed;
    const char *form = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "standard";
    char text[37];
    uuid_unparse_lower(id, text);
    if (strcmp(form, "standard") == 0) {
        lua_pushstring(L, text);
    } else if (strcmp(form, "urn") == 0) {
        lua_pushfstring(L, "urn:uuid:%s", text);
    } else if (strcmp(form, "simple") == 0) {
        char simple[33];
        size_t used = 0;
        for (const char *c = text; *c != '\0'; c++)
            if (*c != '-')
                simple[used++] = *c;
        lua_pushlstring(L, simple, used);
    } else {
        return fail(L, "unsupported format");
    }
    lua_pushnil(L);
    return 2;
}

int mod_uuid_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"v1", v1_lua},
        {"v3", v3_lua},
        {"v4", v4_lua},
        {"v5", v5_lua},
        {"v7", v7_lua},
        {"validate", validate_lua},
        {"version", version_lua},
        {"variant", variant_lua},
        {"parse", parse_lua},
        {"format", format_lua},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
