/* bridge.c - one-shot local listeners that join a curl connection to an
 * overlay connection, and the pump between them. */
#include "http/bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/list.h"
#include "util/memory.h"
#include "util/read_buffer.h"

/* Stop reading one side while the other has this much queued. */
#define PUMP_HIGH_WATER (4u << 20)
#define PUMP_LOW_WATER (1u << 20)

struct bridge {
    struct overlay *overlay;
    struct bridge_observer observer;
    bool has_observer;
    char *host;
    uint16_t port;
    int64_t timeout_ns;
    uv_pipe_t *listener;
    uv_pipe_t *local;          /* curl's end, once accepted */
    struct overlay_connection *connection; /* the overlay's end, once dialed */
    struct overlay_dial *dial; /* while dialing */
    char *held;                /* what curl sent before the dial finished */
    size_t held_length;
    int open_handles;          /* handles whose close callback is pending or due */
    char socket_path[108];     /* the listener's, removed once curl connected */
    bool closing;
    struct bridge *previous;   /* every live bridge, for shutdown */
    struct bridge *next;
};

static _Thread_local struct bridge *live_bridges; /* this loop's: a bridge lives on the loop that made it */

/* Listener sockets live in a private directory (mode 0700, on tmpfs when the
 * machine has one), so no other user can connect to them. An abstract
 * address would need no directory, but libcurl (7.88 at least) never reused
 * a connection whose peer address prints empty, as an abstract one does. */
static _Thread_local char bridge_directory[96];

static int ensure_bridge_directory(struct wippy_error *error)
{
    if (bridge_directory[0] != '\0')
        return WIPPY_OK;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(bridge_directory, sizeof bridge_directory, "%s/wippy-bridges-XXXXXX", base);
    if (mkdtemp(bridge_directory) == NULL) {
        int problem = errno;
        bridge_directory[0] = '\0';
        return error_set(error, WIPPY_EIO, "cannot create a directory for local bridges in %s: %s",
                         base, strerror(problem));
    }
    return WIPPY_OK;
}

struct pump_write {
    uv_write_t request;
    struct bridge *bridge;
    uv_stream_t *source; /* to resume reading when the queue drains */
    char *data;
};

static void maybe_free(struct bridge *bridge)
{
    if (bridge->closing && bridge->open_handles == 0 && bridge->dial == NULL) {
        if (bridge->has_observer)
            bridge->observer.detached(bridge->observer.context, bridge);
        DLIST_REMOVE(live_bridges, bridge, previous, next);
        free(bridge->held);
        free(bridge->host);
        free(bridge);
    }
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct bridge *bridge = handle->data;
    free(handle);
    bridge->open_handles--;
    maybe_free(bridge);
}

static void close_handle(struct bridge *bridge, uv_handle_t *handle)
{
    if (handle != NULL && !uv_is_closing(handle)) {
        handle->data = bridge;
        uv_close(handle, on_handle_closed);
    }
}

/* Tears the bridge down; both connections close. */
static void bridge_close(struct bridge *bridge)
{
    if (bridge->closing)
        return;
    bridge->closing = true;
    if (bridge->dial != NULL) {
        overlay_dial_cancel(bridge->overlay, bridge->dial);
        bridge->dial = NULL;
    }
    close_handle(bridge, (uv_handle_t *)bridge->listener);
    bridge->listener = NULL;
    if (bridge->socket_path[0] != '\0')
        unlink(bridge->socket_path);
    bridge->socket_path[0] = '\0';
    close_handle(bridge, (uv_handle_t *)bridge->local);
    bridge->local = NULL;
    if (bridge->connection != NULL) {
        close_handle(bridge, (uv_handle_t *)bridge->connection->stream);
        bridge->connection->stream = NULL;
        overlay_connection_close(bridge->connection);
        bridge->connection = NULL;
    }
    maybe_free(bridge);
}

static uv_stream_t *remote_of(struct bridge *bridge)
{
    return bridge->connection != NULL ? bridge->connection->stream : NULL;
}

static uv_stream_t *other_side(struct bridge *bridge, uv_stream_t *side)
{
    return side == (uv_stream_t *)bridge->local ? remote_of(bridge) : (uv_stream_t *)bridge->local;
}

static void on_pump_read(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer);

