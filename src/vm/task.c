/* task.c - the scheduler: starting tasks, the ready queue drained from a
 * libuv idle handle, resuming coroutines, blocking and waking, killing. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "vm/task.h"

#include "security/security.h"
#include "util/list.h"
#include "util/log.h"
#include "util/memory.h"
#include "vm/heap.h"
#include "vm/heaps.h"
#include "vm/preempt.h"
#include "vm/state.h"
#include "vm/transfer.h"
#include "vm/core.h"

/* Tasks resumed per loop iteration before libuv polls for I/O again (and
 * runs due timers). Small, as tokio's event_interval (61): 300 tasks that
 * each start a request used to open all 300 connections before the loop
 * looked at the first one's answer; with 64, the proxy or server answers
 * the first connections while the next are opened. 2048 took 1.07-1.11x
 * the time of 64 for 2,000 GETs through SOCKS5 at 300 in flight
 * (bench/results/socks.md); spawning is unchanged within noise. */
#define READY_BUDGET_PER_TICK 64

static void run_ready_tasks(uv_idle_t *idle);

/* Appends a task to a queue (the ready one, or the set-aside one). */
static void queue_append(struct task **head, struct task **tail, struct task *task)
{
    task->state = TASK_READY;
    task->next_ready = NULL;
    if (*tail != NULL)
        (*tail)->next_ready = task;
    else
        *head = task;
    *tail = task;
}

static void make_ready(struct task *task)
{
    struct vm *vm = task->vm;
    queue_append(&vm->ready_head, &vm->ready_tail, task);
    if (!uv_is_active((uv_handle_t *)vm->ready_idle))
        uv_idle_start(vm->ready_idle, run_ready_tasks);
}

char task_block_marker;

/* After the loop has polled for I/O: the tasks whose slice ran out go back
 * to the ready queue behind what that I/O made ready, so a busy task costs
 * the others one slice at most. */
static void requeue_preempted(uv_check_t *check)
{
    struct vm *vm = check->data;
    uv_check_stop(check);
    while (vm->preempted_head != NULL) {
        struct task *task = vm->preempted_head;
        vm->preempted_head = task->next_ready;
        make_ready(task);
    }
    vm->preempted_tail = NULL;
}

static void set_aside(struct task *task)
{
    struct vm *vm = task->vm;
    queue_append(&vm->preempted_head, &vm->preempted_tail, task);
    if (!uv_is_active((uv_handle_t *)vm->requeue_check))
        uv_check_start(vm->requeue_check, requeue_preempted);
}

static void link_task(struct vm *vm, struct task *task)
{
    vm->live_tasks++;
    heaps_task_started(task->heap);
    DLIST_PUSH(vm->all_tasks, task, all_previous, all_next);
}

/* Creates the task's coroutine and fills what every task has. */
static lua_State *prepare_task(struct vm_heap *heap, struct task *task, enum task_kind kind,
                               const struct entry *entry, struct frame *frame)
{
    lua_State *L = heap->lua;
    lua_State *thread = lua_newthread(L);
    task->thread_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    task->thread = thread;
    task->kind = kind;
    task->vm = heap->vm;
    task->heap = heap;
    task->entry = entry;
    task->frame = frame_retain(frame);
    task->environment_reference = LUA_NOREF;
    task->loaded_reference = LUA_NOREF;
    return thread;
}

static int start_function(struct task *parent, struct task *task, enum task_kind kind, lua_State *from,
                          int argument_count, struct wippy_error *error);
static int start_entry(struct vm_heap *heap, struct task *task, enum task_kind kind, const struct entry *entry,
                       struct frame *frame, lua_State *from, int argument_count, struct wippy_error *error);

/* Starting a task allocates on the main thread (its coroutine, its
 * references): the memory limit does not apply there (core.h). */
int task_start_function(struct task *parent, struct task *task, enum task_kind kind,
                        lua_State *from, int argument_count, struct wippy_error *error)
{
    vm_unlimited_begin(parent->vm);
    int rc = start_function(parent, task, kind, from, argument_count, error);
    vm_unlimited_end(parent->vm);
    return rc;
}

