/* mod_env.c - the env module as Go Wippy's: get, set and get_all over the
 * variables (env.variable entries) and storages (env.storage.memory, os,
 * static, router) the registry declares, checked as env.get and env.set
 * on the key. An undeclared name is not found, even when the process
 * environment has it; an empty value counts as unset. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "lua/error_values.h"
#include "lua/guard.h"
#include "lua/modules.h"
#include "vm/remote.h"
#include "security/actions.h"
#include "util/memory.h"
#include "vm/core.h"
#include "vm/task.h"

extern char **environ;

#define ENV_MAX_VALUE (1024 * 1024)

static struct mod_env_context *context_of(lua_State *L)
{
    return vm_module_context(L);
}

/* ---- storages ---- */

/* The memory storage's own map of values (made on first use). */
static struct value *memory_values(struct mod_env_context *context, const struct entry *storage, bool create)
{
    const struct value *values = value_map_get(context->memory, storage->id);
    if (values == NULL && create) {
        value_map_set(context->memory, storage->id, value_new_map());
        values = value_map_get(context->memory, storage->id);
    }
    return (struct value *)values;
}

/* The value name has in storage, or NULL (empty counts as unset). */
static const char *storage_get(struct mod_env_context *context, const struct entry *storage, const char *name,
                               int depth)
{
    const struct entry_env_storage *s = &storage->as.env_storage;
    const struct value *value = NULL;
    const char *text = NULL;
    switch (s->type) {
    case ENV_STORAGE_MEMORY:
        value = value_map_get(memory_values(context, storage, false), name);
        break;
    case ENV_STORAGE_STATIC:
        value = s->values != NULL ? value_map_get(s->values, name) : NULL;
        break;
    case ENV_STORAGE_OS:
        text = getenv(name);
        break;
    case ENV_STORAGE_ROUTER:
        for (size_t i = 0; i < s->storage_count && text == NULL && depth < 16; i++) {
            const struct entry *next = registry_find(context->registry, s->storages[i]);
            if (next != NULL)
                text = storage_get(context, next, name, depth + 1);
        }
        break;
    }
    if (value != NULL && value->type == VALUE_STRING)
        text = value->as.string.bytes;
    return text != NULL && text[0] != '\0' ? text : NULL;
}

/* Writes name in storage; NULL, or why it cannot. */
static const char *storage_set(struct mod_env_context *context, const struct entry *storage, const char *name,
                               const char *value, size_t length, int depth)
{
    const struct entry_env_storage *s = &storage->as.env_storage;
    switch (s->type) {
    case ENV_STORAGE_MEMORY:
        value_map_set(memory_values(context, storage, true), name, value_new_string(value, length));
        return NULL;
    case ENV_STORAGE_ROUTER: { /* only the first storage is written, as in Go Wippy */
        const struct entry *first = s->storage_count > 0 ? registry_find(context->registry, s->storages[0]) : NULL;
        if (first == NULL || depth >= 16)
            return "environment storage backend not found";
        return storage_set(context, first, name, value, length, depth + 1);
    }
    default:
        return "storage is read-only";
    }
}

/* ---- variables ---- */

/* The variable key names: its declared name, else an entry id (in the
 * caller's namespace first). */
static const struct entry *find_variable(lua_State *L, struct mod_env_context *context, const char *key)
{
    const struct registry *registry = context->registry;
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        if (entry->kind == ENTRY_ENV_VARIABLE && strcmp(entry->as.env_variable.variable, key) == 0)
            return entry;
    }
    const struct entry *entry = NULL;
    if (strchr(key, ':') == NULL) {
        char *local = xasprintf("%s:%s", task_current(L)->entry->namespace_name, key);
        entry = registry_find(registry, local);
        free(local);
    }
    if (entry == NULL)
        entry = registry_find(registry, key);
    return entry != NULL && entry->kind == ENTRY_ENV_VARIABLE ? entry : NULL;
}

static const char *checked_key(lua_State *L)
{
    const char *key = luaL_checkstring(L, 1);
    return key;
}

static int env_get(lua_State *L)
{
    const char *key = checked_key(L);
    if (key[0] == '\0')
        return error_value_fail_with(L, ERROR_KIND_INVALID, "empty key");
    if (!guard_allows(L, ACTION_ENV_GET, key))
        return guard_refuse(L, "not allowed to access environment variable: %s", key);
    struct mod_env_context *context = context_of(L);
    const struct entry *variable = find_variable(L, context, key);
    const struct entry *storage =
        variable != NULL ? registry_find(context->registry, variable->as.env_variable.storage_id) : NULL;
    if (variable != NULL && storage == NULL)
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "environment storage backend not found");
    const char *value =
        storage != NULL ? storage_get(context, storage, variable->as.env_variable.variable, 0) : NULL;
    if (value == NULL && variable != NULL)
        value = variable->as.env_variable.default_value;
    if (value == NULL)
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "environment variable not found");
    lua_pushstring(L, value);
    lua_pushnil(L);
    return 2;
}

