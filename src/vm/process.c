/* process.c - the pid table, spawning, message and event delivery, and what
 * happens when a process ends (EXIT events, links). */
#include "vm/process.h"

#include <stddef.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/list.h"
#include "util/memory.h"
#include "vm/mailbox.h"
#include "vm/channel.h"
#include "vm/directory.h"
#include "vm/heap.h"
#include "vm/heaps.h"
#include "vm/message.h"
#include "vm/transfer.h"
#include "util/log.h"

#define MESSAGE_TYPE "wippy.message"

struct process_table {
    size_t count; /* this VM's live processes; they are found through the directory */
};

struct process_table *process_table_new(void)
{
    return xcalloc(1, sizeof(struct process_table));
}

void process_table_free(struct process_table *table)
{
    free(table);
}

size_t process_count(const struct vm *vm)
{
    return vm->processes->count;
}

static struct process *process_of_record(struct directory_record *record)
{
    return record != NULL ? (struct process *)((char *)record - offsetof(struct process, record)) : NULL;
}

struct process *process_find_number(struct vm *vm, uint64_t number)
{
    struct vm_mailbox *elsewhere = NULL;
    struct process *process = process_of_record(directory_find(vm->directory, number, NULL, vm->mailbox, &elsewhere));
    vm_mailbox_release(elsewhere);
    return process;
}

struct process *process_locate(struct vm *vm, const char *destination, struct process_identity *identity,
                               struct vm_mailbox **elsewhere)
{
    return process_of_record(directory_locate(vm->directory, destination, vm->mailbox, identity, elsewhere));
}

struct process *process_find(struct vm *vm, const char *destination)
{
    struct vm_mailbox *elsewhere = NULL;
    struct process *process = process_locate(vm, destination, NULL, &elsewhere);
    vm_mailbox_release(elsewhere);
    return process;
}

struct process *process_current(struct vm *vm)
{
    return vm->current != NULL ? vm->current->process : NULL;
}

static void push_channel(lua_State *L, int *reference, size_t capacity)
{
    if (*reference == LUA_NOREF || *reference == LUA_REFNIL) {
        channel_set_runtime_filled(channel_push_new(L, capacity));
        lua_pushvalue(L, -1);
        *reference = luaL_ref(L, LUA_REGISTRYINDEX);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, *reference);
}

void process_push_inbox(lua_State *L, struct process *process)
{
    push_channel(L, &process->inbox_reference, (size_t)process->task.vm->config->max_inbox);
}

void process_take_inbox(lua_State *L, struct process *process)
{
    process_push_inbox(L, process);
    if (process->inbox_taken)
        return;
    process->inbox_taken = true;
    if (process->waiting_reference == LUA_NOREF)
        return;
    vm_unlimited_begin(process->task.vm);
    int inbox = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, process->waiting_reference);
    for (size_t i = 1; i <= process->waiting_count; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        channel_offer(L, inbox); /* fits: the inbox holds as many as may wait */
    }
    lua_pop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, process->waiting_reference);
    process->waiting_reference = LUA_NOREF;
    process->waiting_count = 0;
    vm_unlimited_end(process->task.vm);
}

void process_hand_waiting(lua_State *L, struct process *process, const char *topic, bool as_message)
{
    if (process->inbox_taken || process->waiting_reference == LUA_NOREF)
        return;
    vm_unlimited_begin(process->task.vm);
    lua_rawgeti(L, LUA_REGISTRYINDEX, process->waiting_reference);
    int waiting = lua_gettop(L), listener = waiting - 1;
    size_t kept = 0;
    for (size_t i = 1; i <= process->waiting_count; i++) {
        lua_rawgeti(L, waiting, (lua_Integer)i);
        lua_rawgeti(L, -1, 1);
        bool same_topic = strcmp(lua_tostring(L, -1), topic) == 0;
        lua_pop(L, 1);
        if (!same_topic) {
            lua_rawseti(L, waiting, (lua_Integer)++kept);
            continue;
        }
        if (!as_message) {
            lua_rawgeti(L, -1, 3);
            lua_replace(L, -2);
        }
        channel_offer(L, listener); /* a listener's channel is unbounded */
    }
    for (size_t i = kept + 1; i <= process->waiting_count; i++) {
        lua_pushnil(L);
        lua_rawseti(L, waiting, (lua_Integer)i);
    }
    process->waiting_count = kept;
    lua_pop(L, 1);
    vm_unlimited_end(process->task.vm);
}

