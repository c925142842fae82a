/* host.c - the shared Lua state and its sandbox.
 *
 * Isolation model: one lua_State for the whole runtime. Every task (process
 * or function call) is a coroutine whose code runs with its own environment
 * table; a miss in that table falls through (via a protected metatable) to a
 * shared base table holding the allowed base functions and read-only views
 * of the standard libraries and Wippy modules. A task can therefore neither
 * see another task's globals nor change anything another task uses; values
 * crossing between tasks are deep-copied (lua/transfer.c). */
#include "lua/host.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/transfer.h"
#include "util/memory.h"

#define KEY_BASE "wippy.base"
#define KEY_ENVIRONMENT_METATABLE "wippy.environment"
#define KEY_MODULES "wippy.modules"
#define KEY_ENTRIES "wippy.entries"
#define KEY_TRAMPOLINE "wippy.trampoline"

struct module_definition {
    const char *name;
    lua_CFunction open;
    bool global; /* also visible without require, as in Wippy */
};

static const struct module_definition modules[] = {
    {"io", lua_module_io, false},
    {"json", lua_module_json, false},
    {"time", lua_module_time, false},
    {"channel", lua_module_channel, true},
    {"process", lua_module_process, true},
    {"funcs", lua_module_funcs, false},
    {"security", lua_module_security, false},
    {"ctx", lua_module_ctx, false},
    {"http_client", lua_module_http_client, false},
    {"http", lua_module_http, false},
};

struct runtime *lua_host_runtime(lua_State *L)
{
    return *(struct runtime **)lua_getextraspace(L);
}

static int read_only_write(lua_State *L)
{
    return luaL_error(L, "attempt to modify a read-only table");
}

/* __pairs of a read-only view iterates the table behind it. */
static int read_only_pairs(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getglobal(L, "next");
    lua_getfield(L, -2, "__index");
    lua_pushnil(L);
    return 3;
}

void lua_host_make_read_only(lua_State *L)
{
    int original = lua_gettop(L);
    lua_newtable(L); /* the proxy */
    lua_createtable(L, 0, 5);
    lua_pushvalue(L, original);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, read_only_write);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, read_only_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "__wippy_read_only");
    lua_setmetatable(L, -2);
    lua_replace(L, original);
}

static bool is_read_only(lua_State *L, int index)
{
    if (!lua_getmetatable(L, index))
        return false;
    lua_getfield(L, -1, "__wippy_read_only");
    bool read_only = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return read_only;
}

void lua_host_new_type(lua_State *L, const char *name, const luaL_Reg *methods, bool shareable)
{
    if (!luaL_newmetatable(L, name))
        return;
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "protected");
    lua_setfield(L, -2, "__metatable");
    if (shareable) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "__wippy_shareable");
    }
}

/* ---- base functions replaced by sandboxed versions ---- */

static int sandbox_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 3);
    if (is_read_only(L, 1))
        return luaL_error(L, "attempt to modify a read-only table");
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int sandbox_collectgarbage(lua_State *L)
{
    static const char *const options[] = {"collect", "count", "step", "isrunning", NULL};
    int option = luaL_checkoption(L, 1, "collect", options);
    switch (option) {
    case 1: {
        int kilobytes = lua_gc(L, LUA_GCCOUNT);
        int bytes = lua_gc(L, LUA_GCCOUNTB);
        lua_pushnumber(L, (lua_Number)kilobytes + (lua_Number)bytes / 1024.0);
        return 1;
    }
    case 2:
        lua_pushboolean(L, lua_gc(L, LUA_GCSTEP, 0));
        return 1;
    case 3:
        lua_pushboolean(L, lua_gc(L, LUA_GCISRUNNING));
        return 1;
    default:
        lua_gc(L, LUA_GCCOLLECT);
        lua_pushinteger(L, 0);
        return 1;
    }
}

/* load(chunk [, name [, mode [, env]]]): text chunks only, and the default
 * environment is the calling task's, never the shared globals. */
