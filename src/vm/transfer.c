/* transfer.c - deep copy of Lua values between tasks: within one heap
 * table by table, between heaps as a message (vm/message.h). */
#include "vm/transfer.h"

#include "vm/core.h"
#include "vm/message.h"
#include "vm/state.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>

#define TRANSFER_MAX_DEPTH 128

struct copy_call {
    const struct state_transport *transport;
    void *exported;
    struct wippy_error error;
    int rc;
};

static int import_protected(lua_State *L)
{
    struct copy_call *call = lua_touserdata(L, 1);
    call->rc = call->transport->import(L, call->exported, &call->error);
    if (call->rc < 0)
        lua_pushnil(L);
    return 1;
}

/* A type that copies (a payload) crosses even within a heap as a new value
 * made by its transport: exported, then imported under protection (an
 * import that fails or raises leaves the export to release). */
static int copy_through_transport(lua_State *L, int index, const struct state_transport *transport,
                                  struct wippy_error *error)
{
    struct copy_call call = {transport, NULL, {0}, WIPPY_OK};
    if (transport->export(L, index, &call.exported, error) < 0)
        return error->code;
    if (!lua_checkstack(L, 3)) {
        transport->release(call.exported);
        return error_set(error, WIPPY_ENOMEM, "out of Lua stack space");
    }
    lua_pushcfunction(L, import_protected);
    lua_pushlightuserdata(L, &call);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || call.rc < 0) {
        transport->release(call.exported);
        if (call.rc < 0)
            *error = call.error;
        else
            error_set(error, WIPPY_ENOMEM, "%s", lua_tostring(L, -1) != NULL ? lua_tostring(L, -1) : "not enough memory");
        lua_pop(L, 1);
        return error->code;
    }
    return 0;
}

/* A userdata crosses as it is when its type is shared, after its type's
 * share hook (if any) agreed. */
static int share_userdata(lua_State *L, int index, struct wippy_error *error)
{
    state_share_fn share;
    if (state_sharing_of(L, index, &share) != STATE_SHARED) {
        return error_set(error, WIPPY_EINVAL, "cannot pass a %s between processes",
                         luaL_typename(L, index));
    }
    if (share != NULL && share(L, index, error) < 0)
        return error->code;
    const struct state_transport *transport = state_transport_of(L, index);
    if (transport != NULL && transport->copies)
        return copy_through_transport(L, index, transport, error);
    lua_pushvalue(L, index);
    return 0;
}

/* Pushes a copy of the value at index onto L; seen (an absolute index) maps
 * already copied tables to their copies. */
static int copy_value(lua_State *L, int index, int seen, int depth, struct wippy_error *error)
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
        return share_userdata(L, index, error);
    case LUA_TTABLE:
        break;
    default:
        return error_set(error, WIPPY_EINVAL, "cannot pass a %s between processes",
                         luaL_typename(L, index));
    }
    if (depth > TRANSFER_MAX_DEPTH)
        return error_set(error, WIPPY_EINVAL, "cannot pass a table nested deeper than %d levels",
                         TRANSFER_MAX_DEPTH);
    if (!lua_checkstack(L, 8))
        return error_set(error, WIPPY_ENOMEM, "out of Lua stack space while copying a table");
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
        if (copy_value(L, key, seen, depth + 1, error) < 0) {
            lua_settop(L, copy - 1);
            return -1;
        }
        if (copy_value(L, key + 1, seen, depth + 1, error) < 0) {
            lua_settop(L, copy - 1);
            return -1;
        }
        lua_rawset(L, copy);
        lua_pop(L, 1); /* the original value; the key stays for lua_next */
    }
    return 0;
}

static int transfer_between_heaps(lua_State *from, int index, lua_State *to, struct wippy_error *error)
{
    struct message *message = message_take(from, index, 0, error);
    if (message == NULL)
        return error->code;
    return message_push(to, message, error);
}

int transfer_value(lua_State *from, int index, lua_State *to, struct wippy_error *error)
{
    if (vm_heap_of(from) != vm_heap_of(to))
        return transfer_between_heaps(from, index, to, error);
    index = lua_absindex(from, index);
    int type = lua_type(from, index);
    if (type != LUA_TTABLE && type != LUA_TUSERDATA && type != LUA_TFUNCTION && type != LUA_TTHREAD) {
        lua_pushvalue(from, index);
    } else {
        lua_newtable(from);
        int seen = lua_gettop(from);
        if (copy_value(from, index, seen, 0, error) < 0) {
            lua_pop(from, 1);
            return error->code;
        }
        lua_remove(from, seen);
    }
    if (from != to)
        lua_xmove(from, to, 1);
    return 0;
}

void transfer_value_or_raise(lua_State *from, int index, lua_State *to)
{
    struct wippy_error error;
    if (transfer_value(from, index, to, &error) < 0)
        luaL_error(from, "%s", error.message);
}