/* A message for no listener while the inbox is not taken: it waits, as many
 * as the inbox would hold. */
static bool keep_waiting(lua_State *L, struct process *target)
{
    if (target->waiting_count >= (size_t)target->task.vm->config->max_inbox) {
        lua_pop(L, 1);
        return false;
    }
    if (target->waiting_reference == LUA_NOREF) {
        lua_newtable(L);
        target->waiting_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, target->waiting_reference);
    lua_insert(L, -2);
    lua_rawseti(L, -2, (lua_Integer)++target->waiting_count);
    lua_pop(L, 1);
    return true;
}

void process_push_events(lua_State *L, struct process *process)
{
    /* one event per monitored or linked process that ends: bounded by them */
    push_channel(L, &process->events_reference, CHANNEL_UNBOUNDED);
}

/* msg:topic(), msg:from(), msg:payload():data() — a message keeps its parts
 * at integer keys so that method names stay free. */
static int message_topic(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, 1);
    return 1;
}

static int message_from(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, 2);
    return 1;
}

static int message_payload(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    return 1;
}

static int message_data(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, 3);
    return 1;
}

static void push_message(lua_State *L, const char *topic, const char *from_pid)
{
    /* payload on top */
    lua_createtable(L, 3, 0);
    lua_pushstring(L, topic);
    lua_rawseti(L, -2, 1);
    if (from_pid != NULL) {
        lua_pushstring(L, from_pid);
        lua_rawseti(L, -2, 2);
    }
    lua_insert(L, -2);
    lua_rawseti(L, -2, 3);
    if (luaL_newmetatable(L, MESSAGE_TYPE)) {
        static const luaL_Reg methods[] = {
            {"topic", message_topic},
            {"from", message_from},
            {"payload", message_payload},
            {"data", message_data},
            {NULL, NULL},
        };
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, "protected");
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
}

static bool deliver(lua_State *L, struct process *target, const char *topic, const char *from_pid);

struct delivery {
    struct process *target;
    const char *topic;
    const char *from_pid;
    bool delivered;
};

static int deliver_protected(lua_State *L)
{
    struct delivery *delivery = lua_touserdata(L, 1);
    delivery->delivered = deliver(L, delivery->target, delivery->topic, delivery->from_pid);
    return 0;
}

enum process_delivery process_deliver(lua_State *L, struct process *target, const char *topic,
                                      const char *from_pid)
{
    struct vm *vm = target->task.vm;
    if (target->account->limit == 0 && vm->memory_limit == 0) { /* nothing to keep within: no pcall */
        vm_unlimited_begin(vm);
        bool delivered = deliver(L, target, topic, from_pid);
        vm_unlimited_end(vm);
        return delivered ? PROCESS_DELIVERED : PROCESS_DELIVERY_FULL;
    }
    struct delivery delivery = {target, topic, from_pid, false};
    if (!lua_checkstack(L, 8)) {
        lua_pop(L, 1);
        return PROCESS_DELIVERY_NO_MEMORY;
    }
    lua_pushcfunction(L, deliver_protected);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &delivery);
    lua_insert(L, -2);
    vm->bounded++; /* the receiver's limit holds whoever sends */
    int status = lua_pcall(L, 2, 0, 0);
    vm->bounded--;
    if (status != LUA_OK) {
        lua_pop(L, 1);
        return PROCESS_DELIVERY_NO_MEMORY;
    }
    return delivery.delivered ? PROCESS_DELIVERED : PROCESS_DELIVERY_FULL;
}

