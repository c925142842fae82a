/* request_reader.c - see request_reader.h. */
#include "http/request_reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/memory.h"
#include "util/hex.h"

static struct http_request_reader *of(llhttp_t *parser)
{
    return parser->data;
}

static int refuse(struct http_request_reader *reader, int status, const char *message)
{
    reader->failure_status = status;
    reader->failure_message = message;
    return HPE_USER;
}

static void free_strings(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

/* What an empty query or body points at: most requests have neither, and
 * an allocation each was a tenth of a request's. */
static char nothing[1];

static void free_text(char *text)
{
    if (text != nothing)
        free(text);
}

void http_request_free(struct http_request *request)
{
    if (request == NULL)
        return;
    free(request->path);
    free_text(request->query);
    free_strings(request->header_names, request->header_count);
    free_strings(request->header_values, request->header_count);
    free_text(request->body);
    free(request);
}

const char *http_request_header(const struct http_request *request, const char *name)
{
    for (size_t i = 0; i < request->header_count; i++)
        if (strcasecmp(request->header_names[i], name) == 0)
            return request->header_values[i];
    return NULL;
}

static size_t header_occurrences(const struct http_request *request, const char *name)
{
    size_t found = 0;
    for (size_t i = 0; i < request->header_count; i++)
        found += strcasecmp(request->header_names[i], name) == 0;
    return found;
}

/* ---- the request target ---- */

/* Decodes %XX in a path; false for a malformed escape or a NUL (nginx
 * refuses both with 400: a NUL would end the path early for C code). */
static bool decode_path(const char *text, size_t length, char **out)
{
    char *decoded = xmalloc(length + 1);
    size_t at = 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= length) {
                free(decoded);
                return false;
            }
            int upper = hex_digit_value(text[i + 1]), lower = hex_digit_value(text[i + 2]);
            if (upper < 0 || lower < 0) {
                free(decoded);
                return false;
            }
            c = (char)(upper * 16 + lower);
            i += 2;
        }
        if (c == '\0') {
            free(decoded);
            return false;
        }
        decoded[at++] = c;
    }
    decoded[at] = '\0';
    *out = decoded;
    return true;
}

/* An absolute-form target's authority replaces the Host header's value. */
static void replace_host(struct http_request *request, const char *authority, size_t length)
{
    for (size_t i = 0; i < request->header_count; i++) {
        if (strcasecmp(request->header_names[i], "Host") == 0) {
            free(request->header_values[i]);
            request->header_values[i] = xstrndup(authority, length);
        }
    }
}

static int split_target(struct http_request_reader *reader, const char *target, size_t length);
static bool valid_host(const char *host);

/* Splits the target into a decoded path and the raw query. Origin form
 * ("/a?b"), absolute form ("http://host/a?b": the path is used) and "*"
 * (OPTIONS only) are the forms a server receives. */
