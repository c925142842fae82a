/* http_services.c - http.service entries wired to Lua handler calls. */
#include "app/http_services.h"

#include <unistd.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>

#include "http/server.h"
#include "lua/modules.h"
#include "net/route.h"
#include "util/handle.h"
#include "util/memory.h"
#include "vm/task.h"
#include "util/log.h"

struct http_services {
    struct vm *vm;
    struct overlay_set *overlays;
    struct http_service **services;
    size_t count;
    size_t draining;
    http_hand_over_fn hand_over; /* where the direct network's connections go, or NULL */
    void *hand_over_context;
    size_t others;          /* other things a shutdown waits for (http_services_wait_for_others) */
    size_t others_drained;
    uv_timer_t *grace_timer;
    int exit_code;
};

static void on_handler_finish(struct task *task, int status, int result_count)
{
    struct http_exchange *exchange = task->attachment;
    task->attachment = NULL;
    if (status == LUA_OK) {
        http_exchange_finish(exchange);
        return;
    }
    const char *reason = lua_tostring(task->thread, -1);
    log_message(LOG_ERROR, "http %s: %s %s: handler %s failed: %s",
            http_exchange_service(exchange)->id, http_exchange_method(exchange),
            http_exchange_path(exchange), task->entry->id, reason);
    http_exchange_fail(exchange, 500, "internal server error");
}

static void dispose_handler(struct task *task)
{
    free(task);
}

/* A service whose overlay can never listen stops the runtime: serving
 * without it would hide that it is unreachable. */
static void on_service_failed(void *context, const struct wippy_error *error)
{
    struct http_services *set = context;
    log_message(LOG_ERROR, "%s", error->message);
    vm_stop(set->vm, 1);
}

static bool offer_connection(void *context, const struct entry *service, uv_stream_t *stream, const char *remote_address)
{
    struct http_services *set = context;
    return set->hand_over(set->hand_over_context, service, stream, remote_address);
}

static void add_service(struct http_services *set, struct http_service *service)
{
    set->services = xrealloc(set->services, (set->count + 1) * sizeof *set->services);
    set->services[set->count++] = service;
}

static void dispatch(void *context, struct http_exchange *exchange)
{
    struct http_services *set = context;
    struct vm *vm = set->vm;
    const struct entry *endpoint = http_exchange_endpoint(exchange);
    const struct entry *function = registry_find(vm->registry, endpoint->as.http_endpoint.function_id);
    struct task *call = xcalloc(1, sizeof *call);
    call->on_finish = on_handler_finish;
    call->dispose = dispose_handler;
    call->attachment_kind = &mod_http_exchange_kind;
    call->attachment = exchange;
    struct wippy_error error;
    if (task_start(vm->front, call, TASK_CALL, function, vm->root_frame, vm->lua, 0, &error) < 0) {
        free(call);
        log_message(LOG_ERROR, "http %s: cannot start handler %s: %s", endpoint->id, function->id,
                error.message);
        http_exchange_fail(exchange, 500, "internal server error");
    }
}

struct http_services *http_services_new(struct vm *vm, struct overlay_set *overlays)
{
    struct http_services *set = xcalloc(1, sizeof *set);
    set->vm = vm;
    set->overlays = overlays;
    return set;
}

int http_services_start(struct http_services *set, struct wippy_error *error)
{
    struct vm *vm = set->vm;
    const struct registry *registry = vm->registry;
    struct route_policy policy = vm_route_policy(vm);
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        if (entry->kind != ENTRY_HTTP_SERVICE || !entry->as.http_service.lifecycle.auto_start)
            continue;
        const struct entry *network = NULL;
        struct overlay *overlay = NULL;
        /* a service runs with no actor and no scope: network.bind is
         * allowed unless security.strict_mode, as in Go Wippy */
        struct route_caller service_caller = {NULL, NULL};
        struct wippy_error refused;
        int rc = route_listen(&policy, &service_caller, entry->as.http_service.network_id, &network, &refused);
        if (rc < 0)
            error_set(error, rc, "%s:%d: entry %s: %s", entry->file, entry->line, entry->id, refused.message);
        if (rc == WIPPY_OK && network != NULL)
            rc = overlay_get(set->overlays, network, &overlay, error);
        else if (rc == WIPPY_OK)
            overlay = overlay_direct(set->overlays);
        /* the direct network's connections may go to the scheduler threads */
        const struct http_service_handlers handlers = {dispatch, on_service_failed, set,
                                                       network == NULL && set->hand_over != NULL ? offer_connection : NULL};
        struct http_service *service =
            rc == WIPPY_OK ? http_service_start(vm->loop, registry, entry, overlay, &handlers, error) : NULL;
        if (service == NULL)
            return error->code < 0 ? error->code : WIPPY_EIO;
        add_service(set, service);
        if (network == NULL) /* an overlay's listener says so itself, once it really listens */
            log_message(LOG_INFO, "%s listening on %s", entry->id, http_service_address(service));
    }
    return WIPPY_OK;
}