int task_start(struct vm_heap *heap, struct task *task, enum task_kind kind, const struct entry *entry,
               struct frame *frame, lua_State *from, int argument_count, struct wippy_error *error)
{
    vm_unlimited_begin(heap->vm);
    int rc = start_entry(heap, task, kind, entry, frame, from, argument_count, error);
    vm_unlimited_end(heap->vm);
    return rc;
}

static int start_function(struct task *parent, struct task *task, enum task_kind kind, lua_State *from,
                          int argument_count, struct wippy_error *error)
{
    struct vm *vm = parent->vm;
    lua_State *L = parent->heap->lua;
    if (!lua_checkstack(L, 4))
        return error_set(error, WIPPY_ENOMEM, "out of Lua stack space");
    lua_State *thread = prepare_task(parent->heap, task, kind, parent->entry, parent->frame);
    task->process = parent->process;
    task->account = parent->account;
    task->guest = parent->guest;
    lua_rawgeti(L, LUA_REGISTRYINDEX, parent->environment_reference);
    task->environment_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_xmove(from, thread, argument_count + 1);
    task->resume_count = argument_count;
    link_task(vm, task);
    make_ready(task);
    return WIPPY_OK;
}

/* Moves the arguments on top of from to thread: as they are within a heap,
 * as messages from another one. */
static int move_arguments(lua_State *from, lua_State *thread, int argument_count, struct wippy_error *error)
{
    if (argument_count == 0)
        return WIPPY_OK;
    if (vm_heap_of(from) == vm_heap_of(thread)) {
        lua_xmove(from, thread, argument_count);
        return WIPPY_OK;
    }
    int first = lua_gettop(from) - argument_count + 1;
    int rc = WIPPY_OK;
    for (int i = 0; i < argument_count && rc == WIPPY_OK; i++) {
        rc = transfer_value(from, first + i, thread, error);
        if (rc < 0)
            lua_pop(thread, i);
    }
    lua_settop(from, first - 1);
    return rc;
}

/* Gives the task a new coroutine that will call entry's method with the
 * arguments on top of from (popped in any case). */
static int load_entry(struct vm_heap *heap, struct task *task, enum task_kind kind, const struct entry *entry,
                      struct frame *frame, lua_State *from, int argument_count, struct wippy_error *error)
{
    if (!lua_checkstack(heap->lua, 8) || !lua_checkstack(from, 2)) {
        lua_pop(from, argument_count);
        return error_set(error, WIPPY_ENOMEM, "out of Lua stack space");
    }
    lua_State *thread = prepare_task(heap, task, kind, entry, frame);
    int rc = lua_checkstack(thread, argument_count + 8)
                 ? state_push_entry(thread, entry->id, error)
                 : error_set(error, WIPPY_ENOMEM, "out of Lua stack space");
    if (rc == WIPPY_OK) {
        state_push_trampoline(thread);
        lua_insert(thread, -2);
        state_push_new_environment(thread, entry);
        lua_pushvalue(thread, -1);
        task->environment_reference = luaL_ref(thread, LUA_REGISTRYINDEX);
        lua_pushstring(thread, entry->as.lua.method);
        rc = move_arguments(from, thread, argument_count, error);
    } else {
        lua_pop(from, argument_count);
    }
    if (rc < 0) {
        luaL_unref(heap->lua, LUA_REGISTRYINDEX, task->thread_reference);
        luaL_unref(heap->lua, LUA_REGISTRYINDEX, task->environment_reference);
        frame_release(task->frame);
        task->frame = NULL;
        return rc;
    }
    task->resume_count = 3 + argument_count;
    return WIPPY_OK;
}

static int start_entry(struct vm_heap *heap, struct task *task, enum task_kind kind, const struct entry *entry,
                       struct frame *frame, lua_State *from, int argument_count, struct wippy_error *error)
{
    int rc = load_entry(heap, task, kind, entry, frame, from, argument_count, error);
    if (rc < 0)
        return rc;
    link_task(heap->vm, task);
    make_ready(task);
    return WIPPY_OK;
}

