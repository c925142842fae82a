/* mod_crypto.c - the crypto module as Go Wippy's, on OpenSSL: random bytes
 * and strings, HMAC (key first), AES-GCM and ChaCha20-Poly1305 (nonce,
 * ciphertext and tag in one string), PBKDF2 (on libuv's thread pool: a
 * million iterations take seconds), constant-time comparison, and JWT
 * (HS256/384/512 and RS256). Wrong argument types raise; wrong values are
 * `nil, err`. */
#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/error_values.h"
#include "lua/modules.h"
#include "util/hex.h"
#include "util/memory.h"
#include "vm/core.h"
#include "vm/state.h"
#include "vm/task.h"

#define RANDOM_MAX_BYTES 1048576
#define PBKDF2_MAX_ITERATIONS 10000000
#define PBKDF2_MAX_KEY_BYTES (1024 * 1024)
#define NONCE_BYTES 12
#define TAG_BYTES 16

static int invalid(lua_State *L, const char *message)
{
    return error_value_fail_with(L, ERROR_KIND_INVALID, "%s", message);
}

static int internal(lua_State *L, const char *message)
{
    return error_value_fail_with(L, ERROR_KIND_INTERNAL, "%s", message);
}

static int push_two(lua_State *L)
{
    lua_pushnil(L);
    return 2;
}

/* ---- random ---- */

static int random_length(lua_State *L, lua_Integer *length)
{
    *length = luaL_checkinteger(L, 1);
    if (*length <= 0)
        return invalid(L, "length must be a positive integer");
    if (*length > RANDOM_MAX_BYTES)
        return invalid(L, "length exceeds maximum allowed size (1MB)");
    return 0;
}

static int random_bytes(lua_State *L)
{
    lua_Integer length;
    int refused = random_length(L, &length);
    if (refused)
        return refused;
    luaL_Buffer out;
    unsigned char *bytes = (unsigned char *)luaL_buffinitsize(L, &out, (size_t)length);
    if (RAND_bytes(bytes, (int)length) != 1)
        return internal(L, "random source failed");
    luaL_pushresultsize(&out, (size_t)length);
    return push_two(L);
}

static int random_string(lua_State *L)
{
    lua_Integer length;
    int refused = random_length(L, &length);
    if (refused)
        return refused;
    static const char alphanumeric[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t charset_length = sizeof alphanumeric - 1;
    const char *charset = alphanumeric;
    if (lua_type(L, 2) == LUA_TSTRING) /* anything else is ignored, as in Go Wippy */
        charset = lua_tolstring(L, 2, &charset_length);
    if (charset_length == 0)
        return invalid(L, "charset cannot be empty");
    unsigned char *random = xmalloc((size_t)length);
    if (RAND_bytes(random, (int)length) != 1) {
        free(random);
        return internal(L, "random source failed");
    }
    luaL_Buffer out;
    char *text = luaL_buffinitsize(L, &out, (size_t)length);
    for (lua_Integer i = 0; i < length; i++)
        text[i] = charset[random[i] % charset_length];
    free(random);
    luaL_pushresultsize(&out, (size_t)length);
    return push_two(L);
}

static int random_uuid(lua_State *L)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return internal(L, "random source failed");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char text[37];
    snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    lua_pushstring(L, text);
    return push_two(L);
}

/* ---- HMAC, key first ---- */

static int push_hex(lua_State *L, const unsigned char *bytes, size_t length)
{
    char text[EVP_MAX_MD_SIZE * 2];
    hex_encode(bytes, length, text);
    lua_pushlstring(L, text, 2 * length);
    return push_two(L);
}

static int hmac_with(lua_State *L, const EVP_MD *digest)
{
    size_t key_length, data_length;
    const char *key = luaL_checklstring(L, 1, &key_length);
    const char *data = luaL_checklstring(L, 2, &data_length);
    if (key_length == 0)
        return invalid(L, "key cannot be empty");
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_length = 0;
    if (HMAC(digest, key, (int)key_length, (const unsigned char *)data, data_length, out, &out_length) == NULL)
        return internal(L, "hmac failed");
    return push_hex(L, out, out_length);
}

static int hmac_sha256(lua_State *L) { return hmac_with(L, EVP_sha256()); }
static int hmac_sha512(lua_State *L) { return hmac_with(L, EVP_sha512()); }

/* ---- authenticated encryption: nonce(12) || ciphertext || tag(16) ---- */

