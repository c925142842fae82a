/* kinds.c - one reader per entry kind of SPEC section 2 (plus the Wippy
 * kinds library.lua and process.service that applications commonly use). */
#include "registry/kinds.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/fields.h"
#include "util/memory.h"
#include "util/suggest.h"

#define RETURN_IF_FAILED(expression)  \
    do {                              \
        int rc_ = (expression);       \
        if (rc_ < 0)                  \
            return rc_;               \
    } while (0)

static int read_lifecycle(struct entry *entry, struct entry_lifecycle *lifecycle,
                          struct wippy_error *error)
{
    return field_boolean(entry, "lifecycle.auto_start", false, &lifecycle->auto_start, error);
}

static int read_host(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    return read_lifecycle(entry, &entry->as.host, error);
}

/* ---- Lua entries ---- */

static int read_lua_source(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    char *source = NULL;
    RETURN_IF_FAILED(field_string(entry, "source", true, NULL, &source, error));
    const char *prefix = "file://";
    if (strncmp(source, prefix, strlen(prefix)) != 0 || source[strlen(prefix)] == '\0') {
        int rc = field_error(entry, value_map_get(entry->node, "source"), "source", error,
                             "expected file://<path>, got \"%s\"", source);
        free(source);
        return rc;
    }
    const char *relative = source + strlen(prefix);
    char *path = relative[0] == '/' ? xstrdup(relative) : xasprintf("%s/%s", index_dir, relative);
    free(source);
    if (access(path, R_OK) != 0) {
        int rc = field_error(entry, value_map_get(entry->node, "source"), "source", error,
                             "cannot read %s", path);
        free(path);
        return rc;
    }
    entry->as.lua.source_path = path;
    return WIPPY_OK;
}

static int read_lua_imports(struct entry *entry, struct wippy_error *error)
{
    const struct value *imports = NULL;
    RETURN_IF_FAILED(field_map(entry, "imports", &imports, error));
    field_allow_any_below(entry, "imports"); /* the names are the user's */
    if (imports == NULL)
        return WIPPY_OK;
    struct entry_lua *lua = &entry->as.lua;
    lua->imports = xcalloc(imports->as.map.count + 1, sizeof *lua->imports);
    for (size_t i = 0; i < imports->as.map.count; i++) {
        const struct value *target = imports->as.map.values[i];
        if (target->type != VALUE_STRING)
            return field_error(entry, target, "imports", error,
                               "import \"%s\": expected an entry id", imports->as.map.keys[i]);
        lua->imports[i].name = xstrdup(imports->as.map.keys[i]);
        lua->imports[i].entry_id = entry_qualify_reference(entry->namespace_name, target->as.string.bytes);
        lua->import_count = i + 1;
    }
    return WIPPY_OK;
}

static int read_lua(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    struct entry_lua *lua = &entry->as.lua;
    RETURN_IF_FAILED(read_lua_source(entry, index_dir, error));
    bool needs_method = entry->kind != ENTRY_LIBRARY_LUA;
    RETURN_IF_FAILED(field_string(entry, "method", needs_method, NULL, &lua->method, error));
    RETURN_IF_FAILED(field_string_list(entry, "modules", false, &lua->modules,
                                       &lua->module_count, error));
    RETURN_IF_FAILED(read_lua_imports(entry, error));
    /* Go Wippy's VM pool: sizing only. Every call here is a coroutine of
     * one state, so there is no pool to size; the fields are known (and a
     * misspelt one refused), and they change nothing. */
    static const char *const pool_fields[] = {"pool.type", "pool.size", "pool.workers", "pool.buffer",
                                              "pool.warm_start", "pool.max_size"};
    for (size_t i = 0; i < sizeof pool_fields / sizeof pool_fields[0]; i++)
        field_lookup(entry, pool_fields[i]);
    if (entry->kind == ENTRY_PROCESS_LUA) {
        RETURN_IF_FAILED(field_size(entry, "memory_limit", &lua->memory_limit, error));
        const struct value *command = NULL;
        RETURN_IF_FAILED(field_map(entry, "meta.command", &command, error));
        if (command != NULL) {
            RETURN_IF_FAILED(field_string(entry, "meta.command.name", true, NULL,
                                          &lua->command_name, error));
            RETURN_IF_FAILED(field_string(entry, "meta.command.short", false, "",
                                          &lua->command_short, error));
        }
        RETURN_IF_FAILED(field_reference(entry, "meta.default_host", false, &lua->default_host_id, error));
    }
    return WIPPY_OK;
}

