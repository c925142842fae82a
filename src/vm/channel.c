/* channel.c - Go-style channels between tasks: the channel type with its
 * methods (:send, :receive, :close, :case_send, :case_receive), select, and
 * the C side the VM feeds (inboxes, events, timers).
 *
 * A channel is C memory that a userdata in each heap holding it points at.
 * While private to one process (so to one heap) it buffers Lua values in
 * its userdata's user value, and a blocked sender's value is a reference in
 * that heap. Once shared, every value sent is a message (vm/message.h), so
 * a task of any heap can take it; a buffered message stays its sender's to
 * pay for (vm/heap.h). A blocked task is always completed on its own
 * thread, whichever heap the task completing it runs in. */
#include "vm/channel.h"

#include <lauxlib.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/list.h"
#include "util/memory.h"
#include "vm/core.h"
#include "vm/credit.h"
#include "vm/heap.h"
#include "vm/mailbox.h"
#include "vm/message.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/transfer.h"
#include "util/log.h"

#define CHANNEL_TYPE "wippy.channel"
#define KEY_CHANNEL_HANDLES "wippy.channel.handles"
#define CHANNEL_SELECT_MAX_CASES 10000

struct channel_wait;

/* One blocked operation of one task on one channel. */
struct channel_waiter {
    struct channel_waiter *previous;
    struct channel_waiter *next;
    struct channel *channel;
    struct channel_wait *wait;
    bool sending;
    int value_reference;     /* the value a sender offers (in its own heap) */
    struct message *message; /* the same value, as a shared channel carries it */
    struct heap_account *account; /* pays for message while it waits */
    size_t credit;           /* what a receiver of another loop took: given back to account */
    int channel_reference;   /* select: the case's channel, for result.channel */
};

/* A blocked task: a plain send/receive (one waiter) or a select (many).
 * Whoever completes it claims it first (a crossed channel's waiters are
 * seen by other loops too). One of another loop gets its outcome posted
 * to the task's loop; claimed waiters stay queued, skipped by everyone,
 * until that loop takes them out. */
struct channel_wait {
    struct task *task;
    bool is_select;
    atomic_bool claimed;
    bool crossed;            /* a waiter of it is in a crossed channel */
    bool abandoned;          /* its task went away while its outcome was posted */
    struct vm_post post;     /* the outcome, on its way to the task's loop */
    struct channel_waiter *chosen;
    struct message *outcome; /* what the chosen receiver gets (NULL: nil) */
    bool outcome_ok;
    int waiter_count;
    struct channel_waiter waiters[];
};

/* Waiters in arrival order. The head's previous is the tail (so a channel
 * keeps one pointer per queue, not two); the tail's next is NULL. A waiter
 * is queued exactly when its previous is set. */
struct waiter_queue {
    struct channel_waiter *head;
};

/* A value waiting in a shared channel's buffer. */
struct buffered {
    struct buffered *next;
    struct message *message;
    struct heap_account *account; /* pays for it while it waits: its sender's */
    struct vm_mailbox *home;      /* crossed: the loop of account, where it is given back */
};

struct channel {
    int references;   /* the userdata pointing here, and exports in flight */
    bool sharing;     /* its share hook is running (a channel holding itself) */
    struct channel *release_next; /* channel_release's list */
    int handles;      /* userdata pointing here, in any heap */
    struct channel *shared_previous; /* the VM's shared channels */
    struct channel *shared_next;
    int internal;     /* channel_collect_cycles: references from messages of candidates */
    bool live;        /* channel_collect_cycles: reachable from outside the candidates */
    bool dead;        /* channel_collect_cycles: held only by a cycle, being emptied */
    struct vm *vm;
    size_t capacity;
    size_t count;
    lua_Integer head; /* private: buffer index of the oldest value */
    struct buffered *first; /* shared: the oldest value */
    struct buffered *last;
    bool closed;
    bool shared; /* reachable from more than one process: values travel as messages */
    bool runtime_filled; /* a process's inbox or events: Lua code may not send on it */
    bool crossed;        /* reached another scheduler thread: its state is crossed_lock's */
    struct waiter_queue receivers;
    struct waiter_queue senders;
};

/* ---- waiter queues ---- */

static void queue_push(struct waiter_queue *queue, struct channel_waiter *waiter)
{
    struct channel_waiter *head = queue->head;
    waiter->next = NULL;
    if (head == NULL) {
        waiter->previous = waiter;
        queue->head = waiter;
    } else {
        struct channel_waiter *tail = head->previous;
        tail->next = waiter;
        waiter->previous = tail;
        head->previous = waiter;
    }
}

static void queue_remove(struct waiter_queue *queue, struct channel_waiter *waiter)
{
    if (waiter->previous == NULL)
        return; /* not queued */
    struct channel_waiter *head = queue->head;
    if (waiter == head) {
        queue->head = waiter->next;
        if (waiter->next != NULL)
            waiter->next->previous = waiter->previous; /* the tail */
    } else {
        waiter->previous->next = waiter->next;
        if (waiter->next != NULL)
            waiter->next->previous = waiter->previous;
        else
            head->previous = waiter->previous; /* it was the tail */
    }
    waiter->next = waiter->previous = NULL;
}

/* ---- crossed channels: their lock, claims ---- */

/* One lock for the state of every crossed channel, so that a select over
 * several takes one. Recursive: letting go of a channel can free messages
 * that let go of others. */
static uv_mutex_t crossed_lock;
static uv_once_t crossed_lock_once = UV_ONCE_INIT;

static void crossed_lock_init(void)
{
    uv_mutex_init_recursive(&crossed_lock);
}

static void lock_crossed(void)
{
    uv_once(&crossed_lock_once, crossed_lock_init);
    uv_mutex_lock(&crossed_lock);
}

static void unlock_crossed(void)
{
    uv_mutex_unlock(&crossed_lock);
}

/* Every crossed channel, for their cycle collection (under the lock). */
static struct channel *crossed_channels;
static size_t crossed_channel_count;
static size_t crossed_suspects;
static atomic_bool crossed_collection_due; /* read between tasks without the lock */

static bool claim(struct channel_wait *wait)
{
    bool expected = false;
    return atomic_compare_exchange_strong(&wait->claimed, &expected, true);
}

/* The first waiter of the queue whose wait this call could claim, or NULL.
 * Waiters claimed already (another case of a select, by another loop or
 * by this call) leave the queue as they are met: nobody may claim them
 * again, and no one meets them twice (a select of many cases on one
 * channel, closed, is linear). The queue's channel's thread, or the lock. */