static int env_set(lua_State *L)
{
    const char *key = checked_key(L);
    size_t length;
    const char *value = luaL_checklstring(L, 2, &length);
    if (key[0] == '\0')
        return error_value_fail_with(L, ERROR_KIND_INVALID, "empty key");
    if (!guard_allows(L, ACTION_ENV_SET, key))
        return guard_refuse(L, "not allowed to access environment variable: %s", key);
    if (length > ENV_MAX_VALUE || strlen(value) != length)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "value longer than 1 MB or holding a zero byte");
    struct mod_env_context *context = context_of(L);
    const struct entry *variable = find_variable(L, context, key);
    if (variable == NULL)
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "environment variable not found");
    if (variable->as.env_variable.readonly)
        return error_value_fail_with(L, ERROR_KIND_PERMISSION_DENIED, "environment variable is read-only");
    const struct entry *storage = registry_find(context->registry, variable->as.env_variable.storage_id);
    if (storage == NULL)
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "environment storage backend not found");
    vm_unlimited_begin(vm_of(L)); /* C memory, bounded by the variables declared and 1 MB each */
    const char *refused = storage_set(context, storage, variable->as.env_variable.variable, value, length, 0);
    vm_unlimited_end(vm_of(L));
    if (refused != NULL)
        return error_value_fail_with(L, strcmp(refused, "storage is read-only") == 0 ? ERROR_KIND_PERMISSION_DENIED
                                                                                   : ERROR_KIND_NOT_FOUND,
                                     "%s", refused);
    lua_pushboolean(L, 1);
    lua_pushnil(L);
    return 2;
}

/* Adds name = value to the table on top unless it is there, or empty, or
 * the caller may not read it (keys it may not read are left out). */
static void add_listed(lua_State *L, const char *name, const char *value)
{
    if (value == NULL || value[0] == '\0' || !guard_allows(L, ACTION_ENV_GET, name))
        return;
    if (lua_getfield(L, -1, name) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushstring(L, value);
        lua_setfield(L, -2, name);
        return;
    }
    lua_pop(L, 1);
}

static void list_storage(lua_State *L, struct mod_env_context *context, const struct entry *storage, int depth)
{
    const struct entry_env_storage *s = &storage->as.env_storage;
    const struct value *values = s->type == ENV_STORAGE_MEMORY ? memory_values(context, storage, false)
                                 : s->type == ENV_STORAGE_STATIC ? s->values
                                                                 : NULL;
    for (size_t i = 0; values != NULL && i < values->as.map.count; i++)
        if (values->as.map.values[i]->type == VALUE_STRING)
            add_listed(L, values->as.map.keys[i], values->as.map.values[i]->as.string.bytes);
    if (s->type == ENV_STORAGE_OS) {
        for (char **variable = environ; variable != NULL && *variable != NULL; variable++) {
            const char *equals = strchr(*variable, '=');
            if (equals == NULL)
                continue;
            char *name = xstrndup(*variable, (size_t)(equals - *variable));
            add_listed(L, name, equals + 1);
            free(name);
        }
    }
    for (size_t i = 0; s->type == ENV_STORAGE_ROUTER && i < s->storage_count && depth < 16; i++) {
        const struct entry *next = registry_find(context->registry, s->storages[i]);
        if (next != NULL)
            list_storage(L, context, next, depth + 1);
    }
}

static int env_get_all(lua_State *L)
{
    struct mod_env_context *context = context_of(L);
    lua_newtable(L);
    for (size_t i = 0; i < context->registry->count; i++)
        if (context->registry->entries[i]->kind == ENTRY_ENV_STORAGE)
            list_storage(L, context, context->registry->entries[i], 0);
    lua_pushnil(L);
    return 2;
}

int mod_env_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"get", env_get},
        {"set", env_set},
        {"get_all", env_get_all},
        {NULL, NULL},
    };
    luaL_newlibtable(L, functions);
    if (remote_is_worker(L)) { /* what env.set wrote lives on the main VM (vm/remote.h) */
        remote_set_functions(L, "env", functions);
        return 1;
    }
    lua_pushlightuserdata(L, context);
    luaL_setfuncs(L, functions, 1);
    return 1;
}