static int check_lua(const struct entry_list *known, const struct entry *entry,
                     struct wippy_error *error)
{
    for (size_t i = 0; i < entry->as.lua.import_count; i++) {
        const struct entry_import *import = &entry->as.lua.imports[i];
        const struct entry *target = entry_list_find(known, import->entry_id);
        if (target == NULL || target->kind != ENTRY_LIBRARY_LUA)
            return field_error(entry, value_map_get_path(entry->node, "imports"), "imports",
                               error, "import \"%s\": %s is not a library.lua entry",
                               import->name, import->entry_id);
    }
    return WIPPY_OK;
}

static void release_lua(struct entry *entry)
{
    struct entry_lua *lua = &entry->as.lua;
    free(lua->source_path);
    free(lua->method);
    field_free_list(lua->modules, lua->module_count);
    for (size_t i = 0; i < lua->import_count; i++) {
        free(lua->imports[i].name);
        free(lua->imports[i].entry_id);
    }
    free(lua->imports);
    free(lua->command_name);
    free(lua->command_short);
    free(lua->default_host_id);
}

/* ---- process.service ---- */

static int read_process_service(struct entry *entry, const char *index_dir,
                                struct wippy_error *error)
{
    struct entry_process_service *service = &entry->as.process_service;
    RETURN_IF_FAILED(field_reference(entry, "process", true, &service->process_id, error));
    RETURN_IF_FAILED(field_reference(entry, "host", true, &service->host_id, error));
    return read_lifecycle(entry, &service->lifecycle, error);
}

static int check_reference_kind(const struct entry_list *known, const struct entry *entry,
                                const char *field, const char *target_id,
                                bool (*accepts)(const struct entry *), const char *wanted,
                                struct wippy_error *error)
{
    const struct entry *target = entry_list_find(known, target_id);
    const struct value *node = value_map_get_path(entry->node, field);
    if (target == NULL)
        return field_error(entry, node, field, error, "no entry named %s", target_id);
    if (!accepts(target))
        return field_error(entry, node, field, error, "%s is a %s, expected %s", target_id,
                           target->kind_name, wanted);
    return WIPPY_OK;
}

static bool is_process_lua(const struct entry *entry) { return entry->kind == ENTRY_PROCESS_LUA; }

static int check_lua_host(const struct entry_list *known, const struct entry *entry, struct wippy_error *error)
{
    int rc = check_lua(known, entry, error);
    if (rc == WIPPY_OK && entry->as.lua.default_host_id != NULL)
        rc = check_reference_kind(known, entry, "meta.default_host", entry->as.lua.default_host_id, entry_is_host,
                                  "a process.host or terminal.host entry", error);
    return rc;
}
static bool is_function_lua(const struct entry *entry) { return entry->kind == ENTRY_FUNCTION_LUA; }
static bool is_http_service(const struct entry *entry) { return entry->kind == ENTRY_HTTP_SERVICE; }
static bool is_http_router(const struct entry *entry) { return entry->kind == ENTRY_HTTP_ROUTER; }

static int check_process_service(const struct entry_list *known, const struct entry *entry,
                                 struct wippy_error *error)
{
    const struct entry_process_service *service = &entry->as.process_service;
    RETURN_IF_FAILED(check_reference_kind(known, entry, "process", service->process_id,
                                          is_process_lua, "a process.lua entry", error));
    return check_reference_kind(known, entry, "host", service->host_id, entry_is_host,
                                "a process.host or terminal.host entry", error);
}

