/* mod_http_client.c - the http_client module: get, post, put, delete,
 * head, patch, request, request_batch. Each call's network is decided by
 * net/route.c (overlay_network on the call, else the caller's frame, else
 * the application default, else direct; network.select for an explicit
 * choice) and its overlay opened from the application's set. Failures return nil and a message; nothing is raised for
 * conditions of the network. */
#include <ctype.h>
#include <curl/curl.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "http/client.h"
#include "lua/edge.h"
#include "lua/error_values.h"
#include "lua/guard.h"
#include "lua/modules.h"
#include "vm/remote.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"
#include "lua/time_values.h"
#include "util/duration.h"
#include "util/memory.h"
#include "util/suggest.h"
#include "util/url_query.h"

#define DEFAULT_TIMEOUT_NS (INT64_C(30) * 1000000000)
#define DEFAULT_MAX_RESPONSE_BODY ((size_t)64 << 20)

/* Everything one request needs, kept alive until it completes. */
struct prepared_request {
    struct http_request_options options;
    char *method;
    char *url;
    char **headers;
    size_t header_count;
    char *body;
    char *username;
    char *password;
    char *ca_pem;
    char *host; /* of url, as written (a name stays a name); curl's */
    /* for the private-address rule at every dial (redirects too) */
    struct route_policy policy;
    struct frame *frame; /* the caller's, retained */
};

struct pending_call;

/* What a finished request reports back to: its call and its place there. */
struct completion {
    struct pending_call *call;
    size_t index;
};

/* One blocked Lua call: a single request or a batch. */
struct pending_call {
    struct task *task;
    bool batch;
    size_t count;
    size_t remaining;
    struct prepared_request *requests;
    struct http_request **running;
    struct http_response **responses;
    char **errors;
    int *error_codes; /* WIPPY_E* of each error: its kind in Lua */
    struct completion *completions; /* one per request, freed with the call */
};

static void prepared_free(struct prepared_request *prepared)
{
    free(prepared->method);
    free(prepared->url);
    for (size_t i = 0; i < prepared->header_count; i++)
        free(prepared->headers[i]);
    free(prepared->headers);
    free(prepared->body);
    free(prepared->username);
    free(prepared->password);
    free(prepared->ca_pem);
    curl_free(prepared->host);
    frame_release(prepared->frame);
}

static void call_free(struct pending_call *call)
{
    for (size_t i = 0; i < call->count; i++) {
        prepared_free(&call->requests[i]);
        http_response_free(call->responses[i]);
        free(call->errors[i]);
    }
    free(call); /* and its arrays, in the same block */
}

/* ---- reading options (each returns WIPPY_OK or fills error) ---- */

static int string_field(lua_State *L, int table, const char *key, char **out,
                        struct wippy_error *error)
{
    int type = lua_getfield(L, table, key);
    if (type != LUA_TNIL) {
        if (type != LUA_TSTRING && type != LUA_TNUMBER) {
            lua_pop(L, 1);
            return error_set(error, WIPPY_EINVAL, "options auth and tls: expected string values");
        }
        size_t length;
        const char *text = lua_tolstring(L, -1, &length);
        *out = xstrndup(text, length);
    }
    lua_pop(L, 1);
    return WIPPY_OK;
}

static bool valid_header_text(const char *text)
{
    return strpbrk(text, "\r\n") == NULL;
}

static void add_header(struct prepared_request *prepared, char *line)
{
    prepared->headers = xrealloc(prepared->headers, (prepared->header_count + 2) * sizeof(char *));
    prepared->headers[prepared->header_count++] = line;
    prepared->headers[prepared->header_count] = NULL;
}

static bool has_header(const struct prepared_request *prepared, const char *name)
{
    size_t length = strlen(name);
    for (size_t i = 0; i < prepared->header_count; i++)
        if (strncasecmp(prepared->headers[i], name, length) == 0 && prepared->headers[i][length] == ':')
            return true;
    return false;
}

