/* direct.c - the direct network as a driver: plain TCP from this host. It
 * dials (the name looked up on libuv's thread pool) and listens (bind,
 * listen, accept) behind the same interface as the overlays, so the HTTP
 * client and service never special-case it. Its OVERLAY_PLAIN_TCP
 * capability lets the HTTP client connect by itself (curl's own lookup and
 * pool) instead of dialing through here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/overlay.h"
#include "net/peer_stream.h"
#include "util/handle.h"
#include "util/list.h"
#include "util/memory.h"

struct direct_overlay {
    struct overlay base;
    struct overlay_dial *dials;         /* running, cancelled when the overlay closes */
    struct overlay_listener *listeners; /* stopped when the overlay closes */
};

/* ---- dialing ---- */

struct overlay_dial {
    struct peer_stream peer; /* its owner is the dial */
    struct direct_overlay *overlay;
    char target[300]; /* "host:port" for messages */
    overlay_dial_done done;
    void *context;
    struct overlay_dial *previous;
    struct overlay_dial *next;
};

static void finish(struct overlay_dial *dial)
{
    DLIST_REMOVE(dial->overlay->dials, dial, previous, next);
    peer_stream_end(&dial->peer);
}

static void fail(struct overlay_dial *dial, const char *what, const char *detail)
{
    if (dial->peer.ended)
        return;
    struct wippy_error error;
    error_set(&error, WIPPY_EIO, "direct: %s: %s%s%s", dial->target, what, detail != NULL ? ": " : "",
              detail != NULL ? detail : "");
    overlay_dial_done done = dial->done;
    void *context = dial->context;
    finish(dial);
    done(context, NULL, &error);
}

static void on_peer_connected(struct peer_stream *peer)
{
    struct overlay_dial *dial = peer->owner;
    overlay_dial_done done = dial->done;
    void *context = dial->context;
    DLIST_REMOVE(dial->overlay->dials, dial, previous, next);
    done(context, peer_stream_hand_over(peer, NULL, 0), NULL);
}

static void on_peer_failed(struct peer_stream *peer, enum peer_stream_failure failure, const char *detail)
{
    struct overlay_dial *dial = peer->owner;
    char timed_out[64];
    switch (failure) {
    case PEER_TIMED_OUT:
        snprintf(timed_out, sizeof timed_out, "timed out after %.3gs %s", (double)peer->timeout_ns / 1e9,
                 peer->looking_up ? "looking up the name" : "connecting");
        fail(dial, timed_out, NULL);
        break;
    case PEER_LOOKUP_FAILED:
        fail(dial, "cannot look up the name", detail);
        break;
    default:
        fail(dial, "cannot connect", detail);
        break;
    }
}

static void release_dial(struct peer_stream *peer)
{
    free(peer->owner);
}

/* Nothing is sent or read before the hand-over. */
static void never_called(struct peer_stream *peer)
{
    (void)peer;
}

static void ignore_bytes(struct peer_stream *peer, const char *data, size_t length)
{
    (void)peer, (void)data, (void)length;
}

static const struct peer_stream_events dial_events = {
    .connected = on_peer_connected,
    .sent = never_called,
    .received = ignore_bytes,
    .failed = on_peer_failed,
    .release = release_dial,
};

static struct overlay_dial *direct_dial(struct overlay *base, const char *host, uint16_t port,
                                        int64_t timeout_ns, overlay_dial_done done, void *context,
                                        struct wippy_error *error)
{
    struct direct_overlay *overlay = (struct direct_overlay *)base;
    struct overlay_dial *dial = xcalloc(1, sizeof *dial);
    peer_stream_init(&dial->peer, base->loop, &dial_events, dial);
    dial->overlay = overlay;
    snprintf(dial->target, sizeof dial->target, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host, port);
    dial->done = done;
    dial->context = context;
    DLIST_PUSH(overlay->dials, dial, previous, next);
    peer_stream_start_timer(&dial->peer, timeout_ns);
    int rc = peer_stream_connect_name(&dial->peer, host, port);
    if (rc < 0) {
        error_set(error, WIPPY_EIO, "direct: %s: cannot look up the name: %s", dial->target, uv_strerror(rc));
        finish(dial);
        return NULL;
    }
    return dial;
}

static void direct_cancel(struct overlay_dial *dial)
{
    if (dial != NULL && !dial->peer.ended)
        finish(dial);
}

static const char *direct_describe(const struct overlay_dial *dial)
{
    return dial->peer.looking_up ? "looking up the name" : "connecting";
}

/* ---- listening ---- */

struct overlay_listener {
    uv_tcp_t *tcp; /* heap */
    struct direct_overlay *overlay;
    struct overlay_listen_handlers handlers;
    char address[INET6_ADDRSTRLEN + 16]; /* where it is bound */
    struct overlay_listener *previous;
    struct overlay_listener *next;
};

/* Writes "host:port" (or "[v6]:port") of address into out. */
static void format_address(const struct sockaddr_storage *address, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "unknown";
    if (address->ss_family == AF_INET6) {
        uv_ip6_name((const struct sockaddr_in6 *)address, host, sizeof host);
        snprintf(out, size, "[%s]:%d", host, ntohs(((const struct sockaddr_in6 *)address)->sin6_port));
    } else {
        uv_ip4_name((const struct sockaddr_in *)address, host, sizeof host);
        snprintf(out, size, "%s:%d", host, ntohs(((const struct sockaddr_in *)address)->sin_port));
    }
}

