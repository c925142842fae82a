/* command_run.c - `wippy run`: load the project, boot the runtime, then
 * serve, list commands, or run one command process to completion. */
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lua/http_handlers.h"
#include "registry/config.h"
#include "registry/registry.h"
#include "runtime/process.h"
#include "runtime/runtime.h"
#include "util/memory.h"
#include "util/yaml_load.h"

enum run_mode {
    RUN_SERVE,
    RUN_LIST,
    RUN_COMMAND,
    RUN_EXEC,
};

/* The host command processes run on when the project declares no
 * terminal.host entry. */
static struct entry builtin_terminal_host = {
    .id = "wippy:terminal",
    .kind = ENTRY_TERMINAL_HOST,
    .kind_name = "terminal.host",
};

/* Reads directories.src from wippy.lock when present. */
static char *source_directory(void)
{
    struct value *lock = NULL;
    struct wippy_error error;
    if (access("wippy.lock", F_OK) != 0)
        return xstrdup("src");
    if (yaml_load_file("wippy.lock", &lock, &error) < 0) {
        fprintf(stderr, "wippy: %s\n", error.message);
        return NULL;
    }
    const struct value *source = value_map_get_path(lock, "directories.src");
    const char *text = source != NULL && source->type == VALUE_STRING ? source->as.string.bytes : "src";
    while (strncmp(text, "./", 2) == 0 && text[2] != '\0')
        text += 2; /* "./src/x.lua:3:" reads worse than "src/x.lua:3:" */
    char *directory = xstrdup(text);
    value_free(lock);
    return directory;
}

static void list_commands(const struct registry *registry)
{
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        if (entry->kind == ENTRY_PROCESS_LUA && entry->as.lua.command_name != NULL)
            printf("%-20s %s\n", entry->as.lua.command_name, entry->as.lua.command_short);
    }
}

static const struct entry *find_command(const struct registry *registry, const char *name)
{
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        if (entry->kind == ENTRY_PROCESS_LUA && entry->as.lua.command_name != NULL &&
            strcmp(entry->as.lua.command_name, name) == 0)
            return entry;
    }
    return NULL;
}

static const struct entry *terminal_host(const struct registry *registry)
{
    for (size_t i = 0; i < registry->count; i++)
        if (registry->entries[i]->kind == ENTRY_TERMINAL_HOST)
            return registry->entries[i];
    return &builtin_terminal_host;
}

static int start_services(struct runtime *runtime)
{
    const struct registry *registry = runtime->registry;
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        if (entry->kind != ENTRY_PROCESS_SERVICE || !entry->as.process_service.lifecycle.auto_start)
            continue;
        const struct entry *process = registry_find(registry, entry->as.process_service.process_id);
        const struct entry *host = registry_find(registry, entry->as.process_service.host_id);
        struct wippy_error error;
        if (process_spawn(runtime, process, host, runtime->root_frame, runtime->lua, 0, NULL,
                          &error) < 0) {
            fprintf(stderr, "wippy: %s: %s\n", entry->id, error.message);
            return -1;
        }
        runtime_log(runtime, "started %s (%s)", entry->id, process->id);
    }
    return 0;
}

struct signal_watch {
    uv_signal_t handle; /* first: the runtime frees the struct when closing */
    struct runtime *runtime;
    int exit_code;
};

#define SHUTDOWN_GRACE_NS (INT64_C(10) * 1000000000)

static void on_signal(uv_signal_t *handle, int signal_number)
{
    struct signal_watch *watch = (struct signal_watch *)handle;
    runtime_log(watch->runtime, "signal %d: shutting down", signal_number);
    if (watch->runtime->stopping)
        return;
    /* HTTP requests in flight finish first; a second signal is not needed. */
    http_services_shutdown(watch->runtime, watch->exit_code, SHUTDOWN_GRACE_NS);
}

/* Watches SIGINT and SIGTERM. In serve mode they keep the loop alive; for a
 * command they do not, so a command whose processes all block forever ends
 * with a deadlock report instead of hanging. */
