/* mailbox.c - see mailbox.h. */
#include "vm/mailbox.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <uv.h>

#include "util/handle.h"
#include "util/memory.h"
#include "vm/core.h"
#include "vm/idle_loops.h"

struct vm_mailbox {
    atomic_int references;
    uv_mutex_t lock;
    struct vm_post *head, *tail; /* guarded by lock */
    bool closed;                 /* guarded by lock */
    struct vm *vm;               /* its thread only */
    uv_async_t *wake;            /* on the VM's loop */
};

static void run_posts(uv_async_t *wake)
{
    struct vm_mailbox *mailbox = wake->data;
    uv_mutex_lock(&mailbox->lock);
    struct vm_post *post = mailbox->head;
    mailbox->head = mailbox->tail = NULL;
    uv_mutex_unlock(&mailbox->lock);
    if (post != NULL)
        idle_loops_busy(mailbox->vm);
    while (post != NULL) {
        struct vm_post *next = post->next;
        post->run(mailbox->vm, post);
        idle_loops_post_done();
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
    uv_unref((uv_handle_t *)mailbox->wake); /* see vm_mailbox_keep_loop */
    vm->mailbox = mailbox;
}

void vm_mailbox_keep_loop(struct vm *vm)
{
    uv_ref((uv_handle_t *)vm->mailbox->wake);
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
        idle_loops_post_done();
        post = next;
    }
    handle_close((uv_handle_t *)mailbox->wake);
    mailbox->wake = NULL;
    vm->mailbox = NULL;
    vm_mailbox_release(mailbox);
}

void vm_mailbox_post(struct vm_mailbox *mailbox, struct vm_post *post)
{
    if (!vm_mailbox_post_if_open(mailbox, post))
        post->drop(post);
}

bool vm_mailbox_post_if_open(struct vm_mailbox *mailbox, struct vm_post *post)
{
    post->next = NULL;
    idle_loops_post_made();
    uv_mutex_lock(&mailbox->lock);
    if (mailbox->closed) {
        uv_mutex_unlock(&mailbox->lock);
        idle_loops_post_done();
        return false;
    }
    if (mailbox->tail != NULL)
        mailbox->tail->next = post;
    else
        mailbox->head = post;
    mailbox->tail = post;
    uv_async_send(mailbox->wake); /* under the lock: close cannot free it meanwhile */
    uv_mutex_unlock(&mailbox->lock);
    return true;
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
