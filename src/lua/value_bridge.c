/* value_bridge.c - Lua values <-> value trees. */
#include "lua/value_bridge.h"

#include <lauxlib.h>

#define BRIDGE_MAX_DEPTH 64

static struct value *convert(lua_State *L, int index, int depth, struct wippy_error *error)
{
    index = lua_absindex(L, index);
    switch (lua_type(L, index)) {
    case LUA_TNIL:
        return value_new_null();
    case LUA_TBOOLEAN:
        return value_new_boolean(lua_toboolean(L, index));
    case LUA_TNUMBER:
        return lua_isinteger(L, index) ? value_new_integer(lua_tointeger(L, index))
                                       : value_new_number(lua_tonumber(L, index));
    case LUA_TSTRING: {
        size_t length;
        const char *text = lua_tolstring(L, index, &length);
        return value_new_string(text, length);
    }
    case LUA_TTABLE:
        break;
    default:
        error_set(error, WIPPY_EINVAL, "cannot use a %s here", luaL_typename(L, index));
        return NULL;
    }
    if (depth > BRIDGE_MAX_DEPTH || !lua_checkstack(L, 4)) {
        error_set(error, WIPPY_EINVAL, "table nested too deeply (or a cycle)");
        return NULL;
    }
    lua_Integer length = (lua_Integer)lua_rawlen(L, index);
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        count++;
        lua_pop(L, 1);
    }
    bool is_sequence = length > 0 && count == length;
    struct value *result = is_sequence ? value_new_sequence() : value_new_map();
    if (is_sequence) {
        for (lua_Integer i = 1; i <= length; i++) {
            lua_rawgeti(L, index, i);
            struct value *item = convert(L, -1, depth + 1, error);
            lua_pop(L, 1);
            if (item == NULL) {
                value_free(result);
                return NULL;
            }
            value_sequence_append(result, item);
        }
        return result;
    }
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            value_free(result);
            error_set(error, WIPPY_EINVAL, "table keys must be strings");
            return NULL;
        }
        struct value *item = convert(L, -1, depth + 1, error);
        if (item == NULL) {
            lua_pop(L, 2);
            value_free(result);
            return NULL;
        }
        value_map_set(result, lua_tostring(L, -2), item);
        lua_pop(L, 1);
    }
    return result;
}

struct value *value_bridge_from_lua(lua_State *L, int index, struct wippy_error *error)
{
    return convert(L, index, 0, error);
}

void value_bridge_push(lua_State *L, const struct value *value)
{
    luaL_checkstack(L, 4, "value too deep");
    switch (value->type) {
    case VALUE_NULL:
        lua_pushnil(L);
        break;
    case VALUE_BOOLEAN:
        lua_pushboolean(L, value->as.boolean);
        break;
    case VALUE_INTEGER:
        lua_pushinteger(L, value->as.integer);
        break;
    case VALUE_NUMBER:
        lua_pushnumber(L, value->as.number);
        break;
    case VALUE_STRING:
        lua_pushlstring(L, value->as.string.bytes, value->as.string.length);
        break;
    case VALUE_SEQUENCE:
        lua_createtable(L, (int)value->as.sequence.count, 0);
        for (size_t i = 0; i < value->as.sequence.count; i++) {
            value_bridge_push(L, value->as.sequence.items[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    case VALUE_MAP:
        lua_createtable(L, 0, (int)value->as.map.count);
        for (size_t i = 0; i < value->as.map.count; i++) {
            value_bridge_push(L, value->as.map.values[i]);
            lua_setfield(L, -2, value->as.map.keys[i]);
        }
        break;
    }
}
