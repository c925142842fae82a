/* mod_base64.c - base64.encode / base64.decode as Wippy's: RFC 4648's
 * standard alphabet with padding, strict (bad input is `nil, err` naming
 * the byte, line breaks skipped as Go's decoder does), strings only. */
#include <lauxlib.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>

#include "lua/error_values.h"
#include "lua/modules.h"

/* RFC 4648's standard alphabet: OpenSSL's EVP_EncodeBlock and
 * EVP_DecodeBlock do the conversion; this file checks what they would take
 * too leniently (whitespace, misplaced padding), as Go's decoder does. */

static int base64_encode_lua(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "string expected");
    size_t length;
    const unsigned char *in = (const unsigned char *)lua_tolstring(L, 1, &length);
    if (length > (size_t)INT_MAX / 4 * 3 - 3)
        return luaL_error(L, "base64.encode: input too large");
    luaL_Buffer buffer;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &buffer, (length + 2) / 3 * 4 + 1);
    int written = EVP_EncodeBlock(out, in, (int)length);
    luaL_pushresultsize(&buffer, (size_t)written);
    return 1;
}

static bool in_alphabet(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Copies in without line breaks to out and checks it is whole groups of
 * four with padding only at the end ("xx==" or "xxx="). Returns the length
 * copied, or -1 with *bad the offset in `in` of the first wrong byte. */
static long strict_copy(const char *in, size_t length, char *out, size_t *padding, size_t *bad)
{
    size_t used = 0;
    *padding = 0;
    for (size_t i = 0; i < length; i++) {
        char c = in[i];
        if (c == '\r' || c == '\n')
            continue;
        size_t place = used % 4; /* where in its group of four */
        bool ok = *padding > 0 ? c == '=' && place == 3
                               : in_alphabet(c) || (c == '=' && place >= 2);
        if (!ok) {
            *bad = i;
            return -1;
        }
        if (c == '=')
            (*padding)++;
        out[used++] = c;
    }
    if (used % 4 != 0) {
        *bad = length;
        return -1;
    }
    return (long)used;
}

static int base64_decode_lua(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "string expected");
    size_t length, padding = 0, bad = 0;
    const char *in = lua_tolstring(L, 1, &length);
    if (length > (size_t)INT_MAX)
        return luaL_error(L, "base64.decode: input too large");
    char *clean = lua_newuserdatauv(L, length + 1, 0);
    long used = strict_copy(in, length, clean, &padding, &bad);
    if (used < 0) {
        return error_value_fail_with(L, ERROR_KIND_INVALID, "illegal base64 data at input byte %d", (int)bad);
    }
    luaL_Buffer buffer;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &buffer, (size_t)used / 4 * 3 + 1);
    int written = used > 0 ? EVP_DecodeBlock(out, (const unsigned char *)clean, (int)used) : 0;
    if (written < 0) /* cannot happen after the check above */
        return error_value_fail_with(L, ERROR_KIND_INVALID, "illegal base64 data");
    luaL_pushresultsize(&buffer, (size_t)written - padding);
    return 1;
}

int mod_base64_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"encode", base64_encode_lua},
        {"decode", base64_decode_lua},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
