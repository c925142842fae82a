/* sandbox.c - what a task's code can reach: the base table behind every
 * task environment, with the safe base functions, read-only views of the
 * standard libraries, sandboxed replacements (load, require, rawset, print,
 * collectgarbage) and the modules the application added to the VM. */
#include "vm/sandbox.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/channel.h"
#include "vm/coroutines.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"


static int sandbox_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 3);
    if (state_is_read_only(L, 1))
        return luaL_error(L, "attempt to modify a read-only table");
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

/* setmetatable without finalizers: a __gc runs whenever the collector gets
 * to it, inside whichever task is running then, so it would act under that
 * task's identity. Go Wippy's Lua has no __gc either. */
static int sandbox_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int type = lua_type(L, 2);
    luaL_argexpected(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table");
    lua_pushliteral(L, "__gc");
    if (type == LUA_TTABLE && lua_rawget(L, 2) != LUA_TNIL)
        return luaL_error(L, "setmetatable: __gc is not supported (a finalizer would run inside "
                             "another process)");
    lua_settop(L, 2);
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_setmetatable(L, 1);
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

/* Listed by the entry, or one every state has (process, channel...). */
static bool module_is_listed(const struct vm *vm, const struct entry *entry, const char *name)
{
    for (size_t i = 0; i < entry->as.lua.module_count; i++)
        if (strcmp(entry->as.lua.modules[i], name) == 0)
            return true;
    for (size_t i = 0; i < vm->module_count; i++)
        if (vm->modules[i].global && strcmp(vm->modules[i].name, name) == 0)
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
    const struct entry *library = registry_find(task->vm->registry, import->entry_id);
    const struct entry *requiring = task->entry;
    task->entry = library;
    struct wippy_error error;
    if (state_push_entry(L, import->entry_id, &error) < 0) {
        task->entry = requiring;
        return luaL_error(L, "%s", error.message);
    }
    state_push_new_environment(L, library);
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
    if (!module_is_listed(task->vm, task->entry, name))
        return luaL_error(L, "module '%s' is not enabled for entry %s", name, task->entry->id);
    state_push_module(L, name);
    return 1;
}

static void copy_global(lua_State *L, int base, const char *name)
{
    lua_getglobal(L, name);
    lua_setfield(L, base, name);
}

static void install_read_only_library(lua_State *L, int base, const char *name)
{
    lua_getglobal(L, name);
    state_make_read_only(L);
    lua_setfield(L, base, name);
}

/* table.create(sequence_size [, record_size]): a table with room made
 * beforehand (Lua 5.5's, and Wippy's Lua has it); memory limits apply. */
static int table_create(lua_State *L)
{
    lua_Integer sequence = luaL_checkinteger(L, 1), record = luaL_optinteger(L, 2, 0);
    luaL_argcheck(L, sequence >= 0 && sequence <= (1 << 26), 1, "out of range (0 to 2^26)");
    luaL_argcheck(L, record >= 0 && record <= (1 << 26), 2, "out of range (0 to 2^26)");
    lua_createtable(L, (int)sequence, (int)record);
    return 1;
}

static void install_base(struct vm *vm, lua_State *L)
{
    coroutines_install(L);
    channel_register_type(L);
    /* string.dump would let bytecode in; the string metatable must not be
     * reachable to change. */
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_getglobal(L, "table");
    lua_pushcfunction(L, table_create);
    lua_setfield(L, -2, "create");
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
        "rawget", "rawlen", "select", "tonumber", "tostring", "type",
        "getmetatable", "_VERSION", NULL};
    for (const char *const *name = safe_functions; *name != NULL; name++)
        copy_global(L, base, *name);
    static const char *const libraries[] = {"string", "table", "math", "utf8", "coroutine", NULL};
    for (const char *const *name = libraries; *name != NULL; name++)
        install_read_only_library(L, base, *name);
    static const luaL_Reg replaced[] = {
        {"rawset", sandbox_rawset},
        {"setmetatable", sandbox_setmetatable},
        {"collectgarbage", sandbox_collectgarbage},
        {"load", sandbox_load},
        {"print", sandbox_print},
        {"require", sandbox_require},
        {NULL, NULL},
    };
    luaL_setfuncs(L, replaced, 0);

    lua_newtable(L);
    int module_table = lua_gettop(L);
    for (size_t i = 0; i < vm->module_count; i++) {
        const struct vm_module *module = &vm->modules[i];
        module->open(L, module->context);
        if (lua_istable(L, -1)) /* a module may be a userdata of a protected type (logger) */
            state_make_read_only(L);
        if (module->global) {
            lua_pushvalue(L, -1);
            lua_setfield(L, base, module->name);
        }
        lua_setfield(L, module_table, module->name);
    }
    state_set_modules(L);

    state_set_environment_base(L);
}

int sandbox_install(struct vm_heap *heap, struct wippy_error *error)
{
    install_base(heap->vm, heap->lua);
    return WIPPY_OK;
}
