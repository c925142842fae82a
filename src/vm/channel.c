/* channel.c - Go-style channels between tasks: the channel type with its
 * methods (:send, :receive, :close, :case_send, :case_receive), select, and
 * the C side the VM feeds (inboxes, events, timers). */
#include "vm/channel.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/memory.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/transfer.h"
#include "vm/core.h"

#define CHANNEL_TYPE "wippy.channel"

struct channel_wait;

/* One blocked operation of one task on one channel. */
struct channel_waiter {
    struct channel_waiter *previous;
    struct channel_waiter *next;
    struct channel *channel;
    struct channel_wait *wait;
    bool sending;
    int value_reference;   /* the value a sender offers */
    int channel_reference; /* select: the case's channel, for result.channel */
    bool queued;
};

/* A blocked task: a plain send/receive (one waiter) or a select (many). */
struct channel_wait {
    struct task *task;
    bool is_select;
    int waiter_count;
    struct channel_waiter waiters[];
};

struct waiter_queue {
    struct channel_waiter *head;
    struct channel_waiter *tail;
};

struct channel {
    size_t capacity;
    size_t count;
    lua_Integer head; /* buffer index of the oldest value */
    bool closed;
    bool shared; /* reachable from more than one process: copy what is sent */
    struct waiter_queue receivers;
    struct waiter_queue senders;
};

/* ---- waiter queues ---- */

static void queue_push(struct waiter_queue *queue, struct channel_waiter *waiter)
{
    waiter->next = NULL;
    waiter->previous = queue->tail;
    if (queue->tail != NULL)
        queue->tail->next = waiter;
    else
        queue->head = waiter;
    queue->tail = waiter;
    waiter->queued = true;
}

static void queue_remove(struct waiter_queue *queue, struct channel_waiter *waiter)
{
    if (!waiter->queued)
        return;
    if (waiter->previous != NULL)
        waiter->previous->next = waiter->next;
    else
        queue->head = waiter->next;
    if (waiter->next != NULL)
        waiter->next->previous = waiter->previous;
    else
        queue->tail = waiter->previous;
    waiter->next = waiter->previous = NULL;
    waiter->queued = false;
}

/* Takes every waiter of a wait out of its channel and frees the wait. */
static void wait_dispose(lua_State *L, struct channel_wait *wait)
{
    for (int i = 0; i < wait->waiter_count; i++) {
        struct channel_waiter *waiter = &wait->waiters[i];
        struct channel *channel = waiter->channel;
        queue_remove(waiter->sending ? &channel->senders : &channel->receivers, waiter);
        luaL_unref(L, LUA_REGISTRYINDEX, waiter->value_reference);
        luaL_unref(L, LUA_REGISTRYINDEX, waiter->channel_reference);
    }
    free(wait);
}

static void cancel_channel_wait(struct task *task)
{
    wait_dispose(task->vm->lua, task->wait_data);
}

/* Builds {channel = <the case's channel>, value = <top of L>, ok = ok} on
 * the waiting task's thread (pops the value from L). It runs while another
 * task (the one completing the wait) is current, so it reads nothing of the
 * waiting task's own tables: no metamethod of theirs may run here. */
static void push_select_result(lua_State *L, struct channel_waiter *waiter, bool ok)
{
    lua_State *thread = waiter->wait->task->thread;
    lua_xmove(L, thread, 1);
    lua_createtable(thread, 0, 3);
    lua_insert(thread, -2);
    lua_setfield(thread, -2, "value");
    lua_rawgeti(thread, LUA_REGISTRYINDEX, waiter->channel_reference);
    lua_setfield(thread, -2, "channel");
    lua_pushboolean(thread, ok);
    lua_setfield(thread, -2, "ok");
}

/* Completes a waiting receiver with the value on top of L (popped). It
 * allocates on the waiting task's thread: the memory limit does not apply. */