static void release_process_service(struct entry *entry)
{
    free(entry->as.process_service.process_id);
    free(entry->as.process_service.host_id);
}

/* ---- network entries ---- */

static int read_socks5(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    struct entry_socks5 *socks5 = &entry->as.socks5;
    RETURN_IF_FAILED(field_string(entry, "host", true, NULL, &socks5->host, error));
    RETURN_IF_FAILED(field_port(entry, "port", true, 0, &socks5->port, error));
    RETURN_IF_FAILED(field_string(entry, "username", false, NULL, &socks5->username, error));
    RETURN_IF_FAILED(field_string(entry, "password", false, NULL, &socks5->password, error));
    RETURN_IF_FAILED(field_boolean(entry, "isolate_streams", false, &socks5->isolate_streams, error));
    const char *fields[] = {"username", "password"};
    char *values[] = {socks5->username, socks5->password};
    for (int i = 0; i < 2; i++) {
        if (values[i] != NULL && (strlen(values[i]) == 0 || strlen(values[i]) > 255))
            return field_error(entry, value_map_get(entry->node, fields[i]), fields[i], error,
                               "must be 1 to 255 bytes (RFC 1929)");
    }
    if ((socks5->username == NULL) != (socks5->password == NULL)) {
        const char *missing = socks5->username == NULL ? "username" : "password";
        return field_error(entry, NULL, missing, error,
                           "is required when %s is set (RFC 1929 sends both)",
                           socks5->username == NULL ? "password" : "username");
    }
    return WIPPY_OK;
}

static void release_socks5(struct entry *entry)
{
    free(entry->as.socks5.host);
    free(entry->as.socks5.username);
    free(entry->as.socks5.password);
}

static int read_i2p(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    struct entry_i2p *i2p = &entry->as.i2p;
    RETURN_IF_FAILED(field_string(entry, "host", false, "127.0.0.1", &i2p->host, error));
    RETURN_IF_FAILED(field_port(entry, "port", false, 7656, &i2p->port, error));
    RETURN_IF_FAILED(field_string(entry, "session_name", false, "wippy", &i2p->session_name, error));
    RETURN_IF_FAILED(field_map(entry, "options", &i2p->options, error));
    field_allow_any_below(entry, "options"); /* SAM's own options, passed on */
    if (i2p->options == NULL)
        return WIPPY_OK;
    for (size_t i = 0; i < i2p->options->as.map.count; i++) {
        const struct value *option = i2p->options->as.map.values[i];
        if (option->type == VALUE_MAP || option->type == VALUE_SEQUENCE || option->type == VALUE_NULL)
            return field_error(entry, option, "options", error,
                               "option \"%s\": expected a plain value", i2p->options->as.map.keys[i]);
    }
    return WIPPY_OK;
}

static void release_i2p(struct entry *entry)
{
    free(entry->as.i2p.host);
    free(entry->as.i2p.session_name);
}

static int read_tailscale(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    struct entry_tailscale *tailscale = &entry->as.tailscale;
    RETURN_IF_FAILED(field_string(entry, "hostname", false, entry->name, &tailscale->hostname, error));
    RETURN_IF_FAILED(field_string(entry, "auth_key", false, NULL, &tailscale->auth_key, error));
    RETURN_IF_FAILED(field_string(entry, "auth_key_env", false, NULL, &tailscale->auth_key_env, error));
    RETURN_IF_FAILED(field_string(entry, "control_url", false, NULL, &tailscale->control_url, error));
    RETURN_IF_FAILED(field_string(entry, "state_dir", false, NULL, &tailscale->state_dir, error));
    RETURN_IF_FAILED(field_boolean(entry, "ephemeral", false, &tailscale->ephemeral, error));
    if (tailscale->auth_key == NULL && tailscale->auth_key_env == NULL)
        return field_error(entry, NULL, "auth_key", error, "auth_key or auth_key_env is required");
    if (tailscale->auth_key != NULL && tailscale->auth_key_env != NULL)
        return field_error(entry, value_map_get(entry->node, "auth_key_env"), "auth_key_env",
                           error, "set auth_key or auth_key_env, not both");
    return WIPPY_OK;
}

