/* sam_codec.h - the SAM v3 bridge protocol of I2P without I/O: reading
 * reply lines ("STREAM STATUS RESULT=OK ..." with quoted values), writing
 * commands, naming every RESULT, and I2P's own base64 and .b32.i2p
 * addresses. The driver (i2p.c) moves the bytes. */
#ifndef WIPPY_NET_SAM_CODEC_H
#define WIPPY_NET_SAM_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define SAM_MAX_LINE 16384 /* destinations with private keys are ~900 bytes */
#define SAM_MAX_PAIRS 24

struct sam_pair {
    char *key;
    char *value; /* "" for a key without "=value" */
};

struct sam_reply {
    char *topic; /* "HELLO", "SESSION", "STREAM", "NAMING", "DEST" */
    char *kind;  /* "REPLY", "STATUS" */
    struct sam_pair pairs[SAM_MAX_PAIRS];
    size_t count;
};

/* Collects bytes into lines. */
struct sam_line_reader {
    char line[SAM_MAX_LINE];
    size_t length;
};

/* Takes bytes until a whole line (without its "\n" and any "\r") is in
 * reader->line; returns how many bytes were used and sets *complete. A line
 * longer than SAM_MAX_LINE is an error (returns -1). */
long sam_line_reader_feed(struct sam_line_reader *reader, const char *data, size_t length,
                          bool *complete);
void sam_line_reader_reset(struct sam_line_reader *reader);

/* Parses one reply line. Returns WIPPY_OK or WIPPY_EINVAL (error says why). */
int sam_reply_parse(const char *line, size_t length, struct sam_reply *reply,
                    struct wippy_error *error);
void sam_reply_free(struct sam_reply *reply);
/* The value of key, or NULL. */
const char *sam_reply_get(const struct sam_reply *reply, const char *key);
/* True when the reply is topic/kind with RESULT=OK. */
bool sam_reply_ok(const struct sam_reply *reply, const char *topic, const char *kind);
/* "the peer cannot be reached (CANT_REACH_PEER)" plus MESSAGE when given. */
void sam_reply_describe(const struct sam_reply *reply, char *out, size_t size);

/* Writes "TOPIC KIND key=value ...\n" into out (quoting values that need
 * it); pairs is a NULL-terminated list of key, value. Returns the length, or
 * -1 when it does not fit or a value holds a line break. */
long sam_format(char *out, size_t size, const char *topic, const char *kind,
                const char *const *pairs);

/* I2P's base64 (alphabet A-Z a-z 0-9 - ~). Returns decoded length or -1. */
long i2p_base64_decode(const char *text, size_t length, uint8_t *out, size_t size);
/* The .b32.i2p address of a public destination in I2P base64; false when it
 * is not one. out needs 61 bytes. */
bool i2p_b32_address(const char *destination, char *out, size_t size);
/* True for names SAM takes as a destination as they are: x.b32.i2p, or a
 * base64 destination. */
bool i2p_is_destination(const char *host);

#endif