static int read_headers(lua_State *L, int options, struct prepared_request *prepared,
                        struct wippy_error *error)
{
    if (lua_getfield(L, options, "headers") == LUA_TNIL) {
        lua_pop(L, 1);
        return WIPPY_OK;
    }
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return error_set(error, WIPPY_EINVAL, "option headers: expected a table");
    }
    int headers = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, headers) != 0) {
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        const char *value = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER
                                ? lua_tostring(L, -1) : NULL;
        if (name == NULL || value == NULL || !valid_header_text(name) || !valid_header_text(value) ||
            strchr(name, ':') != NULL) {
            lua_pop(L, 3);
            return error_set(error, WIPPY_EINVAL,
                             "option headers: names and values must be strings without line breaks");
        }
        add_header(prepared, xasprintf("%s: %s", name, value));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return WIPPY_OK;
}

/* Appends key=value pairs of the table at index, escaped, to *text. */
static void append_encoded_pairs(lua_State *L, int table, char **text,
                                 const char *separator)
{
    lua_pushnil(L);
    while (lua_next(L, table) != 0) {
        if ((lua_type(L, -2) == LUA_TSTRING || lua_type(L, -2) == LUA_TNUMBER) &&
            (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)) {
            size_t key_length, value_length;
            lua_pushvalue(L, -2);
            const char *key = lua_tolstring(L, -1, &key_length);
            const char *value = lua_tolstring(L, -2, &value_length);
            char *key_escaped = curl_easy_escape(NULL, key, (int)key_length);
            char *value_escaped = curl_easy_escape(NULL, value, (int)value_length);
            char *joined = xasprintf("%s%s%s=%s", *text, **text ? separator : "", key_escaped,
                                     value_escaped);
            curl_free(key_escaped);
            curl_free(value_escaped);
            free(*text);
            *text = joined;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* The string keys of the table at index with string or number values, as
 * texts kept alive by a table this pushes (pop it once done with them). */
static struct url_query_pair *table_pairs(lua_State *L, int table, size_t *count)
{
    size_t capacity = 8;
    struct url_query_pair *pairs = xcalloc(capacity, sizeof *pairs);
    *count = 0;
    lua_newtable(L);
    int anchor = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, table) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)) {
            if (*count == capacity)
                pairs = xrealloc(pairs, (capacity *= 2) * sizeof *pairs);
            struct url_query_pair *pair = &pairs[(*count)++];
            pair->key = lua_tolstring(L, -2, &pair->key_length);
            lua_pushvalue(L, -1);
            pair->value = lua_tolstring(L, -1, &pair->value_length); /* a number as its text */
            lua_rawseti(L, anchor, (lua_Integer)*count);
        }
        lua_pop(L, 1);
    }
    return pairs;
}

static int read_query_and_form(lua_State *L, int options, struct prepared_request *prepared,
                               struct wippy_error *error)
{
    int rc = WIPPY_OK;
    if (lua_getfield(L, options, "query") == LUA_TTABLE) {
        /* as Go Wippy: set into the url's own query, which is written again sorted */
        size_t count;
        struct url_query_pair *pairs = table_pairs(L, lua_gettop(L), &count);
        if (count > 0) {
            char *url = url_query_set(prepared->url, pairs, count);
            free(prepared->url);
            prepared->url = url;
        }
        free(pairs);
        lua_pop(L, 1); /* the texts */
    } else if (!lua_isnil(L, -1)) {
        rc = error_set(error, WIPPY_EINVAL, "option query: expected a table");
    }
    lua_pop(L, 1);
    if (rc == WIPPY_OK && lua_getfield(L, options, "form") == LUA_TTABLE) {
        size_t count;
        struct url_query_pair *pairs = table_pairs(L, lua_gettop(L), &count);
        char *form = url_query_encode(pairs, count);
        free(pairs);
        lua_pop(L, 1); /* the texts */
        free(prepared->body);
        prepared->body = form;
        prepared->options.body_length = strlen(form);
        if (!has_header(prepared, "Content-Type"))
            add_header(prepared, xstrdup("Content-Type: application/x-www-form-urlencoded"));
    }
    lua_pop(L, 1);
    return rc;
}

