/* mod_ctx.c - the ctx module: reading the context values a caller attached
 * with with_context (ctx.get(key), ctx.all()). */
#include <lauxlib.h>

#include "lua/modules.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"
#include "lua/value_bridge.h"

static int ctx_get(lua_State *L)
{
    const char *key = luaL_checkstring(L, 1);
    const struct value *value = value_map_get(task_current(L)->frame->context, key);
    if (value == NULL)
        lua_pushnil(L);
    else
        value_bridge_push(L, value);
    return 1;
}

static int ctx_all(lua_State *L)
{
    value_bridge_push(L, task_current(L)->frame->context);
    return 1;
}

int mod_ctx_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"get", ctx_get},
        {"all", ctx_all},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