static bool deliver(lua_State *L, struct process *target, const char *topic, const char *from_pid)
{
    if (target->listeners_reference != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, target->listeners_reference);
        if (lua_getfield(L, -1, topic) == LUA_TTABLE) {
            lua_getfield(L, -1, "message");
            bool as_message = lua_toboolean(L, -1);
            lua_getfield(L, -2, "channel");
            lua_replace(L, -4); /* stack: payload, channel, listener, message */
            lua_pop(L, 2);
            lua_insert(L, -2); /* channel, payload */
            if (as_message)
                push_message(L, topic, from_pid);
            bool delivered = channel_offer(L, -2);
            lua_pop(L, 1);
            return delivered;
        }
        lua_pop(L, 2);
    }
    push_message(L, topic, from_pid);
    if (!target->inbox_taken)
        return keep_waiting(L, target);
    process_push_inbox(L, target);
    lua_insert(L, -2);
    bool delivered = channel_offer(L, -2);
    lua_pop(L, 1);
    return delivered;
}

void process_deliver_event(lua_State *L, struct process *target)
{
    vm_unlimited_begin(target->task.vm);
    process_push_events(L, target);
    lua_insert(L, -2);
    channel_offer(L, -2);
    lua_pop(L, 1);
    vm_unlimited_end(target->task.vm);
}

static bool has_number(const uint64_t *items, size_t count, uint64_t number)
{
    for (size_t i = 0; i < count; i++)
        if (items[i] == number)
            return true;
    return false;
}

static void list_remove(uint64_t *items, size_t *count, uint64_t number)
{
    for (size_t i = 0; i < *count; i++) {
        if (items[i] == number) {
            items[i] = items[--*count];
            return;
        }
    }
}

void process_add_coroutine(struct process *process, struct task *coroutine)
{
    DLIST_PUSH(process->coroutines, coroutine, sibling_previous, sibling_next);
}

void process_remove_coroutine(struct process *process, struct task *coroutine)
{
    /* the process may have ended already (then it let go of the list) */
    if (coroutine->sibling_previous != NULL)
        coroutine->sibling_previous->sibling_next = coroutine->sibling_next;
    else if (process != NULL && process->coroutines == coroutine)
        process->coroutines = coroutine->sibling_next;
    if (coroutine->sibling_next != NULL)
        coroutine->sibling_next->sibling_previous = coroutine->sibling_previous;
    coroutine->sibling_next = coroutine->sibling_previous = NULL;
}

/* Ends the coroutines a process spawned, when the process ends. */
static void end_coroutines(struct process *process)
{
    for (struct task *task = process->coroutines; task != NULL; task = task->sibling_next) {
        task->process = NULL;
        task_kill(task, "its process ended");
    }
    process->coroutines = NULL;
}

/* Pushes {kind, from, result = {value, error}} on L for one recipient. */
static void push_exit_event(lua_State *L, const char *kind, struct process *process, int status,
                            int result_count)
{
    lua_State *thread = process->task.thread;
    lua_createtable(L, 0, 3);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, process->pid);
    lua_setfield(L, -2, "from");
    lua_createtable(L, 0, 2);
    if (status == LUA_OK) {
        if (result_count > 0) {
            struct wippy_error error;
            if (transfer_value(thread, -result_count, L, &error) < 0)
                lua_pushfstring(L, "result could not be passed: %s", error.message);
            lua_setfield(L, -2, "value");
        }
    } else {
        lua_pushstring(L, lua_tostring(thread, -1));
        lua_setfield(L, -2, "error");
    }
    lua_setfield(L, -2, "result");
}

static void report_command_result(struct process *process, int status, int result_count)
{
    struct vm *vm = process->task.vm;
    lua_State *thread = process->task.thread;
    int exit_code = 0;
    if (vm->stopping)
        return; /* killed by the shutdown itself: the exit code is decided */
    if (status != LUA_OK) {
        size_t length = 0;
        const char *text = lua_tolstring(thread, -1, &length);
        log_bytes(LOG_ERROR, text, length, true); /* a command's own error, as it wrote it */
        exit_code = 1;
    } else if (result_count > 0 && lua_isinteger(thread, -result_count)) {
        exit_code = (int)lua_tointeger(thread, -result_count);
    } else if (result_count > 0 && lua_type(thread, -result_count) == LUA_TNUMBER) {
        exit_code = (int)lua_tonumber(thread, -result_count);
    }
    vm_stop(vm, exit_code);
}

