/* command_init.c - `wippy init`: writes wippy.lock (directories and an empty
 * module list) unless it is already there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_command_init(const struct cli_options *options)
{
    const char *source_dir = "./src";
    const char *modules_dir = ".wippy";
    const char *lock_file = "wippy.lock";
    for (int i = 0; i < options->argument_count; i++) {
        const char *flag = options->arguments[i];
        const char **target = NULL;
        if (strcmp(flag, "-d") == 0 || strcmp(flag, "--src-dir") == 0)
            target = &source_dir;
        else if (strcmp(flag, "--modules-dir") == 0)
            target = &modules_dir;
        else if (strcmp(flag, "-l") == 0 || strcmp(flag, "--lock-file") == 0)
            target = &lock_file;
        if (target == NULL || i + 1 >= options->argument_count) {
            fprintf(stderr, "wippy init: unknown or incomplete option \"%s\"\n", flag);
            return 2;
        }
        *target = options->arguments[++i];
    }
    if (access(lock_file, F_OK) == 0) {
        printf("%s already exists\n", lock_file);
        return 0;
    }
    FILE *file = fopen(lock_file, "w");
    if (file == NULL) {
        fprintf(stderr, "wippy init: %s: %s\n", lock_file, strerror(errno));
        return 1;
    }
    fprintf(file, "directories:\n  modules: %s\n  src: %s\nmodules: []\n", modules_dir, source_dir);
    if (fclose(file) != 0) {
        fprintf(stderr, "wippy init: %s: %s\n", lock_file, strerror(errno));
        return 1;
    }
    if (mkdir(source_dir, 0755) != 0 && errno != EEXIST)
        fprintf(stderr, "wippy init: cannot create %s: %s\n", source_dir, strerror(errno));
    printf("wrote %s\n", lock_file);
    return 0;
}