static int read_cookies_auth_tls(lua_State *L, int options, struct prepared_request *prepared,
                                 struct wippy_error *error)
{
    if (lua_getfield(L, options, "cookies") == LUA_TTABLE) {
        char *cookies = xstrdup("");
        append_encoded_pairs(L, lua_gettop(L), &cookies, "; ");
        if (*cookies)
            add_header(prepared, xasprintf("Cookie: %s", cookies));
        free(cookies);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, options, "auth") == LUA_TTABLE) {
        int auth = lua_gettop(L);
        int rc = string_field(L, auth, "user", &prepared->username, error);
        if (rc == WIPPY_OK)
            rc = string_field(L, auth, "pass", &prepared->password, error);
        if (rc < 0) {
            lua_pop(L, 1);
            return rc;
        }
    }
    lua_pop(L, 1);
    if (lua_getfield(L, options, "tls") == LUA_TTABLE) {
        int tls = lua_gettop(L);
        lua_getfield(L, tls, "insecure_skip_verify");
        prepared->options.insecure_tls = lua_toboolean(L, -1);
        lua_pop(L, 1);
        int rc = string_field(L, tls, "ca", &prepared->ca_pem, error);
        if (rc < 0) {
            lua_pop(L, 1);
            return rc;
        }
    }
    lua_pop(L, 1);
    return WIPPY_OK;
}

/* Every connection through an overlay, a redirect's included, passes the
 * private-address rule with the caller's security context. */
static int may_dial(void *context, const char *host, struct wippy_error *error)
{
    const struct prepared_request *prepared = context;
    struct route_caller caller = {prepared->frame->actor, prepared->frame->scope};
    return route_check_private_target(&prepared->policy, &caller, host, error);
}

/* Every direct connection (redirects, reused connections too) passes the
 * private-address rule on the address it goes to, resolved. */
static int may_connect(void *context, const char *address, struct wippy_error *error)
{
    const struct prepared_request *prepared = context;
    struct route_caller caller = {prepared->frame->actor, prepared->frame->scope};
    return route_check_private_address(&prepared->policy, &caller, address, error);
}

/* A redirect is a request of its own: http_client.request on its URL, and
 * insecure TLS again when the request asked for it. */
static int may_follow(void *context, const char *url, struct wippy_error *error)
{
    const struct prepared_request *prepared = context;
    const struct frame *frame = prepared->frame;
    bool strict = prepared->policy.strict_mode;
    if (prepared->options.insecure_tls &&
        !security_allows(frame->actor, frame->scope, strict, ACTION_HTTP_CLIENT_INSECURE_TLS, url, NULL))
        return error_set(error, WIPPY_EDENIED, "not allowed: insecure TLS for %s", url);
    if (!security_allows(frame->actor, frame->scope, strict, ACTION_HTTP_CLIENT_REQUEST, url, NULL))
        return error_set(error, WIPPY_EDENIED, "not allowed: %s", url);
    return WIPPY_OK;
}

/* Chooses the network of this request (net/route.c decides) and opens its
 * overlay. */
