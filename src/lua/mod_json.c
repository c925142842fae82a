/* mod_json.c - the json module: encode(value) -> text | nil, err (written
 * by lua/json_encode.c) and decode(text) -> value | nil, err on jansson;
 * validate(schema, data) and validate_string(schema, text) -> true | false,
 * err against a JSON Schema (util/json_schema.h), with Lua values turned
 * into jansson values by the rules encode follows. Errors are returned,
 * never raised. */
#include <jansson.h>
#include <lauxlib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/error_values.h"
#include "lua/json_encode.h"
#include "lua/modules.h"
#include "util/json_schema.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"

/* A Lua value as a jansson value, for json.validate: the rules of
 * json.encode (lua/json_encode.c) with the same errors. */
struct conversion {
    char message[256];
    size_t values;
    bool empty_table_is_object; /* json.validate's data, as Go Wippy converts it */
};

static json_t *convert_value(lua_State *L, int index, int depth, struct conversion *error);
static void decode_push(lua_State *L, json_t *value);

static json_t *convert_table(lua_State *L, int index, int depth, struct conversion *error)
{
    if (depth >= JSON_ENCODE_MAX_DEPTH) {
        snprintf(error->message, sizeof error->message, "nesting deeper than %d levels (or a cycle)",
                 JSON_ENCODE_MAX_DEPTH);
        return NULL;
    }
    if (!lua_checkstack(L, 6)) {
        snprintf(error->message, sizeof error->message, "out of stack space");
        return NULL;
    }
    lua_Integer kind = json_encode_table_kind(L, index);
    if (kind == -2) {
        snprintf(error->message, sizeof error->message,
                 "cannot encode a table with mixed or sparse keys");
        return NULL;
    }
    if (kind == 0 && error->empty_table_is_object)
        return json_object();
    if (kind >= 0) {
        json_t *array = json_array();
        for (lua_Integer i = 1; i <= kind; i++) {
            lua_rawgeti(L, index, i);
            json_t *item = convert_value(L, lua_gettop(L), depth + 1, error);
            lua_pop(L, 1);
            if (item == NULL) {
                json_decref(array);
                return NULL;
            }
            json_array_append_new(array, item);
        }
        return array;
    }
    json_t *object = json_object();
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        size_t length;
        const char *key = lua_tolstring(L, -2, &length);
        json_t *item = convert_value(L, lua_gettop(L), depth + 1, error);
        lua_pop(L, 1);
        if (item == NULL || json_object_setn_new(object, key, length, item) != 0) {
            if (item != NULL)
                snprintf(error->message, sizeof error->message, "key is not valid UTF-8");
            lua_pop(L, 1); /* the key lua_next left */
            json_decref(object);
            return NULL;
        }
    }
    return object;
}

static json_t *convert_value(lua_State *L, int index, int depth, struct conversion *error)
{
    if (++error->values > JSON_ENCODE_MAX_VALUES) {
        snprintf(error->message, sizeof error->message, "more than %d values", JSON_ENCODE_MAX_VALUES);
        return NULL;
    }
    switch (lua_type(L, index)) {
    case LUA_TNIL:
        return json_null();
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, index));
    case LUA_TNUMBER: {
        if (lua_isinteger(L, index))
            return json_integer(lua_tointeger(L, index));
        double number = lua_tonumber(L, index);
        if (!isfinite(number))
            return json_null();
        if (number == floor(number) && fabs(number) < 9e15)
            return json_integer((json_int_t)number);
        return json_real(number);
    }
    case LUA_TSTRING: {
        size_t length;
        const char *text = lua_tolstring(L, index, &length);
        json_t *string = json_stringn(text, length);
        if (string == NULL)
            snprintf(error->message, sizeof error->message, "string is not valid UTF-8");
        return string;
    }
    case LUA_TTABLE:
        return convert_table(L, index, depth, error);
    case LUA_TUSERDATA:
        if (error_value_is(L, index)) { /* an error is its message, as Go Wippy encodes it */
            size_t length;
            const char *message = luaL_tolstring(L, index, &length);
            json_t *string = json_stringn(message, length);
            lua_pop(L, 1);
            if (string == NULL)
                snprintf(error->message, sizeof error->message, "an error's message is not valid UTF-8");
            return string;
        }
        /* fall through */
    default:
        snprintf(error->message, sizeof error->message, "cannot encode a %s",
                 luaL_typename(L, index));
        return NULL;
    }
}

bool mod_json_decode(lua_State *L, const char *text, size_t length)
{
    json_error_t error;
    json_t *root = json_loadb(text, length, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (root == NULL) {
        lua_pushfstring(L, "json.decode: %s at line %d, column %d", error.text, error.line,
                        error.column);
        return false;
    }
    decode_push(L, root);
    json_decref(root);
    return true;
}

static int json_encode_lua(lua_State *L)
{
    lua_settop(L, 1);
    if (!mod_json_encode(L, 1)) {
        error_value_from_top(L, ERROR_KIND_INTERNAL); /* Go Wippy's kind for what cannot be encoded */
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

static void decode_push(lua_State *L, json_t *value)
{
    luaL_checkstack(L, 4, "json.decode");
    switch (json_typeof(value)) {
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(value));
        const char *key;
        size_t key_length;
        json_t *item;
        json_object_keylen_foreach(value, key, key_length, item) {
            lua_pushlstring(L, key, key_length);
            decode_push(L, item);
            lua_rawset(L, -3);
        }
        break;
    }
    case JSON_ARRAY: {
        lua_createtable(L, (int)json_array_size(value), 0);
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) {
            decode_push(L, item);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(value), json_string_length(value));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, json_integer_value(value));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(value));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_NULL:
        lua_pushnil(L);
        break;
    }
}

