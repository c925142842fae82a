/* tailscale.c - the network.tailscale driver: one embedded Tailscale node
 * (tsnet, through src/net/tailnode) per entry. The node logs in when the
 * overlay opens; dials and listeners wait until it is up. Go does every
 * blocking step and reports each outcome as a line on one event pipe that
 * this file reads on the loop; connections arrive as socketpair fds. Only
 * tailnet peers are dialed: names are resolved on the tailnet, never here,
 * and addresses outside the tailnet are refused, so nothing goes direct.
 * The Go side is a shared object loaded when the first tailscale entry
 * opens, on libuv's thread pool with the node's directory and log file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/overlay.h"
#include "net/tailnode_library.h"
#include "util/list.h"
#include "util/handle.h"
#include "util/directories.h"
#include "util/memory.h"
#include "util/read_buffer.h"
#include "util/log.h"

/* How long a node may take to log in before its entry fails: well inside
 * http_client's default 30 s timeout, so a request waiting for the node
 * reports why the node failed rather than its own timeout. */
#define LOGIN_TIMEOUT_MS 20000

enum node_state { NODE_LOADING, NODE_STARTING, NODE_UP, NODE_DOWN };

struct overlay_listener {
    struct tailscale_overlay *overlay;
    char *label;
    bool failed; /* its failure was reported: at most once */
    int port;
    int id; /* the node's listener, once up */
    struct overlay_listen_handlers handlers;
    struct overlay_listener *previous;
    struct overlay_listener *next;
};

struct overlay_dial {
    struct tailscale_overlay *overlay;
    char *host;
    uint16_t port;
    int64_t timeout_ns;
    int request; /* 0 while waiting for the node to come up */
    overlay_dial_done done;
    void *context;
    struct overlay_dial *next, *prev;
};

struct tailscale_overlay {
    struct overlay base;
    int node;
    enum node_state state;
    char addresses[256];
    char failure[WIPPY_ERROR_MESSAGE_SIZE];
    int log_fd;
    uv_work_t load;          /* the library, the directory and the log file */
    char *directory;         /* the node's state, until the load is done */
    const char *auth_key;
    struct wippy_error load_error;
    bool closed;             /* closed while loading: freed when the load is done */
    struct overlay_dial *dials;
    struct overlay_listener *listeners;
    struct tailscale_overlay *next_open; /* in open_overlays */
};

/* ---- the process-wide event pipe ---- */

static const struct tailnode_functions *go; /* once loaded */
static struct tailscale_overlay *open_overlays;
static uv_pipe_t *event_pipe;
static char event_line[2048];
static size_t event_length;

static struct tailscale_overlay *overlay_of_node(int node)
{
    for (struct tailscale_overlay *overlay = open_overlays; overlay != NULL; overlay = overlay->next_open)
        if (overlay->node == node)
            return overlay;
    return NULL;
}

static struct overlay_dial *dial_of_request(int request)
{
    for (struct tailscale_overlay *overlay = open_overlays; overlay != NULL; overlay = overlay->next_open)
        for (struct overlay_dial *dial = overlay->dials; dial != NULL; dial = dial->next)
            if (dial->request == request)
                return dial;
    return NULL;
}

static struct overlay_listener *listener_of_id(int id)
{
    for (struct tailscale_overlay *overlay = open_overlays; overlay != NULL; overlay = overlay->next_open)
        for (struct overlay_listener *listener = overlay->listeners; listener != NULL; listener = listener->next)
            if (listener->id == id)
                return listener;
    return NULL;
}

static struct overlay_connection *connection_from_fd(uv_loop_t *loop, int fd)
{
    uv_pipe_t *pipe = xmalloc(sizeof *pipe);
    uv_pipe_init(loop, pipe, 0);
    if (uv_pipe_open(pipe, fd) < 0) {
        close(fd);
        handle_close((uv_handle_t *)pipe);
        return NULL;
    }
    struct overlay_connection *connection = xcalloc(1, sizeof *connection);
    connection->stream = (uv_stream_t *)pipe;
    return connection;
}

static void dial_forget(struct overlay_dial *dial)
{
    DLIST_REMOVE(dial->overlay->dials, dial, prev, next);
    free(dial->host);
    free(dial);
}

static void dial_fail(struct overlay_dial *dial, const char *reason)
{
    struct wippy_error error;
    error_set(&error, WIPPY_EIO, "overlay %s: dial %s:%u: %s", dial->overlay->base.id, dial->host,
              dial->port, reason);
    overlay_dial_done done = dial->done;
    void *context = dial->context;
    dial_forget(dial);
    done(context, NULL, &error);
}

