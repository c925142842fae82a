/* process_elsewhere.c - see process_elsewhere.h. */
#include "vm/process_elsewhere.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"
#include "vm/core.h"
#include "vm/directory.h"
#include "vm/heap.h"
#include "vm/mailbox.h"
#include "vm/message.h"
#include "vm/process.h"

struct end_post {
    struct vm_post post; /* first */
    uint64_t number;     /* who is told */
    uint64_t ended;      /* who ended */
    char *pid;           /* its pid */
    bool as_monitor;
    bool as_link;
    bool failed;
    char *reason;            /* its error's text, when failed */
    struct message *value;   /* its result, or NULL */
    int value_reference;     /* once taken by the watcher's heap (a registry reference) */
    char *value_refused;     /* why its result could not be passed, or NULL */
    atomic_size_t *counted;  /* where the value's bytes are counted while it travels, or NULL */
    size_t bytes;
};

static void free_end(struct end_post *end)
{
    if (end->value != NULL)
        message_free(end->value);
    heap_release_in_transit(end->counted, end->bytes);
    free(end->pid);
    free(end->reason);
    free(end->value_refused);
    free(end);
}

static void drop_end(struct vm_post *post)
{
    free_end((struct end_post *)post);
}

/* Pushes {kind, from, result = {value | error}} onto L (the value taken:
 * a second event gets none). */
static void push_event(lua_State *L, struct end_post *end, const char *kind)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, end->pid);
    lua_setfield(L, -2, "from");
    lua_createtable(L, 0, 2);
    if (end->failed) {
        lua_pushstring(L, end->reason);
        lua_setfield(L, -2, "error");
    } else if (end->value_refused != NULL) {
        lua_pushfstring(L, "result could not be passed: %s", end->value_refused);
        lua_setfield(L, -2, "value");
    } else if (end->value_reference != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, end->value_reference);
        luaL_unref(L, LUA_REGISTRYINDEX, end->value_reference);
        end->value_reference = LUA_NOREF;
        lua_setfield(L, -2, "value");
    }
    lua_setfield(L, -2, "result");
}

/* The result is the watcher's to keep: its account pays, within half its
 * limit (as for a message); what does not fit is told instead. */
static void take_value(struct vm *vm, lua_State *L, struct process *watcher, struct end_post *end)
{
    if (end->value == NULL)
        return;
    struct wippy_error error;
    struct message *value = end->value;
    end->value = NULL;
    struct heap_account *charged = heap_charge_begin(vm, watcher->account);
    vm->copying_message = true;
    vm->bounded++; /* its limit holds here, outside any task */
    int rc = message_push(L, value, &error);
    vm->bounded--;
    vm->copying_message = false;
    heap_charge_end(vm, charged);
    if (rc == WIPPY_OK) {
        end->value_reference = luaL_ref(L, LUA_REGISTRYINDEX);
        return;
    }
    end->value_refused = xstrdup(error.message);
}

static void run_end(struct vm *vm, struct vm_post *post)
{
    struct end_post *end = (struct end_post *)post;
    struct process *process = process_find_number(vm, end->number);
    if (process == NULL || vm->stopping) {
        free_end(end);
        return;
    }
    lua_State *L = process->task.heap->lua;
    if (end->as_monitor) {
        take_value(vm, L, process, end);
        vm_unlimited_begin(vm); /* events are bounded by the processes watched */
        push_event(L, end, PROCESS_EVENT_EXIT);
        vm_unlimited_end(vm);
        process_deliver_event(L, process);
    }
    if (end->as_link) {
        if (end->failed && process->trap_links) {
            vm_unlimited_begin(vm);
            push_event(L, end, PROCESS_EVENT_LINK_DOWN);
            vm_unlimited_end(vm);
            process_deliver_event(L, process);
        } else if (end->failed) {
            char *why = xasprintf("linked process %s failed: %s", end->pid, end->reason);
            task_kill(&process->task, why);
            free(why);
        }
    }
    free_end(end);
}

bool elsewhere_tell_end(struct vm *vm, uint64_t number, const struct process *ended, bool as_monitor,
                        bool as_link, int status, int result_count)
{
    struct vm_mailbox *home = NULL;
    if (directory_find(vm->directory, number, NULL, vm->mailbox, &home) != NULL || home == NULL)
        return false; /* not of another VM: a live one of this VM is told there */
    struct end_post *end = xcalloc(1, sizeof *end);
    end->post = (struct vm_post){.run = run_end, .drop = drop_end};
    end->value_reference = LUA_NOREF;
    end->number = number;
    end->ended = ended->number;
    end->pid = xstrdup(ended->pid);
    end->as_monitor = as_monitor;
    end->as_link = as_link;
    end->failed = status != LUA_OK;
    lua_State *thread = ended->task.thread;
    if (end->failed) {
        const char *reason = lua_tostring(thread, -1);
        end->reason = xstrdup(reason != NULL ? reason : "error");
    } else if (result_count > 0 && as_monitor) {
        struct wippy_error error;
        vm_unlimited_begin(vm);
        end->value = message_take(thread, -result_count, 0, &error);
        vm_unlimited_end(vm);
        if (end->value != NULL && !heap_reserve_in_transit(vm, message_held_bytes(end->value))) {
            message_free(end->value);
            end->value = NULL;
            error_set(&error, WIPPY_ENOMEM, "not enough memory");
        } else if (end->value != NULL) {
            end->counted = vm->all_heap_bytes;
            end->bytes = message_held_bytes(end->value);
        }
        if (end->value == NULL)
            end->value_refused = xstrdup(error.message);
    }
    vm_mailbox_post(home, &end->post);
    vm_mailbox_release(home);
    return true;
}
