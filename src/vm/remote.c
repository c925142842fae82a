/* remote.c - see remote.h. A request travels as posts: to the target
 * VM's mailbox (the call, then a cancellation when its caller goes away),
 * and back to the caller VM's mailbox (the reply). It is counted once for
 * each side that may still read it:
 *  - the caller's side: let go exactly once, when its reply is read
 *    (deliver_reply) or dropped (the caller's VM has ended);
 *  - the target's side: let go once its reply is posted (queue_reply),
 *    also when the call itself was dropped (the target's VM has ended);
 *  - a cancellation in flight: let go once the target has read or dropped it.
 * Posts to one mailbox run in the order they came, so a call is always read
 * before its cancellation. */
#include "vm/remote.h"

#include <lauxlib.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"
#include "vm/credit.h"
#include "vm/frame.h"
#include "vm/heap.h"
#include "vm/mailbox.h"
#include "vm/message.h"
#include "vm/process.h"
#include "vm/task.h"

/* Values (arguments, or results) on their way, each its own message so
 * that nesting is counted as in a call within one thread. */
struct values {
    struct message **messages;
    int count;
    size_t bytes;          /* counted against vm.memory_limit while they travel */
    atomic_size_t *counted; /* where they are counted, or NULL */
};

struct remote_request {
    atomic_int references;
    struct vm_post call;         /* to the target: start the proxy */
    struct vm_post cancel;       /* to the target: the caller went away */
    struct vm_post reply;        /* to the caller */
    struct vm_mailbox *target;   /* counted: where the call runs */
    struct vm_mailbox *home;     /* counted: the caller's VM */
    const char *module;          /* whose context the function takes (static text) */
    const char *name;            /* the function's name as Lua code calls it, or NULL */
    lua_CFunction function;
    struct remote_prefix prefix; /* data NULL when none: then a method of it is called */
    struct values arguments;
    struct frame *frame;
    const struct entry *entry;
    int call_depth;
    bool guest;
    struct process_card *acting; /* the caller's process, or NULL: who the call is made for */
    struct heap_account *payer;  /* pays for the arguments until the reply (the caller's loop's) */
    size_t paid;
    atomic_bool cancelled;       /* the caller went away */
    struct task *caller;         /* the caller's thread only; NULL once it went away */
    struct task *proxy;          /* the target's thread only: the task running it */
    /* written on the target's thread before the reply is posted */
    bool failed;                 /* results hold one value: what was raised */
    bool not_run;                /* the target's VM had ended: results hold nothing */
    struct values results;
};

struct proxy_task {
    struct task task; /* first: a struct task * of a proxy is one */
    struct remote_request *request;
};

/* ---- values on their way ---- */

static void values_free(struct values *values)
{
    for (int i = 0; i < values->count; i++)
        message_free(values->messages[i]);
    free(values->messages);
    heap_release_in_transit(values->counted, values->bytes);
    *values = (struct values){0};
}

struct take_call {
    int first;
    int count;
    struct values *values;
    struct vm *vm;
    bool in_transit;
    struct wippy_error error;
};

/* Run protected: takes count values from first on (stand-ins for what
 * cannot cross threads), within what vm.memory_limit leaves. */
static int take_values_protected(lua_State *L)
{
    struct take_call *call = lua_touserdata(L, 1);
    struct values *values = call->values;
    values->messages = xcalloc((size_t)call->count + 1, sizeof *values->messages);
    for (int i = 0; i < call->count; i++) {
        message_cross_thread_begin();
        struct message *message = message_take(L, call->first + i, 0, &call->error);
        message_cross_thread_end();
        if (message == NULL)
            return 0;
        values->messages[values->count++] = message;
        if (call->in_transit && !heap_reserve_in_transit(call->vm, message_held_bytes(message))) {
            error_set(&call->error, WIPPY_ENOMEM, "not enough memory");
            return 0;
        }
        if (call->in_transit)
            values->counted = call->vm->all_heap_bytes;
        values->bytes += message_held_bytes(message);
    }
    call->error.code = WIPPY_OK;
    return 0;
}

/* Takes the count values from first on of L into values, counted against
 * vm.memory_limit while they travel when in_transit (else the caller
 * charges them to someone); on failure (error set) values holds nothing.
 * Never raises. */
