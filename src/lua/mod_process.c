/* mod_process.c - the process module (also a global, as in Wippy): pid,
 * send, the spawn family, inbox, events, listen, monitors, links,
 * terminate, cancel, options, and spawners from with_options and
 * with_context. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"
#include "util/size.h"
#include "util/suggest.h"

#include "vm/channel.h"
#include "lua/error_values.h"
#include "lua/edge.h"
#include "lua/guard.h"
#include "lua/modules.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"
#include "lua/security_values.h"
#include "vm/transfer.h"
#include "lua/value_bridge.h"
#include "vm/directory.h"
#include "vm/mailbox.h"
#include "vm/message.h"
#include "vm/process.h"
#include "vm/send_elsewhere.h"
#include "vm/spawn_elsewhere.h"
#include "vm/remote.h"
#include "vm/heap.h"

#define SPAWNER_TYPE "wippy.spawner"

enum spawn_mode {
    SPAWN_PLAIN = 0,
    SPAWN_MONITORED = 1,
    SPAWN_LINKED = 2,
    SPAWN_EXEC = 4, /* the caller waits for the child's result */
};


/* The process whose own code runs. A function called with an actor or a
 * scope of its own runs in its caller's process under another identity:
 * reading that process's inbox or events, listening, linking, monitoring
 * or naming it would let the callee act as its caller (plant a value whose
 * metamethods the caller runs later, read its messages). */
static struct process *require_process(lua_State *L, const char *what)
{
    struct task *task = task_current(L);
    if (task->process == NULL)
        luaL_error(L, "%s can only be used inside a process", what);
    if (task->guest)
        luaL_error(L, "%s: a function called with an actor or a scope of its own cannot act as its "
                      "caller's process", what);
    return task->process;
}

static int process_pid(lua_State *L)
{
    struct process *process = task_current(L)->process;
    if (process == NULL)
        lua_pushnil(L);
    else
        lua_pushstring(L, process->pid);
    return 1;
}

static int push_failure(lua_State *L, const char *message)
{
    return error_value_fail_with(L, ERROR_KIND_INVALID, "%s", message);
}

/* The permissions a spawn needs, as Go Wippy checks them (before the
 * lookups, so a refused caller learns nothing of what exists): exec, or
 * spawn and the monitored and linked forms; then the host, which Go checks
 * for spawn and exec only and this runtime for every form. 0 when allowed,
 * else the count of values pushed. */
static int check_spawn_permissions(lua_State *L, const char *id, const char *host_id, enum spawn_mode mode)
{
    if (mode & SPAWN_EXEC) {
        if (!guard_allows(L, ACTION_PROCESS_EXEC, id))
            return guard_refuse(L, "not allowed to exec process: %s", id);
        if (!guard_allows(L, ACTION_PROCESS_HOST, host_id))
            return guard_refuse(L, "not allowed to exec on host: %s", host_id);
        return 0;
    }
    if (!guard_allows(L, ACTION_PROCESS_SPAWN, id))
        return guard_refuse(L, "not allowed to spawn process: %s", id);
    if ((mode & SPAWN_MONITORED) && !guard_allows(L, ACTION_PROCESS_SPAWN_MONITORED, id))
        return guard_refuse(L, "not allowed to spawn monitored process: %s", id);
    if ((mode & SPAWN_LINKED) && !guard_allows(L, ACTION_PROCESS_SPAWN_LINKED, id))
        return guard_refuse(L, "not allowed to spawn linked process: %s", id);
    if (!guard_allows(L, ACTION_PROCESS_HOST, host_id))
        return guard_refuse(L, "not allowed to spawn on host: %s", host_id);
    return 0;
}

/* Placement (vm/directory.h): a process spawned for another loop is
 * started there without waiting (vm/spawn_elsewhere.h), its pid left on
 * top of L: 1; 0 when it starts here; else the error's code. */
static int spawn_placed(lua_State *L, enum spawn_mode mode, struct process *child, struct frame *frame,
                        int argument_count, struct wippy_error *error)
{
    struct task *task = task_current(L);
    if (task->vm->config->threads <= 1 || remote_is_proxy(task) || (mode & SPAWN_EXEC))
        return 0;
    struct vm_mailbox *place = directory_place(task->vm->directory, task->vm->mailbox);
    if (place == NULL)
        return 0;
    uint64_t spawner = task->process != NULL ? task->process->number : 0;
    int placed = spawn_elsewhere(L, place, child, frame, argument_count, (mode & SPAWN_MONITORED) ? spawner : 0,
                                 (mode & SPAWN_LINKED) ? spawner : 0, error);
    vm_mailbox_release(place);
    return placed;
}

