/* workers.h - the scheduler threads beside the main one (scheduler.threads):
 * each runs a runtime of its own (loop, VM, HTTP client, listeners) that
 * the application builds through hooks, calling on the main VM through
 * its mailbox (vm/remote.h). Started, stopped and waited for from the main thread. */
#ifndef WIPPY_APP_WORKERS_H
#define WIPPY_APP_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "util/error.h"
#include "vm/core.h"

/* What a worker's runtime is; every hook but ended runs on the worker's
 * thread. */
struct worker_hooks {
    /* Builds and starts the runtime; NULL with error set when it cannot. */
    void *(*open)(void *context, struct wippy_error *error);
    uv_loop_t *(*loop)(void *runtime);
    int (*run)(void *runtime);               /* until it stops */
    void (*stop)(void *runtime, bool drain); /* drain: requests in flight finish first */
    void (*close)(void *runtime);            /* detaches link, frees the runtime */
    /* On the main loop, once every worker has ended; unexpected is true when
     * one ended without being asked to. */
    void (*ended)(void *context, bool unexpected);
    void *context;
};

struct workers;

/* Starts count threads and waits until each serves (or one failed: then
 * the others are stopped and NULL is returned with its error). */
struct workers *workers_start(struct vm *main, size_t count, const struct worker_hooks *hooks,
                              struct wippy_error *error);

size_t workers_count(const struct workers *workers);

/* Has worker index run run(its runtime, data) on its loop; false (nothing
 * will run) when it has stopped. Work posted but not run when it stops is
 * given to drop. */
bool workers_post(struct workers *workers, size_t index, void (*run)(void *runtime, void *data),
                  void (*drop)(void *data), void *data);

/* Asks every worker to stop (see worker_hooks.stop); hooks.ended follows. */
void workers_stop(struct workers *workers, bool drain);

/* Stops what still runs (at once), waits for the threads and frees. */
void workers_free(struct workers *workers);

#endif
