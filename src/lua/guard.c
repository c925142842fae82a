/* guard.c - see guard.h. */
#include "lua/guard.h"

#include "lua/error_values.h"

#include <stdarg.h>

#include "vm/task.h"

bool guard_allows(lua_State *L, const char *action, const char *resource)
{
    return task_allows(task_current(L), action, resource);
}

int guard_refuse(lua_State *L, const char *format, ...)
{
    lua_pushnil(L);
    va_list args;
    va_start(args, format);
    lua_pushvfstring(L, format, args);
    va_end(args);
    error_value_from_top(L, ERROR_KIND_PERMISSION_DENIED);
    return 2;
}