/* spawn*(id, host, ...) with the arguments at index first_argument of L. */
static int spawn_with(lua_State *L, int first_argument, const struct edge_options *options,
                      enum spawn_mode mode)
{
    struct task *task = task_current(L);
    struct vm *vm = task->vm;
    const char *id = luaL_checkstring(L, first_argument);
    const char *host_id = luaL_checkstring(L, first_argument + 1);
    int refused_rc = check_spawn_permissions(L, id, host_id, mode);
    if (refused_rc != 0)
        return refused_rc;
    const struct entry *entry = registry_find(vm->registry, id);
    if (entry == NULL || entry->kind != ENTRY_PROCESS_LUA) {
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "process \"%s\" not found", id);
    }
    const struct entry *host = registry_find(vm->registry, host_id);
    if (host == NULL || !entry_is_host(host)) {
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "host \"%s\" not found", host_id);
    }
    struct wippy_error refused;
    if (options != NULL && edge_check_network_exists(vm, options, &refused) < 0)
        return error_value_fail(L, &refused);
    struct process *parent = task->process;
    if ((mode & (SPAWN_MONITORED | SPAWN_LINKED)) && parent == NULL)
        return push_failure(L, "monitoring or linking needs a calling process");
    if ((mode & (SPAWN_MONITORED | SPAWN_LINKED)) && task->guest) /* as process.link refuses it */
        return luaL_error(L, "%s: a function called with an actor or a scope of its own cannot act as its "
                             "caller's process", (mode & SPAWN_LINKED) ? "process.spawn_linked"
                                                                        : "process.spawn_monitored");
    if (mode & SPAWN_EXEC)
        task_check_can_block(L, task, "process.exec");

    int last = lua_gettop(L);
    int argument_count = last - (first_argument + 1);
    if (argument_count < 0)
        argument_count = 0;
    luaL_checkstack(L, argument_count + 4, "too many arguments");
    for (int i = 0; i < argument_count; i++)
        transfer_value_or_raise(L, first_argument + 2 + i, L);

    struct frame_changes changes;
    if (options != NULL)
        changes = edge_options_changes(options);
    struct frame *frame = frame_inherit(task->frame, options != NULL ? &changes : NULL);
    struct wippy_error error;
    size_t memory_limit = options != NULL ? (size_t)options->memory_limit : 0;
    struct process *child = process_plan(vm, entry, host, memory_limit);
    int placed = spawn_placed(L, mode, child, frame, argument_count, &error);
    if (placed != 0) {
        frame_release(frame);
        if (placed < 0) {
            process_plan_abandon(child);
            lua_pop(L, argument_count);
            return error_value_fail(L, &error);
        }
        return 1; /* its pid: the child is its home's now */
    }
    int rc = process_start_here(vm, child, frame, L, argument_count, &error);
    frame_release(frame);
    if (rc < 0)
        return error_value_fail(L, &error);
    if (mode & SPAWN_MONITORED)
        directory_monitor(vm->directory, child->number, parent->number, true);
    if (mode & SPAWN_LINKED)
        if (directory_link(vm->directory, child->number, parent->number, true) < 0)
            task_kill(&child->task, "the process it was linked with has ended"); /* a spawner on another loop */
    if (mode & SPAWN_EXEC) {
        child->exec_waiter = task;
        return task_wait(L, task, process_exec_cancel, child, NULL, 0);
    }
    lua_pushstring(L, child->pid);
    return 1;
}

static int process_exec(lua_State *L);

/* Exec waits for its child wherever it runs: made on the loop its child
 * is placed on, as this process, and the result is returned; -1 when it is
 * made here. */
static int exec_placed(lua_State *L)
{
    struct task *task = task_current(L);
    if (task->vm->config->threads <= 1 || remote_is_proxy(task) || !lua_isyieldable(L))
        return -1; /* where it cannot wait (a comparator, a metamethod) it runs here */
    struct vm_mailbox *place = directory_place(task->vm->directory, task->vm->mailbox);
    if (place == NULL)
        return -1;
    return remote_call_as_process(L, place, "process", "exec", process_exec, NULL);
}

static int process_spawn_lua(lua_State *L)
{
    return spawn_with(L, 1, NULL, SPAWN_PLAIN);
}

static int process_spawn_monitored(lua_State *L)
{
    return spawn_with(L, 1, NULL, SPAWN_MONITORED);
}

static int process_spawn_linked(lua_State *L)
{
    return spawn_with(L, 1, NULL, SPAWN_LINKED);
}

static int process_spawn_linked_monitored(lua_State *L)
{
    return spawn_with(L, 1, NULL, SPAWN_LINKED | SPAWN_MONITORED);
}

static int process_exec(lua_State *L)
{
    int placed = exec_placed(L);
    if (placed >= 0)
        return placed;
    return spawn_with(L, 1, NULL, SPAWN_EXEC);
}

