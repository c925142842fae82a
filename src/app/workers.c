/* workers.c - see workers.h. The main thread reaches a worker's loop only
 * through its stop handle, under the worker's lock (the worker closes the
 * handle under the same lock); a worker reaches the main loop through one
 * handle that says it ended. */
#include "app/workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/handle.h"
#include "util/memory.h"

/* Something the main thread asked a worker's loop to run. */
struct posted {
    void (*run)(void *runtime, void *data);
    void (*drop)(void *data);
    void *data;
    struct posted *next;
};

enum stop_mode {
    STOP_NONE,
    STOP_DRAIN,
    STOP_NOW,
};

struct worker {
    struct workers *set;
    uv_thread_t thread;
    bool thread_started;
    uv_sem_t ready;
    int start_status;                 /* WIPPY_OK or the error's code, before ready */
    struct wippy_error start_error;
    uv_mutex_t lock;
    uv_async_t *stop_handle;          /* on the worker's loop: posted work and stops; NULL once it closes */
    enum stop_mode stop_mode;         /* under lock */
    struct posted *posted_head;       /* under lock */
    struct posted *posted_tail;
    void *runtime;
    bool ended;                       /* under the set's lock */
};

struct workers {
    struct worker_hooks hooks;
    struct worker *workers;
    size_t count;
    uv_mutex_t lock;
    size_t ended_count;               /* under lock */
    bool reported;                    /* the main loop's */
    bool asked;                       /* the main loop's: workers_stop was called */
    uv_async_t *ended_handle;         /* on the main loop */
};

static struct posted *take_posted(struct worker *worker)
{
    struct posted *posted = worker->posted_head;
    worker->posted_head = worker->posted_tail = NULL;
    return posted;
}

static void on_asked(uv_async_t *handle)
{
    struct worker *worker = handle->data;
    uv_mutex_lock(&worker->lock);
    enum stop_mode mode = worker->stop_mode;
    struct posted *posted = take_posted(worker);
    uv_mutex_unlock(&worker->lock);
    while (posted != NULL) {
        struct posted *next = posted->next;
        posted->run(worker->runtime, posted->data);
        free(posted);
        posted = next;
    }
    if (mode != STOP_NONE)
        worker->set->hooks.stop(worker->runtime, mode == STOP_DRAIN);
}

static void worker_main(void *argument)
{
    struct worker *worker = argument;
    struct workers *set = worker->set;
    char name[16]; /* what ps -L and /proc/PID/task/TID/comm show */
    snprintf(name, sizeof name, "wippy-http%zu", (size_t)(worker - set->workers) + 1);
    pthread_setname_np(pthread_self(), name);
    void *runtime = set->hooks.open(set->hooks.context, &worker->start_error);
    if (runtime == NULL) {
        worker->start_status = worker->start_error.code < 0 ? worker->start_error.code : WIPPY_EIO;
        uv_sem_post(&worker->ready);
        return;
    }
    worker->runtime = runtime;
    uv_async_t *stop_handle = xmalloc(sizeof *stop_handle);
    uv_async_init(set->hooks.loop(runtime), stop_handle, on_asked);
    stop_handle->data = worker;
    uv_unref((uv_handle_t *)stop_handle); /* the runtime's loop stays alive on its own (vm/idle_loops.h) */
    uv_mutex_lock(&worker->lock);
    worker->stop_handle = stop_handle;
    bool stop_now = worker->stop_mode != STOP_NONE;
    uv_mutex_unlock(&worker->lock);
    if (stop_now)
        uv_async_send(stop_handle);
    worker->start_status = WIPPY_OK;
    uv_sem_post(&worker->ready);
    set->hooks.run(runtime);
    uv_mutex_lock(&worker->lock);
    worker->stop_handle = NULL; /* closes with the loop */
    struct posted *posted = take_posted(worker);
    uv_mutex_unlock(&worker->lock);
    while (posted != NULL) { /* too late to run */
        struct posted *next = posted->next;
        posted->drop(posted->data);
        free(posted);
        posted = next;
    }
    set->hooks.close(runtime);
    uv_mutex_lock(&set->lock);
    worker->ended = true;
    set->ended_count++;
    uv_async_send(set->ended_handle);
    uv_mutex_unlock(&set->lock);
}

