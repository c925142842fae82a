/* mod_payload.c - the payload module as Go Wippy's: a Payload holds a value
 * in a format (a Lua value, an error, or text in JSON, YAML, plain text or
 * bytes), hands it back with data(), and transcodes between the formats.
 * Results of funcs.async arrive as payloads. A payload crossing to another
 * process is copied, even within one heap (its value is mutable). */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "lua/error_values.h"
#include "lua/modules.h"
#include "util/memory.h"
#include "vm/message.h"
#include "vm/state.h"

#define PAYLOAD_TYPE "wippy.payload"

static const char FORMAT_JSON[] = "json/plain";
static const char FORMAT_YAML[] = "yaml/plain";
static const char FORMAT_STRING[] = "text/plain";
static const char FORMAT_BYTES[] = "application/octet-stream";
static const char FORMAT_MSGPACK[] = "application/msgpack";
static const char FORMAT_LUA[] = "lua/any";
static const char FORMAT_GOLANG[] = "golang/any";
static const char FORMAT_ERROR[] = "golang/error";

static const char *const formats[] = {FORMAT_JSON, FORMAT_YAML, FORMAT_STRING, FORMAT_BYTES, FORMAT_MSGPACK,
                                      FORMAT_LUA, FORMAT_GOLANG, FORMAT_ERROR, NULL};

/* The userdata: its format (one of the constants above); the value is its
 * user value. */
struct payload {
    const char *format;
};

static const char *known_format(const char *name)
{
    for (const char *const *format = formats; *format != NULL; format++)
        if (strcmp(*format, name) == 0)
            return *format;
    return NULL;
}

/* Pushes a payload of format holding the value on top of L (popped). */
static void push_payload_of(lua_State *L, const char *format)
{
    struct payload *payload = lua_newuserdatauv(L, sizeof *payload, 1);
    payload->format = format;
    luaL_setmetatable(L, PAYLOAD_TYPE);
    lua_insert(L, -2);
    lua_setiuservalue(L, -2, 1);
}

void payload_push(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    lua_pushvalue(L, index);
    push_payload_of(L, error_value_is(L, index) ? FORMAT_ERROR : FORMAT_LUA);
}

static struct payload *check_payload(lua_State *L, int index)
{
    return luaL_checkudata(L, index, PAYLOAD_TYPE);
}

static int payload_new(lua_State *L)
{
    lua_settop(L, 1);
    payload_push(L, 1);
    return 1;
}

static int payload_get_format(lua_State *L)
{
    lua_pushstring(L, check_payload(L, 1)->format);
    return 1;
}

static int fail(lua_State *L, const char *format, const char *from, const char *to)
{
    return error_value_fail_with(L, ERROR_KIND_INTERNAL, format, from, to);
}

/* Pushes the payload at 1 as a Lua value; false (with nil, err pushed)
 * when its text cannot be read. */
static bool push_as_lua(lua_State *L, const struct payload *payload)
{
    lua_getiuservalue(L, 1, 1);
    size_t length;
    if (payload->format == FORMAT_JSON) {
        const char *text = lua_tolstring(L, -1, &length);
        if (!mod_json_decode(L, text, length)) {
            error_value_from_top(L, ERROR_KIND_INTERNAL);
            lua_pushnil(L);
            lua_insert(L, -2);
            return false;
        }
        lua_remove(L, -2);
    } else if (payload->format == FORMAT_YAML) {
        const char *text = lua_tolstring(L, -1, &length);
        if (!mod_yaml_decode(L, text, length)) {
            error_value_from_top(L, ERROR_KIND_INTERNAL);
            lua_pushnil(L);
            lua_insert(L, -2);
            return false;
        }
        lua_remove(L, -2);
    }
    return true;
}

static int payload_data(lua_State *L)
{
    struct payload *payload = check_payload(L, 1);
    if (!push_as_lua(L, payload))
        return 2;
    return 1;
}

/* Pushes the payload at 1 as text of format; false (nil, err pushed) when
 * it cannot be. */
static bool push_as_text(lua_State *L, const struct payload *payload, const char *format)
{
    if (!push_as_lua(L, payload))
        return false;
    int value = lua_gettop(L);
    bool ok;
    if (format == FORMAT_JSON) {
        ok = mod_json_encode(L, value);
    } else if (format == FORMAT_YAML) {
        ok = mod_yaml_encode(L, value);
    } else if (lua_type(L, value) == LUA_TSTRING) {
        lua_pushvalue(L, value);
        ok = true;
    } else {
        lua_pushfstring(L, "payload: cannot transcode a %s value to %s", luaL_typename(L, value), format);
        ok = false;
    }
    lua_remove(L, value);
    if (!ok) {
        error_value_from_top(L, ERROR_KIND_INTERNAL);
        lua_pushnil(L);
        lua_insert(L, -2);
    }
    return ok;
}