static void watch_signals(struct runtime *runtime, bool keep_alive, int exit_code)
{
    int signals[] = {SIGINT, SIGTERM};
    for (size_t i = 0; i < 2; i++) {
        struct signal_watch *watch = xcalloc(1, sizeof *watch);
        watch->runtime = runtime;
        watch->exit_code = exit_code;
        uv_signal_init(runtime->loop, &watch->handle);
        uv_signal_start(&watch->handle, on_signal, signals[i]);
        if (!keep_alive)
            uv_unref((uv_handle_t *)&watch->handle);
    }
}

static int start_command(struct runtime *runtime, const struct entry *entry, char **arguments,
                         int argument_count)
{
    lua_State *L = runtime->lua;
    for (int i = 0; i < argument_count; i++)
        lua_pushstring(L, arguments[i]);
    struct process *process = NULL;
    struct wippy_error error;
    if (process_spawn(runtime, entry, terminal_host(runtime->registry), runtime->root_frame, L,
                      argument_count, &process, &error) < 0) {
        fprintf(stderr, "wippy: %s\n", error.message);
        return -1;
    }
    process->is_command = true;
    return 0;
}

int cli_command_run(const struct cli_options *options)
{
    enum run_mode mode = RUN_SERVE;
    const char *target = NULL;
    char **process_arguments = NULL;
    int process_argument_count = 0;
    if (options->argument_count > 0) {
        const char *first = options->arguments[0];
        if (strcmp(first, "list") == 0) {
            mode = RUN_LIST;
        } else if (strcmp(first, "--exec") == 0 || strcmp(first, "-x") == 0) {
            if (options->argument_count < 2) {
                fprintf(stderr, "wippy run: --exec needs an entry id (namespace:name)\n");
                return 2;
            }
            mode = RUN_EXEC;
            target = options->arguments[1];
            process_arguments = options->arguments + 2;
            process_argument_count = options->argument_count - 2;
        } else {
            mode = RUN_COMMAND;
            target = first;
            process_arguments = options->arguments + 1;
            process_argument_count = options->argument_count - 1;
        }
    }

    char *source_dir = source_directory();
    if (source_dir == NULL)
        return 1;
    struct wippy_error error;
    struct config *config = NULL;
    static const char *const default_config[] = {".wippy.yaml"};
    bool explicit_config = options->config_file_count > 0;
    int rc = config_load(explicit_config ? options->config_files : default_config,
                         explicit_config ? options->config_file_count : 1, explicit_config,
                         options->settings, options->setting_count, &config, &error);
    struct registry *registry = NULL;
    if (rc == 0)
        rc = registry_load(source_dir, &registry, &error);
    if (rc == 0)
        rc = config_check_against(config, registry, &error);
    free(source_dir);

    const struct entry *entry = NULL;
    if (rc == 0 && mode == RUN_COMMAND) {
        entry = find_command(registry, target);
        if (entry == NULL)
            rc = error_set(&error, WIPPY_ENOENT, "no command named \"%s\" (see wippy run list)", target);
    } else if (rc == 0 && mode == RUN_EXEC) {
        entry = registry_find(registry, target);
        if (entry == NULL || entry->kind != ENTRY_PROCESS_LUA)
            rc = error_set(&error, WIPPY_ENOENT, "no process.lua entry with id %s", target);
    }
    if (rc < 0) {
        fprintf(stderr, "wippy: %s\n", error.message);
        registry_free(registry);
        config_free(config);
        return 1;
    }
    if (mode == RUN_LIST) {
        list_commands(registry);
        registry_free(registry);
        config_free(config);
        return 0;
    }

    int exit_code = 1;
    struct runtime *runtime = runtime_new(registry, config, options->verbose, &error);
    if (runtime == NULL) {
        fprintf(stderr, "wippy: %s\n", error.message);
    } else {
        runtime->arguments = process_arguments;
        runtime->argument_count = process_argument_count;
        bool started = start_services(runtime) == 0;
        if (started && http_services_start(runtime, &error) < 0) {
            fprintf(stderr, "wippy: %s\n", error.message);
            started = false;
        }
        if (started && entry != NULL)
            started = start_command(runtime, entry, process_arguments, process_argument_count) == 0;
        if (started) {
            watch_signals(runtime, mode == RUN_SERVE, mode == RUN_SERVE ? 0 : 130);
            runtime_log(runtime, "running (%zu entries)", registry->count);
            exit_code = runtime_run(runtime);
        }
        runtime_free(runtime);
    }
    registry_free(registry);
    config_free(config);
    return exit_code;
}