static void dial_send(struct overlay_dial *dial)
{
    int64_t timeout_ms = dial->timeout_ns > 0 ? dial->timeout_ns / 1000000 : 30000;
    dial->request = go->dial(dial->overlay->node, dial->host, dial->port, (int)(timeout_ms > 0 ? timeout_ms : 1));
}

static void listener_start(struct overlay_listener *listener)
{
    struct tailscale_overlay *overlay = listener->overlay;
    char why[512];
    listener->id = go->listen(overlay->node, listener->port, why, sizeof why);
    if (listener->id == 0) {
        struct wippy_error error;
        error_set(&error, WIPPY_EIO, "cannot listen on port %d: %s", listener->port, why);
        listener->failed = true;
        listener->handlers.failed(listener->handlers.context, &error);
        return;
    }
    char first[64];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(overlay->addresses, ","), overlay->addresses);
    log_message(LOG_INFO, "%s listening on %s:%d via %s", listener->label, first, listener->port,
            overlay->base.id);
}

static void node_up(struct tailscale_overlay *overlay, const char *addresses)
{
    overlay->state = NODE_UP;
    snprintf(overlay->addresses, sizeof overlay->addresses, "%s", addresses);
    log_message(LOG_INFO, "overlay %s: tailnet node %s up, addresses %s", overlay->base.id,
            overlay->base.config.tailscale.hostname, addresses);
    for (struct overlay_dial *dial = overlay->dials; dial != NULL; dial = dial->next)
        if (dial->request == 0)
            dial_send(dial);
    for (struct overlay_listener *listener = overlay->listeners; listener != NULL; listener = listener->next)
        if (listener->id == 0)
            listener_start(listener);
}

static void node_down(struct tailscale_overlay *overlay, const char *reason)
{
    overlay->state = NODE_DOWN;
    snprintf(overlay->failure, sizeof overlay->failure, "tailnet node %s did not come up: %s",
             overlay->base.config.tailscale.hostname, reason);
    while (overlay->dials != NULL)
        dial_fail(overlay->dials, overlay->failure);
    struct wippy_error error;
    error_set(&error, WIPPY_EIO, "%s", overlay->failure);
    bool reported = false; /* a listener's service says it, as its own line */
    for (struct overlay_listener *listener = overlay->listeners; listener != NULL; listener = listener->next)
        if (listener->id == 0 && !listener->failed) {
            listener->failed = true;
            reported = true;
            listener->handlers.failed(listener->handlers.context, &error);
        }
    if (!reported)
        log_message(LOG_ERROR, "overlay %s: %s", overlay->base.id, overlay->failure);
}

/* One line from Go: "<kind> <number> <rest>". */
static void handle_event(char *line)
{
    char *kind = strtok(line, " ");
    char *number = strtok(NULL, " ");
    char *rest = strtok(NULL, "");
    if (kind == NULL || number == NULL)
        return;
    int id = atoi(number);
    if (rest == NULL)
        rest = "";
    if (strcmp(kind, "up") == 0 || strcmp(kind, "down") == 0) {
        struct tailscale_overlay *overlay = overlay_of_node(id);
        if (overlay != NULL && kind[0] == 'u')
            node_up(overlay, rest);
        else if (overlay != NULL)
            node_down(overlay, rest);
    } else if (strcmp(kind, "dial") == 0 || strcmp(kind, "dialerr") == 0) {
        struct overlay_dial *dial = dial_of_request(id);
        if (dial == NULL) {
            if (strcmp(kind, "dial") == 0)
                close(atoi(rest));
            return;
        }
        if (strcmp(kind, "dialerr") == 0) {
            dial_fail(dial, rest);
            return;
        }
        struct overlay_connection *connection = connection_from_fd(dial->overlay->base.loop, atoi(rest));
        if (connection == NULL) {
            dial_fail(dial, "cannot adopt the connection");
            return;
        }
        overlay_dial_done done = dial->done;
        void *context = dial->context;
        dial_forget(dial);
        done(context, connection, NULL);
    } else if (strcmp(kind, "accept") == 0) {
        char *fd_text = strtok(rest, " ");
        char *remote = strtok(NULL, "");
        struct overlay_listener *listener = listener_of_id(id);
        if (fd_text == NULL)
            return;
        if (listener == NULL) {
            close(atoi(fd_text));
            return;
        }
        struct overlay_connection *connection = connection_from_fd(listener->overlay->base.loop, atoi(fd_text));
        if (connection != NULL)
            listener->handlers.accept(listener->handlers.context, connection, remote != NULL ? remote : "");
    }
}

