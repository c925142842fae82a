/* config.h - the runtime configuration (.wippy.yaml files composed left to
 * right, then --set overrides), reduced to the settings the runtime uses.
 * "${env:NAME}" in a file's strings is the environment variable's value. */
#ifndef WIPPY_REGISTRY_CONFIG_H
#define WIPPY_REGISTRY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry/registry.h"
#include "util/error.h"
#include "util/value.h"

/* Processes per Lua heap: a collection cycle's atomic step walks every
 * coroutine of its heap (about 1 µs each here), see docs/architecture.md. */
#define CONFIG_DEFAULT_HEAP_SIZE 2000
#define CONFIG_MAX_THREADS 256

struct config {
    struct value *root;    /* the merged tree, for sections read later */
    char *base_dir;        /* directory of the first config file, or "." */
    char *state_dir;       /* network_service.state_dir, resolved against base_dir */
    char *default_network; /* network_service.default_network, or NULL */
    char *default_network_where; /* "file:line" it was set at */
    bool strict_mode;      /* security.strict_mode */
    int64_t time_slice_ns; /* scheduler.time_slice: Lua runs this long before it yields to the loop */
    int64_t unyieldable_limit_ns; /* scheduler.unyieldable_limit: 0 = none */
    int64_t heap_size;     /* scheduler.heap_size: processes per Lua heap (vm/heaps.h) */
    int64_t threads;       /* scheduler.threads (--threads): loops serving HTTP handlers */
    int64_t max_call_depth; /* funcs.max_depth: nested funcs.call calls */
    int64_t max_inbox;      /* process.max_inbox: messages waiting in one inbox */
    int64_t memory_limit;   /* vm.memory_limit (--memory-limit): bytes of Lua heap, 0 = none */
};

/* Reads files in order (a missing file is an error only when explicit is
 * true), then applies each "section.path=value" of sets. */
int config_load(const char *const *files, size_t file_count, bool explicit,
                const char *const *sets, size_t set_count, struct config **out,
                struct wippy_error *error);

/* Checks settings that name registry entries (default_network). */
int config_check_against(const struct config *config, const struct registry *registry,
                         struct wippy_error *error);

void config_free(struct config *config);

#endif