static void tell_watchers(struct process *process, struct directory_watchers *watchers, int status,
                          int result_count);

static void on_process_finish(struct task *task, int status, int result_count)
{
    struct process *process = (struct process *)task;
    struct vm *vm = task->vm;
    struct directory_watchers watchers; /* taken as it leaves: a later link or monitor finds it gone */
    directory_remove(vm->directory, &process->record, &watchers); /* its names too */
    vm->processes->count--;
    heaps_process_ended(task->heap);
    end_coroutines(process);
    process->exec_waited = process->exec_waiter != NULL;
    if (process->exec_waiter != NULL) {
        /* process.exec: the caller gets (value) or (nil, error). */
        struct task *waiter = process->exec_waiter;
        process->exec_waiter = NULL;
        lua_State *target = waiter->thread;
        int count = 1;
        /* the result is the waiter's: its account pays */
        struct heap_account *charged =
            heap_charge_begin(vm, waiter->account != NULL ? waiter->account : vm->runtime_account);
        if (status == LUA_OK) {
            struct wippy_error error;
            if (result_count == 0) {
                lua_pushnil(target);
            } else if (result_count >= 2 && lua_isnil(task->thread, -result_count) &&
                       !lua_isnil(task->thread, -result_count + 1)) {
                /* (nil, err): the caller gets the error as its second value */
                lua_pushnil(target);
                if (transfer_value(task->thread, -result_count + 1, target, &error) == WIPPY_OK)
                    count = 2;
            } else if (transfer_value(task->thread, -result_count, target, &error) < 0) {
                lua_pushnil(target);
                char message[WIPPY_ERROR_MESSAGE_SIZE + 64];
                int length = snprintf(message, sizeof message, "result could not be passed: %s", error.message);
                vm_push_failure(vm, target, WIPPY_EINVAL, message, (size_t)length < sizeof message ? (size_t)length
                                                                                                  : sizeof message - 1);
                count = 2;
            }
        } else {
            /* an error object it raised reaches the caller as it is
             * (vm/task.c keeps it below its text); any other error is made
             * one of unknown kind */
            struct wippy_error error;
            lua_pushnil(target);
            if (!task->raised_shared || transfer_value(task->thread, -2, target, &error) < 0) {
                size_t length = 0;
                const char *text = lua_tolstring(task->thread, -1, &length);
                vm_push_failure(vm, target, 0, text != NULL ? text : "", text != NULL ? length : 0);
            }
            count = 2;
        }
        heap_charge_end(vm, charged);
        task_wake(waiter, count);
    }
    if (process->is_command)
        report_command_result(process, status, result_count);
    if (!vm->stopping)
        tell_watchers(process, &watchers, status, result_count);
    free(watchers.monitors);
    free(watchers.links);
}

/* The EXIT events, the LINK_DOWN events and the linked failures of a
 * process that ended: to processes of this VM here, to others on theirs. */