static void on_pump_written(uv_write_t *request, int status)
{
    struct pump_write *write = (struct pump_write *)request;
    struct bridge *bridge = write->bridge;
    free(write->data);
    uv_stream_t *target = request->handle;
    uv_stream_t *source = write->source;
    free(write);
    if (bridge->closing)
        return;
    if (status < 0) {
        bridge_close(bridge);
        return;
    }
    if (source != NULL && uv_stream_get_write_queue_size(target) < PUMP_LOW_WATER &&
        !uv_is_closing((uv_handle_t *)source))
        uv_read_start(source, read_buffer_allocate, on_pump_read);
}

/* Writes data (taking ownership) to target, read from source. */
static int pump_write(struct bridge *bridge, uv_stream_t *source, uv_stream_t *target, char *data,
                      size_t length)
{
    struct pump_write *write = xmalloc(sizeof *write);
    write->bridge = bridge;
    write->source = source;
    write->data = data;
    uv_buf_t buffer = uv_buf_init(data, (unsigned)length);
    int rc = uv_write(&write->request, target, &buffer, 1, on_pump_written);
    if (rc < 0) {
        free(data);
        free(write);
        return rc;
    }
    if (source != NULL && uv_stream_get_write_queue_size(target) > PUMP_HIGH_WATER)
        uv_read_stop(source);
    return 0;
}

static void on_shutdown(uv_shutdown_t *request, int status)
{
    struct bridge *bridge = request->data;
    free(request);
    bridge_close(bridge);
}

static void on_pump_read(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer)
{
    struct bridge *bridge = stream->data;
    if (count == 0)
        return;
    uv_stream_t *target = other_side(bridge, stream);
    if (count < 0) {
        uv_read_stop(stream);
        /* Flush what is queued for the other side, then close both. */
        uv_shutdown_t *request = xmalloc(sizeof *request);
        request->data = bridge;
        if (target == NULL || uv_shutdown(request, target, on_shutdown) < 0) {
            free(request);
            bridge_close(bridge);
        }
        return;
    }
    if (target == NULL) {
        /* curl spoke before the dial finished: hold it. */
        bridge->held = xrealloc(bridge->held, bridge->held_length + (size_t)count);
        memcpy(bridge->held + bridge->held_length, buffer->base, (size_t)count);
        bridge->held_length += (size_t)count;
        return;
    }
    /* Most chunks go out at once; the rest is queued (in order: uv_try_write
     * refuses while anything is queued). */
    uv_buf_t chunk = uv_buf_init(buffer->base, (unsigned)count);
    int written = uv_try_write(target, &chunk, 1);
    if (written == count)
        return;
    if (written < 0 && written != UV_EAGAIN) {
        bridge_close(bridge);
        return;
    }
    size_t done = written > 0 ? (size_t)written : 0;
    size_t rest = (size_t)count - done;
    char *copy = xmalloc(rest);
    memcpy(copy, buffer->base + done, rest);
    if (pump_write(bridge, stream, target, copy, rest) < 0)
        bridge_close(bridge);
}

static void on_dialed(void *context, struct overlay_connection *connection,
                      const struct wippy_error *error)
{
    struct bridge *bridge = context;
    bridge->dial = NULL;
    if (connection == NULL) {
        if (bridge->has_observer)
            bridge->observer.dial_failed(bridge->observer.context, error);
        bridge_close(bridge);
        return;
    }
    bridge->connection = connection;
    bridge->open_handles++;
    uv_stream_t *remote = connection->stream;
    remote->data = bridge;
    if (connection->early_length > 0) {
        char *early = (char *)connection->early_bytes;
        connection->early_bytes = NULL;
        if (pump_write(bridge, NULL, (uv_stream_t *)bridge->local, early, connection->early_length) < 0) {
            bridge_close(bridge);
            return;
        }
    }
    if (bridge->held_length > 0) {
        char *held = bridge->held;
        size_t length = bridge->held_length;
        bridge->held = NULL;
        bridge->held_length = 0;
        if (pump_write(bridge, NULL, remote, held, length) < 0) {
            bridge_close(bridge);
            return;
        }
    }
    uv_read_start(remote, read_buffer_allocate, on_pump_read);
}