static const EVP_CIPHER *aes_for(size_t key_length)
{
    switch (key_length) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    case 32: return EVP_aes_256_gcm();
    default: return NULL;
    }
}

static int seal(lua_State *L, const EVP_CIPHER *cipher)
{
    size_t data_length, aad_length = 0;
    const char *data = luaL_checklstring(L, 1, &data_length);
    const char *key = luaL_checkstring(L, 2);
    const char *aad = lua_type(L, 3) == LUA_TSTRING ? lua_tolstring(L, 3, &aad_length) : NULL;
    if (data_length > (size_t)INT32_MAX - NONCE_BYTES - TAG_BYTES)
        return invalid(L, "data too large");
    luaL_Buffer out;
    unsigned char *sealed = (unsigned char *)luaL_buffinitsize(L, &out, data_length + NONCE_BYTES + TAG_BYTES);
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int length = 0, tail = 0;
    bool ok = context != NULL && RAND_bytes(sealed, NONCE_BYTES) == 1 &&
              EVP_EncryptInit_ex(context, cipher, NULL, NULL, NULL) == 1 &&
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
              EVP_EncryptInit_ex(context, NULL, NULL, (const unsigned char *)key, sealed) == 1 &&
              (aad == NULL || EVP_EncryptUpdate(context, NULL, &length, (const unsigned char *)aad, (int)aad_length) == 1) &&
              EVP_EncryptUpdate(context, sealed + NONCE_BYTES, &length, (const unsigned char *)data, (int)data_length) == 1 &&
              EVP_EncryptFinal_ex(context, sealed + NONCE_BYTES + length, &tail) == 1 &&
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, TAG_BYTES, sealed + NONCE_BYTES + length + tail) == 1;
    EVP_CIPHER_CTX_free(context);
    if (!ok)
        return internal(L, "encryption failed");
    luaL_pushresultsize(&out, NONCE_BYTES + (size_t)length + (size_t)tail + TAG_BYTES);
    return push_two(L);
}

static int open_sealed(lua_State *L, const EVP_CIPHER *cipher, const char *failure)
{
    size_t data_length, aad_length = 0;
    const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 1, &data_length);
    const char *key = luaL_checkstring(L, 2);
    const char *aad = lua_type(L, 3) == LUA_TSTRING ? lua_tolstring(L, 3, &aad_length) : NULL;
    if (data_length < NONCE_BYTES)
        return invalid(L, "encrypted data too short");
    if (data_length < NONCE_BYTES + TAG_BYTES || data_length > (size_t)INT32_MAX)
        return internal(L, failure);
    size_t text_length = data_length - NONCE_BYTES - TAG_BYTES;
    luaL_Buffer out;
    unsigned char *plain = (unsigned char *)luaL_buffinitsize(L, &out, text_length + 1);
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int length = 0, tail = 0;
    unsigned char tag[TAG_BYTES];
    memcpy(tag, data + data_length - TAG_BYTES, TAG_BYTES);
    bool ok = context != NULL && EVP_DecryptInit_ex(context, cipher, NULL, NULL, NULL) == 1 &&
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
              EVP_DecryptInit_ex(context, NULL, NULL, (const unsigned char *)key, data) == 1 &&
              (aad == NULL || EVP_DecryptUpdate(context, NULL, &length, (const unsigned char *)aad, (int)aad_length) == 1) &&
              EVP_DecryptUpdate(context, plain, &length, data + NONCE_BYTES, (int)text_length) == 1 &&
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, TAG_BYTES, tag) == 1 &&
              EVP_DecryptFinal_ex(context, plain + length, &tail) == 1;
    EVP_CIPHER_CTX_free(context);
    if (!ok) {
        OPENSSL_cleanse(plain, text_length);
        return internal(L, failure);
    }
    luaL_pushresultsize(&out, (size_t)length + (size_t)tail);
    return push_two(L);
}

static int encrypt_aes(lua_State *L)
{
    size_t key_length;
    luaL_checkstring(L, 1);
    luaL_checklstring(L, 2, &key_length);
    const EVP_CIPHER *cipher = aes_for(key_length);
    if (cipher == NULL)
        return invalid(L, "key must be 16, 24, or 32 bytes");
    return seal(L, cipher);
}