static void tell_watchers(struct process *process, struct directory_watchers *watchers, int status,
                          int result_count)
{
    struct task *task = &process->task;
    struct vm *vm = task->vm;

    bool failed = status != LUA_OK;
    /* Ended on purpose (terminate, a linked failure) or awaited by
     * process.exec: no need to report the failure on stderr. */
    bool watched = task->killed || process->exec_waited;
    for (size_t i = 0; i < watchers->monitor_count; i++) {
        uint64_t number = watchers->monitors[i];
        struct process *watcher = process_find_number(vm, number);
        bool linked_too = failed && has_number(watchers->links, watchers->link_count, number);
        if (watcher == NULL) {
            /* a process of another VM is told there, once for both */
            if (vm->tell_end_elsewhere(vm, number, process, true, linked_too, status, result_count)) {
                watched = true;
                if (linked_too)
                    list_remove(watchers->links, &watchers->link_count, number);
            }
            continue;
        }
        watched = true;
        push_exit_event(watcher->task.heap->lua, PROCESS_EVENT_EXIT, process, status, result_count);
        process_deliver_event(watcher->task.heap->lua, watcher);
    }
    const char *reason = failed ? lua_tostring(task->thread, -1) : NULL;
    for (size_t i = 0; i < watchers->link_count; i++) {
        struct process *linked = process_find_number(vm, watchers->links[i]);
        if (linked == NULL) {
            if (failed && vm->tell_end_elsewhere(vm, watchers->links[i], process, false, true, status, result_count))
                watched = true;
            continue;
        }
        if (!failed)
            continue;
        watched = true;
        if (linked->trap_links) {
            push_exit_event(linked->task.heap->lua, PROCESS_EVENT_LINK_DOWN, process, status, result_count);
            process_deliver_event(linked->task.heap->lua, linked);
        } else {
            char *why = xasprintf("linked process %s failed: %s", process->pid,
                                  reason != NULL ? reason : "error");
            task_kill(&linked->task, why);
            free(why);
        }
    }
    if (failed && !watched && !process->is_command)
        log_message(LOG_ERROR, "process %s (%s) failed: %s", process->pid, task->entry->id,
                lua_tostring(task->thread, -1));
}

static size_t smaller_limit(size_t one, size_t other)
{
    if (one == 0 || other == 0)
        return one != 0 ? one : other;
    return one < other ? one : other;
}

void process_exec_cancel(struct task *waiter)
{
    struct process *child = waiter->wait_data;
    child->exec_waiter = NULL;
    task_kill(&child->task, "the caller of process.exec ended");
}

static bool restart_upgraded(struct task *task)
{
    struct process *process = (struct process *)task;
    lua_State *L = task->heap->lua;
    const struct entry *entry = process->upgrade_entry;
    int argument_count = process->upgrade_argument_count;
    process->upgrade_entry = NULL;
    if (!lua_checkstack(L, argument_count + 2))
        return false;
    lua_rawgeti(L, LUA_REGISTRYINDEX, process->upgrade_arguments_reference);
    for (int i = 1; i <= argument_count; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -argument_count - 1);
    luaL_unref(L, LUA_REGISTRYINDEX, process->upgrade_arguments_reference);
    process->upgrade_arguments_reference = LUA_NOREF;
    struct wippy_error error;
    struct heap_account *charged = heap_charge_begin(task->vm, process->account);
    int rc = task_restart(task, entry, L, argument_count, &error);
    heap_charge_end(task->vm, charged);
    if (rc < 0) {
        lua_pop(task->thread, 1);
        lua_pushfstring(task->thread, "process.upgrade to %s: %s", entry->id, error.message);
        return false;
    }
    end_coroutines(process);
    luaL_unref(L, LUA_REGISTRYINDEX, process->listeners_reference);
    process->listeners_reference = LUA_NOREF;
    process->inbox_taken = process->inbox_reference != LUA_NOREF; /* what waits in it stays its */
    process->entry = entry;
    process->account->limit = smaller_limit(process->account->limit, (size_t)entry->as.lua.memory_limit);
    return true;
}

void process_upgrade(lua_State *L, struct process *process, const struct entry *entry, int argument_count)
{
    if (process->task.killed) { /* already ending: it ends */
        lua_pop(L, argument_count);
        return;
    }
    lua_createtable(L, argument_count, 0);
    lua_insert(L, -argument_count - 1);
    for (int i = argument_count; i >= 1; i--)
        lua_rawseti(L, -i - 1, i);
    process->upgrade_arguments_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    process->upgrade_argument_count = argument_count;
    process->upgrade_entry = entry;
    process->task.restart = restart_upgraded;
    task_kill(&process->task, "the process was upgraded");
}

static void dispose_process(struct task *task)
{
    struct process *process = (struct process *)task;
    lua_State *L = task->heap->lua;
    luaL_unref(L, LUA_REGISTRYINDEX, process->inbox_reference);
    luaL_unref(L, LUA_REGISTRYINDEX, process->events_reference);
    luaL_unref(L, LUA_REGISTRYINDEX, process->listeners_reference);
    luaL_unref(L, LUA_REGISTRYINDEX, process->waiting_reference);
    luaL_unref(L, LUA_REGISTRYINDEX, process->upgrade_arguments_reference);
    free(process->pid);
    heap_account_release(process->account);
    free(process);
}

