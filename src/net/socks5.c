/* socks5.c - the network.socks5 driver: connects to the proxy on the libuv
 * loop and runs the SOCKS5 handshake of socks5_codec.c over it. With
 * isolate_streams every dial carries fresh random credentials (Tor then
 * gives each dial a circuit of its own) and no connection is ever reused. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "net/overlay.h"
#include "net/peer_stream.h"
#include "net/socks5_codec.h"
#include "util/hex.h"
#include "util/list.h"
#include "util/memory.h"

struct socks5_overlay {
    struct overlay base;
    char proxy[300]; /* "host:port" for messages */
    struct overlay_dial *dials; /* running, cancelled when the overlay closes */
};

enum dial_phase {
    PHASE_CONNECTING, /* looking the proxy's name up, or connecting to it */
    PHASE_HANDSHAKE,
};

struct overlay_dial {
    struct peer_stream peer; /* first: the dial is its owner */
    struct socks5_overlay *overlay;
    struct socks5_client client;
    overlay_dial_done done;
    void *context;
    enum dial_phase phase;
    struct overlay_dial *previous; /* in overlay->dials while not finished */
    struct overlay_dial *next;
};

static const char *describe(const struct overlay_dial *dial)
{
    if (dial->phase == PHASE_CONNECTING)
        return dial->peer.looking_up ? "resolving the proxy's address" : "connecting to the proxy";
    switch (dial->client.state) {
    case SOCKS5_SEND_GREETING:
    case SOCKS5_READ_METHOD:
        return "waiting for the proxy's greeting reply";
    case SOCKS5_SEND_AUTH:
    case SOCKS5_READ_AUTH:
        return "waiting for the authentication reply";
    case SOCKS5_SEND_CONNECT:
    case SOCKS5_READ_REPLY:
        return "waiting for the CONNECT reply";
    default:
        return "finishing the handshake";
    }
}

/* Ends the dial: it leaves the overlay's list and its peer stream closes
 * (the dial is freed once no request points at it). */
static void finish(struct overlay_dial *dial)
{
    DLIST_REMOVE(dial->overlay->dials, dial, previous, next);
    peer_stream_end(&dial->peer);
}

