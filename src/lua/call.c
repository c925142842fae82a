/* call.c - function calls as child tasks. */
#include "lua/error_values.h"
#include "lua/call.h"

#include <lauxlib.h>
#include <stdlib.h>

#include "vm/channel.h"
#include "vm/heap.h"
#include "vm/directory.h"
#include "vm/process.h"
#include "vm/remote.h"
#include "vm/state.h"
#include "vm/transfer.h"
#include "lua/guard.h"
#include "lua/modules.h"
#include "util/memory.h"

static void on_call_finish(struct task *call, int status, int result_count)
{
    struct task *caller = call->finish_data;
    if (caller == NULL)
        return; /* the caller is gone */
    lua_State *thread = call->thread;
    lua_State *target = caller->thread;
    struct wippy_error error;
    /* the results are the caller's: its account pays (its limit is met at
     * its next allocation, where it can fail alone) */
    struct heap_account *charged =
        heap_charge_begin(caller->vm, caller->account != NULL ? caller->account : caller->vm->runtime_account);
    if (status != LUA_OK) {
        /* an error object the callee raised reaches the caller as it is
         * (its kind kept); any other error becomes one of unknown kind */
        lua_pushnil(target);
        int raised = call->raised_shared ? -2 : -1; /* below its text (vm/task.c) */
        if (!error_value_is(thread, raised) || transfer_value(thread, raised, target, &error) < 0) {
            size_t length = 0;
            const char *text = luaL_tolstring(thread, -1, &length);
            error_value_push_bytes(target, ERROR_KIND_UNKNOWN, -1, text, length);
            lua_pop(thread, 1);
        }
    } else {
        int base = lua_gettop(thread) - result_count;
        for (int i = 1; i <= 2; i++) {
            if (i > result_count) {
                lua_pushnil(target);
            } else if (transfer_value(thread, base + i, target, &error) < 0) {
                lua_settop(target, lua_gettop(target) - (i - 1));
                lua_pushnil(target);
                lua_pushfstring(target, "function %s returned a value that cannot be passed: %s",
                                call->entry->id, error.message);
                error_value_from_top(target, ERROR_KIND_INVALID);
                break;
            }
        }
    }
    heap_charge_end(caller->vm, charged);
    task_wake(caller, 2);
}

static void dispose_call(struct task *call)
{
    free(call);
}

static void cancel_call(struct task *caller)
{
    struct task *call = caller->wait_data;
    call->finish_data = NULL;
    task_kill(call, "the caller ended");
}

/* The body of a call to a process entry with meta.default_host (as Go
 * Wippy's process functions): the process starts there with the call's
 * arguments and frame, and its result is the call's. */
static int spawn_process_entry(lua_State *L, const struct entry *entry)
{
    struct task *task = task_current(L);
    struct vm *vm = task->vm;
    const struct entry *host = registry_find(vm->registry, entry->as.lua.default_host_id);
    struct process *child = NULL;
    struct wippy_error error;
    if (process_spawn(vm, entry, host, task->frame, L, lua_gettop(L), 0, &child, &error) < 0)
        return error_value_fail(L, &error);
    child->task.call_depth = task->call_depth; /* its calls count on from this one (funcs.max_depth) */
    child->exec_waiter = task;
    return task_wait(L, task, process_exec_cancel, child, NULL, 0);
}

/* On the loop the process was placed on: the entry comes first. */
static int spawn_placed_process_entry(lua_State *L)
{
    const struct entry *entry = lua_touserdata(L, 1);
    lua_remove(L, 1);
    return spawn_process_entry(L, entry);
}

static void push_entry_pointer(lua_State *L, void *entry)
{
    lua_pushlightuserdata(L, entry);
}

static void keep_entry(void *entry)
{
    (void)entry; /* the registry's */
}

