/* mailbox.h - work another thread hands to a VM's loop: a post runs there,
 * on the VM's own thread, in the order posts came. Channels that crossed
 * to another scheduler thread (vm/channel.c) complete a waiting task of
 * another loop this way, and give a sender's account its bytes back.
 *
 * A mailbox is counted: the VM holds it, and so does whatever may post to
 * it later (a message buffered in a crossed channel holds its sender's).
 * Once the VM is gone the mailbox is closed: a post then is dropped at
 * once, on the poster's thread. */
#ifndef WIPPY_VM_MAILBOX_H
#define WIPPY_VM_MAILBOX_H

#include <stdbool.h>

struct vm;
struct vm_mailbox;

struct vm_post {
    struct vm_post *next;
    void (*run)(struct vm *vm, struct vm_post *post); /* on the VM's thread */
    void (*drop)(struct vm_post *post);               /* never run: frees it, on any thread */
};

/* On the VM's thread, once its loop exists: vm->mailbox. */
void vm_mailbox_open(struct vm *vm);

/* On the VM's thread, once no task of it is left: the posts still waiting
 * are dropped, and so is every later one. Lets go of the VM's count. */
void vm_mailbox_close(struct vm *vm);

/* From any thread: post runs on the mailbox's VM (or is dropped). */
void vm_mailbox_post(struct vm_mailbox *mailbox, struct vm_post *post);

/* The same, but a closed mailbox leaves post to the caller: false. */
bool vm_mailbox_post_if_open(struct vm_mailbox *mailbox, struct vm_post *post);

void vm_mailbox_retain(struct vm_mailbox *mailbox);
void vm_mailbox_release(struct vm_mailbox *mailbox);

/* On the VM's thread, with several loops: its loop stays alive for what
 * may be posted (vm/idle_loops.h tells when nothing can come). */
void vm_mailbox_keep_loop(struct vm *vm);

#endif
