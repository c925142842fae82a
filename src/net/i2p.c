/* i2p.c - the network.i2p driver: talks to an I2P router's SAM v3 bridge.
 * One SAM session per overlay (its control connection held open), reused
 * by every dial and every accept; its destination keys are kept in
 * <state_dir>/i2p/<entry>.keys so a service keeps its address. Each dial is
 * its own bridge connection (HELLO, NAMING LOOKUP for .i2p names, STREAM
 * CONNECT); each accepted connection likewise (STREAM ACCEPT). Names that
 * are not I2P destinations fail: there is no outproxy, and nothing is ever
 * resolved locally. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "net/overlay.h"
#include "net/sam_codec.h"
#include "util/list.h"
#include "util/handle.h"
#include "util/directories.h"
#include "util/memory.h"

/* How long a failed accept waits before asking the bridge again. */
#define ACCEPT_RETRY_MS 1000
/* A router keeps a closed session's name for a while: a runtime restarted at
 * once is told DUPLICATED_ID. It asks again this often, this many times. */
#define SESSION_RETRY_MS 2000
#define SESSION_RETRIES 15
/* i2pd answers SESSION CREATE only once the destination has tunnels, checking
 * every 3 s; an answer faster than this means it handed out a destination with
 * the same keys that it still holds from a closed session (see
 * abandon_reused_destination). */
#define SESSION_REUSED_BELOW_MS 1500
/* i2pd destroys a closed session 5 s after its control socket closed, and the
 * destroyed session stops whatever destination then has its keys. */
#define SESSION_RELEASE_MS 7000

enum session_state {
    SESSION_NONE,
    SESSION_CREATING,
    SESSION_READY,
};

struct conversation;
struct i2p_listener;

struct i2p_overlay {
    struct overlay base;
    char bridge[300];          /* "127.0.0.1:7656" for messages */
    struct sockaddr_storage bridge_address;
    enum session_state session_state;
    struct conversation *control;
    char *session_id;          /* session_name and a suffix of this run */
    char *private_keys;        /* loaded from or saved to keys_path */
    char *keys_path;
    char b32[80];              /* our destination, once the session is ready */
    struct conversation *waiting; /* conversations waiting for the session */
    struct conversation *active;  /* every conversation, for close */
    struct i2p_listener *listeners;
    uv_timer_t *session_retry;
    int session_attempts;
    uint64_t session_requested_at;
    char last_session_error[WIPPY_ERROR_MESSAGE_SIZE];
};

enum conversation_kind {
    CONVERSATION_SESSION,
    CONVERSATION_DIAL,
    CONVERSATION_ACCEPT,
};

/* One connection to the SAM bridge and the exchange of lines on it. */
struct conversation {
    enum conversation_kind kind;
    struct i2p_overlay *overlay;
    uv_tcp_t *tcp;
    uv_timer_t *timer;
    uv_connect_t connect_request;
    uv_write_t write_request;
    char output[SAM_MAX_LINE];
    struct sam_line_reader reader;
    int stage;
    int pending;   /* libuv requests still pointing here */
    bool over;     /* finished, failed or cancelled */
    bool parked;   /* in overlay->waiting */
    char *host;    /* dial: what was asked for */
    char *destination;
    int64_t timeout_ns;
    overlay_dial_done done;
    void *context;
    struct i2p_listener *listener;
    struct conversation *next_waiting;
    struct conversation *previous_active;
    struct conversation *next_active;
};

struct overlay_dial {
    struct conversation conversation;
};

struct i2p_listener {
    struct i2p_overlay *overlay;
    char *label;
    struct overlay_listen_handlers handlers;
    struct conversation *current;
    uv_timer_t *retry;
    bool announced;
    struct i2p_listener *next;
};

static void session_ensure(struct i2p_overlay *overlay);
static void conversation_send(struct conversation *conversation, const char *topic, const char *kind,
                              const char *const *pairs);
static void listener_next(struct i2p_listener *listener);
static void on_retry(uv_timer_t *timer);

/* ---- conversations ---- */

static void release_if_idle(struct conversation *conversation)
{
    if (!conversation->over || conversation->pending > 0)
        return;
    free(conversation->host);
    free(conversation->destination);
    free(conversation);
}