static int decrypt_aes(lua_State *L)
{
    size_t key_length;
    luaL_checkstring(L, 1);
    luaL_checklstring(L, 2, &key_length);
    const EVP_CIPHER *cipher = aes_for(key_length);
    if (cipher == NULL)
        return invalid(L, "key must be 16, 24, or 32 bytes");
    return open_sealed(L, cipher, "cipher: message authentication failed");
}

static int encrypt_chacha20(lua_State *L)
{
    size_t key_length;
    luaL_checkstring(L, 1);
    luaL_checklstring(L, 2, &key_length);
    if (key_length != 32)
        return invalid(L, "key must be 32 bytes");
    return seal(L, EVP_chacha20_poly1305());
}

static int decrypt_chacha20(lua_State *L)
{
    size_t key_length;
    luaL_checkstring(L, 1);
    luaL_checklstring(L, 2, &key_length);
    if (key_length != 32)
        return invalid(L, "key must be 32 bytes");
    return open_sealed(L, EVP_chacha20_poly1305(), "chacha20poly1305: message authentication failed");
}

/* ---- PBKDF2, off the loop ---- */

struct derivation {
    uv_work_t work;
    struct task *task; /* NULL once it stopped waiting */
    char *password;
    size_t password_length;
    unsigned char *salt;
    size_t salt_length;
    int iterations;
    const EVP_MD *digest;
    unsigned char *key;
    size_t key_length;
    bool ok;
};

static void derive(uv_work_t *work)
{
    struct derivation *d = (struct derivation *)work;
    d->ok = PKCS5_PBKDF2_HMAC(d->password, (int)d->password_length, d->salt, (int)d->salt_length, d->iterations,
                              d->digest, (int)d->key_length, d->key) == 1;
}

static void free_derivation(struct derivation *d)
{
    OPENSSL_cleanse(d->password, d->password_length);
    OPENSSL_cleanse(d->key, d->key_length);
    free(d->password);
    free(d->salt);
    free(d->key);
    free(d);
}

static void derived(uv_work_t *work, int status)
{
    struct derivation *d = (struct derivation *)work;
    struct task *task = d->task;
    if (task != NULL) {
        vm_unlimited_begin(task->vm);
        if (d->ok && status == 0) {
            lua_pushlstring(task->thread, (const char *)d->key, d->key_length);
            lua_pushnil(task->thread);
        } else {
            lua_pushnil(task->thread);
            error_value_push(task->thread, ERROR_KIND_INTERNAL, 0, "pbkdf2 failed");
        }
        task_wake(task, 2);
        vm_unlimited_end(task->vm);
    }
    free_derivation(d);
}

static void cancel_derivation(struct task *task)
{
    ((struct derivation *)task->wait_data)->task = NULL;
}

static int crypto_pbkdf2(lua_State *L)
{
    size_t password_length, salt_length;
    const char *password = luaL_checklstring(L, 1, &password_length);
    const char *salt = luaL_checklstring(L, 2, &salt_length);
    lua_Integer iterations = luaL_checkinteger(L, 3);
    lua_Integer key_length = luaL_checkinteger(L, 4);
    const char *hash = lua_type(L, 5) == LUA_TSTRING ? lua_tostring(L, 5) : "sha256";
    if (password_length == 0)
        return invalid(L, "password cannot be empty");
    if (salt_length == 0)
        return invalid(L, "salt cannot be empty");
    if (iterations <= 0)
        return invalid(L, "iterations must be positive");
    if (iterations > PBKDF2_MAX_ITERATIONS)
        return invalid(L, "iterations exceeds maximum (10000000)");
    if (key_length <= 0)
        return invalid(L, "key length must be positive");
    if (key_length > PBKDF2_MAX_KEY_BYTES) /* Go sets none; a gigabyte key is no key */
        return invalid(L, "key length exceeds maximum (1MB)");
    if (password_length > INT32_MAX || salt_length > INT32_MAX)
        return invalid(L, "password or salt too long");
    const EVP_MD *digest = strcmp(hash, "sha256") == 0 ? EVP_sha256() : strcmp(hash, "sha512") == 0 ? EVP_sha512() : NULL;
    if (digest == NULL)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "unsupported hash function: %s", hash);
    struct task *task = task_current(L);
    task_check_can_block(L, task, "crypto.pbkdf2");
    struct derivation *d = xcalloc(1, sizeof *d);
    d->task = task;
    d->password = xmalloc(password_length + 1);
    memcpy(d->password, password, password_length);
    d->password_length = password_length;
    d->salt = xmalloc(salt_length + 1);
    memcpy(d->salt, salt, salt_length);
    d->salt_length = salt_length;
    d->iterations = (int)iterations;
    d->digest = digest;
    d->key_length = (size_t)key_length;
    d->key = xmalloc(d->key_length);
    uv_queue_work(task->vm->loop, &d->work, derive, derived);
    return task_wait(L, task, cancel_derivation, d, NULL, 0);
}

