/* app.c - see app.h. Each part is opened by a function that registers how
 * to close it; app_free runs those hooks in reverse, so a new part never
 * teaches the shutdown about itself. */
#include "app/app.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "app/http_services.h"
#include "app/workers.h"
#include "http/client.h"
#include "lua/error_values.h"
#include "lua/modules.h"
#include "net/overlay.h"
#include "terminal/terminal.h"
#include "util/handle.h"
#include "util/directories.h"
#include "util/memory.h"
#include "util/log.h"
#include "vm/directory.h"
#include "vm/idle_loops.h"
#include "vm/mailbox.h"
#include "vm/process.h"
#include "vm/task.h"
#include "vm/vm.h"

#define SHUTDOWN_GRACE_NS (INT64_C(10) * 1000000000)

struct close_hook {
    void (*close)(struct app *app);
    struct close_hook *next; /* the one registered before */
};

struct app {
    uv_loop_t *loop;
    struct vm *vm;
    struct overlay_set overlays; /* live overlays, opened on first use */
    struct http_client *http;
    struct terminal *terminal;
    struct mod_http_client_context http_client_context;
    struct mod_env_context env_context;
    int state_lock; /* descriptor holding state_dir/.lock, or -1 */
    struct http_services *services;
    struct close_hook *close_hooks; /* last registered first */
    char **arguments;
    int argument_count;
    /* scheduler threads (app/workers.h) */
    struct app *main;                  /* a worker's: the main thread's app; NULL there */
    struct workers *workers;           /* the main app's, when threads serve HTTP */
    struct http_shared_service *shared; /* the main app's direct-network services, the workers serve */
    size_t shared_count;
    size_t next_worker;                /* the main app's: who gets the next connection */
};

/* The host command processes run on when the project declares no
 * terminal.host entry. */
static const struct entry builtin_terminal_host = {
    .id = "wippy:terminal",
    .kind = ENTRY_TERMINAL_HOST,
    .kind_name = "terminal.host",
};

static void on_close(struct app *app, void (*close)(struct app *app))
{
    struct close_hook *hook = xmalloc(sizeof *hook);
    hook->close = close;
    hook->next = app->close_hooks;
    app->close_hooks = hook;
}

/* ---- the parts, in the order they are opened ---- */

/* What is still open when the loop closes is a heap allocation that starts
 * with its handle (signal watchers, timers): closing frees it. */
static void close_remaining_handle(uv_handle_t *handle, void *argument)
{
    if (!uv_is_closing(handle))
        uv_close(handle, handle_free);
}

static void close_loop(struct app *app)
{
    uv_walk(app->loop, close_remaining_handle, NULL);
    uv_run(app->loop, UV_RUN_DEFAULT);
    uv_loop_close(app->loop);
    free(app->loop);
}

static void open_loop(struct app *app)
{
    app->loop = xmalloc(sizeof *app->loop);
    uv_loop_init(app->loop);
    on_close(app, close_loop);
}

static void close_vm(struct app *app)
{
    vm_free(app->vm);
}

static void open_vm(struct app *app, const struct registry *registry, const struct config *config,
                    bool verbose)
{
    app->vm = vm_new(app->loop, registry, config, verbose);
    app->vm->push_failure = error_value_push_failure; /* failures reach Lua as error objects */
    on_close(app, close_vm);
}

static void close_overlays(struct app *app)
{
    overlay_set_close(&app->overlays);
}

static void open_overlays(struct app *app, const struct config *config)
{
    app->overlays = (struct overlay_set){.loop = app->loop, .state_dir = config->state_dir};
    on_close(app, close_overlays);
}

static void unlock_state(struct app *app)
{
    if (app->state_lock >= 0)
        close(app->state_lock); /* the lock goes with the descriptor */
}

/* Two runtimes with the same I2P keys or tailnet node state would fight
 * over one identity: the first to start holds state_dir/.lock (flock,
 * released by the kernel when the process ends), the second stops with a
 * line saying so. Taken before the loop runs: a disk call then is fine. */