static void fail(struct overlay_dial *dial, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct overlay_dial *dial, const char *format, ...)
{
    if (dial->peer.ended)
        return;
    char detail[WIPPY_ERROR_MESSAGE_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    struct wippy_error error;
    error_set(&error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: %.900s",
              dial->overlay->base.id, dial->overlay->proxy, detail);
    overlay_dial_done done = dial->done;
    void *context = dial->context;
    finish(dial);
    done(context, NULL, &error);
}

static void succeed(struct overlay_dial *dial, const uint8_t *early, size_t early_length)
{
    overlay_dial_done done = dial->done;
    void *context = dial->context;
    DLIST_REMOVE(dial->overlay->dials, dial, previous, next);
    struct overlay_connection *connection = peer_stream_hand_over(&dial->peer, early, early_length);
    done(context, connection, NULL);
}

static void advance(struct overlay_dial *dial)
{
    switch (socks5_client_step(&dial->client)) {
    case SOCKS5_STEP_SEND: {
        size_t length;
        const uint8_t *bytes = socks5_client_output(&dial->client, &length);
        peer_stream_send(&dial->peer, bytes, length);
        return;
    }
    case SOCKS5_STEP_RECEIVE:
        peer_stream_read(&dial->peer);
        return;
    case SOCKS5_STEP_CONNECTED:
        succeed(dial, NULL, 0);
        return;
    case SOCKS5_STEP_FAILED:
        fail(dial, "%s", dial->client.error.message);
        return;
    }
}

static void on_peer_connected(struct peer_stream *peer)
{
    struct overlay_dial *dial = peer->owner;
    dial->phase = PHASE_HANDSHAKE;
    advance(dial);
}

static void on_peer_sent(struct peer_stream *peer)
{
    struct overlay_dial *dial = peer->owner;
    socks5_client_output_sent(&dial->client);
    advance(dial);
}

static void on_peer_received(struct peer_stream *peer, const char *data, size_t length)
{
    struct overlay_dial *dial = peer->owner;
    const uint8_t *bytes = (const uint8_t *)data;
    size_t used = 0;
    enum socks5_step step = SOCKS5_STEP_RECEIVE;
    while (used < length) {
        used += socks5_client_receive(&dial->client, bytes + used, length - used);
        step = socks5_client_step(&dial->client);
        if (step != SOCKS5_STEP_RECEIVE)
            break;
    }
    if (step == SOCKS5_STEP_CONNECTED) {
        succeed(dial, bytes + used, length - used);
        return;
    }
    if (step == SOCKS5_STEP_FAILED) {
        fail(dial, "%s", dial->client.error.message);
        return;
    }
    if (used < length) {
        fail(dial, "the proxy sent %zu bytes it was not asked for", length - used);
        return;
    }
    if (step == SOCKS5_STEP_SEND)
        advance(dial);
}

static void on_peer_failed(struct peer_stream *peer, enum peer_stream_failure failure, const char *detail)
{
    struct overlay_dial *dial = peer->owner;
    switch (failure) {
    case PEER_LOOKUP_FAILED:
        fail(dial, "cannot resolve the proxy's host name: %s", detail);
        break;
    case PEER_UNREACHABLE:
        fail(dial, "cannot reach the proxy: %s", detail);
        break;
    case PEER_SEND_FAILED:
        fail(dial, "sending to the proxy failed: %s", detail);
        break;
    case PEER_READ_FAILED:
        fail(dial, "reading from the proxy failed: %s", detail);
        break;
    case PEER_CLOSED:
        fail(dial, "the proxy closed the connection while %s", describe(dial));
        break;
    case PEER_TIMED_OUT:
        fail(dial, "timed out after %.3gs %s", (double)peer->timeout_ns / 1e9, describe(dial));
        break;
    }
}

static void release_dial(struct peer_stream *peer)
{
    free(peer->owner);
}

static const struct peer_stream_events dial_events = {
    .connected = on_peer_connected,
    .sent = on_peer_sent,
    .received = on_peer_received,
    .failed = on_peer_failed,
    .release = release_dial,
};

/* Fresh isolation credentials: 8 bytes of CSPRNG output as 16 hex digits
 * (never starting with Tor's reserved "<torS0X>" prefix, as hex cannot). */
static int random_credential(char out[17])
{
    uint8_t bytes[8];
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
        return -1;
    hex_encode(bytes, sizeof bytes, out);
    out[16] = '\0';
    return 0;
}

/* The credentials of one new connection: fresh random ones when streams are
 * isolated, else the configured ones (NULL when there are none). */
static int connection_credentials(const struct overlay *base, char credential[17], const char **username,
                                  const char **password, struct wippy_error *error)
{
    const struct socks5_config *config = &base->config.socks5;
    *username = config->username;
    *password = config->password;
    if (!config->isolate_streams)
        return WIPPY_OK;
    if (random_credential(credential) < 0)
        return error_set(error, WIPPY_EIO, "overlay %s: no random bytes for isolation credentials", base->id);
    *username = *password = credential;
    return WIPPY_OK;
}

static struct overlay_dial *socks5_dial(struct overlay *base, const char *host, uint16_t port,
                                        int64_t timeout_ns, overlay_dial_done done,
                                        void *context, struct wippy_error *error)
{
    struct socks5_overlay *overlay = (struct socks5_overlay *)base;
    const struct socks5_config *config = &base->config.socks5;
    const char *username, *password;
    char credential[17];
    if (connection_credentials(base, credential, &username, &password, error) < 0)
        return NULL;
    struct overlay_dial *dial = xcalloc(1, sizeof *dial);
    if (socks5_client_init(&dial->client, host, port, username, password, error) < 0) {
        char reason[WIPPY_ERROR_MESSAGE_SIZE];
        snprintf(reason, sizeof reason, "%s", error->message);
        error_set(error, WIPPY_EINVAL, "overlay %s: %.900s", base->id, reason);
        free(dial);
        return NULL;
    }
    peer_stream_init(&dial->peer, base->loop, &dial_events, dial);
    dial->phase = PHASE_CONNECTING;
    dial->overlay = overlay;
    DLIST_PUSH(overlay->dials, dial, previous, next);
    dial->done = done;
    dial->context = context;
    peer_stream_start_timer(&dial->peer, timeout_ns);

    struct sockaddr_storage address;
    int rc;
    const char *doing;
    if (uv_ip4_addr(config->host, config->port, (struct sockaddr_in *)&address) == 0 ||
        uv_ip6_addr(config->host, config->port, (struct sockaddr_in6 *)&address) == 0) {
        doing = "cannot reach the proxy";
        rc = peer_stream_connect(&dial->peer, (struct sockaddr *)&address);
    } else {
        /* The proxy's own name is resolved here; the target's never is. */
        doing = "cannot resolve the proxy's host name";
        rc = peer_stream_connect_name(&dial->peer, config->host, config->port);
    }
    if (rc < 0) {
        error_set(error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: %s: %s", base->id,
                  overlay->proxy, doing, uv_strerror(rc));
        finish(dial);
        return NULL;
    }
    return dial;
}

static void socks5_cancel(struct overlay_dial *dial)
{
    if (dial == NULL || dial->peer.ended)
        return;
    finish(dial);
}

static int socks5_proxy(struct overlay *base, struct overlay_socks5_proxy *out, struct wippy_error *error)
{
    const struct socks5_overlay *overlay = (const struct socks5_overlay *)base;
    const char *username, *password;
    char credential[17];
    if (connection_credentials(base, credential, &username, &password, error) < 0)
        return WIPPY_EIO;
    snprintf(out->address, sizeof out->address, "%s", overlay->proxy);
    snprintf(out->username, sizeof out->username, "%s", username != NULL ? username : "");
    snprintf(out->password, sizeof out->password, "%s", password != NULL ? password : "");
    return WIPPY_OK;
}

static int socks5_open(struct overlay *base, struct wippy_error *error)
{
    struct socks5_overlay *overlay = (struct socks5_overlay *)base;
    const struct socks5_config *config = &base->config.socks5;
    bool ipv6 = strchr(config->host, ':') != NULL;
    snprintf(overlay->proxy, sizeof overlay->proxy, ipv6 ? "[%s]:%d" : "%s:%d", config->host,
             config->port);
    if (config->isolate_streams)
        base->capabilities |= OVERLAY_NEVER_REUSE;
    return WIPPY_OK;
}

static void socks5_close(struct overlay *base)
{
    struct socks5_overlay *overlay = (struct socks5_overlay *)base;
    while (overlay->dials != NULL)
        socks5_cancel(overlay->dials);
    free(overlay);
}

const struct overlay_driver socks5_overlay_driver = {
    .capabilities = OVERLAY_CAN_DIAL | OVERLAY_SOCKS5_PROXY,
    .size = sizeof(struct socks5_overlay),
    .open = socks5_open,
    .dial = socks5_dial,
    .cancel = socks5_cancel,
    .describe = describe,
    .socks5_proxy = socks5_proxy,
    .close = socks5_close,
};