static void unpark(struct conversation *conversation)
{
    if (!conversation->parked)
        return;
    struct conversation **link = &conversation->overlay->waiting;
    while (*link != NULL && *link != conversation)
        link = &(*link)->next_waiting;
    if (*link == conversation)
        *link = conversation->next_waiting;
    conversation->parked = false;
}

/* Ends a conversation: stops its timer, closes its socket (unless handed
 * over), and leaves every list. */
static void conversation_end(struct conversation *conversation)
{
    struct i2p_overlay *overlay = conversation->overlay;
    conversation->over = true;
    unpark(conversation);
    DLIST_REMOVE(overlay->active, conversation, previous_active, next_active);
    if (conversation->timer != NULL) {
        handle_close((uv_handle_t *)conversation->timer);
        conversation->timer = NULL;
    }
    if (conversation->tcp != NULL) {
        handle_close((uv_handle_t *)conversation->tcp);
        conversation->tcp = NULL;
    }
}

static void session_lost(struct i2p_overlay *overlay, const char *why);

static void conversation_fail(struct conversation *conversation, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void conversation_fail(struct conversation *conversation, const char *format, ...)
{
    if (conversation->over)
        return;
    char detail[WIPPY_ERROR_MESSAGE_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    struct i2p_overlay *overlay = conversation->overlay;
    struct wippy_error error;
    error_set(&error, WIPPY_EIO, "overlay %s: SAM bridge %s: %.800s", overlay->base.entry->id,
              overlay->bridge, detail);
    enum conversation_kind kind = conversation->kind;
    struct i2p_listener *listener = conversation->listener;
    conversation_end(conversation);
    switch (kind) {
    case CONVERSATION_DIAL:
        conversation->done(conversation->context, NULL, &error);
        break;
    case CONVERSATION_SESSION:
        session_lost(overlay, error.message);
        break;
    case CONVERSATION_ACCEPT:
        if (listener != NULL && listener->current == conversation) {
            listener->current = NULL;
            fprintf(stderr, "wippy: %s (accepting for %s; retrying)\n", error.message, listener->label);
            uv_timer_start(listener->retry, on_retry, ACCEPT_RETRY_MS, 0);
        }
        break;
    }
    release_if_idle(conversation);
}

/* Hands the socket over as a connection, with the bytes already read past
 * the last line. */
static struct overlay_connection *conversation_hand_over(struct conversation *conversation,
                                                         const char *rest, size_t rest_length)
{
    uv_read_stop((uv_stream_t *)conversation->tcp);
    struct overlay_connection *connection = xcalloc(1, sizeof *connection);
    connection->stream = (uv_stream_t *)conversation->tcp;
    conversation->tcp = NULL;
    if (rest_length > 0) {
        connection->early_bytes = xmalloc(rest_length);
        memcpy(connection->early_bytes, rest, rest_length);
        connection->early_length = rest_length;
    }
    conversation_end(conversation);
    return connection;
}

static bool request_returned(struct conversation *conversation)
{
    conversation->pending--;
    if (!conversation->over)
        return true;
    release_if_idle(conversation);
    return false;
}

static void on_written(uv_write_t *request, int status)
{
    struct conversation *conversation = request->data;
    if (!request_returned(conversation))
        return;
    if (status < 0)
        conversation_fail(conversation, "sending to the bridge failed: %s", uv_strerror(status));
}

static void conversation_send(struct conversation *conversation, const char *topic, const char *kind,
                              const char *const *pairs)
{
    long length = sam_format(conversation->output, sizeof conversation->output, topic, kind, pairs);
    if (length < 0) {
        conversation_fail(conversation, "a %s %s command would not fit in one line", topic, kind);
        return;
    }
    uv_buf_t buffer = uv_buf_init(conversation->output, (unsigned)length);
    conversation->write_request.data = conversation;
    int rc = uv_write(&conversation->write_request, (uv_stream_t *)conversation->tcp, &buffer, 1,
                      on_written);
    if (rc < 0) {
        conversation_fail(conversation, "sending to the bridge failed: %s", uv_strerror(rc));
        return;
    }
    conversation->pending++;
}

static void send_hello(struct conversation *conversation)
{
    const char *pairs[] = {"MIN", "3.1", "MAX", "3.3", NULL};
    conversation_send(conversation, "HELLO", "VERSION", pairs);
}

/* ---- the steps of each kind of conversation ----
 * Each step gets one reply line; rest/rest_length are the bytes after it in
 * the same read (they matter once a stream begins). Returns true while the
 * conversation goes on reading lines. */

static void resume_with_session(struct conversation *conversation);

static bool dial_step(struct conversation *conversation, const struct sam_reply *reply,
                      const char *rest, size_t rest_length)
{
    char why[WIPPY_ERROR_MESSAGE_SIZE];
    switch (conversation->stage) {
    case 0: /* HELLO REPLY */
        if (!sam_reply_ok(reply, "HELLO", "REPLY")) {
            sam_reply_describe(reply, why, sizeof why);
            conversation_fail(conversation, "HELLO refused: %s", why);
            return false;
        }
        if (conversation->destination == NULL) {
            const char *pairs[] = {"NAME", conversation->host, NULL};
            conversation->stage = 1;
            conversation_send(conversation, "NAMING", "LOOKUP", pairs);
            return true;
        }
        conversation->stage = 2;
        resume_with_session(conversation);
        return true;
    case 1: /* NAMING REPLY */
        if (!sam_reply_ok(reply, "NAMING", "REPLY") || sam_reply_get(reply, "VALUE") == NULL) {
            sam_reply_describe(reply, why, sizeof why);
            conversation_fail(conversation, "cannot look up %s: %s", conversation->host, why);
            return false;
        }
        conversation->destination = xstrdup(sam_reply_get(reply, "VALUE"));
        conversation->stage = 2;
        resume_with_session(conversation);
        return true;
    case 3: /* STREAM STATUS */
        if (!sam_reply_ok(reply, "STREAM", "STATUS")) {
            sam_reply_describe(reply, why, sizeof why);
            const char *result = sam_reply_get(reply, "RESULT");
            struct i2p_overlay *overlay = conversation->overlay;
            if (result != NULL && strcmp(result, "INVALID_ID") == 0 &&
                overlay->session_state == SESSION_READY && overlay->control != NULL) {
                /* The bridge forgot our session: the next dial creates it again. */
                struct conversation *control = overlay->control;
                conversation_fail(control, "the bridge no longer knows session %s", overlay->session_id);
            }
            conversation_fail(conversation, "connect to %s failed: %s", conversation->host, why);
            return false;
        }
        {
            overlay_dial_done done = conversation->done;
            void *context = conversation->context;
            struct overlay_connection *connection = conversation_hand_over(conversation, rest, rest_length);
            done(context, connection, NULL);
            release_if_idle(conversation);
        }
        return false;
    default:
        conversation_fail(conversation, "unexpected line \"%s %s\"", reply->topic, reply->kind);
        return false;
    }
}

static bool accept_step(struct conversation *conversation, const struct sam_reply *reply,
                        const char *line, const char *rest, size_t rest_length)
{
    char why[WIPPY_ERROR_MESSAGE_SIZE];
    switch (conversation->stage) {
    case 0:
        if (!sam_reply_ok(reply, "HELLO", "REPLY")) {
            sam_reply_describe(reply, why, sizeof why);
            conversation_fail(conversation, "HELLO refused: %s", why);
            return false;
        }
        conversation->stage = 2;
        resume_with_session(conversation);
        return true;
    case 3: /* STREAM STATUS of ACCEPT */
        if (!sam_reply_ok(reply, "STREAM", "STATUS")) {
            sam_reply_describe(reply, why, sizeof why);
            conversation_fail(conversation, "STREAM ACCEPT failed: %s", why);
            return false;
        }
        conversation->stage = 4;
        return true;
    case 4: { /* the caller's destination, then the stream */
        char destination[SAM_MAX_LINE];
        size_t length = strcspn(line, " ");
        memcpy(destination, line, length);
        destination[length] = '\0';
        char b32[80];
        if (!i2p_b32_address(destination, b32, sizeof b32)) {
            conversation_fail(conversation, "the bridge announced a malformed peer destination");
            return false;
        }
        struct i2p_listener *listener = conversation->listener;
        struct overlay_connection *connection = conversation_hand_over(conversation, rest, rest_length);
        release_if_idle(conversation);
        if (listener != NULL) {
            listener->current = NULL;
            listener_next(listener);
            listener->handlers.accept(listener->handlers.context, connection, b32);
        } else {
            overlay_connection_close(connection);
        }
        return false;
    }
    default:
        conversation_fail(conversation, "unexpected line \"%s %s\"", reply->topic, reply->kind);
        return false;
    }
}

static bool save_keys(struct i2p_overlay *overlay, const char *keys, char *why, size_t size);
static void start_control(struct i2p_overlay *overlay);

static void on_session_retry(uv_timer_t *timer)
{
    start_control(timer->data);
}

static void retry_session_later(struct conversation *conversation, uint64_t delay_ms)
{
    struct i2p_overlay *overlay = conversation->overlay;
    conversation_end(conversation);
    release_if_idle(conversation);
    overlay->control = NULL;
    uv_timer_start(overlay->session_retry, on_session_retry, delay_ms, 0);
}

/* A runtime restarted with its keys within seconds meets i2pd 2.56 still
 * holding the previous run's destination: SESSION CREATE then returns that
 * destination at once, already told to stop accepting streams, and i2pd stops
 * it for good when it destroys the old session a few seconds later. The only
 * way out is to close this session too and ask again once both are gone. */
static bool reused_destination(const struct i2p_overlay *overlay)
{
    return overlay->private_keys != NULL &&
           uv_now(overlay->base.loop) - overlay->session_requested_at < SESSION_REUSED_BELOW_MS;
}

static bool session_step(struct conversation *conversation, const struct sam_reply *reply)
{
    struct i2p_overlay *overlay = conversation->overlay;
    char why[WIPPY_ERROR_MESSAGE_SIZE];
    switch (conversation->stage) {
    case 0: {
        if (!sam_reply_ok(reply, "HELLO", "REPLY")) {
            sam_reply_describe(reply, why, sizeof why);
            conversation_fail(conversation, "HELLO refused: %s", why);
            return false;
        }
        const struct entry_i2p *config = &overlay->base.entry->as.i2p;
        const char *pairs[2 * (8 + 64) + 1];
        size_t at = 0;
        char *texts[64];
        size_t text_count = 0;
        pairs[at++] = "STYLE";
        pairs[at++] = "STREAM";
        pairs[at++] = "ID";
        pairs[at++] = overlay->session_id;
        pairs[at++] = "DESTINATION";
        pairs[at++] = overlay->private_keys != NULL ? overlay->private_keys : "TRANSIENT";
        if (overlay->private_keys == NULL) {
            pairs[at++] = "SIGNATURE_TYPE";
            pairs[at++] = "7"; /* EdDSA-SHA512-Ed25519 */
        }
        for (size_t i = 0; config->options != NULL && i < config->options->as.map.count && i < 60; i++) {
            const struct value *option = config->options->as.map.values[i];
            char *text;
            if (option->type == VALUE_STRING)
                text = xstrdup(option->as.string.bytes);
            else if (option->type == VALUE_INTEGER)
                text = xasprintf("%lld", option->as.integer);
            else if (option->type == VALUE_BOOLEAN)
                text = xstrdup(option->as.boolean ? "true" : "false");
            else
                text = xasprintf("%g", option->as.number);
            texts[text_count++] = text;
            pairs[at++] = config->options->as.map.keys[i];
            pairs[at++] = text;
        }
        pairs[at] = NULL;
        conversation->stage = 1;
        overlay->session_requested_at = uv_now(overlay->base.loop);
        conversation_send(conversation, "SESSION", "CREATE", pairs);
        for (size_t i = 0; i < text_count; i++)
            free(texts[i]);
        return true;
    }
    case 1: {
        if (!sam_reply_ok(reply, "SESSION", "STATUS")) {
            sam_reply_describe(reply, why, sizeof why);
            const char *result = sam_reply_get(reply, "RESULT");
            bool lingering = result != NULL && (strcmp(result, "DUPLICATED_ID") == 0 ||
                                                strcmp(result, "DUPLICATED_DEST") == 0);
            if (lingering && ++overlay->session_attempts <= SESSION_RETRIES) {
                /* Probably our own previous session, still being torn down. */
                retry_session_later(conversation, SESSION_RETRY_MS);
                return false;
            }
            conversation_fail(conversation, "SESSION CREATE %s refused: %s", overlay->session_id, why);
            return false;
        }
        if (reused_destination(overlay) && ++overlay->session_attempts <= SESSION_RETRIES) {
            fprintf(stderr, "wippy: overlay %s: the SAM bridge still held this destination from an earlier "
                            "session; creating the session again in %d s\n",
                    overlay->base.entry->id, SESSION_RELEASE_MS / 1000);
            retry_session_later(conversation, SESSION_RELEASE_MS);
            return false;
        }
        overlay->session_attempts = 0;
        const char *keys = sam_reply_get(reply, "DESTINATION");
        if (overlay->private_keys == NULL && keys != NULL) {
            if (!save_keys(overlay, keys, why, sizeof why)) {
                conversation_fail(conversation, "%s", why);
                return false;
            }
            overlay->private_keys = xstrdup(keys);
        }
        const char *pairs[] = {"NAME", "ME", NULL};
        conversation->stage = 2;
        conversation_send(conversation, "NAMING", "LOOKUP", pairs);
        return true;
    }
    case 2: {
        const char *value = sam_reply_get(reply, "VALUE");
        if (!sam_reply_ok(reply, "NAMING", "REPLY") || value == NULL ||
            !i2p_b32_address(value, overlay->b32, sizeof overlay->b32)) {
            sam_reply_describe(reply, why, sizeof why);
            conversation_fail(conversation, "cannot learn the session's own destination: %s", why);
            return false;
        }
        conversation->stage = 3;
        overlay->session_state = SESSION_READY;
        fprintf(stderr, "wippy: overlay %s: SAM session %s ready, destination %s\n",
                overlay->base.entry->id, overlay->session_id, overlay->b32);
        if (conversation->timer != NULL)
            uv_timer_stop(conversation->timer);
        /* Everything that waited for the session may go on. */
        while (overlay->waiting != NULL) {
            struct conversation *waiting = overlay->waiting;
            unpark(waiting);
            resume_with_session(waiting);
        }
        for (struct i2p_listener *listener = overlay->listeners; listener != NULL; listener = listener->next) {
            if (!listener->announced) {
                fprintf(stderr, "wippy: %s listening on %s via %s\n", listener->label, overlay->b32,
                        overlay->base.entry->id);
                listener->announced = true;
            }
        }
        return true;
    }
    default:
        return true; /* the bridge may send PING and the like on the control socket */
    }
}

/* ---- reading lines ---- */

static char read_buffer[64 * 1024];

static void allocate(uv_handle_t *handle, size_t suggested, uv_buf_t *buffer)
{
    buffer->base = read_buffer;
    buffer->len = sizeof read_buffer;
}

static void on_read(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer)
{
    struct conversation *conversation = stream->data;
    if (count == 0)
        return;
    if (count < 0) {
        if (conversation->kind == CONVERSATION_SESSION && conversation->overlay->session_state == SESSION_READY)
            conversation_fail(conversation, "the bridge closed the session's control connection");
        else
            conversation_fail(conversation, "the bridge closed the connection%s",
                              conversation->kind == CONVERSATION_DIAL && conversation->stage == 3
                                  ? " instead of answering STREAM CONNECT" : "");
        return;
    }
    const char *data = buffer->base;
    size_t left = (size_t)count;
    while (left > 0 && !conversation->over) {
        bool complete = false;
        long used = sam_line_reader_feed(&conversation->reader, data, left, &complete);
        if (used < 0) {
            conversation_fail(conversation, "a reply line longer than %d bytes", SAM_MAX_LINE);
            return;
        }
        data += used;
        left -= (size_t)used;
        if (!complete)
            return;
        const char *line = conversation->reader.line;
        struct sam_reply reply;
        struct wippy_error error;
        bool goes_on;
        bool is_destination_line = conversation->kind == CONVERSATION_ACCEPT && conversation->stage == 4;
        if (is_destination_line) {
            struct sam_reply none = {0};
            accept_step(conversation, &none, line, data, left);
            return;
        }
        if (sam_reply_parse(line, conversation->reader.length, &reply, &error) < 0) {
            conversation_fail(conversation, "%s", error.message);
            return;
        }
        sam_line_reader_reset(&conversation->reader);
        switch (conversation->kind) {
        case CONVERSATION_DIAL:
            goes_on = dial_step(conversation, &reply, data, left);
            break;
        case CONVERSATION_ACCEPT:
            goes_on = accept_step(conversation, &reply, line, data, left);
            break;
        default:
            goes_on = session_step(conversation, &reply);
            break;
        }
        sam_reply_free(&reply);
        if (!goes_on)
            return;
    }
}

/* ---- starting conversations ---- */

static void on_timeout(uv_timer_t *timer)
{
    struct conversation *conversation = timer->data;
    const char *doing = conversation->kind == CONVERSATION_SESSION ? "creating the SAM session"
                        : conversation->parked ? "waiting for the SAM session"
                        : conversation->stage == 3 ? "waiting for STREAM CONNECT"
                                                   : "talking to the bridge";
    conversation_fail(conversation, "timed out after %.3gs %s", (double)conversation->timeout_ns / 1e9,
                      doing);
}

static void on_connected(uv_connect_t *request, int status)
{
    struct conversation *conversation = request->data;
    if (!request_returned(conversation))
        return;
    if (status < 0) {
        conversation_fail(conversation, "cannot reach the bridge: %s", uv_strerror(status));
        return;
    }
    uv_read_start((uv_stream_t *)conversation->tcp, allocate, on_read);
    send_hello(conversation);
}

static struct conversation *conversation_start(struct i2p_overlay *overlay, enum conversation_kind kind,
                                               int64_t timeout_ns, struct conversation *memory,
                                               struct wippy_error *error)
{
    struct conversation *conversation = memory != NULL ? memory : xcalloc(1, sizeof *conversation);
    conversation->kind = kind;
    conversation->overlay = overlay;
    conversation->timeout_ns = timeout_ns;
    conversation->tcp = xmalloc(sizeof *conversation->tcp);
    uv_tcp_init(overlay->base.loop, conversation->tcp);
    conversation->tcp->data = conversation;
    uv_tcp_nodelay(conversation->tcp, 1);
    DLIST_PUSH(overlay->active, conversation, previous_active, next_active);
    if (timeout_ns > 0) {
        conversation->timer = xmalloc(sizeof *conversation->timer);
        uv_timer_init(overlay->base.loop, conversation->timer);
        conversation->timer->data = conversation;
        uv_update_time(overlay->base.loop);
        uv_timer_start(conversation->timer, on_timeout, (uint64_t)((timeout_ns + 999999) / 1000000), 0);
    }
    conversation->connect_request.data = conversation;
    int rc = uv_tcp_connect(&conversation->connect_request, conversation->tcp,
                            (struct sockaddr *)&overlay->bridge_address, on_connected);
    if (rc < 0) {
        error_set(error, WIPPY_EIO, "overlay %s: SAM bridge %s: cannot reach the bridge: %s",
                  overlay->base.entry->id, overlay->bridge, uv_strerror(rc));
        conversation_end(conversation);
        release_if_idle(conversation);
        return NULL;
    }
    conversation->pending++;
    return conversation;
}

/* A dial or accept that said HELLO goes on once the session is ready. */
static void resume_with_session(struct conversation *conversation)
{
    struct i2p_overlay *overlay = conversation->overlay;
    if (overlay->session_state != SESSION_READY) {
        conversation->parked = true;
        conversation->next_waiting = overlay->waiting;
        overlay->waiting = conversation;
        session_ensure(overlay);
        return;
    }
    const char *session = overlay->session_id;
    conversation->stage = 3;
    if (conversation->kind == CONVERSATION_DIAL) {
        const char *pairs[] = {"ID", session, "DESTINATION", conversation->destination, "SILENT", "false", NULL};
        conversation_send(conversation, "STREAM", "CONNECT", pairs);
    } else {
        const char *pairs[] = {"ID", session, "SILENT", "false", NULL};
        conversation_send(conversation, "STREAM", "ACCEPT", pairs);
    }
}

static void session_lost(struct i2p_overlay *overlay, const char *why)
{
    bool was_ready = overlay->session_state == SESSION_READY;
    overlay->session_state = SESSION_NONE;
    overlay->control = NULL;
    snprintf(overlay->last_session_error, sizeof overlay->last_session_error, "%s", why);
    if (was_ready)
        fprintf(stderr, "wippy: %s (the session will be created again when next needed)\n", why);
    /* What waited for this session fails with its reason. */
    while (overlay->waiting != NULL) {
        struct conversation *waiting = overlay->waiting;
        unpark(waiting);
        conversation_fail(waiting, "no SAM session: %s", why);
    }
}

/* SAM session IDs are names on the bridge, and a session the bridge is still
 * tearing down (a previous run's, or one that failed) keeps its name for a
 * while: every SESSION CREATE therefore uses session_name with a fresh suffix. */
static void new_session_id(struct i2p_overlay *overlay)
{
    uint32_t suffix = 0;
    if (getrandom(&suffix, sizeof suffix, 0) != (ssize_t)sizeof suffix)
        suffix = (uint32_t)getpid() ^ (uint32_t)uv_now(overlay->base.loop);
    free(overlay->session_id);
    overlay->session_id = xasprintf("%s-%08x", overlay->base.entry->as.i2p.session_name, suffix);
}

static void start_control(struct i2p_overlay *overlay)
{
    struct wippy_error error;
    new_session_id(overlay);
    /* An isolated router can take a while to build its first tunnels. */
    overlay->control = conversation_start(overlay, CONVERSATION_SESSION, INT64_C(90) * 1000000000,
                                          NULL, &error);
    if (overlay->control == NULL)
        session_lost(overlay, error.message);
}

static void session_ensure(struct i2p_overlay *overlay)
{
    if (overlay->session_state != SESSION_NONE)
        return;
    overlay->session_state = SESSION_CREATING;
    overlay->session_attempts = 0;
    start_control(overlay);
}

/* ---- keys ---- */

/* The keys file is read and written with plain calls: it is under a
 * kilobyte, touched once per session, and a session cannot start without. */
static void load_keys(struct i2p_overlay *overlay)
{
    FILE *file = fopen(overlay->keys_path, "r");
    if (file == NULL)
        return;
    char keys[SAM_MAX_LINE];
    if (fgets(keys, sizeof keys, file) != NULL) {
        keys[strcspn(keys, "\r\n")] = '\0';
        if (keys[0] != '\0')
            overlay->private_keys = xstrdup(keys);
    }
    fclose(file);
}

static bool save_keys(struct i2p_overlay *overlay, const char *keys, char *why, size_t size)
{
    char directory[4096];
    snprintf(directory, sizeof directory, "%s", overlay->keys_path);
    char *slash = strrchr(directory, '/');
    if (slash != NULL)
        *slash = '\0';
    if (make_directories(directory) < 0) {
        snprintf(why, size, "cannot create %.500s: %s", directory, strerror(errno));
        return false;
    }
    char temporary[4200];
    snprintf(temporary, sizeof temporary, "%s.tmp", overlay->keys_path);
    FILE *file = fopen(temporary, "w");
    if (file == NULL || fprintf(file, "%s\n", keys) < 0 || fclose(file) != 0 ||
        chmod(temporary, 0600) != 0 || rename(temporary, overlay->keys_path) != 0) {
        snprintf(why, size, "cannot save the destination keys to %.500s: %s", overlay->keys_path,
                 strerror(errno));
        return false;
    }
    return true;
}

/* ---- the driver ---- */

static struct overlay_dial *i2p_dial(struct overlay *base, const char *host, uint16_t port,
                                     int64_t timeout_ns, overlay_dial_done done, void *context,
                                     struct wippy_error *error)
{
    struct i2p_overlay *overlay = (struct i2p_overlay *)base;
    size_t length = strlen(host);
    bool is_name = length > 4 && strcmp(host + length - 4, ".i2p") == 0;
    if (!is_name && !i2p_is_destination(host)) {
        error_set(error, WIPPY_EINVAL,
                  "overlay %s: %s is not an I2P destination (I2P has no outproxy here: use a .i2p "
                  "name, a .b32.i2p address or a base64 destination)",
                  base->entry->id, host);
        return NULL;
    }
    struct overlay_dial *dial = xcalloc(1, sizeof *dial);
    struct conversation *conversation = &dial->conversation;
    conversation->host = xstrdup(host);
    if (!is_name || (length > 8 && strcmp(host + length - 8, ".b32.i2p") == 0))
        conversation->destination = xstrdup(host);
    conversation->done = done;
    conversation->context = context;
    if (conversation_start(overlay, CONVERSATION_DIAL, timeout_ns, conversation, error) == NULL)
        return NULL;
    return dial;
}

static void i2p_cancel(struct overlay_dial *dial)
{
    struct conversation *conversation = &dial->conversation;
    if (conversation->over)
        return;
    conversation_end(conversation);
    release_if_idle(conversation);
}

static const char *i2p_describe(const struct overlay_dial *dial)
{
    const struct conversation *conversation = &dial->conversation;
    if (conversation->parked)
        return "waiting for the SAM session";
    switch (conversation->stage) {
    case 0:
        return "waiting for the bridge's HELLO reply";
    case 1:
        return "waiting for NAMING LOOKUP";
    default:
        return "waiting for STREAM CONNECT";
    }
}

static void listener_next(struct i2p_listener *listener)
{
    if (listener->current != NULL)
        return;
    struct wippy_error error;
    listener->current = conversation_start(listener->overlay, CONVERSATION_ACCEPT, 0, NULL, &error);
    if (listener->current == NULL) {
        fprintf(stderr, "wippy: %s (accepting for %s; retrying)\n", error.message, listener->label);
        uv_timer_start(listener->retry, on_retry, ACCEPT_RETRY_MS, 0);
        return;
    }
    listener->current->listener = listener;
}

static void on_retry(uv_timer_t *timer)
{
    listener_next(timer->data);
}

static int i2p_listen(struct overlay *base, const char *label, const char *address,
                      const struct overlay_listen_handlers *handlers,
                      struct wippy_error *error)
{
    struct i2p_overlay *overlay = (struct i2p_overlay *)base;
    struct i2p_listener *listener = xcalloc(1, sizeof *listener);
    listener->overlay = overlay;
    listener->label = xstrdup(label);
    listener->handlers = *handlers;
    listener->retry = xmalloc(sizeof *listener->retry);
    uv_timer_init(base->loop, listener->retry);
    listener->retry->data = listener;
    listener->next = overlay->listeners;
    overlay->listeners = listener;
    listener_next(listener);
    return WIPPY_OK;
}

static int i2p_open(struct overlay *base, struct wippy_error *error)
{
    struct i2p_overlay *overlay = (struct i2p_overlay *)base;
    const struct entry_i2p *config = &base->entry->as.i2p;
    bool ipv6 = strchr(config->host, ':') != NULL;
    snprintf(overlay->bridge, sizeof overlay->bridge, ipv6 ? "[%s]:%d" : "%s:%d", config->host, config->port);
    if (uv_ip4_addr(config->host, config->port, (struct sockaddr_in *)&overlay->bridge_address) != 0 &&
        uv_ip6_addr(config->host, config->port, (struct sockaddr_in6 *)&overlay->bridge_address) != 0)
        return error_set(error, WIPPY_EINVAL, "overlay %s: SAM bridge host \"%s\" must be an IP address",
                         base->entry->id, config->host);
    overlay->keys_path = xasprintf("%s/i2p/%s.keys", base->state_dir != NULL ? base->state_dir : ".",
                                   base->entry->name);
    overlay->session_retry = xmalloc(sizeof *overlay->session_retry);
    uv_timer_init(base->loop, overlay->session_retry);
    overlay->session_retry->data = overlay;
    load_keys(overlay);
    return WIPPY_OK;
}

static void i2p_close(struct overlay *base)
{
    struct i2p_overlay *overlay = (struct i2p_overlay *)base;
    while (overlay->listeners != NULL) {
        struct i2p_listener *listener = overlay->listeners;
        overlay->listeners = listener->next;
        if (listener->current != NULL)
            listener->current->listener = NULL;
        handle_close((uv_handle_t *)listener->retry);
        free(listener->label);
        free(listener);
    }
    while (overlay->active != NULL) {
        struct conversation *conversation = overlay->active;
        conversation_end(conversation);
        release_if_idle(conversation);
    }
    handle_close((uv_handle_t *)overlay->session_retry);
    free(overlay->private_keys);
    free(overlay->keys_path);
    free(overlay->session_id);
    free(overlay);
}

const struct overlay_driver i2p_overlay_driver = {
    .kind = ENTRY_NETWORK_I2P,
    .capabilities = OVERLAY_CAN_DIAL | OVERLAY_CAN_LISTEN,
    .size = sizeof(struct i2p_overlay),
    .open = i2p_open,
    .dial = i2p_dial,
    .cancel = i2p_cancel,
    .describe = i2p_describe,
    .listen = i2p_listen,
    .close = i2p_close,
};
