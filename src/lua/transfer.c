/* transfer.c - deep copy of Lua values between tasks of one state. */
#include "lua/transfer.h"

#include "lua/channel.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>

#define TRANSFER_MAX_DEPTH 128

static bool is_shareable_userdata(lua_State *L, int index)
{
    if (!lua_getmetatable(L, index))
        return false;
    lua_getfield(L, -1, "__wippy_shareable");
    bool shareable = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return shareable;
}

/* Pushes a copy of the value at index onto L; seen (an absolute index) maps
 * already copied tables to their copies. */
static int copy_value(lua_State *L, int index, int seen, int depth, char *error, size_t size)
{
    index = lua_absindex(L, index);
    switch (lua_type(L, index)) {
    case LUA_TNIL:
    case LUA_TBOOLEAN:
    case LUA_TNUMBER:
    case LUA_TSTRING:
    case LUA_TLIGHTUSERDATA:
        lua_pushvalue(L, index);
        return 0;
    case LUA_TUSERDATA:
        if (!is_shareable_userdata(L, index)) {
            snprintf(error, size, "cannot pass a %s between processes", luaL_typename(L, index));
            return -1;
        }
        channel_mark_shared(L, index);
        lua_pushvalue(L, index);
        return 0;
    case LUA_TTABLE:
        break;
    default:
        snprintf(error, size, "cannot pass a %s between processes", luaL_typename(L, index));
        return -1;
    }
    if (depth > TRANSFER_MAX_DEPTH) {
        snprintf(error, size, "cannot pass a table nested deeper than %d levels", TRANSFER_MAX_DEPTH);
        return -1;
    }
    if (!lua_checkstack(L, 8)) {
        snprintf(error, size, "out of Lua stack space while copying a table");
        return -1;
    }
    lua_pushvalue(L, index);
    if (lua_rawget(L, seen) != LUA_TNIL)
        return 0; /* a cycle or shared subtable: reuse its copy */
    lua_pop(L, 1);
    lua_newtable(L);
    int copy = lua_gettop(L);
    lua_pushvalue(L, index);
    lua_pushvalue(L, copy);
    lua_rawset(L, seen);
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        /* stack: copy, key, value */
        int key = lua_gettop(L) - 1;
        if (copy_value(L, key, seen, depth + 1, error, size) < 0) {
            lua_settop(L, copy - 1);
            return -1;
        }
        if (copy_value(L, key + 1, seen, depth + 1, error, size) < 0) {
            lua_settop(L, copy - 1);
            return -1;
        }
        lua_rawset(L, copy);
        lua_pop(L, 1); /* the original value; the key stays for lua_next */
    }
    return 0;
}

int lua_transfer(lua_State *from, int index, lua_State *to, char *error, size_t error_size)
{
    index = lua_absindex(from, index);
    int type = lua_type(from, index);
    if (type != LUA_TTABLE && type != LUA_TUSERDATA && type != LUA_TFUNCTION && type != LUA_TTHREAD) {
        lua_pushvalue(from, index);
    } else {
        lua_newtable(from);
        int seen = lua_gettop(from);
        if (copy_value(from, index, seen, 0, error, error_size) < 0) {
            lua_pop(from, 1);
            return -1;
        }
        lua_remove(from, seen);
    }
    if (from != to)
        lua_xmove(from, to, 1);
    return 0;
}

void lua_transfer_or_raise(lua_State *from, int index, lua_State *to)
{
    char error[256];
    if (lua_transfer(from, index, to, error, sizeof error) < 0)
        luaL_error(from, "%s", error);
}