static void on_event_bytes(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer)
{
    for (ssize_t i = 0; i < count; i++) {
        char byte = buffer->base[i];
        if (byte != '\n') {
            if (event_length < sizeof event_line - 1)
                event_line[event_length++] = byte;
            continue;
        }
        event_line[event_length] = '\0';
        event_length = 0;
        handle_event(event_line);
    }
}

static int events_open(uv_loop_t *loop, struct wippy_error *error)
{
    if (event_pipe != NULL)
        return WIPPY_OK;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return error_set(error, WIPPY_EIO, "cannot make the tailnet event pipe: %s", strerror(errno));
    event_pipe = xmalloc(sizeof *event_pipe);
    uv_pipe_init(loop, event_pipe, 0);
    uv_pipe_open(event_pipe, fds[0]);
    uv_read_start((uv_stream_t *)event_pipe, read_buffer_allocate, on_event_bytes);
    go->events(fds[1]); /* Go owns the write end from now on */
    return WIPPY_OK;
}

static void events_close(void)
{
    if (event_pipe == NULL || open_overlays != NULL)
        return;
    go->events(-1);
    handle_close((uv_handle_t *)event_pipe);
    event_pipe = NULL;
    event_length = 0;
}

/* ---- the driver ---- */

static struct overlay_dial *tailscale_dial(struct overlay *base, const char *host, uint16_t port,
                                           int64_t timeout_ns, overlay_dial_done done, void *context,
                                           struct wippy_error *error)
{
    struct tailscale_overlay *overlay = (struct tailscale_overlay *)base;
    if (overlay->state == NODE_DOWN) {
        error_set(error, WIPPY_EIO, "overlay %s: dial %s:%u: %s", base->id, host, port, overlay->failure);
        return NULL;
    }
    struct overlay_dial *dial = xcalloc(1, sizeof *dial);
    dial->overlay = overlay;
    dial->host = xstrdup(host);
    dial->port = port;
    dial->timeout_ns = timeout_ns;
    dial->done = done;
    dial->context = context;
    DLIST_PUSH(overlay->dials, dial, prev, next);
    if (overlay->state == NODE_UP)
        dial_send(dial);
    return dial;
}

static void tailscale_cancel(struct overlay_dial *dial)
{
    if (dial->request != 0)
        go->cancel(dial->request);
    dial_forget(dial);
}

static const char *tailscale_describe(const struct overlay_dial *dial)
{
    if (dial->request != 0)
        return "connecting on the tailnet";
    return dial->overlay->state == NODE_LOADING ? "loading the tailnet node" : "waiting for the tailnet node to log in";
}

static int listen_port(const char *address)
{
    const char *colon = strrchr(address, ':');
    const char *digits = colon != NULL ? colon + 1 : address;
    char *end;
    long port = strtol(digits, &end, 10);
    return *digits != '\0' && *end == '\0' && port > 0 && port <= 65535 ? (int)port : -1;
}

static struct overlay_listener *tailscale_listen(struct overlay *base, const char *label, const char *address,
                                                 const struct overlay_listen_handlers *handlers,
                                                 struct wippy_error *error)
{
    struct tailscale_overlay *overlay = (struct tailscale_overlay *)base;
    int port = listen_port(address);
    if (port < 0) {
        error_set(error, WIPPY_EINVAL, "addr \"%s\" needs a port to listen on the tailnet", address);
        return NULL;
    }
    if (overlay->state == NODE_DOWN) {
        error_set(error, WIPPY_EIO, "overlay %s: %s", base->id, overlay->failure);
        return NULL;
    }
    struct overlay_listener *listener = xcalloc(1, sizeof *listener);
    listener->overlay = overlay;
    listener->label = xstrdup(label);
    listener->port = port;
    listener->handlers = *handlers;
    DLIST_PUSH(overlay->listeners, listener, previous, next);
    if (overlay->state == NODE_UP)
        listener_start(listener);
    return listener;
}

static void free_listener(struct overlay_listener *listener)
{
    if (listener->id != 0)
        go->close_listener(listener->id);
    free(listener->label);
    free(listener);
}

static void stop_listening(struct overlay_listener *listener)
{
    DLIST_REMOVE(listener->overlay->listeners, listener, previous, next);
    free_listener(listener);
}

/* On the thread pool: what reads or writes the disk before the node can
 * start (loading the Go side, the state directory, the log file). */
