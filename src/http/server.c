/* server.c - connections of an http.service: reading and parsing requests,
 * the timers of each phase, writing responses, and shutting down. */
#include "http/server.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/decimal.h"
#include "util/list.h"
#include "util/handle.h"
#include "util/memory.h"
#include "util/read_buffer.h"
#include "util/log.h"

#define DEFAULT_MAX_URL_BYTES (8u << 10)
#define DEFAULT_MAX_HEADER_BYTES (64u << 10)
#define DEFAULT_MAX_BODY_BYTES (16u << 20)
/* What a connection reads ahead while a request is in flight; past it, it
 * stops reading until the response is out (backpressure: a client pushing
 * more fills socket buffers, not the server). */
#define READ_AHEAD_BYTES (64u << 10)

struct http_connection;

struct http_exchange {
    struct http_connection *connection; /* NULL once the connection is gone */
    const struct entry *service_entry;
    struct http_request *request;
    char *remote_address;
    const struct entry *endpoint;
    struct http_param params[HTTP_MAX_PARAMS];
    size_t param_count;
    int status;
    uint64_t started_ns; /* when the request was read, for -vv */
    char **response_names;
    char **response_values;
    size_t response_count;
    char *response_body;
    size_t response_length;
    size_t response_capacity;
};

enum connection_phase {
    PHASE_IDLE,     /* waiting for a request */
    PHASE_READING,  /* a request has started */
    PHASE_HANDLING, /* a handler runs; input waits */
    PHASE_WRITING,
    PHASE_LINGERING, /* answered and half-closed; unread input is drained */
    PHASE_CLOSING,
};

/* How long a connection closed after an error keeps draining what the client
 * still sends: closing with unread bytes would reset the connection and the
 * client could lose the answer. */
#define LINGER_NS (INT64_C(2) * 1000000000)

struct http_connection {
    struct http_service *service;
    uv_stream_t *stream;
    uv_timer_t *timer;
    uint64_t deadline_ms; /* when the phase's time runs out (loop time), 0: never */
    uint64_t timer_due_ms; /* when the timer fires, if it runs: never after deadline_ms */
    struct http_request_reader reader;
    enum connection_phase phase;
    char *remote_address;
    struct http_exchange *exchange; /* while handling */
    bool keep_alive;
    bool reading;         /* reading from the socket (stopped once READ_AHEAD_BYTES wait) */
    bool input_ended;     /* the client sent EOF */
    unsigned requests;    /* served on this connection */
    /* Input read but not parsed yet (what came after a request, while it
     * was handled): parsed from offset on; appending copies at most
     * READ_AHEAD_BYTES of what waits, so pipelining stays linear. */
    char *pending;
    size_t pending_length;
    size_t pending_offset;
    int open_handles;
    bool serving_next;    /* response_sent is running after_response */
    bool sent_meanwhile;  /* ... and the next response went out meanwhile */
    struct http_connection *previous;
    struct http_connection *next;
};

struct http_service {
    uv_loop_t *loop;
    const struct entry *entry;
    struct http_routes routes;
    struct http_limits limits;
    struct overlay *overlay;           /* the network it listens on (direct too) */
    struct overlay_listener *listener; /* NULL once stopped */
    char address[160];
    struct http_service_handlers handlers;
    struct http_connection *connections;
    struct http_connection_count own_count;
    struct http_connection_count *count; /* own_count, or one the scheduler threads share */
    bool shutting_down;
    bool released; /* http_service_free ran; the last connection frees it */
    void (*drained)(void *);
    void *drained_context;
};

static void connection_close(struct http_connection *connection);
static void process_input(struct http_connection *connection, const char *data, size_t length);

/* ---- small helpers ---- */

static void free_strings(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
    }
}

/* "Sun, 29 Nov 2026 01:02:03 GMT", recomputed at most once a second. */
static const char *http_date(void)
{
    static _Thread_local time_t cached_second; /* each scheduler thread its own */
    static _Thread_local char text[40];
    time_t now = time(NULL);
    if (now != cached_second) {
        struct tm utc;
        gmtime_r(&now, &utc);
        strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
        cached_second = now;
    }
    return text;
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *timer);

