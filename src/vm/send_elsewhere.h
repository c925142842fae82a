/* send_elsewhere.h - a message for a process of another VM (scheduler
 * thread), sent without waiting for that VM. The sender takes the value out
 * of its heap and pays for it while it travels; the receiver's VM delivers
 * it as a send made there would (the receiver pays for its copy, within
 * half its limit) and posts it back as a receipt, which credits the
 * sender. What the receiver cannot take (its inbox is full, its memory
 * limit) is dropped with a warning, since the sender has gone on; a
 * receiver that has ended meanwhile drops it as it would drop its inbox.
 * Posts to one mailbox run in order, so messages from one sender arrive in
 * the order they were sent, before the sender's own end. */
#ifndef WIPPY_VM_SEND_ELSEWHERE_H
#define WIPPY_VM_SEND_ELSEWHERE_H

#include <lua.h>

#include "util/error.h"

struct vm_mailbox;
struct process_identity;

/* How many messages one account may have on their way at once; past that
 * its sends wait for the receiver's answer (vm/remote.h), which holds a
 * sender back to its receivers' pace. */
#define SEND_ELSEWHERE_MAX_AWAY 1024

/* From the running task of L: sends the value at index to the process to,
 * of the VM whose mailbox is home (the caller's count stays its own), on
 * topic. 1 once it is on its way; 0 when the sender has
 * SEND_ELSEWHERE_MAX_AWAY messages away (nothing sent: send the waiting
 * way); else the error's code (the value cannot travel, its sender cannot
 * pay for it, or it has that many away where it cannot wait). The sender
 * pays for all the message holds: its value, topic and pid. Never raises. */
int send_elsewhere(lua_State *L, int index, struct vm_mailbox *home, const struct process_identity *to,
                   const char *topic, struct wippy_error *error);

#endif