static struct channel_waiter *claim_first(struct waiter_queue *queue)
{
    struct channel_waiter *waiter;
    while ((waiter = queue->head) != NULL) {
        if (claim(waiter->wait))
            return waiter;
        queue_remove(queue, waiter);
    }
    return NULL;
}

/* What holding a message costs: its bytes and about what its bookkeeping
 * takes (the message, a buffer slot, the allocator's headers). */
static size_t cost_of(const struct message *message)
{
    return message_held_bytes(message) + 160;
}

/* A message a sender had been charged for, taken by a receiver (or dropped). */
static struct message *hand_over(struct vm *vm, struct message *message, struct heap_account *account)
{
    heap_account_let_go(vm, account, cost_of(message));
    return message;
}

/* Takes every waiter of a wait out of its channel and lets go of what it
 * holds, all but the wait itself and its posted outcome. Its references
 * are in the waiting task's heap: on its thread. */
static void wait_clear(struct channel_wait *wait)
{
    lua_State *L = wait->task->heap->lua;
    if (wait->crossed)
        lock_crossed();
    for (int i = 0; i < wait->waiter_count; i++) {
        struct channel_waiter *waiter = &wait->waiters[i];
        struct channel *channel = waiter->channel;
        if (channel != NULL)
            queue_remove(waiter->sending ? &channel->senders : &channel->receivers, waiter);
    }
    if (wait->crossed)
        unlock_crossed();
    for (int i = 0; i < wait->waiter_count; i++) {
        struct channel_waiter *waiter = &wait->waiters[i];
        luaL_unref(L, LUA_REGISTRYINDEX, waiter->value_reference);
        luaL_unref(L, LUA_REGISTRYINDEX, waiter->channel_reference);
        if (waiter->message != NULL) /* never taken: the sender pays no more */
            message_free(hand_over(wait->task->vm, waiter->message, waiter->account));
        if (waiter->credit > 0) /* taken by a receiver of another loop */
            heap_account_let_go(wait->task->vm, waiter->account, waiter->credit);
        waiter->message = NULL;
        waiter->credit = 0;
    }
}

static void wait_dispose(struct channel_wait *wait)
{
    wait_clear(wait);
    message_free(wait->outcome);
    free(wait);
}

/* The task goes away while it waits. A wait another loop claimed has its
 * outcome posted already (the claim and the post happen under the lock):
 * it is left for that post to free. */
static void cancel_channel_wait(struct task *task)
{
    struct channel_wait *wait = task->wait_data;
    if (wait->crossed)
        lock_crossed();
    bool mine = claim(wait);
    if (wait->crossed)
        unlock_crossed();
    if (mine) {
        wait_dispose(wait);
        return;
    }
    wait_clear(wait);
    wait->abandoned = true;
}

/* ---- completing a blocked task, on its own thread ---- */

/* Replaces the value on top of the waiting task's thread with the select
 * result {channel = <the case's channel>, value = <it>, ok = ok}. It reads
 * nothing of the task's own tables: no metamethod of theirs may run here. */
static void make_select_result(struct channel_waiter *waiter, bool ok)
{
    lua_State *thread = waiter->wait->task->thread;
    lua_createtable(thread, 0, 3);
    lua_insert(thread, -2);
    lua_setfield(thread, -2, "value");
    lua_rawgeti(thread, LUA_REGISTRYINDEX, waiter->channel_reference);
    lua_setfield(thread, -2, "channel");
    lua_pushboolean(thread, ok);
    lua_setfield(thread, -2, "ok");
}

/* Wakes a receiver whose value is on top of its thread. */
static void wake_receiver(struct channel_waiter *waiter, bool ok)
{
    struct channel_wait *wait = waiter->wait;
    struct task *task = wait->task;
    if (wait->is_select) {
        make_select_result(waiter, ok);
        wait_dispose(wait);
        task_wake(task, 1);
    } else {
        lua_pushboolean(task->thread, ok);
        wait_dispose(wait);
        task_wake(task, 2);
    }
}

/* The allocations below are the waiting task's, made while another task
 * runs: its account pays, and no limit applies (core.h). */
static struct heap_account *begin_for(struct task *task)
{
    vm_unlimited_begin(task->vm);
    return heap_charge_begin(task->vm, task->account != NULL ? task->account : task->vm->runtime_account);
}

static void end_for(struct task *task, struct heap_account *previous)
{
    heap_charge_end(task->vm, previous);
    vm_unlimited_end(task->vm);
}

/* Completes a waiting receiver with the value on top of L (popped), a
 * thread of the receiver's own heap. */
static void complete_receiver(lua_State *L, struct channel_waiter *waiter, bool ok)
{
    struct task *task = waiter->wait->task;
    struct heap_account *charged = begin_for(task);
    lua_xmove(L, task->thread, 1);
    wake_receiver(waiter, ok);
    end_for(task, charged);
}

/* Completes a waiting receiver with a message (NULL: nil), in any heap. */
static void complete_receiver_with(struct channel_waiter *waiter, struct message *message, bool ok)
{
    struct task *task = waiter->wait->task;
    struct heap_account *charged = begin_for(task);
    struct wippy_error error;
    if (message == NULL || !lua_checkstack(task->thread, 4) ||
        message_push(task->thread, message, &error) < 0) {
        if (message != NULL && lua_checkstack(task->thread, 4))
            log_message(LOG_WARN, "a value sent on a channel was lost: %s", error.message);
        lua_pushnil(task->thread);
    }
    wake_receiver(waiter, ok);
    end_for(task, charged);
}

/* Completes a waiting sender (its value was taken, or the channel closed). */
static void complete_sender(struct channel_waiter *waiter, bool ok)
{
    struct channel_wait *wait = waiter->wait;
    struct task *task = wait->task;
    struct heap_account *charged = begin_for(task);
    if (wait->is_select) {
        lua_rawgeti(task->thread, LUA_REGISTRYINDEX, waiter->value_reference);
        make_select_result(waiter, ok);
        wait_dispose(wait);
        task_wake(task, 1);
    } else {
        lua_pushboolean(task->thread, ok);
        wait_dispose(wait);
        task_wake(task, 1);
    }
    end_for(task, charged);
}

/* ---- private buffer (the channel userdata's user value, created on first use) ---- */

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

/* ---- shared buffer: messages ---- */

static void shared_append_from(struct channel *channel, struct message *message, struct heap_account *account,
                               struct vm_mailbox *home)
{
    struct buffered *item = xmalloc(sizeof *item);
    *item = (struct buffered){NULL, message, account, home};
    if (home != NULL)
        vm_mailbox_retain(home);
    if (channel->last != NULL)
        channel->last->next = item;
    else
        channel->first = item;
    channel->last = item;
    channel->count++;
}