static int read_target(struct http_request_reader *reader)
{
    struct http_request *request = reader->request;
    const char *target = reader->target != NULL ? reader->target : "";
    size_t length = reader->target_length;
    if (length == 1 && target[0] == '*') {
        if (strcmp(request->method, "OPTIONS") != 0)
            return refuse(reader, 400, "the request target * is for OPTIONS only");
        request->path = xstrdup("*");
        request->query = xstrdup("");
        return HPE_OK;
    }
    if (target[0] != '/') {
        const char *scheme_end = NULL;
        if (strncasecmp(target, "http://", 7) == 0)
            scheme_end = target + 7;
        else if (strncasecmp(target, "https://", 8) == 0)
            scheme_end = target + 8;
        if (scheme_end == NULL)
            return refuse(reader, 400, "the request target is neither a path nor an absolute URL");
        /* the authority ends at the first /, ? or # (RFC 3986 3.2) and
         * stands for Host (RFC 9112 3.2.2) */
        size_t rest = length - (size_t)(scheme_end - target);
        size_t authority = strcspn(scheme_end, "/?#");
        if (authority > rest)
            authority = rest;
        char *host = xstrndup(scheme_end, authority);
        bool valid = valid_host(host);
        free(host);
        if (!valid)
            return refuse(reader, 400, "the absolute URL's host is not a host name or address");
        replace_host(request, scheme_end, authority);
        const char *after = scheme_end + authority;
        length = rest - authority;
        if (length == 0 || after[0] != '/') { /* "http://x?q": the path is "/" */
            char *rooted = xasprintf("/%.*s", (int)length, after);
            int rc = split_target(reader, rooted, strlen(rooted));
            free(rooted);
            return rc;
        }
        target = after;
    }
    return split_target(reader, target, length);
}
/* Fills the request's decoded path and raw query from an origin-form target. */
static int split_target(struct http_request_reader *reader, const char *target, size_t length)
{
    struct http_request *request = reader->request;
    const char *fragment = memchr(target, '#', length); /* clients should not send it; nginx drops it */
    if (fragment != NULL)
        length = (size_t)(fragment - target);
    const char *question = memchr(target, '?', length);
    size_t path_length = question != NULL ? (size_t)(question - target) : length;
    if (!decode_path(target, path_length, &request->path))
        return refuse(reader, 400, "the request path has a malformed %-escape or a NUL");
    request->query = question != NULL ? xstrndup(question + 1, length - path_length - 1) : nothing;
    return HPE_OK;
}

/* ---- llhttp's callbacks ---- */

static int on_message_begin(llhttp_t *parser)
{
    struct http_request_reader *reader = of(parser);
    http_request_free(reader->request);
    reader->request = xcalloc(1, sizeof *reader->request);
    free(reader->target);
    reader->target = NULL;
    reader->target_length = 0;
    reader->header_bytes = 0;
    reader->in_header_value = false;
    reader->body_capacity = 0;
    reader->headers_done = false;
    reader->started = true;
    reader->expects_continue = false;
    return HPE_OK;
}

static int on_url(llhttp_t *parser, const char *at, size_t length)
{
    struct http_request_reader *reader = of(parser);
    if (reader->target_length + length > reader->limits->max_url_bytes)
        return refuse(reader, 414, "request target too long");
    reader->target = xrealloc(reader->target, reader->target_length + length + 1);
    memcpy(reader->target + reader->target_length, at, length);
    reader->target_length += length;
    reader->target[reader->target_length] = '\0';
    return HPE_OK;
}

/* HTTP/1.x is served as HTTP/1.1 (RFC 9112: a higher minor version is
 * answered with the highest one supported); a later major version is 505,
 * "HTTP/0.x" a malformed request, as nginx answers them. */
static int on_version_complete(llhttp_t *parser)
{
    if (parser->method == HTTP_PRI) /* the HTTP/2 preface */
        return refuse(of(parser), 400, "HTTP/2 is not served here");
    if (parser->http_major == 0)
        return refuse(of(parser), 400, "malformed HTTP version");
    if (parser->http_major != 1)
        return refuse(of(parser), 505, "HTTP version not supported");
    return HPE_OK;
}

/* A Host value is an authority: a name or address and maybe a port, in
 * the characters RFC 3986 allows there; empty is refused in HTTP/1.1. */
static bool valid_host(const char *host)
{
    if (host[0] == '\0')
        return false;
    for (const char *c = host; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr("-._~:[]!$&'()*+,;=%", *c) != NULL))
            return false;
    return true;
}

/* Header fields are bounded in number as well as in bytes (each also
 * counts its line's own four bytes): 65,000 empty fields are 260 KB on the
 * wire but a great many allocations. */
#define MAX_HEADER_FIELDS 256
#define FIELD_OVERHEAD_BYTES 4

static int append(struct http_request_reader *reader, char **target, const char *at, size_t length)
{
    reader->header_bytes += length;
    if (reader->header_bytes > reader->limits->max_header_bytes)
        return refuse(reader, 431, "request headers too large");
    size_t old = *target != NULL ? strlen(*target) : 0;
    *target = xrealloc(*target, old + length + 1);
    memcpy(*target + old, at, length);
    (*target)[old + length] = '\0';
    return HPE_OK;
}

