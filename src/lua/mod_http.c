/* mod_http.c - the http module inside endpoint handlers: http.request()
 * and http.response() for the request this handler call answers. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/routes.h"
#include "http/server.h"
#include "lua/error_values.h"
#include "lua/modules.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"
#include "util/memory.h"

#define REQUEST_TYPE "wippy.http.request"
#define RESPONSE_TYPE "wippy.http.response"

/* A request or response object remembers its exchange; it is usable only
 * while the handler call that got it is answering that exchange. */
const char mod_http_exchange_kind = 'h';

static struct http_exchange *exchange_of(struct task *task)
{
    return task_attachment(task, &mod_http_exchange_kind);
}

static struct http_exchange *check_exchange(lua_State *L, const char *type)
{
    struct http_exchange **slot = luaL_checkudata(L, 1, type);
    struct http_exchange *exchange = exchange_of(task_current(L));
    if (exchange == NULL || exchange != *slot)
        luaL_error(L, "this HTTP request has already been answered");
    return *slot;
}

static struct http_exchange *current_exchange(lua_State *L)
{
    struct http_exchange *exchange = exchange_of(task_current(L));
    if (exchange == NULL)
        luaL_error(L, "http.request() and http.response() work only inside an http.endpoint handler");
    return exchange;
}

static int push_object(lua_State *L, const char *type)
{
    struct http_exchange **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = current_exchange(L);
    luaL_setmetatable(L, type);
    return 1;
}

static int http_request(lua_State *L) { return push_object(L, REQUEST_TYPE); }
static int http_response(lua_State *L) { return push_object(L, RESPONSE_TYPE); }

/* ---- request ---- */

static int request_method(lua_State *L)
{
    lua_pushstring(L, http_exchange_method(check_exchange(L, REQUEST_TYPE)));
    return 1;
}

static int request_path(lua_State *L)
{
    lua_pushstring(L, http_exchange_path(check_exchange(L, REQUEST_TYPE)));
    return 1;
}

/* Calls visit(name, value) for each decoded pair of the query string. */
static void each_query_pair(const char *query, void (*visit)(lua_State *, const char *, const char *, void *),
                            lua_State *L, void *context)
{
    const char *cursor = query;
    while (*cursor != '\0') {
        const char *end = strchr(cursor, '&');
        size_t length = end != NULL ? (size_t)(end - cursor) : strlen(cursor);
        const char *equals = memchr(cursor, '=', length);
        size_t name_length = equals != NULL ? (size_t)(equals - cursor) : length;
        char *name = http_percent_decode(cursor, name_length, true);
        char *value = equals != NULL ? http_percent_decode(equals + 1, length - name_length - 1, true)
                                     : xstrdup("");
        visit(L, name, value, context);
        free(name);
        free(value);
        cursor += length;
        if (*cursor == '&')
            cursor++;
    }
}

static void find_query_value(lua_State *L, const char *name, const char *value, void *context)
{
    if (lua_isnil(L, -1) && strcmp(name, (const char *)context) == 0) {
        lua_pop(L, 1);
        lua_pushstring(L, value);
    }
}

static int request_query(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, REQUEST_TYPE);
    const char *name = luaL_checkstring(L, 2);
    lua_pushnil(L);
    each_query_pair(http_exchange_query(exchange), find_query_value, L, (void *)name);
    return 1;
}

static void collect_query_value(lua_State *L, const char *name, const char *value, void *context)
{
    if (lua_getfield(L, -1, name) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushstring(L, value);
        lua_setfield(L, -2, name);
    } else {
        lua_pop(L, 1);
    }
}

static int request_query_params(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, REQUEST_TYPE);
    lua_newtable(L);
    each_query_pair(http_exchange_query(exchange), collect_query_value, L, NULL);
    return 1;
}

static int request_header(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, REQUEST_TYPE);
    const char *value = http_exchange_header(exchange, luaL_checkstring(L, 2));
    if (value == NULL)
        lua_pushnil(L);
    else
        lua_pushstring(L, value);
    return 1;
}

