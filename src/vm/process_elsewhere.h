/* process_elsewhere.h - a process's end told to the processes of another
 * VM (scheduler thread) that watched it or were linked with it (the EXIT
 * event, the LINK_DOWN event or a linked failure): posted to that VM's
 * mailbox and done there, on its own thread; a process that has ended
 * there meanwhile is not told. */
#ifndef WIPPY_VM_PROCESS_ELSEWHERE_H
#define WIPPY_VM_PROCESS_ELSEWHERE_H

#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vm_mailbox;
struct process;

/* Tells process number (of another VM) that ended ended, as a watcher
 * (as_monitor: an EXIT event) and as a linked process (as_link, when ended
 * failed: a LINK_DOWN event or its own end; the link is gone already,
 * vm/directory.h). ended's
 * thread holds its result (result_count values) or its error on top.
 * False when number lives nowhere (it has ended). */
bool elsewhere_tell_end(struct vm *vm, uint64_t number, const struct process *ended, bool as_monitor,
                        bool as_link, int status, int result_count);

#endif
