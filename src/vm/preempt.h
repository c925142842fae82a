/* preempt.h - time slices for Lua code. A watchdog thread notices Lua that
 * has run longer than the slice without returning to the loop and signals
 * the loop thread, whose signal handler arms a one-shot count hook on the
 * running coroutine (lua_sethook is safe there). The hook yields the task
 * back to the scheduler at once, or, where nothing can yield (a metamethod,
 * a C function's callback), ends the task once it has been stuck past the
 * unyieldable limit. Nothing runs per instruction until a slice is over. */
#ifndef WIPPY_VM_PREEMPT_H
#define WIPPY_VM_PREEMPT_H

#include <lua.h>
#include <stdint.h>

#include "util/error.h"

struct preemption;
struct vm;

/* Starts the watchdog for vm's loop thread (the calling thread). */
int preemption_start(struct vm *vm, int64_t slice_ns, int64_t unyieldable_limit_ns,
                     struct preemption **out, struct wippy_error *error);
/* Stops and frees it (NULL is fine). */
void preemption_stop(struct preemption *preemption);

/* The loop thread starts running Lua on thread (a task's coroutine, or the
 * main thread), or returns to C. label names what runs (a task's entry id)
 * in the message of a task stopped for not yielding; NULL for no task.
 * While a task runs, its yield for a slice that ran out sets
 * vm->slice_over. */
void preemption_enter(struct preemption *preemption, lua_State *thread, const char *label);
void preemption_leave(struct preemption *preemption);

/* Lua code resumes a coroutine of its own (thread) inside the run; returns
 * the thread to switch back to when that coroutine yields or ends. */
lua_State *preemption_switch(struct preemption *preemption, lua_State *thread);

/* The runtime is shutting down (a signal): from now on a run that cannot
 * yield is stopped at once instead of after the unyieldable limit, so the
 * loop sees the shutdown within a slice or two. Async-signal-safe; NULL is
 * fine. */
void preemption_interrupt(struct preemption *preemption);

/* Lua whose slice ran out cannot yield at L: raises the stop error once it
 * has been so for longer than the unyieldable limit. */
void preemption_check_stuck(struct preemption *preemption, lua_State *L);

#endif