/* Most requests move the deadline later two or three times: the timer is
 * left running then, and on_timer sets it again for what is left, rather
 * than taking it out of libuv's heap and putting it back each time. */
static void arm_timer(struct http_connection *connection, int64_t timeout_ns)
{
    if (timeout_ns <= 0) {
        connection->deadline_ms = 0;
        uv_timer_stop(connection->timer);
        return;
    }
    uint64_t timeout_ms = (uint64_t)((timeout_ns + 999999) / 1000000);
    connection->deadline_ms = uv_now(connection->timer->loop) + timeout_ms;
    if (uv_is_active((uv_handle_t *)connection->timer) && connection->timer_due_ms <= connection->deadline_ms)
        return;
    connection->timer_due_ms = connection->deadline_ms;
    uv_timer_start(connection->timer, on_timer, timeout_ms, 0);
}

/* ---- writing ---- */

struct write_request {
    uv_write_t request;
    struct http_connection *connection;
    char *data;
    bool close_after;
};

static void after_response(struct http_connection *connection);
static void on_read(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer);
static void start_reading(struct http_connection *connection);
static void stop_reading(struct http_connection *connection);

static void on_shutdown(uv_shutdown_t *request, int status)
{
    struct http_connection *connection = request->data;
    free(request);
    connection->open_handles--;
    if (status < 0 && connection->phase == PHASE_LINGERING)
        connection_close(connection);
}

/* Sends FIN, then reads and drops input until EOF or LINGER_NS. */
static void linger_then_close(struct http_connection *connection)
{
    connection->phase = PHASE_LINGERING;
    uv_shutdown_t *request = xmalloc(sizeof *request);
    request->data = connection;
    if (uv_shutdown(request, connection->stream, on_shutdown) < 0) {
        free(request);
        connection_close(connection);
        return;
    }
    connection->open_handles++;
    if (connection->input_ended) { /* nothing left to drain */
        connection_close(connection);
        return;
    }
    arm_timer(connection, LINGER_NS);
    start_reading(connection);
}

/* A response is out: close, or serve what comes next. A response written
 * at once while after_response runs (the next request was answered without
 * waiting) is picked up by the loop of the outer call, so pipelined
 * requests answered at once never nest. */
static void response_sent(struct http_connection *connection, bool close_after)
{
    if (close_after) {
        linger_then_close(connection);
        return;
    }
    if (connection->serving_next) {
        connection->sent_meanwhile = true;
        return;
    }
    connection->serving_next = true;
    do {
        connection->sent_meanwhile = false;
        after_response(connection);
    } while (connection->sent_meanwhile && connection->phase != PHASE_CLOSING);
    connection->serving_next = false;
}

static void on_written(uv_write_t *request, int status)
{
    struct write_request *write = (struct write_request *)request;
    struct http_connection *connection = write->connection;
    bool close_after = write->close_after;
    free(write->data);
    free(write);
    connection->open_handles--;
    if (connection->phase == PHASE_CLOSING || status < 0) {
        connection_close(connection);
        return;
    }
    response_sent(connection, close_after);
}

/* Most responses fit the socket's buffer and go out here at once, with no
 * write request: libuv 1.44 registers the socket with epoll again after
 * every uv_write it completes (one epoll_ctl per response). What the socket
 * does not take now is queued (uv_try_write refuses while anything is
 * queued, so the order holds). */