static int constant_time_compare(lua_State *L)
{
    size_t a_length, b_length;
    const char *a = luaL_checklstring(L, 1, &a_length);
    const char *b = luaL_checklstring(L, 2, &b_length);
    lua_pushboolean(L, a_length == b_length && CRYPTO_memcmp(a, b, a_length) == 0);
    return 1;
}

/* ---- JWT ---- */

static void push_base64url(lua_State *L, const unsigned char *bytes, size_t length)
{
    luaL_Buffer out;
    size_t room = 4 * ((length + 2) / 3) + 1;
    char *text = luaL_buffinitsize(L, &out, room);
    int written = EVP_EncodeBlock((unsigned char *)text, bytes, (int)length);
    while (written > 0 && text[written - 1] == '=')
        written--;
    for (int i = 0; i < written; i++)
        text[i] = text[i] == '+' ? '-' : text[i] == '/' ? '_' : text[i];
    luaL_pushresultsize(&out, (size_t)written);
}

/* Decodes base64url without padding into a malloc'd buffer; NULL when it
 * is not such text. */
static unsigned char *base64url_decode(const char *text, size_t length, size_t *out_length)
{
    if (length % 4 == 1 || length > (size_t)INT32_MAX / 2)
        return NULL;
    size_t padded = (length + 3) / 4 * 4;
    char *standard = xmalloc(padded + 1);
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            free(standard);
            return NULL;
        }
        standard[i] = c;
    }
    for (size_t i = length; i < padded; i++)
        standard[i] = '=';
    unsigned char *bytes = xmalloc(padded / 4 * 3 + 1);
    int decoded = EVP_DecodeBlock(bytes, (const unsigned char *)standard, (int)padded);
    free(standard);
    if (decoded < 0) {
        free(bytes);
        return NULL;
    }
    *out_length = (size_t)decoded - (padded - length); /* EVP_DecodeBlock counts the padding as zero bytes */
    return bytes;
}

static const EVP_MD *hmac_digest_for(const char *alg)
{
    if (strcmp(alg, "HS256") == 0)
        return EVP_sha256();
    if (strcmp(alg, "HS384") == 0)
        return EVP_sha384();
    if (strcmp(alg, "HS512") == 0)
        return EVP_sha512();
    return NULL;
}

/* Signs input with alg and key; a malloc'd signature, or NULL with reason. */
static unsigned char *sign(const char *alg, const char *key, size_t key_length, const char *input, size_t input_length,
                           size_t *signature_length, const char **reason)
{
    const EVP_MD *digest = hmac_digest_for(alg);
    if (digest != NULL) {
        unsigned char *out = xmalloc(EVP_MAX_MD_SIZE);
        unsigned int out_length = 0;
        if (HMAC(digest, key, (int)key_length, (const unsigned char *)input, input_length, out, &out_length) == NULL) {
            free(out);
            *reason = "signing failed";
            return NULL;
        }
        *signature_length = out_length;
        return out;
    }
    BIO *bio = BIO_new_mem_buf(key, (int)key_length);
    EVP_PKEY *private_key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (private_key == NULL || EVP_PKEY_base_id(private_key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(private_key);
        *reason = "invalid RSA private key: not a PEM RSA private key (PKCS#1 or PKCS#8)";
        return NULL;
    }
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    size_t length = 0;
    unsigned char *out = NULL;
    bool ok = context != NULL && EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, private_key) == 1 &&
              EVP_DigestSign(context, NULL, &length, (const unsigned char *)input, input_length) == 1;
    if (ok) {
        out = xmalloc(length);
        ok = EVP_DigestSign(context, out, &length, (const unsigned char *)input, input_length) == 1;
    }
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(private_key);
    if (!ok) {
        free(out);
        *reason = "signing failed";
        return NULL;
    }
    *signature_length = length;
    return out;
}