static void release_tailscale(struct entry *entry)
{
    struct entry_tailscale *tailscale = &entry->as.tailscale;
    free(tailscale->hostname);
    free(tailscale->auth_key);
    free(tailscale->auth_key_env);
    free(tailscale->control_url);
    free(tailscale->state_dir);
}

/* ---- HTTP entries ---- */

static int read_http_service(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    struct entry_http_service *service = &entry->as.http_service;
    const int64_t second = INT64_C(1000000000);
    RETURN_IF_FAILED(field_string(entry, "addr", true, NULL, &service->addr, error));
    RETURN_IF_FAILED(field_reference(entry, "network", false, &service->network_id, error));
    RETURN_IF_FAILED(field_duration(entry, "timeouts.read", 30 * second, &service->read_timeout_ns, error));
    RETURN_IF_FAILED(field_duration(entry, "timeouts.write", 30 * second, &service->write_timeout_ns, error));
    RETURN_IF_FAILED(field_duration(entry, "timeouts.idle", 60 * second, &service->idle_timeout_ns, error));
    /* nginx's keepalive_requests is 1000; its worker_connections 512 per worker */
    RETURN_IF_FAILED(field_count(entry, "limits.max_connections", 1024, &service->max_connections, error));
    RETURN_IF_FAILED(field_count(entry, "limits.keepalive_requests", 1000, &service->keepalive_requests, error));
    RETURN_IF_FAILED(field_boolean(entry, "reuse_port", false, &service->reuse_port, error));
    return read_lifecycle(entry, &service->lifecycle, error);
}

static int check_http_service(const struct entry_list *known, const struct entry *entry,
                              struct wippy_error *error)
{
    const char *network_id = entry->as.http_service.network_id;
    if (network_id == NULL)
        return WIPPY_OK;
    if (entry->as.http_service.reuse_port)
        return field_error(entry, value_map_get(entry->node, "reuse_port"), "reuse_port", error,
                           "applies to the direct network only (an overlay listener is its own)");
    RETURN_IF_FAILED(check_reference_kind(known, entry, "network", network_id,
                                          entry_is_network, "a network.* entry", error));
    const struct entry *network = entry_list_find(known, network_id);
    if (network->kind == ENTRY_NETWORK_SOCKS5)
        return field_error(entry, value_map_get(entry->node, "network"), "network", error,
                           "%s is a SOCKS5 overlay, which cannot listen (SOCKS5 is outbound only)",
                           network_id);
    return WIPPY_OK;
}

static void release_http_service(struct entry *entry)
{
    free(entry->as.http_service.addr);
    free(entry->as.http_service.network_id);
}

static int read_http_router(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    struct entry_http_router *router = &entry->as.http_router;
    RETURN_IF_FAILED(field_reference(entry, "meta.server", true, &router->server_id, error));
    return field_string(entry, "prefix", false, "/", &router->prefix, error);
}

static int check_http_router(const struct entry_list *known, const struct entry *entry,
                             struct wippy_error *error)
{
    return check_reference_kind(known, entry, "meta.server", entry->as.http_router.server_id,
                                is_http_service, "an http.service entry", error);
}

static void release_http_router(struct entry *entry)
{
    free(entry->as.http_router.server_id);
    free(entry->as.http_router.prefix);
}

static int read_http_endpoint(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    struct entry_http_endpoint *endpoint = &entry->as.http_endpoint;
    RETURN_IF_FAILED(field_reference(entry, "meta.router", true, &endpoint->router_id, error));
    RETURN_IF_FAILED(field_string(entry, "method", true, NULL, &endpoint->method, error));
    RETURN_IF_FAILED(field_string(entry, "path", true, NULL, &endpoint->path, error));
    RETURN_IF_FAILED(field_reference(entry, "func", true, &endpoint->function_id, error));
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH",
                                          "HEAD", "OPTIONS", "*", NULL};
    bool known = false;
    for (const char *const *method = methods; *method != NULL; method++)
        known = known || strcmp(*method, endpoint->method) == 0;
    if (!known)
        return field_error(entry, value_map_get(entry->node, "method"), "method", error,
                           "unknown HTTP method \"%s\"", endpoint->method);
    if (endpoint->path[0] != '/')
        return field_error(entry, value_map_get(entry->node, "path"), "path", error,
                           "must start with /");
    return WIPPY_OK;
}