static void complete_receiver(lua_State *L, struct channel_waiter *waiter, bool ok)
{
    struct channel_wait *wait = waiter->wait;
    struct task *task = wait->task;
    struct vm *vm = task->vm;
    vm_unlimited_begin(vm);
    if (wait->is_select) {
        push_select_result(L, waiter, ok);
        wait_dispose(L, wait);
        task_wake(task, 1);
    } else {
        lua_xmove(L, task->thread, 1);
        lua_pushboolean(task->thread, ok);
        wait_dispose(L, wait);
        task_wake(task, 2);
    }
    vm_unlimited_end(vm);
}

/* Completes a waiting sender (its value was taken, or the channel closed). */
static void complete_sender(lua_State *L, struct channel_waiter *waiter, bool ok)
{
    struct channel_wait *wait = waiter->wait;
    struct task *task = wait->task;
    struct vm *vm = task->vm;
    vm_unlimited_begin(vm);
    if (wait->is_select) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, waiter->value_reference);
        push_select_result(L, waiter, ok);
        wait_dispose(L, wait);
        task_wake(task, 1);
    } else {
        lua_pushboolean(task->thread, ok);
        wait_dispose(L, wait);
        task_wake(task, 1);
    }
    vm_unlimited_end(vm);
}

/* ---- buffer (the channel userdata's user value, created on first use) ---- */

static void push_buffer(lua_State *L, int channel_index)
{
    if (lua_getiuservalue(L, channel_index, 1) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, channel_index, 1);
}

static void buffer_append(lua_State *L, int channel_index, struct channel *channel)
{
    push_buffer(L, channel_index);
    lua_insert(L, -2);
    lua_rawseti(L, -2, channel->head + (lua_Integer)channel->count);
    lua_pop(L, 1);
    channel->count++;
}

static void buffer_take(lua_State *L, int channel_index, struct channel *channel)
{
    push_buffer(L, channel_index);
    lua_rawgeti(L, -1, channel->head);
    lua_pushnil(L);
    lua_rawseti(L, -3, channel->head);
    lua_remove(L, -2);
    channel->count--;
    channel->head = channel->count == 0 ? 1 : channel->head + 1;
}

/* ---- non-blocking attempts ---- */

enum attempt { ATTEMPT_DONE, ATTEMPT_CLOSED, ATTEMPT_WOULD_BLOCK };

/* Receives into L's top: the value, when the result is ATTEMPT_DONE. */
static enum attempt try_receive(lua_State *L, int channel_index, struct channel *channel)
{
    if (channel->count > 0) {
        buffer_take(L, channel_index, channel);
        struct channel_waiter *sender = channel->senders.head;
        if (sender != NULL) { /* its value moves into the freed buffer slot */
            lua_rawgeti(L, LUA_REGISTRYINDEX, sender->value_reference);
            buffer_append(L, channel_index, channel);
            complete_sender(L, sender, true);
        }
        return ATTEMPT_DONE;
    }
    struct channel_waiter *sender = channel->senders.head;
    if (sender != NULL) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, sender->value_reference);
        complete_sender(L, sender, true);
        return ATTEMPT_DONE;
    }
    return channel->closed ? ATTEMPT_CLOSED : ATTEMPT_WOULD_BLOCK;
}

/* Sends the value on top of L (popped when ATTEMPT_DONE). */
static enum attempt try_send(lua_State *L, int channel_index, struct channel *channel)
{
    if (channel->closed)
        return ATTEMPT_CLOSED;
    struct channel_waiter *receiver = channel->receivers.head;
    if (receiver != NULL) {
        complete_receiver(L, receiver, true);
        return ATTEMPT_DONE;
    }
    if (channel->count < channel->capacity) {
        buffer_append(L, channel_index, channel);
        return ATTEMPT_DONE;
    }
    return ATTEMPT_WOULD_BLOCK;
}

/* ---- public C interface ---- */

