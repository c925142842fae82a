/* heap.c - see heap.h. */
#include "vm/heap.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"
#ifdef WIPPY_MIMALLOC
#include <mimalloc.h>
#include <pthread.h>
#endif
#include "vm/core.h"

/* Before every block. Eight bytes keep a block aligned as Lua needs
 * (LUAI_MAXALIGN: a double, a pointer, a 64-bit integer). */
struct block_header {
    struct heap_account *account;
};

struct heap_account *heap_account_new(size_t limit)
{
    struct heap_account *account = xcalloc(1, sizeof *account);
    account->limit = limit;
    account->owners = 1;
    return account;
}

static void free_if_unused(struct heap_account *account)
{
    if (account->owners == 0 && account->bytes == 0)
        free(account);
}

void heap_account_release(struct heap_account *account)
{
    if (account == NULL)
        return;
    account->owners--;
    free_if_unused(account);
}

struct heap_account *heap_charge_begin(struct vm *vm, struct heap_account *account)
{
    struct heap_account *previous = vm->charged;
    vm->charged = account;
    return previous;
}

void heap_charge_end(struct vm *vm, struct heap_account *previous)
{
    vm->charged = previous;
}

/* Limits hold while a task runs; the runtime's own allocations between
 * tasks (small, made where an error could not be caught) always go
 * through, and so does a block of another account growing. */
/* heap_growth: what the whole heap grows by; charged_growth: what the
 * charged account does (all of a block that moves to it). */
/* What vm.memory_limit bounds: this VM's heaps, or with scheduler threads
 * every VM's of the runtime. */
static size_t limited_bytes(const struct vm *vm)
{
    return vm->all_heap_bytes != NULL ? atomic_load_explicit(vm->all_heap_bytes, memory_order_relaxed)
                                      : vm->heap_bytes;
}

/* The VM's heaps grew by delta (wrapping: a shrink is a huge delta). */
static void count_growth(struct vm *vm, size_t delta)
{
    vm->heap_bytes += delta;
    if (vm->all_heap_bytes != NULL)
        atomic_fetch_add_explicit(vm->all_heap_bytes, delta, memory_order_relaxed);
}

static bool limits_hold(const struct vm *vm)
{
    return (vm->current != NULL || vm->bounded > 0) && vm->unlimited == 0;
}

/* The charged account's limit as it holds now (0 = none). */
static size_t charged_limit(const struct vm *vm)
{
    return vm->copying_message ? vm->charged->limit / 2 : vm->charged->limit;
}

size_t heap_room(const struct vm *vm)
{
    if (!limits_hold(vm))
        return SIZE_MAX;
    size_t room = SIZE_MAX;
    size_t held = limited_bytes(vm);
    if (vm->memory_limit > 0)
        room = vm->memory_limit > held ? vm->memory_limit - held : 0;
    size_t limit = charged_limit(vm);
    if (limit > 0) {
        size_t left = limit > vm->charged->bytes ? limit - vm->charged->bytes : 0;
        room = left < room ? left : room;
    }
    return room;
}

static bool within_limits(const struct vm *vm, size_t heap_growth, size_t charged_growth)
{
    if (!limits_hold(vm))
        return true;
    if (vm->memory_limit > 0 && limited_bytes(vm) + heap_growth > vm->memory_limit)
        return false;
    size_t limit = charged_limit(vm);
    return limit == 0 || vm->charged->bytes + charged_growth <= limit;
}

bool heap_account_hold(struct vm *vm, struct heap_account *account, size_t bytes)
{
    if (account == NULL)
        account = vm->runtime_account;
    if (vm->memory_limit > 0 && limited_bytes(vm) + bytes > vm->memory_limit)
        return false;
    if (account->limit > 0 && account->bytes + bytes > account->limit)
        return false;
    account->owners++;
    account->bytes += bytes;
    count_growth(vm, bytes);
    return true;
}

void heap_account_split_hold(struct vm *vm, struct heap_account *account, size_t parts)
{
    if (account == NULL)
        account = vm->runtime_account;
    if (parts == 0) {
        heap_account_let_go(vm, account, 0);
        return;
    }
    account->owners += (int)(parts - 1);
}

void heap_account_let_go(struct vm *vm, struct heap_account *account, size_t bytes)
{
    if (account == NULL)
        account = vm->runtime_account;
    account->bytes -= bytes;
    count_growth(vm, -bytes);
    heap_account_release(account);
}

#ifdef WIPPY_MIMALLOC
/* The Lua heaps' blocks come from mimalloc (built from its sources, see
 * scripts/fetch-mimalloc; the rest of the runtime keeps glibc's malloc).
 * Its free lists, one for each small page, do for a burst of processes
 * started and ended what the cache below does for glibc, whose free and
 * consolidation otherwise take most of a spawn's time. */
static void configure_mimalloc(void)
{
    /* commit an arena's memory as it is used, not 6 MB of it up front */
    mi_option_set(mi_option_arena_eager_commit, 0);
}

void heap_allocator_prepare(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_mimalloc);
}

static struct block_header *block_resize(struct heap_cache *cache, struct block_header *block, size_t old_total,
                                         size_t new_total)
{
    (void)cache;
    struct block_header *moved = mi_realloc(block, new_total);
    if (moved == NULL && block != NULL && new_total < old_total)
        return block; /* a shrink cannot fail: the block is big enough for it */
    return moved;
}