static void shared_append(struct channel *channel, struct message *message, struct heap_account *account)
{
    shared_append_from(channel, message, account, NULL);
}


/* A buffered item's sender pays for it no more: here's own account at once
 * (a channel of one loop: here is that loop), a crossed item's through its
 * home (here may then be NULL: unknown). */
static void give_back(struct vm *here, struct buffered *item)
{
    if (item->home == NULL) {
        heap_account_let_go(here, item->account, cost_of(item->message));
        return;
    }
    credit_give(here, item->home, item->account, cost_of(item->message));
    vm_mailbox_release(item->home);
}

/* Takes the oldest message; its sender no longer pays for it. here is the
 * loop taking it (NULL: unknown, as when a channel is freed). */
static struct message *shared_take_here(struct vm *here, struct channel *channel)
{
    struct buffered *item = channel->first;
    channel->first = item->next;
    if (channel->first == NULL)
        channel->last = NULL;
    channel->count--;
    struct message *message = item->message;
    give_back(item->home == NULL ? channel->vm : here, item);
    free(item);
    return message;
}

static struct message *shared_take(struct channel *channel)
{
    return shared_take_here(NULL, channel);
}

/* The value at index of L as a message for a shared channel, charged to
 * whoever pays now (the sending task, or the receiver of a delivery) within
 * its limit. NULL with error when it cannot travel or be paid for. */
static struct message *take_outgoing(lua_State *L, int index, struct channel *channel,
                                     struct heap_account **account, struct wippy_error *error)
{
    struct vm *vm = vm_of(L);
    struct message *message = message_take(L, index, 0, error);
    if (message == NULL)
        return NULL;
    *account = vm->charged;
    if (!heap_account_hold(vm, *account, cost_of(message))) {
        message_free(message);
        error_set(error, WIPPY_ENOMEM, "not enough memory");
        return NULL;
    }
    return message;
}

/* ---- crossed channels: what goes to another loop ---- */

enum attempt { ATTEMPT_DONE, ATTEMPT_CLOSED, ATTEMPT_WOULD_BLOCK, ATTEMPT_FAILED };

static struct channel_wait *wait_of_post(struct vm_post *post)
{
    return (struct channel_wait *)((char *)post - offsetof(struct channel_wait, post));
}

/* On the waiting task's loop: the outcome another loop decided. */
static void deliver_outcome(struct vm *vm, struct vm_post *post)
{
    struct channel_wait *wait = wait_of_post(post);
    (void)vm;
    if (wait->abandoned) {
        message_free(wait->outcome);
        free(wait);
        return;
    }
    struct channel_waiter *waiter = wait->chosen;
    if (waiter->sending) {
        complete_sender(waiter, wait->outcome_ok);
    } else {
        struct message *message = wait->outcome;
        wait->outcome = NULL;
        complete_receiver_with(waiter, message, wait->outcome_ok);
    }
}

/* Only when the loop has stopped, its tasks gone: the wait was abandoned. */
static void drop_outcome(struct vm_post *post)
{
    struct channel_wait *wait = wait_of_post(post);
    message_free(wait->outcome);
    free(wait);
}

/* Outcomes for waiters of the loop that decided them: delivered by
 * deliver_here once the lock is let go (the lock is never held while Lua
 * runs). */
static _Thread_local struct vm_post *outcomes_here, *outcomes_here_last;

/* Under the lock, for a waiter this call claimed: it leaves the channel's
 * queue, and its outcome goes to its task's loop: here's after the lock,
 * another's through its mailbox. */
static void post_outcome(struct vm *here, struct waiter_queue *queue, struct channel_waiter *waiter,
                         struct message *message, bool ok)
{
    struct channel_wait *wait = waiter->wait;
    queue_remove(queue, waiter);
    wait->chosen = waiter;
    wait->outcome = message;
    wait->outcome_ok = ok;
    wait->post = (struct vm_post){NULL, deliver_outcome, drop_outcome};
    if (wait->task->vm == here) { /* in order, as within one loop */
        if (outcomes_here_last != NULL)
            outcomes_here_last->next = &wait->post;
        else
            outcomes_here = &wait->post;
        outcomes_here_last = &wait->post;
        return;
    }
    vm_mailbox_post(wait->task->vm->mailbox, &wait->post);
}

/* After the lock: completes the waiters of this loop an operation decided
 * (one at a time: completing one may run code that decides more). */
static void deliver_here(struct vm *here)
{
    struct vm_post *post;
    while ((post = outcomes_here) != NULL) {
        outcomes_here = post->next;
        if (outcomes_here == NULL)
            outcomes_here_last = NULL;
        deliver_outcome(here, post);
    }
}

/* Under the lock: sends *message (charged to account, of here's loop) on a
 * crossed channel if that can be done now (then *message is NULL). */
static enum attempt crossed_send_locked(struct vm *here, struct channel *channel, struct message **message,
                                        struct heap_account *account)
{
    if (channel->closed)
        return ATTEMPT_CLOSED;
    struct channel_waiter *receiver = claim_first(&channel->receivers);
    if (receiver != NULL) {
        post_outcome(here, &channel->receivers, receiver, hand_over(here, *message, account), true);
        *message = NULL;
        return ATTEMPT_DONE;
    }
    if (channel->count < channel->capacity) {
        shared_append_from(channel, *message, account, here->mailbox);
        *message = NULL;
        return ATTEMPT_DONE;
    }
    return ATTEMPT_WOULD_BLOCK;
}

/* Under the lock: receives from a crossed channel if that can be done now;
 * *message is what came (NULL when the channel is closed). */
static enum attempt crossed_receive_locked(struct vm *here, struct channel *channel, struct message **message)
{
    struct channel_waiter *sender = claim_first(&channel->senders);
    if (channel->count > 0) {
        *message = shared_take_here(here, channel);
        if (sender != NULL) { /* its message moves into the freed slot, still its to pay for */
            shared_append_from(channel, sender->message, sender->account, sender->wait->task->vm->mailbox);
            sender->message = NULL;
            post_outcome(here, &channel->senders, sender, NULL, true);
        }
        return ATTEMPT_DONE;
    }
    if (sender != NULL) {
        *message = sender->message;
        sender->credit = cost_of(*message); /* given back on the sender's loop */
        sender->message = NULL;
        post_outcome(here, &channel->senders, sender, NULL, true);
        return ATTEMPT_DONE;
    }
    *message = NULL;
    return channel->closed ? ATTEMPT_CLOSED : ATTEMPT_WOULD_BLOCK;
}

