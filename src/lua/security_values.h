/* security_values.h - actors, scopes and policies as Lua values. */
#ifndef WIPPY_LUA_SECURITY_VALUES_H
#define WIPPY_LUA_SECURITY_VALUES_H

#include <lua.h>

#include "security/security.h"

/* Return the borrowed C object of the userdata at index, or raise. */
struct actor *lua_check_actor(lua_State *L, int index);
struct scope *lua_check_scope(lua_State *L, int index);

/* Push a new userdata holding a reference of its own (retained here). */
void lua_push_actor(lua_State *L, struct actor *actor);
void lua_push_scope(lua_State *L, struct scope *scope);

#endif
