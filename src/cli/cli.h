/* cli.h - the command line: global options and one function per command. */
#ifndef WIPPY_CLI_CLI_H
#define WIPPY_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct cli_options {
    const char **config_files;
    size_t config_file_count;
    const char **settings; /* --set section.path=value */
    size_t setting_count;
    char **owned;          /* settings made from other options (--memory-limit) */
    size_t owned_count;
    const char **overrides; /* -o namespace:entry:field=value */
    size_t override_count;
    bool verbose;       /* -v or -vv */
    int verbosity;      /* how many v's */
    bool quiet;         /* -q */
    bool json_logs;     /* --log-format json */
    /* what follows the command name, global options removed */
    char **arguments;
    int argument_count;
};

int cli_command_init(const struct cli_options *options);
int cli_command_run(const struct cli_options *options);
int cli_command_registry(const struct cli_options *options);

struct registry;

/* Loads the project's registry (src, or wippy.lock's directories.src),
 * saying why on stderr when it cannot; 0 or -1. */
int cli_load_registry(const struct cli_options *options, struct registry **out);

#endif