static void send_bytes(struct http_connection *connection, char *data, size_t length, bool close_after)
{
    connection->phase = PHASE_WRITING;
    int written = uv_try_write(connection->stream, &(uv_buf_t){.base = data, .len = length}, 1);
    if (written >= 0 && (size_t)written == length) {
        free(data);
        response_sent(connection, close_after);
        return;
    }
    size_t offset = written > 0 ? (size_t)written : 0; /* a failure shows again in uv_write */
    struct write_request *write = xmalloc(sizeof *write);
    write->connection = connection;
    write->data = data;
    write->close_after = close_after;
    uv_buf_t buffer = uv_buf_init(data + offset, (unsigned)(length - offset));
    arm_timer(connection, connection->service->entry->as.http_service.write_timeout_ns);
    if (uv_write(&write->request, connection->stream, &buffer, 1, on_written) < 0) {
        free(data);
        free(write);
        connection_close(connection);
        return;
    }
    connection->open_handles++;
}

/* Appends to a growing buffer. */
struct text {
    char *data;
    size_t length;
    size_t capacity;
};

static void text_append(struct text *text, const char *data, size_t length)
{
    if (text->length + length + 1 > text->capacity) {
        text->capacity = (text->length + length + 1) * 2 + 256;
        text->data = xrealloc(text->data, text->capacity);
    }
    memcpy(text->data + text->length, data, length);
    text->length += length;
    text->data[text->length] = '\0';
}

static void text_append_string(struct text *text, const char *string)
{
    text_append(text, string, strlen(string));
}

static void text_append_number(struct text *text, size_t number)
{
    char buffer[DECIMAL_BUFFER_SIZE];
    const char *digits = decimal_digits(number, 0, buffer);
    text_append(text, digits, (size_t)(buffer + sizeof buffer - digits));
}

static void text_printf(struct text *text, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct text *text, const char *format, ...)
{
    char line[1024];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length >= (int)sizeof line)
        length = (int)sizeof line - 1;
    text_append(text, line, (size_t)length);
}

