/* sam_codec.c - SAM lines and I2P addresses. */
#include "net/sam_codec.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"

long sam_line_reader_feed(struct sam_line_reader *reader, const char *data, size_t length,
                          bool *complete)
{
    *complete = false;
    const char *newline = memchr(data, '\n', length);
    size_t take = newline != NULL ? (size_t)(newline - data) + 1 : length;
    size_t content = newline != NULL ? take - 1 : take;
    if (reader->length + content >= SAM_MAX_LINE)
        return -1;
    memcpy(reader->line + reader->length, data, content);
    reader->length += content;
    if (newline != NULL) {
        if (reader->length > 0 && reader->line[reader->length - 1] == '\r')
            reader->length--;
        reader->line[reader->length] = '\0';
        *complete = true;
    }
    return (long)take;
}

void sam_line_reader_reset(struct sam_line_reader *reader)
{
    reader->length = 0;
    reader->line[0] = '\0';
}

void sam_reply_free(struct sam_reply *reply)
{
    free(reply->topic);
    free(reply->kind);
    for (size_t i = 0; i < reply->count; i++) {
        free(reply->pairs[i].key);
        free(reply->pairs[i].value);
    }
    memset(reply, 0, sizeof *reply);
}

/* Reads one token at *cursor: a word, or key=value where value may be
 * quoted with \" and \\ escapes. */
static int read_token(const char **cursor, const char *end, char **key, char **value,
                      struct wippy_error *error)
{
    const char *start = *cursor;
    const char *at = start;
    while (at < end && *at != ' ' && *at != '=' && *at != '\t')
        at++;
    *key = xstrndup(start, (size_t)(at - start));
    *value = NULL;
    if (at < end && *at == '=') {
        at++;
        if (at < end && *at == '"') {
            at++;
            char *text = xmalloc((size_t)(end - at) + 1);
            size_t used = 0;
            bool closed = false;
            while (at < end) {
                if (*at == '\\' && at + 1 < end && (at[1] == '"' || at[1] == '\\')) {
                    text[used++] = at[1];
                    at += 2;
                } else if (*at == '"') {
                    at++;
                    closed = true;
                    break;
                } else {
                    text[used++] = *at++;
                }
            }
            text[used] = '\0';
            *value = text;
            if (!closed) {
                free(*key);
                free(*value);
                return error_set(error, WIPPY_EINVAL, "unterminated quoted value in SAM reply");
            }
        } else {
            const char *value_start = at;
            while (at < end && *at != ' ' && *at != '\t')
                at++;
            *value = xstrndup(value_start, (size_t)(at - value_start));
        }
    }
    *cursor = at;
    return WIPPY_OK;
}

int sam_reply_parse(const char *line, size_t length, struct sam_reply *reply,
                    struct wippy_error *error)
{
    memset(reply, 0, sizeof *reply);
    const char *cursor = line, *end = line + length;
    int words = 0;
    while (cursor < end) {
        while (cursor < end && (*cursor == ' ' || *cursor == '\t'))
            cursor++;
        if (cursor >= end)
            break;
        char *key, *value;
        int rc = read_token(&cursor, end, &key, &value, error);
        if (rc < 0) {
            sam_reply_free(reply);
            return rc;
        }
        if (words < 2 && value == NULL) {
            if (words == 0)
                reply->topic = key;
            else
                reply->kind = key;
            words++;
            continue;
        }
        words = 2;
        if (reply->count == SAM_MAX_PAIRS) {
            free(key);
            free(value);
            sam_reply_free(reply);
            return error_set(error, WIPPY_EINVAL, "SAM reply with too many values");
        }
        reply->pairs[reply->count].key = key;
        reply->pairs[reply->count].value = value != NULL ? value : xstrdup("");
        reply->count++;
    }
    if (reply->topic == NULL || reply->kind == NULL) {
        sam_reply_free(reply);
        return error_set(error, WIPPY_EINVAL, "malformed SAM reply \"%.80s\"", line);
    }
    return WIPPY_OK;
}

const char *sam_reply_get(const struct sam_reply *reply, const char *key)
{
    for (size_t i = 0; i < reply->count; i++)
        if (strcmp(reply->pairs[i].key, key) == 0)
            return reply->pairs[i].value;
    return NULL;
}

bool sam_reply_ok(const struct sam_reply *reply, const char *topic, const char *kind)
{
    const char *result = sam_reply_get(reply, "RESULT");
    return strcmp(reply->topic, topic) == 0 && strcmp(reply->kind, kind) == 0 && result != NULL &&
           strcmp(result, "OK") == 0;
}

