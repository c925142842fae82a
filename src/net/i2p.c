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
#include "net/peer_stream.h"
#include "net/sam_client.h"
#include "util/directories.h"
#include "util/handle.h"
#include "util/list.h"
#include "util/memory.h"
#include "util/log.h"

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
struct overlay_listener;

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
    struct overlay_listener *listeners;
    uv_timer_t *session_retry;
    int session_attempts;
    uint64_t session_requested_at;
};

/* One connection to the SAM bridge and the conversation on it (the
 * session's control connection, a dial, or an accept). */
struct conversation {
    struct peer_stream peer; /* its owner is the conversation */
    struct i2p_overlay *overlay;
    struct sam_client sam;
    bool parked;   /* in overlay->waiting */
    overlay_dial_done done; /* dial */
    void *context;
    struct overlay_listener *listener; /* accept */
    struct conversation *next_waiting;
    struct conversation *previous_active;
    struct conversation *next_active;
};

struct overlay_dial {
    struct conversation conversation;
};

struct overlay_listener {
    struct i2p_overlay *overlay;
    char *label;
    struct overlay_listen_handlers handlers;
    struct conversation *current;
    uv_timer_t *retry;
    bool announced;
    struct overlay_listener *previous;
    struct overlay_listener *next;
};

static void session_ensure(struct i2p_overlay *overlay);
static void session_lost(struct i2p_overlay *overlay, const char *why);
static void listener_next(struct overlay_listener *listener);
static void on_retry(uv_timer_t *timer);
static void advance(struct conversation *conversation);

/* ---- conversations ---- */

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

static bool is_over(const struct conversation *conversation)
{
    return conversation->peer.ended;
}

/* Ends a conversation: it leaves every list and its peer stream closes
 * (the conversation is freed once no request points at it). */
static void conversation_end(struct conversation *conversation)
{
    if (is_over(conversation))
        return;
    unpark(conversation);
    DLIST_REMOVE(conversation->overlay->active, conversation, previous_active, next_active);
    peer_stream_end(&conversation->peer);
}

