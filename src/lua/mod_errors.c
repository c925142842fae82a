/* mod_errors.c - the errors global as Wippy's: errors.new(message or
 * {message, kind, retryable, details}), errors.wrap(err, context),
 * errors.is(err, kind), errors.call_stack(err) and the kind constants. */
#include <lauxlib.h>
#include <string.h>

#include "lua/error_values.h"
#include "lua/modules.h"
#include "util/suggest.h"

static bool empty_table(lua_State *L, int index)
{
    lua_pushnil(L);
    if (lua_next(L, index) == 0)
        return true;
    lua_pop(L, 2);
    return false;
}

/* Pushes err:method() for the error at index. */
static void call_method(lua_State *L, int index, const char *method)
{
    index = lua_absindex(L, index);
    lua_getfield(L, index, method);
    lua_pushvalue(L, index);
    lua_call(L, 1, 1);
}

/* Replaces the error on top with err:details(<the table at details>),
 * through the builder, which keeps its own copy. */
static void with_details(lua_State *L, int details)
{
    details = lua_absindex(L, details);
    lua_getfield(L, -1, "details");
    lua_insert(L, -2);
    lua_pushvalue(L, details);
    lua_call(L, 2, 1);
}

static int errors_new(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t length;
        const char *message = lua_tolstring(L, 1, &length);
        error_value_push_bytes(L, ERROR_KIND_UNKNOWN, -1, message, length);
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    /* a misspelt field would be lost without a word: refused */
    static const char *const fields[] = {"message", "kind", "retryable", "details", NULL};
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        lua_pop(L, 1);
        const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        bool known = false;
        for (const char *const *field = fields; name != NULL && *field != NULL; field++)
            known = known || strcmp(name, *field) == 0;
        if (!known) {
            const char *near = name != NULL ? suggest_closest(name, fields) : NULL;
            return luaL_error(L, "errors.new: unknown field %s%s%s%s", name != NULL ? "\"" : "a non-string key",
                              name != NULL ? name : "", name != NULL ? "\"" : "",
                              near != NULL ? lua_pushfstring(L, " (did you mean \"%s\"?)", near) : "");
        }
    }
    lua_getfield(L, 1, "message");
    size_t message_length = 0;
    const char *message = luaL_optlstring(L, -1, "", &message_length);
    lua_getfield(L, 1, "kind");
    const char *kind = luaL_optstring(L, -1, ERROR_KIND_UNKNOWN);
    lua_getfield(L, 1, "retryable");
    if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
        return luaL_error(L, "errors.new: retryable must be a boolean");
    int retryable = lua_isnil(L, -1) ? -1 : lua_toboolean(L, -1);
    error_value_push_bytes(L, kind, retryable, message, message_length);
    if (lua_getfield(L, 1, "details") == LUA_TTABLE && !empty_table(L, lua_gettop(L))) {
        lua_insert(L, -2);
        with_details(L, -2);
    } else {
        lua_pop(L, 1);
    }
    return 1;
}

/* A new error with the wrapped one's kind, retryable, message and details;
 * the context goes in front of its stack. A string wraps as a message. */
static int errors_wrap(lua_State *L)
{
    const char *context = luaL_optstring(L, 2, "");
    if (!error_value_is(L, 1)) {
        const char *message = luaL_tolstring(L, 1, NULL);
        error_value_push(L, ERROR_KIND_UNKNOWN, -1, message);
        return 1;
    }
    call_method(L, 1, "message");
    call_method(L, 1, "kind");
    call_method(L, 1, "retryable");
    int retryable = lua_isnil(L, -1) ? -1 : lua_toboolean(L, -1);
    size_t length;
    const char *message = lua_tolstring(L, -3, &length);
    error_value_push_bytes(L, lua_tostring(L, -2), retryable, message, length);
    error_value_add_context(L, -1, context);
    call_method(L, 1, "details");
    if (lua_istable(L, -1)) {
        lua_insert(L, -2);
        with_details(L, -2);
    } else {
        lua_pop(L, 1);
    }
    return 1;
}

static int errors_is(lua_State *L)
{
    const char *kind = luaL_checkstring(L, 2);
    if (!error_value_is(L, 1)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    call_method(L, 1, "kind");
    lua_pushboolean(L, lua_tostring(L, -1) != NULL && strcmp(lua_tostring(L, -1), kind) == 0);
    return 1;
}

static int errors_call_stack(lua_State *L)
{
    if (!error_value_is(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    error_value_push_call_stack(L, 1);
    return 1;
}

int mod_errors_open(lua_State *L, void *context)
{
    error_value_register(L);
    static const luaL_Reg functions[] = {
        {"new", errors_new},
        {"wrap", errors_wrap},
        {"is", errors_is},
        {"call_stack", errors_call_stack},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    static const struct {
        const char *name;
        const char *kind;
    } kinds[] = {
        {"UNKNOWN", ERROR_KIND_UNKNOWN},
        {"NOT_FOUND", ERROR_KIND_NOT_FOUND},
        {"ALREADY_EXISTS", ERROR_KIND_ALREADY_EXISTS},
        {"INVALID", ERROR_KIND_INVALID},
        {"PERMISSION_DENIED", ERROR_KIND_PERMISSION_DENIED},
        {"UNAVAILABLE", ERROR_KIND_UNAVAILABLE},
        {"INTERNAL", ERROR_KIND_INTERNAL},
        {"CANCELED", ERROR_KIND_CANCELED},
        {"CONFLICT", ERROR_KIND_CONFLICT},
        {"TIMEOUT", ERROR_KIND_TIMEOUT},
        {"RATE_LIMITED", ERROR_KIND_RATE_LIMITED},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        lua_pushstring(L, kinds[i].kind);
        lua_setfield(L, -2, kinds[i].name);
    }
    return 1;
}
