/* server.h - an http.service: accepts connections (directly, or handed over
 * by an overlay listener), reads HTTP/1.1 requests (request_reader.h), routes each
 * request, and lets a dispatcher (the Lua glue) answer it. Keep-alive,
 * chunked request bodies, read/write/idle timeouts, size limits, and a
 * graceful shutdown that lets requests in flight finish. */
#ifndef WIPPY_HTTP_SERVER_H
#define WIPPY_HTTP_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/request_reader.h"
#include "http/routes.h"
#include "net/overlay.h"
#include "registry/registry.h"
#include "util/error.h"

struct http_service;
struct http_exchange;

/* Called for each routed request (never NULL); the dispatcher must
 * eventually call http_exchange_finish (even when the connection is gone). */
typedef void (*http_dispatch_fn)(void *context, struct http_exchange *exchange);

/* Called at most once, when the service's overlay listener fails for good:
 * the service will never serve. error names the service and the reason. */
typedef void (*http_service_failed_fn)(void *context, const struct wippy_error *error);

/* Called (when set) for each connection accepted, before it is served:
 * true when another scheduler thread will serve it (the callee then owns
 * stream and must close it), false to serve it here. */
typedef bool (*http_hand_over_fn)(void *context, const struct entry *service, uv_stream_t *stream,
                                  const char *remote_address);

/* What a service reports to. */
struct http_service_handlers {
    http_dispatch_fn dispatch;
    http_service_failed_fn failed;
    void *context;
    http_hand_over_fn hand_over; /* NULL: every connection is served here */
};

/* Starts a service of entry listening on overlay (the direct network
 * too): the overlay accepts and hands connections over. Returns NULL with
 * error set when it cannot listen. */
struct http_service *http_service_start(uv_loop_t *loop, const struct registry *registry,
                                        const struct entry *entry, struct overlay *overlay,
                                        const struct http_service_handlers *handlers,
                                        struct wippy_error *error);

/* A service of entry that listens nowhere: it serves the connections
 * another thread's service hands over (http_service_adopt). */
struct http_service *http_service_new_adopting(uv_loop_t *loop, const struct registry *registry,
                                               const struct entry *entry,
                                               const struct http_service_handlers *handlers);

/* The service's connection count, which other threads' services of the
 * same entry share (http_service_share_count). */
struct http_connection_count *http_service_count(struct http_service *service);

/* Serves a connection (the service owns stream now); early bytes are the
 * start of the client's input that arrived before (may be NULL). */
void http_service_adopt(struct http_service *service, uv_stream_t *stream,
                        const char *remote_address, const uint8_t *early, size_t early_length);

/* The connections a service has open, against limits.max_connections:
 * shared by its listeners on every scheduler thread (zeroed to start). */
struct http_connection_count {
    atomic_size_t open;
    atomic_bool at_cap; /* the cap was logged for this spell */
};

/* Counts the service's connections in count (before it accepts any). */
void http_service_share_count(struct http_service *service, struct http_connection_count *count);

/* The network the service listens on, or NULL for one that only adopts. */
struct overlay *http_service_overlay(const struct http_service *service);

/* The http.service entry the service serves. */
const struct entry *http_service_entry(const struct http_service *service);

/* The address the service listens on ("127.0.0.1:8099"). */
const char *http_service_address(const struct http_service *service);

/* Stops accepting, lets requests in flight finish, closes idle
 * connections, then calls drained once (at once when nothing is open). */
void http_service_shutdown(struct http_service *service, void (*drained)(void *context),
                           void *context);

/* Closes everything at once and frees the service. */
void http_service_free(struct http_service *service);

/* ---- the request and the response of one exchange ---- */

const char *http_exchange_method(const struct http_exchange *exchange);
const char *http_exchange_path(const struct http_exchange *exchange);
const char *http_exchange_query(const struct http_exchange *exchange); /* raw, may be "" */
const char *http_exchange_header(const struct http_exchange *exchange, const char *name);
size_t http_exchange_header_count(const struct http_exchange *exchange);
void http_exchange_header_at(const struct http_exchange *exchange, size_t index,
                             const char **name, const char **value);
const char *http_exchange_body(const struct http_exchange *exchange, size_t *length);
const char *http_exchange_remote_address(const struct http_exchange *exchange);
const struct entry *http_exchange_endpoint(const struct http_exchange *exchange);
const struct entry *http_exchange_service(const struct http_exchange *exchange);
size_t http_exchange_param_count(const struct http_exchange *exchange);
const struct http_param *http_exchange_param_at(const struct http_exchange *exchange, size_t index);

void http_exchange_set_status(struct http_exchange *exchange, int status);
void http_exchange_set_header(struct http_exchange *exchange, const char *name, const char *value);
void http_exchange_write(struct http_exchange *exchange, const char *data, size_t length);

/* Sends the response built so far (or status with message when failing)
 * and frees the exchange. */
void http_exchange_finish(struct http_exchange *exchange);
void http_exchange_fail(struct http_exchange *exchange, int status, const char *message);

#endif