/* process.id(): the registry id of the entry running, as Go Wippy's frame id. */
static int process_id(lua_State *L)
{
    lua_pushstring(L, task_current(L)->entry->id);
    return 1;
}

/* Go Wippy's registry scopes. One runtime is a cluster of one: every scope
 * names the same local table here. */
enum { REGISTRY_LOCAL = 0, REGISTRY_CONSISTENT = 1, REGISTRY_EVENTUAL = 2, REGISTRY_STRONG = 3 };

static int registry_register(lua_State *L)
{
    struct task *task = task_current(L);
    const char *name = luaL_checkstring(L, 1);
    if (!lua_isnoneornil(L, 3) && (!lua_isinteger(L, 3) || lua_tointeger(L, 3) < REGISTRY_LOCAL ||
                                   lua_tointeger(L, 3) > REGISTRY_STRONG))
        return error_value_fail_with(L, ERROR_KIND_INVALID,
                                     "scope must be a number (process.registry.LOCAL|EVENTUAL|CONSISTENT|STRONG)");
    struct process_identity target;
    if (lua_isnoneornil(L, 2)) {
        if (task->process == NULL)
            return push_failure(L, "process.registry.register needs a process");
        target.number = task->process->number;
        snprintf(target.pid, sizeof target.pid, "%s", task->process->pid);
    } else if (!directory_resolve(task->vm->directory, luaL_checkstring(L, 2), &target)) {
        return push_failure(L, "process not found");
    }
    if (name[0] == '{' || name[0] == '\0')
        return push_failure(L, "names must not be empty or look like a pid");
    /* naming another process, or (from such a callee) its caller's */
    bool own = task->process != NULL && target.number == task->process->number;
    if ((!own || task->guest) && !guard_allows(L, ACTION_PROCESS_REGISTER_FOREIGN, target.pid))
        return guard_refuse(L, "not allowed to register foreign pid %s under name \"%s\"", target.pid, name);
    if (!guard_allows(L, ACTION_PROCESS_REGISTER, name))
        return guard_refuse(L, "not allowed to register name: %s", name);
    struct wippy_error error;
    if (directory_register(task->vm->directory, name, target.number, &error) < 0)
        return error.code == WIPPY_ENOENT ? push_failure(L, "process not found") : error_value_fail(L, &error);
    lua_pushboolean(L, 1);
    return 1;
}

static int registry_lookup(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    struct process_identity holder;
    if (!directory_resolve(task_current(L)->vm->directory, name, &holder))
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "name \"%s\" is not registered", name);
    lua_pushstring(L, holder.pid);
    return 1;
}

/* terminate, cancel and giving up another's name: with an actor and a scope
 * the scope decides, as in Go Wippy (on the target's pid, Go's action
 * names). Without them Go allows anything; this runtime allows the caller
 * itself and what it spawned, and strict mode nothing. A process reached by
 * a registered name is no exception. */
static bool may_stop(struct task *task, const struct process_identity *target, const char *action)
{
    const struct frame *frame = task->frame;
    if (frame->actor != NULL && frame->scope != NULL)
        return task_allows(task, action, target->pid);
    if (task->vm->config->strict_mode || task->guest) /* such a callee is not its caller */
        return false;
    const struct process *self = task->process;
    return self != NULL && (target->number == self->number || target->parent_number == self->number);
}

static void identify(const struct process *process, struct process_identity *identity)
{
    identity->number = process->number;
    identity->parent_number = process->record.parent_number;
    snprintf(identity->pid, sizeof identity->pid, "%s", process->pid);
}

/* A name is given up by its holder, by what spawned the holder, or under a
 * scope allowing process.unregister on it: otherwise anyone could free a
 * name and take it over, and messages sent to it would come to them. */
static int registry_unregister(lua_State *L)
{
    struct task *task = task_current(L);
    const char *name = luaL_checkstring(L, 1);
    struct process_identity holder;
    bool held = name[0] != '{' && directory_resolve(task->vm->directory, name, &holder);
    if (!guard_allows(L, ACTION_PROCESS_UNREGISTER, name))
        return guard_refuse(L, "not allowed to unregister name: %s", name);
    if (held && !may_stop(task, &holder, ACTION_PROCESS_UNREGISTER)) {
        return error_value_fail_with(L, ERROR_KIND_PERMISSION_DENIED, "not allowed to unregister: %s", name);
    }
    if (held) /* only if the process checked holds it still: another may have taken it since */
        directory_unregister_held(task->vm->directory, name, holder.number);
    lua_pushboolean(L, held); /* false: no process held the name (as Go Wippy) */
    return 1;
}

struct protected_copy {
    lua_State *to;
    bool fresh;
    struct wippy_error *error;
    int rc;
};

