/* peer_stream.h - what every overlay driver does with the connection to its
 * local peer (a SOCKS5 proxy, a SAM bridge) before that connection becomes
 * the stream to the target: connecting within a timeout, sending the
 * handshake's messages, reading the replies, and either handing the socket
 * over with the target's first bytes or closing it. It also keeps the
 * lifetime rule in one place: the driver's object (which embeds the peer
 * stream) is released only once the stream has ended and no libuv request
 * points at it any more. */
#ifndef WIPPY_NET_PEER_STREAM_H
#define WIPPY_NET_PEER_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/overlay.h"

struct peer_stream;

/* Why a peer stream failed. */
enum peer_stream_failure {
    PEER_LOOKUP_FAILED, /* the peer's name could not be looked up (detail) */
    PEER_UNREACHABLE, /* connecting failed (detail: the system's reason) */
    PEER_SEND_FAILED, /* writing failed (detail) */
    PEER_READ_FAILED, /* reading could not start (detail) */
    PEER_CLOSED,      /* the peer closed or reset the connection (detail: a reset's reason, or NULL) */
    PEER_TIMED_OUT,   /* the timeout passed (detail NULL) */
};

/* What the driver is told; each callback may end the stream. */
struct peer_stream_events {
    /* The connection to the peer is up. */
    void (*connected)(struct peer_stream *stream);
    /* The last peer_stream_send has been written. */
    void (*sent)(struct peer_stream *stream);
    /* Bytes from the peer; they are gone when the callback returns. The
     * stream (and its owner) stays valid until then even if the callback
     * ends it. */
    void (*received)(struct peer_stream *stream, const char *data, size_t length);
    /* Connecting, writing or reading failed, the peer closed, or the timeout
     * passed. The driver words it (it knows its peer and its stage). */
    void (*failed)(struct peer_stream *stream, enum peer_stream_failure failure, const char *detail);
    /* Frees the driver's object once the stream has ended and is idle. */
    void (*release)(struct peer_stream *stream);
};

struct peer_stream {
    const struct peer_stream_events *events;
    void *owner;            /* the driver's object */
    uv_loop_t *loop;
    uv_tcp_t *tcp;          /* heap; handed over on success */
    uv_timer_t *timer;      /* heap; NULL without a timeout */
    int64_t timeout_ns;
    uv_connect_t connect_request;
    uv_getaddrinfo_t lookup_request;
    bool looking_up;        /* a name lookup is running */
    struct addrinfo *addresses;     /* what the lookup found; freed at the end */
    struct addrinfo *next_address;  /* tried when connecting to the current one fails */
    uv_write_t write_request;
    int pending;            /* libuv requests still pointing here */
    bool ended;
};

/* Prepares a stream for owner on loop; nothing happens until connect. */
void peer_stream_init(struct peer_stream *stream, uv_loop_t *loop,
                      const struct peer_stream_events *events, void *owner);

/* Starts a timeout (when timeout_ns > 0) after which `failed` gets
 * PEER_TIMED_OUT. */
void peer_stream_start_timer(struct peer_stream *stream, int64_t timeout_ns);

/* Stops the timeout (a session's control connection, once up, stays). */
void peer_stream_stop_timer(struct peer_stream *stream);

/* Starts connecting to address. Returns a negative libuv code when that
 * cannot even start (nothing is called then). */
int peer_stream_connect(struct peer_stream *stream, const struct sockaddr *address);

/* Looks host up on libuv's thread pool, never on the loop, then connects
 * to it at port, trying each address the name has in turn (as curl does:
 * "localhost" may be ::1 first while the peer listens on 127.0.0.1). Returns a negative libuv code when the lookup cannot even
 * start (nothing is called then). */
int peer_stream_connect_name(struct peer_stream *stream, const char *host, int port);

/* Sends length bytes at data, which must stay valid until `sent`. */
void peer_stream_send(struct peer_stream *stream, const void *data, size_t length);

/* Starts (or keeps) reading. */
void peer_stream_read(struct peer_stream *stream);

/* Ends the stream: stops the timer, closes the socket unless handed over,
 * and releases the owner once idle. Calls no callback but `release`. */
void peer_stream_end(struct peer_stream *stream);

/* Ends the stream and hands its socket over as a connection carrying the
 * target's bytes that came with the handshake (early, copied). */
struct overlay_connection *peer_stream_hand_over(struct peer_stream *stream, const void *early,
                                                 size_t early_length);

#endif
