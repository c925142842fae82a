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
#include "net/socks5_codec.h"
#include "util/list.h"
#include "util/handle.h"
#include "util/memory.h"

struct socks5_overlay {
    struct overlay base;
    char proxy[300]; /* "host:port" for messages */
    struct overlay_dial *dials; /* running, cancelled when the overlay closes */
};

enum dial_phase {
    PHASE_RESOLVING,
    PHASE_CONNECTING,
    PHASE_HANDSHAKE,
};

struct overlay_dial {
    struct socks5_overlay *overlay;
    uv_tcp_t *tcp;     /* heap: handed to the receiver on success */
    uv_timer_t *timer; /* heap */
    uv_connect_t connect_request;
    uv_getaddrinfo_t resolve_request;
    uv_write_t write_request;
    struct socks5_client client;
    overlay_dial_done done;
    void *context;
    int pending;   /* libuv requests still pointing at this dial */
    bool finished; /* done ran, or the dial was cancelled */
    enum dial_phase phase;
    int64_t timeout_ns;
    struct overlay_dial *previous; /* in overlay->dials while not finished */
    struct overlay_dial *next;
};

static void release_if_idle(struct overlay_dial *dial)
{
    if (dial->finished && dial->pending == 0)
        free(dial);
}

static void close_resources(struct overlay_dial *dial)
{
    struct socks5_overlay *overlay = dial->overlay;
    DLIST_REMOVE(overlay->dials, dial, previous, next);
    if (dial->timer != NULL) {
        handle_close((uv_handle_t *)dial->timer);
        dial->timer = NULL;
    }
    if (dial->tcp != NULL) {
        handle_close((uv_handle_t *)dial->tcp);
        dial->tcp = NULL;
    }
    if (dial->phase == PHASE_RESOLVING)
        uv_cancel((uv_req_t *)&dial->resolve_request);
}