static int request_headers(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, REQUEST_TYPE);
    lua_newtable(L);
    for (size_t i = 0; i < http_exchange_header_count(exchange); i++) {
        const char *name, *value;
        http_exchange_header_at(exchange, i, &name, &value);
        lua_pushstring(L, value);
        lua_setfield(L, -2, name);
    }
    return 1;
}

static int push_header(lua_State *L, const char *name)
{
    const char *value = http_exchange_header(check_exchange(L, REQUEST_TYPE), name);
    if (value == NULL)
        lua_pushnil(L);
    else
        lua_pushstring(L, value);
    return 1;
}

static int request_content_type(lua_State *L) { return push_header(L, "Content-Type"); }
static int request_host(lua_State *L) { return push_header(L, "Host"); }

static int request_content_length(lua_State *L)
{
    size_t length;
    http_exchange_body(check_exchange(L, REQUEST_TYPE), &length);
    lua_pushinteger(L, (lua_Integer)length);
    return 1;
}

static int request_is_content_type(lua_State *L)
{
    const char *wanted = luaL_checkstring(L, 2);
    const char *actual = http_exchange_header(check_exchange(L, REQUEST_TYPE), "Content-Type");
    lua_pushboolean(L, actual != NULL && strncasecmp(actual, wanted, strlen(wanted)) == 0);
    return 1;
}

static int request_accepts(lua_State *L)
{
    const char *wanted = luaL_checkstring(L, 2);
    const char *accept = http_exchange_header(check_exchange(L, REQUEST_TYPE), "Accept");
    lua_pushboolean(L, accept == NULL || strstr(accept, wanted) != NULL || strstr(accept, "*/*") != NULL);
    return 1;
}

static int request_param(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, REQUEST_TYPE);
    const char *name = luaL_checkstring(L, 2);
    for (size_t i = 0; i < http_exchange_param_count(exchange); i++) {
        const struct http_param *param = http_exchange_param_at(exchange, i);
        if (strcmp(param->name, name) == 0) {
            lua_pushstring(L, param->value);
            return 1;
        }
    }
    lua_pushnil(L);
    return 1;
}

static int request_params(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, REQUEST_TYPE);
    lua_newtable(L);
    for (size_t i = 0; i < http_exchange_param_count(exchange); i++) {
        const struct http_param *param = http_exchange_param_at(exchange, i);
        lua_pushstring(L, param->value);
        lua_setfield(L, -2, param->name);
    }
    return 1;
}

static int request_body(lua_State *L)
{
    size_t length;
    const char *body = http_exchange_body(check_exchange(L, REQUEST_TYPE), &length);
    lua_pushlstring(L, body, length);
    return 1;
}

static int request_has_body(lua_State *L)
{
    size_t length;
    http_exchange_body(check_exchange(L, REQUEST_TYPE), &length);
    lua_pushboolean(L, length > 0);
    return 1;
}

static int request_body_json(lua_State *L)
{
    size_t length;
    const char *body = http_exchange_body(check_exchange(L, REQUEST_TYPE), &length);
    if (!mod_json_decode(L, body, length)) {
        error_value_from_top(L, ERROR_KIND_INVALID);
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

static int request_remote_addr(lua_State *L)
{
    lua_pushstring(L, http_exchange_remote_address(check_exchange(L, REQUEST_TYPE)));
    return 1;
}

/* ---- response ---- */

static int response_set_status(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, RESPONSE_TYPE);
    lua_Integer status = luaL_checkinteger(L, 2);
    luaL_argcheck(L, status >= 100 && status <= 999, 2, "HTTP status out of range");
    http_exchange_set_status(exchange, (int)status);
    return 0;
}

static int response_set_header(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, RESPONSE_TYPE);
    const char *name = luaL_checkstring(L, 2);
    const char *value = luaL_checkstring(L, 3);
    if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
        return luaL_error(L, "header names and values must not contain line breaks");
    http_exchange_set_header(exchange, name, value);
    return 0;
}