static int take_values(lua_State *L, int first, int count, bool in_transit, struct values *values,
                       struct wippy_error *error)
{
    *values = (struct values){0};
    struct take_call call = {first, count, values, vm_of(L), in_transit, {.code = WIPPY_ENOMEM}};
    if (!lua_checkstack(L, count + 3))
        return error_set(error, WIPPY_ENOMEM, "out of Lua stack space");
    lua_pushcfunction(L, take_values_protected);
    lua_pushlightuserdata(L, &call);
    for (int i = 0; i < count; i++)
        lua_pushvalue(L, first + i);
    call.first = 2;
    int status = lua_pcall(L, count + 1, 0, 0);
    if (status != LUA_OK) {
        error_set(&call.error, WIPPY_ENOMEM, "%s", lua_tostring(L, -1) != NULL ? lua_tostring(L, -1) : "not enough memory");
        lua_pop(L, 1);
    }
    if (call.error.code < 0) {
        values_free(values);
        *error = call.error;
        return error->code;
    }
    return WIPPY_OK;
}

/* Pushes the values onto L and frees them: their count, or (nothing
 * pushed) the error's code. Never raises. */
static int push_values(lua_State *L, struct values *values, struct wippy_error *error)
{
    struct values taken = *values;
    *values = (struct values){0};
    int pushed = 0;
    int rc = lua_checkstack(L, taken.count + 4) ? WIPPY_OK : error_set(error, WIPPY_ENOMEM, "out of Lua stack space");
    for (int i = 0; i < taken.count && rc == WIPPY_OK; i++) {
        rc = message_push(L, taken.messages[i], error);
        taken.messages[i] = NULL; /* pushed or freed */
        if (rc == WIPPY_OK)
            pushed++;
    }
    int count = taken.count;
    values_free(&taken);
    if (rc < 0) {
        lua_pop(L, pushed);
        return rc;
    }
    return count;
}

/* ---- requests ---- */

static void request_release(struct remote_request *request)
{
    if (atomic_fetch_sub_explicit(&request->references, 1, memory_order_acq_rel) != 1)
        return;
    if (request->prefix.data != NULL)
        request->prefix.free(request->prefix.data);
    values_free(&request->arguments);
    values_free(&request->results);
    frame_release(request->frame);
    process_card_free(request->acting);
    vm_mailbox_release(request->target);
    vm_mailbox_release(request->home);
    free(request);
}

/* ---- the target's side ---- */

/* Hands the reply to the caller's VM and lets go of the target's side. */
static void queue_reply(struct remote_request *request)
{
    vm_mailbox_post(request->home, &request->reply); /* dropped: the caller's VM has ended */
    request_release(request);
}

/* The reply is a failure: the text on top of L (left there). */
static void fail_with_top(lua_State *L, struct remote_request *request)
{
    struct wippy_error error;
    values_free(&request->results);
    request->failed = true;
    if (take_values(L, lua_gettop(L), 1, true, &request->results, &error) < 0) {
        lua_pushstring(L, error.message);
        take_values(L, lua_gettop(L), 1, true, &request->results, &error);
        lua_pop(L, 1);
    }
}

static void fail_with_text(lua_State *L, struct remote_request *request, const char *text)
{
    lua_pushstring(L, text);
    fail_with_top(L, request);
    lua_pop(L, 1);
}

static void on_proxy_finish(struct task *task, int status, int result_count)
{
    struct remote_request *request = ((struct proxy_task *)task)->request;
    lua_State *L = task->thread;
    request->proxy = NULL;
    struct wippy_error error;
    vm_unlimited_begin(task->vm);
    if (status == LUA_OK) {
        if (take_values(L, lua_gettop(L) - result_count + 1, result_count, true, &request->results, &error) < 0)
            fail_with_text(L, request, error.message);
    } else if (task->raised_shared && lua_checkstack(L, 1)) {
        lua_pushvalue(L, -2); /* the error object the function raised, below its text */
        fail_with_top(L, request);
        lua_pop(L, 1);
    } else {
        fail_with_top(L, request);
    }
    vm_unlimited_end(task->vm);
    queue_reply(request);
}

static void dispose_proxy(struct task *task)
{
    process_free_stand_in(task->process);
    free(task);
}

