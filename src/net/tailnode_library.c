/* tailnode_library.c - finds and loads wippy-tailnode.so once per process. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/tailnode_library.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static struct tailnode_functions functions;
static const struct tailnode_functions *loaded;
static char failure[WIPPY_ERROR_MESSAGE_SIZE];

/* The directory of the running binary (through symbolic links). */
static int binary_directory(char *out, size_t size)
{
    char path[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
    if (length <= 0)
        return -1;
    path[length] = '\0';
    char *slash = strrchr(path, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    return snprintf(out, size, "%s", path) < (int)size ? 0 : -1;
}

static bool resolve_all(void *library, const char **missing)
{
    struct {
        const char *name;
        void **slot;
    } symbols[] = {
        {"tailnode_events", (void **)&functions.events},
        {"tailnode_new", (void **)&functions.new_node},
        {"tailnode_start", (void **)&functions.start},
        {"tailnode_dial", (void **)&functions.dial},
        {"tailnode_cancel", (void **)&functions.cancel},
        {"tailnode_listen", (void **)&functions.listen},
        {"tailnode_close_listener", (void **)&functions.close_listener},
        {"tailnode_close", (void **)&functions.close},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        *symbols[i].slot = dlsym(library, symbols[i].name);
        if (*symbols[i].slot == NULL) {
            *missing = symbols[i].name;
            return false;
        }
    }
    return true;
}

/* A file or directory we may load code from: owned by root or by us, and
 * writable by nobody else (as ssh asks of authorized_keys), so no other
 * user can put code into this process. */
static bool trusted(const struct stat *info)
{
    return (info->st_uid == 0 || info->st_uid == geteuid()) && (info->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

static void load(void)
{
    char directory[PATH_MAX];
    if (binary_directory(directory, sizeof directory) != 0) {
        snprintf(failure, sizeof failure, "cannot find the wippy binary's directory to load %s",
                 TAILNODE_LIBRARY_NAME);
        return;
    }
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", directory, TAILNODE_LIBRARY_NAME);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(failure, sizeof failure,
                 errno == ENOENT
                     ? "this wippy has no Tailscale support: %.300s is missing (make builds it beside wippy when "
                       "Go 1.25 or newer is installed; install Go and run make again)"
                     : "cannot open %.300s: %s",
                 path, strerror(errno));
        return;
    }
    struct stat file_info, directory_info;
    if (fstat(fd, &file_info) != 0 || !S_ISREG(file_info.st_mode) || stat(directory, &directory_info) != 0 ||
        !trusted(&file_info) || !trusted(&directory_info)) {
        snprintf(failure, sizeof failure,
                 "refusing to load %.300s: it and its directory must be owned by root or this user and "
                 "writable by no one else",
                 path);
        close(fd);
        return;
    }
    /* Loaded through the descriptor checked above, not the name again. */
    char by_descriptor[64];
    snprintf(by_descriptor, sizeof by_descriptor, "/proc/self/fd/%d", fd);
    void *library = dlopen(by_descriptor, RTLD_NOW | RTLD_LOCAL);
    close(fd);
    if (library == NULL) {
        snprintf(failure, sizeof failure, "cannot load %.300s: %.400s", path, dlerror());
        return;
    }
    int (*abi)(void) = (int (*)(void))dlsym(library, "tailnode_abi");
    const char *missing = NULL;
    if (abi == NULL || abi() != TAILNODE_ABI || !resolve_all(library, &missing)) {
        snprintf(failure, sizeof failure, "%.300s was built from other sources than this wippy (%s); run make again",
                 path, missing != NULL ? missing : "its interface version differs");
        return; /* a Go runtime cannot be unloaded: the library stays */
    }
    loaded = &functions;
}

const struct tailnode_functions *tailnode_library_load(struct wippy_error *error)
{
    pthread_once(&load_once, load);
    if (loaded == NULL)
        error_set(error, WIPPY_ESTATE, "%s", failure);
    return loaded;
}