static int choose_network(lua_State *L, struct task *task, int options, const char *url_as_given,
                          struct prepared_request *prepared, struct wippy_error *error)
{
    const struct mod_http_client_context *context = vm_module_context(L);
    int top = lua_gettop(L);
    struct network_selection explicit_selection = {NETWORK_UNSET, NULL};
    if (options != 0) {
        lua_getfield(L, options, "overlay_network");
        struct wippy_error reason;
        if (edge_parse_selection(L, top + 1, &explicit_selection, &reason) < 0) {
            lua_settop(L, top);
            return error_set(error, reason.code, "option overlay_network: %s", reason.message);
        }
    }
    struct route_policy policy = vm_route_policy(task->vm);
    struct route_caller caller = task_route_caller(task);
    if (http_url_target(prepared->url, &prepared->host, &prepared->options.url_port) < 0) {
        /* curl would guess a scheme for "10.0.0.1/x": the host the routing
         * rules look at must be the one that is dialed */
        lua_settop(L, top);
        return error_set(error, WIPPY_EINVAL, "url %s: expected http:// or https:// and a host",
                         prepared->url);
    }
    const struct entry *network = NULL;
    int rc = route_dial(&policy, &caller, explicit_selection, frame_network(task->frame), prepared->host,
                        &network, error);
    prepared->options.url_host = prepared->host;
    lua_settop(L, top);
    /* before the overlay is opened (a refused call brings up no node) */
    if (rc == WIPPY_OK && !guard_allows(L, ACTION_HTTP_CLIENT_REQUEST, url_as_given))
        rc = error_set(error, WIPPY_EDENIED, "not allowed: %s", url_as_given);
    if (rc == WIPPY_OK && network != NULL)
        rc = overlay_get(context->overlays, network, &prepared->options.overlay, error);
    else if (rc == WIPPY_OK)
        prepared->options.overlay = overlay_direct(context->overlays);
    if (rc == WIPPY_OK) {
        prepared->policy = policy;
        prepared->frame = frame_retain(task->frame);
        prepared->options.may_dial = may_dial;
        prepared->options.may_connect = may_connect;
        prepared->options.may_follow = may_follow;
        prepared->options.may_dial_context = prepared;
    }
    return rc;
}

static int read_body(lua_State *L, int options, struct prepared_request *prepared,
                     struct wippy_error *error)
{
    int rc = WIPPY_OK;
    if (lua_getfield(L, options, "body") != LUA_TNIL) {
        size_t length;
        const char *body = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &length) : NULL;
        if (body == NULL) {
            rc = error_set(error, WIPPY_EINVAL, "option body: expected a string");
        } else {
            prepared->body = xmalloc(length + 1);
            memcpy(prepared->body, body, length);
            prepared->body[length] = '\0';
            prepared->options.body_length = length;
        }
    }
    lua_pop(L, 1);
    return rc;
}

static int read_limits(lua_State *L, int options, struct prepared_request *prepared,
                       struct wippy_error *error)
{
    int rc = WIPPY_OK;
    if (lua_getfield(L, options, "timeout") != LUA_TNIL) {
        struct wippy_error reason;
        /* as Go Wippy's http_client: a number is seconds here */
        if (lua_type(L, -1) == LUA_TNUMBER ? duration_from_seconds(lua_tonumber(L, -1), &prepared->options.timeout_ns,
                                                                   &reason) < 0
                                           : time_value_to_duration(L, -1, &prepared->options.timeout_ns, &reason) < 0)
            rc = error_set(error, reason.code, "option timeout: %s", reason.message);
        else if (prepared->options.timeout_ns <= 0)
            rc = error_set(error, WIPPY_EINVAL, "option timeout: must be positive");
    }
    lua_pop(L, 1);
    if (rc == WIPPY_OK && lua_getfield(L, options, "max_response_body") != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
            rc = error_set(error, WIPPY_EINVAL, "option max_response_body: expected a number of bytes");
        else if (lua_tointeger(L, -1) > 0)
            prepared->options.max_response_body = (size_t)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return rc;
}

/* Every option this module reads, and those Go Wippy's has that this
 * runtime does not: either is named in the error, never ignored. */
static const char *const known_options[] = {
    "headers", "body", "timeout", "query", "cookies", "form", "auth", "tls", "max_response_body",
    "overlay_network", NULL,
};
static const char *const table_options[] = {"headers", "query", "cookies", "form", "auth", "tls", NULL};
static const char *const unsupported_options[] = {"files", "stream", "unix_socket", NULL};

static bool listed(const char *const *names, const char *name)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static int check_option_names(lua_State *L, int options, struct wippy_error *error)
{
    lua_pushnil(L);
    while (lua_next(L, options) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            return error_set(error, WIPPY_EINVAL, "options: keys must be option names");
        }
        const char *name = lua_tostring(L, -2);
        int rc = WIPPY_OK;
        if (listed(unsupported_options, name)) {
            rc = error_set(error, WIPPY_EINVAL, "option %s: not supported by this runtime", name);
        } else if (!listed(known_options, name)) {
            const char *near = suggest_closest(name, known_options);
            rc = error_set(error, WIPPY_EINVAL, "unknown option \"%s\"%s%s%s", name,
                           near != NULL ? " (did you mean \"" : "", near != NULL ? near : "",
                           near != NULL ? "\"?)" : "");
        } else if (listed(table_options, name) && lua_type(L, -1) != LUA_TTABLE) {
            rc = error_set(error, WIPPY_EINVAL, "option %s: expected a table, got %s", name,
                           luaL_typename(L, -1));
        }
        lua_pop(L, 1);
        if (rc < 0) {
            lua_pop(L, 1);
            return rc;
        }
    }
    return WIPPY_OK;
}