bool remote_is_proxy(const struct task *task)
{
    return task->dispose == dispose_proxy;
}

static int proxy_body_done(lua_State *L, int status, lua_KContext context)
{
    (void)status;
    (void)context;
    return lua_gettop(L);
}

/* Where the caller stub below puts an error its function raises with
 * luaL_error: the caller's VM puts its caller's position there instead. */
#define CALLER_STUB_WHERE "wippy-remote:1: "

/* A Lua function that calls the function by its name, as Lua code names
 * it (t.send(...), or spawner:spawn(...)), so that an argument error reads
 * as in a call on the target VM, its position CALLER_STUB_WHERE. Made once
 * per name and kept. */
static void push_caller(lua_State *L, const char *name, bool method)
{
    lua_pushfstring(L, "wippy.remote.%s%s", method ? ":" : ".", name);
    if (lua_rawget(L, LUA_REGISTRYINDEX) == LUA_TFUNCTION)
        return;
    lua_pop(L, 1);
    const char *code = lua_pushfstring(L, method ? "return function(o, ...) return o:%s(...) end"
                                                 : "return function(t, ...) return t.%s(...) end", name);
    if (luaL_loadbuffer(L, code, strlen(code), "=wippy-remote") != LUA_OK)
        lua_error(L);
    lua_remove(L, -2);
    lua_call(L, 0, 1);
    lua_pushfstring(L, "wippy.remote.%s%s", method ? ":" : ".", name);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

/* The proxy task's body: the function, with the prefix and the arguments;
 * by its name when it has one (a method of the prefix's value, or a field
 * of a table), else called as it is. */
static int proxy_body(lua_State *L)
{
    struct remote_request *request = lua_touserdata(L, 1);
    lua_settop(L, 0);
    void *context = NULL;
    const struct vm *vm = vm_of(L);
    for (size_t i = 0; i < vm->module_count; i++)
        if (strcmp(vm->modules[i].name, request->module) == 0)
            context = vm->modules[i].context;
    bool has_prefix = request->prefix.data != NULL;
    if (request->name != NULL) {
        push_caller(L, request->name, has_prefix);
        if (has_prefix) { /* its own method, on the target VM */
            request->prefix.push(L, request->prefix.data);
        } else {
            lua_createtable(L, 0, 1);
            lua_pushlightuserdata(L, context); /* vm_module_context */
            lua_pushcclosure(L, request->function, 1);
            lua_setfield(L, -2, request->name);
        }
    } else {
        lua_pushlightuserdata(L, context);
        lua_pushcclosure(L, request->function, 1);
        if (has_prefix)
            request->prefix.push(L, request->prefix.data);
    }
    struct wippy_error error;
    if (push_values(L, &request->arguments, &error) < 0)
        return luaL_error(L, "%s", error.message);
    lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, proxy_body_done);
    return proxy_body_done(L, LUA_OK, 0);
}

static void start_proxy(struct vm *vm, struct vm_post *post)
{
    struct remote_request *request = (struct remote_request *)((char *)post - offsetof(struct remote_request, call));
    struct proxy_task *proxy = xcalloc(1, sizeof *proxy);
    proxy->request = request;
    proxy->task.on_finish = on_proxy_finish;
    proxy->task.dispose = dispose_proxy;
    struct wippy_error error;
    bool cancelled = atomic_load(&request->cancelled);
    if (cancelled || vm->stopping ||
        task_start_native(vm->front, &proxy->task, request->entry, request->frame, proxy_body, request, &error) < 0) {
        free(proxy);
        vm_unlimited_begin(vm);
        fail_with_text(vm->lua, request, cancelled ? "the caller went away"
                                         : vm->stopping ? "runtime shutting down" : error.message);
        vm_unlimited_end(vm);
        queue_reply(request);
        return;
    }
    proxy->task.call_depth = request->call_depth;
    proxy->task.guest = request->guest;
    if (request->acting != NULL) /* made for a process of the caller's VM: it acts as that one */
        proxy->task.process = process_new_stand_in(vm, request->acting, request->home);
    request->proxy = &proxy->task;
}

/* The target's VM has ended before it read the call: the caller is told
 * so (remote_resumed gives the text). */
