/* heaps.c - see heaps.h. */
#include "vm/heaps.h"

#include <stdlib.h>

#include "util/list.h"
#include "util/memory.h"
#include "vm/heap.h"
#include "vm/state.h"

static void room_add(struct vm *vm, struct vm_heap *heap)
{
    if (heap->with_room)
        return;
    heap->with_room = true;
    heap->room_next = vm->heaps_with_room;
    vm->heaps_with_room = heap;
}

static void room_remove(struct vm *vm, struct vm_heap *heap)
{
    if (!heap->with_room)
        return;
    heap->with_room = false;
    struct vm_heap **link = &vm->heaps_with_room;
    while (*link != heap)
        link = &(*link)->room_next;
    *link = heap->room_next;
    heap->room_next = NULL;
}

static bool emptied(const struct vm_heap *heap)
{
    return heap->tasks == 0 && heap->processes == 0 && heap != heap->vm->front;
}

static bool has_room(const struct vm_heap *heap)
{
    return heap->vm->heap_size == 0 || heap->processes < heap->vm->heap_size;
}

/* A new heap's state and base belong to the runtime, not to the process
 * whose spawn opened it, and no limit stops it half-built. */
static int open_heap(struct vm *vm, struct vm_heap **out, struct wippy_error *error)
{
    struct vm_heap *heap = xcalloc(1, sizeof *heap);
    heap->vm = vm;
    vm_unlimited_begin(vm);
    struct heap_account *charged = heap_charge_begin(vm, vm->runtime_account);
    int rc = state_open(heap, error);
    if (rc == WIPPY_OK)
        rc = vm->install_sandbox(heap, error);
    heap_charge_end(vm, charged);
    vm_unlimited_end(vm);
    if (rc < 0) {
        state_close(heap);
        free(heap);
        return rc;
    }
    DLIST_PUSH(vm->heaps, heap, previous, next);
    *out = heap;
    return WIPPY_OK;
}

int heaps_open_front(struct vm *vm, struct wippy_error *error)
{
    struct vm_heap *front;
    int rc = open_heap(vm, &front, error);
    if (rc < 0)
        return rc;
    vm->front = front;
    vm->lua = front->lua;
    room_add(vm, front);
    return state_compile_entries(front, error);
}

struct vm_heap *heaps_place_process(struct vm *vm, struct vm_heap *near, struct wippy_error *error)
{
    struct vm_heap *heap = near != NULL && has_room(near) ? near : NULL;
    while (heap == NULL && vm->heaps_with_room != NULL) {
        struct vm_heap *candidate = vm->heaps_with_room;
        if (has_room(candidate))
            heap = candidate;
        else
            room_remove(vm, candidate);
    }
    if (heap == NULL && open_heap(vm, &heap, error) < 0)
        return NULL;
    heap->processes++;
    if (has_room(heap))
        room_add(vm, heap);
    else
        room_remove(vm, heap);
    return heap;
}

void heaps_process_ended(struct vm_heap *heap)
{
    heap->processes--;
    room_add(heap->vm, heap);
    if (emptied(heap))
        heap->vm->heaps_to_close = true;
}

void heaps_task_started(struct vm_heap *heap)
{
    heap->tasks++;
    heap->collected = false;
}

void heaps_task_ended(struct vm_heap *heap)
{
    heap->tasks--;
    if (emptied(heap))
        heap->vm->heaps_to_close = true;
}

void heaps_hold(struct vm_heap *heap)
{
    heap->holds++;
}

void heaps_release(struct vm_heap *heap)
{
    heap->holds--;
    if (emptied(heap))
        heap->vm->heaps_to_close = true;
}

static void close_heap(struct vm *vm, struct vm_heap *heap)
{
    room_remove(vm, heap);
    DLIST_REMOVE(vm->heaps, heap, previous, next);
    vm_unlimited_begin(vm);
    state_close(heap); /* runs the __gc of what it held (timers close their handles) */
    vm_unlimited_end(vm);
    free(heap);
}

void heaps_close_emptied(struct vm *vm)
{
    if (!vm->heaps_to_close)
        return;
    vm->heaps_to_close = false;
    struct vm_heap *heap = vm->heaps;
    while (heap != NULL) {
        struct vm_heap *next = heap->next;
        if (emptied(heap) && heap->holds > 0 && !heap->collected) {
            heap->collected = true;
            vm_unlimited_begin(vm);
            lua_gc(heap->lua, LUA_GCCOLLECT); /* a timer nobody can reach stops and releases it */
            vm_unlimited_end(vm);
        }
        if (emptied(heap) && heap->holds == 0)
            close_heap(vm, heap);
        heap = next;
    }
}

void heaps_close_all(struct vm *vm)
{
    while (vm->heaps != NULL) {
        struct vm_heap *heap = vm->heaps;
        if (heap == vm->front && heap->next != NULL)
            heap = heap->next;
        close_heap(vm, heap);
    }
    vm->front = NULL;
    vm->lua = NULL;
}

size_t heaps_count(const struct vm *vm)
{
    size_t count = 0;
    for (const struct vm_heap *heap = vm->heaps; heap != NULL; heap = heap->next)
        count++;
    return count;
}
