/* entry.h - one registry entry after validation: its id, where it was
 * written, and the typed fields of its kind. */
#ifndef WIPPY_REGISTRY_ENTRY_H
#define WIPPY_REGISTRY_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/value.h"

enum entry_kind {
    ENTRY_PROCESS_HOST,
    ENTRY_TERMINAL_HOST,
    ENTRY_PROCESS_LUA,
    ENTRY_FUNCTION_LUA,
    ENTRY_LIBRARY_LUA,
    ENTRY_PROCESS_SERVICE,
    ENTRY_NETWORK_SOCKS5,
    ENTRY_NETWORK_I2P,
    ENTRY_NETWORK_TAILSCALE,
    ENTRY_HTTP_SERVICE,
    ENTRY_HTTP_ROUTER,
    ENTRY_HTTP_ENDPOINT,
    ENTRY_SECURITY_POLICY,
    ENTRY_ENV_STORAGE,
    ENTRY_ENV_VARIABLE,
};

enum env_storage_type {
    ENV_STORAGE_MEMORY, /* values set at run time */
    ENV_STORAGE_OS,     /* the process environment, read-only */
    ENV_STORAGE_STATIC, /* values given in the entry, read-only */
    ENV_STORAGE_ROUTER, /* the first of its storages that has the value */
};

struct entry_env_storage {
    enum env_storage_type type;
    const struct value *values; /* static: a map of strings, owned by the document */
    char **storages;            /* router: full ids, in order */
    size_t storage_count;
};

struct entry_env_variable {
    char *variable;      /* the name it is read by */
    char *storage_id;
    char *default_value; /* NULL: none */
    bool readonly;
};

struct entry_lifecycle {
    bool auto_start;
};

struct entry_import {
    char *name;     /* what require() asks for */
    char *entry_id; /* a library.lua entry */
};

struct entry_lua {
    char *source_path;   /* absolute or relative to the working directory */
    char *method;        /* NULL for libraries */
    char **modules;
    size_t module_count;
    struct entry_import *imports;
    size_t import_count;
    char *command_name;  /* meta.command.name, process.lua only */
    char *command_short; /* meta.command.short */
    char *default_host_id; /* meta.default_host: funcs.call starts it there and waits (process.lua) */
    int64_t memory_limit; /* process.lua: bytes its process may hold, 0 = none */
};

struct entry_process_service {
    char *process_id;
    char *host_id;
    struct entry_lifecycle lifecycle;
};

struct entry_socks5 {
    char *host;
    int port;
    char *username;
    char *password;
    bool isolate_streams;
};

struct entry_i2p {
    char *host;
    int port;
    char *session_name;
    const struct value *options; /* map, owned by the registry document */
};

struct entry_tailscale {
    char *hostname;
    char *auth_key;
    char *auth_key_env;
    char *control_url;
    char *state_dir;
    bool ephemeral;
};

struct entry_http_service {
    char *addr;
    char *network_id;
    int64_t read_timeout_ns;
    int64_t write_timeout_ns;
    int64_t idle_timeout_ns;
    int64_t max_connections;    /* limits.max_connections: open at once */
    int64_t keepalive_requests; /* limits.keepalive_requests: served on one connection */
    bool reuse_port;            /* SO_REUSEPORT: several runtimes on one port (direct network) */
    struct entry_lifecycle lifecycle;
};

struct entry_http_router {
    char *server_id;
    char *prefix;
};

struct entry_http_endpoint {
    char *router_id;
    char *method;
    char *path;
    char *function_id;
};

struct entry_policy {
    char **actions;
    size_t action_count;
    char **resources;
    size_t resource_count;
    bool allow; /* effect: allow (true) or deny (false) */
    const struct value *conditions; /* sequence or NULL, owned by the document */
    char **groups;                  /* full group ids: "namespace:group" */
    size_t group_count;
};

struct entry {
    char *id;        /* "namespace:name" */
    char *namespace_name;
    char *name;
    enum entry_kind kind;
    const char *kind_name;
    const char *file; /* the _index.yaml it came from (owned by the registry) */
    int line;
    const struct value *node; /* the entry's map, owned by the registry */
    const struct value *meta;
    union {
        struct entry_lifecycle host;
        struct entry_lua lua;
        struct entry_process_service process_service;
        struct entry_socks5 socks5;
        struct entry_i2p i2p;
        struct entry_tailscale tailscale;
        struct entry_http_service http_service;
        struct entry_http_router http_router;
        struct entry_http_endpoint http_endpoint;
        struct entry_policy policy;
        struct entry_env_storage env_storage;
        struct entry_env_variable env_variable;
    } as;
};

/* True for network.socks5, network.i2p and network.tailscale entries. */
bool entry_is_network(const struct entry *entry);
/* True for entries that run Lua (process, function, library). */
bool entry_is_lua(const struct entry *entry);
/* True for entries that can host processes (process.host, terminal.host). */
bool entry_is_host(const struct entry *entry);

/* Entries sorted by id, as a registry holds them. */
struct entry_list {
    struct entry *const *entries;
    size_t count;
};

/* Finds an entry of list by full id, or NULL. */
const struct entry *entry_list_find(const struct entry_list *list, const char *id);

/* Turns a reference written in an entry into a full id: "app:tor" stays,
 * a bare "tor" becomes "<namespace>:tor". Returns a new string. */
char *entry_qualify_reference(const char *namespace_name, const char *reference);

#endif