static int response_set_content_type(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, RESPONSE_TYPE);
    http_exchange_set_header(exchange, "Content-Type", luaL_checkstring(L, 2));
    return 0;
}

static int response_write(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, RESPONSE_TYPE);
    int count = lua_gettop(L);
    for (int i = 2; i <= count; i++) {
        size_t length;
        const char *data = luaL_checklstring(L, i, &length);
        http_exchange_write(exchange, data, length);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int response_write_json(lua_State *L)
{
    struct http_exchange *exchange = check_exchange(L, RESPONSE_TYPE);
    lua_settop(L, 2);
    if (!mod_json_encode(L, 2)) {
        error_value_from_top(L, ERROR_KIND_INVALID);
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    size_t length;
    const char *text = lua_tolstring(L, -1, &length);
    http_exchange_set_header(exchange, "Content-Type", "application/json");
    http_exchange_write(exchange, text, length);
    lua_pushboolean(L, 1);
    return 1;
}

static void set_constants(lua_State *L, const char *table, const char *const *names,
                          const char *const *values)
{
    lua_newtable(L);
    for (size_t i = 0; names[i] != NULL; i++) {
        lua_pushstring(L, values[i]);
        lua_setfield(L, -2, names[i]);
    }
    state_make_read_only(L);
    lua_setfield(L, -2, table);
}

int mod_http_open(lua_State *L, void *context)
{
    static const luaL_Reg request_methods[] = {
        {"method", request_method},
        {"path", request_path},
        {"query", request_query},
        {"query_params", request_query_params},
        {"header", request_header},
        {"headers", request_headers},
        {"content_type", request_content_type},
        {"content_length", request_content_length},
        {"is_content_type", request_is_content_type},
        {"accepts", request_accepts},
        {"host", request_host},
        {"param", request_param},
        {"params", request_params},
        {"body", request_body},
        {"has_body", request_has_body},
        {"body_json", request_body_json},
        {"remote_addr", request_remote_addr},
        {NULL, NULL},
    };
    state_new_type(L, REQUEST_TYPE, request_methods, STATE_PRIVATE, NULL);
    lua_pop(L, 1);
    static const luaL_Reg response_methods[] = {
        {"set_status", response_set_status},
        {"set_header", response_set_header},
        {"set_content_type", response_set_content_type},
        {"write", response_write},
        {"write_json", response_write_json},
        {NULL, NULL},
    };
    state_new_type(L, RESPONSE_TYPE, response_methods, STATE_PRIVATE, NULL);
    lua_pop(L, 1);
    static const luaL_Reg functions[] = {
        {"request", http_request},
        {"response", http_response},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", NULL};
    set_constants(L, "METHOD", methods, methods);
    static const char *const content_names[] = {"JSON", "TEXT", "HTML", "FORM", NULL};
    static const char *const content_values[] = {"application/json", "text/plain", "text/html",
                                                 "application/x-www-form-urlencoded", NULL};
    set_constants(L, "CONTENT", content_names, content_values);
    static const struct {
        const char *name;
        int code;
    } statuses[] = {{"OK", 200}, {"CREATED", 201}, {"ACCEPTED", 202}, {"NO_CONTENT", 204},
                    {"MOVED_PERMANENTLY", 301}, {"FOUND", 302}, {"NOT_MODIFIED", 304},
                    {"BAD_REQUEST", 400}, {"UNAUTHORIZED", 401}, {"FORBIDDEN", 403},
                    {"NOT_FOUND", 404}, {"METHOD_NOT_ALLOWED", 405}, {"CONFLICT", 409},
                    {"TOO_MANY_REQUESTS", 429}, {"INTERNAL_ERROR", 500},
                    {"SERVICE_UNAVAILABLE", 503}};
    lua_newtable(L);
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        lua_pushinteger(L, statuses[i].code);
        lua_setfield(L, -2, statuses[i].name);
    }
    state_make_read_only(L);
    lua_setfield(L, -2, "STATUS");
    return 1;
}