static int on_header_field(llhttp_t *parser, const char *at, size_t length)
{
    struct http_request_reader *reader = of(parser);
    struct http_request *request = reader->request;
    if (reader->headers_done) { /* a trailer: never a header the handler reads */
        reader->header_bytes += length;
        return reader->header_bytes > reader->limits->max_header_bytes
                   ? refuse(reader, 431, "request trailers too large") : HPE_OK;
    }
    if (reader->in_header_value || request->header_count == 0) {
        size_t count = request->header_count;
        if (count == MAX_HEADER_FIELDS)
            return refuse(reader, 431, "more than 256 header fields");
        reader->header_bytes += FIELD_OVERHEAD_BYTES;
        if ((count & (count - 1)) == 0) { /* room doubles at each power of two */
            size_t room = count == 0 ? 8 : count * 2;
            request->header_names = xrealloc(request->header_names, room * sizeof(char *));
            request->header_values = xrealloc(request->header_values, room * sizeof(char *));
        }
        request->header_names[count] = NULL;
        request->header_values[count] = xstrdup("");
        request->header_count = count + 1;
        reader->in_header_value = false;
    }
    return append(reader, &request->header_names[request->header_count - 1], at, length);
}

static int on_header_value(llhttp_t *parser, const char *at, size_t length)
{
    struct http_request_reader *reader = of(parser);
    struct http_request *request = reader->request;
    if (reader->headers_done) {
        reader->header_bytes += length;
        return reader->header_bytes > reader->limits->max_header_bytes
                   ? refuse(reader, 431, "request trailers too large") : HPE_OK;
    }
    reader->in_header_value = true;
    return append(reader, &request->header_values[request->header_count - 1], at, length);
}

static int on_headers_complete(llhttp_t *parser)
{
    struct http_request_reader *reader = of(parser);
    struct http_request *request = reader->request;
    reader->headers_done = true;
    request->method = llhttp_method_name((llhttp_method_t)parser->method);
    request->head = parser->method == HTTP_HEAD;
    bool http_1_0 = parser->http_minor == 0;
    size_t hosts = header_occurrences(request, "Host");
    if (hosts > 1)
        return refuse(reader, 400, "more than one Host header");
    if (hosts == 0 && !http_1_0)
        return refuse(reader, 400, "an HTTP/1.1 request without a Host header");
    if (hosts == 1 && !valid_host(http_request_header(request, "Host")))
        return refuse(reader, 400, "the Host header is not a host name or address");
    const char *coding = http_request_header(request, "Transfer-Encoding");
    if (coding != NULL) {
        /* RFC 9112 6.1: in HTTP/1.0 it is faulty framing */
        if (http_1_0)
            return refuse(reader, 400, "Transfer-Encoding in an HTTP/1.0 request");
        if (http_request_header(request, "Content-Length") != NULL)
            return refuse(reader, 400, "both Content-Length and Transfer-Encoding");
        if (header_occurrences(request, "Transfer-Encoding") > 1 || strcasecmp(coding, "chunked") != 0)
            return refuse(reader, 501, "the only transfer coding understood is chunked");
    }
    if ((parser->flags & F_CONTENT_LENGTH) && parser->content_length > reader->limits->max_body_bytes)
        return refuse(reader, 413, "request body too large");
    int rc = read_target(reader);
    if (rc != HPE_OK)
        return rc;
    const char *expect = http_request_header(request, "Expect");
    if (expect != NULL) {
        if (strcasecmp(expect, "100-continue") != 0)
            return refuse(reader, 417, "the only expectation understood is 100-continue");
        if (!http_1_0) {
            reader->expects_continue = true;
            return HPE_PAUSED;
        }
    }
    return HPE_OK;
}

