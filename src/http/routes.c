/* routes.c - building and matching routes. */
#include "http/routes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"

/* Splits a path on "/" into its non-empty segments. */
static void split_path(const char *path, char ***segments, size_t *count)
{
    *segments = NULL;
    *count = 0;
    const char *cursor = path;
    while (*cursor != '\0') {
        while (*cursor == '/')
            cursor++;
        if (*cursor == '\0')
            break;
        const char *end = strchr(cursor, '/');
        size_t length = end != NULL ? (size_t)(end - cursor) : strlen(cursor);
        *segments = xrealloc(*segments, (*count + 1) * sizeof(char *));
        (*segments)[(*count)++] = xstrndup(cursor, length);
        cursor += length;
    }
}

static void free_segments(char **segments, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(segments[i]);
    free(segments);
}

void http_routes_build(const struct registry *registry, const struct entry *service,
                       struct http_routes *routes)
{
    routes->routes = NULL;
    routes->count = 0;
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *endpoint = registry->entries[i];
        if (endpoint->kind != ENTRY_HTTP_ENDPOINT)
            continue;
        const struct entry *router = registry_find(registry, endpoint->as.http_endpoint.router_id);
        if (router == NULL || strcmp(router->as.http_router.server_id, service->id) != 0)
            continue;
        char *full = xasprintf("%s/%s", router->as.http_router.prefix, endpoint->as.http_endpoint.path);
        struct http_route route = {.endpoint = endpoint, .method = endpoint->as.http_endpoint.method};
        split_path(full, &route.segments, &route.segment_count);
        free(full);
        routes->routes = xrealloc(routes->routes, (routes->count + 1) * sizeof route);
        routes->routes[routes->count++] = route;
    }
}

void http_routes_free(struct http_routes *routes)
{
    for (size_t i = 0; i < routes->count; i++)
        free_segments(routes->routes[i].segments, routes->routes[i].segment_count);
    free(routes->routes);
    routes->routes = NULL;
    routes->count = 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *http_percent_decode(const char *text, size_t length, bool plus_is_space)
{
    char *out = xmalloc(length + 1);
    size_t at = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '%' && i + 2 < length && hex_value(text[i + 1]) >= 0 &&
            hex_value(text[i + 2]) >= 0) {
            out[at++] = (char)(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else if (text[i] == '+' && plus_is_space) {
            out[at++] = ' ';
        } else {
            out[at++] = text[i];
        }
    }
    out[at] = '\0';
    return out;
}

void http_params_free(struct http_param *params, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(params[i].name);
        free(params[i].value);
    }
}

static bool is_parameter(const char *segment, size_t *name_length)
{
    size_t length = strlen(segment);
    if (length < 3 || segment[0] != '{' || segment[length - 1] != '}')
        return false;
    *name_length = length - 2;
    return true;
}

static bool path_matches(const struct http_route *route, char **segments, size_t count,
                         struct http_param *params, size_t *param_count)
{
    if (route->segment_count != count)
        return false;
    size_t captured = 0;
    for (size_t i = 0; i < count; i++) {
        size_t name_length;
        if (is_parameter(route->segments[i], &name_length)) {
            if (captured < HTTP_MAX_PARAMS && params != NULL) {
                params[captured].name = xstrndup(route->segments[i] + 1, name_length);
                params[captured].value = xstrdup(segments[i]); /* the path is decoded already */
                captured++;
            }
        } else if (strcmp(route->segments[i], segments[i]) != 0) {
            if (params != NULL)
                http_params_free(params, captured);
            return false;
        }
    }
    if (param_count != NULL)
        *param_count = captured;
    return true;
}

static bool method_matches(const char *route_method, const char *method)
{
    return strcmp(route_method, "*") == 0 || strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

enum http_route_result http_routes_match(const struct http_routes *routes, const char *method,
                                         const char *path, const struct http_route **route,
                                         struct http_param *params, size_t *param_count,
                                         char *allow, size_t allow_size)
{
    char **segments;
    size_t count;
    split_path(path, &segments, &count);
    enum http_route_result result = HTTP_ROUTE_NOT_FOUND;
    if (allow_size > 0)
        allow[0] = '\0';
    for (size_t i = 0; i < routes->count && result != HTTP_ROUTE_FOUND; i++) {
        const struct http_route *candidate = &routes->routes[i];
        if (!method_matches(candidate->method, method)) {
            if (path_matches(candidate, segments, count, NULL, NULL)) {
                result = HTTP_ROUTE_METHOD_NOT_ALLOWED;
                size_t used = strlen(allow);
                if (strstr(allow, candidate->method) == NULL && used + strlen(candidate->method) + 3 < allow_size)
                    snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", candidate->method);
            }
            continue;
        }
        if (path_matches(candidate, segments, count, params, param_count)) {
            *route = candidate;
            result = HTTP_ROUTE_FOUND;
        }
    }
    free_segments(segments, count);
    return result;
}