static int lock_state(struct app *app, const struct registry *registry, const struct config *config,
                      struct wippy_error *error)
{
    app->state_lock = -1;
    on_close(app, unlock_state);
    bool keeps_state = false;
    for (size_t i = 0; i < registry->count && !keeps_state; i++)
        keeps_state = registry->entries[i]->kind == ENTRY_NETWORK_I2P ||
                      registry->entries[i]->kind == ENTRY_NETWORK_TAILSCALE;
    if (!keeps_state)
        return WIPPY_OK;
    if (make_directories(config->state_dir) < 0)
        return error_set(error, WIPPY_EIO, "network_service.state_dir %s: %s", config->state_dir, strerror(errno));
    char *path = xasprintf("%s/.lock", config->state_dir);
    app->state_lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int rc = WIPPY_OK;
    if (app->state_lock < 0) {
        rc = error_set(error, WIPPY_EIO, "%s: %s", path, strerror(errno));
    } else if (flock(app->state_lock, LOCK_EX | LOCK_NB) < 0) {
        rc = error_set(error, WIPPY_ESTATE,
                       "network_service.state_dir %s is in use by another wippy: give each instance its own "
                       "(--set network_service.state_dir=...)", config->state_dir);
        close(app->state_lock);
        app->state_lock = -1;
    }
    free(path);
    return rc;
}

static void close_http_client(struct app *app)
{
    http_client_free(app->http);
}

/* An I2P session or a tailnet node is one identity, opened on the main
 * thread: a worker's HTTP client calls run there when the project has one. */
static bool has_identity_overlay(const struct registry *registry)
{
    for (size_t i = 0; i < registry->count; i++)
        if (registry->entries[i]->kind == ENTRY_NETWORK_I2P || registry->entries[i]->kind == ENTRY_NETWORK_TAILSCALE)
            return true;
    return false;
}

static void open_http_client(struct app *app)
{
    app->http = http_client_new(app->loop);
    bool on_main = app->main != NULL && has_identity_overlay(app->vm->registry);
    app->http_client_context = (struct mod_http_client_context){app->http, &app->overlays, on_main};
    on_close(app, close_http_client);
}

static void close_terminal(struct app *app)
{
    terminal_close(app->terminal);
}

static void open_terminal(struct app *app)
{
    app->terminal = terminal_new(app->loop, app->arguments, app->argument_count);
    on_close(app, close_terminal);
}

static void close_http_services(struct app *app)
{
    http_services_free(app->services);
}

static void open_http_services(struct app *app)
{
    app->services = http_services_new(app->vm, &app->overlays);
    on_close(app, close_http_services);
}

static void close_env(struct app *app)
{
    value_free(app->env_context.memory);
}

static void add_modules(struct app *app)
{
    app->env_context = (struct mod_env_context){app->vm->registry, value_new_map()};
    on_close(app, close_env);
    const struct vm_module modules[] = {
        {"errors", mod_errors_open, NULL, true},
        {"io", mod_io_open, app->terminal, false},
        {"json", mod_json_open, NULL, false},
        {"time", mod_time_open, NULL, false},
        {"channel", mod_channel_open, NULL, true},
        {"process", mod_process_open, NULL, true},
        {"funcs", mod_funcs_open, NULL, false},
        {"security", mod_security_open, NULL, false},
        {"ctx", mod_ctx_open, NULL, false},
        {"http_client", mod_http_client_open, &app->http_client_context, false},
        {"http", mod_http_open, NULL, false},
        {"base64", mod_base64_open, NULL, false},
        {"hash", mod_hash_open, NULL, false},
        {"uuid", mod_uuid_open, NULL, false},
        {"yaml", mod_yaml_open, NULL, false},
        {"logger", mod_logger_open, NULL, false},
        {"payload", mod_payload_open, NULL, true}, /* core in Go Wippy: every state has it */
        {"os", mod_os_open, NULL, true},           /* the time subset, core in Go Wippy */
        {"crypto", mod_crypto_open, NULL, false},
        {"env", mod_env_open, &app->env_context, false},
    };
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
        vm_add_module(app->vm, &modules[i]);
}

/* Runs first at shutdown: every task still running is ended while
 * everything it may hold (requests, exchanges, timers) is still there. */