static const struct {
    const char *result;
    const char *meaning;
} results[] = {
    {"CANT_REACH_PEER", "the peer cannot be reached"},
    {"I2P_ERROR", "the I2P router reported an error"},
    {"INVALID_KEY", "the destination or key is invalid"},
    {"INVALID_ID", "the bridge does not know this session"},
    {"TIMEOUT", "the I2P router timed out"},
    {"DUPLICATED_ID", "a session of this name already exists on the bridge"},
    {"DUPLICATED_DEST", "this destination is already in use on the bridge"},
    {"KEY_NOT_FOUND", "the name is not known to the I2P address book"},
    {"PEER_NOT_FOUND", "the peer was not found"},
    {"NOVERSION", "the bridge speaks no SAM version from 3.1 to 3.3"},
    {"ALREADY_ACCEPTING", "the session is already accepting"},
    {"LEASESET_NOT_FOUND", "the destination's lease set was not found"},
};

void sam_reply_describe(const struct sam_reply *reply, char *out, size_t size)
{
    const char *result = sam_reply_get(reply, "RESULT");
    const char *message = sam_reply_get(reply, "MESSAGE");
    const char *meaning = "unexpected reply";
    for (size_t i = 0; result != NULL && i < sizeof results / sizeof results[0]; i++)
        if (strcmp(results[i].result, result) == 0)
            meaning = results[i].meaning;
    if (result == NULL)
        snprintf(out, size, "unexpected reply \"%s %s\"", reply->topic, reply->kind);
    else if (message != NULL && *message != '\0')
        snprintf(out, size, "%s (%s: %s)", meaning, result, message);
    else
        snprintf(out, size, "%s (%s)", meaning, result);
}

long sam_format(char *out, size_t size, const char *topic, const char *kind,
                const char *const *pairs)
{
    size_t at = 0;
    int n = snprintf(out, size, "%s %s", topic, kind);
    if (n < 0 || (size_t)n >= size)
        return -1;
    at = (size_t)n;
    for (size_t i = 0; pairs != NULL && pairs[i] != NULL; i += 2) {
        const char *key = pairs[i], *value = pairs[i + 1];
        if (strpbrk(key, " =\r\n\"") != NULL || strpbrk(value, "\r\n") != NULL)
            return -1;
        /* Base64 values end in "=" and go as they are; spaces and quotes need quoting. */
        bool quote = *value == '\0' || strpbrk(value, " \t\"") != NULL;
        if (at + strlen(key) + 2 >= size)
            return -1;
        at += (size_t)snprintf(out + at, size - at, " %s=", key);
        if (quote)
            out[at++] = '"';
        for (const char *c = value; *c; c++) {
            if (at + 3 >= size)
                return -1;
            if (quote && (*c == '"' || *c == '\\'))
                out[at++] = '\\';
            out[at++] = *c;
        }
        if (quote)
            out[at++] = '"';
    }
    if (at + 2 > size)
        return -1;
    out[at++] = '\n';
    out[at] = '\0';
    return (long)at;
}

static int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '~')
        return 63;
    return -1;
}

long i2p_base64_decode(const char *text, size_t length, uint8_t *out, size_t size)
{
    while (length > 0 && text[length - 1] == '=')
        length--;
    size_t at = 0;
    uint32_t buffer = 0;
    int bits = 0;
    for (size_t i = 0; i < length; i++) {
        int value = base64_value(text[i]);
        if (value < 0)
            return -1;
        buffer = (buffer << 6) | (uint32_t)value;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (at >= size)
                return -1;
            out[at++] = (uint8_t)(buffer >> bits);
        }
    }
    return (long)at;
}

bool i2p_b32_address(const char *destination, char *out, size_t size)
{
    uint8_t bytes[1024];
    long length = i2p_base64_decode(destination, strlen(destination), bytes, sizeof bytes);
    if (length < 387 || size < 61)
        return false;
    /* A destination: 256 + 128 key bytes, then a certificate whose payload
     * length is at bytes 385-386. The hash covers exactly that. */
    size_t certificate = ((size_t)bytes[385] << 8) | bytes[386];
    size_t public_length = 387 + certificate;
    if ((size_t)length < public_length)
        return false;
    uint8_t digest[32];
    unsigned int digest_length = 0;
    if (!EVP_Digest(bytes, public_length, digest, &digest_length, EVP_sha256(), NULL))
        return false;
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t at = 0;
    uint32_t buffer = 0;
    int bits = 0;
    for (size_t i = 0; i < 32; i++) {
        buffer = (buffer << 8) | digest[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[at++] = alphabet[(buffer >> bits) & 31];
        }
    }
    if (bits > 0)
        out[at++] = alphabet[(buffer << (5 - bits)) & 31];
    snprintf(out + at, size - at, ".b32.i2p");
    return true;
}

bool i2p_is_destination(const char *host)
{
    size_t length = strlen(host);
    const char *suffix = ".b32.i2p";
    if (length > 8 && strcmp(host + length - 8, suffix) == 0)
        return true;
    if (length < 516)
        return false;
    for (size_t i = 0; i < length; i++)
        if (base64_value(host[i]) < 0 && host[i] != '=')
            return false;
    return true;
}
