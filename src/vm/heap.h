/* heap.h - the Lua state's allocator, and who pays for each block. Every
 * block carries, in a small header, the account it was charged to: the
 * account of the process whose code allocated it (or the process a message
 * was being copied for), else the runtime's. Freeing a block credits that
 * account whoever runs the collector, so a process's figure is what it
 * holds, not what it churned through. A block grown by another account's
 * code moves to that account. An account with a limit refuses to grow past
 * it while its own code runs; Lua then collects and raises "not enough
 * memory" in that task alone. A message copied for a receiver may fill at
 * most half its limit (vm->copying_message), so no sender can leave it
 * without room. vm.memory_limit bounds the sum. */
#ifndef WIPPY_VM_HEAP_H
#define WIPPY_VM_HEAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "vm/heap_cache.h"

struct vm;

struct heap_account {
    size_t bytes; /* held by blocks charged here */
    size_t limit; /* 0 = none */
    int owners;   /* the process (or the runtime) holding it, while it lives */
    unsigned messages_away; /* its messages on their way to another loop (vm/send_elsewhere.h) */
};

/* Frees every block the cache keeps (once the VM's states are closed). */
void heap_cache_release(struct heap_cache *cache);

/* A new account with limit (0 = none), owned by its caller. */
struct heap_account *heap_account_new(size_t limit);

/* Its owner is done with it: freed now, or once the last block charged to
 * it is (NULL is fine). */
void heap_account_release(struct heap_account *account);

/* The lua_Alloc of the state; context is the vm. New blocks are charged to
 * vm->charged. */
void *heap_allocate(void *context, void *block, size_t old_size, size_t new_size);

/* Before the first state that allocates through heap_allocate (any thread,
 * any number of times). */
void heap_allocator_prepare(void);

/* A value held as a message outside the Lua heaps (buffered in a channel
 * that several heaps reach) stays its sender's to pay for: hold charges
 * its bytes to account (NULL: the runtime's) and keeps the account alive,
 * or returns false when that would pass the account's limit or
 * vm.memory_limit (nothing is charged then), whatever runs at the moment;
 * let_go credits them back. */
bool heap_account_hold(struct vm *vm, struct heap_account *account, size_t bytes);
void heap_account_let_go(struct vm *vm, struct heap_account *account, size_t bytes);

/* One hold of the sum of parts sizes becomes one hold per part, each let
 * go on its own (no limit is looked at again). */
void heap_account_split_hold(struct vm *vm, struct heap_account *account, size_t parts);

/* What the account charged at the moment (vm->charged) may still grow by,
 * within its limit (half of it while a message is copied for it) and
 * vm.memory_limit; SIZE_MAX when no limit holds (the runtime's own work). */
size_t heap_room(const struct vm *vm);

/* Charges new blocks to account until the matching heap_charge_end (which
 * gets what heap_charge_begin returned). */
struct heap_account *heap_charge_begin(struct vm *vm, struct heap_account *account);
void heap_charge_end(struct vm *vm, struct heap_account *previous);

/* Messages on their way between scheduler threads (vm/remote.h) count
 * against vm.memory_limit, which is the whole runtime's: reserve is false
 * when bytes more would pass it; release (from either thread) takes
 * vm->all_heap_bytes as reserve saw it (NULL: nothing was counted). */
bool heap_reserve_in_transit(struct vm *vm, size_t bytes);
void heap_release_in_transit(atomic_size_t *all, size_t bytes);

#endif