static int run_process_entry(lua_State *L)
{
    const struct entry *entry = lua_touserdata(L, lua_upvalueindex(1));
    struct task *task = task_current(L);
    struct vm_mailbox *place = task->vm->config->threads > 1 && !remote_is_proxy(task) && lua_isyieldable(L)
                                   ? directory_place(task->vm->directory, task->vm->mailbox)
                                   : NULL;
    if (place != NULL) { /* placed on another loop (vm/directory.h): made there, as this process */
        struct remote_prefix prefix = {(void *)entry, push_entry_pointer, keep_entry};
        return remote_call_as_process(L, place, "funcs", NULL, spawn_placed_process_entry, &prefix);
    }
    return spawn_process_entry(L, entry);
}

/* Checks a call and makes its task (not started): pushes nothing and
 * returns NULL with the failure already pushed for Lua (*pushed results)
 * when refused. */
static struct task *prepare_call(lua_State *L, const char *function_id, int first_argument,
                                 const struct edge_options *options, const char *what, int *pushed,
                                 const struct entry **entry_out, int *argument_count_out, struct frame **frame_out)
{
    struct task *task = task_current(L);
    struct vm *vm = task->vm;
    /* before the lookup: a refused caller learns nothing of what exists */
    if (!guard_allows(L, ACTION_FUNCS_CALL, function_id)) {
        *pushed = guard_refuse(L, "not allowed: %s", function_id);
        return NULL;
    }
    const struct entry *entry = registry_find(vm->registry, function_id);
    bool process_function = entry != NULL && entry->kind == ENTRY_PROCESS_LUA && entry->as.lua.default_host_id != NULL;
    if (entry == NULL || (entry->kind != ENTRY_FUNCTION_LUA && !process_function)) {
        *pushed = error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "function \"%s\" not found", function_id);
        return NULL;
    }
    struct wippy_error refused;
    if (options != NULL && edge_check_network_exists(vm, options, &refused) < 0) {
        *pushed = error_value_fail(L, &refused);
        return NULL;
    }
    if (task->call_depth >= vm->config->max_call_depth) {
        *pushed = error_value_fail_with(L, ERROR_KIND_INVALID, "%s %s: nested more than %d calls deep (funcs.max_depth)",
                                        what, function_id, (int)vm->config->max_call_depth);
        return NULL;
    }

    int last = lua_gettop(L);
    int argument_count = last >= first_argument ? last - first_argument + 1 : 0;
    luaL_checkstack(L, argument_count + 4, "too many arguments");
    for (int i = 0; i < argument_count; i++)
        transfer_value_or_raise(L, first_argument + i, L);

    struct frame_changes changes;
    if (options != NULL)
        changes = edge_options_changes(options);
    struct task *call = xcalloc(1, sizeof *call);
    call->dispose = dispose_call;
    call->process = task->process;
    call->account = task->account;
    call->guest = task->guest || (options != NULL && (options->actor != NULL || options->scope != NULL));
    call->call_depth = task->call_depth + 1;
    *entry_out = entry;
    *argument_count_out = argument_count;
    *frame_out = frame_inherit(task->frame, options != NULL ? &changes : NULL);
    return call;
}

/* Starts a prepared call in the caller's heap: 0, or (the call freed) the
 * count of the failure pushed for Lua. */
static int start_prepared(lua_State *L, struct task *task, struct task *call, const struct entry *entry,
                          struct frame *frame, int argument_count)
{
    struct wippy_error error;
    int rc;
    if (entry->kind == ENTRY_PROCESS_LUA) {
        lua_pushlightuserdata(L, (void *)entry);
        lua_pushcclosure(L, run_process_entry, 1);
        lua_insert(L, -argument_count - 1);
        rc = task_start_function(task, call, TASK_CALL, L, argument_count, &error);
        if (rc == WIPPY_OK) { /* the call's own frame (with_context, with_actor...) */
            frame_release(call->frame);
            call->frame = frame_retain(frame);
        }
    } else {
        rc = task_start(task->heap, call, TASK_CALL, entry, frame, L, argument_count, &error);
    }
    frame_release(frame);
    if (rc < 0) {
        free(call);
        return error_value_fail(L, &error);
    }
    return 0;
}

