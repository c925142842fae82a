/* state.c - the shared Lua state: compiled entries, task environments,
 * read-only views and userdata types.
 *
 * Isolation model: one lua_State for the whole runtime. Every task (process
 * or function call) is a coroutine whose code runs with its own environment
 * table; a miss in that table falls through (via a protected metatable) to a
 * shared base table (vm/sandbox.c) holding the allowed base functions and
 * read-only views of the standard libraries and Wippy modules. A task can
 * therefore neither see another task's globals nor change anything another
 * task uses; values crossing between tasks are deep-copied (vm/transfer.c). */
#include "vm/state.h"
#include "vm/typed_lua.h"

#include <errno.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"
#include "vm/core.h"
#include "vm/heap.h"
#include "util/log.h"

#define KEY_ENTRIES "wippy.entries"
#define KEY_TRAMPOLINE "wippy.trampoline"
#define KEY_SHARE_HOOK "__wippy_share"
#define KEY_ENVIRONMENT_METATABLE "wippy.environment"
#define KEY_ENTRY_METATABLES "wippy.environments"
#define KEY_MODULES "wippy.modules"

static int read_only_write(lua_State *L)
{
    return luaL_error(L, "attempt to modify a read-only table");
}

/* The iterator of a read-only view: next over the table behind it, which
 * stays an upvalue of this C closure, out of reach of Lua code. */
static int read_only_next(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)) == 0)
        return 0;
    return 2;
}

/* __pairs of a read-only view: (iterator, the view, nil). Handing out the
 * table behind the view (as `next, table, nil` would) would let the caller
 * write to what every task shares. */
