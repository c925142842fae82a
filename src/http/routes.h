/* routes.h - the routing table of one http.service: every http.endpoint of
 * every http.router whose meta.server is that service, as path segments
 * where "{name}" captures one segment. */
#ifndef WIPPY_HTTP_ROUTES_H
#define WIPPY_HTTP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "registry/registry.h"

#define HTTP_MAX_PARAMS 16

struct http_route {
    const struct entry *endpoint;
    const char *method; /* "GET"..., or "*" */
    char **segments;
    size_t segment_count;
};

struct http_routes {
    struct http_route *routes;
    size_t count;
};

struct http_param {
    char *name;
    char *value; /* percent-decoded */
};

enum http_route_result {
    HTTP_ROUTE_FOUND,
    HTTP_ROUTE_NOT_FOUND,
    HTTP_ROUTE_METHOD_NOT_ALLOWED,
};

void http_routes_build(const struct registry *registry, const struct entry *service,
                       struct http_routes *routes);
void http_routes_free(struct http_routes *routes);

/* Finds the route for method and path (without the query). On FOUND fills
 * *route and params (caller frees with http_params_free); on
 * METHOD_NOT_ALLOWED writes the allowed methods ("GET, POST") to allow. */
enum http_route_result http_routes_match(const struct http_routes *routes, const char *method,
                                         const char *path, const struct http_route **route,
                                         struct http_param *params, size_t *param_count,
                                         char *allow, size_t allow_size);

void http_params_free(struct http_param *params, size_t count);

/* Decodes %XX escapes (and "+" as a space when plus_is_space) into a new string. */
char *http_percent_decode(const char *text, size_t length, bool plus_is_space);

#endif
