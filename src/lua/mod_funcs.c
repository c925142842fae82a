/* mod_funcs.c - the funcs module: call(id, ...) and immutable executors from
 * new() with with_options (replaces the option bag), with_actor, with_scope
 * and with_context. */
#include <lauxlib.h>
#include <stdlib.h>

#include "lua/call.h"
#include "lua/edge.h"
#include "lua/host.h"
#include "lua/security_values.h"
#include "lua/value_bridge.h"

#define EXECUTOR_TYPE "wippy.executor"

static struct edge_options *check_executor(lua_State *L, int index)
{
    return luaL_checkudata(L, index, EXECUTOR_TYPE);
}

/* Pushes a new executor copying source (or empty when NULL). */
static struct edge_options *push_executor(lua_State *L, const struct edge_options *source)
{
    struct edge_options *options = lua_newuserdatauv(L, sizeof *options, 0);
    *options = (struct edge_options){0};
    if (source != NULL)
        edge_options_copy(options, source);
    luaL_setmetatable(L, EXECUTOR_TYPE);
    return options;
}

static int executor_collect(lua_State *L)
{
    edge_options_clear(check_executor(L, 1));
    return 0;
}

static int funcs_new(lua_State *L)
{
    push_executor(L, NULL);
    return 1;
}

static int funcs_call(lua_State *L)
{
    const char *id = luaL_checkstring(L, 1);
    return lua_call_function(L, id, 2, NULL);
}

static int executor_call(lua_State *L)
{
    struct edge_options *options = check_executor(L, 1);
    const char *id = luaL_checkstring(L, 2);
    return lua_call_function(L, id, 3, options);
}

static int executor_with_options(lua_State *L)
{
    struct edge_options *current = check_executor(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    struct task *task = task_current(L);
    struct edge_options *next = push_executor(L, current);
    /* The option bag is replaced: what the new table does not say is unset. */
    free(next->network_overlay_id);
    next->network_overlay_id = NULL;
    next->network_choice = NETWORK_UNSET;
    lua_getfield(L, 2, "network");
    if (!edge_read_network(L, task, lua_gettop(L), next))
        return 2;
    lua_pop(L, 1);
    return 1;
}

static int executor_with_actor(lua_State *L)
{
    struct edge_options *current = check_executor(L, 1);
    struct actor *actor = lua_check_actor(L, 2);
    struct edge_options *next = push_executor(L, current);
    actor_release(next->actor);
    next->actor = actor_retain(actor);
    return 1;
}

static int executor_with_scope(lua_State *L)
{
    struct edge_options *current = check_executor(L, 1);
    struct scope *scope = lua_check_scope(L, 2);
    struct edge_options *next = push_executor(L, current);
    scope_release(next->scope);
    next->scope = scope_retain(scope);
    return 1;
}

static int executor_with_context(lua_State *L)
{
    struct edge_options *current = check_executor(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    char error[256];
    struct value *values = lua_to_value(L, 2, error, sizeof error);
    if (values == NULL || values->type != VALUE_MAP) {
        value_free(values);
        return luaL_argerror(L, 2, values == NULL ? error : "expected a table of named values");
    }
    struct edge_options *next = push_executor(L, current);
    if (next->context == NULL) {
        next->context = values;
    } else {
        value_merge(next->context, values);
        value_free(values);
    }
    return 1;
}

int lua_module_funcs(lua_State *L)
{
    static const luaL_Reg executor_methods[] = {
        {"call", executor_call},
        {"with_options", executor_with_options},
        {"with_actor", executor_with_actor},
        {"with_scope", executor_with_scope},
        {"with_context", executor_with_context},
        {NULL, NULL},
    };
    lua_host_new_type(L, EXECUTOR_TYPE, executor_methods, false);
    lua_pushcfunction(L, executor_collect);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    static const luaL_Reg functions[] = {
        {"call", funcs_call},
        {"new", funcs_new},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