struct channel *channel_push_new(lua_State *L, size_t capacity)
{
    struct channel *channel = lua_newuserdatauv(L, sizeof *channel, 1);
    *channel = (struct channel){.capacity = capacity, .head = 1};
    luaL_setmetatable(L, CHANNEL_TYPE);
    return channel;
}

struct channel *channel_check(lua_State *L, int index)
{
    return luaL_checkudata(L, index, CHANNEL_TYPE);
}

bool channel_offer(lua_State *L, int channel_index)
{
    channel_index = lua_absindex(L, channel_index);
    struct channel *channel = channel_check(L, channel_index);
    enum attempt result = try_send(L, channel_index, channel);
    if (result != ATTEMPT_DONE)
        lua_pop(L, 1);
    return result == ATTEMPT_DONE;
}

/* Pushes the value at index, copied when the channel is shared. */
static void push_outgoing(lua_State *L, struct channel *channel, int index)
{
    if (channel->shared)
        transfer_value_or_raise(L, index, L);
    else
        lua_pushvalue(L, index);
}

/* Copies every value waiting in the channel (buffered, or offered by a
 * blocked sender) into a new table on top of L: buffered ones at 1..count,
 * senders' after them in queue order. Returns -1 with error when one cannot
 * leave its process; nothing is changed then. */
/* Replaces the value on top of L with its copy, appended to the table at
 * copies; on failure pops it and leaves the table alone. */
static int append_copy(lua_State *L, int copies, struct wippy_error *error)
{
    int rc = transfer_value(L, -1, L, error);
    lua_remove(L, -2);
    if (rc == WIPPY_OK)
        lua_rawseti(L, copies, (lua_Integer)lua_rawlen(L, copies) + 1);
    return rc;
}

static int copy_waiting_values(lua_State *L, int index, struct channel *channel,
                               struct wippy_error *error)
{
    lua_newtable(L);
    int copies = lua_gettop(L);
    int rc = WIPPY_OK;
    if (channel->count > 0) {
        push_buffer(L, index);
        int buffer = lua_gettop(L);
        for (size_t i = 0; i < channel->count && rc == WIPPY_OK; i++) {
            lua_rawgeti(L, buffer, channel->head + (lua_Integer)i);
            rc = append_copy(L, copies, error);
        }
        lua_settop(L, copies);
    }
    for (struct channel_waiter *sender = channel->senders.head; sender != NULL && rc == WIPPY_OK;
         sender = sender->next) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, sender->value_reference);
        rc = append_copy(L, copies, error);
    }
    if (rc < 0)
        lua_settop(L, copies - 1);
    return rc;
}

/* The share hook of the channel type: from now on values sent are copied,
 * and the values already waiting are replaced by copies. */
static int channel_share(lua_State *L, int index, struct wippy_error *error)
{
    struct channel *channel = channel_check(L, index);
    if (channel->shared)
        return WIPPY_OK;
    index = lua_absindex(L, index);
    struct wippy_error reason;
    if (copy_waiting_values(L, index, channel, &reason) < 0)
        return error_set(error, reason.code,
                         "cannot pass a channel holding a value that cannot leave its process (%s)",
                         reason.message);
    int copies = lua_gettop(L);
    lua_Integer slot = 0;
    if (channel->count > 0) {
        push_buffer(L, index);
        for (size_t i = 0; i < channel->count; i++) {
            lua_rawgeti(L, copies, ++slot);
            lua_rawseti(L, -2, channel->head + (lua_Integer)i);
        }
        lua_pop(L, 1);
    }
    for (struct channel_waiter *sender = channel->senders.head; sender != NULL; sender = sender->next) {
        lua_rawgeti(L, copies, ++slot);
        lua_rawseti(L, LUA_REGISTRYINDEX, sender->value_reference);
    }
    lua_pop(L, 1);
    channel->shared = true;
    return WIPPY_OK;
}