static int read_options(lua_State *L, int options, struct prepared_request *prepared,
                        struct wippy_error *error)
{
    if (!lua_istable(L, options))
        return error_set(error, WIPPY_EINVAL, "options: expected a table");
    int rc = check_option_names(L, options, error);
    if (rc == WIPPY_OK)
        rc = read_headers(L, options, prepared, error);
    if (rc == WIPPY_OK)
        rc = read_body(L, options, prepared, error);
    if (rc == WIPPY_OK)
        rc = read_query_and_form(L, options, prepared, error);
    if (rc == WIPPY_OK)
        rc = read_cookies_auth_tls(L, options, prepared, error);
    if (rc == WIPPY_OK)
        rc = read_limits(L, options, prepared, error);
    return rc;
}

/* Reads method, url and options (at index options, 0 for none) into
 * prepared and chooses its network. */
static int prepare(lua_State *L, struct task *task, const char *method, int url_index, int options,
                   struct prepared_request *prepared, struct wippy_error *error)
{
    memset(prepared, 0, sizeof *prepared);
    size_t url_length;
    const char *url = lua_type(L, url_index) == LUA_TSTRING ? lua_tolstring(L, url_index, &url_length) : NULL;
    if (url == NULL)
        return error_set(error, WIPPY_EINVAL, "url: expected a string");
    prepared->method = xstrdup(method);
    for (char *c = prepared->method; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    prepared->url = xstrndup(url, url_length);
    prepared->options.timeout_ns = DEFAULT_TIMEOUT_NS;
    prepared->options.max_response_body = DEFAULT_MAX_RESPONSE_BODY;
    int rc = options != 0 ? read_options(L, options, prepared, error) : WIPPY_OK;
    /* Go Wippy's order: insecure TLS, the network, the request (on the URL
     * as given), then private addresses at every connection */
    if (rc == WIPPY_OK && prepared->options.insecure_tls && !guard_allows(L, ACTION_HTTP_CLIENT_INSECURE_TLS, url))
        rc = error_set(error, WIPPY_EDENIED, "not allowed: insecure TLS for %s", url);
    if (rc == WIPPY_OK)
        rc = choose_network(L, task, options, url, prepared, error);
    if (rc < 0)
        return rc;
    prepared->options.method = prepared->method;
    prepared->options.url = prepared->url;
    prepared->options.headers = (const char *const *)prepared->headers;
    prepared->options.body = prepared->body;
    prepared->options.username = prepared->username;
    prepared->options.password = prepared->password;
    prepared->options.ca_pem = prepared->ca_pem;
    return WIPPY_OK;
}

/* ---- results ---- */

static void push_response(lua_State *L, const struct http_response *response)
{
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, response->status_code);
    lua_setfield(L, -2, "status_code");
    lua_pushlstring(L, response->body, response->body_length);
    lua_setfield(L, -2, "body");
    lua_pushinteger(L, (lua_Integer)response->body_length);
    lua_setfield(L, -2, "body_size");
    lua_pushstring(L, response->url);
    lua_setfield(L, -2, "url");
    lua_createtable(L, 0, (int)response->header_count);
    for (size_t i = 0; i < response->header_count; i++) {
        lua_pushstring(L, response->headers[i].value);
        lua_setfield(L, -2, response->headers[i].name);
    }
    lua_setfield(L, -2, "headers");
}