int task_start_native(struct vm_heap *heap, struct task *task, const struct entry *entry, struct frame *frame,
                      lua_CFunction body, void *argument, struct wippy_error *error)
{
    lua_State *L = heap->lua;
    if (!lua_checkstack(L, 4))
        return error_set(error, WIPPY_ENOMEM, "out of Lua stack space");
    vm_unlimited_begin(heap->vm);
    lua_State *thread = prepare_task(heap, task, TASK_CALL, entry, frame);
    state_push_new_environment(thread, entry);
    task->environment_reference = luaL_ref(thread, LUA_REGISTRYINDEX);
    lua_pushcfunction(thread, body);
    lua_pushlightuserdata(thread, argument);
    vm_unlimited_end(heap->vm);
    task->resume_count = 1;
    link_task(heap->vm, task);
    make_ready(task);
    return WIPPY_OK;
}

int task_restart(struct task *task, const struct entry *entry, lua_State *from, int argument_count,
                 struct wippy_error *error)
{
    struct task old = *task;
    vm_unlimited_begin(task->vm);
    int rc = load_entry(task->heap, task, task->kind, entry, old.frame, from, argument_count, error);
    vm_unlimited_end(task->vm);
    if (rc < 0) {
        *task = old;
        return rc;
    }
    lua_State *L = task->heap->lua;
    luaL_unref(L, LUA_REGISTRYINDEX, old.thread_reference);
    luaL_unref(L, LUA_REGISTRYINDEX, old.environment_reference);
    luaL_unref(L, LUA_REGISTRYINDEX, old.loaded_reference);
    frame_release(old.frame);
    free(old.kill_reason);
    task->kill_reason = NULL;
    task->killed = false;
    task->raised_shared = false;
    make_ready(task);
    return WIPPY_OK;
}

static void release_task_resources(struct task *task)
{
    lua_State *L = task->heap->lua;
    luaL_unref(L, LUA_REGISTRYINDEX, task->thread_reference);
    luaL_unref(L, LUA_REGISTRYINDEX, task->environment_reference);
    luaL_unref(L, LUA_REGISTRYINDEX, task->loaded_reference);
    task->thread_reference = task->environment_reference = task->loaded_reference = LUA_NOREF;
    frame_release(task->frame);
    task->frame = NULL;
    free(task->kill_reason);
    task->kill_reason = NULL;
    struct vm *vm = task->vm;
    vm->live_tasks--;
    heaps_task_ended(task->heap);
    DLIST_REMOVE(vm->all_tasks, task, all_previous, all_next);
}

/* Lua's own luaL_tolstring, run where an error in it is caught. */
static int error_object_to_text(lua_State *L)
{
    luaL_tolstring(L, 1, NULL);
    return 1;
}

/* Around a task's Lua that runs outside its run: its memory limit holds
 * and it is charged to its account (the text of its error object, the
 * __close handlers of a killed task). */
static struct heap_account *begin_bounded(struct task *task)
{
    struct vm *vm = task->vm;
    vm->bounded++;
    return heap_charge_begin(vm, task->account != NULL ? task->account : vm->runtime_account);
}

static void end_bounded(struct task *task, struct heap_account *previous)
{
    task->vm->bounded--;
    heap_charge_end(task->vm, previous);
}

/* Replaces the error value on top of a finished task's thread with its
 * text, so that whoever reads it gets a string. Turning a value into text
 * may run its __tostring, the task's own code: that runs in protected mode
 * on the main thread under no task (no modules, no identity), and an error
 * or a wrong result in it gives a fixed text instead. */