void channel_close(lua_State *L, int index)
{
    struct channel *channel = channel_check(L, index);
    if (channel->closed)
        return;
    channel->closed = true;
    while (channel->receivers.head != NULL) {
        lua_pushnil(L);
        complete_receiver(L, channel->receivers.head, false);
    }
    while (channel->senders.head != NULL)
        complete_sender(L, channel->senders.head, false);
}

/* ---- Lua methods ---- */

static struct channel_wait *wait_new(struct task *task, int waiter_count, bool is_select)
{
    struct channel_wait *wait =
        xcalloc(1, sizeof *wait + (size_t)waiter_count * sizeof(struct channel_waiter));
    wait->task = task;
    wait->is_select = is_select;
    wait->waiter_count = waiter_count;
    for (int i = 0; i < waiter_count; i++) {
        wait->waiters[i].wait = wait;
        wait->waiters[i].value_reference = LUA_NOREF;
        wait->waiters[i].channel_reference = LUA_NOREF;
    }
    return wait;
}

int channel_new_function(lua_State *L)
{
    lua_Integer size = luaL_optinteger(L, 1, 0);
    luaL_argcheck(L, size >= 0, 1, "size must not be negative");
    channel_push_new(L, (size_t)size);
    return 1;
}

static int send_continue(lua_State *L, int status, lua_KContext context)
{
    if (!lua_toboolean(L, -1))
        return luaL_error(L, "send on a closed channel");
    return 1;
}

static int channel_send_lua(lua_State *L)
{
    struct channel *channel = channel_check(L, 1);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    push_outgoing(L, channel, 2);
    enum attempt result = try_send(L, 1, channel);
    if (result == ATTEMPT_CLOSED)
        return luaL_error(L, "send on a closed channel");
    if (result == ATTEMPT_DONE) {
        lua_pushboolean(L, 1);
        return 1;
    }
    struct task *task = task_current(L);
    task_check_can_block(L, task, "channel:send");
    struct channel_wait *wait = wait_new(task, 1, false);
    struct channel_waiter *waiter = &wait->waiters[0];
    waiter->channel = channel;
    waiter->sending = true;
    waiter->value_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    queue_push(&channel->senders, waiter);
    return task_wait(L, task, cancel_channel_wait, wait, send_continue, 0);
}

static int channel_receive_lua(lua_State *L)
{
    struct channel *channel = channel_check(L, 1);
    lua_settop(L, 1);
    enum attempt result = try_receive(L, 1, channel);
    if (result == ATTEMPT_DONE) {
        lua_pushboolean(L, 1);
        return 2;
    }
    if (result == ATTEMPT_CLOSED) {
        lua_pushnil(L);
        lua_pushboolean(L, 0);
        return 2;
    }
    struct task *task = task_current(L);
    task_check_can_block(L, task, "channel:receive");
    struct channel_wait *wait = wait_new(task, 1, false);
    wait->waiters[0].channel = channel;
    queue_push(&channel->receivers, &wait->waiters[0]);
    return task_wait(L, task, cancel_channel_wait, wait, NULL, 0);
}

static int channel_close_lua(lua_State *L)
{
    channel_close(L, 1);
    lua_pushboolean(L, 1);
    return 1;
}

static int channel_push_case(lua_State *L, bool sending)
{
    channel_check(L, 1);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "channel");
    lua_pushboolean(L, sending);
    lua_setfield(L, -2, "send");
    if (sending) {
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "value");
    }
    return 1;
}

static int channel_case_send_lua(lua_State *L)
{
    luaL_checkany(L, 2);
    return channel_push_case(L, true);
}

static int channel_case_receive_lua(lua_State *L)
{
    return channel_push_case(L, false);
}

/* Reads case i of the cases table at index 1: pushes its channel and
 * returns whether it sends. Raises on a malformed case. */