/* Under the lock, for a prepared waiter not queued yet. */
static enum attempt crossed_try_waiter(struct vm *here, struct channel_waiter *waiter, struct message **received)
{
    if (waiter->sending)
        return crossed_send_locked(here, waiter->channel, &waiter->message, waiter->account);
    return crossed_receive_locked(here, waiter->channel, received);
}

static void crossed_close(struct vm *here, struct channel *channel)
{
    lock_crossed();
    if (!channel->closed) {
        channel->closed = true;
        struct channel_waiter *waiter;
        while ((waiter = claim_first(&channel->receivers)) != NULL)
            post_outcome(here, &channel->receivers, waiter, NULL, false);
        while ((waiter = claim_first(&channel->senders)) != NULL) /* its message is freed on its loop */
            post_outcome(here, &channel->senders, waiter, NULL, false);
    }
    unlock_crossed();
    deliver_here(here);
}

/* A coroutine of the task's own resumed where the task cannot yield (in a
 * metamethod, table.sort's comparator) can only fail to block: a waiter
 * it would leave in a crossed channel meanwhile could be completed by
 * another loop and its value lost, so none is queued. */
static bool can_really_block(const struct task *task)
{
    return task->unyieldable_resumes == 0;
}

/* Blocks with nothing to wait for: the resume that cannot yield says so. */
static int fail_where_resumed(lua_State *L, struct task *task)
{
    return task_wait(L, task, NULL, NULL, NULL, 0);
}

static void mark_wait_crossed(struct channel_wait *wait)
{
    if (wait->crossed)
        return;
    wait->crossed = true;
}

/* With several scheduler threads every channel that comes to be shared
 * becomes crossed as it does (on its loop, before any other can reach it,
 * and so does every channel a message in it holds, shared before it):
 * what waits in it learns where it is paid for, and it joins the crossed
 * channels' cycle collection. */
static void mark_crossed(struct vm *vm, struct channel *channel)
{
    for (struct buffered *item = channel->first; item != NULL; item = item->next) {
        item->home = vm->mailbox;
        vm_mailbox_retain(vm->mailbox);
    }
    for (struct channel_waiter *waiter = channel->senders.head; waiter != NULL; waiter = waiter->next)
        mark_wait_crossed(waiter->wait);
    for (struct channel_waiter *waiter = channel->receivers.head; waiter != NULL; waiter = waiter->next)
        mark_wait_crossed(waiter->wait);
    lock_crossed();
    channel->crossed = true;
    DLIST_PUSH(crossed_channels, channel, shared_previous, shared_next);
    crossed_channel_count++;
    unlock_crossed();
}

/* ---- non-blocking attempts ---- */



/* Receives into L's top: the value, when the result is ATTEMPT_DONE. */
static enum attempt try_receive(lua_State *L, int channel_index, struct channel *channel)
{
    struct wippy_error error;
    if (channel->crossed) {
        struct vm *vm = vm_of(L);
        struct message *message;
        lock_crossed();
        enum attempt result = crossed_receive_locked(vm, channel, &message);
        unlock_crossed();
        deliver_here(vm);
        if (result != ATTEMPT_DONE)
            return result;
        vm_unlimited_begin(vm); /* as a blocked receiver gets it */
        int rc = message_push(L, message, &error);
        vm_unlimited_end(vm);
        if (rc < 0)
            luaL_error(L, "%s", error.message);
        return ATTEMPT_DONE;
    }
    struct channel_waiter *sender = claim_first(&channel->senders);
    if (channel->shared) {
        struct message *message = NULL;
        if (channel->count > 0) {
            message = shared_take(channel);
            if (sender != NULL) { /* its message moves into the freed buffer slot */
                shared_append(channel, sender->message, sender->account);
                sender->message = NULL;
                complete_sender(sender, true);
            }
        } else if (sender != NULL) {
            message = hand_over(channel->vm, sender->message, sender->account);
            sender->message = NULL;
            complete_sender(sender, true);
        } else {
            return channel->closed ? ATTEMPT_CLOSED : ATTEMPT_WOULD_BLOCK;
        }
        /* as a blocked receiver gets it: the sender paid for it so far */
        struct vm *vm = channel->vm;
        vm_unlimited_begin(vm);
        int rc = message_push(L, message, &error);
        vm_unlimited_end(vm);
        if (rc < 0)
            luaL_error(L, "%s", error.message);
        return ATTEMPT_DONE;
    }
    if (channel->count > 0) {
        buffer_take(L, channel_index, channel);
        if (sender != NULL) { /* its value moves into the freed buffer slot */
            lua_rawgeti(L, LUA_REGISTRYINDEX, sender->value_reference);
            buffer_append(L, channel_index, channel);
            complete_sender(sender, true);
        }
        return ATTEMPT_DONE;
    }
    if (sender != NULL) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, sender->value_reference);
        complete_sender(sender, true);
        return ATTEMPT_DONE;
    }
    return channel->closed ? ATTEMPT_CLOSED : ATTEMPT_WOULD_BLOCK;
}

/* Sends the value on top of L (popped when ATTEMPT_DONE). ATTEMPT_FAILED:
 * a shared channel could not take it (error says why). */
static enum attempt try_send(lua_State *L, int channel_index, struct channel *channel, struct wippy_error *error)
{
    if (channel->crossed) {
        struct vm *vm = vm_of(L);
        struct heap_account *account;
        struct message *message = take_outgoing(L, -1, channel, &account, error);
        if (message == NULL)
            return ATTEMPT_FAILED;
        lock_crossed();
        enum attempt result = crossed_send_locked(vm, channel, &message, account);
        unlock_crossed();
        deliver_here(vm);
        if (message != NULL) /* not sent: the sender pays no more */
            message_free(hand_over(vm, message, account));
        if (result == ATTEMPT_DONE)
            lua_pop(L, 1);
        return result;
    }
    if (channel->closed)
        return ATTEMPT_CLOSED;
    if (channel->receivers.head == NULL && channel->count >= channel->capacity)
        return ATTEMPT_WOULD_BLOCK;
    if (!channel->shared) {
        struct channel_waiter *receiver = claim_first(&channel->receivers);
        if (receiver != NULL)
            complete_receiver(L, receiver, true);
        else if (channel->count < channel->capacity)
            buffer_append(L, channel_index, channel);
        else
            return ATTEMPT_WOULD_BLOCK; /* its receivers were claimed by another loop */
        return ATTEMPT_DONE;
    }
    /* the value first: a receiver claimed is always completed */
    struct heap_account *account;
    struct message *message = take_outgoing(L, -1, channel, &account, error);
    if (message == NULL)
        return ATTEMPT_FAILED;
    struct channel_waiter *receiver = claim_first(&channel->receivers);
    if (receiver == NULL && channel->count >= channel->capacity) {
        message_free(hand_over(channel->vm, message, account));
        return ATTEMPT_WOULD_BLOCK;
    }
    lua_pop(L, 1);
    if (receiver != NULL)
        complete_receiver_with(receiver, hand_over(channel->vm, message, account), true);
    else
        shared_append(channel, message, account);
    return ATTEMPT_DONE;
}