static int copy_value_protected(lua_State *L)
{
    struct protected_copy *copy = lua_touserdata(L, 1);
    if (!copy->fresh) {
        copy->rc = transfer_value(L, 2, copy->to, copy->error);
        return 0;
    }
    struct message *message = message_take(L, 2, 0, copy->error);
    copy->rc = message != NULL ? message_push(copy->to, message, copy->error) : copy->error->code;
    return 0;
}

/* Copies the value at index onto to's stack; running out of memory (the
 * receiver's limit) is an error here, not a raise past the caller's
 * bookkeeping. fresh: a copy of its own even within one heap (where a
 * transfer shares what it can), for a value nobody pays for yet. */
static int copy_for(lua_State *L, int index, lua_State *to, bool fresh, struct wippy_error *error)
{
    struct protected_copy copy = {to, fresh, error, WIPPY_OK};
    lua_pushcfunction(L, copy_value_protected);
    lua_pushlightuserdata(L, &copy);
    lua_pushvalue(L, index);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        error_set(error, WIPPY_ENOMEM, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "the copy failed");
        lua_pop(L, 1);
        return error->code;
    }
    return copy.rc;
}

/* A target that does not exist is refused as an existing one would be when
 * the caller may not act on it: a refused caller learns nothing of which
 * pids and names exist. */
static int absent_target(lua_State *L, const char *action, const char *verb, const char *destination)
{
    if (!guard_allows(L, action, destination))
        return guard_refuse(L, "not allowed to %s: %s", verb, destination);
    return guard_refuse(L, "process %s not found", destination);
}

static struct process *find_target(lua_State *L, int index, const char *name, lua_CFunction self, int *forwarded);

static int process_send(lua_State *L);

/* A process of another loop is sent to without waiting for it, unless its
 * sender has too many messages on their way (vm/send_elsewhere.h). */
static int send_to_another_loop(lua_State *L, struct vm_mailbox *elsewhere, const struct process_identity *to,
                                const char *topic)
{
    struct wippy_error error;
    int sent = send_elsewhere(L, 3, elsewhere, to, topic, &error);
    if (sent == 0) /* the call takes over the count */
        return remote_call_as_process(L, elsewhere, "process", "send", process_send, NULL);
    vm_mailbox_release(elsewhere);
    if (sent < 0 && error.code != WIPPY_ENOMEM) /* a value that cannot cross */
        return error_value_fail(L, &error);
    if (sent < 0)
        return error_value_fail_with(L, ERROR_KIND_UNAVAILABLE, "%s", error.message);
    lua_pushboolean(L, 1);
    return 1;
}

