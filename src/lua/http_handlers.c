/* http_handlers.c - http.service entries wired to Lua handler calls. */
#include "lua/http_handlers.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>

#include "http/server.h"
#include "util/memory.h"

struct http_services {
    struct runtime *runtime;
    struct http_service **services;
    size_t count;
    size_t draining;
    uv_timer_t *grace_timer;
    int exit_code;
};

static void on_handler_finish(struct task *task, int status, int result_count)
{
    struct http_exchange *exchange = task->http_exchange;
    task->http_exchange = NULL;
    if (status == LUA_OK) {
        http_exchange_finish(exchange);
        return;
    }
    const char *reason = luaL_tolstring(task->thread, -1, NULL);
    fprintf(stderr, "wippy: http %s: %s %s: handler %s failed: %s\n",
            http_exchange_service(exchange)->id, http_exchange_method(exchange),
            http_exchange_path(exchange), task->entry->id, reason);
    http_exchange_fail(exchange, 500, "internal server error");
}

static void dispose_handler(struct task *task)
{
    free(task);
}

static void dispatch(void *context, struct http_exchange *exchange)
{
    struct runtime *runtime = context;
    if (exchange == NULL) { /* a service that could not start listening stops the runtime */
        runtime_stop(runtime, 1);
        return;
    }
    const struct entry *endpoint = http_exchange_endpoint(exchange);
    const struct entry *function = registry_find(runtime->registry, endpoint->as.http_endpoint.function_id);
    struct task *call = xcalloc(1, sizeof *call);
    call->on_finish = on_handler_finish;
    call->dispose = dispose_handler;
    call->http_exchange = exchange;
    struct wippy_error error;
    if (task_start(runtime, call, TASK_CALL, function, runtime->root_frame, runtime->lua, 0, &error) < 0) {
        free(call);
        fprintf(stderr, "wippy: http %s: cannot start handler %s: %s\n", endpoint->id, function->id,
                error.message);
        http_exchange_fail(exchange, 500, "internal server error");
    }
}

int http_services_start(struct runtime *runtime, struct wippy_error *error)
{
    struct http_services *set = xcalloc(1, sizeof *set);
    set->runtime = runtime;
    runtime->services = set;
    const struct registry *registry = runtime->registry;
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        if (entry->kind != ENTRY_HTTP_SERVICE || !entry->as.http_service.lifecycle.auto_start)
            continue;
        struct overlay *overlay = NULL;
        if (entry->as.http_service.network_id != NULL) {
            const struct entry *network = registry_find(registry, entry->as.http_service.network_id);
            if (overlay_get(&runtime->overlays, network, &overlay, error) < 0)
                return WIPPY_EIO;
        }
        struct http_service *service =
            http_service_start(runtime->loop, registry, entry, overlay, dispatch, runtime, error);
        if (service == NULL)
            return WIPPY_EIO;
        set->services = xrealloc(set->services, (set->count + 1) * sizeof *set->services);
        set->services[set->count++] = service;
        runtime_log(runtime, "http %s listening on %s", entry->id, http_service_address(service));
    }
    return WIPPY_OK;
}

static void finish_shutdown(struct http_services *set)
{
    if (set->grace_timer != NULL) {
        uv_timer_stop(set->grace_timer);
    }
    runtime_stop(set->runtime, set->exit_code);
}

static void on_drained(void *context)
{
    struct http_services *set = context;
    if (set->draining > 0 && --set->draining == 0)
        finish_shutdown(set);
}

static void on_grace_expired(uv_timer_t *timer)
{
    struct http_services *set = timer->data;
    runtime_log(set->runtime, "http: grace period over, closing the remaining connections");
    finish_shutdown(set);
}

void http_services_shutdown(struct runtime *runtime, int exit_code, int64_t grace_ns)
{
    struct http_services *set = runtime->services;
    if (set == NULL || set->count == 0) {
        runtime_stop(runtime, exit_code);
        return;
    }
    if (set->draining > 0)
        return;
    set->exit_code = exit_code;
    set->draining = set->count;
    set->grace_timer = xmalloc(sizeof *set->grace_timer);
    uv_timer_init(runtime->loop, set->grace_timer);
    set->grace_timer->data = set;
    uv_timer_start(set->grace_timer, on_grace_expired, (uint64_t)(grace_ns / 1000000), 0);
    for (size_t i = 0; i < set->count; i++)
        http_service_shutdown(set->services[i], on_drained, set);
}

void http_services_free(struct runtime *runtime)
{
    struct http_services *set = runtime->services;
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->count; i++)
        http_service_free(set->services[i]);
    free(set->services);
    /* the grace timer, if any, is closed with the loop's other handles */
    free(set);
    runtime->services = NULL;
}