static void load_on_worker(uv_work_t *work)
{
    struct tailscale_overlay *overlay = work->data;
    if (tailnode_library_load(&overlay->load_error) == NULL)
        return;
    if (make_directories(overlay->directory) != 0) {
        error_set(&overlay->load_error, WIPPY_EIO, "cannot create state_dir %s: %s", overlay->directory,
                  strerror(errno));
        return;
    }
    char *log_path = xasprintf("%s/node.log", overlay->directory);
    overlay->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    free(log_path);
}

static void free_overlay_loaded(struct tailscale_overlay *overlay)
{
    if (overlay->log_fd >= 0)
        close(overlay->log_fd);
    free(overlay->directory);
    free(overlay);
}

static void start_node(struct tailscale_overlay *overlay)
{
    const struct tailscale_config *config = &overlay->base.config.tailscale;
    struct wippy_error error = {0};
    if (events_open(overlay->base.loop, &error) < 0) {
        node_down(overlay, error.message);
        return;
    }
    /* cgo declares its exports with char *; the Go side only copies them. */
    overlay->node = go->new_node(overlay->directory, (char *)config->hostname, (char *)overlay->auth_key,
                                 (char *)(config->control_url != NULL ? config->control_url : ""),
                                 config->ephemeral, overlay->log_fd);
    overlay->log_fd = -1; /* Go's log writer owns it now */
    free(overlay->directory);
    overlay->directory = NULL;
    overlay->state = NODE_STARTING;
    go->start(overlay->node, LOGIN_TIMEOUT_MS);
}

static void on_loaded(uv_work_t *work, int status)
{
    struct tailscale_overlay *overlay = work->data;
    if (overlay->closed) {
        free_overlay_loaded(overlay);
        return;
    }
    if (overlay->load_error.code != 0) {
        node_down(overlay, overlay->load_error.message);
        return;
    }
    go = tailnode_library_load(&overlay->load_error); /* loaded: returns at once */
    start_node(overlay);
}

static int tailscale_open(struct overlay *base, struct wippy_error *error)
{
    struct tailscale_overlay *overlay = (struct tailscale_overlay *)base;
    const struct tailscale_config *config = &base->config.tailscale;
    overlay->auth_key = config->auth_key;
    if (config->auth_key_env != NULL) {
        overlay->auth_key = getenv(config->auth_key_env);
        if (overlay->auth_key == NULL || overlay->auth_key[0] == '\0')
            return error_set(error, WIPPY_EINVAL, "overlay %s: auth_key_env: the environment variable %s is not set",
                             base->id, config->auth_key_env);
    }
    overlay->directory = config->state_dir != NULL
                             ? xstrdup(config->state_dir)
                             : xasprintf("%s/tailscale/%s", base->state_dir != NULL ? base->state_dir : ".",
                                         config->hostname);
    overlay->log_fd = -1;
    overlay->state = NODE_LOADING;
    overlay->next_open = open_overlays;
    open_overlays = overlay;
    overlay->load.data = overlay;
    uv_queue_work(base->loop, &overlay->load, load_on_worker, on_loaded);
    return WIPPY_OK;
}

/* Closing stops the node (an ephemeral one logs out first): a few seconds
 * at most, at shutdown only. An overlay still loading is freed when its load
 * is done. */
static void tailscale_close(struct overlay *base)
{
    struct tailscale_overlay *overlay = (struct tailscale_overlay *)base;
    while (overlay->dials != NULL)
        tailscale_cancel(overlay->dials);
    while (overlay->listeners != NULL)
        stop_listening(overlay->listeners);
    for (struct tailscale_overlay **link = &open_overlays; *link != NULL; link = &(*link)->next_open) {
        if (*link == overlay) {
            *link = overlay->next_open;
            break;
        }
    }
    if (overlay->state == NODE_LOADING) {
        overlay->closed = true;
        uv_cancel((uv_req_t *)&overlay->load);
        events_close(); /* an overlay closed before it may have kept it open for this one */
        return;
    }
    if (overlay->node != 0)
        go->close(overlay->node);
    events_close();
    free_overlay_loaded(overlay);
}

const struct overlay_driver tailscale_overlay_driver = {
    .capabilities = OVERLAY_CAN_DIAL | OVERLAY_CAN_LISTEN,
    .size = sizeof(struct tailscale_overlay),
    .open = tailscale_open,
    .dial = tailscale_dial,
    .cancel = tailscale_cancel,
    .describe = tailscale_describe,
    .listen = tailscale_listen,
    .stop_listening = stop_listening,
    .close = tailscale_close,
};
