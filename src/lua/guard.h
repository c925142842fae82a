/* guard.h - the permission checks of the bindings: an action of
 * security/actions.h on a resource, for the running task's actor and scope
 * (security_allows: with both, the scope must allow; without them, allowed
 * unless security.strict_mode, as in Go Wippy). A refused call returns nil
 * and the refusal, and has done nothing. */
#ifndef WIPPY_LUA_GUARD_H
#define WIPPY_LUA_GUARD_H

#include <lua.h>
#include <stdbool.h>

#include "security/actions.h"

bool guard_allows(lua_State *L, const char *action, const char *resource);

/* Pushes nil and the formatted text (lua_pushfstring's formats); returns 2. */
int guard_refuse(lua_State *L, const char *format, ...);

#endif
