/* remote.c - see remote.h. A request is shared by the two threads: the
 * worker's (the caller's task waits on it) and the main VM's (a task of its
 * own runs the function). Each side holds a reference; the link's lock
 * guards its queues and whether the worker's end is still there. */
#include "vm/remote.h"

#include <lauxlib.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/handle.h"
#include "util/memory.h"
#include "vm/frame.h"
#include "vm/message.h"
#include "vm/task.h"

struct remote_request {
    atomic_int references;       /* the worker's side and the main VM's */
    struct remote_link *link;
    const char *module;          /* whose context the function takes (static text) */
    lua_CFunction function;
    struct remote_prefix prefix; /* data NULL when none */
    struct message *arguments;   /* a table: n, then 1..n */
    struct frame *frame;
    const struct entry *entry;
    int call_depth;
    bool guest;
    atomic_bool cancelled;       /* the caller went away */
    struct task *caller;         /* the worker's thread only */
    struct task *proxy;          /* the main VM's thread only: the task running it */
    /* written by the main VM's thread before the reply is queued */
    bool failed;
    struct message *results;     /* a table n, 1..n; or the error value */
    struct remote_request *next;
    struct remote_request *next_cancel;
};

struct remote_link {
    atomic_int references; /* the main VM's end, and every request */
    uv_mutex_t lock;
    struct remote_request *requests_head, *requests_tail; /* to the main VM */
    struct remote_request *cancels;                       /* to the main VM */
    struct remote_request *replies_head, *replies_tail;   /* to the worker */
    bool detached;          /* the worker's end is gone */
    uv_async_t *to_main;    /* on the main VM's loop */
    uv_async_t *to_worker;  /* on the worker's loop */
    struct vm *main;
    struct vm *worker;
};

struct proxy_task {
    struct task task; /* first: a struct task * of a proxy is one */
    struct remote_request *request;
};

static void link_release(struct remote_link *link)
{
    if (atomic_fetch_sub_explicit(&link->references, 1, memory_order_acq_rel) != 1)
        return;
    uv_mutex_destroy(&link->lock);
    free(link);
}

static void request_release(struct remote_request *request)
{
    if (atomic_fetch_sub_explicit(&request->references, 1, memory_order_acq_rel) != 1)
        return;
    if (request->prefix.data != NULL)
        request->prefix.free(request->prefix.data);
    message_free(request->arguments);
    message_free(request->results);
    frame_release(request->frame);
    struct remote_link *link = request->link;
    free(request);
    link_release(link);
}

static void append(struct remote_request **head, struct remote_request **tail, struct remote_request *request)
{
    request->next = NULL;
    if (*tail != NULL)
        (*tail)->next = request;
    else
        *head = request;
    *tail = request;
}

/* ---- the main VM's side ---- */

static void queue_reply(struct remote_request *request)
{
    struct remote_link *link = request->link;
    uv_mutex_lock(&link->lock);
    bool detached = link->detached;
    if (!detached) {
        append(&link->replies_head, &link->replies_tail, request);
        uv_async_send(link->to_worker);
    }
    uv_mutex_unlock(&link->lock);
    if (detached) /* nobody will read it: the worker's reference goes too */
        request_release(request);
    request_release(request);
}

/* Takes the top value of L (left there) for the worker; a value that cannot
 * travel becomes the failure that says so. */
static void take_for_worker(lua_State *L, struct remote_request *request, bool failed)
{
    struct wippy_error error;
    message_cross_thread_begin();
    request->results = message_take(L, -1, 0, &error);
    message_cross_thread_end();
    request->failed = failed;
    if (request->results == NULL) {
        lua_pushstring(L, error.message);
        request->results = message_take(L, -1, 0, &error);
        lua_pop(L, 1);
        request->failed = true;
    }
}

static void on_proxy_finish(struct task *task, int status, int result_count)
{
    struct remote_request *request = ((struct proxy_task *)task)->request;
    lua_State *L = task->thread;
    request->proxy = NULL;
    if (!lua_checkstack(L, 3)) {
        request->failed = true;
    } else if (status == LUA_OK) {
        int first = lua_gettop(L) - result_count + 1;
        lua_createtable(L, result_count, 1);
        for (int i = 0; i < result_count; i++) {
            lua_pushvalue(L, first + i);
            lua_rawseti(L, -2, i + 1);
        }
        lua_pushinteger(L, result_count);
        lua_setfield(L, -2, "n");
        take_for_worker(L, request, false);
        lua_pop(L, 1);
    } else {
        /* an error object the function raised sits below its text */
        take_for_worker(L, request, true);
        if (task->raised_shared && request->results != NULL) {
            struct message *text = request->results;
            request->results = NULL;
            lua_pushvalue(L, -2);
            take_for_worker(L, request, true);
            lua_pop(L, 1);
            if (request->results == NULL)
                request->results = text;
            else
                message_free(text);
        }
    }
    queue_reply(request);
}

static void dispose_proxy(struct task *task)
{
    free(task);
}

