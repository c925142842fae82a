/* tailnode_library.c - finds and loads wippy-tailnode.so once per process. */
#include <dlfcn.h>
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

static void load(void)
{
    char directory[PATH_MAX];
    if (binary_directory(directory, sizeof directory) != 0) {
        snprintf(failure, sizeof failure, "cannot find the wippy binary's directory to load %s",
                 TAILNODE_LIBRARY_NAME);
        return;
    }
    char beside[PATH_MAX + 64], installed[PATH_MAX + 64];
    snprintf(beside, sizeof beside, "%s/%s", directory, TAILNODE_LIBRARY_NAME);
    snprintf(installed, sizeof installed, "%s/../lib/wippy-c/%s", directory, TAILNODE_LIBRARY_NAME);
    const char *path = access(beside, F_OK) == 0 ? beside : access(installed, F_OK) == 0 ? installed : NULL;
    if (path == NULL) {
        snprintf(failure, sizeof failure,
                 "this wippy has no Tailscale support: %s is neither in %.300s nor in %.300s/../lib/wippy-c (make "
                 "builds it when Go 1.25 or newer is installed; install Go and run make again)",
                 TAILNODE_LIBRARY_NAME, directory, directory);
        return;
    }
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(failure, sizeof failure, "cannot load %.300s: %.400s", path, dlerror());
        return;
    }
    const char *missing = NULL;
    if (!resolve_all(library, &missing)) {
        snprintf(failure, sizeof failure, "%.300s does not export %s (built from other sources?)", path, missing);
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