static void finish_tasks(struct app *app)
{
    task_finish_all(app->vm, "runtime shutting down");
}

struct app *app_new(const struct registry *registry, const struct config *config, bool verbose,
                    char **arguments, int argument_count, struct wippy_error *error)
{
    struct app *app = xcalloc(1, sizeof *app);
    app->arguments = arguments;
    app->argument_count = argument_count;
    open_loop(app);
    open_vm(app, registry, config, verbose);
    if (lock_state(app, registry, config, error) < 0) {
        app_free(app);
        return NULL;
    }
    open_overlays(app, config);
    open_http_client(app);
    open_terminal(app);
    open_http_services(app);
    add_modules(app);
    on_close(app, finish_tasks);
    if (vm_load(app->vm, error) < 0) {
        app_free(app);
        return NULL;
    }
    return app;
}

void app_free(struct app *app)
{
    if (app == NULL)
        return;
    while (app->close_hooks != NULL) {
        struct close_hook *hook = app->close_hooks;
        app->close_hooks = hook->next;
        hook->close(app);
        free(hook);
    }
    free(app);
}

/* ---- a scheduler thread's app ---- */

/* With several loops, each stays alive for what others may post to it, and
 * a deadlock is every loop idle with nothing in flight (vm/idle_loops.h). */
static void watch_loop(struct app *app)
{
    vm_mailbox_keep_loop(app->vm);
    idle_loops_watch(app->vm);
}

static void run_deadlock(struct vm *vm, struct vm_post *post)
{
    free(post);
    if (!vm->stopping)
        vm_stop_deadlocked(vm);
}

static void drop_deadlock(struct vm_post *post)
{
    free(post);
}

/* From any thread: told on the main loop (until close_workers). */
static void tell_deadlock(void *context)
{
    struct app *app = context;
    struct vm_post *post = xmalloc(sizeof *post);
    *post = (struct vm_post){.run = run_deadlock, .drop = drop_deadlock};
    vm_mailbox_post(app->vm->mailbox, post);
}

static void let_go_of_main(struct app *app)
{
    directory_remove_loop(app->vm->directory, app->vm->mailbox); /* no process is placed here any more */
    vm_mailbox_release(app->vm->main_mailbox);
    app->vm->main_mailbox = NULL;
}

/* On the worker's thread: a loop, a VM linked to the main one, an HTTP
 * client and the main app's direct-network services, serving the
 * connections the main thread hands over. No terminal, no state lock: io,
 * env and process calls run on the main VM. */
static struct app *app_new_worker(struct app *main, struct wippy_error *error)
{
    struct app *app = xcalloc(1, sizeof *app);
    app->main = main;
    app->state_lock = -1;
    const struct vm *main_vm = main->vm;
    open_loop(app);
    open_vm(app, main_vm->registry, main_vm->config, main_vm->verbose);
    app->vm->all_heap_bytes = main_vm->all_heap_bytes; /* vm.memory_limit is the runtime's */
    app->vm->directory = main_vm->directory; /* one for the runtime: pids are unique */
    app->vm->main_mailbox = main_vm->mailbox; /* vm/remote.h: process calls go there */
    vm_mailbox_retain(main_vm->mailbox);
    directory_add_loop(app->vm->directory, app->vm->mailbox, 0); /* processes may be placed here */
    watch_loop(app);
    on_close(app, let_go_of_main);
    open_overlays(app, main_vm->config);
    open_http_client(app);
    open_http_services(app);
    add_modules(app);
    on_close(app, finish_tasks);
    if (vm_load(app->vm, error) < 0) {
        app_free(app);
        return NULL;
    }
    http_services_start_adopting(app->services, main->shared, main->shared_count);
    return app;
}

/* A connection the main thread accepted, on its way to a worker. */
struct handed_connection {
    const struct entry *service;
    int socket;
    char *remote_address;
};

static void drop_connection(void *data)
{
    struct handed_connection *handed = data;
    close(handed->socket);
    free(handed->remote_address);
    free(handed);
}

static void adopt_connection(void *runtime, void *data)
{
    struct app *app = runtime;
    struct handed_connection *handed = data;
    http_services_adopt(app->services, handed->service, handed->socket, handed->remote_address);
    free(handed->remote_address);
    free(handed);
}

