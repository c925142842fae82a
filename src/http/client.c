/* client.c - curl multi handles on libuv (the pattern of curl's
 * multi-uv.c example), one per overlay, and the life of one request. */
#include "http/client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <curl/curl.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/bridge.h"
#include "http/curl_socks5.h"
#include "util/list.h"
#include "util/handle.h"
#include "util/memory.h"

/* A pool keeps the curl handles of finished requests for the next ones:
 * making a handle and freeing it cost about 15,000 instructions of a
 * request's 210,000, and a 16 KB buffer from malloc each time. Requests
 * finish in batches and start again only once their callers have run, so
 * as many are kept as were running (up to 1024, about 22 KB each). Those
 * spare SPARE_HANDLE_MS after the first was put back are freed, so that a
 * burst leaves no memory behind; under steady load that costs a few new
 * handles a second. */
#define SPARE_HANDLES 1024
#define SPARE_HANDLE_MS 1000

struct http_pool {
    struct http_client *client;
    CURLM *multi;
    uv_timer_t *timer;
    struct overlay *overlay; /* the network of every connection in the pool */
    /* The pool's sockets, in an epoll set of its own that the loop watches
     * as one descriptor (see "sockets" below). */
    int epoll_fd;
    uv_poll_t *epoll_watch;
    struct socket_watch *watches; /* by socket number */
    size_t watch_capacity;
    size_t busy_sockets; /* watched for a transfer: they keep the loop alive */
    /* The kernel refused to watch curl's own socket, so curl's multi is
     * dead: its transfers are failed with this, and new requests get a new
     * pool. */
    bool broken;
    char broken_reason[120];
    CURL **spare_handles; /* of finished requests, reset, for the next ones */
    size_t spare_count;
    size_t spare_capacity;
    uv_timer_t *spare_timer; /* frees the spare handles, once unused for a while */
    struct http_pool *next;
};

struct http_client {
    uv_loop_t *loop;
    struct http_pool *pools;
    struct http_request *requests; /* running, for shutdown */
    char *ca_file;      /* SSL_CERT_FILE, as curl's own tool reads it, or NULL */
    char *ca_directory; /* SSL_CERT_DIR, or NULL */
};

struct socket_watch {
    bool open;      /* a socket of the pool's (curl has not closed it) */
    bool curls_own; /* a socket curl made itself: its multi's wakeup */
    bool idle;      /* curl stopped watching (a connection back in its cache) */
    bool busy;      /* a transfer waits on it */
    uint32_t events; /* what the epoll set waits for on it (EPOLLIN, EPOLLOUT), or 0 */
};

/* The sockets curl hands the pool's socket callback are its connections',
 * opened through on_open_socket and closed through on_close_socket, and in
 * libcurl 8.22 one more: its multi's wakeup, which its resolver threads
 * signal and which lives as long as the multi. Its watch is kept between
 * transfers like a connection's (made anew, it cost seven syscalls a
 * request) and closed before the multi. A libcurl with other sockets of its
 * own (7.88's resolver had a socket pair per lookup, closed without telling)
 * needs that looked at again. */
#if LIBCURL_VERSION_NUM != 0x081600
#error "src/http/client.c keeps the watch of curl's own sockets: check them for this libcurl"
#endif

struct http_request {
    struct http_pool *pool;
    CURL *easy;
    struct curl_slist *header_list;
    http_request_done done;
    void *context;
    char *body;
    size_t body_length;
    size_t body_capacity;
    size_t max_response_body;
    bool body_too_large;
    struct http_header *headers;
    size_t header_count;
    size_t header_capacity;
    char error_buffer[CURL_ERROR_SIZE];
    struct wippy_error *overlay_error; /* the first, when an overlay failed */
    int64_t timeout_ns;
    char method[16];
    int (*may_dial)(void *context, const char *host, struct wippy_error *error);
    int (*may_connect)(void *context, const char *address, struct wippy_error *error);
    int (*may_follow)(void *context, const char *url, struct wippy_error *error);
    void *may_dial_context;
    bool through_socks5;     /* curl speaks SOCKS5 to the overlay's proxy itself */
    bool follows_itself;     /* isolated: each redirect a new connection with new credentials */
    int redirects;           /* followed by follows_itself */
    char *origin;            /* then: scheme://host:port of the first URL (at its first redirect) */
    uint64_t started_ns;
    char proxy_address[300]; /* then: "host:port", for messages */
    struct bridge **bridges; /* opened for this transfer */
    size_t bridge_count;
    /* The host and port of target_url, the URL curl fetched when they were
     * last read: curl's URL changes only with a redirect, and they are
     * asked for before every connection and every request. */
    char *target_url;
    char *target_host; /* as written: an IPv6 literal in brackets */
    uint16_t target_port;
    struct http_request *previous;
    struct http_request *next;
};

/* ---- pools ---- */

static void process_finished(struct http_pool *pool);