static int check_http_endpoint(const struct entry_list *known, const struct entry *entry,
                               struct wippy_error *error)
{
    const struct entry_http_endpoint *endpoint = &entry->as.http_endpoint;
    RETURN_IF_FAILED(check_reference_kind(known, entry, "meta.router", endpoint->router_id,
                                          is_http_router, "an http.router entry", error));
    return check_reference_kind(known, entry, "func", endpoint->function_id, is_function_lua,
                                "a function.lua entry", error);
}

static void release_http_endpoint(struct entry *entry)
{
    free(entry->as.http_endpoint.router_id);
    free(entry->as.http_endpoint.method);
    free(entry->as.http_endpoint.path);
    free(entry->as.http_endpoint.function_id);
}

/* ---- security.policy ---- */

static int read_policy(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    struct entry_policy *policy = &entry->as.policy;
    const struct value *body = NULL;
    RETURN_IF_FAILED(field_map(entry, "policy", &body, error));
    if (body == NULL)
        return field_error(entry, NULL, "policy", error, "is required");
    RETURN_IF_FAILED(field_string_list(entry, "policy.actions", true, &policy->actions,
                                       &policy->action_count, error));
    RETURN_IF_FAILED(field_string_list(entry, "policy.resources", true, &policy->resources,
                                       &policy->resource_count, error));
    char *effect = NULL;
    RETURN_IF_FAILED(field_string(entry, "policy.effect", true, NULL, &effect, error));
    bool allow = strcmp(effect, "allow") == 0;
    bool deny = strcmp(effect, "deny") == 0;
    free(effect);
    if (!allow && !deny)
        return field_error(entry, value_map_get_path(entry->node, "policy.effect"),
                           "policy.effect", error, "expected allow or deny");
    policy->allow = allow;
    const struct value *conditions = field_lookup(entry, "policy.conditions");
    if (conditions != NULL && conditions->type != VALUE_NULL) {
        if (conditions->type != VALUE_SEQUENCE)
            return field_error(entry, conditions, "policy.conditions", error, "expected a list");
        for (size_t i = 0; i < conditions->as.sequence.count; i++) {
            const struct value *condition = conditions->as.sequence.items[i];
            static const char *const condition_keys[] = {"field", "operator", "value", "value_from", NULL};
            if (condition->type != VALUE_MAP)
                return field_error(entry, condition, "policy.conditions", error,
                                   "condition %zu: expected a map", i + 1);
            for (size_t k = 0; k < condition->as.map.count; k++) {
                const char *key = condition->as.map.keys[k];
                bool known = false;
                for (size_t c = 0; condition_keys[c] != NULL && !known; c++)
                    known = strcmp(condition_keys[c], key) == 0;
                if (!known) {
                    const char *near = suggest_closest(key, condition_keys);
                    return field_error(entry, condition->as.map.values[k], "policy.conditions", error,
                                       "condition %zu: unknown key \"%s\"%s%s%s", i + 1, key,
                                       near != NULL ? " (did you mean \"" : "", near != NULL ? near : "",
                                       near != NULL ? "\"?)" : "");
                }
            }
            const struct value *field = value_map_get(condition, "field");
            const struct value *operator_name = value_map_get(condition, "operator");
            if (field == NULL || field->type != VALUE_STRING || operator_name == NULL ||
                operator_name->type != VALUE_STRING)
                return field_error(entry, condition, "policy.conditions", error,
                                   "condition %zu needs a field and an operator", i + 1);
        }
        policy->conditions = conditions;
    }
    char **groups = NULL;
    size_t group_count = 0;
    RETURN_IF_FAILED(field_string_list(entry, "groups", false, &groups, &group_count, error));
    policy->groups = xcalloc(group_count + 1, sizeof(char *));
    for (size_t i = 0; i < group_count; i++)
        policy->groups[i] = entry_qualify_reference(entry->namespace_name, groups[i]);
    policy->group_count = group_count;
    field_free_list(groups, group_count);
    return WIPPY_OK;
}