/* The main thread accepts and the workers serve, in turn: the kernel would
 * give a burst of new connections (a client's pool opening) to whichever
 * thread woke first. */
static bool hand_over_connection(void *context, const struct entry *service, uv_stream_t *stream,
                                 const char *remote_address)
{
    struct app *app = context;
    uv_os_fd_t fd;
    if (app->workers == NULL || uv_fileno((uv_handle_t *)stream, &fd) != 0)
        return false;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        return false; /* out of descriptors: served here */
    handle_close((uv_handle_t *)stream); /* its copy lives on */
    struct handed_connection *handed = xmalloc(sizeof *handed);
    *handed = (struct handed_connection){service, copy, xstrdup(remote_address)};
    size_t index = app->next_worker++ % workers_count(app->workers);
    if (!workers_post(app->workers, index, adopt_connection, drop_connection, handed))
        drop_connection(handed);
    return true;
}

static void *worker_open(void *context, struct wippy_error *error)
{
    return app_new_worker(context, error);
}

static uv_loop_t *worker_loop(void *runtime)
{
    return ((struct app *)runtime)->loop;
}

static int worker_run(void *runtime)
{
    return vm_run(((struct app *)runtime)->vm);
}

static void worker_stop(void *runtime, bool drain)
{
    struct app *app = runtime;
    directory_remove_loop(app->vm->directory, app->vm->mailbox); /* stopping: nothing more is placed here */
    if (drain)
        http_services_shutdown(app->services, 0, SHUTDOWN_GRACE_NS);
    else
        vm_stop(app->vm, 0);
}

static void worker_close(void *runtime)
{
    app_free(runtime);
}

static void begin_shutdown(struct app *app, int exit_code);

static void workers_ended(void *context, bool unexpected)
{
    struct app *app = context;
    if (unexpected) {
        log_message(LOG_ERROR, "a scheduler thread stopped: the runtime stops");
        begin_shutdown(app, 1);
        return;
    }
    http_services_other_drained(app->services);
}

static void close_workers(struct app *app)
{
    workers_free(app->workers);
    app->workers = NULL;
    free(app->shared);
    idle_loops_end();
}

/* scheduler.threads > 1: that many threads run processes besides this one
 * (what is spawned goes to the loop with the fewest, vm/directory.h) and
 * serve the direct-network HTTP services (this one accepts and hands each
 * connection over); this one also runs the services of overlays with one
 * identity. Every handler of such a service runs on a scheduler thread, so
 * each behaves the same whichever serves it. */
static int start_workers(struct app *app, struct wippy_error *error)
{
    size_t threads = (size_t)app->vm->config->threads;
    if (threads <= 1)
        return WIPPY_OK;
    on_close(app, close_workers);
    app->shared_count = http_services_shared(app->services, &app->shared);
    const struct worker_hooks hooks = {worker_open, worker_loop, worker_run, worker_stop,
                                       worker_close, workers_ended, app};
    directory_add_loop(app->vm->directory, app->vm->mailbox, process_count(app->vm));
    idle_loops_begin((int)threads + 1, tell_deadlock, app);
    watch_loop(app);
    app->workers = workers_start(app->vm, threads, &hooks, error);
    if (app->workers == NULL)
        return error->code;
    http_services_wait_for_others(app->services, 1);
    vm_log(app->vm, "%zu scheduler threads", threads);
    return WIPPY_OK;
}

/* ---- services ---- */

static int start_process_services(struct app *app, struct wippy_error *error)
{
    struct vm *vm = app->vm;
    const struct registry *registry = vm->registry;
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        if (entry->kind != ENTRY_PROCESS_SERVICE || !entry->as.process_service.lifecycle.auto_start)
            continue;
        const struct entry *process = registry_find(registry, entry->as.process_service.process_id);
        const struct entry *host = registry_find(registry, entry->as.process_service.host_id);
        struct wippy_error reason;
        if (process_spawn(vm, process, host, vm->root_frame, vm->lua, 0, 0, NULL, &reason) < 0)
            return error_set(error, reason.code, "%s: %s", entry->id, reason.message);
        vm_log(vm, "started %s (%s)", entry->id, process->id);
    }
    return WIPPY_OK;
}