static void on_timer(uv_timer_t *timer)
{
    struct http_pool *pool = timer->data;
    int running;
    if (pool->broken) /* every transfer fails now: see break_pool */
        curl_multi_perform(pool->multi, &running);
    else
        curl_multi_socket_action(pool->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    process_finished(pool);
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *user)
{
    struct http_pool *pool = user;
    if (timeout_ms < 0)
        uv_timer_stop(pool->timer);
    else
        uv_timer_start(pool->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- sockets ----
 *
 * curl's sockets are in an epoll set per pool, and the loop watches that
 * set as one descriptor, as curl's own tool polls its sockets: a libuv
 * poll per socket cost eight system calls a connection (epoll_ctl to add
 * and remove it when made, again at each start and change, an ioctl), and
 * the set costs three (add, change, remove). Level-triggered, like
 * libuv's: what is not read now is reported again.
 *
 * A socket is added when opened (a refusal fails that connection alone)
 * and only changed after that: a change allocates nothing, so the kernel
 * cannot refuse it for want of memory or watches. A socket curl does not
 * watch is parked: edge-triggered with no events, so a peer that hangs up
 * on a kept connection is reported once, not on every turn. */

static struct socket_watch *watch_of(struct http_pool *pool, curl_socket_t fd)
{
    return fd >= 0 && (size_t)fd < pool->watch_capacity && pool->watches[fd].open ? &pool->watches[fd] : NULL;
}

static struct socket_watch *watch_slot(struct http_pool *pool, curl_socket_t fd)
{
    if ((size_t)fd >= pool->watch_capacity) {
        size_t capacity = (size_t)fd * 2 + 16;
        pool->watches = xrealloc(pool->watches, capacity * sizeof *pool->watches);
        memset(pool->watches + pool->watch_capacity, 0,
               (capacity - pool->watch_capacity) * sizeof *pool->watches);
        pool->watch_capacity = capacity;
    }
    return &pool->watches[fd];
}

/* Whether the pool's sockets keep the loop alive: only while a transfer
 * waits on one (a connection kept idle does not; a deadlock is still seen). */
static void count_busy(struct http_pool *pool, struct socket_watch *watch, bool busy)
{
    if (watch->busy == busy)
        return;
    watch->busy = busy;
    if (busy && pool->busy_sockets++ == 0)
        uv_ref((uv_handle_t *)pool->epoll_watch);
    else if (!busy && --pool->busy_sockets == 0)
        uv_unref((uv_handle_t *)pool->epoll_watch);
}

/* Adds socket fd to the set, parked; -1 (errno set) if the kernel refuses. */
static int watch_add(struct http_pool *pool, curl_socket_t fd)
{
    struct epoll_event parked = {.events = EPOLLET, .data.fd = fd};
    if (epoll_ctl(pool->epoll_fd, EPOLL_CTL_ADD, fd, &parked) == 0)
        return 0;
    /* still there: the number was closed while a copy of the socket lived on */
    return errno == EEXIST ? epoll_ctl(pool->epoll_fd, EPOLL_CTL_MOD, fd, &parked) : -1;
}

/* Makes the set wait for events on socket fd (0: parked). */
static int watch_events(struct http_pool *pool, curl_socket_t fd, struct socket_watch *watch, uint32_t events)
{
    if (events == watch->events)
        return 0;
    struct epoll_event change = {.events = events != 0 ? events : EPOLLET, .data.fd = fd};
    if (epoll_ctl(pool->epoll_fd, EPOLL_CTL_MOD, fd, &change) != 0)
        return -1;
    watch->events = events;
    return 0;
}

static void on_timer(uv_timer_t *timer);

/* curl's multi is dead once its socket callback failed: every transfer of
 * it fails the next time curl runs it, which curl_multi_perform does at
 * once (on_timer), and curl never sets its timer again. */
static void break_pool(struct http_pool *pool, int error_number)
{
    pool->broken = true;
    snprintf(pool->broken_reason, sizeof pool->broken_reason, "cannot watch the HTTP client's sockets: %s",
             strerror(error_number));
    uv_timer_start(pool->timer, on_timer, 0, 0);
}

static void on_sockets_ready(uv_poll_t *epoll_watch, int status, int uv_events)
{
    (void)status;
    (void)uv_events;
    struct http_pool *pool = epoll_watch->data;
    struct epoll_event ready[1024]; /* as libuv takes them; more wait for the next turn */
    int count = epoll_wait(pool->epoll_fd, ready, 1024, 0);
    for (int i = 0; i < count; i++) {
        curl_socket_t fd = ready[i].data.fd;
        /* closed (or its number reused) by an earlier event of this batch:
         * curl is told only of what it still watches */
        struct socket_watch *watch = watch_of(pool, fd);
        if (watch == NULL || watch->events == 0)
            continue;
        if (watch->idle) { /* an idle connection spoke or closed: curl looks when it next takes it */
            watch_events(pool, fd, watch, 0);
            continue;
        }
        uint32_t got = ready[i].events;
        int flags = 0;
        if ((watch->events & EPOLLIN) && (got & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            flags |= CURL_CSELECT_IN;
        if ((watch->events & EPOLLOUT) && (got & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
            flags |= CURL_CSELECT_OUT;
        if (got & EPOLLERR)
            flags |= CURL_CSELECT_ERR;
        int running;
        curl_multi_socket_action(pool->multi, fd, flags, &running);
        process_finished(pool);
    }
}

/* A connection's socket, just opened: the pool knows it until curl closes
 * it through on_close_socket. */
static curl_socket_t watched_socket(struct http_pool *pool, curl_socket_t fd)
{
    if (fd < 0)
        return CURL_SOCKET_BAD;
    struct socket_watch *watch = watch_slot(pool, fd);
    if (watch->open) /* a number curl closed without telling: forget what it was */
        count_busy(pool, watch, false);
    *watch = (struct socket_watch){0};
    if (watch_add(pool, fd) != 0) {
        close(fd);
        return CURL_SOCKET_BAD; /* curl's connection fails at once rather than wait unwatched */
    }
    watch->open = true;
    return fd;
}

/* A connection curl puts back in its cache is removed from curl's watch
 * and taken again for the next request on it, as a rule within
 * microseconds. It stays in the set while it only waits to read (an event
 * then takes it out, and curl looks at the connection when it takes it):
 * each change costs an epoll_ctl. The multi's wakeup socket, watched only
 * while transfers run, is kept the same way. */
static int on_socket_change(CURL *easy, curl_socket_t fd, int what, void *user, void *socket_data)
{
    (void)easy;
    (void)socket_data;
    struct http_pool *pool = user;
    struct socket_watch *watch = watch_of(pool, fd);
    if (what == CURL_POLL_REMOVE) {
        if (watch != NULL) {
            count_busy(pool, watch, false);
            watch->idle = true;
            if (watch->events != EPOLLIN)
                watch_events(pool, fd, watch, 0);
        }
        return 0;
    }
    if (watch == NULL) { /* not a connection's: the multi's wakeup */
        if (fd < 0 || watch_add(pool, fd) != 0) {
            break_pool(pool, fd < 0 ? EBADF : errno);
            return -1;
        }
        watch = watch_slot(pool, fd);
        *watch = (struct socket_watch){.open = true, .curls_own = true};
    }
    uint32_t events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= EPOLLOUT;
    if (watch_events(pool, fd, watch, events) != 0) {
        break_pool(pool, errno);
        return -1; /* curl fails the transfers rather than wait unwatched */
    }
    count_busy(pool, watch, events != 0);
    watch->idle = false;
    return 0;
}

/* curl closes every socket of the pool's connections here: the socket
 * leaves the set first (a copy in a child being started would keep it
 * there after close). */
static int on_close_socket(void *user, curl_socket_t fd)
{
    struct http_pool *pool = user;
    struct socket_watch *watch = watch_of(pool, fd);
    if (watch != NULL) {
        count_busy(pool, watch, false);
        epoll_ctl(pool->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        watch->open = false;
    }
    return close(fd);
}

static void initialise_curl(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* NULL (and error set) when the system will not give the pool an epoll
 * set: out of descriptors or memory. */
static struct http_pool *pool_for(struct http_client *client, struct overlay *overlay, struct wippy_error *error)
{
    for (struct http_pool *pool = client->pools; pool != NULL; pool = pool->next)
        if (pool->overlay == overlay && !pool->broken)
            return pool;
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    int failed = epoll_fd < 0 ? -errno : 0;
    uv_poll_t *epoll_watch = xmalloc(sizeof *epoll_watch);
    if (failed == 0)
        failed = uv_poll_init(client->loop, epoll_watch, epoll_fd);
    if (failed != 0) {
        error_set(error, WIPPY_EIO, "cannot watch the HTTP client's sockets: %s", uv_strerror(failed));
        if (epoll_fd >= 0)
            close(epoll_fd);
        free(epoll_watch);
        return NULL;
    }
    /* libcurl (and OpenSSL under it) is set up on the first request, so a
     * runtime that never makes one does not pay for it at start. */
    static pthread_once_t curl_initialised = PTHREAD_ONCE_INIT; /* once for every scheduler thread */
    pthread_once(&curl_initialised, initialise_curl);
    struct http_pool *pool = xcalloc(1, sizeof *pool);
    pool->epoll_fd = epoll_fd;
    pool->epoll_watch = epoll_watch;
    pool->client = client;
    pool->overlay = overlay;
    pool->multi = curl_multi_init();
    pool->timer = xmalloc(sizeof *pool->timer);
    uv_timer_init(client->loop, pool->timer);
    pool->timer->data = pool;
    pool->spare_timer = xmalloc(sizeof *pool->spare_timer);
    uv_timer_init(client->loop, pool->spare_timer);
    uv_unref((uv_handle_t *)pool->spare_timer); /* spare handles keep no loop alive */
    pool->spare_timer->data = pool;
    pool->epoll_watch->data = pool;
    uv_poll_start(pool->epoll_watch, UV_READABLE, on_sockets_ready);
    uv_unref((uv_handle_t *)pool->epoll_watch); /* until a transfer waits on a socket */
    curl_multi_setopt(pool->multi, CURLMOPT_SOCKETFUNCTION, on_socket_change);
    curl_multi_setopt(pool->multi, CURLMOPT_SOCKETDATA, pool);
    curl_multi_setopt(pool->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(pool->multi, CURLMOPT_TIMERDATA, pool);
    /* curl's default cache holds 4 connections per transfer running now, so
     * a burst that ends would drop its connections just before the next
     * burst needs them (through an overlay, each costs a new dial). A cache
     * smaller than the transfers in flight closes connections as soon as
     * they are done: 256 cost 2.9x with 300 in flight through SOCKS5. */
    curl_multi_setopt(pool->multi, CURLMOPT_MAXCONNECTS, 1024L);
    /* A name a resolver thread is still looking up (getaddrinfo cannot be
     * interrupted) does not hold the runtime's exit. */
    curl_multi_setopt(pool->multi, CURLMOPT_QUICK_EXIT, 1L);
    pool->next = client->pools;
    client->pools = pool;
    return pool;
}

struct http_client *http_client_new(uv_loop_t *loop)
{
    struct http_client *client = xcalloc(1, sizeof *client);
    client->loop = loop;
    /* libcurl leaves these to its tool; users of curl expect them honoured */
    const char *file = getenv("SSL_CERT_FILE"), *directory = getenv("SSL_CERT_DIR");
    client->ca_file = file != NULL && file[0] != '\0' ? xstrdup(file) : NULL;
    client->ca_directory = directory != NULL && directory[0] != '\0' ? xstrdup(directory) : NULL;
    return client;
}

/* ---- one request ---- */

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    struct http_request *request = user;
    size_t length = size * count;
    if (request->max_response_body > 0 &&
        request->body_length + length > request->max_response_body) {
        request->body_too_large = true;
        return 0; /* curl aborts the transfer */
    }
    if (request->body_length + length + 1 > request->body_capacity) {
        request->body_capacity = (request->body_length + length + 1) * 2;
        request->body = xrealloc(request->body, request->body_capacity);
    }
    memcpy(request->body + request->body_length, data, length);
    request->body_length += length;
    return length;
}

static void free_headers(struct http_header *headers, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(headers[i].name); /* the value lives in the same block */
    free(headers);
}

static void clear_headers(struct http_request *request)
{
    free_headers(request->headers, request->header_count);
    request->headers = NULL;
    request->header_count = 0;
    request->header_capacity = 0;
}

/* "content-TYPE" -> "Content-Type", as Go's http.Header does (ASCII only,
 * whatever the locale). */
static void canonicalize(char *name)
{
    bool upper = true;
    for (char *c = name; *c != '\0'; c++) {
        if (upper && *c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
        else if (!upper && *c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
        upper = *c == '-';
    }
}

/* One block holds a header's canonical name and then its value. */
static void set_header(struct http_header *header, const char *name, size_t name_length, const char *value,
                       size_t value_length, const char *more, size_t more_length)
{
    size_t joined_length = value_length + (more != NULL ? 2 + more_length : 0);
    char *block = xmalloc(name_length + 1 + joined_length + 1);
    memcpy(block, name, name_length);
    block[name_length] = '\0';
    canonicalize(block);
    char *joined = block + name_length + 1;
    memcpy(joined, value, value_length);
    if (more != NULL) {
        memcpy(joined + value_length, ", ", 2);
        memcpy(joined + value_length + 2, more, more_length);
    }
    joined[joined_length] = '\0';
    header->name = block;
    header->value = joined;
}

static size_t on_header(char *data, size_t size, size_t count, void *user)
{
    struct http_request *request = user;
    size_t length = size * count;
    if (length >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        clear_headers(request); /* a new response (after a redirect or 100) */
        return length;
    }
    const char *colon = memchr(data, ':', length);
    if (colon == NULL)
        return length;
    /* a name ends at a NUL as a C string would (libcurl 8.22 refuses such
     * lines itself; another libcurl might not) */
    size_t name_length = strnlen(data, (size_t)(colon - data));
    const char *value = colon + 1;
    const char *end = data + length;
    while (value < end && (*value == ' ' || *value == '\t'))
        value++;
    while (end > value && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t value_length = (size_t)(end - value);
    /* names equal but for case have the same canonical form */
    for (size_t i = 0; i < request->header_count; i++) {
        struct http_header *header = &request->headers[i];
        if ((name_length == 0 || tolower((unsigned char)header->name[0]) == tolower((unsigned char)data[0])) &&
            strncasecmp(header->name, data, name_length) == 0 && header->name[name_length] == '\0') {
            char *old = header->name;
            set_header(header, old, name_length, header->value, strlen(header->value), value, value_length);
            free(old);
            return length;
        }
    }
    if (request->header_count == request->header_capacity) {
        request->header_capacity = request->header_capacity == 0 ? 16 : request->header_capacity * 2;
        request->headers = xrealloc(request->headers, request->header_capacity * sizeof *request->headers);
    }
    set_header(&request->headers[request->header_count++], data, name_length, value, value_length, NULL, 0);
    return length;
}

static void on_bridge_dial_failed(void *context, const struct wippy_error *error)
{
    struct http_request *request = context;
    if (request->overlay_error == NULL) {
        request->overlay_error = xmalloc(sizeof *request->overlay_error);
        *request->overlay_error = *error;
    }
}

static void on_bridge_detached(void *context, struct bridge *bridge)
{
    struct http_request *request = context;
    for (size_t i = 0; i < request->bridge_count; i++) {
        if (request->bridges[i] == bridge) {
            request->bridges[i] = request->bridges[--request->bridge_count];
            return;
        }
    }
}

int http_url_target(const char *url, char **host, uint16_t *port)
{
    CURLU *parsed = curl_url();
    char *host_part = NULL, *port_part = NULL;
    int rc = -1;
    if (parsed != NULL && curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_HOST, &host_part, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_PORT, &port_part, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        *host = host_part;
        *port = (uint16_t)atoi(port_part);
        host_part = NULL;
        rc = 0;
    }
    curl_free(host_part);
    curl_free(port_part);
    curl_url_cleanup(parsed);
    return rc;
}

static void remember_target(struct http_request *request, const char *url, const char *host, uint16_t port)
{
    free(request->target_url);
    free(request->target_host);
    request->target_url = xstrdup(url);
    request->target_host = xstrdup(host);
    request->target_port = port;
}

/* The target of the connection curl is opening: the host and port of the
 * URL it is fetching now (after redirects). */
static int current_target(struct http_request *request, char *host, size_t host_size,
                          uint16_t *port)
{
    char *url = NULL;
    curl_easy_getinfo(request->easy, CURLINFO_EFFECTIVE_URL, &url);
    if (url == NULL)
        return -1;
    if (request->target_url == NULL || strcmp(url, request->target_url) != 0) {
        char *parsed_host = NULL;
        uint16_t parsed_port = 0;
        if (http_url_target(url, &parsed_host, &parsed_port) < 0)
            return -1;
        remember_target(request, url, parsed_host, parsed_port);
        curl_free(parsed_host);
    }
    size_t length = strlen(request->target_host);
    const char *start = request->target_host;
    if (length >= 2 && start[0] == '[' && start[length - 1] == ']') {
        start++; /* an IPv6 literal goes to the overlay without brackets */
        length -= 2;
    }
    if (length >= host_size)
        return -1;
    memcpy(host, start, length);
    host[length] = '\0';
    *port = request->target_port;
    return 0;
}

/* A direct connection: the address curl resolved (for the first request
 * and every redirect) is asked about before the socket exists, so a name
 * that resolves to this host's own network is caught as a literal is. */
/* A direct connection nothing has to approve. */
static curl_socket_t on_open_plain_socket(void *user, curlsocktype purpose, struct curl_sockaddr *address)
{
    (void)purpose;
    struct http_request *request = user;
    curl_socket_t fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    return watched_socket(request->pool, fd);
}

static curl_socket_t on_open_direct_socket(void *user, curlsocktype purpose, struct curl_sockaddr *address)
{
    (void)purpose;
    struct http_request *request = user;
    char text[INET6_ADDRSTRLEN] = "";
    if (address->family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&address->addr)->sin_addr, text, sizeof text);
    else if (address->family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&address->addr)->sin6_addr, text, sizeof text);
    struct wippy_error error;
    if (request->may_connect(request->may_dial_context, text, &error) < 0) {
        on_bridge_dial_failed(request, &error);
        return CURL_SOCKET_BAD;
    }
    curl_socket_t fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    return watched_socket(request->pool, fd);
}

static int refuse_request(struct http_request *request, const struct wippy_error *error)
{
    on_bridge_dial_failed(request, error);
    return CURL_PREREQFUNC_ABORT;
}

/* Before each request is sent, on a new connection or a kept-alive one
 * (opened, perhaps, for another caller): the address or host it goes to
 * passes the rules again, and so does a redirect's URL. */
static int on_request_ready(void *user, char *remote_address, char *local_address, int remote_port,
                            int local_port)
{
    (void)local_address, (void)remote_port, (void)local_port;
    struct http_request *request = user;
    struct wippy_error error;
    if (overlay_is_plain_tcp(request->pool->overlay)) {
        if (request->may_connect != NULL &&
            request->may_connect(request->may_dial_context, remote_address, &error) < 0)
            return refuse_request(request, &error);
    } else if (request->may_dial != NULL) {
        char host[2048];
        uint16_t port;
        if (current_target(request, host, sizeof host, &port) < 0) {
            error_set(&error, WIPPY_EINVAL, "cannot tell which host a request goes to");
            return refuse_request(request, &error);
        }
        if (request->may_dial(request->may_dial_context, host, &error) < 0)
            return refuse_request(request, &error);
    }
    long redirects = 0;
    curl_easy_getinfo(request->easy, CURLINFO_REDIRECT_COUNT, &redirects);
    char *url = NULL;
    if (redirects > 0 && request->may_follow != NULL &&
        curl_easy_getinfo(request->easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url != NULL &&
        request->may_follow(request->may_dial_context, url, &error) < 0)
        return refuse_request(request, &error);
    return CURL_PREREQFUNC_OK;
}

static curl_socket_t on_open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *address)
{
    struct http_request *request = user;
    char host[2048];
    uint16_t port;
    struct wippy_error error;
    if (current_target(request, host, sizeof host, &port) < 0) {
        error_set(&error, WIPPY_EINVAL, "cannot tell which host to dial through overlay %s",
                  request->pool->overlay->id);
        on_bridge_dial_failed(request, &error);
        return CURL_SOCKET_BAD;
    }
    if (request->may_dial != NULL && request->may_dial(request->may_dial_context, host, &error) < 0) {
        on_bridge_dial_failed(request, &error);
        return CURL_SOCKET_BAD;
    }
    struct bridge_observer observer = {on_bridge_dial_failed, on_bridge_detached, request};
    struct bridge *bridge = NULL;
    socklen_t length = 0;
    int fd = bridge_open(request->pool->overlay, host, port, request->timeout_ns, observer,
                         &address->addr, &length, &bridge, &error);
    if (fd < 0) {
        on_bridge_dial_failed(request, &error);
        return CURL_SOCKET_BAD;
    }
    address->family = AF_UNIX;
    address->socktype = SOCK_STREAM;
    address->protocol = 0;
    address->addrlen = (unsigned int)length;
    request->bridges = xrealloc(request->bridges, (request->bridge_count + 1) * sizeof(struct bridge *));
    request->bridges[request->bridge_count++] = bridge;
    return watched_socket(request->pool, fd); /* closed unwatched: the bridge sees its end go */
}

/* A connection to a SOCKS5 overlay's proxy, which curl opens itself: the
 * target (the first URL or a redirect's) is asked about first, and a name
 * SOCKS5 cannot carry fails here rather than being resolved. */
static curl_socket_t on_open_proxy_socket(void *user, curlsocktype purpose, struct curl_sockaddr *address)
{
    (void)purpose;
    struct http_request *request = user;
    char host[2048];
    uint16_t port;
    struct wippy_error error;
    const char *id = request->pool->overlay->id;
    if (current_target(request, host, sizeof host, &port) < 0) {
        error_set(&error, WIPPY_EINVAL, "cannot tell which host to dial through overlay %s", id);
        on_bridge_dial_failed(request, &error);
        return CURL_SOCKET_BAD;
    }
    size_t length = strlen(host);
    if (length > CURL_SOCKS5_MAX_HOST) {
        error_set(&error, WIPPY_EINVAL, "overlay %s: host name is %zu bytes, longer than SOCKS5 can carry (%d); it "
                  "is not resolved locally instead", id, length, CURL_SOCKS5_MAX_HOST);
        on_bridge_dial_failed(request, &error);
        return CURL_SOCKET_BAD;
    }
    if (request->may_dial != NULL && request->may_dial(request->may_dial_context, host, &error) < 0) {
        on_bridge_dial_failed(request, &error);
        return CURL_SOCKET_BAD;
    }
    curl_socket_t fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    return watched_socket(request->pool, fd);
}

/* A handle for a new request: a spare one, or a new one. */
static CURL *take_handle(struct http_pool *pool)
{
    if (pool->spare_count > 0)
        return pool->spare_handles[--pool->spare_count];
    return curl_easy_init();
}

static void free_spare_handles(struct http_pool *pool)
{
    while (pool->spare_count > 0)
        curl_easy_cleanup(pool->spare_handles[--pool->spare_count]);
}

static void on_spare_timer(uv_timer_t *timer)
{
    free_spare_handles(timer->data);
}

/* A handle is kept once curl_easy_reset has cleared every option and
 * credential its last request set. What a reset leaves in a handle is
 * nothing a server or proxy could see: TLS sessions are never cached (see
 * http_request_start), and the engines that keep state from one transfer
 * to the next (cookies, HSTS, alt-svc) are not built in (the Makefile's
 * CURL_LEFT_OUT). So an isolated overlay's requests share handles too, and
 * never a connection or proxy credentials: curl_easy_init and
 * curl_easy_cleanup cost 17,000 instructions a request. */
static void release_handle(struct http_pool *pool, CURL *easy, bool reusable)
{
    if (!reusable || pool->spare_count == SPARE_HANDLES) {
        curl_easy_cleanup(easy);
        return;
    }
    curl_easy_reset(easy);
    /* else curl_easy_cleanup, when the spare is freed, would set and then
     * restore SIGPIPE's handler: three system calls a handle (main ignores
     * SIGPIPE for the whole process) */
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    if (pool->spare_count == pool->spare_capacity) {
        pool->spare_capacity = pool->spare_capacity == 0 ? 16 : pool->spare_capacity * 2;
        pool->spare_handles = xrealloc(pool->spare_handles, pool->spare_capacity * sizeof *pool->spare_handles);
    }
    pool->spare_handles[pool->spare_count++] = easy;
    if (!uv_is_active((uv_handle_t *)pool->spare_timer))
        uv_timer_start(pool->spare_timer, on_spare_timer, SPARE_HANDLE_MS, 0);
}

static void unlink_request(struct http_client *client, struct http_request *request)
{
    DLIST_REMOVE(client->requests, request, previous, next);
}

/* handle_reusable: the transfer ended as it should, so its handle may
 * serve another request. */
static void request_free(struct http_request *request, bool handle_reusable)
{
    for (size_t i = 0; i < request->bridge_count; i++)
        bridge_forget_observer(request->bridges[i]);
    free(request->bridges);
    if (request->easy != NULL) {
        /* a handle still in the multi (a removal refused) is never kept */
        bool removed = curl_multi_remove_handle(request->pool->multi, request->easy) == CURLM_OK;
        release_handle(request->pool, request->easy, handle_reusable && removed);
    }
    curl_slist_free_all(request->header_list);
    clear_headers(request);
    free(request->body);
    free(request->origin);
    free(request->overlay_error);
    free(request->target_url);
    free(request->target_host);
    free(request);
}

static const char *dialing_state(struct http_request *request)
{
    for (size_t i = 0; i < request->bridge_count; i++) {
        const char *state = bridge_dial_state(request->bridges[i]);
        if (state != NULL)
            return state;
    }
    return NULL;
}

static void finish(struct http_request *request, CURLcode result)
{
    struct wippy_error error;
    const char *method = request->method;
    char *url = NULL;
    curl_easy_getinfo(request->easy, CURLINFO_EFFECTIVE_URL, &url);
    if (request->overlay_error != NULL) {
        error = *request->overlay_error;
    } else if (request->pool->broken) {
        error_set(&error, WIPPY_EIO, "%s %s: %s", method, url, request->pool->broken_reason);
    } else if (request->body_too_large) {
        error_set(&error, WIPPY_EIO, "%s %s: response body larger than max_response_body (%zu bytes)",
                  method, url, request->max_response_body);
    } else if (result != CURLE_OK && request->through_socks5) {
        char prefix[2300], host[2048] = "";
        uint16_t port = 0;
        current_target(request, host, sizeof host, &port);
        snprintf(prefix, sizeof prefix, "%s %.2200s", method, url != NULL ? url : "");
        curl_socks5_failure(request->easy, result, request->error_buffer, request->pool->overlay,
                            request->proxy_address, host, port, prefix, (double)request->timeout_ns / 1e9, &error);
    } else if (result == CURLE_OPERATION_TIMEDOUT) {
        const char *state = dialing_state(request);
        if (!overlay_is_plain_tcp(request->pool->overlay) && state != NULL)
            error_set(&error, WIPPY_ETIMEDOUT, "%s %s: timed out after %.3gs: overlay %s still %s", method,
                      url, (double)request->timeout_ns / 1e9, request->pool->overlay->id, state);
        else
            error_set(&error, WIPPY_ETIMEDOUT, "%s %s: timed out after %.3gs", method, url,
                      (double)request->timeout_ns / 1e9);
    } else if (result != CURLE_OK) {
        error_set(&error, WIPPY_EIO, "%s %s: %s", method, url,
                  request->error_buffer[0] != '\0' ? request->error_buffer : curl_easy_strerror(result));
    }
    http_request_done done = request->done;
    void *context = request->context;
    if (result != CURLE_OK || request->overlay_error != NULL || request->body_too_large) {
        request_free(request, false);
        done(context, NULL, &error);
        return;
    }
    struct http_response *response = xcalloc(1, sizeof *response);
    curl_easy_getinfo(request->easy, CURLINFO_RESPONSE_CODE, &response->status_code);
    response->url = xstrdup(url != NULL ? url : "");
    response->body = request->body != NULL ? request->body : xstrdup("");
    response->body_length = request->body_length;
    request->body = NULL;
    response->headers = request->headers;
    response->header_count = request->header_count;
    request->headers = NULL;
    request->header_count = 0;
    request->header_capacity = 0;
    request_free(request, true);
    done(context, response, NULL);
}

/* ---- redirects of isolated requests ----
 *
 * curl gives every connection of one transfer the same proxy credentials,
 * and an isolated overlay must use fresh ones for each (Tor would put the
 * first host and the one it redirects to on one circuit). So an isolated
 * request follows its redirects itself, one transfer per hop, with Go's
 * rules (Wippy's): 301/302/303 turn the method into GET without a body
 * (HEAD stays), 307/308 keep both; Authorization and Cookie headers and
 * credentials go no further than the first URL's origin; at most 10. */

#define MAX_REDIRECTS 10

/* "scheme://host:port" of url, or NULL. */
static char *origin_of(const char *url)
{
    CURLU *parsed = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *origin = NULL;
    if (curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        origin = xasprintf("%s://%s:%s", scheme, host, port);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(parsed);
    return origin;
}

static bool names_header(const char *line, const char *name)
{
    size_t length = strlen(name);
    return strncasecmp(line, name, length) == 0 && (line[length] == ':' || line[length] == ';');
}

/* Leaves the first URL's origin: its credentials and cookies stay behind. */
static void drop_credentials(struct http_request *request)
{
    curl_easy_setopt(request->easy, CURLOPT_USERNAME, NULL);
    curl_easy_setopt(request->easy, CURLOPT_PASSWORD, NULL);
    struct curl_slist *kept = NULL;
    for (struct curl_slist *line = request->header_list; line != NULL; line = line->next)
        if (!names_header(line->data, "Authorization") && !names_header(line->data, "Cookie"))
            kept = curl_slist_append(kept, line->data);
    curl_easy_setopt(request->easy, CURLOPT_HTTPHEADER, kept);
    curl_slist_free_all(request->header_list);
    request->header_list = kept;
}

static int refuse_redirect(struct http_request *request, const struct wippy_error *error)
{
    on_bridge_dial_failed(request, error);
    return -1;
}

/* After a transfer of a request that follows its own redirects: 1 when the
 * next hop has started, 0 when this was the answer, -1 when the redirect
 * was refused (the request then fails with why). */
static int follow_redirect(struct http_request *request)
{
    long status = 0;
    char *location = NULL;
    curl_easy_getinfo(request->easy, CURLINFO_RESPONSE_CODE, &status);
    if ((status != 301 && status != 302 && status != 303 && status != 307 && status != 308) ||
        curl_easy_getinfo(request->easy, CURLINFO_REDIRECT_URL, &location) != CURLE_OK || location == NULL)
        return 0;
    struct wippy_error error;
    if (request->redirects >= MAX_REDIRECTS) {
        error_set(&error, WIPPY_EIO, "%s %s: more than %d redirects", request->method, location, MAX_REDIRECTS);
        return refuse_redirect(request, &error);
    }
    if (strncasecmp(location, "http://", 7) != 0 && strncasecmp(location, "https://", 8) != 0) {
        error_set(&error, WIPPY_EINVAL, "a redirect to %.900s was refused: only http and https are followed",
                  location);
        return refuse_redirect(request, &error);
    }
    if (request->may_follow != NULL && request->may_follow(request->may_dial_context, location, &error) < 0)
        return refuse_redirect(request, &error);
    if (request->redirects == 0) { /* the URL of this transfer is still the first */
        char *first = NULL;
        curl_easy_getinfo(request->easy, CURLINFO_EFFECTIVE_URL, &first);
        request->origin = first != NULL ? origin_of(first) : NULL;
    }
    char *next = xstrdup(location); /* curl's, until the URL changes */
    char *origin = origin_of(next);
    CURL *easy = request->easy;
    curl_multi_remove_handle(request->pool->multi, easy);
    curl_easy_setopt(easy, CURLOPT_URL, next);
    bool to_get = strcmp(request->method, "HEAD") != 0 && (status == 301 || status == 302 || status == 303);
    if (to_get && strcmp(request->method, "GET") != 0) {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        snprintf(request->method, sizeof request->method, "GET");
    }
    if (origin == NULL || request->origin == NULL || strcmp(origin, request->origin) != 0)
        drop_credentials(request);
    free(origin);
    if (curl_socks5_use(easy, request->pool->overlay, request->proxy_address, &error) < 0) {
        free(next);
        return refuse_redirect(request, &error);
    }
    if (request->timeout_ns > 0) {
        int64_t left_ns = request->timeout_ns - (int64_t)(uv_hrtime() - request->started_ns);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(left_ns > 1000000 ? left_ns / 1000000 : 1));
    }
    clear_headers(request);
    request->body_length = 0;
    request->redirects++;
    CURLMcode added = curl_multi_add_handle(request->pool->multi, easy);
    if (added != CURLM_OK) {
        error_set(&error, WIPPY_EIO, "%s %.2000s: the redirect could not be started: %s", request->method, next,
                  curl_multi_strerror(added));
        free(next);
        return refuse_redirect(request, &error);
    }
    free(next);
    DLIST_PUSH(request->pool->client->requests, request, previous, next);
    return 1;
}

static void process_finished(struct http_pool *pool)
{
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read(pool->multi, &left)) != NULL) {
        if (message->msg != CURLMSG_DONE)
            continue;
        struct http_request *request = NULL;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&request);
        CURLcode result = message->data.result;
        unlink_request(pool->client, request);
        if (result == CURLE_OK && request->follows_itself && request->overlay_error == NULL &&
            !request->body_too_large && follow_redirect(request) > 0)
            continue;
        finish(request, result);
    }
}

struct http_request *http_request_start(struct http_client *client,
                                        const struct http_request_options *options,
                                        http_request_done done, void *context,
                                        struct wippy_error *error)
{
    struct http_pool *pool = pool_for(client, options->overlay, error);
    if (pool == NULL)
        return NULL;
    struct http_request *request = xcalloc(1, sizeof *request);
    request->pool = pool;
    request->done = done;
    request->context = context;
    request->max_response_body = options->max_response_body;
    request->timeout_ns = options->timeout_ns;
    request->may_dial = options->may_dial;
    request->may_connect = options->may_connect;
    request->may_follow = options->may_follow;
    request->may_dial_context = options->may_dial_context;
    CURL *easy = request->easy = take_handle(request->pool);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, request);
    /* A handle serves one caller after another: no TLS session of one is
     * offered for another's connection. */
    curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, request->error_buffer);
    if (curl_easy_setopt(easy, CURLOPT_URL, options->url) != CURLE_OK) {
        request_free(request, false);
        error_set(error, WIPPY_EINVAL, "invalid URL \"%s\"", options->url);
        return NULL;
    }
    if (options->url_host != NULL)
        remember_target(request, options->url, options->url_host, options->url_port);
    /* These must hold (a proxy from the environment, or another protocol,
     * would apply if one failed): only memory can fail them. */
    if (curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK) { /* never a proxy from the environment */
        request_free(request, false);
        error_set(error, WIPPY_ENOMEM, "%s: out of memory", options->url);
        return NULL;
    }
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    if (getenv("WIPPY_HTTP_TRACE") != NULL) /* curl's own trace on stderr, for debugging */
        curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, request);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, request);
    if (options->timeout_ns > 0)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)((options->timeout_ns + 999999) / 1000000));

    const char *method = options->method != NULL ? options->method : "GET";
    snprintf(request->method, sizeof request->method, "%s", method);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0) {
        /* curl's own POST (not a custom method named POST), so that a
         * 301/302/303 turns it into a GET as Go's client (Wippy's) does */
        curl_easy_setopt(easy, CURLOPT_POST, 1L);
        if (options->body == NULL) { /* else curl would read the body from standard input */
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, 0L);
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
        }
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    }
    if (options->body != NULL) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)options->body_length);
        curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, options->body);
        if (strcmp(method, "GET") == 0)
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "GET");
    }
    for (const char *const *line = options->headers; line != NULL && *line != NULL; line++)
        request->header_list = curl_slist_append(request->header_list, *line);
    /* curl would add "Expect: 100-continue" for large bodies; servers rarely want it. */
    if (options->body != NULL)
        request->header_list = curl_slist_append(request->header_list, "Expect:");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, request->header_list);
    if (options->username != NULL) {
        curl_easy_setopt(easy, CURLOPT_USERNAME, options->username);
        curl_easy_setopt(easy, CURLOPT_PASSWORD, options->password != NULL ? options->password : "");
    }
    if (options->insecure_tls) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (options->ca_pem != NULL) {
        struct curl_blob blob = {(void *)options->ca_pem, strlen(options->ca_pem), CURL_BLOB_COPY};
        curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
    } else {
        if (client->ca_file != NULL)
            curl_easy_setopt(easy, CURLOPT_CAINFO, client->ca_file);
        if (client->ca_directory != NULL)
            curl_easy_setopt(easy, CURLOPT_CAPATH, client->ca_directory);
    }
    if (overlay_is_socks5_proxy(options->overlay)) {
        /* curl speaks SOCKS5 to the proxy itself, sending the host as a
         * name; a connection isolated by its credentials is never reused
         * (curl never reuses one across credentials either). */
        if (curl_socks5_use(easy, options->overlay, request->proxy_address, error) < 0) {
            request_free(request, false);
            return NULL;
        }
        request->through_socks5 = true;
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_proxy_socket);
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, request);
        if (overlay_never_reuses(options->overlay)) {
            curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
            curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
            curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
            request->follows_itself = true;
            request->started_ns = uv_hrtime();
        }
    } else if (!overlay_is_plain_tcp(options->overlay)) {
        /* Every connection goes to a placeholder that is never resolved
         * locally; the open-socket callback turns it into an overlay bridge.
         * Over plain TCP (the direct network) curl connects by itself. */
        static struct curl_slist connect_to = {(char *)"::127.0.0.1:", NULL};
        curl_easy_setopt(easy, CURLOPT_CONNECT_TO, &connect_to);
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, request);
        if (overlay_never_reuses(options->overlay)) {
            curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
            curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
        }
    } else if (options->may_connect != NULL) {
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_direct_socket);
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, request);
    } else {
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_plain_socket);
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, request);
    }
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, request->pool);
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_request_ready);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, request);
    /* curl refuses a handle once its socket callback failed (the multi is
     * then dead): the request fails rather than wait for nothing. */
    CURLMcode added = curl_multi_add_handle(request->pool->multi, easy);
    if (added != CURLM_OK) {
        error_set(error, WIPPY_EIO, "%s %s: the request could not be started: %s", request->method, options->url,
                  curl_multi_strerror(added));
        request_free(request, false);
        return NULL;
    }
    DLIST_PUSH(client->requests, request, previous, next);
    return request;
}

void http_request_cancel(struct http_request *request)
{
    if (request == NULL)
        return;
    unlink_request(request->pool->client, request);
    request_free(request, false);
}

void http_response_free(struct http_response *response)
{
    if (response == NULL)
        return;
    free_headers(response->headers, response->header_count);
    free(response->body);
    free(response->url);
    free(response);
}

void http_client_free(struct http_client *client)
{
    if (client == NULL)
        return;
    free(client->ca_file);
    free(client->ca_directory);
    while (client->requests != NULL)
        http_request_cancel(client->requests);
    bridge_close_all();
    struct http_pool *pool = client->pools;
    while (pool != NULL) {
        struct http_pool *next = pool->next;
        free_spare_handles(pool);
        free(pool->spare_handles);
        handle_close((uv_handle_t *)pool->spare_timer);
        curl_multi_cleanup(pool->multi); /* closes every connection, and its wakeup */
        handle_close((uv_handle_t *)pool->epoll_watch); /* libuv forgets the set at once */
        close(pool->epoll_fd);
        free(pool->watches);
        handle_close((uv_handle_t *)pool->timer);
        free(pool);
        pool = next;
    }
    free(client);
}
