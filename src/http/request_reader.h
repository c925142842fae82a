/* request_reader.h - turns the bytes a client sends into requests, with no
 * I/O of its own (the server feeds it; the fuzzer and the tests do too).
 * llhttp does the framing (request line, headers, Content-Length, chunked
 * bodies) in its strict mode; on top of it the reader enforces what RFC
 * 9112 asks of a server and nginx does: HTTP/1.0 and 1.1 only (505
 * otherwise), exactly one Host in HTTP/1.1, a request target in origin form
 * (or absolute form, or * for OPTIONS) that decodes cleanly and holds no
 * NUL, and the size limits. Anything else is one status and one line. */
#ifndef WIPPY_HTTP_REQUEST_READER_H
#define WIPPY_HTTP_REQUEST_READER_H

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>

struct http_limits {
    size_t max_url_bytes;
    size_t max_header_bytes;
    size_t max_body_bytes;
};

/* A whole request, as the handler sees it. */
struct http_request {
    const char *method; /* llhttp's name of it */
    char *path;  /* decoded */
    char *query; /* raw, without "?"; may be "" */
    char **header_names;
    char **header_values;
    size_t header_count;
    char *body;
    size_t body_length;
    bool head;       /* HEAD: the response carries no body */
    bool keep_alive; /* the client allows another request on the connection */
};

enum http_read_result {
    HTTP_READ_MORE,      /* every byte was used; more are needed */
    HTTP_READ_CONTINUE,  /* the headers ask for "100 Continue": send it, then feed the rest */
    HTTP_READ_REQUEST,   /* a request is complete: take it; the bytes after it were not used */
    HTTP_READ_FAILED,    /* answer failure_status with failure_message and close */
};

struct http_request_reader {
    llhttp_t parser;
    const struct http_limits *limits;
    struct http_request *request; /* being read, or complete until taken */
    char *target;
    size_t target_length;
    size_t header_bytes;
    bool in_header_value;
    bool headers_done; /* what llhttp reports after them is trailers: dropped */
    size_t body_capacity;
    bool started;  /* a request's first byte has been seen */
    bool expects_continue;
    int failure_status;
    const char *failure_message;
};

void http_request_reader_init(struct http_request_reader *reader, const struct http_limits *limits);
void http_request_reader_release(struct http_request_reader *reader);

/* Reads from data; *used tells how many bytes were used. After
 * HTTP_READ_REQUEST, take the request before feeding again. */
enum http_read_result http_request_reader_feed(struct http_request_reader *reader, const char *data,
                                               size_t length, size_t *used);

/* The complete request (owned by the caller now); the reader goes on with
 * the next one. */
struct http_request *http_request_reader_take(struct http_request_reader *reader);

/* True while a request has started but is not complete. */
bool http_request_reader_started(const struct http_request_reader *reader);

void http_request_free(struct http_request *request);

/* The value of the first header called name (case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *request, const char *name);

#endif
