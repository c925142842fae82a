/* task.h - a task is one Lua coroutine run by the scheduler: a process, one
 * function call, or a coroutine spawned inside a process. A blocking call
 * parks its task and the loop wakes it; other tasks keep running. */
#ifndef WIPPY_VM_TASK_H
#define WIPPY_VM_TASK_H

#include <lua.h>
#include <stdbool.h>

#include "registry/entry.h"
#include "util/error.h"
#include "vm/frame.h"

struct heap_account;
struct process;
struct task;
struct vm;
struct vm_heap;

enum task_kind {
    TASK_PROCESS,   /* a struct process; addressable by pid */
    TASK_CALL,      /* one funcs.call (or any call started by the runtime) */
    TASK_COROUTINE, /* coroutine.spawn: runs inside its process, sharing its globals */
};

enum task_state {
    TASK_READY,
    TASK_RUNNING,
    TASK_WAITING,
    TASK_DONE,
};

/* How a finished task reports: status is LUA_OK or an error status; on
 * LUA_OK the results are the top result_count values of task->thread, on
 * error the message is the top value, always a string (the scheduler turns
 * an error object into text where its __tostring cannot do harm). */
typedef void (*task_finish_fn)(struct task *task, int status, int result_count);

/* Frees a finished task's memory once the scheduler has released its Lua
 * references. */
typedef void (*task_dispose_fn)(struct task *task);

/* Runs instead of the task's end when set: true when it started the task
 * anew (task_restart), false to let it end as it would have. */
typedef bool (*task_restart_fn)(struct task *task);

/* Cancels what a waiting task waits for (stops a timer, leaves a queue...). */
typedef void (*task_cancel_wait_fn)(struct task *task);

struct task {
    enum task_kind kind;
    enum task_state state;
    bool killed;             /* finish with kill_reason at the next chance */
    bool raised_shared;      /* ended by raising a shared value (an error object): it sits below its text */
    bool guest;              /* a funcs.call given an actor or a scope of its own (or code
                                below one): it runs in its caller's process but under
                                another identity, so it may not act as that process */
    int call_depth;          /* funcs.call calls this task is nested in */
    int unyieldable_resumes; /* coroutines of its own resumed where it cannot yield
                                (vm/coroutines.c): a block there can only fail */
    int resume_count;        /* values pushed on thread for the next resume */
    int thread_reference;    /* keeps the coroutine alive (registry ref) */
    int environment_reference;
    int loaded_reference;    /* per-task cache of required libraries, or LUA_NOREF */
    char *kill_reason;
    struct vm *vm;
    struct vm_heap *heap;    /* where its coroutine lives */
    lua_State *thread;
    const struct entry *entry;
    struct frame *frame;
    struct process *process; /* the process this task runs in, or NULL */
    struct heap_account *account; /* pays for what its code allocates (the process's), or NULL */
    struct task *next_ready;
    struct task *sibling_previous; /* coroutines of one process */
    struct task *sibling_next;
    struct task *all_previous; /* every live task, for shutdown */
    struct task *all_next;
    task_cancel_wait_fn cancel_wait;
    void *wait_data;
    /* Whatever started the task may attach one object for the bindings its
     * code calls (an HTTP handler's request); attachment_kind tells what it
     * is, so a binding never mistakes another's object for its own. */
    const void *attachment_kind;
    void *attachment;
    task_finish_fn on_finish;
    task_dispose_fn dispose;
    task_restart_fn restart;
    void *finish_data;
};

/* Creates a task in heap for a Lua entry that will call the entry's method
 * with the arguments on top of `from` (moved away; copies that nobody else
 * holds, which cross as messages when from is another heap). task is a
 * zeroed allocation of at least sizeof(struct task) (a struct process
 * embeds its task) with on_finish and dispose set. Returns WIPPY_OK and
 * schedules the task, or an error (the arguments are popped all the same). */
int task_start(struct vm_heap *heap, struct task *task, enum task_kind kind, const struct entry *entry,
               struct frame *frame, lua_State *from, int argument_count,
               struct wippy_error *error);

/* Starts a TASK_CALL in heap, with entry's environment and frame, whose
 * body is the C function body called with argument (a light userdata). */
int task_start_native(struct vm_heap *heap, struct task *task, const struct entry *entry, struct frame *frame,
                      lua_CFunction body, void *argument, struct wippy_error *error);

/* From a restart hook: runs the ended task again from the start, as
 * entry's method with the arguments on top of from (moved; copies nobody
 * else holds, in the task's heap). The struct, its frame and its account
 * stay. On failure the task is as it was (ended) and the error is set. */
int task_restart(struct task *task, const struct entry *entry, lua_State *from, int argument_count,
                 struct wippy_error *error);

/* Starts a task that calls the function below argument_count arguments on
 * top of from (all moved), in parent's process, environment and frame. */
int task_start_function(struct task *parent, struct task *task, enum task_kind kind,
                        lua_State *from, int argument_count, struct wippy_error *error);

/* The value a blocking call yields with, so that a coroutine of the
 * program's own can pass the block up to the scheduler (vm/coroutines.c). */
extern char task_block_marker;

/* The task whose code called into C, or raises a Lua error when called
 * outside any task. */
struct task *task_current(lua_State *L);

/* Marks the current task as waiting; must be followed by `return
 * task_wait(L, ...)` from a C function. The waker later pushes values on the
 * task's thread and calls task_wake. k (may be NULL) runs on resume. */
int task_wait(lua_State *L, struct task *task, task_cancel_wait_fn cancel, void *wait_data,
              lua_KFunction continuation, lua_KContext context);

/* Schedules a waiting task; its thread has `value_count` values pushed. */
void task_wake(struct task *task, int value_count);

/* Ends a task at its next scheduling point with error `reason`. */
void task_kill(struct task *task, const char *reason);

/* Raises a Lua error unless the running code may block here (it may not
 * inside a metamethod or a C function such as table.sort). */
void task_check_can_block(lua_State *L, struct task *task, const char *what);

/* True when the task's security context (its frame's actor and scope, under
 * the configured strict mode) allows action on resource. */
bool task_allows(const struct task *task, const char *action, const char *resource);

/* The task's security context, as routing decisions take it. */
struct route_caller task_route_caller(const struct task *task);

/* The attachment of the given kind, or NULL when the task has none. */
void *task_attachment(const struct task *task, const void *kind);

/* Kills every live task and runs the scheduler until they have finished
 * (at shutdown). */
void task_finish_all(struct vm *vm, const char *reason);

#endif
