/* main.c - the `wippy` command line: global options, then the command. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "registry/config.h"
#include "util/descriptors.h"
#include "util/log.h"
#include "util/memory.h"

#ifndef WIPPY_VERSION
#define WIPPY_VERSION "unknown"
#endif

static void print_usage(FILE *stream)
{
    fputs("usage: wippy [--config FILE]... [--set section.path=value]... [-o ns:entry:field=value]... [-v] COMMAND\n"
          "\n"
          "commands:\n"
          "  init [--starter] [-d ./src] [--modules-dir .wippy] [-l wippy.lock]   write wippy.lock (and the netdemo)\n"
          "  run                       boot auto_start entries and serve until SIGINT/SIGTERM\n"
          "  run list                  list command processes\n"
          "  run NAME [ARGS...]        run a command process on the terminal host\n"
          "  run --exec NS:ENTRY [ARGS...]   run any process.lua entry\n"
          "  registry list [--json]    the entries the project declares\n"
          "  registry show ID [--json] one entry, as the runtime read it\n"
          "  version                   print the version\n"
          "  help [COMMAND]            this text, or a command's\n"
          "\n"
          "options:\n"
          "  -c, --config FILE         a configuration file (repeatable; default .wippy.yaml)\n"
          "  --set section.path=value  a setting over the files (repeatable)\n"
          "  -o, --override NS:ENTRY:FIELD=VALUE   set an entry's field (FIELD may be a.b.c; repeatable)\n"
          "  -m, --memory-limit SIZE   the same as --set vm.memory_limit=SIZE\n"
          "  --threads N               scheduler threads (scheduler.threads; default: the cores)\n"
          "  -q, --quiet               only warnings and errors (no listening lines, no info)\n"
          "  -v, --verbose             say what the runtime does, with tracebacks of Lua errors\n"
          "  -vv                       also every HTTP request served\n"
          "  --log-format text|json    the runtime's lines and the logger module's as JSON, one per line\n"
          "  -h, --help                this text\n"
          "  --version                 print the version\n",
          stream);
}

static const struct {
    const char *command;
    const char *usage;
} command_usage[] = {
    {"run", "usage: wippy [OPTIONS] run                       boot the auto_start entries and serve\n"
            "       wippy [OPTIONS] run list                  list the command processes\n"
            "       wippy [OPTIONS] run NAME [ARGS...]        run a command process; its return value is the exit code\n"
            "       wippy [OPTIONS] run --exec NS:ENTRY [ARGS...]   run any process.lua entry\n"
            "\n"
            "Reads ./src (or wippy.lock's directories.src) and .wippy.yaml. SIGINT ends a command with 130,\n"
            "SIGTERM with 143; a server lets requests in flight finish and ends with 0.\n"},
    {"init", "usage: wippy init [--starter] [-d ./src] [--modules-dir .wippy] [-l wippy.lock]\n"
             "\n"
             "Writes wippy.lock naming the source and modules directories; --starter also writes the\n"
             "netdemo (a probe that fetches a local what-is-my-IP service directly and through a SOCKS5\n"
             "proxy such as Tor on 127.0.0.1:9050) below the source directory, never over a file.\n"},
    {"registry", "usage: wippy registry list [--json]\n"
                 "       wippy registry show ID [--json]\n"
                 "\n"
                 "The entries of ./src (or wippy.lock's directories.src) as the runtime read them; nothing starts.\n"},
    {"version", "usage: wippy version\n"},
    {"help", "usage: wippy help [COMMAND]\n"},
};

static bool print_command_usage(const char *command, FILE *stream)
{
    for (size_t i = 0; i < sizeof command_usage / sizeof command_usage[0]; i++) {
        if (strcmp(command_usage[i].command, command) == 0) {
            fputs(command_usage[i].usage, stream);
            return true;
        }
    }
    return false;
}

static bool is_help_flag(const char *argument)
{
    return strcmp(argument, "-h") == 0 || strcmp(argument, "--help") == 0;
}

/* Takes a global option at argv[*index] if there is one. Returns 1 when
 * taken, 0 when argv[*index] is something else, -1 on a usage error. */