static int process_send(lua_State *L)
{
    struct task *task = task_current(L);
    const char *destination = luaL_checkstring(L, 1);
    const char *topic = luaL_checkstring(L, 2);
    lua_settop(L, 3);
    if (topic[0] == '@')
        return push_failure(L, "topics starting with @ are reserved");
    struct process_identity elsewhere_identity;
    struct vm_mailbox *elsewhere = NULL;
    struct process *target = process_locate(task->vm, destination, &elsewhere_identity, &elsewhere);
    if (elsewhere != NULL && remote_is_proxy(task)) { /* a call made there does not move on again */
        vm_mailbox_release(elsewhere);
        elsewhere = NULL;
    }
    if (target == NULL && elsewhere == NULL)
        return absent_target(L, ACTION_PROCESS_SEND, "send", destination);
    if (!guard_allows(L, ACTION_PROCESS_SEND, target != NULL ? target->pid : elsewhere_identity.pid)) {
        vm_mailbox_release(elsewhere);
        return guard_refuse(L, "not allowed to send: %s", destination);
    }
    if (elsewhere != NULL)
        return send_to_another_loop(L, elsewhere, &elsewhere_identity, topic);
    lua_State *main = target->task.heap->lua;
    struct wippy_error error;
    /* the copy is the receiver's: it pays for it, within its limit */
    struct heap_account *charged = heap_charge_begin(task->vm, target->account);
    /* messages may take half its limit: the other half stays its own */
    task->vm->copying_message = true;
    /* made for a process of another loop, the payload here is the call's
     * own copy, which nobody pays for: the receiver pays for one of its own */
    int rc = copy_for(L, 3, main, remote_is_proxy(task), &error);
    enum process_delivery delivery =
        rc == WIPPY_OK ? process_deliver(main, target, topic, task->process != NULL ? task->process->pid : NULL)
                       : PROCESS_DELIVERY_NO_MEMORY;
    task->vm->copying_message = false;
    heap_charge_end(task->vm, charged);
    if (rc < 0 && error.code != WIPPY_ENOMEM) /* a value that cannot cross */
        return error_value_fail(L, &error);
    if (rc < 0) { /* the receiver cannot pay for the copy */
        return error_value_fail_with(L, ERROR_KIND_UNAVAILABLE, "process %s: %s; the message was not delivered",
                                     target->pid, error.message);
    }
    if (delivery == PROCESS_DELIVERY_NO_MEMORY) {
        return error_value_fail_with(L, ERROR_KIND_UNAVAILABLE, "process %s: it has no memory left for the "
                                     "message (its memory limit); the message was not delivered", target->pid);
    }
    if (delivery != PROCESS_DELIVERED) {
        return error_value_fail_with(L, ERROR_KIND_UNAVAILABLE,
                                     "process %s: its inbox (or the channel listening for %s) is full or closed; "
                                     "the message was not delivered", target->pid, topic);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int process_inbox(lua_State *L)
{
    process_take_inbox(L, require_process(L, "process.inbox"));
    return 1;
}

static int process_events(lua_State *L)
{
    process_push_events(L, require_process(L, "process.events"));
    return 1;
}

static int process_listen(lua_State *L)
{
    struct process *process = require_process(L, "process.listen");
    const char *topic = luaL_checkstring(L, 1);
    if (topic[0] == '@')
        return push_failure(L, "topics starting with @ are reserved");
    bool as_message = false;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "message");
        as_message = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    if (process->listeners_reference == LUA_NOREF) {
        lua_newtable(L);
        process->listeners_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, process->listeners_reference);
    if (lua_getfield(L, -1, topic) == LUA_TTABLE) { /* listening already: the same channel (as Go Wippy) */
        lua_getfield(L, -1, "channel");
        return 1;
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    channel_push_new(L, CHANNEL_UNBOUNDED);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "channel");
    lua_insert(L, -2);
    lua_pushboolean(L, as_message);
    lua_setfield(L, -2, "message");
    lua_setfield(L, -3, topic);
    process_hand_waiting(L, process, topic, as_message);
    return 1;
}

/* upgrade([id], ...): the process's code ends and id's (its own when
 * none) starts in its place with the arguments; it does not return. Any
 * entry but its own needs the right to spawn it. */
static int process_upgrade_lua(lua_State *L)
{
    struct process *process = require_process(L, "process.upgrade");
    struct task *task = task_current(L);
    if (task != &process->task)
        return push_failure(L, "process.upgrade: only the process's own code may upgrade it (not a "
                               "coroutine or a function it started)");
    /* inside a coroutine of its own, the block could be refused after the
     * upgrade was set; a library's top level is not the process's code */
    if (L != task->thread || task->entry != process->entry)
        return push_failure(L, "process.upgrade: call it from the process's own code, not inside a coroutine "
                               "or while a library loads");
    const struct entry *entry = process->entry;
    const char *id = lua_isnoneornil(L, 1) ? "" : luaL_checkstring(L, 1);
    if (id[0] != '\0') {
        if (!guard_allows(L, ACTION_PROCESS_SPAWN, id))
            return guard_refuse(L, "not allowed to upgrade to process: %s", id);
        entry = registry_find(task->vm->registry, id);
        if (entry == NULL || entry->kind != ENTRY_PROCESS_LUA)
            return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "process \"%s\" not found", id);
    }
    task_check_can_block(L, task, "process.upgrade");
    int argument_count = lua_gettop(L) > 1 ? lua_gettop(L) - 1 : 0;
    luaL_checkstack(L, argument_count + 4, "too many arguments");
    for (int i = 0; i < argument_count; i++)
        transfer_value_or_raise(L, 2 + i, L);
    process_upgrade(L, process, entry, argument_count);
    return task_wait(L, task, NULL, NULL, NULL, 0);
}

static int process_unlisten(lua_State *L)
{
    struct process *process = require_process(L, "process.unlisten");
    channel_check(L, 1);
    if (process->listeners_reference == LUA_NOREF)
        return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, process->listeners_reference);
    int listeners = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, listeners) != 0) {
        lua_getfield(L, -1, "channel");
        bool same = lua_rawequal(L, -1, 1);
        lua_pop(L, 2);
        if (same) {
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, listeners);
            break;
        }
    }
    channel_close(L, 1);
    lua_pushboolean(L, 1);
    return 1;
}

/* The process the argument at index names, when it is one of this VM's
 * (or NULL: none is). When it lives on another VM, the whole call is made
 * there, as this process (vm/remote.h), and *forwarded is what to return.
 * A call made there does not move on again: a name registered meanwhile to
 * a process of a third VM reads as no process. */
