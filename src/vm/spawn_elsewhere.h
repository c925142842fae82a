/* spawn_elsewhere.h - a process placed on another VM (scheduler thread)
 * than its spawner's, started without waiting for that VM. The spawner
 * checks and plans it (vm/process.h): its pid is known at once, it is in
 * the directory as starting, with its spawner watching or linked as asked,
 * and its arguments travel as messages the spawner pays for. Its home VM
 * starts it and posts a receipt that credits the spawner. A start that
 * fails there (only for want of memory) is told to its watchers and links
 * as an end with that error, as an end of its code would be. */
#ifndef WIPPY_VM_SPAWN_ELSEWHERE_H
#define WIPPY_VM_SPAWN_ELSEWHERE_H

#include <lua.h>
#include <stdint.h>

#include "util/error.h"

struct frame;
struct process;
struct vm_mailbox;

/* From the running task of L: starts the planned process on the VM whose
 * mailbox is home, with frame and the argument_count values on top of L
 * (replaced by its pid once it is on its way); monitor and link are
 * process numbers or 0. 1 once it is on its way (the plan is home's: do
 * not touch it); 0 when the spawner has
 * SEND_ELSEWHERE_MAX_AWAY posts away (nothing done: start it here); else
 * the error's code (an argument cannot travel, the spawner cannot pay for
 * them, home has ended), the plan and the arguments still the caller's.
 * Never raises. */
int spawn_elsewhere(lua_State *L, struct vm_mailbox *home, struct process *process, struct frame *frame,
                    int argument_count, uint64_t monitor, uint64_t link, struct wippy_error *error);

#endif