void http_services_hand_over_to(struct http_services *set, http_hand_over_fn hand_over, void *context)
{
    set->hand_over = hand_over;
    set->hand_over_context = context;
}

size_t http_services_shared(const struct http_services *set, struct http_shared_service **out)
{
    *out = xcalloc(set->count + 1, sizeof **out);
    size_t count = 0;
    for (size_t i = 0; i < set->count; i++)
        if (http_service_overlay(set->services[i]) != NULL &&
            overlay_is_plain_tcp(http_service_overlay(set->services[i])))
            (*out)[count++] = (struct http_shared_service){http_service_entry(set->services[i]),
                                                           http_service_count(set->services[i])};
    return count;
}

void http_services_start_adopting(struct http_services *set, const struct http_shared_service *shared, size_t count)
{
    struct vm *vm = set->vm;
    const struct http_service_handlers handlers = {dispatch, on_service_failed, set, NULL};
    for (size_t i = 0; i < count; i++) {
        struct http_service *service = http_service_new_adopting(vm->loop, vm->registry, shared[i].entry, &handlers);
        http_service_share_count(service, shared[i].count);
        add_service(set, service);
    }
}

void http_services_adopt(struct http_services *set, const struct entry *entry, int socket, const char *remote_address)
{
    struct http_service *service = NULL;
    for (size_t i = 0; i < set->count && service == NULL; i++)
        if (http_service_entry(set->services[i]) == entry)
            service = set->services[i];
    uv_tcp_t *tcp = xmalloc(sizeof *tcp);
    uv_tcp_init(set->vm->loop, tcp);
    if (service == NULL || set->draining > 0 || uv_tcp_open(tcp, socket) < 0) {
        close(socket);
        handle_close((uv_handle_t *)tcp);
        return;
    }
    http_service_adopt(service, (uv_stream_t *)tcp, remote_address, NULL, 0);
}

void http_services_wait_for_others(struct http_services *set, size_t count)
{
    set->others += count;
}

static void on_drained(void *context);

void http_services_other_drained(struct http_services *set)
{
    set->others_drained++;
    if (set->draining > 0)
        on_drained(set);
}

static void finish_shutdown(struct http_services *set)
{
    if (set->grace_timer != NULL) {
        uv_timer_stop(set->grace_timer);
    }
    vm_stop(set->vm, set->exit_code);
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
    vm_log(set->vm, "http: grace period over, closing the remaining connections");
    finish_shutdown(set);
}

void http_services_shutdown(struct http_services *set, int exit_code, int64_t grace_ns)
{
    size_t waiting_others = set->others - set->others_drained;
    if (set->count == 0 && waiting_others == 0) {
        vm_stop(set->vm, exit_code);
        return;
    }
    if (set->draining > 0)
        return;
    set->exit_code = exit_code;
    set->draining = set->count + waiting_others;
    set->grace_timer = xmalloc(sizeof *set->grace_timer);
    uv_timer_init(set->vm->loop, set->grace_timer);
    set->grace_timer->data = set;
    uv_timer_start(set->grace_timer, on_grace_expired, (uint64_t)(grace_ns / 1000000), 0);
    for (size_t i = 0; i < set->count; i++)
        http_service_shutdown(set->services[i], on_drained, set);
}

void http_services_free(struct http_services *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->count; i++)
        http_service_free(set->services[i]);
    free(set->services);
    handle_close((uv_handle_t *)set->grace_timer);
    free(set);
}
