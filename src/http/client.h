/* client.h - HTTP requests on libcurl driven by the runtime's libuv loop:
 * any number of transfers at once in one thread. Every overlay has its own
 * curl multi handle, so a connection opened through one overlay is never
 * reused for another or for a direct request. */
#ifndef WIPPY_HTTP_CLIENT_H
#define WIPPY_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/overlay.h"
#include "util/error.h"

struct http_client;
struct http_request;

struct http_header {
    char *name;  /* canonical form: "Content-Type"; one block with the value */
    char *value; /* within name's block: freed with it */
};

struct http_request_options {
    const char *method;
    const char *url;
    /* The host and port http_url_target read from url, when the caller has
     * read them: spares reading them again for the first connection. */
    const char *url_host;
    uint16_t url_port;
    const char *const *headers; /* "Name: value" lines, NULL-terminated, or NULL */
    const char *body;           /* may contain NULs; NULL for none */
    size_t body_length;
    const char *username;       /* basic auth, or NULL */
    const char *password;
    int64_t timeout_ns;         /* whole transfer */
    size_t max_response_body;   /* 0: no limit */
    struct overlay *overlay;    /* the network (overlay_direct for direct) */
    bool insecure_tls;
    const char *ca_pem;         /* trust only this CA, or NULL */
    /* Asked before every connection through an overlay, redirects
     * included, with the host about to be dialed: WIPPY_OK, or an error
     * that fails the request. NULL: every host may be dialed. */
    int (*may_dial)(void *context, const char *host, struct wippy_error *error);
    void *may_dial_context;
    /* Asked before every direct connection (redirects included) with the
     * address curl resolved and is about to connect to, as text. NULL:
     * every address may be connected to. */
    int (*may_connect)(void *context, const char *address, struct wippy_error *error);
    /* Asked before each redirect's request is sent, with its URL. NULL:
     * every redirect may be followed. */
    int (*may_follow)(void *context, const char *url, struct wippy_error *error);
};

struct http_response {
    long status_code;
    char *body;
    size_t body_length;
    char *url; /* after redirects */
    struct http_header *headers;
    size_t header_count;
};

/* Called once per request not cancelled: a response (owned by the callee,
 * freed with http_response_free) or NULL with the reason. */
typedef void (*http_request_done)(void *context, struct http_response *response,
                                  const struct wippy_error *error);

struct http_client *http_client_new(uv_loop_t *loop);
/* Cancels every request still running and closes every pool. */
void http_client_free(struct http_client *client);

/* Starts a request. Returns NULL with error set when the options are wrong
 * (the callback is then never called). */
struct http_request *http_request_start(struct http_client *client,
                                        const struct http_request_options *options,
                                        http_request_done done, void *context,
                                        struct wippy_error *error);

/* Stops a request; its callback will not run. */
void http_request_cancel(struct http_request *request);

void http_response_free(struct http_response *response);

/* The host (as written: an IPv6 literal in brackets; free with curl_free)
 * and port (the scheme's default when none is written) of an absolute
 * URL, as the client reads them before every connection. -1 when url has
 * no scheme or no host. */
int http_url_target(const char *url, char **host, uint16_t *port);

#endif