static struct process *find_target(lua_State *L, int index, const char *name, lua_CFunction self, int *forwarded)
{
    struct task *task = task_current(L);
    struct vm_mailbox *elsewhere = NULL;
    struct process *target = process_locate(task->vm, luaL_checkstring(L, index), NULL, &elsewhere);
    *forwarded = -1;
    if (elsewhere == NULL)
        return target;
    if (remote_is_proxy(task)) {
        vm_mailbox_release(elsewhere);
        return NULL;
    }
    *forwarded = remote_call_as_process(L, elsewhere, "process", name, self, NULL);
    return NULL;
}

/* Monitors and links are the directory's (vm/directory.h), whichever loop
 * the target lives on: nothing of it is touched but its entry there. */
static bool resolve_target(lua_State *L, struct process_identity *target)
{
    return directory_resolve(task_current(L)->vm->directory, luaL_checkstring(L, 1), target);
}

static int process_monitor(lua_State *L)
{
    struct process *self = require_process(L, "process.monitor");
    struct process_identity target;
    if (!resolve_target(L, &target))
        return absent_target(L, ACTION_PROCESS_MONITOR, "monitor", luaL_checkstring(L, 1));
    if (!guard_allows(L, ACTION_PROCESS_MONITOR, target.pid))
        return guard_refuse(L, "not allowed to monitor: %s", luaL_checkstring(L, 1));
    if (directory_monitor(task_current(L)->vm->directory, target.number, self->number, true) < 0)
        return absent_target(L, ACTION_PROCESS_MONITOR, "monitor", luaL_checkstring(L, 1)); /* it ended meanwhile */
    lua_pushboolean(L, 1);
    return 1;
}