static void conversation_fail(struct conversation *conversation, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void conversation_fail(struct conversation *conversation, const char *format, ...)
{
    if (is_over(conversation))
        return;
    char detail[WIPPY_ERROR_MESSAGE_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    struct i2p_overlay *overlay = conversation->overlay;
    struct wippy_error error;
    error_set(&error, WIPPY_EIO, "overlay %s: SAM bridge %s: %.800s", overlay->base.id,
              overlay->bridge, detail);
    enum sam_client_kind kind = conversation->sam.kind;
    struct overlay_listener *listener = conversation->listener;
    overlay_dial_done done = conversation->done;
    void *context = conversation->context;
    conversation_end(conversation);
    switch (kind) {
    case SAM_CLIENT_DIAL:
        done(context, NULL, &error);
        break;
    case SAM_CLIENT_SESSION:
        session_lost(overlay, error.message);
        break;
    case SAM_CLIENT_ACCEPT:
        if (listener != NULL && listener->current == conversation) {
            listener->current = NULL;
            log_message(LOG_WARN, "%s (accepting for %s; retrying)", error.message, listener->label);
            uv_timer_start(listener->retry, on_retry, ACCEPT_RETRY_MS, 0);
        }
        break;
    }
}

/* ---- the session's control conversation ---- */

static int save_keys(struct i2p_overlay *overlay, const char *keys, struct wippy_error *error);
static void start_control(struct i2p_overlay *overlay);

static void on_session_retry(uv_timer_t *timer)
{
    start_control(timer->data);
}

static void retry_session_later(struct conversation *conversation, uint64_t delay_ms)
{
    struct i2p_overlay *overlay = conversation->overlay;
    conversation_end(conversation);
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

static void session_created(struct conversation *conversation)
{
    struct i2p_overlay *overlay = conversation->overlay;
    if (reused_destination(overlay) && ++overlay->session_attempts <= SESSION_RETRIES) {
        log_message(LOG_WARN, "overlay %s: the SAM bridge still held this destination from an earlier "
                        "session; creating the session again in %d s",
                overlay->base.id, SESSION_RELEASE_MS / 1000);
        retry_session_later(conversation, SESSION_RELEASE_MS);
        return;
    }
    overlay->session_attempts = 0;
    const char *keys = conversation->sam.created_keys;
    if (overlay->private_keys == NULL && keys != NULL) {
        struct wippy_error error;
        if (save_keys(overlay, keys, &error) < 0) {
            conversation_fail(conversation, "%s", error.message);
            return;
        }
        overlay->private_keys = xstrdup(keys);
    }
    sam_client_continue(&conversation->sam);
    advance(conversation);
}

static void resume_with_session(struct conversation *conversation);

static void session_ready(struct conversation *conversation)
{
    struct i2p_overlay *overlay = conversation->overlay;
    snprintf(overlay->b32, sizeof overlay->b32, "%s", conversation->sam.b32);
    overlay->session_state = SESSION_READY;
    log_message(LOG_INFO, "overlay %s: SAM session %s ready, destination %s", overlay->base.id,
            overlay->session_id, overlay->b32);
    peer_stream_stop_timer(&conversation->peer);
    /* Everything that waited for the session may go on. */
    while (overlay->waiting != NULL) {
        struct conversation *waiting = overlay->waiting;
        unpark(waiting);
        resume_with_session(waiting);
    }
    peer_stream_read(&conversation->peer); /* the control connection stays open */
}

static void session_failed(struct conversation *conversation)
{
    struct i2p_overlay *overlay = conversation->overlay;
    const char *result = conversation->sam.result;
    bool lingering = strcmp(result, "DUPLICATED_ID") == 0 || strcmp(result, "DUPLICATED_DEST") == 0;
    if (lingering && ++overlay->session_attempts <= SESSION_RETRIES) {
        /* Probably our own previous session, still being torn down. */
        retry_session_later(conversation, SESSION_RETRY_MS);
        return;
    }
    conversation_fail(conversation, "%s", conversation->sam.error.message);
}

/* ---- dials and accepts ---- */

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
    sam_client_use_session(&conversation->sam, overlay->session_id);
    advance(conversation);
}

static void stream_failed(struct conversation *conversation)
{
    struct i2p_overlay *overlay = conversation->overlay;
    if (conversation->sam.kind == SAM_CLIENT_DIAL && strcmp(conversation->sam.result, "INVALID_ID") == 0 &&
        overlay->session_state == SESSION_READY && overlay->control != NULL) {
        /* The bridge forgot our session: the next dial creates it again. */
        conversation_fail(overlay->control, "the bridge no longer knows session %s", overlay->session_id);
    }
    conversation_fail(conversation, "%s", conversation->sam.error.message);
}

/* The conversation is a stream now, starting with early. */
static void stream_open(struct conversation *conversation, const char *early, size_t early_length)
{
    DLIST_REMOVE(conversation->overlay->active, conversation, previous_active, next_active);
    if (conversation->sam.kind == SAM_CLIENT_DIAL) {
        overlay_dial_done done = conversation->done;
        void *context = conversation->context;
        done(context, peer_stream_hand_over(&conversation->peer, early, early_length), NULL);
        return;
    }
    char b32[sizeof conversation->sam.b32];
    snprintf(b32, sizeof b32, "%s", conversation->sam.b32);
    struct overlay_listener *listener = conversation->listener;
    struct overlay_connection *connection = peer_stream_hand_over(&conversation->peer, early, early_length);
    if (listener == NULL) {
        overlay_connection_close(connection);
        return;
    }
    listener->current = NULL;
    listener_next(listener);
    listener->handlers.accept(listener->handlers.context, connection, b32);
}

/* ---- driving the SAM conversation ---- */

/* A listener says it listens once the bridge has taken its first STREAM
 * ACCEPT (it waits for a caller's destination now), not before. */
static void announce_when_accepting(struct conversation *conversation)
{
    struct overlay_listener *listener = conversation->listener;
    if (listener == NULL || listener->announced || conversation->sam.kind != SAM_CLIENT_ACCEPT ||
        conversation->sam.state != SAM_READ_PEER_DESTINATION)
        return;
    listener->announced = true;
    log_message(LOG_INFO, "%s listening on %s via %s", listener->label, conversation->overlay->b32,
            conversation->overlay->base.id);
}

/* Does what the SAM machine asks, until it waits for bytes or a write. */
static void advance(struct conversation *conversation)
{
    if (is_over(conversation))
        return;
    switch (sam_client_step(&conversation->sam)) {
    case SAM_STEP_SEND: {
        size_t length;
        const char *line = sam_client_output(&conversation->sam, &length);
        if (conversation->sam.state == SAM_SEND_SESSION_CREATE)
            conversation->overlay->session_requested_at = uv_now(conversation->overlay->base.loop);
        peer_stream_send(&conversation->peer, line, length);
        return;
    }
    case SAM_STEP_RECEIVE:
        announce_when_accepting(conversation);
        peer_stream_read(&conversation->peer);
        return;
    case SAM_STEP_NEED_SESSION:
        resume_with_session(conversation);
        return;
    case SAM_STEP_SESSION_CREATED:
        session_created(conversation);
        return;
    case SAM_STEP_SESSION_READY:
        if (conversation->overlay->session_state != SESSION_READY)
            session_ready(conversation);
        return;
    case SAM_STEP_STREAM_OPEN:
        stream_open(conversation, NULL, 0);
        return;
    case SAM_STEP_FAILED:
        if (conversation->sam.kind == SAM_CLIENT_SESSION)
            session_failed(conversation);
        else
            stream_failed(conversation);
        return;
    }
}

static void on_peer_connected(struct peer_stream *peer)
{
    advance(peer->owner);
}

static void on_peer_sent(struct peer_stream *peer)
{
    struct conversation *conversation = peer->owner;
    sam_client_output_sent(&conversation->sam);
    advance(conversation);
}

static void on_peer_received(struct peer_stream *peer, const char *data, size_t length)
{
    struct conversation *conversation = peer->owner;
    size_t used = 0;
    while (used < length && !is_over(conversation)) {
        used += sam_client_receive(&conversation->sam, data + used, length - used);
        enum sam_client_step step = sam_client_step(&conversation->sam);
        if (step == SAM_STEP_STREAM_OPEN) {
            stream_open(conversation, data + used, length - used);
            return;
        }
        if (step != SAM_STEP_RECEIVE)
            advance(conversation);
        else
            announce_when_accepting(conversation);
    }
}

static void on_peer_failed(struct peer_stream *peer, enum peer_stream_failure failure, const char *detail)
{
    struct conversation *conversation = peer->owner;
    const struct sam_client *sam = &conversation->sam;
    switch (failure) {
    case PEER_LOOKUP_FAILED: /* not met: the bridge is an address */
    case PEER_UNREACHABLE:
        conversation_fail(conversation, "cannot reach the bridge: %s", detail);
        break;
    case PEER_SEND_FAILED:
        conversation_fail(conversation, "sending to the bridge failed: %s", detail);
        break;
    case PEER_READ_FAILED:
        conversation_fail(conversation, "reading from the bridge failed: %s", detail);
        break;
    case PEER_CLOSED:
        if (sam->kind == SAM_CLIENT_SESSION && sam->state == SAM_SESSION_READY)
            conversation_fail(conversation, "the bridge closed the session's control connection");
        else if (sam->kind == SAM_CLIENT_DIAL &&
                 (sam->state == SAM_SEND_STREAM || sam->state == SAM_READ_STREAM_STATUS))
            conversation_fail(conversation, "the bridge closed the connection instead of answering STREAM CONNECT");
        else
            conversation_fail(conversation, "the bridge closed the connection");
        break;
    case PEER_TIMED_OUT:
        conversation_fail(conversation, "timed out after %.3gs %s", (double)peer->timeout_ns / 1e9,
                          sam->kind == SAM_CLIENT_SESSION ? "creating the SAM session"
                          : sam->state == SAM_SEND_HELLO  ? "talking to the bridge"
                                                          : sam_client_describe(sam));
        break;
    }
}

static void release_conversation(struct peer_stream *peer)
{
    struct conversation *conversation = peer->owner;
    sam_client_free(&conversation->sam);
    free(conversation);
}

static const struct peer_stream_events conversation_events = {
    .connected = on_peer_connected,
    .sent = on_peer_sent,
    .received = on_peer_received,
    .failed = on_peer_failed,
    .release = release_conversation,
};

/* Connects a conversation (its sam client prepared) to the bridge. Returns
 * false with error set when that cannot even start (the conversation is then
 * freed). */
static bool conversation_start(struct i2p_overlay *overlay, struct conversation *conversation,
                               int64_t timeout_ns, struct wippy_error *error)
{
    conversation->overlay = overlay;
    peer_stream_init(&conversation->peer, overlay->base.loop, &conversation_events, conversation);
    DLIST_PUSH(overlay->active, conversation, previous_active, next_active);
    peer_stream_start_timer(&conversation->peer, timeout_ns);
    int rc = peer_stream_connect(&conversation->peer, (struct sockaddr *)&overlay->bridge_address);
    if (rc < 0) {
        error_set(error, WIPPY_EIO, "overlay %s: SAM bridge %s: cannot reach the bridge: %s",
                  overlay->base.id, overlay->bridge, uv_strerror(rc));
        conversation_end(conversation);
        return false;
    }
    return true;
}

static void session_lost(struct i2p_overlay *overlay, const char *why)
{
    bool was_ready = overlay->session_state == SESSION_READY;
    overlay->session_state = SESSION_NONE;
    overlay->control = NULL;
    if (was_ready)
        log_message(LOG_WARN, "%s (the session will be created again when next needed)", why);
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
    overlay->session_id = xasprintf("%s-%08x", overlay->base.config.i2p.session_name, suffix);
}

static void start_control(struct i2p_overlay *overlay)
{
    new_session_id(overlay);
    struct conversation *control = xcalloc(1, sizeof *control);
    sam_client_init_session(&control->sam, overlay->session_id, overlay->private_keys,
                            overlay->base.config.i2p.options);
    /* An isolated router can take a while to build its first tunnels. */
    struct wippy_error error;
    overlay->control = control;
    if (!conversation_start(overlay, control, INT64_C(90) * 1000000000, &error)) {
        overlay->control = NULL;
        session_lost(overlay, error.message);
    }
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

static int save_keys(struct i2p_overlay *overlay, const char *keys, struct wippy_error *error)
{
    char directory[4096];
    snprintf(directory, sizeof directory, "%s", overlay->keys_path);
    char *slash = strrchr(directory, '/');
    if (slash != NULL)
        *slash = '\0';
    if (make_directories(directory) < 0)
        return error_set(error, WIPPY_EIO, "cannot create %.500s: %s", directory, strerror(errno));
    char temporary[4200];
    snprintf(temporary, sizeof temporary, "%s.tmp", overlay->keys_path);
    FILE *file = fopen(temporary, "w");
    if (file == NULL || fprintf(file, "%s\n", keys) < 0 || fclose(file) != 0 ||
        chmod(temporary, 0600) != 0 || rename(temporary, overlay->keys_path) != 0)
        return error_set(error, WIPPY_EIO, "cannot save the destination keys to %.500s: %s",
                         overlay->keys_path, strerror(errno));
    return WIPPY_OK;
}

/* ---- the driver ---- */

static struct overlay_dial *i2p_dial(struct overlay *base, const char *host, uint16_t port,
                                     int64_t timeout_ns, overlay_dial_done done, void *context,
                                     struct wippy_error *error)
{
    struct i2p_overlay *overlay = (struct i2p_overlay *)base;
    struct overlay_dial *dial = xcalloc(1, sizeof *dial);
    struct conversation *conversation = &dial->conversation;
    struct wippy_error refused;
    if (sam_client_init_dial(&conversation->sam, host, &refused) < 0) {
        error_set(error, refused.code, "overlay %s: %.900s", base->id, refused.message);
        free(dial);
        return NULL;
    }
    conversation->done = done;
    conversation->context = context;
    if (!conversation_start(overlay, conversation, timeout_ns, error))
        return NULL;
    return dial;
}

static void i2p_cancel(struct overlay_dial *dial)
{
    conversation_end(&dial->conversation);
}

static const char *i2p_describe(const struct overlay_dial *dial)
{
    return sam_client_describe(&dial->conversation.sam);
}

static void listener_next(struct overlay_listener *listener)
{
    if (listener->current != NULL)
        return;
    struct conversation *accepting = xcalloc(1, sizeof *accepting);
    sam_client_init_accept(&accepting->sam);
    accepting->listener = listener;
    listener->current = accepting;
    struct wippy_error error;
    if (!conversation_start(listener->overlay, accepting, 0, &error)) {
        listener->current = NULL;
        log_message(LOG_WARN, "%s (accepting for %s; retrying)", error.message, listener->label);
        uv_timer_start(listener->retry, on_retry, ACCEPT_RETRY_MS, 0);
    }
}

static void on_retry(uv_timer_t *timer)
{
    listener_next(timer->data);
}

static struct overlay_listener *i2p_listen(struct overlay *base, const char *label, const char *address,
                                           const struct overlay_listen_handlers *handlers,
                                           struct wippy_error *error)
{
    struct i2p_overlay *overlay = (struct i2p_overlay *)base;
    struct overlay_listener *listener = xcalloc(1, sizeof *listener);
    listener->overlay = overlay;
    listener->label = xstrdup(label);
    listener->handlers = *handlers;
    listener->retry = xmalloc(sizeof *listener->retry);
    uv_timer_init(base->loop, listener->retry);
    listener->retry->data = listener;
    DLIST_PUSH(overlay->listeners, listener, previous, next);
    listener_next(listener);
    return listener;
}

/* Forgets a listener; its accept in progress (if any) is ended. */
static void free_listener(struct overlay_listener *listener)
{
    struct conversation *current = listener->current;
    if (current != NULL) {
        current->listener = NULL;
        conversation_end(current);
    }
    handle_close((uv_handle_t *)listener->retry);
    free(listener->label);
    free(listener);
}

static void stop_listening(struct overlay_listener *listener)
{
    DLIST_REMOVE(listener->overlay->listeners, listener, previous, next);
    free_listener(listener);
}

static int i2p_open(struct overlay *base, struct wippy_error *error)
{
    struct i2p_overlay *overlay = (struct i2p_overlay *)base;
    const struct i2p_config *config = &base->config.i2p;
    bool ipv6 = strchr(config->host, ':') != NULL;
    snprintf(overlay->bridge, sizeof overlay->bridge, ipv6 ? "[%s]:%d" : "%s:%d", config->host, config->port);
    if (uv_ip4_addr(config->host, config->port, (struct sockaddr_in *)&overlay->bridge_address) != 0 &&
        uv_ip6_addr(config->host, config->port, (struct sockaddr_in6 *)&overlay->bridge_address) != 0)
        return error_set(error, WIPPY_EINVAL, "overlay %s: SAM bridge host \"%s\" must be an IP address",
                         base->id, config->host);
    overlay->keys_path = xasprintf("%s/i2p/%s.keys", base->state_dir != NULL ? base->state_dir : ".",
                                   base->name);
    overlay->session_retry = xmalloc(sizeof *overlay->session_retry);
    uv_timer_init(base->loop, overlay->session_retry);
    overlay->session_retry->data = overlay;
    load_keys(overlay);
    return WIPPY_OK;
}

static void i2p_close(struct overlay *base)
{
    struct i2p_overlay *overlay = (struct i2p_overlay *)base;
    while (overlay->listeners != NULL)
        stop_listening(overlay->listeners);
    while (overlay->active != NULL)
        conversation_end(overlay->active);
    handle_close((uv_handle_t *)overlay->session_retry);
    free(overlay->private_keys);
    free(overlay->keys_path);
    free(overlay->session_id);
    free(overlay);
}

const struct overlay_driver i2p_overlay_driver = {
    .capabilities = OVERLAY_CAN_DIAL | OVERLAY_CAN_LISTEN,
    .size = sizeof(struct i2p_overlay),
    .open = i2p_open,
    .dial = i2p_dial,
    .cancel = i2p_cancel,
    .describe = i2p_describe,
    .listen = i2p_listen,
    .stop_listening = stop_listening,
    .close = i2p_close,
};