static int payload_transcode(lua_State *L)
{
    struct payload *payload = check_payload(L, 1);
    const char *format = known_format(luaL_checkstring(L, 2));
    if (format == NULL || format == FORMAT_MSGPACK || format == FORMAT_GOLANG)
        return fail(L, "payload: cannot transcode %s to %s", payload->format, luaL_checkstring(L, 2));
    if (format == payload->format) {
        lua_pushvalue(L, 1);
        return 1;
    }
    if (format == FORMAT_ERROR || payload->format == FORMAT_ERROR)
        return fail(L, "payload: cannot transcode %s to %s", payload->format, format);
    if (format == FORMAT_LUA) {
        if (!push_as_lua(L, payload))
            return 2;
    } else if (!push_as_text(L, payload, format)) {
        return 2;
    }
    push_payload_of(L, format);
    return 1;
}

static int payload_tostring(lua_State *L)
{
    lua_pushfstring(L, "payload{format=%s}", check_payload(L, 1)->format);
    return 1;
}

/* ---- across processes: a copy of the value ---- */

struct exported_payload {
    const char *format;
    struct message *value;
};

/* Payloads inside payloads: each level exports a message of its own, and
 * importing takes about twice the C stack exporting did, so the depth is
 * bounded where the export starts. */
#define PAYLOAD_MAX_NESTING 16
static _Thread_local int export_depth;

static int export_payload(lua_State *L, int index, void **out, struct wippy_error *error)
{
    if (export_depth >= PAYLOAD_MAX_NESTING)
        return error_set(error, WIPPY_EINVAL, "cannot pass payloads nested more than %d deep", PAYLOAD_MAX_NESTING);
    const struct payload *payload = lua_touserdata(L, index);
    lua_getiuservalue(L, index, 1);
    export_depth++;
    struct message *value = message_take(L, -1, 0, error);
    export_depth--;
    lua_pop(L, 1);
    if (value == NULL)
        return error->code;
    struct exported_payload *exported = xmalloc(sizeof *exported);
    *exported = (struct exported_payload){payload->format, value};
    *out = exported;
    return WIPPY_OK;
}

static void release_payload(void *exported)
{
    struct exported_payload *payload = exported;
    message_free(payload->value); /* NULL once an import rebuilt it */
    free(payload);
}

/* The holder stays the message's to release until the payload stands: the
 * value is rebuilt first (message_push frees it either way), then the
 * userdata is made (which may raise), then the holder is freed. */
static int import_payload(lua_State *L, void *exported, struct wippy_error *error)
{
    struct exported_payload *payload = exported;
    struct message *value = payload->value;
    payload->value = NULL;
    if (message_push(L, value, error) < 0)
        return error->code;
    push_payload_of(L, payload->format);
    free(payload);
    return WIPPY_OK;
}

static size_t payload_bytes(const void *exported)
{
    const struct exported_payload *payload = exported;
    return sizeof *payload + message_held_bytes(payload->value);
}

static const struct state_transport payload_transport = {PAYLOAD_TYPE, export_payload, import_payload,
                                                         release_payload, true, payload_bytes};

void payload_register(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"get_format", payload_get_format},
        {"data", payload_data},
        {"unmarshal", payload_data},
        {"transcode", payload_transcode},
        {"tostring", payload_tostring},
        {NULL, NULL},
    };
    state_new_type(L, PAYLOAD_TYPE, methods, STATE_SHARED, NULL);
    lua_pushcfunction(L, payload_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    state_set_transport(L, PAYLOAD_TYPE, &payload_transport);
}

int mod_payload_open(lua_State *L, void *context)
{
    payload_register(L);
    static const luaL_Reg functions[] = {
        {"new", payload_new},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    static const struct {
        const char *name;
        const char *format;
    } constants[] = {
        {"JSON", FORMAT_JSON}, {"YAML", FORMAT_YAML}, {"STRING", FORMAT_STRING}, {"BYTES", FORMAT_BYTES},
        {"MSGPACK", FORMAT_MSGPACK}, {"LUA", FORMAT_LUA}, {"GOLANG", FORMAT_GOLANG}, {"ERROR", FORMAT_ERROR},
    };
    lua_createtable(L, 0, 8);
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
        lua_pushstring(L, constants[i].format);
        lua_setfield(L, -2, constants[i].name);
    }
    state_make_read_only(L); /* every task of a heap reads the same table */
    lua_setfield(L, -2, "format");
    (void)context;
    return 1;
}