static void drop_call(struct vm_post *post)
{
    struct remote_request *request = (struct remote_request *)((char *)post - offsetof(struct remote_request, call));
    request->failed = true;
    request->not_run = true;
    queue_reply(request);
}

static void run_cancel(struct vm *vm, struct vm_post *post)
{
    (void)vm;
    struct remote_request *request = (struct remote_request *)((char *)post - offsetof(struct remote_request, cancel));
    if (request->proxy != NULL)
        task_kill(request->proxy, "the caller went away");
    request_release(request); /* the cancellation's */
}

static void drop_cancel(struct vm_post *post)
{
    request_release((struct remote_request *)((char *)post - offsetof(struct remote_request, cancel)));
}

/* ---- the caller's side ---- */

/* Pushed last with a reply: a coroutine whose wait was cancelled (resumed
 * where it could not block) and is resumed again by Lua code gets whatever
 * that code passes, never this, so its values are not taken for a reply. */
static char reply_marker;

static struct remote_request *request_of_reply(struct vm_post *post)
{
    return (struct remote_request *)((char *)post - offsetof(struct remote_request, reply));
}

static void deliver_reply(struct vm *vm, struct vm_post *post)
{
    struct remote_request *request = request_of_reply(post);
    struct task *caller = request->caller;
    heap_account_let_go(vm, request->payer, request->paid);
    if (caller == NULL) { /* it went away: the caller's side goes */
        request_release(request);
        return;
    }
    request->caller = NULL;
    caller->wait_data = NULL;
    lua_State *thread = caller->thread;
    bool failed = request->failed;
    struct wippy_error error;
    /* the target made these within the runtime's limit; the caller waits,
     * and keeps them: its account pays, as for a result on its own loop */
    vm_unlimited_begin(vm);
    struct heap_account *charged = heap_charge_begin(vm, caller->account != NULL ? caller->account : vm->runtime_account);
    int count = push_values(thread, &request->results, &error);
    heap_charge_end(vm, charged);
    if (count < 0 && lua_checkstack(thread, 3)) {
        lua_pushstring(thread, error.message);
        failed = true;
        count = 1;
    }
    if (count == 0 && failed && lua_checkstack(thread, 3)) { /* the reason could not travel */
        if (request->not_run)
            lua_pushliteral(thread, "runtime shutting down");
        else
            lua_pushliteral(thread, "not enough memory");
        count = 1;
    }
    vm_unlimited_end(vm);
    request_release(request); /* the caller's side */
    if (count < 0) { /* not even room for the reason: Lua's own words */
        task_kill(caller, "not enough memory");
        return;
    }
    lua_pushboolean(thread, failed);
    lua_pushinteger(thread, count);
    lua_pushlightuserdata(thread, &reply_marker);
    task_wake(caller, count + 3);
}

static void drop_reply(struct vm_post *post)
{
    struct remote_request *request = request_of_reply(post); /* its caller has ended with its VM */
    credit_drop(request->payer, request->paid);
    request_release(request);
}

bool remote_is_worker(lua_State *L)
{
    return vm_of(L)->main_mailbox != NULL;
}

/* The caller's task went away while it waited (killed, or its VM ending):
 * the target is told, and ends the call if it still runs. The reply, when
 * it comes, is dropped by deliver_reply (or with the caller's mailbox). */
static void cancel_remote(struct task *task)
{
    struct remote_request *request = task->wait_data;
    if (request == NULL)
        return;
    request->caller = NULL;
    atomic_store(&request->cancelled, true);
    atomic_fetch_add_explicit(&request->references, 1, memory_order_relaxed); /* the cancellation's */
    vm_mailbox_post(request->target, &request->cancel);
}

/* The reply has come: its values, then whether the function raised (the
 * one value is what it raised), their count and the marker. */
static int remote_resumed(lua_State *L, int status, lua_KContext context)
{
    (void)status;
    (void)context;
    int top = lua_gettop(L);
    if (top < 3 || lua_touserdata(L, -1) != &reply_marker)
        return luaL_error(L, "the call to another scheduler thread was cancelled");
    int count = (int)lua_tointeger(L, -2);
    bool failed = lua_toboolean(L, -3);
    lua_pop(L, 3);
    if (count < 0 || count > top - 3)
        return luaL_error(L, "the call to another scheduler thread was cancelled");
    if (failed) {
        size_t length;
        const char *text = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &length) : NULL;
        if (text != NULL && strncmp(text, CALLER_STUB_WHERE, strlen(CALLER_STUB_WHERE)) == 0) {
            luaL_where(L, 1); /* the position of the call, as on one thread */
            lua_pushlstring(L, text + strlen(CALLER_STUB_WHERE), length - strlen(CALLER_STUB_WHERE));
            lua_concat(L, 2);
            lua_remove(L, -2);
        }
        return lua_error(L);
    }
    return count;
}