static int proxy_body_done(lua_State *L, int status, lua_KContext context)
{
    (void)status;
    (void)context;
    return lua_gettop(L);
}

/* The proxy task's body: the function, with the prefix and the arguments. */
static int proxy_body(lua_State *L)
{
    struct remote_request *request = lua_touserdata(L, 1);
    lua_settop(L, 0);
    void *context = NULL;
    const struct vm *vm = vm_of(L);
    for (size_t i = 0; i < vm->module_count; i++)
        if (strcmp(vm->modules[i].name, request->module) == 0)
            context = vm->modules[i].context;
    lua_pushlightuserdata(L, context); /* vm_module_context */
    lua_pushcclosure(L, request->function, 1);
    int count = 0;
    if (request->prefix.data != NULL) {
        request->prefix.push(L, request->prefix.data);
        count++;
    }
    struct message *arguments = request->arguments;
    request->arguments = NULL;
    struct wippy_error error;
    if (message_push(L, arguments, &error) < 0)
        return luaL_error(L, "%s", error.message);
    lua_getfield(L, -1, "n");
    int n = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    luaL_checkstack(L, n + 2, "too many arguments");
    for (int i = 1; i <= n; i++)
        lua_rawgeti(L, count + 2, i);
    lua_remove(L, count + 2);
    lua_callk(L, count + n, LUA_MULTRET, 0, proxy_body_done);
    return proxy_body_done(L, LUA_OK, 0);
}

static void start_proxy(struct remote_link *link, struct remote_request *request)
{
    struct vm *vm = link->main;
    struct proxy_task *proxy = xcalloc(1, sizeof *proxy);
    proxy->request = request;
    proxy->task.on_finish = on_proxy_finish;
    proxy->task.dispose = dispose_proxy;
    struct wippy_error error;
    if (vm->stopping ||
        task_start_native(vm->front, &proxy->task, request->entry, request->frame, proxy_body, request, &error) < 0) {
        free(proxy);
        lua_State *L = vm->lua;
        lua_pushstring(L, vm->stopping ? "runtime shutting down" : error.message);
        vm_unlimited_begin(vm);
        take_for_worker(L, request, true);
        vm_unlimited_end(vm);
        lua_pop(L, 1);
        queue_reply(request);
        return;
    }
    proxy->task.call_depth = request->call_depth;
    proxy->task.guest = request->guest;
    request->proxy = &proxy->task;
}

static void on_requests(uv_async_t *handle)
{
    struct remote_link *link = handle->data;
    uv_mutex_lock(&link->lock);
    struct remote_request *requests = link->requests_head;
    struct remote_request *cancels = link->cancels;
    link->requests_head = link->requests_tail = NULL;
    link->cancels = NULL;
    uv_mutex_unlock(&link->lock);
    while (requests != NULL) {
        struct remote_request *request = requests;
        requests = request->next;
        if (atomic_load(&request->cancelled)) {
            request_release(request); /* the worker let go of its side already */
            request_release(request);
        } else {
            start_proxy(link, request);
        }
    }
    while (cancels != NULL) {
        struct remote_request *request = cancels;
        cancels = request->next_cancel;
        if (request->proxy != NULL)
            task_kill(request->proxy, "the caller went away");
        request_release(request); /* the cancellation's own reference */
    }
}

struct remote_link *remote_link_new(struct vm *main)
{
    struct remote_link *link = xcalloc(1, sizeof *link);
    atomic_init(&link->references, 1);
    uv_mutex_init(&link->lock);
    link->main = main;
    link->to_main = xmalloc(sizeof *link->to_main);
    uv_async_init(main->loop, link->to_main, on_requests);
    link->to_main->data = link;
    uv_unref((uv_handle_t *)link->to_main); /* the services keep the loop going */
    return link;
}

void remote_link_free(struct remote_link *link)
{
    if (link == NULL)
        return;
    on_requests(link->to_main); /* what came before the worker ended */
    handle_close((uv_handle_t *)link->to_main);
    link_release(link);
}

/* ---- the worker's side ---- */

static void deliver_reply(struct remote_request *request)
{
    struct task *caller = request->caller;
    if (caller == NULL) {
        request_release(request);
        return;
    }
    request->caller = NULL;
    caller->wait_data = NULL;
    lua_State *thread = caller->thread;
    struct message *results = request->results;
    request->results = NULL;
    bool failed = request->failed;
    request_release(request);
    struct wippy_error error;
    vm_unlimited_begin(caller->vm);
    int rc = lua_checkstack(thread, 3) ? message_push(thread, results, &error)
                                       : (message_free(results), error_set(&error, WIPPY_ENOMEM, "out of Lua stack space"));
    vm_unlimited_end(caller->vm);
    if (rc < 0) {
        lua_pushboolean(thread, 0);
        lua_pushstring(thread, error.message);
    } else {
        lua_pushboolean(thread, !failed);
        lua_insert(thread, -2);
    }
    task_wake(caller, 2);
}