/* The error of request i as an error object (a request refused before it
 * started without a code is invalid input). */
static void push_call_error(lua_State *L, const struct pending_call *call, size_t i)
{
    int retryable;
    const char *kind = error_value_kind_of(call->error_codes[i] != 0 ? call->error_codes[i] : WIPPY_EINVAL, &retryable);
    error_value_push(L, kind, retryable, call->errors[i]);
}

static void deliver(struct pending_call *call)
{
    lua_State *thread = call->task->thread;
    struct task *task = call->task;
    if (!call->batch) {
        if (call->responses[0] != NULL) {
            push_response(thread, call->responses[0]);
            call_free(call);
            task_wake(task, 1);
        } else {
            lua_pushnil(thread);
            push_call_error(thread, call, 0);
            call_free(call);
            task_wake(task, 2);
        }
        return;
    }
    bool any_error = false;
    lua_createtable(thread, (int)call->count, 0);
    lua_createtable(thread, (int)call->count, 0);
    for (size_t i = 0; i < call->count; i++) {
        if (call->responses[i] != NULL) {
            push_response(thread, call->responses[i]);
            lua_rawseti(thread, -3, (lua_Integer)i + 1);
        } else {
            any_error = true;
            push_call_error(thread, call, i);
            lua_rawseti(thread, -2, (lua_Integer)i + 1);
        }
    }
    if (!any_error) {
        lua_pop(thread, 1);
        lua_pushnil(thread);
    }
    call_free(call);
    task_wake(task, 2);
}

static void on_request_done(void *context, struct http_response *response,
                            const struct wippy_error *error)
{
    struct completion *completion = context;
    struct pending_call *call = completion->call;
    size_t index = completion->index;
    call->running[index] = NULL;
    call->responses[index] = response;
    if (response == NULL) {
        call->errors[index] = xstrdup(error->message);
        call->error_codes[index] = error->code;
    }
    if (--call->remaining == 0)
        deliver(call);
}

static void cancel_call(struct task *task)
{
    struct pending_call *call = task->wait_data;
    for (size_t i = 0; i < call->count; i++) {
        if (call->running[i] != NULL) {
            http_request_cancel(call->running[i]);
            call->running[i] = NULL;
        }
    }
    call_free(call);
}

/* Reserves count elements of size bytes and alignment at *offset of a
 * block being laid out; returns where they start. */
static size_t reserve(size_t *offset, size_t count, size_t size, size_t alignment)
{
    if (*offset > SIZE_MAX - alignment) {
        *offset = SIZE_MAX; /* the allocation then fails as calloc would */
        return 0;
    }
    size_t start = (*offset + alignment - 1) / alignment * alignment;
    if (count > (SIZE_MAX - start) / size) {
        *offset = SIZE_MAX;
        return 0;
    }
    *offset = start + count * size;
    return start;
}

/* A call and its arrays are one allocation. */
static struct pending_call *call_new(struct task *task, size_t count, bool batch)
{
    size_t n = count + 1, end = sizeof(struct pending_call);
    size_t requests = reserve(&end, n, sizeof(struct prepared_request), alignof(struct prepared_request));
    size_t running = reserve(&end, n, sizeof(struct http_request *), alignof(struct http_request *));
    size_t responses = reserve(&end, n, sizeof(struct http_response *), alignof(struct http_response *));
    size_t errors = reserve(&end, n, sizeof(char *), alignof(char *));
    size_t error_codes = reserve(&end, n, sizeof(int), alignof(int));
    size_t completions = reserve(&end, n, sizeof(struct completion), alignof(struct completion));
    char *block = xcalloc(1, end);
    struct pending_call *call = (struct pending_call *)block;
    call->requests = (struct prepared_request *)(block + requests);
    call->running = (struct http_request **)(block + running);
    call->responses = (struct http_response **)(block + responses);
    call->errors = (char **)(block + errors);
    call->error_codes = (int *)(block + error_codes);
    call->completions = (struct completion *)(block + completions);
    call->task = task;
    call->batch = batch;
    call->count = count;
    return call;
}