int call_function(lua_State *L, const char *function_id, int first_argument,
                      const struct edge_options *options)
{
    struct task *task = task_current(L);
    task_check_can_block(L, task, "funcs.call");
    int pushed = 0, argument_count;
    const struct entry *entry;
    struct frame *frame;
    struct task *call = prepare_call(L, function_id, first_argument, options, "funcs.call", &pushed, &entry,
                                     &argument_count, &frame);
    if (call == NULL)
        return pushed;
    call->on_finish = on_call_finish;
    call->finish_data = task;
    int failed = start_prepared(L, task, call, entry, frame, argument_count);
    if (failed)
        return failed;
    return task_wait(L, task, cancel_call, call, NULL, 0);
}

/* ---- futures: funcs.async ---- */

#define FUTURE_TYPE "wippy.future"

/* The userdata: its channel (capacity 1) is user value 1, the result (a
 * payload, a table of them, or an error) user value 2. */
struct future {
    struct task *call;  /* running, or NULL */
    int self_reference; /* keeps the userdata while the call runs */
    bool complete;
    bool canceled;
    bool failed;
};

static void deliver_result(lua_State *L, struct task *call, int status, int result_count)
{
    lua_State *thread = call->thread;
    if (status != LUA_OK) {
        int raised = call->raised_shared ? -2 : -1;
        struct wippy_error error;
        if (!error_value_is(thread, raised) || transfer_value(thread, raised, L, &error) < 0) {
            size_t length = 0;
            const char *text = luaL_tolstring(thread, -1, &length);
            error_value_push_bytes(L, ERROR_KIND_INTERNAL, 0, text, length);
            lua_pop(thread, 1);
        }
        return;
    }
    int base = lua_gettop(thread) - result_count;
    /* (nil, err): the future fails with err, as Go Wippy's */
    struct wippy_error copy_error;
    if (result_count >= 2 && lua_isnil(thread, base + 1) && error_value_is(thread, base + 2) &&
        transfer_value(thread, base + 2, L, &copy_error) == WIPPY_OK)
        return;
    if (result_count > 1)
        lua_createtable(L, result_count, 0);
    for (int i = 1; i <= result_count; i++) {
        struct wippy_error error;
        if (transfer_value(thread, base + i, L, &error) < 0) {
            lua_pushfstring(L, "function %s returned a value that cannot be passed: %s", call->entry->id,
                            error.message);
            error_value_from_top(L, ERROR_KIND_INVALID);
            if (result_count > 1)
                lua_remove(L, -2);
            return;
        }
        payload_push(L, -1);
        lua_remove(L, -2);
        if (result_count > 1)
            lua_rawseti(L, -2, i);
    }
    if (result_count == 0)
        lua_pushnil(L);
}

static void on_async_finish(struct task *call, int status, int result_count)
{
    struct future *future = call->finish_data;
    process_remove_coroutine(call->process, call);
    if (future == NULL)
        return;
    lua_State *L = call->heap->lua;
    struct vm *vm = call->vm;
    vm_unlimited_begin(vm);
    struct heap_account *charged = heap_charge_begin(vm, call->account != NULL ? call->account : vm->runtime_account);
    lua_rawgeti(L, LUA_REGISTRYINDEX, future->self_reference);
    int index = lua_gettop(L);
    future->call = NULL;
    future->complete = true;
    if (!future->canceled) {
        deliver_result(L, call, status, result_count);
        future->failed = status != LUA_OK || error_value_is(L, -1);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, index, 2);
        lua_getiuservalue(L, index, 1);
        lua_insert(L, -2); /* no result at all: nil, as Go Wippy sends */
        channel_offer(L, -2);
        lua_pop(L, 1);
    }
    luaL_unref(L, LUA_REGISTRYINDEX, future->self_reference);
    future->self_reference = LUA_NOREF;
    lua_settop(L, index - 1);
    heap_charge_end(vm, charged);
    vm_unlimited_end(vm);
}

