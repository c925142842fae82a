/* core.h - the state every part of the VM shares: the loop it runs on, its
 * Lua heaps, the scheduler's queues, the process table, the root frame and
 * the modules the application handed in. vm/vm.h creates, runs and frees
 * it; the parts below it only read and schedule. */
#ifndef WIPPY_VM_CORE_H
#define WIPPY_VM_CORE_H

#include <lua.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "net/route.h"
#include "registry/config.h"
#include "registry/registry.h"
#include "util/error.h"
#include "vm/heap_cache.h"

struct frame;
struct channel;
struct heap_account;
struct preemption;
struct state_sources;
struct process_table;
struct process_directory;
struct vm_mailbox;
struct task;
struct process;

/* A module that `require` can hand out. open pushes the module table; the
 * functions it registers find context as their first upvalue (see
 * vm_module_context). global modules are also visible without require. */
struct vm_module {
    const char *name;
    int (*open)(lua_State *L, void *context);
    void *context;
    bool global;
};

/* Pushes a failure as the Lua value a caller gets (the application makes
 * it an error object, lua/error_values.h): code is a WIPPY_E* code, or 0
 * when the task's own code failed. */
typedef void (*vm_failure_pusher)(lua_State *L, int code, const char *message, size_t length);

/* A heap is one Lua state holding a bounded number of processes (vm/heaps.h),
 * so that a collection cycle walks only its own coroutines. Every task
 * lives in one heap for its life; values cross heaps as messages. */
struct vm_heap {
    struct vm *vm;
    lua_State *lua;
    size_t processes;         /* live processes placed here */
    size_t tasks;             /* live tasks of any kind */
    size_t holds;             /* other things that use its state (pending timers) */
    bool collected;           /* emptied of tasks, collected once to let go of what holds it */
    bool with_room;           /* on the VM's list of heaps a new process may go to */
    struct vm_heap *previous; /* every heap of the VM */
    struct vm_heap *next;
    struct vm_heap *room_next;
};

struct vm {
    uv_loop_t *loop;                 /* the application's; not owned */
    vm_failure_pusher push_failure;  /* NULL: the message as a string */
    lua_State *lua;                  /* the front heap's: the runtime's own values (names, a
                                        command's arguments) and the HTTP handlers' calls */
    struct vm_heap *front;
    struct vm_heap *heaps;           /* every heap, the front first */
    struct vm_heap *heaps_with_room;
    bool heaps_to_close;             /* a heap other than the front has emptied */
    struct channel *shared_channels; /* every channel reachable from several processes */
    size_t shared_channel_count;
    size_t channel_suspects;         /* shared channels left with no userdata since the last
                                        look for cycles (vm/channel.h) */
    size_t heap_size;                /* processes per heap (scheduler.heap_size) */
    struct state_sources *sources;   /* every Lua entry's text, compiled in a heap on first use */
    /* vm/sandbox.c's, handed down by vm.c: the sandbox sits above the
     * scheduler, which opens heaps as processes need them */
    int (*install_sandbox)(struct vm_heap *heap, struct wippy_error *error);
    /* vm/process_elsewhere.c's, handed down by vm.c the same way: it sits
     * above vm/process.c, which tells it of ends that concern another loop */
    bool (*tell_end_elsewhere)(struct vm *vm, uint64_t number, const struct process *ended, bool as_monitor,
                               bool as_link, int status, int result_count);
    const struct registry *registry; /* not owned */
    const struct config *config;     /* not owned */
    bool verbose;
    struct task *ready_head;
    struct task *ready_tail;
    uv_idle_t *ready_idle;           /* active while tasks are ready */
    struct task *preempted_head;     /* slices that ran out, queued again after the next I/O poll */
    struct task *preempted_tail;
    uv_check_t *requeue_check;       /* active while tasks are pre-empted */
    struct task *current;            /* the task whose Lua code is running */
    struct task *all_tasks;          /* every live task */
    size_t live_tasks;
    struct process_table *processes;
    struct process_directory *directory;     /* every process of the runtime: the main VM's (vm/directory.h) */
    struct process_directory *own_directory; /* freed with this VM */
    struct frame *root_frame;
    struct vm_module *modules;
    size_t module_count;
    struct preemption *preemption;   /* time slices; NULL until vm_load */
    bool slice_over;                 /* the current task yielded because its slice ran out */
    size_t heap_bytes;               /* what the Lua heaps hold */
    atomic_size_t own_all_heap_bytes;
    atomic_size_t *all_heap_bytes;   /* with vm.memory_limit and scheduler threads: what every
                                        VM's heaps hold (the main VM's own_all_heap_bytes) */
    struct heap_account *charged;    /* pays for new blocks (vm/heap.h) */
    struct heap_cache block_cache;   /* small blocks kept for reuse (vm/heap.h) */
    bool copying_message;            /* charged is a receiver: half its limit is the bound */
    struct heap_account *runtime_account; /* pays outside any process */
    size_t memory_limit;             /* vm.memory_limit, 0 = none */
    int unlimited;                   /* > 0: the runtime's own work on other threads */
    int bounded;                     /* > 0: a task's Lua runs outside its run (closing a killed
                                        task's variables, its error's __tostring): limits hold */
    int exit_code;
    bool stopping;
    struct vm_mailbox *main_mailbox; /* a worker VM's: the main VM's, counted (vm/remote.h); NULL on it */
    struct vm_mailbox *mailbox;      /* what other threads post to this loop (vm/mailbox.h) */
    uv_prepare_t *idle_watch;        /* with several loops: sees when this one idles (vm/idle_loops.h) */
    bool idle;                       /* counted idle there */
};

/* Pushes a failure for a caller, as the application has it made. */
void vm_push_failure(struct vm *vm, lua_State *L, int code, const char *message, size_t length);

/* The VM that owns L, and the heap L belongs to. */
struct vm *vm_of(lua_State *L);
struct vm_heap *vm_heap_of(lua_State *L);

/* The context a module was opened with, from inside one of its functions. */
void *vm_module_context(lua_State *L);

/* Every task is blocked with nothing left to wake it: says so and stops
 * with exit code 1 (when tasks are left). */
void vm_stop_deadlocked(struct vm *vm);

/* Stops the loop; vm_run then returns exit_code. */
void vm_stop(struct vm *vm, int exit_code);

/* Around the runtime's own allocations on a thread other than the running
 * task's (the main thread, a waiting task's): an allocation there that
 * failed would raise where nothing catches it, so the memory limit does not
 * apply (they are small and bounded by what the tasks do). */
void vm_unlimited_begin(struct vm *vm);
void vm_unlimited_end(struct vm *vm);

/* The routing policy of this VM's configuration (net/route.h). */
struct route_policy vm_route_policy(const struct vm *vm);

/* Logs a line on stderr when -v was given. */
void vm_log(const struct vm *vm, const char *format, ...) __attribute__((format(printf, 2, 3)));

#endif