static int on_body(llhttp_t *parser, const char *at, size_t length)
{
    struct http_request_reader *reader = of(parser);
    struct http_request *request = reader->request;
    if (request->body_length + length > reader->limits->max_body_bytes)
        return refuse(reader, 413, "request body too large");
    if (request->body_length + length + 1 > reader->body_capacity) {
        reader->body_capacity = (request->body_length + length + 1) * 2;
        request->body = xrealloc(request->body, reader->body_capacity);
    }
    memcpy(request->body + request->body_length, at, length);
    request->body_length += length;
    return HPE_OK;
}

static int on_message_complete(llhttp_t *parser)
{
    struct http_request_reader *reader = of(parser);
    struct http_request *request = reader->request;
    if (request->body == NULL)
        request->body = nothing;
    else
        request->body[request->body_length] = '\0';
    /* no upgrade is served: after such a request the connection ends */
    request->keep_alive = llhttp_should_keep_alive(parser) && !parser->upgrade;
    reader->started = false;
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_version_complete = on_version_complete,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_request_reader_init(struct http_request_reader *reader, const struct http_limits *limits)
{
    memset(reader, 0, sizeof *reader);
    reader->limits = limits;
    llhttp_init(&reader->parser, HTTP_REQUEST, &settings);
    reader->parser.data = reader;
    /* any HTTP/x.y reaches on_version_complete, which decides as nginx
     * does; every other leniency stays off */
    llhttp_set_lenient_version(&reader->parser, 1);
}

void http_request_reader_release(struct http_request_reader *reader)
{
    http_request_free(reader->request);
    reader->request = NULL;
    free(reader->target);
    reader->target = NULL;
}

bool http_request_reader_started(const struct http_request_reader *reader)
{
    return reader->started;
}

struct http_request *http_request_reader_take(struct http_request_reader *reader)
{
    struct http_request *request = reader->request;
    reader->request = NULL;
    return request;
}

/* llhttp's own refusals: an unsupported version is 505 (as nginx answers
 * "HTTP/9.9"), a transfer coding other than chunked 501, the rest (the
 * HTTP/2 preface included) 400 with llhttp's reason. */
static enum http_read_result failed(struct http_request_reader *reader, llhttp_errno_t error)
{
    if (reader->failure_status != 0)
        return HTTP_READ_FAILED;
    if (error == HPE_INVALID_VERSION && strcmp(llhttp_get_error_reason(&reader->parser), "Invalid HTTP version") == 0) {
        reader->failure_status = 505;
        reader->failure_message = "HTTP version not supported";
        return HTTP_READ_FAILED;
    }
    if (error == HPE_INVALID_TRANSFER_ENCODING &&
        strstr(llhttp_get_error_reason(&reader->parser), "Content-Length") == NULL) {
        reader->failure_status = 501;
        reader->failure_message = "the only transfer coding understood is chunked";
        return HTTP_READ_FAILED;
    }
    reader->failure_status = 400;
    reader->failure_message = llhttp_get_error_reason(&reader->parser);
    if (reader->failure_message == NULL)
        reader->failure_message = llhttp_errno_name(error);
    return HTTP_READ_FAILED;
}

enum http_read_result http_request_reader_feed(struct http_request_reader *reader, const char *data,
                                               size_t length, size_t *used)
{
    *used = 0;
    if (reader->failure_status != 0)
        return HTTP_READ_FAILED;
    if (llhttp_get_errno(&reader->parser) == HPE_PAUSED)
        llhttp_resume(&reader->parser);
    llhttp_errno_t error = llhttp_execute(&reader->parser, data, length);
    if (error == HPE_OK) {
        *used = length;
        return HTTP_READ_MORE;
    }
    if (error != HPE_PAUSED)
        return failed(reader, error);
    *used = (size_t)(llhttp_get_error_pos(&reader->parser) - data);
    if (reader->expects_continue) {
        reader->expects_continue = false;
        return HTTP_READ_CONTINUE;
    }
    return HTTP_READ_REQUEST;
}
