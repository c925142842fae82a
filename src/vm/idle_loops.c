/* idle_loops.c - see idle_loops.h. A loop is idle when nothing but its
 * mailbox keeps it alive (vm_mailbox_keep_loop): what libuv counts as
 * active (handles that keep the loop alive, requests such as thread-pool
 * work) is that one handle.
 * Each loop looks before it polls (a prepare handle), and counts itself
 * busy again when a post wakes it. */
#include "vm/idle_loops.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "util/handle.h"
#include "util/memory.h"
#include "vm/core.h"

#define ONE_IDLE_LOOP ((uint64_t)1 << 32) /* above: idle loops; below: posts in flight */

static _Atomic uint64_t idle_and_in_flight;
static atomic_int loop_count; /* 0: one loop, nothing watched */
static atomic_bool told;
static void (*on_still)(void *context);
static void *on_still_context;

static void check(uint64_t now)
{
    int loops = atomic_load(&loop_count);
    if (loops == 0 || now != (uint64_t)loops * ONE_IDLE_LOOP || atomic_exchange(&told, true))
        return;
    on_still(on_still_context);
}

static void look(uv_prepare_t *watch)
{
    struct vm *vm = watch->data;
    bool idle = vm->loop->active_handles == 1 && vm->loop->active_reqs.count == 0;
    if (!idle) {
        idle_loops_busy(vm);
    } else if (!vm->idle) {
        vm->idle = true;
        check(atomic_fetch_add(&idle_and_in_flight, ONE_IDLE_LOOP) + ONE_IDLE_LOOP);
    }
}

void idle_loops_begin(int count, void (*still)(void *context), void *context)
{
    on_still = still;
    on_still_context = context;
    atomic_store(&told, false);
    atomic_store(&loop_count, count);
}

void idle_loops_end(void)
{
    atomic_store(&loop_count, 0);
}

void idle_loops_watch(struct vm *vm)
{
    vm->idle_watch = xmalloc(sizeof *vm->idle_watch);
    uv_prepare_init(vm->loop, vm->idle_watch);
    vm->idle_watch->data = vm;
    uv_prepare_start(vm->idle_watch, look);
    uv_unref((uv_handle_t *)vm->idle_watch);
}

void idle_loops_unwatch(struct vm *vm)
{
    if (vm->idle_watch == NULL)
        return;
    idle_loops_busy(vm);
    handle_close((uv_handle_t *)vm->idle_watch);
    vm->idle_watch = NULL;
}

void idle_loops_busy(struct vm *vm)
{
    if (!vm->idle)
        return;
    vm->idle = false;
    atomic_fetch_sub(&idle_and_in_flight, ONE_IDLE_LOOP);
}

void idle_loops_post_made(void)
{
    atomic_fetch_add(&idle_and_in_flight, 1);
}

void idle_loops_post_done(void)
{
    check(atomic_fetch_sub(&idle_and_in_flight, 1) - 1);
}