/* ---- the userdata ---- */

/* Freeing a channel frees the messages buffered in it, which may let go of
 * other channels, and so on: a list, not a recursion, however long the
 * chain. */
static _Thread_local struct channel *releasing;
static _Thread_local bool draining;

static void channel_release(struct channel *channel)
{
    if (channel->crossed) {
        lock_crossed();
        int left = --channel->references;
        if (left == 0) { /* gone from the crossed channels at once: no collection meets it drained */
            DLIST_REMOVE(crossed_channels, channel, shared_previous, shared_next);
            crossed_channel_count--;
        }
        unlock_crossed();
        if (left > 0)
            return;
    } else if (--channel->references > 0) {
        return;
    }
    channel->release_next = releasing;
    releasing = channel;
    if (draining)
        return;
    draining = true;
    while (releasing != NULL) {
        struct channel *next = releasing;
        releasing = next->release_next;
        while (next->first != NULL)
            message_free(shared_take(next));
        if (!next->crossed && next->shared) {
            DLIST_REMOVE(next->vm->shared_channels, next, shared_previous, shared_next);
            next->vm->shared_channel_count--;
        }
        free(next);
    }
    draining = false;
}

/* A shared channel whose last userdata goes while messages still hold it
 * may be held only by a cycle of messages (A buffers B, B buffers A): it
 * is a suspect for channel_collect_cycles. */
static int channel_collect(lua_State *L)
{
    struct channel **slot = luaL_checkudata(L, 1, CHANNEL_TYPE);
    struct channel *channel = *slot;
    *slot = NULL;
    if (channel == NULL)
        return 0;
    struct vm *vm = vm_of(L);
    if (channel->crossed) {
        lock_crossed();
        if (--channel->handles == 0 && channel->references > 1 &&
            ++crossed_suspects >= 64 + crossed_channel_count / 2)
            atomic_store(&crossed_collection_due, true);
        unlock_crossed();
    } else if (--channel->handles == 0 && channel->references > 1 && channel->shared) {
        vm->channel_suspects++;
    }
    channel_release(channel);
    channel_maybe_collect_cycles(vm); /* C memory only: safe inside a collection */
    return 0;
}

struct channel *channel_push_new(lua_State *L, size_t capacity)
{
    struct channel **slot = lua_newuserdatauv(L, sizeof *slot, 1);
    *slot = NULL;
    luaL_setmetatable(L, CHANNEL_TYPE);
    struct channel *channel = xcalloc(1, sizeof *channel);
    *channel = (struct channel){.references = 1, .handles = 1, .vm = vm_of(L), .capacity = capacity, .head = 1};
    *slot = channel;
    return channel;
}

void channel_set_runtime_filled(struct channel *channel)
{
    channel->runtime_filled = true;
}

static void refuse_runtime_filled(lua_State *L, const struct channel *channel)
{
    if (channel->runtime_filled)
        luaL_error(L, "only the runtime sends on a process's inbox or events channel");
}

struct channel *channel_check(lua_State *L, int index)
{
    struct channel **slot = luaL_checkudata(L, index, CHANNEL_TYPE);
    if (*slot == NULL)
        luaL_error(L, "the channel is gone");
    return *slot;
}

bool channel_offer(lua_State *L, int channel_index)
{
    channel_index = lua_absindex(L, channel_index);
    struct channel *channel = channel_check(L, channel_index);
    struct wippy_error error;
    enum attempt result = try_send(L, channel_index, channel, &error);
    if (result != ATTEMPT_DONE)
        lua_pop(L, 1);
    return result == ATTEMPT_DONE;
}

/* Pushes the value at index, copied when the channel is shared but still
 * within this heap (a message is taken when it is sent). */
static void push_outgoing(lua_State *L, struct channel *channel, int index)
{
    lua_pushvalue(L, index);
    (void)channel;
}

/* ---- sharing ---- */

/* The handles of this heap, by channel: a channel that comes back to a heap
 * is the userdata it already has there (so == holds). Weak values. */
static void push_handles(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, KEY_CHANNEL_HANDLES) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_CHANNEL_HANDLES);
}

/* Takes every value waiting in a private channel (buffered, or offered by
 * a blocked sender) as a message, buffered ones first. On failure frees
 * what it took and returns NULL; nothing is changed then. */
static struct message **take_waiting_values(lua_State *L, int index, struct channel *channel,
                                            struct wippy_error *error)
{
    size_t count = channel->count;
    for (struct channel_waiter *sender = channel->senders.head; sender != NULL; sender = sender->next)
        count++; /* claimed or not: a claim by another loop may come meanwhile */
    struct message **messages = xcalloc(count + 1, sizeof *messages);
    size_t taken = 0;
    bool failed = false;
    if (channel->count > 0) {
        push_buffer(L, index);
        for (size_t i = 0; i < channel->count && !failed; i++) {
            lua_rawgeti(L, -1, channel->head + (lua_Integer)i);
            messages[taken] = message_take(L, -1, 0, error);
            failed = messages[taken++] == NULL;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    for (struct channel_waiter *sender = channel->senders.head; sender != NULL && !failed;
         sender = sender->next) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, sender->value_reference);
        messages[taken] = message_take(L, -1, 0, error);
        failed = messages[taken++] == NULL;
        lua_pop(L, 1);
    }
    if (failed) {
        for (size_t i = 0; i < taken; i++)
            message_free(messages[i]);
        free(messages);
        return NULL;
    }
    return messages;
}

/* The channel of the userdata at index, or NULL (with error) when it is
 * gone (its finalizer ran: a value a weak table gave back). Never raises:
 * the share hook and export run where nothing catches. */
static struct channel *channel_at(lua_State *L, int index, struct wippy_error *error)
{
    struct channel **slot = luaL_testudata(L, index, CHANNEL_TYPE);
    if (slot == NULL || *slot == NULL)
        error_set(error, WIPPY_EINVAL, "the channel is gone");
    return slot != NULL ? *slot : NULL;
}

static int refuse_share(struct channel *channel, struct message **messages, size_t count,
                        struct wippy_error *error, const char *reason)
{
    for (size_t i = 0; i < count; i++)
        message_free(messages[i]);
    free(messages);
    channel->sharing = false;
    return error_set(error, WIPPY_EINVAL, "cannot pass a channel holding %s", reason);
}

