/* send_elsewhere.c - see send_elsewhere.h. One post makes the whole trip:
 * to the receiver's mailbox with the message, then back to the sender's as
 * its receipt. */
#include "vm/send_elsewhere.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/memory.h"
#include "vm/core.h"
#include "vm/credit.h"
#include "vm/directory.h"
#include "vm/heap.h"
#include "vm/mailbox.h"
#include "vm/message.h"
#include "vm/process.h"
#include "vm/task.h"

struct message_post {
    struct vm_post post;         /* first */
    uint64_t number;             /* the receiver */
    char *topic;
    char *from;                  /* the sender's pid, or NULL */
    struct message *value;       /* NULL once delivered or dropped */
    struct vm_mailbox *home;     /* counted: the sender's VM, for the receipt */
    struct heap_account *payer;  /* the sender's loop's: pays while it travels */
    size_t paid;
};

static void free_post(struct message_post *message)
{
    if (message->value != NULL)
        message_free(message->value);
    vm_mailbox_release(message->home);
    free(message->topic);
    free(message->from);
    free(message);
}

/* ---- the receipt, on the sender's VM ---- */

static void run_receipt(struct vm *vm, struct vm_post *post)
{
    struct message_post *message = (struct message_post *)post;
    message->payer->messages_away--;
    heap_account_let_go(vm, message->payer, message->paid);
    free_post(message);
}

static void drop_receipt(struct vm_post *post)
{
    struct message_post *message = (struct message_post *)post;
    credit_drop(message->payer, message->paid); /* the sender's VM has ended */
    free_post(message);
}

static void send_receipt(struct message_post *message)
{
    if (message->value != NULL) {
        message_free(message->value);
        message->value = NULL;
    }
    message->post = (struct vm_post){.run = run_receipt, .drop = drop_receipt};
    vm_mailbox_post(message->home, &message->post);
}

/* ---- the delivery, on the receiver's VM ---- */

/* The first refusal, then one at each power of two: a sender that floods
 * a full inbox does not flood the log. */
static void warn_refused(struct process *receiver, const struct message_post *message, const char *why)
{
    if (receiver->refused_from_elsewhere < UINT32_MAX)
        receiver->refused_from_elsewhere++;
    size_t count = receiver->refused_from_elsewhere;
    if ((count & (count - 1)) != 0)
        return;
    log_message(LOG_WARN, "process %s: a message from %s on topic %.200s was not delivered: %s (%zu such so far)",
                receiver->pid, message->from != NULL ? message->from : "a function", message->topic, why, count);
}

static void run_message(struct vm *vm, struct vm_post *post)
{
    struct message_post *message = (struct message_post *)post;
    struct process *receiver = vm->stopping ? NULL : process_find_number(vm, message->number);
    if (receiver == NULL) { /* it ended meanwhile, as if it had not read its inbox */
        send_receipt(message);
        return;
    }
    lua_State *L = receiver->task.heap->lua;
    struct wippy_error error;
    struct message *value = message->value;
    message->value = NULL;
    /* the copy is the receiver's: it pays for it, within half its limit
     * (which holds here, outside any task, as for a send made on this loop) */
    struct heap_account *charged = heap_charge_begin(vm, receiver->account);
    vm->copying_message = true;
    vm->bounded++;
    int rc = message_push(L, value, &error);
    vm->bounded--;
    enum process_delivery delivery =
        rc == WIPPY_OK ? process_deliver(L, receiver, message->topic, message->from) : PROCESS_DELIVERY_NO_MEMORY;
    vm->copying_message = false;
    heap_charge_end(vm, charged);
    if (delivery == PROCESS_DELIVERY_NO_MEMORY)
        warn_refused(receiver, message, "it has no memory left for it (its memory limit)");
    else if (delivery != PROCESS_DELIVERED)
        warn_refused(receiver, message, "its inbox (or the channel listening for the topic) is full or closed");
    send_receipt(message);
}

static void drop_message(struct vm_post *post)
{
    send_receipt((struct message_post *)post); /* the receiver's VM has ended */
}

/* ---- the sender's side ---- */

int send_elsewhere(lua_State *L, int index, struct vm_mailbox *home, const struct process_identity *to,
                   const char *topic, struct wippy_error *error)
{
    struct task *task = task_current(L);
    struct vm *vm = task->vm;
    struct heap_account *payer = task->account != NULL ? task->account : vm->runtime_account;
    if (payer->messages_away >= SEND_ELSEWHERE_MAX_AWAY && lua_isyieldable(L))
        return 0;
    if (payer->messages_away >= SEND_ELSEWHERE_MAX_AWAY) { /* and it cannot wait here */
        return error_set(error, WIPPY_ENOMEM, "process %s: %d messages of the sender are on their way to other "
                         "loops, and it cannot wait here; the message was not delivered", to->pid,
                         SEND_ELSEWHERE_MAX_AWAY);
    }
    struct message *value = message_take(L, index, 0, error); /* never raises */
    if (value == NULL)
        return error->code;
    const char *from = task->process != NULL ? task->process->pid : NULL;
    size_t bytes = message_held_bytes(value) + sizeof(struct message_post) + strlen(topic) + 1 +
                   (from != NULL ? strlen(from) + 1 : 0);
    /* a process cannot have more on its way than its limit allows */
    if (!heap_account_hold(vm, payer, bytes)) {
        message_free(value);
        return error_set(error, WIPPY_ENOMEM, "process %s: not enough memory to send the message (the sender's "
                         "memory limit); the message was not delivered", to->pid);
    }
    payer->messages_away++;
    struct message_post *message = xcalloc(1, sizeof *message);
    message->post = (struct vm_post){.run = run_message, .drop = drop_message};
    message->number = to->number;
    message->topic = xstrdup(topic);
    message->from = from != NULL ? xstrdup(from) : NULL;
    message->value = value;
    message->home = vm->mailbox;
    vm_mailbox_retain(vm->mailbox);
    message->payer = payer;
    message->paid = bytes;
    vm_mailbox_post(home, &message->post);
    return 1;
}
