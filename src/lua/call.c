/* call.c - function calls as child tasks. */
#include "lua/error_values.h"
#include "lua/call.h"

#include <lauxlib.h>
#include <stdlib.h>

#include "vm/heap.h"
#include "vm/transfer.h"
#include "lua/guard.h"
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

int call_function(lua_State *L, const char *function_id, int first_argument,
                      const struct edge_options *options)
{
    struct task *task = task_current(L);
    struct vm *vm = task->vm;
    /* before the lookup: a refused caller learns nothing of what exists */
    if (!guard_allows(L, ACTION_FUNCS_CALL, function_id))
        return guard_refuse(L, "not allowed: %s", function_id);
    const struct entry *entry = registry_find(vm->registry, function_id);
    if (entry == NULL || entry->kind != ENTRY_FUNCTION_LUA) {
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "function \"%s\" not found", function_id);
    }
    struct wippy_error refused;
    if (options != NULL && edge_check_network_exists(vm, options, &refused) < 0) {
        return error_value_fail(L, &refused);
    }
    if (task->call_depth >= vm->config->max_call_depth) {
        return error_value_fail_with(L, ERROR_KIND_INVALID, "funcs.call %s: nested more than %d calls deep (funcs.max_depth)", function_id,
                        (int)vm->config->max_call_depth);
    }
    task_check_can_block(L, task, "funcs.call");

    int last = lua_gettop(L);
    int argument_count = last >= first_argument ? last - first_argument + 1 : 0;
    luaL_checkstack(L, argument_count + 4, "too many arguments");
    for (int i = 0; i < argument_count; i++)
        transfer_value_or_raise(L, first_argument + i, L);

    struct frame_changes changes;
    if (options != NULL)
        changes = edge_options_changes(options);
    struct frame *frame = frame_inherit(task->frame, options != NULL ? &changes : NULL);
    struct task *call = xcalloc(1, sizeof *call);
    call->on_finish = on_call_finish;
    call->dispose = dispose_call;
    call->finish_data = task;
    call->process = task->process;
    call->account = task->account;
    call->guest = task->guest || (options != NULL && (options->actor != NULL || options->scope != NULL));
    call->call_depth = task->call_depth + 1;
    struct wippy_error error;
    int rc = task_start(task->heap, call, TASK_CALL, entry, frame, L, argument_count, &error);
    frame_release(frame);
    if (rc < 0) {
        free(call);
        return error_value_fail(L, &error);
    }
    return task_wait(L, task, cancel_call, call, NULL, 0);
}