static int read_only_pairs(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__index");
    lua_pushcclosure(L, read_only_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

void state_make_read_only(lua_State *L)
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

bool state_is_read_only(lua_State *L, int index)
{
    if (!lua_getmetatable(L, index))
        return false;
    lua_getfield(L, -1, "__wippy_read_only");
    bool read_only = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return read_only;
}

/* The share hook is kept in the metatable inside a small userdata, so a
 * function pointer never passes through a void pointer. */
struct share_hook {
    state_share_fn share;
    const struct state_transport *transport; /* NULL: stays in its state */
};

void state_new_type(lua_State *L, const char *name, const luaL_Reg *methods,
                    enum state_sharing sharing, state_share_fn share)
{
    if (!luaL_newmetatable(L, name))
        return;
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "protected");
    lua_setfield(L, -2, "__metatable");
    if (sharing == STATE_SHARED) {
        struct share_hook *hook = lua_newuserdatauv(L, sizeof *hook, 0);
        hook->share = share;
        hook->transport = NULL;
        lua_setfield(L, -2, KEY_SHARE_HOOK);
    }
}

enum state_sharing state_sharing_of(lua_State *L, int index, state_share_fn *share)
{
    *share = NULL;
    if (!lua_getmetatable(L, index))
        return STATE_PRIVATE;
    enum state_sharing sharing = STATE_PRIVATE;
    if (lua_getfield(L, -1, KEY_SHARE_HOOK) == LUA_TUSERDATA) {
        const struct share_hook *hook = lua_touserdata(L, -1);
        sharing = STATE_SHARED;
        *share = hook->share;
    }
    lua_pop(L, 2);
    return sharing;
}

void state_set_transport(lua_State *L, const char *name, const struct state_transport *transport)
{
    int top = lua_gettop(L);
    if (luaL_getmetatable(L, name) == LUA_TTABLE && lua_getfield(L, -1, KEY_SHARE_HOOK) == LUA_TUSERDATA) {
        struct share_hook *hook = lua_touserdata(L, -1);
        hook->transport = transport;
    }
    lua_settop(L, top);
}

const struct state_transport *state_transport_of(lua_State *L, int index)
{
    if (!lua_getmetatable(L, index))
        return NULL;
    const struct state_transport *transport = NULL;
    if (lua_getfield(L, -1, KEY_SHARE_HOOK) == LUA_TUSERDATA)
        transport = ((const struct share_hook *)lua_touserdata(L, -1))->transport;
    lua_pop(L, 2);
    return transport;
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

/* The text of one Lua entry, ready to compile in any heap. */
struct entry_source {
    const struct entry *entry;
    char *text;
    size_t length;
    char *chunk_name;
};

struct state_sources {
    struct entry_source *items;
    size_t count;
};

/* Reads an entry's file as the body of function(_ENV, ...), written on the
 * file's first line so that line numbers in messages stay true. */
static int read_entry(const struct entry *entry, struct entry_source *out, struct wippy_error *error)
{
    char *source = NULL;
    size_t length = 0;
    int rc = read_source(entry->as.lua.source_path, &source, &length, error);
    if (rc < 0)
        return rc;
    if (length > 0 && source[0] == '#') /* a shebang line: keep the line, drop its text */
        for (size_t i = 0; i < length && source[i] != '\n' && source[i] != '\r'; i++)
            source[i] = ' ';
    struct wippy_error type_error;
    if (typed_lua_erase(source, length, &type_error) < 0) {
        free(source);
        return error_set(error, WIPPY_EINVAL, "%s:%s (entry %s)", entry->as.lua.source_path, type_error.message,
                         entry->id);
    }
    static const char prefix[] = "return function(_ENV, ...) ";
    static const char suffix[] = "\nend";
    size_t total = sizeof prefix - 1 + length + sizeof suffix - 1;
    char *wrapped = xmalloc(total);
    memcpy(wrapped, prefix, sizeof prefix - 1);
    memcpy(wrapped + sizeof prefix - 1, source, length);
    memcpy(wrapped + sizeof prefix - 1 + length, suffix, sizeof suffix - 1);
    free(source);
    *out = (struct entry_source){entry, wrapped, total, xasprintf("@%s", entry->as.lua.source_path)};
    return WIPPY_OK;
}

/* Compiles one entry into the entries table on top of L. */
static int compile_entry(lua_State *L, const struct entry_source *source, struct wippy_error *error)
{
    int status = luaL_loadbufferx(L, source->text, source->length, source->chunk_name, "t");
    if (status == LUA_OK)
        status = lua_pcall(L, 0, 1, 0);
    if (status != LUA_OK) {
        int rc = error_set(error, status == LUA_ERRMEM ? WIPPY_ENOMEM : WIPPY_EINVAL, "%s (entry %s)",
                           lua_tostring(L, -1), source->entry->id);
        lua_pop(L, 1);
        return rc;
    }
    lua_setfield(L, -2, source->entry->id);
    return WIPPY_OK;
}

static bool module_exists(const struct vm *vm, const char *name)
{
    for (size_t i = 0; i < vm->module_count; i++)
        if (strcmp(vm->modules[i].name, name) == 0)
            return true;
    return false;
}

static int check_modules(const struct vm *vm, const struct entry *entry, struct wippy_error *error)
{
    for (size_t i = 0; i < entry->as.lua.module_count; i++) {
        const char *name = entry->as.lua.modules[i];
        if (module_exists(vm, name))
            continue;
        const struct value *node = value_map_get(entry->node, "modules");
        return error_set(error, WIPPY_EINVAL,
                         "%s:%d: entry %s: field \"modules\": unknown module \"%s\"", entry->file,
                         node != NULL ? node->line : entry->line, entry->id, name);
    }
    return WIPPY_OK;
}

static int panic(lua_State *L)
{
    const char *message = lua_tostring(L, -1);
    log_message(LOG_ERROR, "internal error outside any task: %s", message != NULL ? message : "(no message)");
    return 0; /* Lua aborts */
}

int state_open(struct vm_heap *heap, struct wippy_error *error)
{
    heap_allocator_prepare();
    lua_State *L = lua_newstate(heap_allocate, heap->vm);
    if (L == NULL)
        return error_set(error, WIPPY_ENOMEM, "cannot create a Lua state");
    lua_atpanic(L, panic);
    *(struct vm_heap **)lua_getextraspace(L) = heap;
    heap->lua = L;
    luaL_openlibs(L);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_ENTRIES);
    return install_trampoline(L, error);
}

int state_read_sources(struct vm *vm, struct wippy_error *error)
{
    struct state_sources *sources = xcalloc(1, sizeof *sources);
    vm->sources = sources;
    sources->items = xcalloc(vm->registry->count + 1, sizeof *sources->items);
    for (size_t i = 0; i < vm->registry->count; i++) {
        const struct entry *entry = vm->registry->entries[i];
        if (!entry_is_lua(entry))
            continue;
        int rc = check_modules(vm, entry, error);
        if (rc == WIPPY_OK)
            rc = read_entry(entry, &sources->items[sources->count], error);
        if (rc < 0)
            return rc;
        sources->count++;
    }
    return WIPPY_OK;
}

void state_free_sources(struct vm *vm)
{
    struct state_sources *sources = vm->sources;
    if (sources == NULL)
        return;
    for (size_t i = 0; i < sources->count; i++) {
        free(sources->items[i].text);
        free(sources->items[i].chunk_name);
    }
    free(sources->items);
    free(sources);
    vm->sources = NULL;
}

int state_compile_entries(struct vm_heap *heap, struct wippy_error *error)
{
    lua_State *L = heap->lua;
    const struct state_sources *sources = heap->vm->sources;
    int rc = WIPPY_OK;
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_ENTRIES);
    for (size_t i = 0; i < sources->count && rc == WIPPY_OK; i++)
        rc = compile_entry(L, &sources->items[i], error);
    lua_pop(L, 1);
    return rc;
}