static void error_to_text(struct task *task)
{
    lua_State *thread = task->thread;
    int type = lua_type(thread, -1);
    if (type == LUA_TSTRING || type == LUA_TNUMBER)
        return;
    lua_State *L = task->heap->lua;
    const char *type_name = lua_typename(thread, type);
    /* a value of a shared type (an error object) stays below its text, for
     * a caller that takes it as it is (funcs.call) */
    state_share_fn share;
    if (type == LUA_TUSERDATA && state_sharing_of(thread, -1, &share) == STATE_SHARED && lua_checkstack(thread, 2)) {
        lua_pushvalue(thread, -1);
        task->raised_shared = true;
    }
    if (!lua_checkstack(L, 3)) {
        lua_pop(thread, 1);
        lua_pushfstring(thread, "(error object is a %s value)", type_name);
        return;
    }
    lua_pushcfunction(L, error_object_to_text);
    lua_xmove(thread, L, 1);
    struct heap_account *charged = begin_bounded(task);
    preemption_enter(task->vm->preemption, L, NULL); /* a __tostring that spins is stopped too */
    int status = lua_pcall(L, 1, 1, 0);
    preemption_leave(task->vm->preemption);
    end_bounded(task, charged);
    if (status == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
        lua_xmove(L, thread, 1);
        return;
    }
    lua_pop(L, 1);
    lua_pushfstring(thread, "(error object is a %s value)", type_name);
}

static int traceback_of(lua_State *L)
{
    luaL_traceback(L, lua_touserdata(L, 1), NULL, 0);
    return 1;
}

/* At -v: where a task's code failed, from its coroutine's stack, which an
 * error leaves in place. */
static void log_traceback(struct task *task)
{
    lua_State *L = task->heap->lua;
    if (!log_enabled(LOG_DEBUG) || task->killed || !lua_checkstack(L, 3))
        return;
    vm_unlimited_begin(task->vm);
    lua_pushcfunction(L, traceback_of);
    lua_pushlightuserdata(L, task->thread);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK)
        log_message(LOG_DEBUG, "%s failed: %s\n%s", task->entry->id, lua_tostring(task->thread, -1),
                    lua_tostring(L, -1));
    lua_pop(L, 1);
    vm_unlimited_end(task->vm);
}

/* Reports the finished task to its owner (which reads the results from the
 * thread), releases its Lua references, then lets the owner free it. A
 * failed task's error is text by then. */
static void finish_task(struct task *task, int status, int result_count)
{
    task_restart_fn restart = task->restart;
    task->restart = NULL;
    if (restart != NULL && !task->vm->stopping && restart(task))
        return;
    task->state = TASK_DONE;
    if (status != LUA_OK) {
        error_to_text(task);
        log_traceback(task);
    }
    task->on_finish(task, status, result_count);
    release_task_resources(task);
    task->dispose(task);
}

static void finish_killed_task(struct task *task)
{
    lua_State *thread = task->thread;
    /* lua_resetthread runs the thread's pending __close handlers: bounded
     * like any run (memory, time slices, the unyieldable limit, signals) */
    struct heap_account *charged = begin_bounded(task);
    preemption_enter(task->vm->preemption, thread, task->entry->id);
    lua_resetthread(thread);
    preemption_leave(task->vm->preemption);
    end_bounded(task, charged);
    lua_pushstring(thread, task->kill_reason != NULL ? task->kill_reason : "terminated");
    finish_task(task, LUA_ERRRUN, 0);
}

/* Runs a task until it blocks, yields or ends; true when its time slice
 * ran out. */
static bool run_task(struct task *task)
{
    struct vm *vm = task->vm;
    if (task->killed) {
        finish_killed_task(task);
        return false;
    }
    vm->current = task;
    task->state = TASK_RUNNING;
    vm->slice_over = false;
    int result_count = 0;
    int arguments = task->resume_count;
    task->resume_count = 0;
    struct heap_account *charged =
        heap_charge_begin(vm, task->account != NULL ? task->account : vm->runtime_account);
    preemption_enter(vm->preemption, task->thread, task->entry->id);
    int status = lua_resume(task->thread, NULL, arguments, &result_count);
    preemption_leave(vm->preemption);
    heap_charge_end(vm, charged);
    vm->current = NULL;
    if (status == LUA_YIELD) {
        bool preempted = vm->slice_over;
        lua_pop(task->thread, result_count);
        if (task->killed) {
            if (task->state == TASK_WAITING && task->cancel_wait != NULL)
                task->cancel_wait(task);
            task->cancel_wait = NULL;
            finish_killed_task(task);
        } else if (task->state == TASK_RUNNING && preempted) {
            set_aside(task);
        } else if (task->state == TASK_RUNNING) {
            make_ready(task); /* a plain coroutine.yield(): run again later */
        }
        return preempted;
    }
    if (status != LUA_OK && task->killed) {
        finish_killed_task(task);
        return false;
    }
    finish_task(task, status, status == LUA_OK ? result_count : 0);
    return false;
}

