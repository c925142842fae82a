/* mod_ctx.c - the ctx module: reading the context values a caller attached
 * with with_context (ctx.get(key), ctx.all()). */
#include <lauxlib.h>

#include "lua/error_values.h"
#include "lua/modules.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"
#include "lua/value_bridge.h"

/* ctx.get(key): the value, or nil and an error as Go Wippy's (an empty key
 * is INVALID, a key nobody set NOT_FOUND). */
static int ctx_get(lua_State *L)
{
    const char *key = luaL_checkstring(L, 1);
    if (key[0] == '\0')
        return error_value_fail_with(L, ERROR_KIND_INVALID, "ctx.get: the key is empty");
    const struct value *value = value_map_get(task_current(L)->frame->context, key);
    if (value == NULL)
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "ctx.get: no context value \"%s\"", key);
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
