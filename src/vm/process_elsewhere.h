/* process_elsewhere.h - what a process does to a process of another VM
 * (scheduler thread) that is not a call (vm/remote.h): a link made or
 * undone on its side, and its end told to those watching it there (the
 * EXIT event, the LINK_DOWN event or a linked failure). Each is posted to
 * the other VM's mailbox and done there, on its own thread; a process that
 * has ended there meanwhile is not told. */
#ifndef WIPPY_VM_PROCESS_ELSEWHERE_H
#define WIPPY_VM_PROCESS_ELSEWHERE_H

#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vm_mailbox;
struct process;

/* Process number, which lives on home, links (add) or unlinks with peer. */
void elsewhere_link(struct vm_mailbox *home, uint64_t number, uint64_t peer, bool add);

/* Tells process number (of another VM) that ended ended, as a watcher
 * (as_monitor: an EXIT event) and as a linked process (as_link: it forgets
 * the link; when ended failed, a LINK_DOWN event or its own end). ended's
 * thread holds its result (result_count values) or its error on top.
 * False when number lives nowhere (it has ended). */
bool elsewhere_tell_end(struct vm *vm, uint64_t number, const struct process *ended, bool as_monitor,
                        bool as_link, int status, int result_count);

#endif