int call_function_async(lua_State *L, const char *function_id, int first_argument, const struct edge_options *options)
{
    struct task *task = task_current(L);
    int pushed = 0, argument_count;
    const struct entry *entry;
    struct frame *frame;
    struct task *call = prepare_call(L, function_id, first_argument, options, "funcs.async", &pushed, &entry,
                                     &argument_count, &frame);
    if (call == NULL)
        return pushed;
    struct future *future = lua_newuserdatauv(L, sizeof *future, 2);
    *future = (struct future){.self_reference = LUA_NOREF};
    luaL_setmetatable(L, FUTURE_TYPE);
    channel_push_new(L, 1);
    lua_setiuservalue(L, -2, 1);
    lua_insert(L, -(argument_count + 1)); /* below the arguments the call takes */
    call->on_finish = on_async_finish;
    call->finish_data = future;
    int failed = start_prepared(L, task, call, entry, frame, argument_count);
    if (failed)
        return failed;
    future->call = call;
    lua_pushvalue(L, -1);
    future->self_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    if (task->process != NULL) /* ended with its process, as its coroutines are */
        process_add_coroutine(task->process, call);
    return 1;
}

static struct future *check_future(lua_State *L)
{
    return luaL_checkudata(L, 1, FUTURE_TYPE);
}

static int future_response(lua_State *L)
{
    check_future(L);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static int future_is_complete(lua_State *L)
{
    lua_pushboolean(L, check_future(L)->complete);
    return 1;
}

static int future_is_canceled(lua_State *L)
{
    lua_pushboolean(L, check_future(L)->canceled);
    return 1;
}

static int future_result(lua_State *L)
{
    struct future *future = check_future(L);
    if (future->canceled) {
        lua_pushnil(L);
        error_value_push(L, ERROR_KIND_CANCELED, 0, "canceled");
        return 2;
    }
    if (!future->complete) {
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
    }
    if (future->failed) {
        lua_pushnil(L);
        lua_getiuservalue(L, 1, 2);
        return 2;
    }
    lua_getiuservalue(L, 1, 2);
    lua_pushnil(L);
    return 2;
}

static int future_error(lua_State *L)
{
    struct future *future = check_future(L);
    if (!future->complete || !future->failed || future->canceled) {
        lua_pushnil(L);
        lua_pushboolean(L, 0);
        return 2;
    }
    /* as Go Wippy: the error of an async call that failed, kind Internal */
    lua_getiuservalue(L, 1, 2);
    lua_getfield(L, -1, "kind");
    lua_insert(L, -2);
    lua_pushliteral(L, ERROR_KIND_INTERNAL);
    lua_call(L, 2, 1);
    error_value_add_context(L, -1, "async call failed");
    lua_pushboolean(L, 1);
    return 2;
}

/* Stops the call (best effort, as in Go: one that already finished keeps
 * its result) and closes the channel, so that no receiver waits for ever. */
static int future_cancel(lua_State *L)
{
    struct future *future = check_future(L);
    if (future->complete || future->canceled)
        return 0;
    future->canceled = true;
    lua_getiuservalue(L, 1, 1);
    channel_close(L, -1);
    if (future->call != NULL)
        task_kill(future->call, "canceled");
    return 0;
}

void call_register_future(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"response", future_response},
        {"channel", future_response},
        {"is_complete", future_is_complete},
        {"is_canceled", future_is_canceled},
        {"result", future_result},
        {"error", future_error},
        {"cancel", future_cancel},
        {NULL, NULL},
    };
    state_new_type(L, FUTURE_TYPE, methods, STATE_PRIVATE, NULL);
    lua_pop(L, 1);
}
