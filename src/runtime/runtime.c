/* runtime.c - creating, running and tearing down the runtime. */
#include "runtime/runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "http/client.h"
#include "lua/host.h"
#include "lua/http_handlers.h"
#include "runtime/process.h"
#include "util/handle.h"
#include "util/memory.h"

struct runtime *runtime_new(struct registry *registry, struct config *config, bool verbose,
                            struct wippy_error *error)
{
    struct runtime *runtime = xcalloc(1, sizeof *runtime);
    runtime->registry = registry;
    runtime->config = config;
    runtime->verbose = verbose;
    runtime->loop = xmalloc(sizeof(uv_loop_t));
    uv_loop_init(runtime->loop);
    uv_idle_init(runtime->loop, &runtime->ready_idle);
    runtime->ready_idle.data = runtime;
    runtime->root_frame = frame_new_root();
    runtime->overlays.loop = runtime->loop;
    runtime->overlays.state_dir = config->state_dir;
    process_table_init(runtime);
    if (lua_host_open(runtime, error) < 0) {
        runtime_free(runtime);
        return NULL;
    }
    return runtime;
}

void runtime_log(struct runtime *runtime, const char *format, ...)
{
    if (!runtime->verbose)
        return;
    va_list args;
    va_start(args, format);
    fputs("wippy: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

void runtime_stop(struct runtime *runtime, int exit_code)
{
    if (runtime->stopping)
        return;
    runtime->stopping = true;
    runtime->exit_code = exit_code;
    uv_stop(runtime->loop);
}

int runtime_run(struct runtime *runtime)
{
    uv_run(runtime->loop, UV_RUN_DEFAULT);
    if (!runtime->stopping) {
        /* The loop ran dry: every task is blocked with nothing left to wake it. */
        if (runtime->live_tasks > 0) {
            fprintf(stderr, "wippy: every process is blocked and nothing can wake them (deadlock)\n");
            runtime->exit_code = 1;
        }
        runtime->stopping = true;
    }
    return runtime->exit_code;
}

/* Every handle other than ready_idle is a heap allocation that starts with
 * its handle (timers, signal watchers), so closing frees it. */
static void close_handle(uv_handle_t *handle, void *argument)
{
    struct runtime *runtime = argument;
    if (uv_is_closing(handle))
        return;
    uv_close(handle, handle == (uv_handle_t *)&runtime->ready_idle ? NULL : handle_free);
}

void runtime_free(struct runtime *runtime)
{
    if (runtime == NULL)
        return;
    runtime->stopping = true;
    runtime_log(runtime, "shutdown with %zu tasks still running", runtime->live_tasks);
    /* Kill every task, then let the scheduler finish them. */
    for (struct task *task = runtime->all_tasks; task != NULL; task = task->all_next)
        task_kill(task, "runtime shutting down");
    while (runtime->live_tasks > 0 && runtime->ready_head != NULL)
        uv_run(runtime->loop, UV_RUN_NOWAIT);
    http_services_free(runtime);
    http_client_free(runtime->http);
    runtime->http = NULL;
    overlay_set_close(&runtime->overlays);
    lua_io_close(runtime);
    lua_host_close(runtime); /* runs __gc of timers, which close their handles */
    uv_walk(runtime->loop, close_handle, runtime);
    uv_run(runtime->loop, UV_RUN_DEFAULT);
    uv_loop_close(runtime->loop);
    free(runtime->loop);
    frame_release(runtime->root_frame);
    process_table_free(runtime);
    free(runtime);
}
