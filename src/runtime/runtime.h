/* runtime.h - the one event loop and everything scheduled on it: tasks
 * (a Lua coroutine running a process or one function call), the ready queue,
 * and the way a blocked task is woken. */
#ifndef WIPPY_RUNTIME_RUNTIME_H
#define WIPPY_RUNTIME_RUNTIME_H

#include <lua.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "registry/config.h"
#include "registry/registry.h"
#include "net/overlay.h"
#include "runtime/frame.h"

struct process;
struct process_table;
struct task;

enum task_kind {
    TASK_PROCESS, /* a struct process; addressable by pid */
    TASK_CALL,    /* one funcs.call (or any call started by the runtime) */
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
 * error the message is the top value. */
typedef void (*task_finish_fn)(struct task *task, int status, int result_count);

/* Frees a finished task's memory once the scheduler has released its Lua
 * references. */
typedef void (*task_dispose_fn)(struct task *task);

/* Cancels what a waiting task waits for (stops a timer, leaves a queue...). */
typedef void (*task_cancel_wait_fn)(struct task *task);

struct task {
    enum task_kind kind;
    enum task_state state;
    bool killed;             /* finish with kill_reason at the next chance */
    char *kill_reason;
    struct runtime *runtime;
    lua_State *thread;
    int thread_reference;    /* keeps the coroutine alive (registry ref) */
    int environment_reference;
    int loaded_reference;    /* per-task cache of required libraries, or LUA_NOREF */
    const struct entry *entry;
    struct frame *frame;
    struct process *process; /* the process this task runs in, or NULL */
    int resume_count;        /* values pushed on thread for the next resume */
    struct task *next_ready;
    struct task *sibling_previous; /* coroutines of one process */
    struct task *sibling_next;
    struct task *all_previous; /* every live task, for shutdown */
    struct task *all_next;
    task_cancel_wait_fn cancel_wait;
    void *wait_data;
    struct http_exchange *http_exchange; /* the request a handler task answers */
    task_finish_fn on_finish;
    task_dispose_fn dispose;
    void *finish_data;
};

struct runtime {
    uv_loop_t *loop;
    lua_State *lua;
    struct registry *registry;
    struct config *config;
    bool verbose;
    struct task *ready_head;
    struct task *ready_tail;
    uv_idle_t ready_idle;     /* active while tasks are ready */
    struct task *current;     /* the task whose Lua code is running */
    struct task *all_tasks;   /* every live task */
    struct process_table *processes;
    uint64_t next_process_number;
    size_t live_tasks;
    int exit_code;
    bool stopping;
    struct frame *root_frame;
    struct overlay_set overlays;   /* live overlays, opened on first use */
    struct http_client *http;      /* created on the first HTTP request */
    struct http_services *services; /* the running http.service entries */
    /* terminal I/O */
    char **arguments;
    int argument_count;
    void *terminal; /* struct terminal_input, created on first read */
};

/* Creates the runtime around registry and config (both stay owned by the
 * caller) and compiles every Lua entry. Returns NULL with error set when an
 * entry cannot be compiled or names an unknown module. */
struct runtime *runtime_new(struct registry *registry, struct config *config, bool verbose,
                            struct wippy_error *error);
/* Terminates every task, closes every handle, and frees the runtime. */
void runtime_free(struct runtime *runtime);

/* Runs the loop until runtime_stop. Returns the exit code. */
int runtime_run(struct runtime *runtime);
void runtime_stop(struct runtime *runtime, int exit_code);

/* Logs a line on stderr when -v was given. */
void runtime_log(struct runtime *runtime, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- tasks ---- */

/* Creates a task for a Lua entry that will call the entry's method with the
 * arguments on top of `from` (moved away). memory is a zeroed allocation of
 * at least sizeof(struct task) (a struct process embeds its task). Returns
 * WIPPY_OK and schedules the task, or an error. */
int task_start(struct runtime *runtime, struct task *task, enum task_kind kind,
               const struct entry *entry, struct frame *frame, lua_State *from,
               int argument_count, struct wippy_error *error);

/* Starts a task that calls the function below argument_count arguments on
 * top of from (all moved), in parent's process, environment and frame. */
int task_start_function(struct task *parent, struct task *task, enum task_kind kind,
                        lua_State *from, int argument_count, struct wippy_error *error);

/* The value a blocking call yields with, so that a coroutine of the
 * program's own can pass the block up to the scheduler (lua/coroutines.c). */
extern char task_block_marker;

/* The task whose code called into C (runtime->current), or raises a Lua
 * error when called outside any task. */
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

#endif