static void release_policy(struct entry *entry)
{
    struct entry_policy *policy = &entry->as.policy;
    field_free_list(policy->actions, policy->action_count);
    field_free_list(policy->resources, policy->resource_count);
    field_free_list(policy->groups, policy->group_count);
}

/* ---- env.storage.*, env.variable ---- */

static int read_env_storage(struct entry *entry, enum env_storage_type type)
{
    entry->as.env_storage.type = type;
    return WIPPY_OK;
}

static int read_env_memory(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    (void)index_dir, (void)error;
    return read_env_storage(entry, ENV_STORAGE_MEMORY);
}

static int read_env_os(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    (void)index_dir, (void)error;
    return read_env_storage(entry, ENV_STORAGE_OS);
}

static int read_env_static(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    (void)index_dir;
    read_env_storage(entry, ENV_STORAGE_STATIC);
    const struct value *values = NULL;
    RETURN_IF_FAILED(field_map(entry, "values", &values, error));
    for (size_t i = 0; values != NULL && i < values->as.map.count; i++)
        if (values->as.map.values[i]->type != VALUE_STRING)
            return field_error(entry, values->as.map.values[i], "values", error, "%s: expected a string",
                               values->as.map.keys[i]);
    entry->as.env_storage.values = values;
    return WIPPY_OK;
}

static int read_env_router(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    (void)index_dir;
    struct entry_env_storage *storage = &entry->as.env_storage;
    read_env_storage(entry, ENV_STORAGE_ROUTER);
    char **storages = NULL;
    size_t count = 0;
    RETURN_IF_FAILED(field_string_list(entry, "storages", true, &storages, &count, error));
    storage->storages = xcalloc(count + 1, sizeof(char *));
    for (size_t i = 0; i < count; i++)
        storage->storages[i] = entry_qualify_reference(entry->namespace_name, storages[i]);
    storage->storage_count = count;
    field_free_list(storages, count);
    return WIPPY_OK;
}

/* Go Wippy's file storage writes a file on every set: not built here, and
 * said so rather than taken for another storage. */
static int read_env_file(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    (void)index_dir;
    return field_error(entry, value_map_get(entry->node, "kind"), "kind", error,
                       "env.storage.file is not supported by this runtime (use env.storage.memory, os, static "
                       "or router)");
}

static bool is_env_storage(const struct entry *entry) { return entry->kind == ENTRY_ENV_STORAGE; }

static int check_env_router(const struct entry_list *known, const struct entry *entry, struct wippy_error *error)
{
    const struct entry_env_storage *storage = &entry->as.env_storage;
    for (size_t i = 0; storage->type == ENV_STORAGE_ROUTER && i < storage->storage_count; i++)
        RETURN_IF_FAILED(check_reference_kind(known, entry, "storages", storage->storages[i], is_env_storage,
                                              "an env.storage.* entry", error));
    return WIPPY_OK;
}

static void release_env_storage(struct entry *entry)
{
    field_free_list(entry->as.env_storage.storages, entry->as.env_storage.storage_count);
}

static bool valid_variable_name(const char *name)
{
    if (name[0] == '\0')
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    return true;
}

