/* value_bridge.h - converting between Lua values and value trees (for actor
 * metadata, context values and policy metadata). */
#ifndef WIPPY_LUA_VALUE_BRIDGE_H
#define WIPPY_LUA_VALUE_BRIDGE_H

#include <lua.h>

#include "util/error.h"
#include "util/value.h"

/* Converts the value at index; tables become maps or sequences. Returns NULL
 * with a message (functions, cycles...) in error. */
struct value *value_bridge_from_lua(lua_State *L, int index, struct wippy_error *error);

/* Pushes a value tree as Lua values (maps and sequences become tables). */
void value_bridge_push(lua_State *L, const struct value *value);

#endif