void state_close(struct vm_heap *heap)
{
    if (heap->lua != NULL)
        lua_close(heap->lua);
    heap->lua = NULL;
}

void state_set_environment_base(lua_State *L)
{
    lua_createtable(L, 0, 2);
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_ENVIRONMENT_METATABLE);
}

void state_set_modules(lua_State *L)
{
    lua_setfield(L, LUA_REGISTRYINDEX, KEY_MODULES);
}

void state_push_module(lua_State *L, const char *name)
{
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_MODULES);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
}

/* The metatable of an entry's environments: a miss reads the modules the
 * entry lists (as Go Wippy pre-installs them as globals), then the base.
 * Made once per entry and heap; the table behind it is reachable only
 * through lookups that return read-only views. */
static void push_environment_metatable(lua_State *L, const struct entry *entry)
{
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_ENVIRONMENT_METATABLE);
    if (entry == NULL || !entry_is_lua(entry) || entry->as.lua.module_count == 0)
        return;
    if (lua_getfield(L, LUA_REGISTRYINDEX, KEY_ENTRY_METATABLES) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, KEY_ENTRY_METATABLES);
    }
    if (lua_getfield(L, -1, entry->id) == LUA_TTABLE) {
        lua_replace(L, -3);
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    /* stack: base metatable, metatables by entry */
    lua_createtable(L, 0, 2);
    lua_createtable(L, 0, (int)entry->as.lua.module_count);
    for (size_t i = 0; i < entry->as.lua.module_count; i++) {
        state_push_module(L, entry->as.lua.modules[i]);
        lua_setfield(L, -2, entry->as.lua.modules[i]);
    }
    lua_pushvalue(L, -4); /* the globals fall back to the base */
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, entry->id);
    lua_replace(L, -3);
    lua_pop(L, 1);
}

void state_push_new_environment(lua_State *L, const struct entry *entry)
{
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
    push_environment_metatable(L, entry);
    lua_setmetatable(L, -2);
}

void state_push_trampoline(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_TRAMPOLINE);
}

int state_push_entry(lua_State *L, const char *entry_id, struct wippy_error *error)
{
    lua_getfield(L, LUA_REGISTRYINDEX, KEY_ENTRIES);
    if (lua_getfield(L, -1, entry_id) != LUA_TNIL) {
        lua_remove(L, -2);
        return WIPPY_OK;
    }
    lua_pop(L, 1);
    /* the first use in this heap: the text was read and checked at load */
    const struct state_sources *sources = vm_of(L)->sources;
    for (size_t i = 0; i < sources->count; i++) {
        if (strcmp(sources->items[i].entry->id, entry_id) != 0)
            continue;
        int rc = compile_entry(L, &sources->items[i], error);
        if (rc == WIPPY_OK)
            lua_getfield(L, -1, entry_id);
        lua_remove(L, rc == WIPPY_OK ? -2 : -1);
        return rc;
    }
    lua_pop(L, 1);
    return error_set(error, WIPPY_ENOENT, "entry %s is not a Lua entry", entry_id);
}