static int json_decode_lua(lua_State *L)
{
    size_t length;
    const char *text = lua_tolstring(L, 1, &length);
    if (text == NULL) {
        return error_value_fail_with(L, ERROR_KIND_INVALID, "json.decode: expected a string, got %s", luaL_typename(L, 1));
    }
    if (!mod_json_decode(L, text, length)) {
        /* Go Wippy: an empty text is Invalid, malformed JSON Internal */
        error_value_from_top(L, length == 0 ? ERROR_KIND_INVALID : ERROR_KIND_INTERNAL);
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

/* Pushes false and an Invalid error that may not be retried: what
 * json.validate returns for every failure, as Go Wippy's does. */
static int validation_failure(lua_State *L, const char *format, ...) __attribute__((format(printf, 2, 3)));
static int validation_failure(lua_State *L, const char *format, ...)
{
    char message[WIPPY_ERROR_MESSAGE_SIZE + 64];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    lua_pushboolean(L, 0);
    error_value_push(L, ERROR_KIND_INVALID, 0, message);
    return 2;
}

static json_t *parse(const char *text, size_t length, char *message, size_t size)
{
    json_error_t error;
    json_t *value = json_loadb(text, length, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (value == NULL)
        snprintf(message, size, "%s at line %d, column %d", error.text, error.line, error.column);
    return value;
}

/* The schema argument (index 1) compiled, or NULL with false and the error
 * pushed. A table is encoded as json.encode does; an empty one, written [],
 * stands for {} where the schema expects an object. */
static struct json_schema *schema_argument(lua_State *L)
{
    struct conversion encoding = {{0}, 0, false};
    json_t *document = NULL;
    unsigned flags = 0;
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t length;
        const char *text = lua_tolstring(L, 1, &length);
        document = parse(text, length, encoding.message, sizeof encoding.message);
        if (document == NULL) {
            validation_failure(L, "compile schema: not JSON: %s", encoding.message);
            return NULL;
        }
    } else if (lua_type(L, 1) == LUA_TTABLE) {
        document = convert_value(L, 1, 0, &encoding);
        flags = JSON_SCHEMA_EMPTY_ARRAY_AS_OBJECT;
        if (document == NULL) {
            validation_failure(L, "schema error: %s", encoding.message);
            return NULL;
        }
    } else {
        validation_failure(L, "schema error: schema must be a string or table");
        return NULL;
    }
    struct json_schema *schema = NULL;
    struct wippy_error error;
    int rc = json_schema_compile(document, flags, &schema, &error);
    json_decref(document);
    if (rc != 0)
        validation_failure(L, "compile schema: %s", error.message);
    return schema;
}

static int validate_against(lua_State *L, struct json_schema *schema, json_t *instance)
{
    struct wippy_error error;
    int rc = json_schema_validate(schema, instance, &error);
    json_schema_free(schema);
    json_decref(instance);
    if (rc == WIPPY_EINVAL)
        return validation_failure(L, "validation failed: %s", error.message);
    if (rc != 0)
        return validation_failure(L, "validation stopped: %s", error.message);
    lua_pushboolean(L, 1);
    return 1;
}

/* The data is converted as Go Wippy converts it: a table that is no
 * sequence (a record, or empty) with every empty table in it an object,
 * anything else as json.encode writes it (an empty table an array). */
static int json_validate_lua(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_isnil(L, 1))
        return validation_failure(L, "schema is required");
    if (lua_isnil(L, 2))
        return validation_failure(L, "data is required");
    struct json_schema *schema = schema_argument(L);
    if (schema == NULL)
        return 2;
    struct conversion encoding = {{0}, 0, false};
    encoding.empty_table_is_object = lua_type(L, 2) == LUA_TTABLE && json_encode_table_kind(L, 2) <= 0;
    json_t *instance = convert_value(L, 2, 0, &encoding);
    if (instance == NULL) {
        json_schema_free(schema);
        return validation_failure(L, "convert data: %s", encoding.message);
    }
    return validate_against(L, schema, instance);
}

static int json_validate_string_lua(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_isnil(L, 1))
        return validation_failure(L, "schema is required");
    if (lua_type(L, 2) != LUA_TSTRING)
        return validation_failure(L, "data must be a JSON string");
    struct json_schema *schema = schema_argument(L);
    if (schema == NULL)
        return 2;
    size_t length;
    const char *text = lua_tolstring(L, 2, &length);
    char message[256];
    json_t *instance = parse(text, length, message, sizeof message);
    if (instance == NULL) {
        json_schema_free(schema);
        return validation_failure(L, "validation failed: data is not JSON: %s", message);
    }
    return validate_against(L, schema, instance);
}

int mod_json_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"encode", json_encode_lua},
        {"decode", json_decode_lua},
        {"validate", json_validate_lua},
        {"validate_string", json_validate_string_lua},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