static void on_new_connection(uv_stream_t *tcp, int status)
{
    struct overlay_listener *listener = tcp->data;
    if (status < 0)
        return;
    uv_tcp_t *client = xmalloc(sizeof *client);
    uv_tcp_init(tcp->loop, client);
    if (uv_accept(tcp, (uv_stream_t *)client) < 0) {
        handle_close((uv_handle_t *)client);
        return;
    }
    uv_tcp_nodelay(client, 1);
    struct sockaddr_storage peer;
    int length = sizeof peer;
    char remote[INET6_ADDRSTRLEN + 16] = "unknown";
    if (uv_tcp_getpeername(client, (struct sockaddr *)&peer, &length) == 0)
        format_address(&peer, remote, sizeof remote);
    struct overlay_connection *connection = xcalloc(1, sizeof *connection);
    connection->stream = (uv_stream_t *)client;
    listener->handlers.accept(listener->handlers.context, connection, remote);
}

/* Parses "host:port", ":port" or "[v6]:port" into a socket address. */
static int parse_listen_address(const char *text, struct sockaddr_storage *address,
                                struct wippy_error *error)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL)
        return error_set(error, WIPPY_EINVAL, "addr \"%s\": expected host:port", text);
    int port = atoi(colon + 1);
    if (port < 0 || port > 65535 || colon[1] == '\0')
        return error_set(error, WIPPY_EINVAL, "addr \"%s\": bad port", text);
    char host[128];
    size_t host_length = (size_t)(colon - text);
    if (host_length >= sizeof host)
        return error_set(error, WIPPY_EINVAL, "addr \"%s\": host too long", text);
    memcpy(host, text, host_length);
    host[host_length] = '\0';
    if (host_length == 0)
        snprintf(host, sizeof host, "0.0.0.0");
    if (host[0] == '[' && host_length > 2 && host[host_length - 1] == ']') {
        host[host_length - 1] = '\0';
        if (uv_ip6_addr(host + 1, port, (struct sockaddr_in6 *)address) == 0)
            return WIPPY_OK;
    } else if (strcmp(host, "localhost") == 0) {
        if (uv_ip4_addr("127.0.0.1", port, (struct sockaddr_in *)address) == 0)
            return WIPPY_OK;
    } else if (uv_ip4_addr(host, port, (struct sockaddr_in *)address) == 0) {
        return WIPPY_OK;
    }
    return error_set(error, WIPPY_EINVAL, "addr \"%s\": expected an IP address and a port", text);
}

static void direct_stop_listening(struct overlay_listener *listener)
{
    DLIST_REMOVE(listener->overlay->listeners, listener, previous, next);
    handle_close((uv_handle_t *)listener->tcp);
    free(listener);
}

/* A socket with SO_REUSEPORT for the listener (libuv 1.44 has no flag for
 * it): libuv binds and listens on it as on its own. */
static int open_reusable(uv_tcp_t *tcp, int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return uv_translate_sys_error(errno);
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) {
        int rc = uv_translate_sys_error(errno);
        close(fd);
        return rc;
    }
    int rc = uv_tcp_open(tcp, fd);
    if (rc < 0)
        close(fd);
    return rc;
}

static struct overlay_listener *direct_listen(struct overlay *base, const char *label, const char *address,
                                              const struct overlay_listen_handlers *handlers,
                                              struct wippy_error *error)
{
    struct sockaddr_storage bind_address;
    if (parse_listen_address(address, &bind_address, error) < 0)
        return NULL;
    struct direct_overlay *overlay = (struct direct_overlay *)base;
    struct overlay_listener *listener = xcalloc(1, sizeof *listener);
    listener->overlay = overlay;
    listener->handlers = *handlers;
    listener->tcp = xmalloc(sizeof *listener->tcp);
    uv_tcp_init(base->loop, listener->tcp);
    listener->tcp->data = listener;
    DLIST_PUSH(overlay->listeners, listener, previous, next);
    int rc = handlers->reuse_port ? open_reusable(listener->tcp, bind_address.ss_family) : 0;
    if (rc == 0)
        rc = uv_tcp_bind(listener->tcp, (struct sockaddr *)&bind_address, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)listener->tcp, 1024, on_new_connection);
    if (rc < 0) {
        error_set(error, WIPPY_EIO, "cannot listen on %s: %s", address, uv_strerror(rc));
        direct_stop_listening(listener);
        return NULL;
    }
    struct sockaddr_storage bound;
    int length = sizeof bound;
    uv_tcp_getsockname(listener->tcp, (struct sockaddr *)&bound, &length);
    format_address(&bound, listener->address, sizeof listener->address);
    return listener;
}

static const char *direct_listener_address(const struct overlay_listener *listener)
{
    return listener->address;
}

/* ---- the overlay ---- */

static int direct_open(struct overlay *base, struct wippy_error *error)
{
    return WIPPY_OK;
}

static void direct_close(struct overlay *base)
{
    struct direct_overlay *overlay = (struct direct_overlay *)base;
    while (overlay->dials != NULL)
        direct_cancel(overlay->dials);
    while (overlay->listeners != NULL)
        direct_stop_listening(overlay->listeners);
    free(overlay);
}

const struct overlay_driver direct_overlay_driver = {
    .capabilities = OVERLAY_CAN_DIAL | OVERLAY_CAN_LISTEN | OVERLAY_PLAIN_TCP,
    .size = sizeof(struct direct_overlay),
    .open = direct_open,
    .dial = direct_dial,
    .cancel = direct_cancel,
    .describe = direct_describe,
    .listen = direct_listen,
    .stop_listening = direct_stop_listening,
    .listener_address = direct_listener_address,
    .close = direct_close,
};