static int take_global_option(int argc, char **argv, int *index, struct cli_options *options)
{
    const char *argument = argv[*index];
    if (strcmp(argument, "-v") == 0 || strcmp(argument, "--verbose") == 0 || strcmp(argument, "-vv") == 0) {
        options->verbosity += argument[2] == 'v' ? 2 : 1;
        return 1;
    }
    if (strcmp(argument, "-q") == 0 || strcmp(argument, "--quiet") == 0) {
        options->quiet = true;
        return 1;
    }
    if (strcmp(argument, "--log-format") == 0 || strncmp(argument, "--log-format=", 13) == 0) {
        const char *format = argument[12] == '=' ? argument + 13 : *index + 1 < argc ? argv[++*index] : "";
        if (strcmp(format, "json") != 0 && strcmp(format, "text") != 0) {
            fprintf(stderr, "wippy: --log-format is text or json, not \"%s\"\n", format);
            return -1;
        }
        options->json_logs = strcmp(format, "json") == 0;
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
    if (strcmp(argument, "--threads") == 0 || strncmp(argument, "--threads=", 10) == 0) {
        const char *count = argument[9] == '=' ? argument + 10 : (*index + 1 < argc ? argv[++*index] : "");
        if (count[0] < '1' || count[0] > '9' || strspn(count, "0123456789") != strlen(count)) {
            fprintf(stderr, "wippy: --threads needs a number from 1 to %d\n", CONFIG_MAX_THREADS);
            return -1;
        }
        /* the same as --set scheduler.threads=N */
        char *setting = xasprintf("scheduler.threads=%s", count);
        options->owned = xrealloc(options->owned, (options->owned_count + 1) * sizeof(char *));
        options->owned[options->owned_count++] = setting;
        options->settings = xrealloc(options->settings, (options->setting_count + 1) * sizeof(char *));
        options->settings[options->setting_count++] = setting;
        return 1;
    }
    bool is_override = strcmp(argument, "-o") == 0 || strcmp(argument, "--override") == 0;
    if (is_override || strncmp(argument, "--override=", 11) == 0) {
        const char *override = is_override ? (*index + 1 < argc ? argv[++*index] : NULL) : argument + 11;
        if (override == NULL) {
            fprintf(stderr, "wippy: %s needs namespace:entry:field=value\n", argument);
            return -1;
        }
        options->overrides = xrealloc(options->overrides, (options->override_count + 1) * sizeof(char *));
        options->overrides[options->override_count++] = override;
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
    descriptors_prepare(); /* before any thread starts */
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
            if (is_help_flag(argv[i])) {
                print_usage(stdout);
                goto done;
            }
            if (strcmp(argv[i], "--version") == 0) {
                printf("wippy %s\n", WIPPY_VERSION);
                goto done;
            }
            if (argv[i][0] == '-') {
                fprintf(stderr, "wippy: unknown option \"%s\" (try wippy --help)\n", argv[i]);
                status = 2;
                goto done;
            }
            command = argv[i];
            continue;
        }
        /* `wippy COMMAND --help` answers without touching the project */
        if (rest_count == 0 && is_help_flag(argv[i])) {
            if (!print_command_usage(command, stdout)) {
                fprintf(stderr, "wippy: unknown command \"%s\" (try wippy --help)\n", command);
                status = 2;
            }
            goto done;
        }
        rest[rest_count++] = argv[i];
        bool is_exec_flag = strcmp(argv[i], "--exec") == 0 || strcmp(argv[i], "-x") == 0;
        if (strcmp(command, "run") == 0 && !is_exec_flag)
            run_target_seen = true;
    }
    options.arguments = rest;
    options.argument_count = rest_count;
    if (options.quiet && options.verbosity > 0) {
        fprintf(stderr, "wippy: -q and -v say opposite things: give one\n");
        status = 2;
        goto done;
    }
    options.verbose = options.verbosity > 0;
    log_configure(options.quiet ? LOG_WARN : options.verbosity >= 2 ? LOG_TRACE : options.verbosity == 1 ? LOG_DEBUG
                                                                                                        : LOG_INFO,
                  options.json_logs ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
    if (command == NULL) {
        print_usage(stderr);
        status = 2;
    } else if (strcmp(command, "version") == 0) {
        printf("wippy %s\n", WIPPY_VERSION);
    } else if (strcmp(command, "help") == 0) {
        if (rest_count == 0) {
            print_usage(stdout);
        } else if (!print_command_usage(rest[0], stdout)) {
            fprintf(stderr, "wippy: unknown command \"%s\" (try wippy --help)\n", rest[0]);
            status = 2;
        }
    } else if (strcmp(command, "init") == 0) {
        status = cli_command_init(&options);
    } else if (strcmp(command, "run") == 0) {
        status = cli_command_run(&options);
    } else if (strcmp(command, "registry") == 0) {
        status = cli_command_registry(&options);
    } else {
        fprintf(stderr, "wippy: unknown command \"%s\" (try wippy --help)\n", command);
        status = 2;
    }
done:
    free(options.config_files);
    free(options.settings);
    free(options.overrides);
    for (size_t i = 0; i < options.owned_count; i++)
        free(options.owned[i]);
    free(options.owned);
    free(rest);
    return status;
}
