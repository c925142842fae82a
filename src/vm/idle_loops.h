/* idle_loops.h - a deadlock when the runtime has several loops. With one,
 * a loop left with nothing to do (every task waits: no timer, no I/O, no
 * work on the thread pool) is a deadlock, since nothing can wake its tasks.
 * With several, another loop may still post work to it (vm/mailbox.h), so
 * every loop stays alive, and the deadlock is every loop idle with no post
 * in flight. One word holds both counts, so that the last change to either
 * sees the whole. */
#ifndef WIPPY_VM_IDLE_LOOPS_H
#define WIPPY_VM_IDLE_LOOPS_H

struct vm;

/* Before the loops start: count loops take part, each busy until it first
 * idles. When they all are idle with no post in flight, still is called
 * once, from whichever thread saw it last (until idle_loops_end). */
void idle_loops_begin(int count, void (*still)(void *context), void *context);

/* On the VM's thread, once its loop stays alive for posts
 * (vm_mailbox_keep_loop): the loop is watched until the VM is freed. */
void idle_loops_watch(struct vm *vm);
void idle_loops_unwatch(struct vm *vm);

/* On the VM's thread: it runs posts, so it is busy (before they count as
 * done). */
void idle_loops_busy(struct vm *vm);

/* From any thread: a post was made, and a post was run or dropped. */
void idle_loops_post_made(void);
void idle_loops_post_done(void);

/* Once every loop but the caller's has ended: still is called no more. */
void idle_loops_end(void);

#endif
