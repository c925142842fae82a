/* mod_ctx.c - the ctx module: reading the context values a caller attached
 * with with_context (ctx.get(key), ctx.all()). */
#include <lauxlib.h>

#include "lua/host.h"
#include "lua/value_bridge.h"
#include "runtime/runtime.h"

static int ctx_get(lua_State *L)
{
    const char *key = luaL_checkstring(L, 1);
    const struct value *value = value_map_get(task_current(L)->frame->context, key);
    if (value == NULL)
        lua_pushnil(L);
    else
        lua_push_value(L, value);
    return 1;
}

static int ctx_all(lua_State *L)
{
    lua_push_value(L, task_current(L)->frame->context);
    return 1;
}

int lua_module_ctx(lua_State *L)
{
    static const luaL_Reg functions[] = {
        {"get", ctx_get},
        {"all", ctx_all},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