static int jwt_encode(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t key_length;
    const char *key = luaL_checklstring(L, 2, &key_length);
    const char *alg = luaL_optstring(L, 3, "HS256");
    if (hmac_digest_for(alg) == NULL && strcmp(alg, "RS256") != 0)
        alg = "HS256"; /* as Go Wippy: an unknown alg signs as HS256 */
    if (lua_rawlen(L, 1) > 0)
        return invalid(L, "failed to convert payload to map");
    /* claims: a shallow copy without _header; header: alg, typ, then _header's */
    lua_newtable(L);
    int claims = lua_gettop(L);
    lua_createtable(L, 0, 2);
    int header = lua_gettop(L);
    lua_pushstring(L, alg);
    lua_setfield(L, header, "alg");
    lua_pushliteral(L, "JWT");
    lua_setfield(L, header, "typ");
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "_header") == 0) {
            if (lua_istable(L, -1)) {
                lua_pushnil(L);
                while (lua_next(L, -2) != 0) {
                    lua_pushvalue(L, -2);
                    lua_insert(L, -2);
                    lua_rawset(L, header);
                }
            }
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, claims);
    }
    if (!mod_json_encode(L, header))
        return error_value_fail_with(L, ERROR_KIND_INVALID, "%s", lua_tostring(L, -1));
    size_t header_length;
    const char *header_json = lua_tolstring(L, -1, &header_length);
    push_base64url(L, (const unsigned char *)header_json, header_length);
    if (!mod_json_encode(L, claims))
        return error_value_fail_with(L, ERROR_KIND_INVALID, "%s", lua_tostring(L, -1));
    size_t claims_length;
    const char *claims_json = lua_tolstring(L, -1, &claims_length);
    push_base64url(L, (const unsigned char *)claims_json, claims_length);
    lua_remove(L, -2);
    lua_pushliteral(L, ".");
    lua_insert(L, -2);
    lua_concat(L, 3); /* header64.claims64 */
    size_t input_length;
    const char *input = lua_tolstring(L, -1, &input_length);
    size_t signature_length;
    const char *reason;
    unsigned char *signature = sign(alg, key, key_length, input, input_length, &signature_length, &reason);
    if (signature == NULL)
        return error_value_fail_with(L, strcmp(reason, "signing failed") == 0 ? ERROR_KIND_INTERNAL : ERROR_KIND_INVALID,
                                     "%s", reason);
    lua_pushliteral(L, ".");
    push_base64url(L, signature, signature_length);
    free(signature);
    lua_concat(L, 3);
    return push_two(L);
}

/* Verifies an RS256 signature with a PEM certificate or public key. */
static bool verify_rsa(const char *key, size_t key_length, const char *input, size_t input_length,
                       const unsigned char *signature, size_t signature_length, const char **reason)
{
    BIO *bio = BIO_new_mem_buf(key, (int)key_length);
    EVP_PKEY *public_key = NULL;
    X509 *certificate = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    if (certificate != NULL) {
        public_key = X509_get_pubkey(certificate);
        X509_free(certificate);
    } else if (bio != NULL && BIO_reset(bio) == 1) {
        public_key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    }
    BIO_free(bio);
    if (public_key == NULL || EVP_PKEY_base_id(public_key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(public_key);
        *reason = "token is unverifiable: error while executing keyfunc: invalid RSA public key";
        return false;
    }
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    bool ok = context != NULL && EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, public_key) == 1 &&
              EVP_DigestVerify(context, signature, signature_length, (const unsigned char *)input, input_length) == 1;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(public_key);
    if (!ok)
        *reason = "token signature is invalid: crypto/rsa: verification error";
    return ok;
}

/* Pushes the JSON object in base64url text, or returns false. */
static bool push_json_part(lua_State *L, const char *text, size_t length)
{
    size_t bytes_length;
    unsigned char *bytes = base64url_decode(text, length, &bytes_length);
    if (bytes == NULL)
        return false;
    bool ok = mod_json_decode(L, (const char *)bytes, bytes_length);
    free(bytes);
    if (ok && !lua_istable(L, -1))
        ok = false;
    if (!ok)
        lua_pop(L, 1);
    return ok;
}

static int jwt_fail(lua_State *L, const char *message)
{
    return internal(L, message);
}

