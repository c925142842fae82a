/* peer_stream.c - see peer_stream.h. */
#include "net/peer_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/handle.h"
#include "util/memory.h"
#include "util/read_buffer.h"

void peer_stream_init(struct peer_stream *stream, uv_loop_t *loop,
                      const struct peer_stream_events *events, void *owner)
{
    memset(stream, 0, sizeof *stream);
    stream->loop = loop;
    stream->events = events;
    stream->owner = owner;
}

static void release_if_idle(struct peer_stream *stream)
{
    if (stream->ended && stream->pending == 0)
        stream->events->release(stream);
}

static void hold(struct peer_stream *stream)
{
    stream->pending++;
}

/* A libuv request came back: false when the stream has ended meanwhile
 * (the owner may then have been released and must not be touched). */
static bool returned(struct peer_stream *stream)
{
    stream->pending--;
    if (!stream->ended)
        return true;
    release_if_idle(stream);
    return false;
}

static void close_timer(struct peer_stream *stream)
{
    if (stream->timer == NULL)
        return;
    handle_close((uv_handle_t *)stream->timer);
    stream->timer = NULL;
}

void peer_stream_end(struct peer_stream *stream)
{
    if (stream->ended)
        return;
    stream->ended = true;
    close_timer(stream);
    if (stream->looking_up)
        uv_cancel((uv_req_t *)&stream->lookup_request);
    uv_freeaddrinfo(stream->addresses);
    stream->addresses = NULL;
    stream->next_address = NULL;
    if (stream->tcp != NULL) {
        handle_close((uv_handle_t *)stream->tcp);
        stream->tcp = NULL;
    }
    release_if_idle(stream);
}

struct overlay_connection *peer_stream_hand_over(struct peer_stream *stream, const void *early,
                                                 size_t early_length)
{
    uv_read_stop((uv_stream_t *)stream->tcp);
    struct overlay_connection *connection = xcalloc(1, sizeof *connection);
    connection->stream = (uv_stream_t *)stream->tcp;
    stream->tcp = NULL;
    if (early_length > 0) {
        connection->early_bytes = xmalloc(early_length);
        memcpy(connection->early_bytes, early, early_length);
        connection->early_length = early_length;
    }
    peer_stream_end(stream);
    return connection;
}

static void on_timeout(uv_timer_t *timer)
{
    struct peer_stream *stream = timer->data;
    stream->events->failed(stream, PEER_TIMED_OUT, NULL);
}

void peer_stream_stop_timer(struct peer_stream *stream)
{
    if (stream->timer != NULL)
        uv_timer_stop(stream->timer);
}

void peer_stream_start_timer(struct peer_stream *stream, int64_t timeout_ns)
{
    if (timeout_ns <= 0)
        return;
    stream->timeout_ns = timeout_ns;
    stream->timer = xmalloc(sizeof *stream->timer);
    uv_timer_init(stream->loop, stream->timer);
    stream->timer->data = stream;
    uv_update_time(stream->loop);
    uv_timer_start(stream->timer, on_timeout, (uint64_t)((timeout_ns + 999999) / 1000000), 0);
}

static int connect_next_address(struct peer_stream *stream);

static void on_connected(uv_connect_t *request, int status)
{
    struct peer_stream *stream = request->data;
    if (!returned(stream))
        return;
    if (status < 0 && stream->next_address != NULL) {
        handle_close((uv_handle_t *)stream->tcp);
        stream->tcp = NULL;
        status = connect_next_address(stream);
        if (status == 0)
            return;
    }
    if (status < 0) {
        stream->events->failed(stream, PEER_UNREACHABLE, uv_strerror(status));
        return;
    }
    stream->events->connected(stream);
}

int peer_stream_connect(struct peer_stream *stream, const struct sockaddr *address)
{
    stream->tcp = xmalloc(sizeof *stream->tcp);
    uv_tcp_init(stream->loop, stream->tcp);
    stream->tcp->data = stream;
    uv_tcp_nodelay(stream->tcp, 1);
    stream->connect_request.data = stream;
    int rc = uv_tcp_connect(&stream->connect_request, stream->tcp, address, on_connected);
    if (rc == 0)
        hold(stream);
    return rc;
}

/* Starts connecting to the next address that lets it; the last failure
 * when none does. */
static int connect_next_address(struct peer_stream *stream)
{
    int rc = UV_EADDRNOTAVAIL;
    while (stream->next_address != NULL) {
        const struct sockaddr *address = stream->next_address->ai_addr;
        stream->next_address = stream->next_address->ai_next;
        rc = peer_stream_connect(stream, address);
        if (rc == 0)
            return 0;
        handle_close((uv_handle_t *)stream->tcp);
        stream->tcp = NULL;
    }
    return rc;
}

static void on_looked_up(uv_getaddrinfo_t *request, int status, struct addrinfo *result)
{
    struct peer_stream *stream = request->data;
    stream->looking_up = false;
    if (!returned(stream)) {
        uv_freeaddrinfo(result);
        return;
    }
    if (status < 0 || result == NULL) {
        uv_freeaddrinfo(result);
        stream->events->failed(stream, PEER_LOOKUP_FAILED, uv_strerror(status));
        return;
    }
    stream->addresses = result;
    stream->next_address = result;
    int rc = connect_next_address(stream);
    if (rc < 0)
        stream->events->failed(stream, PEER_UNREACHABLE, uv_strerror(rc));
}

int peer_stream_connect_name(struct peer_stream *stream, const char *host, int port)
{
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    stream->lookup_request.data = stream;
    int rc = uv_getaddrinfo(stream->loop, &stream->lookup_request, on_looked_up, host, service, &hints);
    if (rc == 0) {
        stream->looking_up = true;
        hold(stream);
    }
    return rc;
}

static void on_written(uv_write_t *request, int status)
{
    struct peer_stream *stream = request->data;
    if (!returned(stream))
        return;
    if (status < 0) {
        stream->events->failed(stream, PEER_SEND_FAILED, uv_strerror(status));
        return;
    }
    stream->events->sent(stream);
}

void peer_stream_send(struct peer_stream *stream, const void *data, size_t length)
{
    uv_buf_t buffer = uv_buf_init((char *)data, (unsigned)length);
    stream->write_request.data = stream;
    int rc = uv_write(&stream->write_request, (uv_stream_t *)stream->tcp, &buffer, 1, on_written);
    if (rc < 0) {
        stream->events->failed(stream, PEER_SEND_FAILED, uv_strerror(rc));
        return;
    }
    hold(stream);
}

static void on_read(uv_stream_t *tcp, ssize_t count, const uv_buf_t *buffer)
{
    struct peer_stream *stream = tcp->data;
    if (count == 0)
        return;
    if (count < 0) { /* the end of the stream, or a reset: the peer is gone */
        stream->events->failed(stream, PEER_CLOSED, count == UV_EOF ? NULL : uv_strerror((int)count));
        return;
    }
    /* held while the driver works through the bytes: it may end the stream
     * half-way and must still be able to ask whether it has */
    hold(stream);
    stream->events->received(stream, buffer->base, (size_t)count);
    returned(stream);
}

void peer_stream_read(struct peer_stream *stream)
{
    int rc = uv_read_start((uv_stream_t *)stream->tcp, read_buffer_allocate, on_read);
    if (rc < 0 && rc != UV_EALREADY)
        stream->events->failed(stream, PEER_READ_FAILED, uv_strerror(rc));
}