/* Answers with status and a plain-text message, then closes. */
static void send_error_and_close(struct http_connection *connection, int status, const char *message)
{
    struct text text = {0};
    size_t length = strlen(message) + 1;
    text_printf(&text, "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                status, reason_phrase(status), http_date(), length, message);
    stop_reading(connection);
    send_bytes(connection, text.data, text.length, true);
}

/* ---- requests ---- */

static void respond_now(struct http_exchange *exchange, int status, const char *message);

static void start_reading(struct http_connection *connection)
{
    if (connection->reading || connection->input_ended)
        return;
    if (uv_read_start(connection->stream, read_buffer_allocate, on_read) == 0)
        connection->reading = true;
}

static void stop_reading(struct http_connection *connection)
{
    if (!connection->reading)
        return;
    uv_read_stop(connection->stream);
    connection->reading = false;
}

/* Keeps the bytes after a request for when its response is out. Bytes
 * already in the pending buffer stay where they are. */
static void keep_pending(struct http_connection *connection, const char *data, size_t length)
{
    if (data >= connection->pending && data < connection->pending + connection->pending_length) {
        connection->pending_offset = (size_t)(data - connection->pending);
        return;
    }
    free(connection->pending);
    connection->pending = xmalloc(length);
    memcpy(connection->pending, data, length);
    connection->pending_length = length;
    connection->pending_offset = 0;
}

static size_t unparsed(const struct http_connection *connection)
{
    return connection->pending_length - connection->pending_offset;
}

/* Bytes that arrived while a request is in flight wait behind what is kept
 * already, up to READ_AHEAD_BYTES (each copy is bounded by that too). */
static void append_pending(struct http_connection *connection, const char *data, size_t length)
{
    size_t kept = unparsed(connection);
    char *joined = xmalloc(kept + length);
    if (kept > 0)
        memcpy(joined, connection->pending + connection->pending_offset, kept);
    memcpy(joined + kept, data, length);
    free(connection->pending);
    connection->pending = joined;
    connection->pending_length = kept + length;
    connection->pending_offset = 0;
    if (connection->pending_length >= READ_AHEAD_BYTES)
        stop_reading(connection);
}

static void drop_pending(struct http_connection *connection)
{
    free(connection->pending);
    connection->pending = NULL;
    connection->pending_length = connection->pending_offset = 0;
}

static void dispatch(struct http_connection *connection, struct http_request *request)
{
    struct http_service *service = connection->service;
    struct http_exchange *exchange = xcalloc(1, sizeof *exchange);
    exchange->connection = connection;
    exchange->service_entry = service->entry;
    exchange->request = request;
    exchange->status = 200;
    exchange->started_ns = uv_hrtime();
    exchange->remote_address = xstrdup(connection->remote_address);
    connection->requests++;
    connection->keep_alive = request->keep_alive && !service->shutting_down &&
                             connection->requests < service->entry->as.http_service.keepalive_requests;
    connection->exchange = exchange;
    connection->phase = PHASE_HANDLING;
    arm_timer(connection, service->entry->as.http_service.write_timeout_ns);

    const struct http_route *route = NULL;
    char allow[128];
    enum http_route_result found =
        http_routes_match(&service->routes, request->method, request->path, &route, exchange->params,
                          &exchange->param_count, allow, sizeof allow);
    if (found == HTTP_ROUTE_NOT_FOUND) {
        respond_now(exchange, 404, "not found");
    } else if (found == HTTP_ROUTE_METHOD_NOT_ALLOWED) {
        http_exchange_set_header(exchange, "Allow", allow);
        respond_now(exchange, 405, "method not allowed");
    } else {
        exchange->endpoint = route->endpoint;
        service->handlers.dispatch(service->handlers.context, exchange);
    }
}

static void on_continue_sent(uv_write_t *request, int status)
{
    struct http_connection *connection = request->data;
    (void)status; /* a failed write fails the response's write too */
    free(request);
    connection->open_handles--;
}

/* "100 Continue", queued whole ahead of whatever is written next. */
static void send_continue(struct http_connection *connection)
{
    static const char text[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_write_t *request = xmalloc(sizeof *request);
    request->data = connection;
    uv_buf_t buffer = uv_buf_init((char *)text, sizeof text - 1);
    if (uv_write(request, connection->stream, &buffer, 1, on_continue_sent) < 0) {
        free(request);
        return;
    }
    connection->open_handles++;
}

/* Parses input until a request is complete (which is then handled while
 * reading stops), the input runs out, or it is refused. The bytes after a
 * request are parsed from where they lie once its response is out, so
 * pipelined requests cost time linear in their number. */
static void process_input(struct http_connection *connection, const char *data, size_t length)
{
    while (connection->phase == PHASE_IDLE || connection->phase == PHASE_READING) {
        size_t used = 0;
        enum http_read_result result = http_request_reader_feed(&connection->reader, data, length, &used);
        data += used;
        length -= used;
        if (http_request_reader_started(&connection->reader) && connection->phase == PHASE_IDLE) {
            connection->phase = PHASE_READING;
            arm_timer(connection, connection->service->entry->as.http_service.read_timeout_ns);
        }
        switch (result) {
        case HTTP_READ_MORE:
            drop_pending(connection);
            start_reading(connection);
            return;
        case HTTP_READ_CONTINUE:
            send_continue(connection);
            continue;
        case HTTP_READ_FAILED:
            drop_pending(connection);
            send_error_and_close(connection, connection->reader.failure_status,
                                 connection->reader.failure_message);
            return;
        case HTTP_READ_REQUEST:
            if (length > 0)
                keep_pending(connection, data, length);
            else
                drop_pending(connection);
            if (unparsed(connection) >= READ_AHEAD_BYTES)
                stop_reading(connection);
            else
                start_reading(connection);
            dispatch(connection, http_request_reader_take(&connection->reader));
            return;
        }
    }
}

/* ---- reading ---- */

static void on_read(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer)
{
    struct http_connection *connection = stream->data;
    if (count == 0)
        return;
    if (connection->phase == PHASE_LINGERING) {
        if (count < 0)
            connection_close(connection);
        return; /* drained and dropped */
    }
    if (count < 0) {
        /* The client went away (or finished sending): an exchange in flight
         * still gets its response written if the socket allows. */
        stop_reading(connection);
        connection->input_ended = true;
        if (connection->phase == PHASE_IDLE || connection->phase == PHASE_READING)
            connection_close(connection);
        else
            connection->keep_alive = false;
        return;
    }
    if (connection->phase == PHASE_HANDLING || connection->phase == PHASE_WRITING) {
        append_pending(connection, buffer->base, (size_t)count);
        return;
    }
    process_input(connection, buffer->base, (size_t)count);
}

/* After a response: serve the next request, or close. */
static void after_response(struct http_connection *connection)
{
    if (!connection->keep_alive || connection->service->shutting_down) {
        connection_close(connection);
        return;
    }
    connection->phase = PHASE_IDLE;
    arm_timer(connection, connection->service->entry->as.http_service.idle_timeout_ns);
    if (connection->pending != NULL)
        process_input(connection, connection->pending + connection->pending_offset, unparsed(connection));
    else
        start_reading(connection);
}

static void on_timer(uv_timer_t *timer)
{
    struct http_connection *connection = timer->data;
    uint64_t now = uv_now(timer->loop);
    if (connection->deadline_ms == 0)
        return;
    if (now < connection->deadline_ms) { /* moved later since the timer was set */
        connection->timer_due_ms = connection->deadline_ms;
        uv_timer_start(timer, on_timer, connection->deadline_ms - now, 0);
        return;
    }
    switch (connection->phase) {
    case PHASE_READING:
        send_error_and_close(connection, 408, "request not received in time");
        break;
    case PHASE_HANDLING:
    case PHASE_WRITING:
    case PHASE_IDLE:
    case PHASE_LINGERING:
    case PHASE_CLOSING:
        connection_close(connection);
        break;
    }
}

/* ---- connections ---- */

static void on_connection_handle_closed(uv_handle_t *handle)
{
    struct http_connection *connection = handle->data;
    free(handle);
    if (--connection->open_handles > 0)
        return;
    struct http_service *service = connection->service;
    DLIST_REMOVE(service->connections, connection, previous, next);
    size_t open = atomic_fetch_sub(&service->count->open, 1) - 1;
    if (open < (size_t)service->entry->as.http_service.max_connections)
        atomic_store(&service->count->at_cap, false);
    http_request_reader_release(&connection->reader);
    free(connection->pending);
    free(connection->remote_address);
    free(connection);
    if (service->released) {
        if (service->connections == NULL)
            free(service);
        return;
    }
    if (service->shutting_down && service->connections == NULL && service->drained != NULL) {
        void (*drained)(void *) = service->drained;
        service->drained = NULL;
        drained(service->drained_context);
    }
}

static void connection_close(struct http_connection *connection)
{
    if (uv_is_closing((uv_handle_t *)connection->stream))
        return;
    connection->phase = PHASE_CLOSING;
    if (connection->exchange != NULL) {
        connection->exchange->connection = NULL; /* the handler finishes alone */
        connection->exchange = NULL;
    }
    uv_timer_stop(connection->timer);
    connection->timer->data = connection;
    uv_close((uv_handle_t *)connection->timer, on_connection_handle_closed);
    connection->stream->data = connection;
    uv_close((uv_handle_t *)connection->stream, on_connection_handle_closed);
}

/* Past limits.max_connections a new connection gets a 503 written if the
 * socket takes it at once, and is closed: nothing is read or kept for it.
 * The first one of a spell at the cap is logged. */
static bool refuse_over_cap(struct http_service *service, uv_stream_t *stream)
{
    size_t cap = (size_t)service->entry->as.http_service.max_connections;
    size_t open = atomic_fetch_add(&service->count->open, 1);
    if (open < cap)
        return false; /* counted: the connection is served */
    atomic_fetch_sub(&service->count->open, 1);
    if (!atomic_exchange(&service->count->at_cap, true)) {
        log_message(LOG_WARN, "http %s: %zu connections open (limits.max_connections); new ones get 503 "
                        "until some close", service->entry->id, open);
    }
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                               "Content-Length: 25\r\nConnection: close\r\n\r\ntoo many connections open\n";
    uv_try_write(stream, &(uv_buf_t){.base = (char *)busy, .len = sizeof busy - 1}, 1);
    handle_close((uv_handle_t *)stream);
    return true;
}

void http_service_adopt(struct http_service *service, uv_stream_t *stream, const char *remote_address,
                        const uint8_t *early, size_t early_length)
{
    if (refuse_over_cap(service, stream))
        return;
    struct http_connection *connection = xcalloc(1, sizeof *connection);
    connection->service = service;
    connection->stream = stream;
    stream->data = connection;
    connection->remote_address = xstrdup(remote_address);
    connection->timer = xmalloc(sizeof *connection->timer);
    uv_timer_init(service->loop, connection->timer);
    connection->timer->data = connection;
    connection->open_handles = 2;
    http_request_reader_init(&connection->reader, &service->limits);
    DLIST_PUSH(service->connections, connection, previous, next);
    connection->phase = PHASE_IDLE;
    arm_timer(connection, service->entry->as.http_service.idle_timeout_ns);
    start_reading(connection);
    if (early_length > 0)
        process_input(connection, (const char *)early, early_length);
}

static void on_overlay_listen_failed(void *context, const struct wippy_error *error)
{
    struct http_service *service = context;
    struct wippy_error failure;
    error_set(&failure, error->code, "http %s: %s", service->entry->id, error->message);
    service->handlers.failed(service->handlers.context, &failure);
}

static void on_overlay_connection(void *context, struct overlay_connection *connection,
                                  const char *remote_address)
{
    struct http_service *service = context;
    if (service->shutting_down) {
        overlay_connection_close(connection);
        return;
    }
    uv_stream_t *stream = connection->stream;
    connection->stream = NULL;
    bool handed = connection->early_length == 0 && service->handlers.hand_over != NULL &&
                  service->handlers.hand_over(service->handlers.context, service->entry, stream, remote_address);
    if (!handed)
        http_service_adopt(service, stream, remote_address, connection->early_bytes, connection->early_length);
    overlay_connection_close(connection);
}

struct http_service *http_service_start(uv_loop_t *loop, const struct registry *registry,
                                        const struct entry *entry, struct overlay *overlay,
                                        const struct http_service_handlers *handlers,
                                        struct wippy_error *error)
{
    struct http_service *service = http_service_new_adopting(loop, registry, entry, handlers);
    service->overlay = overlay;
    struct overlay_listen_handlers listen_handlers = {on_overlay_connection, on_overlay_listen_failed, service,
                                                      entry->as.http_service.reuse_port};
    struct wippy_error reason;
    service->listener = overlay_listen(overlay, entry->id, entry->as.http_service.addr, &listen_handlers,
                                       &reason);
    if (service->listener == NULL) {
        error_set(error, reason.code, "%s:%d: entry %s: %s", entry->file, entry->line, entry->id,
                  reason.message);
        http_service_free(service);
        return NULL;
    }
    const char *bound = overlay_listener_address(overlay, service->listener);
    if (bound != NULL)
        snprintf(service->address, sizeof service->address, "%s", bound);
    else
        snprintf(service->address, sizeof service->address, "%s via %s", entry->as.http_service.addr,
                 overlay->id);
    return service;
}

void http_service_share_count(struct http_service *service, struct http_connection_count *count)
{
    service->count = count;
}

struct overlay *http_service_overlay(const struct http_service *service)
{
    return service->overlay;
}

const struct entry *http_service_entry(const struct http_service *service)
{
    return service->entry;
}

struct http_service *http_service_new_adopting(uv_loop_t *loop, const struct registry *registry,
                                               const struct entry *entry,
                                               const struct http_service_handlers *handlers)
{
    struct http_service *service = xcalloc(1, sizeof *service);
    service->loop = loop;
    service->entry = entry;
    service->handlers = *handlers;
    service->count = &service->own_count;
    service->limits = (struct http_limits){DEFAULT_MAX_URL_BYTES, DEFAULT_MAX_HEADER_BYTES,
                                           DEFAULT_MAX_BODY_BYTES};
    http_routes_build(registry, entry, &service->routes);
    return service;
}

struct http_connection_count *http_service_count(struct http_service *service)
{
    return service->count;
}

const char *http_service_address(const struct http_service *service)
{
    return service->address;
}

void http_service_shutdown(struct http_service *service, void (*drained)(void *context), void *context)
{
    service->shutting_down = true;
    service->drained = drained;
    service->drained_context = context;
    overlay_stop_listening(service->overlay, service->listener);
    service->listener = NULL;
    struct http_connection *connection = service->connections;
    while (connection != NULL) {
        struct http_connection *next = connection->next;
        if (connection->phase == PHASE_IDLE)
            connection_close(connection);
        else
            connection->keep_alive = false; /* close once its response is out */
        connection = next;
    }
    if (service->connections == NULL && service->drained != NULL) {
        service->drained = NULL;
        drained(context);
    }
}

void http_service_free(struct http_service *service)
{
    if (service == NULL)
        return;
    service->drained = NULL;
    service->shutting_down = true;
    overlay_stop_listening(service->overlay, service->listener);
    service->listener = NULL;
    for (struct http_connection *connection = service->connections; connection != NULL;
         connection = connection->next)
        connection_close(connection);
    /* Connections free themselves when their handles close; the last one
     * frees the service. */
    http_routes_free(&service->routes);
    service->released = true;
    if (service->connections == NULL)
        free(service);
}

/* ---- exchanges ---- */

const char *http_exchange_method(const struct http_exchange *exchange) { return exchange->request->method; }
const char *http_exchange_path(const struct http_exchange *exchange) { return exchange->request->path; }
const char *http_exchange_query(const struct http_exchange *exchange) { return exchange->request->query; }
const char *http_exchange_remote_address(const struct http_exchange *exchange) { return exchange->remote_address; }
const struct entry *http_exchange_endpoint(const struct http_exchange *exchange) { return exchange->endpoint; }
const struct entry *http_exchange_service(const struct http_exchange *exchange) { return exchange->service_entry; }
size_t http_exchange_header_count(const struct http_exchange *exchange) { return exchange->request->header_count; }
size_t http_exchange_param_count(const struct http_exchange *exchange) { return exchange->param_count; }

const char *http_exchange_header(const struct http_exchange *exchange, const char *name)
{
    return http_request_header(exchange->request, name);
}

void http_exchange_header_at(const struct http_exchange *exchange, size_t index, const char **name,
                             const char **value)
{
    *name = exchange->request->header_names[index];
    *value = exchange->request->header_values[index];
}

const char *http_exchange_body(const struct http_exchange *exchange, size_t *length)
{
    *length = exchange->request->body_length;
    return exchange->request->body;
}

const struct http_param *http_exchange_param_at(const struct http_exchange *exchange, size_t index)
{
    return &exchange->params[index];
}

void http_exchange_set_status(struct http_exchange *exchange, int status)
{
    exchange->status = status;
}

void http_exchange_set_header(struct http_exchange *exchange, const char *name, const char *value)
{
    for (size_t i = 0; i < exchange->response_count; i++) {
        if (strcasecmp(exchange->response_names[i], name) == 0) {
            free(exchange->response_values[i]);
            exchange->response_values[i] = xstrdup(value);
            return;
        }
    }
    size_t count = exchange->response_count;
    exchange->response_names = xrealloc(exchange->response_names, (count + 1) * sizeof(char *));
    exchange->response_values = xrealloc(exchange->response_values, (count + 1) * sizeof(char *));
    exchange->response_names[count] = xstrdup(name);
    exchange->response_values[count] = xstrdup(value);
    exchange->response_count = count + 1;
}

void http_exchange_write(struct http_exchange *exchange, const char *data, size_t length)
{
    if (exchange->response_length + length + 1 > exchange->response_capacity) {
        exchange->response_capacity = (exchange->response_length + length + 1) * 2 + 256;
        exchange->response_body = xrealloc(exchange->response_body, exchange->response_capacity);
    }
    memcpy(exchange->response_body + exchange->response_length, data, length);
    exchange->response_length += length;
}

static void exchange_free(struct http_exchange *exchange)
{
    http_request_free(exchange->request);
    free(exchange->remote_address);
    http_params_free(exchange->params, exchange->param_count);
    free_strings(exchange->response_names, exchange->response_count);
    free_strings(exchange->response_values, exchange->response_count);
    free(exchange->response_body);
    free(exchange);
}

static bool valid_header_text(const char *text)
{
    return strpbrk(text, "\r\n") == NULL;
}

void http_exchange_finish(struct http_exchange *exchange)
{
    struct http_connection *connection = exchange->connection;
    if (connection == NULL) {
        exchange_free(exchange);
        return;
    }
    connection->exchange = NULL;
    size_t headers_length = 0;
    for (size_t i = 0; i < exchange->response_count; i++)
        headers_length += strlen(exchange->response_names[i]) + strlen(exchange->response_values[i]) + 4;
    size_t capacity = 192 + headers_length + exchange->response_length; /* all of it: one allocation */
    struct text text = {xmalloc(capacity), 0, capacity};
    text_append_string(&text, "HTTP/1.1 ");
    text_append_number(&text, (size_t)exchange->status);
    text_append_string(&text, " ");
    text_append_string(&text, reason_phrase(exchange->status));
    text_append_string(&text, "\r\nDate: ");
    text_append_string(&text, http_date());
    text_append_string(&text, "\r\n");
    bool has_type = false;
    for (size_t i = 0; i < exchange->response_count; i++) {
        const char *name = exchange->response_names[i], *value = exchange->response_values[i];
        if (!valid_header_text(name) || !valid_header_text(value) ||
            strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Connection") == 0 ||
            strcasecmp(name, "Transfer-Encoding") == 0)
            continue; /* the server owns framing */
        has_type = has_type || strcasecmp(name, "Content-Type") == 0;
        text_append_string(&text, name);
        text_append_string(&text, ": ");
        text_append_string(&text, value);
        text_append_string(&text, "\r\n");
    }
    bool bodyless = exchange->status == 204 || exchange->status == 304 || exchange->status < 200;
    if (!has_type && exchange->response_length > 0)
        text_append_string(&text, "Content-Type: text/plain; charset=utf-8\r\n");
    if (!bodyless) {
        text_append_string(&text, "Content-Length: ");
        text_append_number(&text, exchange->response_length);
        text_append_string(&text, "\r\n");
    }
    bool keep_alive = connection->keep_alive && !connection->service->shutting_down;
    text_append_string(&text, keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
    if (!exchange->request->head && !bodyless && exchange->response_length > 0)
        text_append(&text, exchange->response_body, exchange->response_length);
    if (log_enabled(LOG_TRACE))
        log_message(LOG_TRACE, "http %s: %s %s %s %d %zu bytes %.3f ms", exchange->service_entry->id,
                    exchange->remote_address, exchange->request->method, exchange->request->path, exchange->status,
                    exchange->response_length, (double)(uv_hrtime() - exchange->started_ns) / 1e6);
    exchange_free(exchange);
    connection->keep_alive = keep_alive;
    send_bytes(connection, text.data, text.length, !keep_alive);
}

static void respond_now(struct http_exchange *exchange, int status, const char *message)
{
    exchange->status = status;
    exchange->response_length = 0;
    http_exchange_write(exchange, message, strlen(message));
    http_exchange_write(exchange, "\n", 1);
    http_exchange_finish(exchange);
}

void http_exchange_fail(struct http_exchange *exchange, int status, const char *message)
{
    free_strings(exchange->response_names, exchange->response_count);
    free_strings(exchange->response_values, exchange->response_count);
    exchange->response_names = exchange->response_values = NULL;
    exchange->response_count = 0;
    respond_now(exchange, status, message);
}
