/* preempt.c - see preempt.h. */
#include "vm/preempt.h"

#include <errno.h>
#include <lauxlib.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/memory.h"
#include "vm/core.h"

/* A real-time signal: libuv and Go's runtime (loaded for Tailscale, which
 * takes SIGURG for its own pre-emption) leave these alone. */
#define PREEMPT_SIGNAL (SIGRTMAX - 1)
/* How often a task stuck where it cannot yield is looked at again. */
#define STUCK_RECHECK_INSTRUCTIONS 100000
/* The longest the watchdog sleeps while no Lua runs. */
#define IDLE_LOOK_NS (INT64_C(100) * 1000000)

struct preemption {
    struct vm *vm;
    pthread_t loop_thread;
    pthread_t watchdog;
    pthread_mutex_t lock; /* for stopping and cond only */
    pthread_cond_t wake;
    bool stopping;
    int64_t slice_ns;
    int64_t unyieldable_limit_ns;
    /* Written by the loop thread, read by the watchdog: */
    atomic_uint_fast64_t run; /* counts preemption_enter */
    atomic_bool in_lua;
    atomic_bool looking_slowly; /* the watchdog sleeps long: wake it when Lua starts */
    /* Written from a signal handler, read by both: */
    atomic_bool interrupted;
    /* Loop thread only (its signal handler included): */
    lua_State *volatile running;
    const char *label;       /* what runs: the task's entry id, or NULL */
    bool stopping_run;       /* the run passed the unyieldable limit: every instruction raises */
    char stop_message[300];
    uint64_t stuck_run;      /* the run found unable to yield, and since when */
    int64_t stuck_since_ns;
};

/* The preemption of the loop thread a signal is delivered to. */
static _Thread_local struct preemption *this_thread_preemption;

static int64_t monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static void ran_too_long(lua_State *L, lua_Debug *debug);

/* Raises the stop error with the hook armed on every instruction: a pcall
 * may catch the error, but the next instruction raises it again, so the
 * run unwinds to its end (the watchdog arms every thread it runs next). */
static void stop_here(lua_State *L, struct preemption *preemption)
{
    lua_sethook(L, ran_too_long, LUA_MASKCOUNT, 1);
    luaL_error(L, "%s", preemption->stop_message);
}

void preemption_check_stuck(struct preemption *preemption, lua_State *L)
{
    uint64_t run = atomic_load_explicit(&preemption->run, memory_order_relaxed);
    int64_t now = monotonic_ns();
    if (preemption->stuck_run != run) {
        preemption->stuck_run = run;
        preemption->stuck_since_ns = now - preemption->slice_ns;
    }
    const char *label = preemption->label != NULL ? preemption->label : "code outside any process";
    if (atomic_load_explicit(&preemption->interrupted, memory_order_relaxed)) {
        snprintf(preemption->stop_message, sizeof preemption->stop_message,
                 "%s was stopped where it could not yield: the runtime is shutting down", label);
        preemption->stopping_run = true;
        stop_here(L, preemption);
    }
    int64_t limit = preemption->unyieldable_limit_ns;
    if (limit > 0 && now - preemption->stuck_since_ns > limit) {
        snprintf(preemption->stop_message, sizeof preemption->stop_message,
                 "%s ran for more than %.3gs where it could not yield (inside a metamethod or a C "
                 "function's callback) and was stopped",
                 label, (double)limit / 1e9);
        preemption->stopping_run = true;
        stop_here(L, preemption);
    }
}

/* The count hook armed once a slice is over: it yields the task to the
 * scheduler, which runs it again after what else is ready. */
static void ran_too_long(lua_State *L, lua_Debug *debug)
{
    (void)debug;
    struct vm *vm = vm_of(L);
    if (vm->preemption->stopping_run)
        stop_here(L, vm->preemption);
    lua_sethook(L, NULL, 0, 0);
    if (vm->current != NULL && lua_isyieldable(L)) {
        vm->slice_over = true;
        lua_yield(L, 0);
        return;
    }
    preemption_check_stuck(vm->preemption, L);
    lua_sethook(L, ran_too_long, LUA_MASKCOUNT, STUCK_RECHECK_INSTRUCTIONS);
}

static void on_preempt_signal(int signal_number)
{
    (void)signal_number;
    struct preemption *preemption = this_thread_preemption;
    if (preemption == NULL)
        return;
    lua_State *running = preemption->running;
    if (running != NULL)
        lua_sethook(running, ran_too_long, LUA_MASKCOUNT, 1);
}

/* Looks twice a slice; a run seen at three looks in a row (so running for
 * one to one and a half slices) is signalled, and again at every look while
 * it cannot yield. While the runtime is idle it looks less often (down to
 * ten times a second), and the first run after that wakes it. */