static const char *describe(const struct overlay_dial *dial)
{
    switch (dial->phase) {
    case PHASE_RESOLVING:
        return "resolving the proxy's address";
    case PHASE_CONNECTING:
        return "connecting to the proxy";
    case PHASE_HANDSHAKE:
        break;
    }
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

static void fail(struct overlay_dial *dial, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct overlay_dial *dial, const char *format, ...)
{
    if (dial->finished)
        return;
    char detail[WIPPY_ERROR_MESSAGE_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    struct wippy_error error;
    error_set(&error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: %.900s",
              dial->overlay->base.entry->id, dial->overlay->proxy, detail);
    dial->finished = true;
    close_resources(dial);
    dial->done(dial->context, NULL, &error);
    release_if_idle(dial);
}

static void succeed(struct overlay_dial *dial, const uint8_t *early, size_t early_length)
{
    uv_read_stop((uv_stream_t *)dial->tcp);
    struct overlay_connection *connection = xcalloc(1, sizeof *connection);
    connection->stream = (uv_stream_t *)dial->tcp;
    dial->tcp = NULL;
    if (early_length > 0) {
        connection->early_bytes = xmalloc(early_length);
        memcpy(connection->early_bytes, early, early_length);
        connection->early_length = early_length;
    }
    dial->finished = true;
    close_resources(dial);
    dial->done(dial->context, connection, NULL);
    release_if_idle(dial);
}

static void advance(struct overlay_dial *dial);

/* A libuv request of the dial came back: false when the dial has ended
 * meanwhile (then it may have been freed). */
static bool request_returned(struct overlay_dial *dial)
{
    dial->pending--;
    if (!dial->finished)
        return true;
    release_if_idle(dial);
    return false;
}

static void on_written(uv_write_t *request, int status)
{
    struct overlay_dial *dial = request->data;
    if (!request_returned(dial))
        return;
    if (status < 0) {
        fail(dial, "sending to the proxy failed: %s", uv_strerror(status));
        return;
    }
    socks5_client_output_sent(&dial->client);
    advance(dial);
}

static void allocate_buffer(uv_handle_t *handle, size_t suggested, uv_buf_t *buffer)
{
    static char storage[64 * 1024]; /* consumed before the callback returns */
    buffer->base = storage;
    buffer->len = sizeof storage;
}

static void on_read(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer)
{
    struct overlay_dial *dial = stream->data;
    if (count == 0)
        return;
    if (count < 0) {
        fail(dial, "the proxy closed the connection while %s", describe(dial));
        return;
    }
    const uint8_t *bytes = (const uint8_t *)buffer->base;
    size_t used = 0;
    enum socks5_step step = SOCKS5_STEP_RECEIVE;
    while (used < (size_t)count) {
        used += socks5_client_receive(&dial->client, bytes + used, (size_t)count - used);
        step = socks5_client_step(&dial->client);
        if (step != SOCKS5_STEP_RECEIVE)
            break;
    }
    if (step == SOCKS5_STEP_CONNECTED) {
        succeed(dial, bytes + used, (size_t)count - used);
        return;
    }
    if (step == SOCKS5_STEP_FAILED) {
        fail(dial, "%s", dial->client.error.message);
        return;
    }
    if (used < (size_t)count) {
        fail(dial, "the proxy sent %zd bytes it was not asked for", count - (ssize_t)used);
        return;
    }
    if (step == SOCKS5_STEP_SEND)
        advance(dial);
}

static void advance(struct overlay_dial *dial)
{
    enum socks5_step step = socks5_client_step(&dial->client);
    switch (step) {
    case SOCKS5_STEP_SEND: {
        size_t length;
        const uint8_t *bytes = socks5_client_output(&dial->client, &length);
        uv_buf_t buffer = uv_buf_init((char *)bytes, (unsigned)length);
        dial->write_request.data = dial;
        int rc = uv_write(&dial->write_request, (uv_stream_t *)dial->tcp, &buffer, 1, on_written);
        if (rc < 0) {
            fail(dial, "sending to the proxy failed: %s", uv_strerror(rc));
            return;
        }
        dial->pending++;
        return;
    }
    case SOCKS5_STEP_RECEIVE: {
        int rc = uv_read_start((uv_stream_t *)dial->tcp, allocate_buffer, on_read);
        if (rc < 0 && rc != UV_EALREADY)
            fail(dial, "reading from the proxy failed: %s", uv_strerror(rc));
        return;
    }
    case SOCKS5_STEP_CONNECTED:
        succeed(dial, NULL, 0);
        return;
    case SOCKS5_STEP_FAILED:
        fail(dial, "%s", dial->client.error.message);
        return;
    }
}

static void on_connected(uv_connect_t *request, int status)
{
    struct overlay_dial *dial = request->data;
    if (!request_returned(dial))
        return;
    if (status < 0) {
        fail(dial, "cannot reach the proxy: %s", uv_strerror(status));
        return;
    }
    dial->phase = PHASE_HANDSHAKE;
    advance(dial);
}

/* Starts connecting to the proxy; returns a negative libuv code when that
 * cannot even start. */
static int connect_to(struct overlay_dial *dial, const struct sockaddr *address)
{
    dial->phase = PHASE_CONNECTING;
    dial->tcp = xmalloc(sizeof *dial->tcp);
    uv_tcp_init(dial->overlay->base.loop, dial->tcp);
    dial->tcp->data = dial;
    uv_tcp_nodelay(dial->tcp, 1);
    dial->connect_request.data = dial;
    int rc = uv_tcp_connect(&dial->connect_request, dial->tcp, address, on_connected);
    if (rc == 0)
        dial->pending++;
    return rc;
}

static void on_resolved(uv_getaddrinfo_t *request, int status, struct addrinfo *result)
{
    struct overlay_dial *dial = request->data;
    dial->pending--;
    dial->phase = PHASE_CONNECTING;
    if (dial->finished) {
        uv_freeaddrinfo(result);
        release_if_idle(dial);
        return;
    }
    if (status < 0 || result == NULL) {
        uv_freeaddrinfo(result);
        fail(dial, "cannot resolve the proxy's host name: %s", uv_strerror(status));
        return;
    }
    int rc = connect_to(dial, result->ai_addr);
    uv_freeaddrinfo(result);
    if (rc < 0)
        fail(dial, "cannot reach the proxy: %s", uv_strerror(rc));
}

static void on_timeout(uv_timer_t *timer)
{
    struct overlay_dial *dial = timer->data;
    fail(dial, "timed out after %.3gs %s", (double)dial->timeout_ns / 1e9, describe(dial));
}

/* Fresh isolation credentials: 8 bytes of CSPRNG output as 16 hex digits
 * (never starting with Tor's reserved "<torS0X>" prefix, as hex cannot). */
static int random_credential(char out[17])
{
    uint8_t bytes[8];
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
        return -1;
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
    return 0;
}

static struct overlay_dial *socks5_dial(struct overlay *base, const char *host, uint16_t port,
                                        int64_t timeout_ns, overlay_dial_done done,
                                        void *context, struct wippy_error *error)
{
    struct socks5_overlay *overlay = (struct socks5_overlay *)base;
    const struct entry_socks5 *config = &base->entry->as.socks5;
    const char *username = config->username, *password = config->password;
    char credential[17];
    if (config->isolate_streams) {
        if (random_credential(credential) < 0) {
            error_set(error, WIPPY_EIO, "overlay %s: no random bytes for isolation credentials",
                      base->entry->id);
            return NULL;
        }
        username = password = credential;
    }
    struct overlay_dial *dial = xcalloc(1, sizeof *dial);
    if (socks5_client_init(&dial->client, host, port, username, password, error) < 0) {
        char reason[WIPPY_ERROR_MESSAGE_SIZE];
        snprintf(reason, sizeof reason, "%s", error->message);
        error_set(error, WIPPY_EINVAL, "overlay %s: %.900s", base->entry->id, reason);
        free(dial);
        return NULL;
    }
    dial->overlay = overlay;
    DLIST_PUSH(overlay->dials, dial, previous, next);
    dial->done = done;
    dial->context = context;
    dial->timeout_ns = timeout_ns;
    if (timeout_ns > 0) {
        dial->timer = xmalloc(sizeof *dial->timer);
        uv_timer_init(base->loop, dial->timer);
        dial->timer->data = dial;
        uv_update_time(base->loop);
        uv_timer_start(dial->timer, on_timeout, (uint64_t)((timeout_ns + 999999) / 1000000), 0);
    }

    struct sockaddr_storage address;
    int rc;
    const char *doing;
    if (uv_ip4_addr(config->host, config->port, (struct sockaddr_in *)&address) == 0 ||
        uv_ip6_addr(config->host, config->port, (struct sockaddr_in6 *)&address) == 0) {
        doing = "cannot reach the proxy";
        rc = connect_to(dial, (struct sockaddr *)&address);
    } else {
        /* The proxy's own name is resolved here; the target's never is. */
        doing = "cannot resolve the proxy's host name";
        dial->phase = PHASE_RESOLVING;
        dial->resolve_request.data = dial;
        char service[8];
        snprintf(service, sizeof service, "%d", config->port);
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
        rc = uv_getaddrinfo(base->loop, &dial->resolve_request, on_resolved, config->host,
                            service, &hints);
        if (rc == 0)
            dial->pending++;
        else
            dial->phase = PHASE_CONNECTING;
    }
    if (rc < 0) {
        error_set(error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: %s: %s", base->entry->id,
                  overlay->proxy, doing, uv_strerror(rc));
        dial->finished = true;
        close_resources(dial);
        release_if_idle(dial);
        return NULL;
    }
    return dial;
}

static void socks5_cancel(struct overlay_dial *dial)
{
    if (dial == NULL || dial->finished)
        return;
    dial->finished = true;
    close_resources(dial);
    release_if_idle(dial);
}

static int socks5_open(struct overlay *base, struct wippy_error *error)
{
    struct socks5_overlay *overlay = (struct socks5_overlay *)base;
    const struct entry_socks5 *config = &base->entry->as.socks5;
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
    .kind = ENTRY_NETWORK_SOCKS5,
    .capabilities = OVERLAY_CAN_DIAL,
    .size = sizeof(struct socks5_overlay),
    .open = socks5_open,
    .dial = socks5_dial,
    .cancel = socks5_cancel,
    .describe = describe,
    .close = socks5_close,
};