static void on_accepted(uv_stream_t *listener, int status)
{
    struct bridge *bridge = listener->data;
    if (status < 0 || bridge->local != NULL) {
        bridge_close(bridge);
        return;
    }
    bridge->local = xmalloc(sizeof *bridge->local);
    uv_pipe_init(listener->loop, bridge->local, 0);
    bridge->local->data = bridge;
    bridge->open_handles++;
    if (uv_accept(listener, (uv_stream_t *)bridge->local) < 0) {
        bridge_close(bridge);
        return;
    }
    close_handle(bridge, (uv_handle_t *)bridge->listener);
    bridge->listener = NULL;
    unlink(bridge->socket_path);
    bridge->socket_path[0] = '\0';
    uv_read_start((uv_stream_t *)bridge->local, read_buffer_allocate, on_pump_read);

    struct wippy_error error;
    bridge->dial = overlay_dial(bridge->overlay, bridge->host, bridge->port, bridge->timeout_ns,
                                on_dialed, bridge, &error);
    if (bridge->dial == NULL) {
        if (bridge->has_observer)
            bridge->observer.dial_failed(bridge->observer.context, &error);
        bridge_close(bridge);
    }
}

int bridge_open(struct overlay *overlay, const char *host, uint16_t port, int64_t timeout_ns,
                struct bridge_observer observer, struct sockaddr *address,
                socklen_t *address_length, struct bridge **out, struct wippy_error *error)
{
    static _Thread_local unsigned long counter; /* names in this thread's directory */
    int rc = ensure_bridge_directory(error);
    if (rc < 0)
        return rc;
    struct sockaddr_un listen_address = {.sun_family = AF_UNIX};
    int name_length = snprintf(listen_address.sun_path, sizeof listen_address.sun_path, "%s/%lu",
                               bridge_directory, ++counter);
    socklen_t length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)name_length + 1);

    int listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&listen_address, length) < 0 ||
        listen(listen_fd, 1) < 0) {
        int problem = errno;
        if (listen_fd >= 0)
            close(listen_fd);
        return error_set(error, WIPPY_EIO, "cannot open a local bridge: %s", strerror(problem));
    }
    int curl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (curl_fd < 0) {
        int problem = errno;
        close(listen_fd);
        return error_set(error, WIPPY_EIO, "cannot open a local bridge: %s", strerror(problem));
    }

    struct bridge *bridge = xcalloc(1, sizeof *bridge);
    DLIST_PUSH(live_bridges, bridge, previous, next);
    bridge->overlay = overlay;
    bridge->observer = observer;
    bridge->has_observer = observer.dial_failed != NULL;
    bridge->host = xstrdup(host);
    snprintf(bridge->socket_path, sizeof bridge->socket_path, "%s", listen_address.sun_path);
    bridge->port = port;
    bridge->timeout_ns = timeout_ns;
    bridge->listener = xmalloc(sizeof *bridge->listener);
    uv_pipe_init(overlay->loop, bridge->listener, 0);
    bridge->listener->data = bridge;
    bridge->open_handles++;
    if (uv_pipe_open(bridge->listener, listen_fd) < 0) {
        close(listen_fd); /* the pipe did not take it */
        close(curl_fd);
        bridge_close(bridge);
        return error_set(error, WIPPY_EIO, "cannot open a local bridge");
    }
    if (uv_listen((uv_stream_t *)bridge->listener, 1, on_accepted) < 0) {
        close(curl_fd);
        bridge_close(bridge);
        return error_set(error, WIPPY_EIO, "cannot listen on a local bridge");
    }
    memcpy(address, &listen_address, length);
    *address_length = length;
    *out = bridge;
    return curl_fd;
}

void bridge_close_all(void)
{
    for (struct bridge *bridge = live_bridges; bridge != NULL; bridge = bridge->next) {
        bridge->has_observer = false;
        bridge_close(bridge);
    }
    if (bridge_directory[0] != '\0')
        rmdir(bridge_directory);
    bridge_directory[0] = '\0';
}

void bridge_forget_observer(struct bridge *bridge)
{
    bridge->has_observer = false;
}

const char *bridge_dial_state(const struct bridge *bridge)
{
    if (bridge->dial == NULL)
        return NULL;
    return overlay_dial_describe(bridge->overlay, bridge->dial);
}
