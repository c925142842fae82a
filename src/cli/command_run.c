/* command_run.c - `wippy run`: load the project, boot the runtime, then
 * serve, list commands, or run one command process to completion. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "cli/cli.h"
#include "registry/config.h"
#include "registry/registry.h"
#include "util/memory.h"
#include "util/yaml_load.h"
#include "util/log.h"

enum run_mode {
    RUN_SERVE,
    RUN_LIST,
    RUN_COMMAND,
    RUN_EXEC,
};

/* Reads directories.src from wippy.lock when present. */
static char *source_directory(struct wippy_error *error)
{
    struct value *lock = NULL;
    if (access("wippy.lock", F_OK) != 0)
        return xstrdup("src");
    if (yaml_load_file("wippy.lock", &lock, error) < 0)
        return NULL;
    const struct value *source = value_map_get_path(lock, "directories.src");
    const char *text = source != NULL && source->type == VALUE_STRING ? source->as.string.bytes : "src";
    while (strncmp(text, "./", 2) == 0 && text[2] != '\0')
        text += 2; /* "./src/x.lua:3:" reads worse than "src/x.lua:3:" */
    char *directory = xstrdup(text);
    value_free(lock);
    return directory;
}

/* The project's registry, with the command line's overrides (-o). */
static int load_project(const struct cli_options *options, struct registry **out, struct wippy_error *error)
{
    *out = NULL;
    char *source_dir = source_directory(error);
    if (source_dir == NULL)
        return error->code;
    int rc = WIPPY_OK;
    if (access(source_dir, F_OK) != 0) {
        char here[4096];
        rc = error_set(error, WIPPY_ENOENT,
                       "no project here: %s/%s does not exist (run wippy where src/ or wippy.lock is, or wippy "
                       "init)", getcwd(here, sizeof here) != NULL ? here : ".", source_dir);
    }
    size_t count = options->override_count;
    struct registry_override *overrides = xcalloc(count + 1, sizeof *overrides);
    size_t parsed = 0;
    for (; rc == WIPPY_OK && parsed < count; parsed++)
        rc = override_parse(options->overrides[parsed], &overrides[parsed], error);
    if (rc == WIPPY_OK)
        rc = registry_load_overridden(source_dir, overrides, count, out, error);
    for (size_t i = 0; i < parsed; i++)
        override_release(&overrides[i]);
    free(overrides);
    free(source_dir);
    return rc;
}

static void list_commands(const struct registry *registry)
{
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        if (entry->kind == ENTRY_PROCESS_LUA && entry->as.lua.command_name != NULL)
            printf("%-20s %s\n", entry->as.lua.command_name, entry->as.lua.command_short);
    }
}

int cli_load_registry(const struct cli_options *options, struct registry **out)
{
    struct wippy_error error;
    if (load_project(options, out, &error) < 0) {
        log_message(LOG_ERROR, "%s", error.message);
        return -1;
    }
    return 0;
}

static bool has_services(const struct registry *registry)
{
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        if ((entry->kind == ENTRY_PROCESS_SERVICE && entry->as.process_service.lifecycle.auto_start) ||
            (entry->kind == ENTRY_HTTP_SERVICE && entry->as.http_service.lifecycle.auto_start))
            return true;
    }
    return false;
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

    struct wippy_error error;
    struct config *config = NULL;
    static const char *const default_config[] = {".wippy.yaml"};
    bool explicit_config = options->config_file_count > 0;
    int rc = config_load(explicit_config ? options->config_files : default_config,
                         explicit_config ? options->config_file_count : 1, explicit_config,
                         options->settings, options->setting_count, &config, &error);
    struct registry *registry = NULL;
    if (rc == 0)
        rc = load_project(options, &registry, &error);
    if (rc == 0)
        rc = config_check_against(config, registry, &error);

    const struct entry *entry = NULL;
    if (rc == 0 && mode == RUN_COMMAND) {
        entry = find_command(registry, target);
        if (entry == NULL)
            rc = error_set(&error, WIPPY_ENOENT, "no command named \"%s\" (see wippy run list)", target);
    } else if (rc == 0 && mode == RUN_SERVE && !has_services(registry)) {
        rc = error_set(&error, WIPPY_ENOENT,
                       "nothing to start: no process.service or http.service with lifecycle.auto_start "
                       "(wippy run list shows the commands)");
    } else if (rc == 0 && mode == RUN_EXEC) {
        entry = registry_find(registry, target);
        if (entry == NULL || entry->kind != ENTRY_PROCESS_LUA)
            rc = error_set(&error, WIPPY_ENOENT, "no process.lua entry with id %s", target);
    }
    if (rc < 0) {
        log_message(LOG_ERROR, "%s", error.message);
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
    struct app *app = app_new(registry, config, options->verbose, process_arguments,
                              process_argument_count, &error);
    bool started = app != NULL && app_start_services(app, &error) == WIPPY_OK;
    if (started && entry != NULL)
        started = app_start_command(app, entry, &error) == WIPPY_OK;
    if (started)
        exit_code = app_run(app, mode == RUN_SERVE, mode == RUN_SERVE ? 0 : -1);
    else
        log_message(LOG_ERROR, "%s", error.message);
    app_free(app);
    registry_free(registry);
    config_free(config);
    return exit_code;
}
