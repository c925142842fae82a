/* sam_client.c - see sam_client.h. */
#include "net/sam_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"

static void init(struct sam_client *client, enum sam_client_kind kind)
{
    memset(client, 0, sizeof *client);
    client->kind = kind;
    client->state = SAM_SEND_HELLO;
}

void sam_client_init_session(struct sam_client *client, const char *session_id,
                             const char *private_keys, const char *const *options)
{
    init(client, SAM_CLIENT_SESSION);
    client->session_id = xstrdup(session_id);
    client->private_keys = private_keys != NULL ? xstrdup(private_keys) : NULL;
    size_t count = 0;
    while (options != NULL && options[count] != NULL)
        count++;
    client->session_options = xcalloc(count + 1, sizeof(char *));
    for (size_t i = 0; i < count; i++)
        client->session_options[i] = xstrdup(options[i]);
}

static bool ends_with(const char *text, const char *suffix)
{
    size_t length = strlen(text), suffix_length = strlen(suffix);
    return length > suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

int sam_client_init_dial(struct sam_client *client, const char *host, struct wippy_error *error)
{
    bool is_name = ends_with(host, ".i2p");
    if (!is_name && !i2p_is_destination(host))
        return error_set(error, WIPPY_EINVAL,
                         "%s is not an I2P destination (I2P has no outproxy here: use a .i2p name, a "
                         ".b32.i2p address or a base64 destination)",
                         host);
    init(client, SAM_CLIENT_DIAL);
    client->host = xstrdup(host);
    if (!is_name || ends_with(host, ".b32.i2p"))
        client->destination = xstrdup(host);
    return WIPPY_OK;
}

void sam_client_init_accept(struct sam_client *client)
{
    init(client, SAM_CLIENT_ACCEPT);
}

void sam_client_free(struct sam_client *client)
{
    free(client->host);
    free(client->destination);
    free(client->session_id);
    for (size_t i = 0; client->session_options != NULL && client->session_options[i] != NULL; i++)
        free(client->session_options[i]);
    free(client->session_options);
    free(client->private_keys);
    free(client->created_keys);
    client->host = client->destination = client->session_id = NULL;
    client->session_options = NULL;
    client->private_keys = client->created_keys = NULL;
}

static void fail(struct sam_client *client, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct sam_client *client, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    client->error.code = WIPPY_EIO;
    vsnprintf(client->error.message, sizeof client->error.message, format, args);
    va_end(args);
    client->state = SAM_FAILED;
}

static void refused(struct sam_client *client, const struct sam_reply *reply, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Fails with what the bridge answered: "<what>: <RESULT meaning>". */
static void refused(struct sam_client *client, const struct sam_reply *reply, const char *format, ...)
{
    const char *result = sam_reply_get(reply, "RESULT");
    snprintf(client->result, sizeof client->result, "%s", result != NULL ? result : "");
    char what[WIPPY_ERROR_MESSAGE_SIZE / 2];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    char why[WIPPY_ERROR_MESSAGE_SIZE / 2];
    sam_reply_describe(reply, why, sizeof why);
    fail(client, "%s: %s", what, why);
}

/* Writes a command into output; the next state is set by the caller. */
static bool format_command(struct sam_client *client, const char *topic, const char *kind,
                           const char *const *pairs)
{
    long length = sam_format(client->output, sizeof client->output, topic, kind, pairs);
    if (length < 0) {
        fail(client, "a %s %s command would not fit in one line", topic, kind);
        return false;
    }
    client->output_length = (size_t)length;
    return true;
}

static bool format_session_create(struct sam_client *client)
{
    size_t option_count = 0;
    while (client->session_options[option_count] != NULL)
        option_count++;
    const char **pairs = xcalloc(option_count + 9, sizeof(char *));
    size_t at = 0;
    pairs[at++] = "STYLE";
    pairs[at++] = "STREAM";
    pairs[at++] = "ID";
    pairs[at++] = client->session_id;
    pairs[at++] = "DESTINATION";
    pairs[at++] = client->private_keys != NULL ? client->private_keys : "TRANSIENT";
    if (client->private_keys == NULL) {
        pairs[at++] = "SIGNATURE_TYPE";
        pairs[at++] = "7"; /* EdDSA-SHA512-Ed25519 */
    }
    for (size_t i = 0; i < option_count; i++)
        pairs[at++] = client->session_options[i];
    bool formatted = format_command(client, "SESSION", "CREATE", pairs);
    free(pairs);
    return formatted;
}

/* Formats the command of a SEND state; false when it failed. */
static bool format_for_state(struct sam_client *client)
{
    switch (client->state) {
    case SAM_SEND_HELLO: {
        const char *pairs[] = {"MIN", "3.1", "MAX", "3.3", NULL};
        return format_command(client, "HELLO", "VERSION", pairs);
    }
    case SAM_SEND_SESSION_CREATE:
        return format_session_create(client);
    case SAM_SEND_OWN_LOOKUP: {
        const char *pairs[] = {"NAME", "ME", NULL};
        return format_command(client, "NAMING", "LOOKUP", pairs);
    }
    case SAM_SEND_NAME_LOOKUP: {
        const char *pairs[] = {"NAME", client->host, NULL};
        return format_command(client, "NAMING", "LOOKUP", pairs);
    }
    case SAM_SEND_STREAM:
        if (client->kind == SAM_CLIENT_DIAL) {
            const char *pairs[] = {"ID", client->session_id, "DESTINATION", client->destination,
                                   "SILENT", "false", NULL};
            return format_command(client, "STREAM", "CONNECT", pairs);
        } else {
            const char *pairs[] = {"ID", client->session_id, "SILENT", "false", NULL};
            return format_command(client, "STREAM", "ACCEPT", pairs);
        }
    default:
        return true;
    }
}

enum sam_client_step sam_client_step(struct sam_client *client)
{
    switch (client->state) {
    case SAM_SEND_HELLO:
    case SAM_SEND_SESSION_CREATE:
    case SAM_SEND_OWN_LOOKUP:
    case SAM_SEND_NAME_LOOKUP:
    case SAM_SEND_STREAM:
        if (client->output_length == 0 && !format_for_state(client))
            return SAM_STEP_FAILED;
        return SAM_STEP_SEND;
    case SAM_SESSION_CREATED:
        return SAM_STEP_SESSION_CREATED;
    case SAM_SESSION_READY:
        return SAM_STEP_SESSION_READY;
    case SAM_WAIT_SESSION:
        return SAM_STEP_NEED_SESSION;
    case SAM_STREAM_OPEN:
        return SAM_STEP_STREAM_OPEN;
    case SAM_FAILED:
        return SAM_STEP_FAILED;
    default:
        return SAM_STEP_RECEIVE;
    }
}

const char *sam_client_output(const struct sam_client *client, size_t *length)
{
    *length = client->output_length;
    return client->output;
}

void sam_client_output_sent(struct sam_client *client)
{
    client->output_length = 0;
    switch (client->state) {
    case SAM_SEND_HELLO:
        client->state = SAM_READ_HELLO;
        break;
    case SAM_SEND_SESSION_CREATE:
        client->state = SAM_READ_SESSION_STATUS;
        break;
    case SAM_SEND_OWN_LOOKUP:
        client->state = SAM_READ_OWN_LOOKUP;
        break;
    case SAM_SEND_NAME_LOOKUP:
        client->state = SAM_READ_NAME_LOOKUP;
        break;
    case SAM_SEND_STREAM:
        client->state = SAM_READ_STREAM_STATUS;
        break;
    default:
        break;
    }
}

void sam_client_continue(struct sam_client *client)
{
    if (client->state == SAM_SESSION_CREATED)
        client->state = SAM_SEND_OWN_LOOKUP;
}

void sam_client_use_session(struct sam_client *client, const char *session_id)
{
    if (client->state != SAM_WAIT_SESSION)
        return;
    free(client->session_id);
    client->session_id = xstrdup(session_id);
    client->state = SAM_SEND_STREAM;
}

/* ---- one reply line per state ---- */

static void after_hello(struct sam_client *client, const struct sam_reply *reply)
{
    if (!sam_reply_ok(reply, "HELLO", "REPLY")) {
        refused(client, reply, "HELLO refused");
        return;
    }
    if (client->kind == SAM_CLIENT_SESSION)
        client->state = SAM_SEND_SESSION_CREATE;
    else if (client->kind == SAM_CLIENT_DIAL && client->destination == NULL)
        client->state = SAM_SEND_NAME_LOOKUP;
    else
        client->state = SAM_WAIT_SESSION;
}

static void after_session_status(struct sam_client *client, const struct sam_reply *reply)
{
    if (!sam_reply_ok(reply, "SESSION", "STATUS")) {
        refused(client, reply, "SESSION CREATE %s refused", client->session_id);
        return;
    }
    const char *keys = sam_reply_get(reply, "DESTINATION");
    client->created_keys = keys != NULL ? xstrdup(keys) : NULL;
    client->state = SAM_SESSION_CREATED;
}

static void after_own_lookup(struct sam_client *client, const struct sam_reply *reply)
{
    const char *value = sam_reply_get(reply, "VALUE");
    if (!sam_reply_ok(reply, "NAMING", "REPLY") || value == NULL ||
        !i2p_b32_address(value, client->b32, sizeof client->b32)) {
        refused(client, reply, "cannot learn the session's own destination");
        return;
    }
    client->state = SAM_SESSION_READY;
}

static void after_name_lookup(struct sam_client *client, const struct sam_reply *reply)
{
    const char *value = sam_reply_get(reply, "VALUE");
    if (!sam_reply_ok(reply, "NAMING", "REPLY") || value == NULL) {
        refused(client, reply, "cannot look up %s", client->host);
        return;
    }
    client->destination = xstrdup(value);
    client->state = SAM_WAIT_SESSION;
}

static void after_stream_status(struct sam_client *client, const struct sam_reply *reply)
{
    if (!sam_reply_ok(reply, "STREAM", "STATUS")) {
        if (client->kind == SAM_CLIENT_DIAL)
            refused(client, reply, "connect to %s failed", client->host);
        else
            refused(client, reply, "STREAM ACCEPT failed");
        return;
    }
    client->state = client->kind == SAM_CLIENT_DIAL ? SAM_STREAM_OPEN : SAM_READ_PEER_DESTINATION;
}

/* An accepted stream starts with the caller's destination on a line of its
 * own (with options after a space in SAM 3.2). */
static void after_peer_destination(struct sam_client *client, const char *line)
{
    char destination[SAM_MAX_LINE];
    size_t length = strcspn(line, " ");
    memcpy(destination, line, length);
    destination[length] = '\0';
    if (!i2p_b32_address(destination, client->b32, sizeof client->b32)) {
        fail(client, "the bridge announced a malformed peer destination");
        return;
    }
    client->state = SAM_STREAM_OPEN;
}

static void take_line(struct sam_client *client)
{
    const char *line = client->reader.line;
    if (client->state == SAM_READ_PEER_DESTINATION) {
        after_peer_destination(client, line);
        return;
    }
    struct sam_reply reply;
    struct wippy_error error;
    if (sam_reply_parse(line, client->reader.length, &reply, &error) < 0) {
        fail(client, "%s", error.message);
        return;
    }
    switch (client->state) {
    case SAM_READ_HELLO:
        after_hello(client, &reply);
        break;
    case SAM_READ_SESSION_STATUS:
        after_session_status(client, &reply);
        break;
    case SAM_READ_OWN_LOOKUP:
        after_own_lookup(client, &reply);
        break;
    case SAM_READ_NAME_LOOKUP:
        after_name_lookup(client, &reply);
        break;
    case SAM_READ_STREAM_STATUS:
        after_stream_status(client, &reply);
        break;
    case SAM_SESSION_READY:
        break; /* the bridge may send PING and the like on the control connection */
    default:
        fail(client, "unexpected line \"%s %s\"", reply.topic, reply.kind);
        break;
    }
    sam_reply_free(&reply);
}

static bool reads_lines(enum sam_client_state state)
{
    switch (state) {
    case SAM_READ_HELLO:
    case SAM_READ_SESSION_STATUS:
    case SAM_READ_OWN_LOOKUP:
    case SAM_SESSION_READY:
    case SAM_READ_NAME_LOOKUP:
    case SAM_READ_STREAM_STATUS:
    case SAM_READ_PEER_DESTINATION:
        return true;
    default:
        return false;
    }
}

size_t sam_client_receive(struct sam_client *client, const char *data, size_t length)
{
    if (!reads_lines(client->state)) {
        if (client->state != SAM_STREAM_OPEN && client->state != SAM_FAILED && length > 0)
            fail(client, "unexpected bytes from the bridge %s", sam_client_describe(client));
        return 0;
    }
    bool complete = false;
    long used = sam_line_reader_feed(&client->reader, data, length, &complete);
    if (used < 0) {
        fail(client, "a reply line longer than %d bytes", SAM_MAX_LINE);
        return length;
    }
    if (complete) {
        take_line(client);
        sam_line_reader_reset(&client->reader);
    }
    return (size_t)used;
}

const char *sam_client_describe(const struct sam_client *client)
{
    switch (client->state) {
    case SAM_SEND_HELLO:
    case SAM_READ_HELLO:
        return "waiting for the bridge's HELLO reply";
    case SAM_SEND_SESSION_CREATE:
    case SAM_READ_SESSION_STATUS:
    case SAM_SESSION_CREATED:
    case SAM_SEND_OWN_LOOKUP:
    case SAM_READ_OWN_LOOKUP:
        return "creating the SAM session";
    case SAM_SESSION_READY:
        return "holding the SAM session";
    case SAM_SEND_NAME_LOOKUP:
    case SAM_READ_NAME_LOOKUP:
        return "waiting for NAMING LOOKUP";
    case SAM_WAIT_SESSION:
        return "waiting for the SAM session";
    case SAM_SEND_STREAM:
    case SAM_READ_STREAM_STATUS:
        return client->kind == SAM_CLIENT_DIAL ? "waiting for STREAM CONNECT" : "waiting for STREAM ACCEPT";
    case SAM_READ_PEER_DESTINATION:
        return "waiting for a caller";
    case SAM_STREAM_OPEN:
        return "streaming";
    default:
        return "failed";
    }
}
