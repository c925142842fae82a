/* security_values.h - actors, scopes and policies as Lua values. */
#ifndef WIPPY_LUA_SECURITY_VALUES_H
#define WIPPY_LUA_SECURITY_VALUES_H

#include <lua.h>

#include "security/security.h"

/* Return the borrowed C object of the userdata at index, or raise. */
struct actor *security_value_check_actor(lua_State *L, int index);
struct scope *security_value_check_scope(lua_State *L, int index);

/* Push a new userdata holding a reference of its own (retained here). */
void security_value_push_actor(lua_State *L, struct actor *actor);
void security_value_push_scope(lua_State *L, struct scope *scope);

#endif