static int read_env_variable(struct entry *entry, const char *index_dir, struct wippy_error *error)
{
    (void)index_dir;
    struct entry_env_variable *variable = &entry->as.env_variable;
    RETURN_IF_FAILED(field_string(entry, "variable", false, NULL, &variable->variable, error));
    if (variable->variable == NULL || variable->variable[0] == '\0') {
        free(variable->variable);
        variable->variable = xstrdup(entry->name);
    }
    if (!valid_variable_name(variable->variable))
        return field_error(entry, value_map_get(entry->node, "variable"), "variable", error,
                           "\"%s\": only letters, digits and _", variable->variable);
    RETURN_IF_FAILED(field_reference(entry, "storage", true, &variable->storage_id, error));
    RETURN_IF_FAILED(field_string(entry, "default", false, NULL, &variable->default_value, error));
    return field_boolean(entry, "readonly", false, &variable->readonly, error);
}

static int check_env_variable(const struct entry_list *known, const struct entry *entry, struct wippy_error *error)
{
    return check_reference_kind(known, entry, "storage", entry->as.env_variable.storage_id, is_env_storage,
                                "an env.storage.* entry", error);
}

static void release_env_variable(struct entry *entry)
{
    free(entry->as.env_variable.variable);
    free(entry->as.env_variable.storage_id);
    free(entry->as.env_variable.default_value);
}

static const char *const http_service_unsupported[] = {"tls", "host", NULL};
static const char *const http_router_unsupported[] = {"middleware", "options", "post_middleware",
                                                      "post_options", NULL};

static const struct entry_kind_definition entry_kinds[] = {
    {"process.host", ENTRY_PROCESS_HOST, read_host, NULL, NULL, NULL},
    {"terminal.host", ENTRY_TERMINAL_HOST, read_host, NULL, NULL, NULL},
    {"process.lua", ENTRY_PROCESS_LUA, read_lua, check_lua_host, release_lua, NULL},
    {"function.lua", ENTRY_FUNCTION_LUA, read_lua, check_lua, release_lua, NULL},
    {"library.lua", ENTRY_LIBRARY_LUA, read_lua, check_lua, release_lua, NULL},
    {"process.service", ENTRY_PROCESS_SERVICE, read_process_service, check_process_service, release_process_service, NULL},
    {"network.socks5", ENTRY_NETWORK_SOCKS5, read_socks5, NULL, release_socks5, NULL},
    {"network.i2p", ENTRY_NETWORK_I2P, read_i2p, NULL, release_i2p, NULL},
    {"network.tailscale", ENTRY_NETWORK_TAILSCALE, read_tailscale, NULL, release_tailscale, NULL},
    {"http.service", ENTRY_HTTP_SERVICE, read_http_service, check_http_service, release_http_service, http_service_unsupported},
    {"http.router", ENTRY_HTTP_ROUTER, read_http_router, check_http_router, release_http_router, http_router_unsupported},
    {"http.endpoint", ENTRY_HTTP_ENDPOINT, read_http_endpoint, check_http_endpoint, release_http_endpoint, NULL},
    {"security.policy", ENTRY_SECURITY_POLICY, read_policy, NULL, release_policy, NULL},
    {"env.storage.memory", ENTRY_ENV_STORAGE, read_env_memory, NULL, release_env_storage, NULL},
    {"env.storage.os", ENTRY_ENV_STORAGE, read_env_os, NULL, release_env_storage, NULL},
    {"env.storage.static", ENTRY_ENV_STORAGE, read_env_static, NULL, release_env_storage, NULL},
    {"env.storage.router", ENTRY_ENV_STORAGE, read_env_router, check_env_router, release_env_storage, NULL},
    {"env.storage.file", ENTRY_ENV_STORAGE, read_env_file, NULL, release_env_storage, NULL},
    {"env.variable", ENTRY_ENV_VARIABLE, read_env_variable, check_env_variable, release_env_variable, NULL},
};

const struct entry_kind_definition *entry_kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof entry_kinds / sizeof entry_kinds[0]; i++)
        if (strcmp(entry_kinds[i].name, name) == 0)
            return &entry_kinds[i];
    return NULL;
}

const struct entry_kind_definition *entry_kind_of(enum entry_kind kind)
{
    for (size_t i = 0; i < sizeof entry_kinds / sizeof entry_kinds[0]; i++)
        if (entry_kinds[i].kind == kind)
            return &entry_kinds[i];
    return NULL;
}
