/* error_values.c - an error is a userdata whose private user value holds
 * its fields (message, kind, retryable, details, stack, frames); nothing
 * changes it once made, so it may cross to other processes as it is, and
 * to other heaps as a message of its fields. */
#include "lua/error_values.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"
#include "vm/message.h"
#include "vm/state.h"
#include "vm/transfer.h"

#define ERROR_TYPE "wippy.error"

/* The first frames of where the error was made: {source, line, name}. */
static void push_frames(lua_State *L)
{
    lua_newtable(L);
    lua_Debug frame;
    int count = 0;
    for (int level = 1; count < 16 && lua_getstack(L, level, &frame); level++) {
        if (!lua_getinfo(L, "Sln", &frame) || frame.currentline < 0)
            continue;
        lua_createtable(L, 0, 3);
        lua_pushstring(L, frame.short_src);
        lua_setfield(L, -2, "source");
        lua_pushinteger(L, frame.currentline);
        lua_setfield(L, -2, "line");
        if (frame.name != NULL) {
            lua_pushstring(L, frame.name);
            lua_setfield(L, -2, "name");
        }
        lua_rawseti(L, -2, ++count);
    }
}

static void push_fields(lua_State *L, const char *kind, int retryable, const char *message, size_t length)
{
    lua_createtable(L, 0, 6);
    int fields = lua_gettop(L);
    lua_pushlstring(L, message, length);
    lua_setfield(L, fields, "message");
    lua_pushstring(L, kind);
    lua_setfield(L, fields, "kind");
    if (retryable >= 0) {
        lua_pushboolean(L, retryable);
        lua_setfield(L, fields, "retryable");
    }
    luaL_traceback(L, L, message, 1);
    lua_setfield(L, fields, "stack");
    push_frames(L);
    lua_setfield(L, fields, "frames");
}

/* Wraps the fields table on top into a new error object. */
static void wrap_fields(lua_State *L)
{
    lua_newuserdatauv(L, 0, 1);
    lua_insert(L, -2);
    lua_setiuservalue(L, -2, 1);
    if (luaL_getmetatable(L, ERROR_TYPE) == LUA_TNIL) {
        lua_pop(L, 1);
        error_value_register(L);
        luaL_getmetatable(L, ERROR_TYPE);
    }
    lua_setmetatable(L, -2);
}

void error_value_push(lua_State *L, const char *kind, int retryable, const char *message)
{
    error_value_push_bytes(L, kind, retryable, message, strlen(message));
}

void error_value_push_bytes(lua_State *L, const char *kind, int retryable, const char *message, size_t length)
{
    luaL_checkstack(L, 8, "no room for an error");
    push_fields(L, kind, retryable, message, length);
    wrap_fields(L);
}

bool error_value_is(lua_State *L, int index)
{
    return luaL_testudata(L, index, ERROR_TYPE) != NULL;
}

const char *error_value_kind_of(int code, int *retryable)
{
    *retryable = 0;
    switch (code) {
    case WIPPY_EINVAL:
        return ERROR_KIND_INVALID;
    case WIPPY_ENOENT:
        return ERROR_KIND_NOT_FOUND;
    case WIPPY_EDENIED:
        return ERROR_KIND_PERMISSION_DENIED;
    case WIPPY_ETIMEDOUT:
        *retryable = 1;
        return ERROR_KIND_TIMEOUT;
    case WIPPY_EIO:
        *retryable = 1;
        return ERROR_KIND_UNAVAILABLE;
    case WIPPY_ENOMEM:
    case WIPPY_ESTATE:
        return ERROR_KIND_INTERNAL;
    default:
        *retryable = -1;
        return ERROR_KIND_UNKNOWN;
    }
}

void error_value_push_failure(lua_State *L, int code, const char *message, size_t length)
{
    int retryable = -1;
    const char *kind = code != 0 ? error_value_kind_of(code, &retryable) : ERROR_KIND_UNKNOWN;
    error_value_push_bytes(L, kind, retryable, message, length);
}

int error_value_fail(lua_State *L, const struct wippy_error *error)
{
    int retryable;
    const char *kind = error_value_kind_of(error->code, &retryable);
    lua_pushnil(L);
    error_value_push(L, kind, retryable, error->message);
    return 2;
}

