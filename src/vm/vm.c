/* vm.c - creating, loading, running and freeing the VM. */
#include "vm/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/handle.h"
#include "util/memory.h"
#include "vm/channel.h"
#include "vm/directory.h"
#include "vm/frame.h"
#include "vm/heap.h"
#include "vm/heaps.h"
#include "vm/idle_loops.h"
#include "vm/mailbox.h"
#include "vm/preempt.h"
#include "vm/process.h"
#include "vm/process_elsewhere.h"
#include "vm/sandbox.h"
#include "vm/state.h"
#include "util/log.h"

struct vm *vm_new(uv_loop_t *loop, const struct registry *registry, const struct config *config,
                  bool verbose)
{
    struct vm *vm = xcalloc(1, sizeof *vm);
    vm->loop = loop;
    vm->registry = registry;
    vm->config = config;
    vm->verbose = verbose;
    vm->ready_idle = xmalloc(sizeof *vm->ready_idle);
    uv_idle_init(loop, vm->ready_idle);
    vm->ready_idle->data = vm;
    vm->requeue_check = xmalloc(sizeof *vm->requeue_check);
    uv_check_init(loop, vm->requeue_check);
    vm->requeue_check->data = vm;
    vm->root_frame = frame_new_root();
    vm->processes = process_table_new();
    vm->own_directory = directory_new();
    vm->directory = vm->own_directory; /* a worker's is the main VM's (app/app.c) */
    vm->runtime_account = heap_account_new(0);
    if (config->memory_limit > 0 && config->threads > 1) /* one limit for the whole runtime */
        vm->all_heap_bytes = &vm->own_all_heap_bytes;
    vm->charged = vm->runtime_account;
    vm_mailbox_open(vm);
    return vm;
}

void vm_add_module(struct vm *vm, const struct vm_module *module)
{
    vm->modules = xrealloc(vm->modules, (vm->module_count + 1) * sizeof *vm->modules);
    vm->modules[vm->module_count++] = *module;
}

int vm_load(struct vm *vm, struct wippy_error *error)
{
    int rc = preemption_start(vm, vm->config->time_slice_ns, vm->config->unyieldable_limit_ns,
                              &vm->preemption, error);
    vm->memory_limit = vm->config->memory_limit > 0 ? (size_t)vm->config->memory_limit : 0;
    vm->heap_size = (size_t)vm->config->heap_size;
    vm->install_sandbox = sandbox_install;
    vm->tell_end_elsewhere = elsewhere_tell_end;
    if (rc == WIPPY_OK)
        rc = state_read_sources(vm, error);
    if (rc == WIPPY_OK)
        rc = heaps_open_front(vm, error);
    return rc;
}

int vm_run(struct vm *vm)
{
    uv_run(vm->loop, UV_RUN_DEFAULT);
    if (!vm->stopping) /* the loop ran dry */
        vm_stop_deadlocked(vm);
    return vm->exit_code;
}

void vm_interrupt(struct vm *vm)
{
    preemption_interrupt(vm->preemption);
}

void vm_free(struct vm *vm)
{
    if (vm == NULL)
        return;
    heaps_close_all(vm); /* runs __gc of timers, which close their handles */
    channel_collect_cycles(vm); /* what only cycles of messages held */
    state_free_sources(vm);
    heap_account_release(vm->runtime_account);
    preemption_stop(vm->preemption);
    handle_close((uv_handle_t *)vm->ready_idle);
    handle_close((uv_handle_t *)vm->requeue_check);
    frame_release(vm->root_frame);
    process_table_free(vm->processes);
    free(vm->modules);
    idle_loops_unwatch(vm);
    struct process_directory *own_directory = vm->own_directory;
    vm_mailbox_close(vm); /* what other threads post from now on is dropped there */
    directory_free(own_directory); /* after: a start dropped at the close leaves it (vm/spawn_elsewhere.c) */
    heap_cache_release(&vm->block_cache);
    free(vm);
}