/* Starts every prepared request of call; a request that cannot start
 * completes at once with its error. */
static int start_and_wait(lua_State *L, struct task *task, struct pending_call *call)
{
    const struct mod_http_client_context *context = vm_module_context(L);
    struct http_client *client = context->client;
    call->remaining = call->count;
    for (size_t i = 0; i < call->count; i++) {
        if (call->errors[i] != NULL) {
            call->remaining--;
            continue;
        }
        struct completion *completion = &call->completions[i];
        completion->call = call;
        completion->index = i;
        struct wippy_error error;
        call->running[i] = http_request_start(client, &call->requests[i].options, on_request_done,
                                              completion, &error);
        if (call->running[i] == NULL) {
            call->errors[i] = xstrdup(error.message);
            call->error_codes[i] = error.code;
            call->remaining--;
        }
    }
    if (call->remaining == 0) {
        /* Nothing could start: answer at once, without blocking. */
        int pushed;
        if (!call->batch) {
            lua_pushnil(L);
            push_call_error(L, call, 0);
            pushed = 2;
        } else {
            lua_createtable(L, 0, 0);
            lua_createtable(L, (int)call->count, 0);
            for (size_t i = 0; i < call->count; i++) {
                push_call_error(L, call, i);
                lua_rawseti(L, -2, (lua_Integer)i + 1);
            }
            pushed = 2;
        }
        call_free(call);
        return pushed;
    }
    return task_wait(L, task, cancel_call, call, NULL, 0);
}

struct protected_prepare {
    struct task *task;
    const char *method;
    struct prepared_request *prepared;
    struct wippy_error *error;
    int rc;
};

static int prepare_body(lua_State *L)
{
    struct protected_prepare *p = lua_touserdata(L, 1);
    p->rc = prepare(L, p->task, p->method, 2, lua_isnil(L, 3) ? 0 : 3, p->prepared, p->error);
    return 0;
}

/* prepare, where a Lua error (an options table's metamethod, the memory
 * limit) is caught: then the call is freed and the error raised again,
 * so nothing it holds is lost. */
static int prepare_or_raise(lua_State *L, struct pending_call *call, size_t i, const char *method, int url_index,
                            int options, struct wippy_error *error)
{
    struct protected_prepare p = {call->task, method, &call->requests[i], error, 0};
    lua_pushvalue(L, lua_upvalueindex(1)); /* the module's context, which prepare reads */
    lua_pushcclosure(L, prepare_body, 1);
    lua_pushlightuserdata(L, &p);
    lua_pushvalue(L, url_index);
    if (options != 0)
        lua_pushvalue(L, options);
    else
        lua_pushnil(L);
    if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
        call_free(call);
        lua_error(L);
    }
    return p.rc;
}

static int request_with(lua_State *L, const char *method, int url_index, int options_index)
{
    struct task *task = task_current(L);
    task_check_can_block(L, task, "http_client");
    int options = lua_isnoneornil(L, options_index) ? 0 : options_index;
    struct pending_call *call = call_new(task, 1, false);
    struct wippy_error error;
    if (prepare_or_raise(L, call, 0, method, url_index, options, &error) < 0) {
        call_free(call);
        return error_value_fail(L, &error);
    }
    return start_and_wait(L, task, call);
}

static int http_get(lua_State *L) { return request_with(L, "GET", 1, 2); }
static int http_post(lua_State *L) { return request_with(L, "POST", 1, 2); }
static int http_put(lua_State *L) { return request_with(L, "PUT", 1, 2); }
static int http_delete(lua_State *L) { return request_with(L, "DELETE", 1, 2); }
static int http_head(lua_State *L) { return request_with(L, "HEAD", 1, 2); }
static int http_patch(lua_State *L) { return request_with(L, "PATCH", 1, 2); }