/* The share hook of the channel type: from now on values sent travel as
 * messages, and the values already waiting become messages as it crosses,
 * paid for by whoever shares it, within its limit. */
static int share_now(lua_State *L, int index, struct channel *channel, struct wippy_error *error);

/* The channel whose share runs now on this thread: a share met inside
 * another's values completes before it, so it must not hold the first. */
static _Thread_local struct channel *sharing_now;

static int channel_share(lua_State *L, int index, struct wippy_error *error)
{
    struct channel *channel = channel_at(L, index, error);
    if (channel == NULL)
        return error->code;
    if (channel->shared)
        return WIPPY_OK;
    if (channel->sharing) { /* met again inside its own values: exported as it is */
        if (channel != sharing_now) /* inside another's, which would be shared before it is */
            return error_set(error, WIPPY_EINVAL, "cannot pass private channels that hold each other "
                                                  "(pass one to another process first)");
        return WIPPY_OK;
    }
    struct channel *outer = sharing_now;
    sharing_now = channel;
    int rc = share_now(L, index, channel, error);
    sharing_now = outer;
    return rc;
}

/* channel_share, for a private channel: its values become messages. */
static int share_now(lua_State *L, int index, struct channel *channel, struct wippy_error *error)
{
    channel->sharing = true;
    index = lua_absindex(L, index);
    struct wippy_error reason;
    struct message **messages = take_waiting_values(L, index, channel, &reason);
    if (messages == NULL) {
        channel->sharing = false;
        return error_set(error, reason.code,
                         "cannot pass a channel holding a value that cannot leave its process (%s)",
                         reason.message);
    }
    size_t count = channel->count, next = 0;
    for (struct channel_waiter *sender = channel->senders.head; sender != NULL; sender = sender->next)
        count++; /* a sender claimed by another loop gets its message all the same: freed as its wait ends */
    size_t cost = 0;
    for (size_t i = 0; i < count; i++)
        cost += cost_of(messages[i]);
    struct heap_account *account = channel->vm->charged;
    if (!heap_account_hold(channel->vm, account, cost))
        return refuse_share(channel, messages, count, error, "more than its sharer can pay for (not enough memory)");
    /* one hold of the whole, let go message by message (with several
     * threads the runtime-wide bound can move meanwhile: held once, no
     * message can be refused halfway) */
    heap_account_split_hold(channel->vm, account, count);
    size_t buffered = channel->count;
    channel->count = 0;
    channel->head = 1;
    lua_pushnil(L);
    lua_setiuservalue(L, index, 1);
    while (next < buffered)
        shared_append(channel, messages[next++], account);
    for (struct channel_waiter *sender = channel->senders.head; sender != NULL; sender = sender->next) {
        sender->account = account;
        sender->message = messages[next++];
    }
    free(messages);
    channel->sharing = false;
    channel->shared = true;
    if (channel->vm->config->threads > 1) { /* any process, so any loop, may come to hold it */
        mark_crossed(channel->vm, channel);
        return WIPPY_OK;
    }
    DLIST_PUSH(channel->vm->shared_channels, channel, shared_previous, shared_next);
    channel->vm->shared_channel_count++;
    return WIPPY_OK;
}

/* One more reference or handle: a crossed channel's counts are the lock's. */
static void count_up(struct channel *channel, int *count)
{
    if (!channel->crossed) {
        (*count)++;
        return;
    }
    lock_crossed();
    (*count)++;
    unlock_crossed();
}

static int channel_export(lua_State *L, int index, void **out, struct wippy_error *error)
{
    struct channel *channel = channel_at(L, index, error);
    if (channel == NULL)
        return error->code;
    index = lua_absindex(L, index);
    push_handles(L); /* so that it is this userdata again if it comes back */
    lua_pushvalue(L, index);
    lua_rawsetp(L, -2, channel);
    lua_pop(L, 1);
    count_up(channel, &channel->references);
    *out = channel;
    return WIPPY_OK;
}

static int channel_import(lua_State *L, void *exported, struct wippy_error *error)
{
    struct channel *channel = exported;
    push_handles(L);
    if (lua_rawgetp(L, -1, channel) == LUA_TUSERDATA) {
        lua_remove(L, -2);
        channel_release(channel); /* the handle here holds one already */
        return WIPPY_OK;
    }
    lua_pop(L, 1);
    struct channel **slot = lua_newuserdatauv(L, sizeof *slot, 1);
    *slot = NULL;
    luaL_setmetatable(L, CHANNEL_TYPE);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, -3, channel);
    *slot = channel; /* from here on the userdata owns the exported reference */
    count_up(channel, &channel->handles);
    lua_remove(L, -2);
    (void)error;
    return WIPPY_OK;
}

static void channel_export_release(void *exported)
{
    channel_release(exported);
}

static const struct state_transport channel_transport = {CHANNEL_TYPE, channel_export, channel_import,
                                                          channel_export_release, false, NULL};

/* ---- closing ---- */

void channel_close(lua_State *L, int index)
{
    struct channel *channel = channel_check(L, index);
    if (channel->crossed) {
        crossed_close(vm_of(L), channel);
        return;
    }
    if (channel->closed)
        return;
    channel->closed = true;
    struct channel_waiter *receiver, *sender;
    while ((receiver = claim_first(&channel->receivers)) != NULL) {
        if (channel->shared) {
            complete_receiver_with(receiver, NULL, false);
        } else {
            lua_pushnil(L);
            complete_receiver(L, receiver, false);
        }
    }
    while ((sender = claim_first(&channel->senders)) != NULL) {
        if (sender->message != NULL)
            message_free(hand_over(channel->vm, sender->message, sender->account));
        sender->message = NULL;
        complete_sender(sender, false);
    }
}

/* ---- Lua methods ---- */

