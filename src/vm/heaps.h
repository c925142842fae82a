/* heaps.h - the Lua heaps of a VM (struct vm_heap in core.h): the front heap
 * opened at load, a new process placed in its spawner's heap while that has
 * room and in another one (opened when every heap is full) otherwise, and
 * a heap other than the front closed once its last task has ended. */
#ifndef WIPPY_VM_HEAPS_H
#define WIPPY_VM_HEAPS_H

#include "util/error.h"
#include "vm/core.h"

/* Opens the front heap and compiles every entry in it (a syntax error is
 * reported here, at load). */
int heaps_open_front(struct vm *vm, struct wippy_error *error);

/* The heap a new process goes to: near (the spawner's) while it has room,
 * else any heap with room, else a new one. The process is counted there. */
struct vm_heap *heaps_place_process(struct vm *vm, struct vm_heap *near, struct wippy_error *error);

/* A process placed by heaps_place_process ended (or never started). */
void heaps_process_ended(struct vm_heap *heap);

/* A task starts or ends in the heap. */
void heaps_task_started(struct vm_heap *heap);
void heaps_task_ended(struct vm_heap *heap);

/* Something other than a task uses the heap's state for a while (a timer
 * that will feed a channel of it): the heap stays open until released. An
 * emptied heap that something still holds is collected once, so that what
 * nobody can reach any more (a forgotten timer) lets go of it. */
void heaps_hold(struct vm_heap *heap);
void heaps_release(struct vm_heap *heap);

/* Closes the heaps whose last task has ended since the last call: called
 * by the scheduler where no Lua of theirs can be running. */
void heaps_close_emptied(struct vm *vm);

/* Closes every heap, the front last (at vm_free). */
void heaps_close_all(struct vm *vm);

/* How many heaps are open. */
size_t heaps_count(const struct vm *vm);

#endif