static int sandbox_load(lua_State *L)
{
    size_t length;
    const char *text = luaL_checklstring(L, 1, &length);
    const char *name = luaL_optstring(L, 2, "=(load)");
    const char *mode = luaL_optstring(L, 3, "t");
    if (strcmp(mode, "t") != 0)
        return luaL_error(L, "load: only text chunks (mode \"t\") are allowed");
    bool has_environment = !lua_isnoneornil(L, 4);
    if (luaL_loadbufferx(L, text, length, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (has_environment) {
        lua_pushvalue(L, 4);
    } else {
        struct task *task = task_current(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, task->environment_reference);
    }
    if (lua_setupvalue(L, -2, 1) == NULL)
        lua_pop(L, 1);
    return 1;
}

static int sandbox_print(lua_State *L)
{
    int count = lua_gettop(L);
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    for (int i = 1; i <= count; i++) {
        if (i > 1)
            luaL_addchar(&buffer, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&buffer);
    }
    luaL_addchar(&buffer, '\n');
    luaL_pushresult(&buffer);
    size_t length;
    const char *text = lua_tolstring(L, -1, &length);
    fwrite(text, 1, length, stdout);
    fflush(stdout);
    return 0;
}

static bool module_is_listed(const struct entry *entry, const char *name)
{
    for (size_t i = 0; i < entry->as.lua.module_count; i++)
        if (strcmp(entry->as.lua.modules[i], name) == 0)
            return true;
    return false;
}

static const struct entry_import *find_import(const struct entry *entry, const char *name)
{
    for (size_t i = 0; i < entry->as.lua.import_count; i++)
        if (strcmp(entry->as.lua.imports[i].name, name) == 0)
            return &entry->as.lua.imports[i];
    return NULL;
}

/* Instantiates a library.lua entry once per task and caches it. */
static int require_library(lua_State *L, struct task *task, const struct entry_import *import)
{
    if (task->loaded_reference == LUA_NOREF) {
        lua_newtable(L);
        task->loaded_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, task->loaded_reference);
    if (lua_getfield(L, -1, import->name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    /* The library's top level runs with its own entry's modules list. */
    const struct entry *library = registry_find(task->runtime->registry, import->entry_id);
    const struct entry *requiring = task->entry;
    task->entry = library;
    lua_host_push_entry(L, import->entry_id);
    lua_host_push_new_environment(L);
    int status = lua_pcall(L, 1, 1, 0);
    task->entry = requiring;
    if (status != LUA_OK)
        return lua_error(L);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, import->name);
    return 1;
}

static int sandbox_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    struct task *task = task_current(L);
    const struct entry_import *import = find_import(task->entry, name);
    if (import != NULL)
        return require_library(L, task, import);
    if (!module_is_listed(task->entry, name))
        return luaL_error(L, "module '%s' is not enabled for entry %s", name, task->entry->id);
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_MODULES);
    lua_getfield(L, -1, name);
    return 1;
}

/* ---- setting up the state ---- */

static void copy_global(lua_State *L, int base, const char *name)
{
    lua_getglobal(L, name);
    lua_setfield(L, base, name);
}

static void install_read_only_library(lua_State *L, int base, const char *name)
{
    lua_getglobal(L, name);
    lua_host_make_read_only(L);
    lua_setfield(L, base, name);
}

static void install_base(lua_State *L)
{
    luaL_openlibs(L);
    lua_coroutines_install(L);
    /* string.dump would let bytecode in; the string metatable must not be
     * reachable to change. */
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    lua_newtable(L);
    int base = lua_gettop(L);
    static const char *const safe_functions[] = {
        "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "rawequal",
        "rawget", "rawlen", "select", "tonumber", "tostring", "type", "setmetatable",
        "getmetatable", "_VERSION", NULL};
    for (const char *const *name = safe_functions; *name != NULL; name++)
        copy_global(L, base, *name);
    static const char *const libraries[] = {"string", "table", "math", "utf8", "coroutine", NULL};
    for (const char *const *name = libraries; *name != NULL; name++)
        install_read_only_library(L, base, *name);
    static const luaL_Reg replaced[] = {
        {"rawset", sandbox_rawset},
        {"collectgarbage", sandbox_collectgarbage},
        {"load", sandbox_load},
        {"print", sandbox_print},
        {"require", sandbox_require},
        {NULL, NULL},
    };
    luaL_setfuncs(L, replaced, 0);

    lua_newtable(L);
    int module_table = lua_gettop(L);
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        modules[i].open(L);
        lua_host_make_read_only(L);
        if (modules[i].global) {
            lua_pushvalue(L, -1);
            lua_setfield(L, base, modules[i].name);
        }
        lua_setfield(L, module_table, modules[i].name);
    }
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_MODULES);

    lua_setfield(L, LUA_REGISTRYINDEX, KEY_BASE);

    lua_createtable(L, 0, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_BASE);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_ENVIRONMENT_METATABLE);
}

static const char trampoline_source[] =
    "return function(instance, env, method, ...)\n"
    "  local module = instance(env)\n"
    "  local fn\n"
    "  if type(module) == 'table' then fn = rawget(module, method) end\n"
    "  if fn == nil then fn = rawget(env, method) end\n"
    "  if type(fn) ~= 'function' then\n"
    "    error(string.format('method %q is not defined', method), 0)\n"
    "  end\n"
    "  return fn(...)\n"
    "end\n";