int error_value_fail_with(lua_State *L, const char *kind, const char *format, ...)
{
    lua_pushnil(L);
    va_list args;
    va_start(args, format);
    const char *message = lua_pushvfstring(L, format, args);
    va_end(args);
    bool retryable = strcmp(kind, ERROR_KIND_TIMEOUT) == 0 || strcmp(kind, ERROR_KIND_UNAVAILABLE) == 0 ||
                     strcmp(kind, ERROR_KIND_RATE_LIMITED) == 0;
    error_value_push(L, kind, retryable, message);
    lua_remove(L, -2);
    return 2;
}

void error_value_from_top(lua_State *L, const char *kind)
{
    const char *message = lua_tostring(L, -1);
    error_value_push(L, kind, 0, message != NULL ? message : "(no message)");
    lua_remove(L, -2);
}

/* ---- methods ---- */

static void push_fields_of(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    luaL_checkudata(L, index, ERROR_TYPE);
    lua_getiuservalue(L, index, 1);
}

/* A copy of the fields of the error at 1, for a new error made from it. */
static void copy_fields(lua_State *L)
{
    push_fields_of(L, 1);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_remove(L, -2);
}

/* err:kind() reads it; err:kind(k) is a new error with that kind (and the
 * same for retryable and details), as Wippy's builder reads. */
static int field_or_builder(lua_State *L, const char *field)
{
    if (lua_gettop(L) < 2) {
        push_fields_of(L, 1);
        lua_getfield(L, -1, field);
        return 1;
    }
    copy_fields(L);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, field);
    wrap_fields(L);
    return 1;
}

static int error_kind(lua_State *L)
{
    if (lua_gettop(L) >= 2)
        luaL_checktype(L, 2, LUA_TSTRING);
    return field_or_builder(L, "kind");
}

static int error_retryable(lua_State *L)
{
    if (lua_gettop(L) >= 2)
        luaL_checktype(L, 2, LUA_TBOOLEAN);
    return field_or_builder(L, "retryable");
}

/* A copy of details, made as values cross between processes (cycles and
 * shared subtables kept, depth bounded, functions, coroutines and private
 * userdata refused), so nobody can change what others see through them,
 * and nothing that acts can travel in them. */
static void push_copy(lua_State *L, int index)
{
    struct wippy_error error;
    if (transfer_value(L, index, L, &error) < 0)
        luaL_error(L, "details: %s", error.message);
}

static int error_details(lua_State *L)
{
    if (lua_gettop(L) >= 2) {
        luaL_checktype(L, 2, LUA_TTABLE);
        copy_fields(L);
        push_copy(L, 2);
        lua_setfield(L, -2, "details");
        wrap_fields(L);
        return 1;
    }
    push_fields_of(L, 1);
    if (lua_getfield(L, -1, "details") != LUA_TTABLE)
        return 1;
    push_copy(L, -1);
    return 1;
}

static int error_message(lua_State *L)
{
    push_fields_of(L, 1);
    lua_getfield(L, -1, "message");
    return 1;
}

static int error_stack(lua_State *L)
{
    push_fields_of(L, 1);
    lua_getfield(L, -1, "stack");
    return 1;
}

static int error_tostring(lua_State *L)
{
    return error_message(L);
}

/* "a" .. err, err .. "b", err .. err: the messages. (Lua 5.4.4 as Debian
 * ships it broke the caller's frame when a __concat grew the stack: the
 * runtime builds Lua 5.4.8, and test_errors.py keeps the case.) */
static int error_concat(lua_State *L)
{
    luaL_tolstring(L, 1, NULL);
    luaL_tolstring(L, 2, NULL);
    lua_concat(L, 2);
    return 1;
}

/* ---- across heaps: the fields table as a message of its own ---- */

/* import takes the message out before pushing it (message_push frees it
 * whatever happens), so what release frees after a failed import is never
 * freed twice. */
struct exported_error {
    struct message *fields;
};

/* The error being exported on this thread and the errors in its details,
 * each one a message of its own: the bounds are for them all together, and
 * the nesting is bounded because each level rebuilds recursively. */
struct export_bounds {
    size_t room;
    int depth;
};

static _Thread_local struct export_bounds *exporting; /* NULL: none */

static struct message *too_large(struct wippy_error *error)
{
    error_set(error, WIPPY_ENOMEM, "an error with its details is larger than %d bytes",
              ERROR_VALUE_MAX_TRAVEL_BYTES);
    return NULL;
}

