/* mod_funcs.c - the funcs module: call(id, ...) and immutable executors from
 * new() with with_options (replaces the option bag), with_actor, with_scope
 * and with_context. */
#include <lauxlib.h>
#include <stdlib.h>

#include "lua/error_values.h"
#include "lua/call.h"
#include "lua/edge.h"
#include "lua/guard.h"
#include "lua/modules.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"

#define EXECUTOR_TYPE "wippy.executor"

static struct edge_options *check_executor(lua_State *L, int index)
{
    return edge_check(L, index, EXECUTOR_TYPE);
}

static int funcs_new(lua_State *L)
{
    edge_push(L, NULL, EXECUTOR_TYPE);
    return 1;
}

static int funcs_call(lua_State *L)
{
    const char *id = luaL_checkstring(L, 1);
    return call_function(L, id, 2, NULL);
}

static int executor_call(lua_State *L)
{
    struct edge_options *options = check_executor(L, 1);
    const char *id = luaL_checkstring(L, 2);
    return call_function(L, id, 3, options);
}

static int funcs_async(lua_State *L)
{
    const char *id = luaL_checkstring(L, 1);
    return call_function_async(L, id, 2, NULL);
}

static int executor_async(lua_State *L)
{
    struct edge_options *options = check_executor(L, 1);
    const char *id = luaL_checkstring(L, 2);
    return call_function_async(L, id, 3, options);
}

static int executor_with_options(lua_State *L)
{
    struct edge_options *current = check_executor(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    struct task *task = task_current(L);
    struct edge_options *next = edge_push(L, current, EXECUTOR_TYPE);
    /* The option bag is replaced: what the new table does not say is unset. */
    free(next->network_overlay_id);
    next->network_overlay_id = NULL;
    next->network_choice = NETWORK_UNSET;
    static const char *const known[] = {"network", NULL};
    struct wippy_error error;
    if (edge_check_option_names(L, 2, known, &error) < 0) {
        return error_value_fail(L, &error);
    }
    lua_getfield(L, 2, "network");
    if (edge_read_network(L, task, lua_gettop(L), next, &error) < 0) {
        return error_value_fail(L, &error);
    }
    lua_pop(L, 1);
    return 1;
}

static const char custom_security[] = "not allowed to call functions with custom security context";

static int executor_with_actor(lua_State *L)
{
    if (!guard_allows(L, ACTION_FUNCS_SECURITY, "security"))
        return guard_refuse(L, custom_security);
    return edge_with_actor(L, EXECUTOR_TYPE);
}

static int executor_with_scope(lua_State *L)
{
    if (!guard_allows(L, ACTION_FUNCS_SECURITY, "security"))
        return guard_refuse(L, custom_security);
    return edge_with_scope(L, EXECUTOR_TYPE);
}

static int executor_with_context(lua_State *L)
{
    const struct edge_options *current = check_executor(L, 1);
    if (!guard_allows(L, ACTION_FUNCS_CONTEXT, "context"))
        return guard_refuse(L, "not allowed to call functions with custom context");
    return edge_with_context(L, current, 2, EXECUTOR_TYPE);
}

int mod_funcs_open(lua_State *L, void *context)
{
    static const luaL_Reg executor_methods[] = {
        {"call", executor_call},
        {"async", executor_async},
        {"with_options", executor_with_options},
        {"with_actor", executor_with_actor},
        {"with_scope", executor_with_scope},
        {"with_context", executor_with_context},
        {NULL, NULL},
    };
    state_new_type(L, EXECUTOR_TYPE, executor_methods, STATE_PRIVATE, NULL);
    lua_pushcfunction(L, edge_collect);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    call_register_future(L);
    payload_register(L);
    static const luaL_Reg functions[] = {
        {"call", funcs_call},
        {"async", funcs_async},
        {"new", funcs_new},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