int app_start_services(struct app *app, struct wippy_error *error)
{
    int rc = start_process_services(app, error);
    if (app->vm->config->threads > 1)
        http_services_hand_over_to(app->services, hand_over_connection, app);
    if (rc == WIPPY_OK)
        rc = http_services_start(app->services, error);
    if (rc == WIPPY_OK)
        rc = start_workers(app, error);
    return rc;
}

static const struct entry *terminal_host(const struct registry *registry)
{
    for (size_t i = 0; i < registry->count; i++)
        if (registry->entries[i]->kind == ENTRY_TERMINAL_HOST)
            return registry->entries[i];
    return &builtin_terminal_host;
}

int app_start_command(struct app *app, const struct entry *entry, struct wippy_error *error)
{
    struct vm *vm = app->vm;
    lua_State *L = vm->lua;
    for (int i = 0; i < app->argument_count; i++)
        lua_pushstring(L, app->arguments[i]);
    struct process *process = NULL;
    int rc = process_spawn(vm, entry, terminal_host(vm->registry), vm->root_frame, L,
                           app->argument_count, 0, &process, error);
    if (rc < 0)
        return rc;
    process->is_command = true;
    return WIPPY_OK;
}

/* ---- signals and running ---- */

/* SIGINT and SIGTERM are caught by a handler of ours rather than by
 * uv_signal: besides waking the loop (uv_async_send is async-signal-safe)
 * it tells the VM at once, so a task stuck where it cannot yield is stopped
 * within a slice or two instead of keeping the loop from ever seeing the
 * signal. One runtime per process, so the handler's state is static. */
struct signal_watch {
    uv_async_t handle; /* first: closing the loop frees the struct */
    struct app *app;
    int exit_code;
};

static struct signal_watch *volatile signal_target;
static volatile sig_atomic_t signal_caught;
static const int stop_signals[] = {SIGINT, SIGTERM};

static void on_stop_signal(int signal_number)
{
    int saved_errno = errno;
    struct signal_watch *watch = signal_target;
    if (watch != NULL) {
        signal_caught = signal_number;
        vm_interrupt(watch->app->vm);
        uv_async_send(&watch->handle);
    }
    errno = saved_errno;
}

static void on_signal(uv_async_t *handle)
{
    struct signal_watch *watch = (struct signal_watch *)handle;
    struct vm *vm = watch->app->vm;
    vm_log(vm, "signal %d: shutting down", (int)signal_caught);
    if (vm->stopping)
        return;
    /* HTTP requests in flight finish first; a second signal is not needed.
     * A negative exit code asks for the shell's: 128 + the signal. */
    int exit_code = watch->exit_code >= 0 ? watch->exit_code : 128 + (int)signal_caught;
    begin_shutdown(watch->app, exit_code);
}

static void begin_shutdown(struct app *app, int exit_code)
{
    workers_stop(app->workers, true);
    http_services_shutdown(app->services, exit_code, SHUTDOWN_GRACE_NS);
}

static void set_stop_signal_handler(void (*handler)(int))
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
        sigaction(stop_signals[i], &action, NULL);
}

static void unwatch_signals(struct app *app)
{
    (void)app;
    set_stop_signal_handler(SIG_DFL);
    signal_target = NULL; /* the handle itself closes with the loop */
}

static void watch_signals(struct app *app, bool keep_alive, int exit_code)
{
    struct signal_watch *watch = xcalloc(1, sizeof *watch);
    watch->app = app;
    watch->exit_code = exit_code;
    uv_async_init(app->loop, &watch->handle, on_signal);
    if (!keep_alive)
        uv_unref((uv_handle_t *)&watch->handle);
    signal_target = watch;
    on_close(app, unwatch_signals);
    set_stop_signal_handler(on_stop_signal);
}

int app_run(struct app *app, bool keep_alive, int signal_exit_code)
{
    watch_signals(app, keep_alive, signal_exit_code);
    vm_log(app->vm, "running (%zu entries)", app->vm->registry->count);
    return vm_run(app->vm);
}
