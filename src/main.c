/* main.c - the `wippy` command line: global options, then the command. */
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/memory.h"

static void print_usage(FILE *stream)
{
    fputs("usage: wippy [--config FILE]... [--set section.path=value]... [--memory-limit SIZE] [-v] COMMAND\n"
          "\n"
          "commands:\n"
          "  init [-d ./src] [--modules-dir .wippy] [-l wippy.lock]   write wippy.lock\n"
          "  run                       boot auto_start entries and serve until SIGINT/SIGTERM\n"
          "  run list                  list command processes\n"
          "  run NAME [ARGS...]        run a command process on the terminal host\n"
          "  run --exec NS:ENTRY [ARGS...]   run any process.lua entry\n",
          stream);
}

/* Takes a global option at argv[*index] if there is one. Returns 1 when
 * taken, 0 when argv[*index] is something else, -1 on a usage error. */
static int take_global_option(int argc, char **argv, int *index, struct cli_options *options)
{
    const char *argument = argv[*index];
    if (strcmp(argument, "-v") == 0 || strcmp(argument, "--verbose") == 0) {
        options->verbose = true;
        return 1;
    }
    if (strcmp(argument, "--memory-limit") == 0 || strcmp(argument, "-m") == 0 ||
        strncmp(argument, "--memory-limit=", 15) == 0) {
        const char *size = argument[1] == 'm' ? NULL : strchr(argument, '=');
        if (size != NULL) {
            size++;
        } else if (*index + 1 < argc) {
            size = argv[++*index];
        } else {
            size = "";
        }
        if (size[0] < '0' || size[0] > '9') { /* an empty or null size would mean no limit */
            fprintf(stderr, "wippy: %s needs a size such as 512M or 1G\n", argument);
            return -1;
        }
        /* the same as --set vm.memory_limit=SIZE */
        char *setting = xasprintf("vm.memory_limit=%s", size);
        options->owned = xrealloc(options->owned, (options->owned_count + 1) * sizeof(char *));
        options->owned[options->owned_count++] = setting;
        options->settings = xrealloc(options->settings, (options->setting_count + 1) * sizeof(char *));
        options->settings[options->setting_count++] = setting;
        return 1;
    }
    bool is_config = strcmp(argument, "--config") == 0 || strcmp(argument, "-c") == 0;
    bool is_set = strcmp(argument, "--set") == 0;
    const char *inline_value = NULL;
    if (strncmp(argument, "--config=", 9) == 0)
        is_config = true, inline_value = argument + 9;
    if (strncmp(argument, "--set=", 6) == 0)
        is_set = true, inline_value = argument + 6;
    if (!is_config && !is_set)
        return 0;
    const char *value = inline_value;
    if (value == NULL) {
        if (*index + 1 >= argc) {
            fprintf(stderr, "wippy: %s needs a value\n", argument);
            return -1;
        }
        value = argv[++*index];
    }
    if (is_config) {
        options->config_files = realloc(options->config_files,
                                        (options->config_file_count + 1) * sizeof(char *));
        options->config_files[options->config_file_count++] = value;
    } else {
        options->settings = realloc(options->settings, (options->setting_count + 1) * sizeof(char *));
        options->settings[options->setting_count++] = value;
    }
    return 1;
}

int main(int argc, char **argv)
{
    /* A peer that goes away must cost a write error, not the process. */
    signal(SIGPIPE, SIG_IGN);
    /* Every overlay connection holds three descriptors (curl's end, the
     * bridge's, the peer's): allow as many as the system lets us. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    struct cli_options options = {0};
    const char *command = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    int rest_count = 0;
    int status = 0;
    bool run_target_seen = false; /* after `run NAME`, arguments belong to the process */
    for (int i = 1; i < argc; i++) {
        if (run_target_seen) {
            rest[rest_count++] = argv[i];
            continue;
        }
        int taken = take_global_option(argc, argv, &i, &options);
        if (taken < 0) {
            status = 2;
            goto done;
        }
        if (taken > 0)
            continue;
        if (command == NULL) {
            if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                print_usage(stdout);
                goto done;
            }
            command = argv[i];
            continue;
        }
        rest[rest_count++] = argv[i];
        bool is_exec_flag = strcmp(argv[i], "--exec") == 0 || strcmp(argv[i], "-x") == 0;
        if (strcmp(command, "run") == 0 && !is_exec_flag)
            run_target_seen = true;
    }
    options.arguments = rest;
    options.argument_count = rest_count;
    if (command == NULL) {
        print_usage(stderr);
        status = 2;
    } else if (strcmp(command, "init") == 0) {
        status = cli_command_init(&options);
    } else if (strcmp(command, "run") == 0) {
        status = cli_command_run(&options);
    } else {
        fprintf(stderr, "wippy: unknown command \"%s\" (try wippy --help)\n", command);
        status = 2;
    }
done:
    free(options.config_files);
    free(options.settings);
    for (size_t i = 0; i < options.owned_count; i++)
        free(options.owned[i]);
    free(options.owned);
    free(rest);
    return status;
}