static int process_unmonitor(lua_State *L)
{
    struct process *self = require_process(L, "process.unmonitor");
    struct process_identity target;
    if (!resolve_target(L, &target)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (!guard_allows(L, ACTION_PROCESS_UNMONITOR, target.pid))
        return guard_refuse(L, "not allowed to unmonitor: %s", luaL_checkstring(L, 1));
    directory_monitor(task_current(L)->vm->directory, target.number, self->number, false);
    lua_pushboolean(L, 1);
    return 1;
}

static int process_link_lua(lua_State *L)
{
    struct process *self = require_process(L, "process.link");
    struct process_identity target;
    if (!resolve_target(L, &target))
        return absent_target(L, ACTION_PROCESS_LINK, "link", luaL_checkstring(L, 1));
    if (!guard_allows(L, ACTION_PROCESS_LINK, target.pid))
        return guard_refuse(L, "not allowed to link: %s", luaL_checkstring(L, 1));
    if (directory_link(task_current(L)->vm->directory, self->number, target.number, true) < 0)
        return absent_target(L, ACTION_PROCESS_LINK, "link", luaL_checkstring(L, 1)); /* it ended meanwhile */
    lua_pushboolean(L, 1);
    return 1;
}

static int process_unlink_lua(lua_State *L)
{
    struct process *self = require_process(L, "process.unlink");
    struct process_identity target;
    if (!resolve_target(L, &target)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (!guard_allows(L, ACTION_PROCESS_UNLINK, target.pid))
        return guard_refuse(L, "not allowed to unlink: %s", luaL_checkstring(L, 1));
    directory_link(task_current(L)->vm->directory, self->number, target.number, false);
    lua_pushboolean(L, 1);
    return 1;
}

static int refuse_stop(lua_State *L, const char *action)
{
    return error_value_fail_with(L, ERROR_KIND_PERMISSION_DENIED, "not allowed to %s: %s", action, luaL_checkstring(L, 1));
}

static int process_terminate(lua_State *L)
{
    struct task *task = task_current(L);
    int forwarded;
    struct process *target = find_target(L, 1, "terminate", process_terminate, &forwarded);
    if (forwarded >= 0)
        return forwarded;
    if (target == NULL)
        return absent_target(L, ACTION_PROCESS_TERMINATE, "terminate", luaL_checkstring(L, 1));
    struct process_identity identity;
    identify(target, &identity);
    if (!may_stop(task, &identity, ACTION_PROCESS_TERMINATE))
        return refuse_stop(L, "terminate");
    if (&target->task == task || target == task->process)
        return luaL_error(L, "terminated");
    task_kill(&target->task, "terminated");
    lua_pushboolean(L, 1);
    return 1;
}

static int process_cancel(lua_State *L)
{
    struct task *task = task_current(L);
    int forwarded;
    struct process *target = find_target(L, 1, "cancel", process_cancel, &forwarded);
    if (forwarded >= 0)
        return forwarded;
    const char *reason = luaL_optstring(L, 2, "cancelled");
    if (target == NULL)
        return absent_target(L, ACTION_PROCESS_CANCEL, "cancel", luaL_checkstring(L, 1));
    struct process_identity identity;
    identify(target, &identity);
    if (!may_stop(task, &identity, ACTION_PROCESS_CANCEL))
        return refuse_stop(L, "cancel");
    lua_State *main = target->task.heap->lua;
    lua_pushstring(L, reason);
    if (remote_is_proxy(task)) {
        /* made for a process of another loop: the reason here is the call's
         * own copy, which nobody pays for; the receiver keeps one of its own */
        struct wippy_error error;
        struct heap_account *charged = heap_charge_begin(task->vm, target->account);
        task->vm->copying_message = true;
        int rc = copy_for(L, lua_gettop(L), main, true, &error);
        task->vm->copying_message = false;
        heap_charge_end(task->vm, charged);
        if (rc < 0)
            return error_value_fail_with(L, ERROR_KIND_UNAVAILABLE, "process %s: it has no memory left for the "
                                         "reason (its memory limit); it was not cancelled", target->pid);
    }
    vm_unlimited_begin(task->vm); /* on the main thread: core.h */
    if (!remote_is_proxy(task))
        lua_pushstring(main, reason);
    lua_createtable(main, 0, 3);
    lua_insert(main, -2);
    lua_setfield(main, -2, "reason");
    lua_pushliteral(main, PROCESS_EVENT_CANCEL);
    lua_setfield(main, -2, "kind");
    if (task->process != NULL) {
        lua_pushstring(main, task->process->pid);
        lua_setfield(main, -2, "from");
    }
    process_deliver_event(main, target);
    vm_unlimited_end(task->vm);
    lua_pushboolean(L, 1);
    return 1;
}

static int process_set_options(lua_State *L)
{
    struct process *process = require_process(L, "process.set_options");
    luaL_checktype(L, 1, LUA_TTABLE);
    /* a closed set: a misspelt option would leave links untrapped unseen */
    static const char *const known[] = {"trap_links", NULL};
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        lua_pop(L, 1);
        const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (name == NULL || strcmp(name, "trap_links") != 0) {
            const char *near = name != NULL ? suggest_closest(name, known) : NULL;
            return guard_refuse(L, "set_options: unknown option \"%s\"%s%s%s", name != NULL ? name : "?",
                                near != NULL ? " (did you mean \"" : "", near != NULL ? near : "",
                                near != NULL ? "\"?)" : "");
        }
    }
    if (lua_getfield(L, 1, "trap_links") != LUA_TNIL)
        process->trap_links = lua_toboolean(L, -1);
    lua_pushboolean(L, 1);
    return 1;
}

static int process_get_options(lua_State *L)
{
    struct process *process = require_process(L, "process.get_options");
    lua_createtable(L, 0, 1);
    lua_pushboolean(L, process->trap_links);
    lua_setfield(L, -2, "trap_links");
    return 1;
}

/* ---- spawners ---- */

static struct edge_options *check_spawner(lua_State *L, int index)
{
    return edge_check(L, index, SPAWNER_TYPE);
}

/* A spawner's memory_limit: bytes, or text such as "64M". */
static bool read_memory_limit(lua_State *L, int index, struct edge_options *options)
{
    if (lua_type(L, index) == LUA_TSTRING)
        return size_parse(lua_tostring(L, index), &options->memory_limit);
    int is_integer = 0;
    lua_Integer bytes = lua_tointegerx(L, index, &is_integer);
    if (!is_integer || bytes < 0)
        return false;
    options->memory_limit = bytes;
    return true;
}

/* with_options merges: only the keys present change. */
static int with_options_from(lua_State *L, const struct edge_options *current, int table_index)
{
    luaL_checktype(L, table_index, LUA_TTABLE);
    struct task *task = task_current(L);
    struct edge_options *next = edge_push(L, current, SPAWNER_TYPE);
    static const char *const known[] = {"network", "memory_limit", NULL};
    struct wippy_error error;
    if (edge_check_option_names(L, table_index, known, &error) < 0)
        return error_value_fail(L, &error);
    if (!guard_allows(L, ACTION_PROCESS_CONTEXT, "context"))
        return guard_refuse(L, "not allowed to spawn processes with custom options");
    lua_getfield(L, table_index, "network");
    if (edge_read_network(L, task, lua_gettop(L), next, &error) < 0) {
        if (error.code == WIPPY_EDENIED) /* raised, as Go Wippy's process.with_options does */
            return luaL_error(L, "%s", error.message);
        return error_value_fail(L, &error);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, table_index, "memory_limit") != LUA_TNIL && !read_memory_limit(L, -1, next))
        return push_failure(L, "with_options: memory_limit: expected a size such as 64M or a number of bytes");
    lua_pop(L, 1);
    return 1;
}

static int with_context_from(lua_State *L, const struct edge_options *current, int table_index)
{
    if (!guard_allows(L, ACTION_PROCESS_CONTEXT, "context"))
        return guard_refuse(L, "not allowed to spawn processes with custom context");
    return edge_with_context(L, current, table_index, SPAWNER_TYPE);
}