static int http_request_lua(lua_State *L)
{
    const char *method = luaL_checkstring(L, 1);
    return request_with(L, method, 2, 3);
}

static int http_request_batch(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    struct task *task = task_current(L);
    task_check_can_block(L, task, "http_client.request_batch");
    size_t count = lua_rawlen(L, 1);
    /* the whole batch's form is checked first, with Go Wippy's words */
    if (count == 0)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "requests table cannot be empty");
    for (size_t i = 0; i < count; i++) {
        const char *refusal = NULL;
        if (lua_rawgeti(L, 1, (lua_Integer)i + 1) != LUA_TTABLE)
            refusal = "each request must be a table";
        else if (lua_rawgeti(L, -1, 1) != LUA_TSTRING)
            refusal = "method must be a string";
        else if (lua_rawgeti(L, -2, 2) != LUA_TSTRING)
            refusal = "URL must be a string";
        lua_settop(L, 1);
        if (refusal != NULL)
            return error_value_fail_with(L, ERROR_KIND_INVALID, "%s", refusal);
    }
    struct pending_call *call = call_new(task, count, true);
    for (size_t i = 0; i < count; i++) {
        int base = lua_gettop(L);
        lua_rawgeti(L, 1, (lua_Integer)i + 1);
        int item = lua_gettop(L);
        lua_rawgeti(L, item, 1);
        lua_rawgeti(L, item, 2);
        lua_rawgeti(L, item, 3);
        /* checked above, but an options table's metamethod may have changed the batch since */
        const char *method = lua_type(L, item + 1) == LUA_TSTRING ? lua_tostring(L, item + 1) : NULL;
        int options = lua_isnil(L, item + 3) ? 0 : item + 3;
        struct wippy_error error;
        if (method == NULL) {
            call_free(call);
            return error_value_fail_with(L, ERROR_KIND_INVALID, "method must be a string");
        }
        /* a request refused (a permission) or malformed (an option)
         * refuses the whole batch, as Go Wippy's: none is sent; what it
         * meets later (an overlay not there) is that request's error */
        if (prepare_or_raise(L, call, i, method, item + 2, options, &error) < 0) {
            if (error.code == WIPPY_EDENIED || error.code == WIPPY_EINVAL) {
                call_free(call);
                return error_value_fail(L, &error);
            }
            call->errors[i] = xstrdup(error.message);
            call->error_codes[i] = error.code;
        }
        lua_settop(L, base);
    }
    return start_and_wait(L, task, call);
}

/* Go's url.QueryEscape and QueryUnescape. */
static int http_encode_uri(lua_State *L)
{
    size_t length;
    const char *text = luaL_checklstring(L, 1, &length);
    char *escaped = url_query_escape(text, length);
    lua_pushstring(L, escaped);
    free(escaped);
    return 1;
}

static int http_decode_uri(lua_State *L)
{
    size_t length, out_length;
    const char *text = luaL_checklstring(L, 1, &length);
    struct wippy_error error;
    char *decoded = url_query_unescape(text, length, &out_length, &error);
    if (decoded == NULL)
        return error_value_fail(L, &error);
    lua_pushlstring(L, decoded, out_length);
    free(decoded);
    return 1;
}

int mod_http_client_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"get", http_get},
        {"post", http_post},
        {"put", http_put},
        {"delete", http_delete},
        {"head", http_head},
        {"patch", http_patch},
        {"request", http_request_lua},
        {"request_batch", http_request_batch},
        {"encode_uri", http_encode_uri},
        {"decode_uri", http_decode_uri},
        {NULL, NULL},
    };
    luaL_newlibtable(L, functions);
    const struct mod_http_client_context *client = context;
    if (client->on_main) { /* an I2P session or a tailnet node has one identity, on the main VM */
        remote_set_functions(L, "http_client", functions);
        return 1;
    }
    lua_pushlightuserdata(L, context);
    luaL_setfuncs(L, functions, 1);
    return 1;
}
