/* sam_client.h - one conversation with an I2P router's SAM v3 bridge as a
 * state machine without I/O, in the shape of socks5_codec.h: it says which
 * line to send and consumes the bytes received. Three kinds: the session's
 * control connection (HELLO, SESSION CREATE, NAMING LOOKUP of our own
 * destination, then held open), a dial (HELLO, NAMING LOOKUP of a .i2p
 * name, STREAM CONNECT) and an accept (HELLO, STREAM ACCEPT, the caller's
 * destination). The driver (i2p.c) moves the bytes and owns the timing. */
#ifndef WIPPY_NET_SAM_CLIENT_H
#define WIPPY_NET_SAM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "net/sam_codec.h"
#include "util/error.h"

enum sam_client_kind {
    SAM_CLIENT_SESSION,
    SAM_CLIENT_DIAL,
    SAM_CLIENT_ACCEPT,
};

enum sam_client_state {
    SAM_SEND_HELLO,
    SAM_READ_HELLO,
    SAM_SEND_SESSION_CREATE,   /* session */
    SAM_READ_SESSION_STATUS,
    SAM_SESSION_CREATED,
    SAM_SEND_OWN_LOOKUP,
    SAM_READ_OWN_LOOKUP,
    SAM_SESSION_READY,         /* held open; lines that come are read and ignored */
    SAM_SEND_NAME_LOOKUP,      /* dial of a name */
    SAM_READ_NAME_LOOKUP,
    SAM_WAIT_SESSION,          /* dial and accept */
    SAM_SEND_STREAM,
    SAM_READ_STREAM_STATUS,
    SAM_READ_PEER_DESTINATION, /* accept */
    SAM_STREAM_OPEN,
    SAM_FAILED,
};

/* What sam_client_step asks the driver to do next. */
enum sam_client_step {
    SAM_STEP_SEND,            /* send sam_client_output(), then step again */
    SAM_STEP_RECEIVE,         /* pass received bytes to sam_client_receive */
    SAM_STEP_NEED_SESSION,    /* dial, accept: sam_client_use_session once one is ready */
    SAM_STEP_SESSION_CREATED, /* session: accepted (created_keys set); step again to go on */
    SAM_STEP_SESSION_READY,   /* session: ready (b32 is our destination); keep receiving */
    SAM_STEP_STREAM_OPEN,     /* dial, accept: the connection is the stream now */
    SAM_STEP_FAILED,          /* error says why; result is the bridge's RESULT, if any */
};

struct sam_client {
    enum sam_client_kind kind;
    enum sam_client_state state;
    struct sam_line_reader reader;
    char output[SAM_MAX_LINE];
    size_t output_length;
    char *host;               /* dial: as asked for */
    char *destination;        /* dial: the peer's destination or b32 name, once known */
    char *session_id;         /* session: the ID to create; dial, accept: the one to use */
    char **session_options;   /* session: key, value, ..., NULL */
    char *private_keys;       /* session: the keys to create it with, or NULL (TRANSIENT) */
    char *created_keys;       /* session: DESTINATION of SESSION STATUS (the private keys) */
    char b32[80];             /* session: our .b32.i2p; accept: the caller's */
    char result[64];          /* RESULT of the reply that failed, or "" */
    struct wippy_error error;
};

/* Prepares a session's control conversation creating session_id with
 * private_keys (NULL: a new destination) and the router options given as
 * key, value, ..., NULL (copied). */
void sam_client_init_session(struct sam_client *client, const char *session_id,
                             const char *private_keys, const char *const *options);

/* Prepares a dial of host: a destination SAM takes as it is, or a .i2p name
 * it must look up. Any other name is refused (WIPPY_EINVAL): there is no
 * outproxy, and nothing is resolved here. */
int sam_client_init_dial(struct sam_client *client, const char *host, struct wippy_error *error);

/* Prepares an accept. */
void sam_client_init_accept(struct sam_client *client);

/* Frees what the client holds (not the struct). */
void sam_client_free(struct sam_client *client);

/* Advances the machine and says what to do. */
enum sam_client_step sam_client_step(struct sam_client *client);

/* The line to send after SAM_STEP_SEND; it must be sent whole before the
 * next call of step. */
const char *sam_client_output(const struct sam_client *client, size_t *length);
void sam_client_output_sent(struct sam_client *client);

/* After SAM_STEP_SESSION_CREATED: goes on to learn the session's own
 * destination. */
void sam_client_continue(struct sam_client *client);

/* After SAM_STEP_NEED_SESSION: the session (its ID) the stream goes through. */
void sam_client_use_session(struct sam_client *client, const char *session_id);

/* Consumes received bytes, at most one line at a time: returns how many were
 * used. Once the stream is open the rest belongs to it and is not used. */
size_t sam_client_receive(struct sam_client *client, const char *data, size_t length);

/* Where the conversation is, for a timeout's message ("waiting for STREAM
 * CONNECT"). */
const char *sam_client_describe(const struct sam_client *client);

#endif