static void on_replies(uv_async_t *handle)
{
    struct remote_link *link = handle->data;
    uv_mutex_lock(&link->lock);
    struct remote_request *replies = link->replies_head;
    link->replies_head = link->replies_tail = NULL;
    uv_mutex_unlock(&link->lock);
    while (replies != NULL) {
        struct remote_request *request = replies;
        replies = request->next;
        deliver_reply(request);
    }
}

void remote_link_attach(struct remote_link *link, struct vm *worker)
{
    link->worker = worker;
    link->to_worker = xmalloc(sizeof *link->to_worker);
    uv_async_init(worker->loop, link->to_worker, on_replies);
    link->to_worker->data = link;
    worker->remote = link;
}

void remote_link_detach(struct remote_link *link)
{
    uv_mutex_lock(&link->lock);
    link->detached = true;
    struct remote_request *replies = link->replies_head;
    link->replies_head = link->replies_tail = NULL;
    uv_mutex_unlock(&link->lock);
    while (replies != NULL) {
        struct remote_request *request = replies;
        replies = request->next;
        request_release(request);
    }
    link->worker->remote = NULL;
    handle_close((uv_handle_t *)link->to_worker);
}

bool remote_is_worker(lua_State *L)
{
    return vm_of(L)->remote != NULL;
}

/* The caller's task went away while it waited (killed, or its VM ending):
 * the main VM is told, and ends the call if it still runs. */
static void cancel_remote(struct task *task)
{
    struct remote_request *request = task->wait_data;
    if (request == NULL)
        return;
    request->caller = NULL;
    atomic_store(&request->cancelled, true);
    struct remote_link *link = request->link;
    atomic_fetch_add_explicit(&request->references, 1, memory_order_relaxed); /* the cancellation's */
    uv_mutex_lock(&link->lock);
    request->next_cancel = link->cancels;
    link->cancels = request;
    uv_async_send(link->to_main);
    uv_mutex_unlock(&link->lock);
    request_release(request); /* the caller's side: a reply that comes is dropped */
}

static int remote_resumed(lua_State *L, int status, lua_KContext context)
{
    (void)status;
    (void)context;
    bool ok = lua_toboolean(L, -2);
    if (!ok)
        return lua_error(L);
    lua_getfield(L, -1, "n");
    int n = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    int results = lua_gettop(L);
    luaL_checkstack(L, n + 1, "too many results");
    for (int i = 1; i <= n; i++)
        lua_rawgeti(L, results, i);
    return n;
}

int remote_call(lua_State *L, const char *module, lua_CFunction function, struct remote_prefix *prefix)
{
    struct task *task = task_current(L);
    struct vm *vm = task->vm;
    struct remote_link *link = vm->remote;
    if (!lua_isyieldable(L) && prefix != NULL)
        prefix->free(prefix->data);
    task_check_can_block(L, task, "a call to the main scheduler thread");
    int count = lua_gettop(L);
    lua_createtable(L, count, 1);
    for (int i = 1; i <= count; i++) {
        lua_pushvalue(L, i);
        lua_rawseti(L, -2, i);
    }
    lua_pushinteger(L, count);
    lua_setfield(L, -2, "n");
    struct wippy_error error;
    message_cross_thread_begin();
    struct message *arguments = message_take(L, -1, 0, &error);
    message_cross_thread_end();
    lua_pop(L, 1);
    if (arguments == NULL) {
        if (prefix != NULL)
            prefix->free(prefix->data);
        return luaL_error(L, "%s", error.message);
    }
    struct remote_request *request = xcalloc(1, sizeof *request);
    atomic_init(&request->references, 2);
    atomic_init(&request->cancelled, false);
    request->link = link;
    atomic_fetch_add_explicit(&link->references, 1, memory_order_relaxed);
    request->module = module;
    request->function = function;
    if (prefix != NULL)
        request->prefix = *prefix;
    request->arguments = arguments;
    request->frame = frame_retain(task->frame);
    request->entry = task->entry;
    request->call_depth = task->call_depth;
    request->guest = task->guest;
    request->caller = task;
    uv_mutex_lock(&link->lock);
    append(&link->requests_head, &link->requests_tail, request);
    uv_async_send(link->to_main);
    uv_mutex_unlock(&link->lock);
    return task_wait(L, task, cancel_remote, request, remote_resumed, 0);
}

static int forward(lua_State *L)
{
    const luaL_Reg *function = lua_touserdata(L, lua_upvalueindex(1));
    const char *module = lua_touserdata(L, lua_upvalueindex(2));
    return remote_call(L, module, function->func, NULL);
}

void remote_push_function(lua_State *L, const char *module, const luaL_Reg *function)
{
    lua_pushlightuserdata(L, (void *)function);
    lua_pushlightuserdata(L, (void *)module);
    lua_pushcclosure(L, forward, 2);
}

void remote_set_functions(lua_State *L, const char *module, const luaL_Reg *functions)
{
    for (const luaL_Reg *function = functions; function->name != NULL; function++) {
        remote_push_function(L, module, function);
        lua_setfield(L, -2, function->name);
    }
}