static void block_release(struct heap_cache *cache, struct block_header *block, size_t total)
{
    (void)cache;
    (void)total;
    mi_free(block);
}
#else
void heap_allocator_prepare(void) {}

#define CACHE_DEPTH 256 /* blocks kept a class: about half a megabyte at most */

/* Class c holds blocks of up to 24 + 16c bytes, what glibc's malloc gives
 * for a chunk of 32 + 16c (its 8-byte size field and 16-byte steps): a
 * kept block then costs what malloc alone would have given that size. */
#define SMALLEST_CLASS 24
#define CLASS_STEP 16

/* The class of a block of total bytes (its header included), or
 * HEAP_CACHE_CLASSES when it is too big to be kept. Blocks of a class are
 * all allocated with the class's whole size, so any may serve. */
static size_t class_of(size_t total)
{
    size_t class = total <= SMALLEST_CLASS ? 0 : (total - SMALLEST_CLASS + CLASS_STEP - 1) / CLASS_STEP;
    return class < HEAP_CACHE_CLASSES ? class : HEAP_CACHE_CLASSES;
}

static size_t class_size(size_t class)
{
    return SMALLEST_CLASS + class * CLASS_STEP;
}

/* Under AddressSanitizer every block goes back to malloc at once, so a use
 * after free is still caught. */
#if defined(__SANITIZE_ADDRESS__)
#define CACHE_ON false
#else
#define CACHE_ON true
#endif

static struct block_header *block_new(struct heap_cache *cache, size_t total)
{
    size_t class = class_of(total);
    if (class == HEAP_CACHE_CLASSES)
        return malloc(total);
    if (cache->blocks[class] != NULL) {
        void *block = cache->blocks[class];
        cache->blocks[class] = *(void **)block;
        cache->counts[class]--;
        return block;
    }
    return malloc(class_size(class));
}

static void block_release(struct heap_cache *cache, struct block_header *block, size_t total)
{
    size_t class = class_of(total);
    if (!CACHE_ON || class == HEAP_CACHE_CLASSES || cache->counts[class] >= CACHE_DEPTH) {
        free(block);
        return;
    }
    *(void **)block = cache->blocks[class];
    cache->blocks[class] = block;
    cache->counts[class]++;
}

static struct block_header *block_resize(struct heap_cache *cache, struct block_header *block, size_t old_total,
                                         size_t new_total)
{
    if (block == NULL)
        return block_new(cache, new_total);
    size_t old_class = class_of(old_total), new_class = class_of(new_total);
    if (old_class == new_class && old_class < HEAP_CACHE_CLASSES)
        return block;
    if (old_class == HEAP_CACHE_CLASSES && new_class == HEAP_CACHE_CLASSES)
        return realloc(block, new_total);
    struct block_header *moved = block_new(cache, new_total);
    if (moved == NULL) /* a shrink cannot fail: the block is big enough for its smaller class */
        return new_total < old_total ? block : NULL;
    memcpy(moved, block, old_total < new_total ? old_total : new_total);
    block_release(cache, block, old_total);
    return moved;
}

#endif

void heap_cache_release(struct heap_cache *cache)
{
    for (size_t class = 0; class < HEAP_CACHE_CLASSES; class++) {
        while (cache->blocks[class] != NULL) {
            void *block = cache->blocks[class];
            cache->blocks[class] = *(void **)block;
            free(block);
        }
        cache->counts[class] = 0;
    }
}

void *heap_allocate(void *context, void *block, size_t old_size, size_t new_size)
{
    struct vm *vm = context;
    size_t old = block != NULL ? old_size : 0; /* without a block, old_size is a type */
    struct block_header *header = block != NULL ? (struct block_header *)block - 1 : NULL;
    struct heap_account *account = header != NULL ? header->account : vm->charged;
    if (new_size == 0) {
        if (header != NULL)
            block_release(&vm->block_cache, header, sizeof *header + old);
        count_growth(vm, -old);
        account->bytes -= old;
        free_if_unused(account);
        return NULL;
    }
    /* whoever grows a process's block pays for all of it from now on (a
     * table its spawner made, grown by the child, is the child's); the
     * runtime's own blocks (the string table, the registry) stay the
     * runtime's whoever makes them grow */
    bool moves = new_size > old && account != vm->charged && account != vm->runtime_account;
    if (new_size > old && !within_limits(vm, new_size - old, moves ? new_size : new_size - old))
        return NULL;
    struct block_header *grown = block_resize(&vm->block_cache, header, sizeof *header + old, sizeof *grown + new_size);
    if (grown == NULL)
        return NULL;
    count_growth(vm, new_size - old);
    if (moves) {
        account->bytes -= old;
        free_if_unused(account);
        account = vm->charged;
        account->bytes += new_size;
    } else {
        account->bytes = account->bytes - old + new_size;
    }
    grown->account = account;
    return grown + 1;
}

bool heap_reserve_in_transit(struct vm *vm, size_t bytes)
{
    atomic_size_t *all = vm->all_heap_bytes;
    if (all == NULL)
        return true;
    size_t now = atomic_load_explicit(all, memory_order_relaxed);
    do {
        if (now + bytes > vm->memory_limit)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(all, &now, now + bytes, memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

void heap_release_in_transit(atomic_size_t *all, size_t bytes)
{
    if (all != NULL)
        atomic_fetch_sub_explicit(all, bytes, memory_order_relaxed);
}
