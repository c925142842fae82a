/* mod_hash.c - the hash module as Wippy's: md5, sha1, sha256, sha512 and
 * their HMACs (OpenSSL's EVP and HMAC), lowercase hex or raw bytes when the
 * last argument is true; fnv32 and fnv64 (FNV-1, which is what Go Wippy's
 * fnv.New32/New64 compute, as numbers). Bad input is `nil, err`. */
#include <lauxlib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdint.h>

#include "lua/error_values.h"
#include "lua/modules.h"
#include "util/hex.h"

static bool data_argument(lua_State *L, int index, const char *what, const char **text, size_t *length)
{
    if (lua_type(L, index) != LUA_TSTRING) {
        error_value_fail_with(L, ERROR_KIND_INVALID, "%s must be a string", what);
        return false;
    }
    *text = lua_tolstring(L, index, length);
    return true;
}

static int push_digest(lua_State *L, const unsigned char *digest, unsigned int length, bool raw)
{
    if (raw) {
        lua_pushlstring(L, (const char *)digest, length);
    } else {
        char text[EVP_MAX_MD_SIZE * 2];
        hex_encode(digest, length, text);
        lua_pushlstring(L, text, 2 * (size_t)length);
    }
    lua_pushnil(L);
    return 2;
}

static int digest_with(lua_State *L, const EVP_MD *algorithm)
{
    const char *data;
    size_t length;
    if (!data_argument(L, 1, "data", &data, &length))
        return 2;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    if (EVP_Digest(data, length, digest, &digest_length, algorithm, NULL) != 1)
        return luaL_error(L, "hash: the digest failed in OpenSSL");
    return push_digest(L, digest, digest_length, lua_toboolean(L, 2));
}

static int hmac_with(lua_State *L, const EVP_MD *algorithm)
{
    const char *data, *secret;
    size_t length, secret_length;
    if (!data_argument(L, 1, "data", &data, &length) || !data_argument(L, 2, "secret", &secret, &secret_length))
        return 2;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    if (secret_length > INT32_MAX ||
        HMAC(algorithm, secret, (int)secret_length, (const unsigned char *)data, length, digest, &digest_length) == NULL)
        return luaL_error(L, "hash: the HMAC failed in OpenSSL");
    return push_digest(L, digest, digest_length, lua_toboolean(L, 3));
}

static int md5_lua(lua_State *L) { return digest_with(L, EVP_md5()); }
static int sha1_lua(lua_State *L) { return digest_with(L, EVP_sha1()); }
static int sha256_lua(lua_State *L) { return digest_with(L, EVP_sha256()); }
static int sha512_lua(lua_State *L) { return digest_with(L, EVP_sha512()); }
static int hmac_md5_lua(lua_State *L) { return hmac_with(L, EVP_md5()); }
static int hmac_sha1_lua(lua_State *L) { return hmac_with(L, EVP_sha1()); }
static int hmac_sha256_lua(lua_State *L) { return hmac_with(L, EVP_sha256()); }
static int hmac_sha512_lua(lua_State *L) { return hmac_with(L, EVP_sha512()); }

/* FNV-1: multiply by the prime, then xor the byte. */
static int fnv32_lua(lua_State *L)
{
    const char *data;
    size_t length;
    if (!data_argument(L, 1, "data", &data, &length))
        return 2;
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < length; i++)
        hash = (hash * 16777619u) ^ (uint8_t)data[i];
    lua_pushinteger(L, (lua_Integer)hash);
    lua_pushnil(L);
    return 2;
}

static int fnv64_lua(lua_State *L)
{
    const char *data;
    size_t length;
    if (!data_argument(L, 1, "data", &data, &length))
        return 2;
    uint64_t hash = 14695981039346656037u;
    for (size_t i = 0; i < length; i++)
        hash = (hash * 1099511628211u) ^ (uint8_t)data[i];
    lua_pushnumber(L, (lua_Number)hash); /* a float, as Go Wippy's (above 2^63 an integer would turn negative) */
    lua_pushnil(L);
    return 2;
}

int mod_hash_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"md5", md5_lua},
        {"sha1", sha1_lua},
        {"sha256", sha256_lua},
        {"sha512", sha512_lua},
        {"hmac_md5", hmac_md5_lua},
        {"hmac_sha1", hmac_sha1_lua},
        {"hmac_sha256", hmac_sha256_lua},
        {"hmac_sha512", hmac_sha512_lua},
        {"fnv32", fnv32_lua},
        {"fnv64", fnv64_lua},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