/* "{host|0x0002a}": the number in hex, at least five digits (a printf
 * here was a twentieth of a spawn's instructions). */
static char *format_pid(const char *host_id, uint64_t number)
{
    char digits[16];
    size_t count = 0;
    do {
        digits[count++] = "0123456789abcdef"[number & 15];
        number >>= 4;
    } while (number != 0 || count < 5);
    size_t host_length = strlen(host_id);
    char *pid = xmalloc(host_length + count + 6);
    char *at = pid;
    *at++ = '{';
    memcpy(at, host_id, host_length);
    at += host_length;
    memcpy(at, "|0x", 3);
    at += 3;
    while (count > 0)
        *at++ = digits[--count];
    *at++ = '}';
    *at = '\0';
    return pid;
}

struct process *process_plan(struct vm *vm, const struct entry *entry, const struct entry *host,
                             size_t memory_limit)
{
    struct process *process = xcalloc(1, sizeof *process);
    process->number = directory_next_number(vm->directory);
    struct process *parent = process_current(vm);
    process->pid = format_pid(host->id, process->number);
    process->host = host;
    process->inbox_reference = LUA_NOREF;
    process->events_reference = LUA_NOREF;
    process->listeners_reference = LUA_NOREF;
    process->waiting_reference = LUA_NOREF;
    process->upgrade_arguments_reference = LUA_NOREF;
    process->entry = entry;
    process->task.process = process;
    process->task.on_finish = on_process_finish;
    process->task.dispose = dispose_process;
    /* a process with a limit cannot start one without: its own bounds the child's */
    size_t inherited = parent != NULL && parent->account != NULL ? parent->account->limit : 0;
    process->account = heap_account_new(
        smaller_limit(smaller_limit((size_t)entry->as.lua.memory_limit, memory_limit), inherited));
    process->task.account = process->account;
    process->record = (struct directory_record){
        .number = process->number, .parent_number = parent != NULL ? parent->number : 0, .pid = process->pid,
        .home = vm->mailbox};
    return process;
}

void process_plan_abandon(struct process *process)
{
    free(process->pid);
    heap_account_release(process->account);
    free(process);
}

/* Starts a planned process's code on heap, with the argument_count values
 * on top of from; on failure the heap's count is given back. */
static int start_on(struct vm *vm, struct process *process, struct vm_heap *heap, struct frame *frame,
                    lua_State *from, int argument_count, struct wippy_error *error)
{
    struct heap_account *charged = heap_charge_begin(vm, process->account); /* its thread is its own */
    int rc = task_start(heap, &process->task, TASK_PROCESS, process->entry, frame, from, argument_count, error);
    heap_charge_end(vm, charged);
    if (rc < 0) {
        heaps_process_ended(heap);
        return rc;
    }
    vm->processes->count++;
    return WIPPY_OK;
}

int process_start_here(struct vm *vm, struct process *process, struct frame *frame, lua_State *from,
                       int argument_count, struct wippy_error *error)
{
    struct vm_heap *heap = heaps_place_process(vm, vm_heap_of(from), error);
    int rc = heap != NULL ? start_on(vm, process, heap, frame, from, argument_count, error) : error->code;
    if (heap == NULL)
        lua_pop(from, argument_count);
    if (rc < 0) {
        process_plan_abandon(process);
        return rc;
    }
    directory_add(vm->directory, &process->record);
    return WIPPY_OK;
}

int process_spawn(struct vm *vm, const struct entry *entry, const struct entry *host,
                  struct frame *frame, lua_State *from, int argument_count, size_t memory_limit,
                  struct process **out, struct wippy_error *error)
{
    struct process *process = process_plan(vm, entry, host, memory_limit);
    int rc = process_start_here(vm, process, frame, from, argument_count, error);
    if (rc == WIPPY_OK && out != NULL)
        *out = process;
    return rc;
}