static int call_on(lua_State *L, struct vm_mailbox *target, const char *module, const char *name,
                   lua_CFunction function, struct remote_prefix *prefix, bool as_process)
{
    struct task *task = task_current(L);
    struct vm *vm = task->vm;
    lua_Debug called;
    if (name != NULL && lua_getstack(L, 0, &called) && lua_getinfo(L, "n", &called) && called.name == NULL)
        name = NULL; /* called with no name (pcall(f)): its errors name none either */
    if (!lua_isyieldable(L)) {
        if (prefix != NULL)
            prefix->free(prefix->data);
        vm_mailbox_release(target);
    }
    task_check_can_block(L, task, "a call to another scheduler thread");
    struct values arguments;
    struct wippy_error error;
    /* the arguments are the caller's to pay for until the reply comes:
     * a process cannot hold more in calls than its limit allows */
    struct heap_account *payer = task->account != NULL ? task->account : vm->runtime_account;
    int rc = take_values(L, 1, lua_gettop(L), false, &arguments, &error);
    if (rc == WIPPY_OK && !heap_account_hold(vm, payer, arguments.bytes)) {
        values_free(&arguments);
        rc = error_set(&error, WIPPY_ENOMEM, "not enough memory");
    }
    if (rc < 0) {
        if (prefix != NULL)
            prefix->free(prefix->data);
        vm_mailbox_release(target);
        lua_pushnil(L); /* as the functions say a value cannot travel */
        vm_push_failure(vm, L, error.code, error.message, strlen(error.message));
        return 2;
    }
    /* from here on nothing raises before the task waits */
    struct remote_request *request = xcalloc(1, sizeof *request);
    atomic_init(&request->references, 2);
    atomic_init(&request->cancelled, false);
    request->call = (struct vm_post){.run = start_proxy, .drop = drop_call};
    request->cancel = (struct vm_post){.run = run_cancel, .drop = drop_cancel};
    request->reply = (struct vm_post){.run = deliver_reply, .drop = drop_reply};
    request->target = target; /* its count is the call's now */
    request->home = vm->mailbox;
    vm_mailbox_retain(vm->mailbox);
    request->module = module;
    request->name = name;
    request->function = function;
    if (prefix != NULL)
        request->prefix = *prefix;
    request->arguments = arguments;
    request->payer = payer;
    request->paid = arguments.bytes;
    request->frame = frame_retain(task->frame);
    request->entry = task->entry;
    request->call_depth = task->call_depth;
    request->guest = task->guest;
    if (as_process && task->process != NULL)
        request->acting = process_card_new(task->process);
    request->caller = task;
    vm_mailbox_post(target, &request->call);
    return task_wait(L, task, cancel_remote, request, remote_resumed, 0);
}

int remote_call_named(lua_State *L, const char *module, const char *name, lua_CFunction function,
                      struct remote_prefix *prefix)
{
    struct vm_mailbox *main = vm_of(L)->main_mailbox;
    vm_mailbox_retain(main);
    return call_on(L, main, module, name, function, prefix, false);
}

int remote_call_as_process(lua_State *L, struct vm_mailbox *target, const char *module, const char *name,
                           lua_CFunction function, struct remote_prefix *prefix)
{
    return call_on(L, target, module, name, function, prefix, true);
}

int remote_call(lua_State *L, const char *module, lua_CFunction function, struct remote_prefix *prefix)
{
    return remote_call_named(L, module, NULL, function, prefix);
}

static int forward(lua_State *L)
{
    const luaL_Reg *function = lua_touserdata(L, lua_upvalueindex(1));
    const char *module = lua_touserdata(L, lua_upvalueindex(2));
    return remote_call_named(L, module, function->name, function->func, NULL);
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
