/* command_init.c - `wippy init`: writes wippy.lock (directories and an empty
 * module list) unless it is already there; with --starter also the netdemo
 * below the source directory, never over a file that is there. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/starter.h"
#include "util/memory.h"

/* Creates the directories of path (below the source directory). */
static int make_parents(char *path)
{
    for (char *slash = strchr(path + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
        if (slash[-1] == '/')
            continue; /* "a//b": nothing between */
        *slash = '\0';
        int rc = mkdir(path, 0755);
        *slash = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

static int write_starter(const char *source_dir)
{
    for (size_t i = 0; i < starter_file_count; i++) {
        char *path = xasprintf("%s/%s", source_dir, starter_files[i].path);
        bool there = access(path, F_OK) == 0;
        if (there)
            fprintf(stderr, "wippy init: %s is there already: --starter writes no file over another "
                            "(nothing written)\n", path);
        free(path);
        if (there)
            return 1;
    }
    for (size_t i = 0; i < starter_file_count; i++) {
        char *path = xasprintf("%s/%s", source_dir, starter_files[i].path);
        FILE *file = make_parents(path) == 0 ? fopen(path, "wx") : NULL;
        bool written = file != NULL && fwrite(starter_files[i].bytes, 1, starter_files[i].length, file) ==
                                           starter_files[i].length;
        if (file != NULL && fclose(file) != 0)
            written = false;
        if (!written)
            fprintf(stderr, "wippy init: %s: %s\n", path, strerror(errno));
        free(path);
        if (!written)
            return 1;
    }
    printf("wrote the netdemo to %s: start a SOCKS5 proxy (tor) on 127.0.0.1:9050, then wippy run probe\n",
           source_dir);
    return 0;
}

int cli_command_init(const struct cli_options *options)
{
    const char *source_dir = "./src";
    const char *modules_dir = ".wippy";
    const char *lock_file = "wippy.lock";
    bool starter = false;
    for (int i = 0; i < options->argument_count; i++) {
        const char *flag = options->arguments[i];
        const char **target = NULL;
        if (strcmp(flag, "--starter") == 0) {
            starter = true;
            continue;
        }
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
        return starter ? write_starter(source_dir) : 0;
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
    return starter ? write_starter(source_dir) : 0;
}
