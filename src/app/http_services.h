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

/* Before http_services_start: every connection the direct network's
 * services accept is offered to hand_over (http/server.h), which passes it
 * to a scheduler thread. */
void http_services_hand_over_to(struct http_services *set, http_hand_over_fn hand_over, void *context);

/* A started direct-network service, as the scheduler threads serve it. */
struct http_shared_service {
    const struct entry *entry;
    struct http_connection_count *count; /* the service's, on every thread */
};

/* The started direct-network services (a malloc'd array in *out; its count
 * is returned). */
size_t http_services_shared(const struct http_services *set, struct http_shared_service **out);

/* In a scheduler thread's set: a service for each of shared, listening
 * nowhere, that serves the connections handed to it. */
void http_services_start_adopting(struct http_services *set, const struct http_shared_service *shared,
                                  size_t count);

/* In a scheduler thread's set: serves socket (taken over; closed when its
 * service is not here or the set is shutting down) on entry's service. */
void http_services_adopt(struct http_services *set, const struct entry *entry, int socket,
                         const char *remote_address);

/* Stops accepting, lets requests in flight finish (at most grace_ns), then
 * stops the VM with exit_code. Without services it stops at once. */
void http_services_shutdown(struct http_services *set, int exit_code, int64_t grace_ns);

/* count more things (the scheduler threads) must have drained too before
 * a shutdown stops the VM; each says so with http_services_other_drained. */
void http_services_wait_for_others(struct http_services *set, size_t count);
void http_services_other_drained(struct http_services *set);

void http_services_free(struct http_services *set);

#endif
