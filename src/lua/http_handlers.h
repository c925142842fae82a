/* http_handlers.h - runs the project's http.service entries: each routed
 * request is answered by its endpoint's function.lua entry, called like any
 * function call (with the service's frame), with the `http` module bound to
 * that request. */
#ifndef WIPPY_LUA_HTTP_HANDLERS_H
#define WIPPY_LUA_HTTP_HANDLERS_H

#include "runtime/runtime.h"

/* Starts every http.service whose lifecycle.auto_start is true. */
int http_services_start(struct runtime *runtime, struct wippy_error *error);

/* Stops accepting, lets requests in flight finish (at most grace_ns), then
 * stops the runtime with exit_code. Without services it stops at once. */
void http_services_shutdown(struct runtime *runtime, int exit_code, int64_t grace_ns);

void http_services_free(struct runtime *runtime);

#endif