static int install_trampoline(lua_State *L, struct wippy_error *error)
{
    if (luaL_loadbufferx(L, trampoline_source, sizeof trampoline_source - 1, "=trampoline", "t") ||
        lua_pcall(L, 0, 1, 0))
        return error_set(error, WIPPY_EINVAL, "internal: %s", lua_tostring(L, -1));
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_TRAMPOLINE);
    return WIPPY_OK;
}

static int read_source(const char *path, char **text, size_t *length, struct wippy_error *error)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return error_set(error, WIPPY_ENOENT, "%s: cannot open: %s", path, strerror(errno));
    size_t capacity = 4096, used = 0, got;
    char *buffer = xmalloc(capacity);
    while ((got = fread(buffer + used, 1, capacity - used, file)) > 0) {
        used += got;
        if (used == capacity)
            buffer = xrealloc(buffer, capacity *= 2);
    }
    fclose(file);
    *text = buffer;
    *length = used;
    return WIPPY_OK;
}

/* Compiles an entry's file as the body of function(_ENV, ...), written on
 * the file's first line so that line numbers in messages stay true. */
static int compile_entry(lua_State *L, const struct entry *entry, struct wippy_error *error)
{
    char *source = NULL;
    size_t length = 0;
    int rc = read_source(entry->as.lua.source_path, &source, &length, error);
    if (rc < 0)
        return rc;
    if (length > 0 && source[0] == '#') /* a shebang line: keep the line, drop its text */
        source[0] = '-', length > 1 ? (void)(source[1] = '-') : (void)0;
    static const char prefix[] = "return function(_ENV, ...) ";
    static const char suffix[] = "\nend";
    size_t total = sizeof prefix - 1 + length + sizeof suffix - 1;
    char *wrapped = xmalloc(total);
    memcpy(wrapped, prefix, sizeof prefix - 1);
    memcpy(wrapped + sizeof prefix - 1, source, length);
    memcpy(wrapped + sizeof prefix - 1 + length, suffix, sizeof suffix - 1);
    free(source);
    char *chunk_name = xasprintf("@%s", entry->as.lua.source_path);
    int status = luaL_loadbufferx(L, wrapped, total, chunk_name, "t");
    free(chunk_name);
    free(wrapped);
    if (status == LUA_OK)
        status = lua_pcall(L, 0, 1, 0);
    if (status != LUA_OK) {
        rc = error_set(error, WIPPY_EINVAL, "%s (entry %s)", lua_tostring(L, -1), entry->id);
        lua_pop(L, 1);
        return rc;
    }
    lua_setfield(L, -2, entry->id);
    return WIPPY_OK;
}

static int check_modules(lua_State *L, const struct entry *entry, struct wippy_error *error)
{
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_MODULES);
    int rc = WIPPY_OK;
    for (size_t i = 0; i < entry->as.lua.module_count && rc == WIPPY_OK; i++) {
        const char *name = entry->as.lua.modules[i];
        if (lua_getfield(L, -1, name) == LUA_TNIL) {
            const struct value *node = value_map_get(entry->node, "modules");
            rc = error_set(error, WIPPY_EINVAL,
                           "%s:%d: entry %s: field \"modules\": unknown module \"%s\"",
                           entry->file, node != NULL ? node->line : entry->line, entry->id, name);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return rc;
}

int lua_host_open(struct runtime *runtime, struct wippy_error *error)
{
    lua_State *L = luaL_newstate();
    if (L == NULL)
        return error_set(error, WIPPY_ENOMEM, "cannot create the Lua state");
    *(struct runtime **)lua_getextraspace(L) = runtime;
    runtime->lua = L;
    install_base(L);
    int rc = install_trampoline(L, error);
    lua_newtable(L);
    for (size_t i = 0; i < runtime->registry->count && rc == WIPPY_OK; i++) {
        const struct entry *entry = runtime->registry->entries[i];
        if (!entry_is_lua(entry))
            continue;
        rc = check_modules(L, entry, error);
        if (rc == WIPPY_OK)
            rc = compile_entry(L, entry, error);
    }
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_ENTRIES);
    return rc;
}

void lua_host_close(struct runtime *runtime)
{
    if (runtime->lua != NULL)
        lua_close(runtime->lua);
    runtime->lua = NULL;
}

void lua_host_push_new_environment(lua_State *L)
{
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_ENVIRONMENT_METATABLE);
    lua_setmetatable(L, -2);
}

void lua_host_push_trampoline(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_TRAMPOLINE);
}

void lua_host_push_entry(lua_State *L, const char *entry_id)
{
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_ENTRIES);
    lua_getfield(L, -1, entry_id);
    lua_remove(L, -2);
}
