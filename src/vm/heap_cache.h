/* heap_cache.h - the small blocks a VM keeps for reuse (vm/heap.c), apart
 * from heap.h so that the VM's struct (vm/core.h) can hold them. */
#ifndef WIPPY_VM_HEAP_CACHE_H
#define WIPPY_VM_HEAP_CACHE_H

/* Small blocks a VM's heaps freed, kept for its next allocations of the
 * same size: the collector frees hundreds at once, far past what glibc's
 * per-thread cache keeps (seven a size), and every other one went the slow
 * way. One VM's, used by its own thread only. */
#define HEAP_CACHE_CLASSES 16 /* blocks of 24, 40, ... 264 bytes, header included */
struct heap_cache {
    void *blocks[HEAP_CACHE_CLASSES]; /* each linked through its first word */
    unsigned counts[HEAP_CACHE_CLASSES];
};

#endif