static struct channel_wait *wait_new(struct task *task, int waiter_count, bool is_select)
{
    struct channel_wait *wait =
        xcalloc(1, sizeof *wait + (size_t)waiter_count * sizeof(struct channel_waiter));
    wait->task = task;
    wait->is_select = is_select;
    atomic_init(&wait->claimed, false);
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

/* A blocked sender on a shared channel: its value as a message, charged
 * to it while it waits. Raises when it cannot travel. */
static void offer_message(lua_State *L, struct channel_waiter *waiter, int value_index)
{
    if (!waiter->channel->shared)
        return;
    struct heap_account *account;
    struct wippy_error error;
    waiter->message = take_outgoing(L, value_index, waiter->channel, &account, &error);
    waiter->account = account;
    if (waiter->message == NULL) {
        waiter->channel = NULL; /* not queued yet */
        wait_dispose(waiter->wait);
        luaL_error(L, "%s", error.message);
    }
}

static int channel_send_lua(lua_State *L)
{
    struct channel *channel = channel_check(L, 1);
    refuse_runtime_filled(L, channel);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    push_outgoing(L, channel, 2);
    struct wippy_error error;
    enum attempt result = try_send(L, 1, channel, &error);
    if (result == ATTEMPT_FAILED)
        return luaL_error(L, "%s", error.message);
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
    offer_message(L, waiter, 3);
    waiter->value_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    if (channel->crossed) { /* another loop may have come meanwhile */
        struct message *unused = NULL;
        lock_crossed();
        result = crossed_try_waiter(vm_of(L), waiter, &unused);
        bool queued = result == ATTEMPT_WOULD_BLOCK && can_really_block(task);
        if (queued) {
            queue_push(&channel->senders, waiter);
            mark_wait_crossed(wait);
        }
        unlock_crossed();
        deliver_here(vm_of(L));
        if (!queued)
            wait_dispose(wait);
        if (result == ATTEMPT_CLOSED)
            return luaL_error(L, "send on a closed channel");
        if (result == ATTEMPT_DONE) {
            lua_pushboolean(L, 1);
            return 1;
        }
        if (!queued)
            return fail_where_resumed(L, task);
        return task_wait(L, task, cancel_channel_wait, wait, send_continue, 0);
    }
    queue_push(&channel->senders, waiter);
    return task_wait(L, task, cancel_channel_wait, wait, send_continue, 0);
}

/* Pushes what a receive on a crossed channel got at once: (value, true),
 * or (nil, false) when closed. */
static int push_received(lua_State *L, struct message *message, bool ok)
{
    if (message == NULL) {
        lua_pushnil(L);
    } else {
        struct vm *vm = vm_of(L);
        struct wippy_error error;
        vm_unlimited_begin(vm); /* as a blocked receiver gets it */
        int rc = message_push(L, message, &error);
        vm_unlimited_end(vm);
        if (rc < 0)
            return luaL_error(L, "%s", error.message);
    }
    lua_pushboolean(L, ok);
    return 2;
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
    if (channel->crossed) { /* another loop may have come meanwhile */
        struct message *message = NULL;
        lock_crossed();
        result = crossed_try_waiter(vm_of(L), &wait->waiters[0], &message);
        bool queued = result == ATTEMPT_WOULD_BLOCK && can_really_block(task);
        if (queued) {
            queue_push(&channel->receivers, &wait->waiters[0]);
            mark_wait_crossed(wait);
        }
        unlock_crossed();
        deliver_here(vm_of(L));
        if (!queued)
            wait_dispose(wait);
        if (result != ATTEMPT_WOULD_BLOCK)
            return push_received(L, message, result == ATTEMPT_DONE);
        if (!queued)
            return fail_where_resumed(L, task);
        return task_wait(L, task, cancel_channel_wait, wait, NULL, 0);
    }
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
 * returns whether it sends. Raises on a malformed case. Reads are raw: no
 * code of the task's runs while a select sets up (its waiters could
 * otherwise see a channel change under them). */
static bool read_case(lua_State *L, int i, struct channel **channel)
{
    if (lua_rawgeti(L, 1, i) != LUA_TTABLE)
        luaL_error(L, "channel.select: case %d is not a case (use ch:case_receive() or ch:case_send(v))", i);
    lua_pushliteral(L, "channel");
    lua_rawget(L, -2);
    struct channel **slot = luaL_testudata(L, -1, CHANNEL_TYPE);
    if (slot == NULL || *slot == NULL)
        luaL_error(L, "channel.select: case %d has no channel", i);
    *channel = *slot;
    lua_pushliteral(L, "send");
    lua_rawget(L, -3);
    bool sending = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_remove(L, -2);
    if (sending)
        refuse_runtime_filled(L, *channel);
    return sending;
}

/* Pushes the value of send case i. */
static void push_case_value(lua_State *L, int i)
{
    lua_rawgeti(L, 1, i);
    lua_pushliteral(L, "value");
    lua_rawget(L, -2);
    lua_remove(L, -2);
}

static void push_result(lua_State *L, int case_index, int value_index, bool ok)
{
    lua_createtable(L, 0, 3);
    lua_rawgeti(L, 1, case_index);
    lua_pushliteral(L, "channel");
    lua_rawget(L, -2);
    lua_setfield(L, -3, "channel");
    lua_pop(L, 1);
    lua_pushvalue(L, value_index);
    lua_setfield(L, -2, "value");
    lua_pushboolean(L, ok);
    lua_setfield(L, -2, "ok");
}

/* The last step of a select with a crossed case, its wait prepared: under
 * the lock, a crossed case that another loop made ready meanwhile is done
 * at once, else every waiter is queued. */
static int select_crossed(lua_State *L, struct task *task, struct channel_wait *wait)
{
    struct vm *vm = vm_of(L);
    struct message *received = NULL;
    enum attempt result = ATTEMPT_WOULD_BLOCK;
    int chosen = -1;
    lock_crossed();
    for (int i = 0; i < wait->waiter_count && chosen < 0; i++) {
        struct channel_waiter *waiter = &wait->waiters[i];
        if (!waiter->channel->crossed)
            continue;
        result = crossed_try_waiter(vm, waiter, &received);
        if (result != ATTEMPT_WOULD_BLOCK)
            chosen = i;
    }
    bool queued = chosen < 0 && can_really_block(task);
    if (queued) {
        for (int i = 0; i < wait->waiter_count; i++) {
            struct channel_waiter *waiter = &wait->waiters[i];
            queue_push(waiter->sending ? &waiter->channel->senders : &waiter->channel->receivers, waiter);
        }
        mark_wait_crossed(wait);
    }
    unlock_crossed();
    deliver_here(vm);
    if (queued)
        return task_wait(L, task, cancel_channel_wait, wait, NULL, 0);
    if (chosen < 0) {
        wait_dispose(wait);
        return fail_where_resumed(L, task);
    }
    struct channel_waiter *waiter = &wait->waiters[chosen];
    if (waiter->sending) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, waiter->value_reference);
        wait_dispose(wait);
        push_result(L, chosen + 1, lua_gettop(L), result == ATTEMPT_DONE);
        return 1;
    }
    wait_dispose(wait);
    push_received(L, received, result == ATTEMPT_DONE);
    lua_pop(L, 1); /* the ok push_received adds: the result has its own */
    push_result(L, chosen + 1, lua_gettop(L), result == ATTEMPT_DONE);
    return 1;
}

