/* mailbox.c - see mailbox.h. */
#include "vm/mailbox.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <uv.h>

#include "util/handle.h"
#include "util/memory.h"
#include "vm/core.h"

struct vm_mailbox {
    atomic_int references;
    uv_mutex_t lock;
    struct vm_post *head, *tail; /* guarded by lock */
    bool closed;                 /* guarded by lock */
    struct vm *vm;               /* its thread only */
    uv_async_t *wake;            /* on the VM's loop */
    int expected;                /* its thread only: vm_mailbox_expect */
    bool keeps_loop;             /* its thread only: wake is referenced */
};

/* The VMs whose mailbox is open: with one, nothing can post to it from
 * elsewhere, and a loop whose tasks all wait must run dry (a deadlock). */
static atomic_int open_mailboxes;

static void run_posts(uv_async_t *wake)
{
    struct vm_mailbox *mailbox = wake->data;
    uv_mutex_lock(&mailbox->lock);
    struct vm_post *post = mailbox->head;
    mailbox->head = mailbox->tail = NULL;
    uv_mutex_unlock(&mailbox->lock);
    while (post != NULL) {
        struct vm_post *next = post->next;
        post->run(mailbox->vm, post);
        post = next;
    }
}

void vm_mailbox_open(struct vm *vm)
{
    struct vm_mailbox *mailbox = xcalloc(1, sizeof *mailbox);
    atomic_init(&mailbox->references, 1);
    uv_mutex_init(&mailbox->lock);
    mailbox->vm = vm;
    mailbox->wake = xmalloc(sizeof *mailbox->wake);
    uv_async_init(vm->loop, mailbox->wake, run_posts);
    mailbox->wake->data = mailbox;
    uv_unref((uv_handle_t *)mailbox->wake); /* see vm_mailbox_expect */
    vm->mailbox = mailbox;
    atomic_fetch_add(&open_mailboxes, 1);
}

void vm_mailbox_close(struct vm *vm)
{
    struct vm_mailbox *mailbox = vm->mailbox;
    if (mailbox == NULL)
        return;
    uv_mutex_lock(&mailbox->lock);
    mailbox->closed = true;
    struct vm_post *post = mailbox->head;
    mailbox->head = mailbox->tail = NULL;
    uv_mutex_unlock(&mailbox->lock);
    while (post != NULL) {
        struct vm_post *next = post->next;
        post->drop(post);
        post = next;
    }
    handle_close((uv_handle_t *)mailbox->wake);
    mailbox->wake = NULL;
    atomic_fetch_sub(&open_mailboxes, 1);
    vm->mailbox = NULL;
    vm_mailbox_release(mailbox);
}

void vm_mailbox_post(struct vm_mailbox *mailbox, struct vm_post *post)
{
    post->next = NULL;
    uv_mutex_lock(&mailbox->lock);
    if (mailbox->closed) {
        uv_mutex_unlock(&mailbox->lock);
        post->drop(post);
        return;
    }
    if (mailbox->tail != NULL)
        mailbox->tail->next = post;
    else
        mailbox->head = post;
    mailbox->tail = post;
    uv_async_send(mailbox->wake); /* under the lock: close cannot free it meanwhile */
    uv_mutex_unlock(&mailbox->lock);
}

void vm_mailbox_retain(struct vm_mailbox *mailbox)
{
    atomic_fetch_add_explicit(&mailbox->references, 1, memory_order_relaxed);
}

void vm_mailbox_release(struct vm_mailbox *mailbox)
{
    if (mailbox == NULL || atomic_fetch_sub_explicit(&mailbox->references, 1, memory_order_acq_rel) != 1)
        return;
    uv_mutex_destroy(&mailbox->lock);
    free(mailbox);
}

void vm_mailbox_expect(struct vm *vm, int change)
{
    struct vm_mailbox *mailbox = vm->mailbox;
    if (mailbox == NULL || mailbox->wake == NULL)
        return;
    mailbox->expected += change;
    bool keep = mailbox->expected > 0 && atomic_load(&open_mailboxes) > 1;
    if (keep && !mailbox->keeps_loop)
        uv_ref((uv_handle_t *)mailbox->wake);
    else if (!keep && mailbox->keeps_loop)
        uv_unref((uv_handle_t *)mailbox->wake);
    mailbox->keeps_loop = keep;
}
