/* http_services.h - runs the project's http.service entries: each routed
 * request is answered by its endpoint's function.lua entry, called like any
 * function call (with the root frame), with the `http` module bound to that
 * request through the task's attachment. */
#ifndef WIPPY_APP_HTTP_SERVICES_H
#define WIPPY_APP_HTTP_SERVICES_H

#include <stdint.h>

#include "http/server.h"
#include "net/overlay.h"
#include "util/error.h"
#include "vm/vm.h"

struct http_services;

/* An empty set of services of vm, whose overlays come from overlays. */
struct http_services *http_services_new(struct vm *vm, struct overlay_set *overlays);

/* Starts every http.service whose lifecycle.auto_start is true, on the
 * network net/route.c decides. */
int http_services_start(struct http_services *set, struct wippy_error *error);

/* A started service's listening socket that the services of another
 * scheduler thread accept on too (the direct network's). */
struct http_shared_socket {
    const struct entry *entry;
    int socket;
    struct http_connection_count *count; /* the service's, on every thread */
};

/* Hands the started services whose listening socket can be shared (the
 * direct network's) over to the scheduler threads: each socket is copied
 * into *out (a malloc'd array; the count is returned; the caller closes
 * them) and the service leaves this set, which never accepts on it. */
size_t http_services_hand_over(struct http_services *set, struct http_shared_socket **out);

/* In a worker's set: serves the services of sockets, accepting on them. */
int http_services_start_shared(struct http_services *set, const struct http_shared_socket *sockets,
                               size_t count, struct wippy_error *error);

/* Stops accepting, lets requests in flight finish (at most grace_ns), then
 * stops the VM with exit_code. Without services it stops at once. */
void http_services_shutdown(struct http_services *set, int exit_code, int64_t grace_ns);

/* count more things (the scheduler threads) must have drained too before
 * a shutdown stops the VM; each says so with http_services_other_drained. */
void http_services_wait_for_others(struct http_services *set, size_t count);
void http_services_other_drained(struct http_services *set);

void http_services_free(struct http_services *set);

#endif