int channel_select_function(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_Unsigned length = lua_rawlen(L, 1);
    if (length > CHANNEL_SELECT_MAX_CASES)
        return luaL_error(L, "channel.select: more than %d cases", CHANNEL_SELECT_MAX_CASES);
    int count = (int)length;
    lua_pushliteral(L, "default");
    lua_rawget(L, 1);
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
            push_case_value(L, i);
            push_outgoing(L, channel, -1);
            lua_remove(L, -2);
            int value_index = lua_gettop(L);
            lua_pushvalue(L, value_index);
            struct wippy_error error;
            result = try_send(L, channel_index, channel, &error);
            if (result == ATTEMPT_FAILED)
                return luaL_error(L, "%s", error.message);
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
            push_case_value(L, i);
            waiter->value_reference = luaL_ref(L, LUA_REGISTRYINDEX);
        }
    }
    /* every send on a shared channel has its message before any waiter is
     * queued, so that a failure leaves none behind; taking one can share
     * another case's channel, hence the rounds */
    for (bool took = true; took;) {
        took = false;
        for (int i = 0; i < count; i++) {
            struct channel_waiter *waiter = &wait->waiters[i];
            if (!waiter->sending || !waiter->channel->shared || waiter->message != NULL)
                continue;
            lua_rawgeti(L, LUA_REGISTRYINDEX, waiter->value_reference);
            struct wippy_error error;
            waiter->message = take_outgoing(L, -1, waiter->channel, &waiter->account, &error);
            lua_pop(L, 1);
            if (waiter->message == NULL) {
                for (int k = 0; k < count; k++)
                    wait->waiters[k].channel = NULL; /* none queued yet */
                wait_dispose(wait);
                return luaL_error(L, "%s", error.message);
            }
            took = true;
        }
    }
    bool crossed = false;
    for (int i = 0; i < count; i++)
        crossed = crossed || wait->waiters[i].channel->crossed;
    if (crossed)
        return select_crossed(L, task, wait);
    for (int i = 0; i < count; i++) {
        struct channel_waiter *waiter = &wait->waiters[i];
        queue_push(waiter->sending ? &waiter->channel->senders : &waiter->channel->receivers, waiter);
    }
    return task_wait(L, task, cancel_channel_wait, wait, NULL, 0);
}

/* ---- cycles of messages ---- */

static void visit_children(struct channel *channel, void (*visit)(void *exported, void *context), void *context)
{
    for (struct buffered *item = channel->first; item != NULL; item = item->next)
        message_each_export(item->message, &channel_transport, visit, context);
    for (struct channel_waiter *sender = channel->senders.head; sender != NULL; sender = sender->next)
        if (sender->message != NULL)
            message_each_export(sender->message, &channel_transport, visit, context);
}

struct collection {
    bool crossed;           /* the crossed channels' collection, or one loop's */
    struct channel **stack; /* live channels whose messages are still to look at */
    size_t count;
};

static void count_internal(void *exported, void *context)
{
    struct channel *child = exported;
    const struct collection *work = context;
    if (child->crossed != work->crossed) /* not this collection's */
        return;
    if (child->handles == 0)
        child->internal++;
}

static void mark_live(void *exported, void *context)
{
    struct channel *child = exported;
    struct collection *work = context;
    if (child->crossed != work->crossed || child->handles > 0 || child->live)
        return;
    child->live = true;
    work->stack[work->count++] = child;
}

/* Trial deletion over the shared channels no userdata points at: one whose
 * references are not all explained by messages buffered in such channels
 * is held from outside (a live channel's buffer, a message in transit or
 * inside another value), and so is everything its messages hold; what is
 * left is held only by itself and frees once its buffers are emptied.
 * list is one loop's shared channels (here is that loop), or the crossed
 * ones (under the lock; here is the loop running it). */
static void collect_cycles(struct channel **list, size_t count, bool crossed, struct vm *here)
{
    struct channel *c;
    for (c = *list; c != NULL; c = c->shared_next) {
        c->internal = 0;
        c->live = false;
    }
    struct collection work = {crossed, xcalloc(count + 1, sizeof *work.stack), 0};
    for (c = *list; c != NULL; c = c->shared_next)
        if (c->handles == 0)
            visit_children(c, count_internal, &work);
    for (c = *list; c != NULL; c = c->shared_next)
        if (c->handles == 0 && c->references > c->internal)
            mark_live(c, &work);
    for (c = *list; c != NULL; c = c->shared_next)
        if (c->handles > 0)
            visit_children(c, mark_live, &work);
    while (work.count > 0)
        visit_children(work.stack[--work.count], mark_live, &work);
    free(work.stack);
    /* the messages are taken out of every dead channel first, then freed:
     * freeing lets go of channels, which may free them */
    struct buffered *dead = NULL;
    for (c = *list; c != NULL; c = c->shared_next) {
        if (c->handles > 0 || c->live || c->first == NULL)
            continue;
        c->last->next = dead;
        dead = c->first;
        c->first = c->last = NULL;
        c->count = 0;
        c->references++; /* kept until its messages are gone */
        c->dead = true;
    }
    while (dead != NULL) {
        struct buffered *item = dead;
        dead = item->next;
        give_back(here, item);
        message_free(item->message);
        free(item);
    }
    struct channel *next;
    for (c = *list; c != NULL; c = next) {
        next = c->shared_next;
        if (c->dead) {
            c->dead = false;
            channel_release(c);
        }
    }
}

static void collect_crossed_cycles(struct vm *here)
{
    lock_crossed();
    crossed_suspects = 0;
    collect_cycles(&crossed_channels, crossed_channel_count, true, here);
    unlock_crossed();
}

void channel_collect_cycles(struct vm *vm)
{
    vm->channel_suspects = 0;
    collect_cycles(&vm->shared_channels, vm->shared_channel_count, false, vm);
    if (vm->config->threads > 1)
        collect_crossed_cycles(vm);
}

void channel_maybe_collect_cycles(struct vm *vm)
{
    static _Thread_local bool collecting;
    if (collecting)
        return;
    collecting = true;
    if (vm->channel_suspects >= 64 + vm->shared_channel_count / 2) {
        vm->channel_suspects = 0;
        collect_cycles(&vm->shared_channels, vm->shared_channel_count, false, vm);
    }
    if (vm->config->threads > 1 && atomic_load_explicit(&crossed_collection_due, memory_order_relaxed) &&
        atomic_exchange(&crossed_collection_due, false))
        collect_crossed_cycles(vm);
    collecting = false;
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
    lua_pushcfunction(L, channel_collect);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    state_set_transport(L, CHANNEL_TYPE, &channel_transport);
}