static void on_worker_ended(uv_async_t *handle)
{
    struct workers *set = handle->data;
    uv_mutex_lock(&set->lock);
    bool all = set->ended_count == set->count;
    bool any = set->ended_count > 0;
    uv_mutex_unlock(&set->lock);
    if (set->reported || !any)
        return;
    if (!set->asked) { /* one ended on its own (a listener failed): the runtime stops */
        set->reported = all;
        set->hooks.ended(set->hooks.context, true);
        return;
    }
    if (all) {
        set->reported = true;
        set->hooks.ended(set->hooks.context, false);
    }
}

static void ask(struct worker *worker, enum stop_mode mode)
{
    uv_mutex_lock(&worker->lock);
    if (mode > worker->stop_mode)
        worker->stop_mode = mode;
    if (worker->stop_handle != NULL)
        uv_async_send(worker->stop_handle);
    uv_mutex_unlock(&worker->lock);
}

size_t workers_count(const struct workers *set)
{
    return set->count;
}

bool workers_post(struct workers *set, size_t index, void (*run)(void *runtime, void *data),
                  void (*drop)(void *data), void *data)
{
    struct worker *worker = &set->workers[index];
    struct posted *posted = xmalloc(sizeof *posted);
    *posted = (struct posted){run, drop, data, NULL};
    uv_mutex_lock(&worker->lock);
    bool open = worker->stop_handle != NULL;
    if (open) {
        if (worker->posted_tail != NULL)
            worker->posted_tail->next = posted;
        else
            worker->posted_head = posted;
        worker->posted_tail = posted;
        uv_async_send(worker->stop_handle);
    }
    uv_mutex_unlock(&worker->lock);
    if (!open)
        free(posted);
    return open;
}

void workers_stop(struct workers *set, bool drain)
{
    if (set == NULL)
        return;
    set->asked = true;
    for (size_t i = 0; i < set->count; i++)
        ask(&set->workers[i], drain ? STOP_DRAIN : STOP_NOW);
    on_worker_ended(set->ended_handle); /* those that had ended already */
}

struct workers *workers_start(struct vm *main, size_t count, const struct worker_hooks *hooks,
                              struct wippy_error *error)
{
    struct workers *set = xcalloc(1, sizeof *set);
    set->hooks = *hooks;
    set->workers = xcalloc(count, sizeof *set->workers);
    uv_mutex_init(&set->lock);
    set->ended_handle = xmalloc(sizeof *set->ended_handle);
    uv_async_init(main->loop, set->ended_handle, on_worker_ended);
    set->ended_handle->data = set;
    uv_unref((uv_handle_t *)set->ended_handle);
    int rc = WIPPY_OK;
    for (size_t i = 0; i < count && rc == WIPPY_OK; i++) {
        struct worker *worker = &set->workers[i];
        worker->set = set;
        uv_sem_init(&worker->ready, 0);
        uv_mutex_init(&worker->lock);
        set->count++;
        if (uv_thread_create(&worker->thread, worker_main, worker) != 0) {
            rc = error_set(error, WIPPY_EIO, "cannot start scheduler thread %zu", i + 1);
            break;
        }
        worker->thread_started = true;
        uv_sem_wait(&worker->ready); /* at start, before the loop runs */
        if (worker->start_status < 0) {
            rc = error_set(error, worker->start_status, "scheduler thread %zu: %s", i + 1,
                           worker->start_error.message);
        }
    }
    if (rc < 0) {
        workers_free(set);
        return NULL;
    }
    return set;
}

void workers_free(struct workers *set)
{
    if (set == NULL)
        return;
    set->reported = true; /* nobody is told any more */
    for (size_t i = 0; i < set->count; i++)
        ask(&set->workers[i], STOP_NOW);
    for (size_t i = 0; i < set->count; i++) {
        struct worker *worker = &set->workers[i];
        if (worker->thread_started)
            uv_thread_join(&worker->thread);
        uv_sem_destroy(&worker->ready);
        uv_mutex_destroy(&worker->lock);
    }
    handle_close((uv_handle_t *)set->ended_handle);
    uv_mutex_destroy(&set->lock);
    free(set->workers);
    free(set);
}