static void run_ready_tasks(uv_idle_t *idle)
{
    struct vm *vm = idle->data;
    for (int budget = READY_BUDGET_PER_TICK; budget > 0 && vm->ready_head != NULL; budget--) {
        struct task *task = vm->ready_head;
        vm->ready_head = task->next_ready;
        if (vm->ready_head == NULL)
            vm->ready_tail = NULL;
        task->next_ready = NULL;
        /* A task whose slice ran out has had its turn for this tick: the
         * loop looks at I/O and timers before anything runs again. */
        bool preempted = run_task(task);
        heaps_close_emptied(vm);
        if (preempted)
            break;
    }
    /* While tasks are set aside, the loop must not sleep in its poll: the
     * check that requeues them runs right after it. */
    if (vm->ready_head == NULL && vm->preempted_head == NULL)
        uv_idle_stop(idle);
}

struct task *task_current(lua_State *L)
{
    struct vm *vm = vm_of(L);
    if (vm->current == NULL)
        luaL_error(L, "this function can only be called from a running process or function");
    return vm->current;
}

void task_check_can_block(lua_State *L, struct task *task, const char *what)
{
    if (!lua_isyieldable(L))
        luaL_error(L, "%s cannot block here (inside a metamethod, an iterator or a C "
                      "function such as table.sort)", what);
}

int task_wait(lua_State *L, struct task *task, task_cancel_wait_fn cancel, void *wait_data,
              lua_KFunction continuation, lua_KContext context)
{
    task->state = TASK_WAITING;
    task->cancel_wait = cancel;
    task->wait_data = wait_data;
    lua_pushlightuserdata(L, &task_block_marker);
    return lua_yieldk(L, 1, context, continuation);
}

void task_wake(struct task *task, int value_count)
{
    task->cancel_wait = NULL;
    task->wait_data = NULL;
    task->resume_count = value_count;
    make_ready(task);
}

void task_kill(struct task *task, const char *reason)
{
    if (task->state == TASK_DONE || task->killed)
        return;
    task->killed = true;
    task->kill_reason = xstrdup(reason);
    if (task->state == TASK_WAITING) {
        if (task->cancel_wait != NULL)
            task->cancel_wait(task);
        task->cancel_wait = NULL;
        task->resume_count = 0;
        make_ready(task);
    }
    /* READY tasks are finished when dequeued; a RUNNING one when it yields. */
}

bool task_allows(const struct task *task, const char *action, const char *resource)
{
    const struct frame *frame = task->frame;
    return security_allows(frame->actor, frame->scope, task->vm->config->strict_mode, action,
                           resource, NULL);
}

struct route_caller task_route_caller(const struct task *task)
{
    return (struct route_caller){task->frame->actor, task->frame->scope};
}

void *task_attachment(const struct task *task, const void *kind)
{
    return task->attachment_kind == kind ? task->attachment : NULL;
}

void task_finish_all(struct vm *vm, const char *reason)
{
    vm->stopping = true;
    vm_log(vm, "shutdown with %zu tasks still running; heaps open at shutdown: %zu", vm->live_tasks,
           heaps_count(vm));
    for (struct task *task = vm->all_tasks; task != NULL; task = task->all_next)
        task_kill(task, reason);
    while (vm->live_tasks > 0 && (vm->ready_head != NULL || vm->preempted_head != NULL))
        uv_run(vm->loop, UV_RUN_NOWAIT);
}