static int jwt_verify(lua_State *L)
{
    size_t token_length, key_length;
    const char *token = luaL_checklstring(L, 1, &token_length);
    const char *key = luaL_checklstring(L, 2, &key_length);
    const char *alg = luaL_optstring(L, 3, "HS256");
    bool require_exp = lua_isnoneornil(L, 4) ? true : lua_toboolean(L, 4);
    const char *first = memchr(token, '.', token_length);
    const char *second = first != NULL ? memchr(first + 1, '.', token_length - (size_t)(first + 1 - token)) : NULL;
    if (first == NULL || second == NULL || memchr(second + 1, '.', token_length - (size_t)(second + 1 - token)) != NULL)
        return jwt_fail(L, "token is malformed: token contains an invalid number of segments");
    if (!push_json_part(L, token, (size_t)(first - token)))
        return jwt_fail(L, "token is malformed: could not JSON decode header");
    int header = lua_gettop(L);
    lua_getfield(L, header, "alg");
    const char *token_alg = lua_tostring(L, -1);
    if (token_alg == NULL || strcmp(token_alg, alg) != 0 || (hmac_digest_for(alg) == NULL && strcmp(alg, "RS256") != 0))
        return jwt_fail(L, "token is unverifiable: signing method (alg) is unavailable or not the expected one");
    size_t signature_length;
    const char *signature_text = second + 1;
    unsigned char *signature =
        base64url_decode(signature_text, token_length - (size_t)(signature_text - token), &signature_length);
    if (signature == NULL)
        return jwt_fail(L, "token is malformed: could not base64 decode signature");
    size_t input_length = (size_t)(second - token);
    bool valid;
    const char *reason = "token signature is invalid: signature is invalid";
    if (strcmp(alg, "RS256") == 0) {
        valid = verify_rsa(key, key_length, token, input_length, signature, signature_length, &reason);
    } else {
        size_t expected_length;
        const char *ignored;
        unsigned char *expected = sign(alg, key, key_length, token, input_length, &expected_length, &ignored);
        valid = expected != NULL && expected_length == signature_length &&
                CRYPTO_memcmp(expected, signature, signature_length) == 0;
        free(expected);
    }
    free(signature);
    if (!valid)
        return jwt_fail(L, reason);
    if (!push_json_part(L, first + 1, (size_t)(second - first - 1)))
        return jwt_fail(L, "token is malformed: could not JSON decode claim");
    int claims = lua_gettop(L);
    double now = (double)time(NULL);
    lua_getfield(L, claims, "exp");
    if (lua_isnil(L, -1) && require_exp)
        return jwt_fail(L, "token has invalid claims: token is missing required claim: exp claim is required");
    if (!lua_isnil(L, -1) && (!lua_isnumber(L, -1) || lua_tonumber(L, -1) <= now))
        return jwt_fail(L, "token has invalid claims: token is expired");
    lua_getfield(L, claims, "nbf");
    if (!lua_isnil(L, -1) && (!lua_isnumber(L, -1) || lua_tonumber(L, -1) > now))
        return jwt_fail(L, "token has invalid claims: token is not valid yet");
    lua_settop(L, claims);
    return push_two(L);
}

/* A table of functions under the module, read-only like the module: every
 * task of a heap reads the same one. */
static void add_functions(lua_State *L, const char *name, const luaL_Reg *functions)
{
    lua_newtable(L);
    luaL_setfuncs(L, functions, 0);
    state_make_read_only(L);
    lua_setfield(L, -2, name);
}

int mod_crypto_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"pbkdf2", crypto_pbkdf2},
        {"constant_time_compare", constant_time_compare},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    static const luaL_Reg random[] = {{"bytes", random_bytes}, {"string", random_string}, {"uuid", random_uuid}, {NULL, NULL}};
    add_functions(L, "random", random);
    static const luaL_Reg hmac[] = {{"sha256", hmac_sha256}, {"sha512", hmac_sha512}, {NULL, NULL}};
    add_functions(L, "hmac", hmac);
    static const luaL_Reg encrypt[] = {{"aes", encrypt_aes}, {"chacha20", encrypt_chacha20}, {NULL, NULL}};
    add_functions(L, "encrypt", encrypt);
    static const luaL_Reg decrypt[] = {{"aes", decrypt_aes}, {"chacha20", decrypt_chacha20}, {NULL, NULL}};
    add_functions(L, "decrypt", decrypt);
    static const luaL_Reg jwt[] = {{"encode", jwt_encode}, {"verify", jwt_verify}, {NULL, NULL}};
    add_functions(L, "jwt", jwt);
    (void)context;
    return 1;
}