static void *watch(void *argument)
{
    struct preemption *preemption = argument;
    uint64_t last_run = 0, signalled_run = 0;
    int looks = 0;
    pthread_mutex_lock(&preemption->lock);
    int64_t interval = preemption->slice_ns / 2;
    while (!preemption->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t at = (int64_t)until.tv_nsec + interval;
        until.tv_sec += at / 1000000000;
        until.tv_nsec = at % 1000000000;
        pthread_cond_timedwait(&preemption->wake, &preemption->lock, &until);
        if (preemption->stopping)
            break;
        uint64_t run = atomic_load_explicit(&preemption->run, memory_order_relaxed);
        bool in_lua = atomic_load_explicit(&preemption->in_lua, memory_order_relaxed);
        /* Idle (no Lua ran since the last look): look less often, up to
         * ten times a second; any run brings the pace back at once. */
        bool idle = !in_lua && run == last_run;
        interval = idle ? (interval * 2 < IDLE_LOOK_NS ? interval * 2 : IDLE_LOOK_NS) : preemption->slice_ns / 2;
        atomic_store_explicit(&preemption->looking_slowly, interval > preemption->slice_ns / 2,
                              memory_order_relaxed);
        looks = in_lua && run == last_run ? looks + 1 : 1;
        last_run = run;
        if (in_lua && atomic_load_explicit(&preemption->interrupted, memory_order_relaxed)) {
            pthread_kill(preemption->loop_thread, PREEMPT_SIGNAL); /* at once: shutting down */
            continue;
        }
        if (looks < 3)
            continue;
        if (run != signalled_run) {
            signalled_run = run;
            pthread_kill(preemption->loop_thread, PREEMPT_SIGNAL);
        } else if (preemption->unyieldable_limit_ns > 0) {
            /* still going after a signal: it could not yield; the hook keeps count */
            pthread_kill(preemption->loop_thread, PREEMPT_SIGNAL);
        }
    }
    pthread_mutex_unlock(&preemption->lock);
    return NULL;
}

int preemption_start(struct vm *vm, int64_t slice_ns, int64_t unyieldable_limit_ns,
                     struct preemption **out, struct wippy_error *error)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_preempt_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(PREEMPT_SIGNAL, &action, NULL) != 0)
        return error_set(error, WIPPY_EIO, "cannot install the pre-emption signal: %s", strerror(errno));
    struct preemption *preemption = xcalloc(1, sizeof *preemption);
    preemption->vm = vm;
    preemption->loop_thread = pthread_self();
    preemption->slice_ns = slice_ns;
    preemption->unyieldable_limit_ns = unyieldable_limit_ns;
    atomic_init(&preemption->run, 0);
    atomic_init(&preemption->in_lua, false);
    atomic_init(&preemption->looking_slowly, false);
    atomic_init(&preemption->interrupted, false);
    pthread_mutex_init(&preemption->lock, NULL);
    pthread_cond_init(&preemption->wake, NULL);
    /* The watchdog must not take the signal meant for the loop thread. */
    sigset_t blocked, previous;
    sigemptyset(&blocked);
    sigaddset(&blocked, PREEMPT_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);
    int rc = pthread_create(&preemption->watchdog, NULL, watch, preemption);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (rc != 0) {
        pthread_mutex_destroy(&preemption->lock);
        pthread_cond_destroy(&preemption->wake);
        free(preemption);
        return error_set(error, WIPPY_EIO, "cannot start the pre-emption watchdog: %s", strerror(rc));
    }
    this_thread_preemption = preemption;
    *out = preemption;
    return WIPPY_OK;
}

void preemption_stop(struct preemption *preemption)
{
    if (preemption == NULL)
        return;
    pthread_mutex_lock(&preemption->lock);
    preemption->stopping = true;
    pthread_cond_signal(&preemption->wake);
    pthread_mutex_unlock(&preemption->lock);
    pthread_join(preemption->watchdog, NULL);
    if (this_thread_preemption == preemption)
        this_thread_preemption = NULL;
    pthread_mutex_destroy(&preemption->lock);
    pthread_cond_destroy(&preemption->wake);
    free(preemption);
}

void preemption_interrupt(struct preemption *preemption)
{
    if (preemption != NULL)
        atomic_store_explicit(&preemption->interrupted, true, memory_order_relaxed);
}

void preemption_enter(struct preemption *preemption, lua_State *thread, const char *label)
{
    if (preemption == NULL)
        return;
    preemption->label = label;
    preemption->running = thread;
    if (atomic_load_explicit(&preemption->looking_slowly, memory_order_relaxed)) {
        atomic_store_explicit(&preemption->looking_slowly, false, memory_order_relaxed);
        pthread_cond_signal(&preemption->wake); /* once per idle spell */
    }
    atomic_store_explicit(&preemption->run, atomic_load_explicit(&preemption->run, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&preemption->in_lua, true, memory_order_relaxed);
}

lua_State *preemption_switch(struct preemption *preemption, lua_State *thread)
{
    if (preemption == NULL)
        return NULL;
    lua_State *previous = preemption->running;
    preemption->running = thread;
    return previous;
}

void preemption_leave(struct preemption *preemption)
{
    if (preemption == NULL)
        return;
    atomic_store_explicit(&preemption->in_lua, false, memory_order_relaxed);
    lua_State *left = preemption->running;
    preemption->running = NULL;
    preemption->stopping_run = false;
    if (left != NULL)
        lua_sethook(left, NULL, 0, 0); /* a hook armed just as it returned would fire next time */
}