static int process_with_options(lua_State *L) { return with_options_from(L, NULL, 1); }
static int process_with_context(lua_State *L) { return with_context_from(L, NULL, 1); }

static int spawner_with_options(lua_State *L)
{
    return with_options_from(L, check_spawner(L, 1), 2);
}

static int spawner_with_context(lua_State *L)
{
    return with_context_from(L, check_spawner(L, 1), 2);
}

static const char custom_security[] = "not allowed to spawn processes with custom security context";

static int spawner_with_actor(lua_State *L)
{
    if (!guard_allows(L, ACTION_PROCESS_SECURITY, "security"))
        return guard_refuse(L, custom_security);
    return edge_with_actor(L, SPAWNER_TYPE);
}

static int spawner_with_scope(lua_State *L)
{
    if (!guard_allows(L, ACTION_PROCESS_SECURITY, "security"))
        return guard_refuse(L, custom_security);
    return edge_with_scope(L, SPAWNER_TYPE);
}

static int spawner_spawn(lua_State *L)
{
    return spawn_with(L, 2, check_spawner(L, 1), SPAWN_PLAIN);
}

static int spawner_spawn_monitored(lua_State *L)
{
    return spawn_with(L, 2, check_spawner(L, 1), SPAWN_MONITORED);
}

static int spawner_spawn_linked(lua_State *L)
{
    return spawn_with(L, 2, check_spawner(L, 1), SPAWN_LINKED);
}

static int spawner_spawn_linked_monitored(lua_State *L)
{
    return spawn_with(L, 2, check_spawner(L, 1), SPAWN_LINKED | SPAWN_MONITORED);
}

int mod_process_open(lua_State *L, void *context)
{
    static const luaL_Reg spawner_methods[] = {
        {"spawn", spawner_spawn},
        {"spawn_monitored", spawner_spawn_monitored},
        {"spawn_linked", spawner_spawn_linked},
        {"spawn_linked_monitored", spawner_spawn_linked_monitored},
        {"with_options", spawner_with_options},
        {"with_context", spawner_with_context},
        {"with_actor", spawner_with_actor},
        {"with_scope", spawner_with_scope},
        {NULL, NULL},
    };
    state_new_type(L, SPAWNER_TYPE, spawner_methods, STATE_PRIVATE, NULL);
    lua_getfield(L, -1, "__index");
    luaL_setfuncs(L, spawner_methods, 0);
    lua_pop(L, 1);
    lua_pushcfunction(L, edge_collect);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    static const luaL_Reg functions[] = {
        {"pid", process_pid},
        {"id", process_id},
        {"send", process_send},
        {"spawn", process_spawn_lua},
        {"spawn_monitored", process_spawn_monitored},
        {"spawn_linked", process_spawn_linked},
        {"spawn_linked_monitored", process_spawn_linked_monitored},
        {"inbox", process_inbox},
        {"events", process_events},
        {"listen", process_listen},
        {"upgrade", process_upgrade_lua},
        {"unlisten", process_unlisten},
        {"monitor", process_monitor},
        {"unmonitor", process_unmonitor},
        {"link", process_link_lua},
        {"unlink", process_unlink_lua},
        {"terminate", process_terminate},
        {"cancel", process_cancel},
        {"set_options", process_set_options},
        {"get_options", process_get_options},
        {"with_options", process_with_options},
        {"with_context", process_with_context},
        {"exec", process_exec},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, functions, 0);
    static const luaL_Reg registry_functions[] = {
        {"register", registry_register},
        {"lookup", registry_lookup},
        {"unregister", registry_unregister},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, registry_functions, 0);
    static const struct {
        const char *name;
        int scope;
    } scopes[] = {{"LOCAL", REGISTRY_LOCAL}, {"CONSISTENT", REGISTRY_CONSISTENT}, {"EVENTUAL", REGISTRY_EVENTUAL},
                  {"STRONG", REGISTRY_STRONG}};
    for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++) {
        lua_pushinteger(L, scopes[i].scope);
        lua_setfield(L, -2, scopes[i].name);
    }
    state_make_read_only(L);
    lua_setfield(L, -2, "registry");
    lua_createtable(L, 0, 3);
    lua_pushliteral(L, PROCESS_EVENT_EXIT);
    lua_setfield(L, -2, "EXIT");
    lua_pushliteral(L, PROCESS_EVENT_LINK_DOWN);
    lua_setfield(L, -2, "LINK_DOWN");
    lua_pushliteral(L, PROCESS_EVENT_CANCEL);
    lua_setfield(L, -2, "CANCEL");
    state_make_read_only(L);
    lua_setfield(L, -2, "event");
    return 1;
}