int process_start_placed(struct vm *vm, struct process *process, struct frame *frame,
                         struct message **arguments, int argument_count, struct wippy_error *error)
{
    struct vm_heap *heap = heaps_place_process(vm, NULL, error);
    if (heap == NULL)
        return error->code;
    lua_State *L = heap->lua;
    int rc = lua_checkstack(L, argument_count + 8) ? WIPPY_OK
                                                   : error_set(error, WIPPY_ENOMEM, "out of Lua stack space");
    /* its arguments are its own: it pays for them, unbounded as when they
     * are moved to it on its spawner's loop (the spawner paid for them
     * while they travelled, within its own limit) */
    struct heap_account *charged = heap_charge_begin(vm, process->account);
    vm_unlimited_begin(vm);
    int pushed = 0;
    for (; rc == WIPPY_OK && pushed < argument_count; pushed++) {
        rc = message_push(L, arguments[pushed], error);
        arguments[pushed] = NULL; /* freed by the push in any case */
        if (rc < 0)
            break;
    }
    vm_unlimited_end(vm);
    heap_charge_end(vm, charged);
    if (rc < 0) {
        lua_pop(L, pushed);
        heaps_process_ended(heap);
        return rc;
    }
    rc = start_on(vm, process, heap, frame, L, argument_count, error);
    if (rc == WIPPY_OK)
        directory_started(vm->directory, &process->record);
    return rc;
}

void process_fail_start(struct vm *vm, struct process *process, const char *why)
{
    struct directory_watchers watchers;
    directory_remove(vm->directory, &process->record, &watchers);
    if (!vm->stopping && lua_checkstack(vm->lua, 2)) {
        /* told as an end with that error, from a thread of its own that
         * holds the error alone (the events are built on other stacks) */
        vm_unlimited_begin(vm);
        lua_State *thread = lua_newthread(vm->lua);
        lua_pushfstring(thread, "process %s could not start: %s", process->pid, why);
        vm_unlimited_end(vm);
        process->task.vm = vm;
        process->task.entry = process->entry;
        process->task.thread = thread;
        tell_watchers(process, &watchers, LUA_ERRRUN, 0);
        lua_pop(vm->lua, 1);
    }
    free(watchers.monitors);
    free(watchers.links);
    process_plan_abandon(process);
}

struct process_card {
    uint64_t number;
    uint64_t parent_number;
    char *pid;
    const struct entry *host;
    size_t memory_limit;
};

struct process_card *process_card_new(const struct process *process)
{
    struct process_card *card = xcalloc(1, sizeof *card);
    card->number = process->number;
    card->parent_number = process->record.parent_number;
    card->pid = xstrdup(process->pid);
    card->host = process->host;
    card->memory_limit = process->account != NULL ? process->account->limit : 0;
    return card;
}

void process_card_free(struct process_card *card)
{
    if (card == NULL)
        return;
    free(card->pid);
    free(card);
}

struct process *process_new_stand_in(struct vm *vm, const struct process_card *card, struct vm_mailbox *home)
{
    struct process *stand_in = xcalloc(1, sizeof *stand_in);
    stand_in->task.vm = vm; /* the VM it stands in on */
    stand_in->number = card->number;
    stand_in->record.parent_number = card->parent_number;
    stand_in->pid = xstrdup(card->pid);
    stand_in->host = card->host;
    stand_in->inbox_reference = LUA_NOREF;
    stand_in->events_reference = LUA_NOREF;
    stand_in->listeners_reference = LUA_NOREF;
    stand_in->waiting_reference = LUA_NOREF;
    stand_in->upgrade_arguments_reference = LUA_NOREF;
    stand_in->account = heap_account_new(card->memory_limit);
    stand_in->elsewhere = home;
    vm_mailbox_retain(home);
    return stand_in;
}

void process_free_stand_in(struct process *stand_in)
{
    if (stand_in == NULL)
        return;
    vm_mailbox_release(stand_in->elsewhere);
    heap_account_release(stand_in->account);
    free(stand_in->pid);
    free(stand_in);
}