static bool read_case(lua_State *L, int i, struct channel **channel)
{
    if (lua_rawgeti(L, 1, i) != LUA_TTABLE)
        luaL_error(L, "channel.select: case %d is not a case (use ch:case_receive() or ch:case_send(v))", i);
    lua_getfield(L, -1, "channel");
    *channel = luaL_testudata(L, -1, CHANNEL_TYPE);
    if (*channel == NULL)
        luaL_error(L, "channel.select: case %d has no channel", i);
    lua_getfield(L, -2, "send");
    bool sending = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_remove(L, -2);
    return sending;
}

static void push_result(lua_State *L, int case_index, int value_index, bool ok)
{
    lua_createtable(L, 0, 3);
    lua_rawgeti(L, 1, case_index);
    lua_getfield(L, -1, "channel");
    lua_setfield(L, -3, "channel");
    lua_pop(L, 1);
    lua_pushvalue(L, value_index);
    lua_setfield(L, -2, "value");
    lua_pushboolean(L, ok);
    lua_setfield(L, -2, "ok");
}

int channel_select_function(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    int count = (int)lua_rawlen(L, 1);
    lua_getfield(L, 1, "default");
    bool has_default = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (count == 0 && !has_default)
        return luaL_error(L, "channel.select: no cases");

    /* Start at a random case so that one busy channel cannot starve the rest. */
    int start = count > 0 ? rand() % count : 0;
    for (int step = 0; step < count; step++) {
        int i = 1 + (start + step) % count;
        struct channel *channel;
        bool sending = read_case(L, i, &channel);
        int channel_index = lua_gettop(L);
        enum attempt result;
        if (sending) {
            lua_rawgeti(L, 1, i);
            lua_getfield(L, -1, "value");
            lua_remove(L, -2);
            push_outgoing(L, channel, -1);
            lua_remove(L, -2);
            int value_index = lua_gettop(L);
            lua_pushvalue(L, value_index);
            result = try_send(L, channel_index, channel);
            if (result == ATTEMPT_WOULD_BLOCK || result == ATTEMPT_CLOSED)
                lua_pop(L, 1);
            if (result != ATTEMPT_WOULD_BLOCK) {
                push_result(L, i, value_index, result == ATTEMPT_DONE);
                return 1;
            }
        } else {
            result = try_receive(L, channel_index, channel);
            if (result == ATTEMPT_CLOSED)
                lua_pushnil(L);
            if (result != ATTEMPT_WOULD_BLOCK) {
                push_result(L, i, lua_gettop(L), result == ATTEMPT_DONE);
                return 1;
            }
        }
        lua_settop(L, 1);
    }
    if (has_default) {
        lua_createtable(L, 0, 2);
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "default");
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "ok");
        return 1;
    }

    struct task *task = task_current(L);
    task_check_can_block(L, task, "channel.select");
    struct channel_wait *wait = wait_new(task, count, true);
    for (int i = 1; i <= count; i++) {
        struct channel_waiter *waiter = &wait->waiters[i - 1];
        waiter->sending = read_case(L, i, &waiter->channel);
        waiter->channel_reference = luaL_ref(L, LUA_REGISTRYINDEX);
        if (waiter->sending) {
            lua_rawgeti(L, 1, i);
            lua_getfield(L, -1, "value");
            push_outgoing(L, waiter->channel, -1);
            waiter->value_reference = luaL_ref(L, LUA_REGISTRYINDEX);
            lua_pop(L, 2);
            queue_push(&waiter->channel->senders, waiter);
        } else {
            queue_push(&waiter->channel->receivers, waiter);
        }
    }
    return task_wait(L, task, cancel_channel_wait, wait, NULL, 0);
}

void channel_register_type(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"send", channel_send_lua},
        {"receive", channel_receive_lua},
        {"close", channel_close_lua},
        {"case_send", channel_case_send_lua},
        {"case_receive", channel_case_receive_lua},
        {NULL, NULL},
    };
    state_new_type(L, CHANNEL_TYPE, methods, STATE_SHARED, channel_share);
    lua_pop(L, 1);
}
