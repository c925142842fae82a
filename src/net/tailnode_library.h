/* tailnode_library.h - the tailnet node's Go side (src/net/tailnode), a
 * shared object loaded on first use, so a runtime without a tailscale entry
 * never starts Go's runtime (its threads, its memory, its start-up time).
 * The functions are tailnode.go's exports, called through this table. */
#ifndef WIPPY_NET_TAILNODE_LIBRARY_H
#define WIPPY_NET_TAILNODE_LIBRARY_H

#include <stddef.h>

#include "util/error.h"

/* The file name, loaded from beside the wippy binary only, when it and its
 * directory are owned by root or this user and writable by no one else. */
#define TAILNODE_LIBRARY_NAME "wippy-tailnode.so"
/* What tailnode_abi() of a library built from these sources returns; the
 * functions below change only together with it. */
#define TAILNODE_ABI 1

struct tailnode_functions {
    void (*events)(int fd);
    int (*new_node)(char *dir, char *hostname, char *auth_key, char *control_url, int ephemeral, int log_fd);
    void (*start)(int node, int timeout_ms);
    int (*dial)(int node, char *host, int port, int timeout_ms);
    void (*cancel)(int request);
    int (*listen)(int node, int port, char *why, size_t why_size);
    void (*close_listener)(int listener);
    void (*close)(int node);
};

/* Loads the library once per process (any thread; it reads the disk and
 * starts Go, so not on the loop) and returns its functions, or NULL with
 * error set to one line saying what is missing and how to get it. */
const struct tailnode_functions *tailnode_library_load(struct wippy_error *error);

#endif