static struct message *take_fields(lua_State *L, int index, struct wippy_error *error)
{
    if (exporting->depth > ERROR_VALUE_MAX_NESTING) {
        error_set(error, WIPPY_EINVAL, "cannot pass more than %d errors nested in one another's details",
                  ERROR_VALUE_MAX_NESTING);
        return NULL;
    }
    if (exporting->room == 0) /* a message bound of 0 would mean none */
        return too_large(error);
    lua_getiuservalue(L, index, 1);
    struct message *fields = message_take(L, -1, exporting->room, error);
    lua_pop(L, 1);
    if (fields == NULL)
        return NULL;
    if (message_bytes(fields) > exporting->room) { /* errors in its details took room meanwhile */
        message_free(fields);
        return too_large(error);
    }
    exporting->room -= message_bytes(fields);
    return fields;
}

static int export_error(lua_State *L, int index, void **out, struct wippy_error *error)
{
    if (!lua_checkstack(L, 1))
        return error_set(error, WIPPY_ENOMEM, "out of Lua stack space for an error");
    struct export_bounds bounds = {.room = ERROR_VALUE_MAX_TRAVEL_BYTES};
    bool outermost = exporting == NULL;
    if (outermost)
        exporting = &bounds;
    exporting->depth++;
    struct message *fields = take_fields(L, lua_absindex(L, index), error);
    exporting->depth--;
    if (outermost)
        exporting = NULL;
    if (fields == NULL)
        return error->code;
    struct exported_error *exported = xmalloc(sizeof *exported);
    exported->fields = fields;
    *out = exported;
    return WIPPY_OK;
}

static int import_error(lua_State *L, void *exported, struct wippy_error *error)
{
    struct exported_error *holder = exported;
    struct message *fields = holder->fields;
    holder->fields = NULL;
    if (message_push(L, fields, error) < 0)
        return error->code;
    wrap_fields(L);
    free(holder);
    return WIPPY_OK;
}

static void release_error(void *exported)
{
    struct exported_error *holder = exported;
    message_free(holder->fields);
    free(holder);
}

static size_t error_bytes(const void *exported)
{
    const struct exported_error *holder = exported;
    return sizeof *holder + message_held_bytes(holder->fields);
}

static const struct state_transport error_transport = {ERROR_TYPE, export_error, import_error, release_error, false,
                                                       error_bytes};

/* string.find(err, ...) and the like: where the string library expects a
 * string, an error object stands for its message (Wippy's Lua lets code
 * treat an error as its text, and tostring and .. already do). */
static int string_function_taking_errors(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TUSERDATA && error_value_is(L, 1)) {
        luaL_tolstring(L, 1, NULL);
        lua_replace(L, 1);
    }
    lua_CFunction original = lua_tocfunction(L, lua_upvalueindex(1));
    return original(L);
}

static void let_string_functions_take_errors(lua_State *L)
{
    static const char *const names[] = {"byte", "find", "gmatch", "gsub", "len", "lower", "match",
                                        "rep", "reverse", "sub", "upper", NULL};
    if (lua_getglobal(L, "string") != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    for (const char *const *name = names; *name != NULL; name++) {
        lua_getfield(L, -1, *name);
        bool original = lua_tocfunction(L, -1) != NULL && lua_tocfunction(L, -1) != string_function_taking_errors;
        if (!original) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushcclosure(L, string_function_taking_errors, 1);
        lua_setfield(L, -2, *name);
    }
    lua_pop(L, 1);
}

void error_value_register(lua_State *L)
{
    let_string_functions_take_errors(L);
    static const luaL_Reg methods[] = {
        {"kind", error_kind},
        {"retryable", error_retryable},
        {"details", error_details},
        {"message", error_message},
        {"stack", error_stack},
        {NULL, NULL},
    };
    state_new_type(L, ERROR_TYPE, methods, STATE_SHARED, NULL);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, error_concat);
    lua_setfield(L, -2, "__concat");
    lua_pushliteral(L, "error");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    state_set_transport(L, ERROR_TYPE, &error_transport);
}

void error_value_add_context(lua_State *L, int index, const char *context)
{
    index = lua_absindex(L, index);
    push_fields_of(L, index);
    lua_getfield(L, -1, "stack");
    lua_pushfstring(L, "%s: %s", context, lua_tostring(L, -1));
    lua_setfield(L, -3, "stack");
    lua_pop(L, 2);
}

void error_value_push_call_stack(lua_State *L, int index)
{
    push_fields_of(L, index);
    lua_createtable(L, 0, 1);
    lua_getfield(L, -2, "frames");
    push_copy(L, -1);
    lua_remove(L, -2);
    lua_setfield(L, -2, "frames");
    lua_remove(L, -2);
}
