/* http_services.h - runs the project's http.service entries: each routed
 * request is answered by its endpoint's function.lua entry, called like any
 * function call (with the root frame), with the `http` module bound to that
 * request through the task's attachment. */
#ifndef WIPPY_APP_HTTP_SERVICES_H
#define WIPPY_APP_HTTP_SERVICES_H

#include <stdint.h>

#include "net/overlay.h"
#include "util/error.h"
#include "vm/vm.h"

struct http_services;

/* An empty set of services of vm, whose overlays come from overlays. */
struct http_services *http_services_new(struct vm *vm, struct overlay_set *overlays);

/* Starts every http.service whose lifecycle.auto_start is true, on the
 * network net/route.c decides. */
int http_services_start(struct http_services *set, struct wippy_error *error);

/* Stops accepting, lets requests in flight finish (at most grace_ns), then
 * stops the VM with exit_code. Without services it stops at once. */
void http_services_shutdown(struct http_services *set, int exit_code, int64_t grace_ns);

void http_services_free(struct http_services *set);

#endif
