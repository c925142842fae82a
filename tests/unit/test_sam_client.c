/* test_sam_client.c - the SAM conversation machine, line by line and byte
 * by byte: what it sends, what it asks the driver for, how it fails. */
#include <stdint.h>
#include <stdlib.h>

#include "net/sam_client.h"
#include "test.h"

/* 256 + 128 zero bytes and a null certificate, in I2P base64. */
static const char *zero_destination(void)
{
    static char base64[520];
    if (base64[0] == '\0')
        memset(base64, 'A', 516);
    return base64;
}

/* Feeds text one byte at a time while the machine asks to receive; returns
 * the step after the last byte used and how many bytes were left. */
static enum sam_client_step feed(struct sam_client *client, const char *text, size_t *unused)
{
    size_t length = strlen(text), at = 0;
    enum sam_client_step step = sam_client_step(client);
    while (at < length && step == SAM_STEP_RECEIVE) {
        at += sam_client_receive(client, text + at, 1);
        step = sam_client_step(client);
    }
    if (unused != NULL)
        *unused = length - at;
    return step;
}

/* The line the machine wants sent now (without its newline), marked sent. */
static const char *sent_line(struct sam_client *client)
{
    static char line[SAM_MAX_LINE];
    if (sam_client_step(client) != SAM_STEP_SEND)
        return "(nothing to send)";
    size_t length;
    const char *output = sam_client_output(client, &length);
    snprintf(line, sizeof line, "%.*s", (int)(length > 0 ? length - 1 : 0), output);
    sam_client_output_sent(client);
    return line;
}

TEST(test_sam_dial_of_a_b32_address_needs_no_lookup)
{
    struct sam_client client;
    const char *b32 = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz.b32.i2p";
    CHECK_EQUAL(sam_client_init_dial(&client, b32, NULL), WIPPY_OK);
    CHECK_STRING(sent_line(&client), "HELLO VERSION MIN=3.1 MAX=3.3");
    CHECK_EQUAL(feed(&client, "HELLO REPLY RESULT=OK VERSION=3.1\n", NULL), SAM_STEP_NEED_SESSION);
    sam_client_use_session(&client, "wippy-1");
    char expected[200];
    snprintf(expected, sizeof expected, "STREAM CONNECT ID=wippy-1 DESTINATION=%s SILENT=false", b32);
    CHECK_STRING(sent_line(&client), expected);
    size_t unused = 0;
    CHECK_EQUAL(feed(&client, "STREAM STATUS RESULT=OK\nHTTP/1.1 200 OK\r\n", &unused), SAM_STEP_STREAM_OPEN);
    CHECK_EQUAL(unused, strlen("HTTP/1.1 200 OK\r\n")); /* the target's bytes stay the caller's */
    sam_client_free(&client);
}

TEST(test_sam_dial_of_a_name_looks_it_up_first)
{
    struct sam_client client;
    CHECK_EQUAL(sam_client_init_dial(&client, "site.i2p", NULL), WIPPY_OK);
    sent_line(&client);
    CHECK_EQUAL(feed(&client, "HELLO REPLY RESULT=OK VERSION=3.1\n", NULL), SAM_STEP_SEND);
    CHECK_STRING(sent_line(&client), "NAMING LOOKUP NAME=site.i2p");
    char reply[700];
    snprintf(reply, sizeof reply, "NAMING REPLY RESULT=OK NAME=site.i2p VALUE=%s\n", zero_destination());
    CHECK_EQUAL(feed(&client, reply, NULL), SAM_STEP_NEED_SESSION);
    CHECK_STRING(client.destination, zero_destination());
    sam_client_free(&client);
}

TEST(test_sam_dial_refuses_clearnet_names_without_a_conversation)
{
    struct sam_client client;
    struct wippy_error error;
    CHECK_EQUAL(sam_client_init_dial(&client, "example.com", &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "example.com is not an I2P destination");
    CHECK_EQUAL(sam_client_init_dial(&client, "127.0.0.1", &error), WIPPY_EINVAL);
}

TEST(test_sam_failures_name_the_step_and_keep_the_result)
{
    struct sam_client client;
    CHECK_EQUAL(sam_client_init_dial(&client, "nowhere.i2p", NULL), WIPPY_OK);
    sent_line(&client);
    feed(&client, "HELLO REPLY RESULT=OK\n", NULL);
    sent_line(&client);
    CHECK_EQUAL(feed(&client, "NAMING REPLY RESULT=KEY_NOT_FOUND NAME=nowhere.i2p\n", NULL), SAM_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "cannot look up nowhere.i2p: ");
    CHECK_CONTAINS(client.error.message, "KEY_NOT_FOUND");
    CHECK_STRING(client.result, "KEY_NOT_FOUND");
    sam_client_free(&client);

    CHECK_EQUAL(sam_client_init_dial(&client, zero_destination(), NULL), WIPPY_OK);
    sent_line(&client);
    feed(&client, "HELLO REPLY RESULT=OK\n", NULL);
    sam_client_use_session(&client, "s");
    sent_line(&client);
    CHECK_EQUAL(feed(&client, "STREAM STATUS RESULT=INVALID_ID\n", NULL), SAM_STEP_FAILED);
    CHECK_STRING(client.result, "INVALID_ID");
    CHECK_CONTAINS(client.error.message, "connect to ");
    sam_client_free(&client);

    sam_client_init_accept(&client);
    sent_line(&client);
    CHECK_EQUAL(feed(&client, "HELLO REPLY RESULT=NOVERSION\n", NULL), SAM_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "HELLO refused: ");
    sam_client_free(&client);
}

TEST(test_sam_session_creates_then_learns_its_destination)
{
    struct sam_client client;
    const char *options[] = {"inbound.length", "1", NULL};
    sam_client_init_session(&client, "wippy-7", NULL, options);
    sent_line(&client);
    CHECK_EQUAL(feed(&client, "HELLO REPLY RESULT=OK\n", NULL), SAM_STEP_SEND);
    CHECK_STRING(sent_line(&client), "SESSION CREATE STYLE=STREAM ID=wippy-7 DESTINATION=TRANSIENT "
                                     "SIGNATURE_TYPE=7 inbound.length=1");
    CHECK_EQUAL(feed(&client, "SESSION STATUS RESULT=OK DESTINATION=PRIVATEKEYS\n", NULL),
                SAM_STEP_SESSION_CREATED);
    CHECK_STRING(client.created_keys, "PRIVATEKEYS");
    sam_client_continue(&client);
    CHECK_STRING(sent_line(&client), "NAMING LOOKUP NAME=ME");
    char reply[700];
    snprintf(reply, sizeof reply, "NAMING REPLY RESULT=OK NAME=ME VALUE=%s\n", zero_destination());
    CHECK_EQUAL(feed(&client, reply, NULL), SAM_STEP_SESSION_READY);
    CHECK_CONTAINS(client.b32, ".b32.i2p");
    /* held open: what the bridge says later is read and ignored */
    CHECK_EQUAL(feed(&client, "PING 1\n", NULL), SAM_STEP_SESSION_READY);
    sam_client_free(&client);
}

TEST(test_sam_session_with_kept_keys_reuses_them)
{
    struct sam_client client;
    sam_client_init_session(&client, "wippy-8", "KEPTKEYS", NULL);
    sent_line(&client);
    feed(&client, "HELLO REPLY RESULT=OK\n", NULL);
    CHECK_STRING(sent_line(&client), "SESSION CREATE STYLE=STREAM ID=wippy-8 DESTINATION=KEPTKEYS");
    CHECK_EQUAL(feed(&client, "SESSION STATUS RESULT=DUPLICATED_ID\n", NULL), SAM_STEP_FAILED);
    CHECK_STRING(client.result, "DUPLICATED_ID");
    CHECK_CONTAINS(client.error.message, "SESSION CREATE wippy-8 refused: ");
    sam_client_free(&client);
}

TEST(test_sam_accept_reports_the_callers_b32_and_keeps_the_stream_bytes)
{
    struct sam_client client;
    sam_client_init_accept(&client);
    sent_line(&client);
    CHECK_EQUAL(feed(&client, "HELLO REPLY RESULT=OK\n", NULL), SAM_STEP_NEED_SESSION);
    sam_client_use_session(&client, "wippy-2");
    CHECK_STRING(sent_line(&client), "STREAM ACCEPT ID=wippy-2 SILENT=false");
    CHECK_EQUAL(feed(&client, "STREAM STATUS RESULT=OK\n", NULL), SAM_STEP_RECEIVE);
    char text[800];
    snprintf(text, sizeof text, "%s FROM_PORT=0 TO_PORT=0\nGET / HTTP/1.1\r\n", zero_destination());
    size_t unused = 0;
    CHECK_EQUAL(feed(&client, text, &unused), SAM_STEP_STREAM_OPEN);
    CHECK_EQUAL(unused, strlen("GET / HTTP/1.1\r\n"));
    CHECK_CONTAINS(client.b32, ".b32.i2p");
    sam_client_free(&client);

    sam_client_init_accept(&client);
    sent_line(&client);
    feed(&client, "HELLO REPLY RESULT=OK\n", NULL);
    sam_client_use_session(&client, "wippy-2");
    sent_line(&client);
    feed(&client, "STREAM STATUS RESULT=OK\n", NULL);
    CHECK_EQUAL(feed(&client, "not-a-destination\n", NULL), SAM_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "malformed peer destination");
    sam_client_free(&client);
}

TEST(test_sam_unexpected_and_malformed_input_fails)
{
    struct sam_client client;
    sam_client_init_accept(&client);
    sent_line(&client);
    CHECK_EQUAL(feed(&client, "STREAM STATUS RESULT=OK\n", NULL), SAM_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "HELLO refused");
    sam_client_free(&client);

    sam_client_init_accept(&client);
    sent_line(&client);
    CHECK_EQUAL(feed(&client, "HELLO\n", NULL), SAM_STEP_FAILED);
    sam_client_free(&client);

    /* bytes while nothing was asked */
    sam_client_init_accept(&client);
    CHECK_EQUAL(sam_client_receive(&client, "x", 1), 0);
    CHECK_EQUAL(sam_client_step(&client), SAM_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "unexpected bytes");
    sam_client_free(&client);

    /* a line longer than the bridge may send */
    sam_client_init_accept(&client);
    sent_line(&client);
    char *long_line = malloc(SAM_MAX_LINE + 10);
    memset(long_line, 'x', SAM_MAX_LINE + 9);
    long_line[SAM_MAX_LINE + 9] = '\0';
    size_t at = 0;
    while (at < SAM_MAX_LINE + 9 && sam_client_step(&client) == SAM_STEP_RECEIVE)
        at += sam_client_receive(&client, long_line + at, SAM_MAX_LINE + 9 - at);
    free(long_line);
    CHECK_EQUAL(sam_client_step(&client), SAM_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "longer than");
    sam_client_free(&client);
}

TEST(test_sam_describes_where_it_waits)
{
    struct sam_client client;
    CHECK_EQUAL(sam_client_init_dial(&client, "site.i2p", NULL), WIPPY_OK);
    CHECK_STRING(sam_client_describe(&client), "waiting for the bridge's HELLO reply");
    sent_line(&client);
    feed(&client, "HELLO REPLY RESULT=OK\n", NULL);
    CHECK_STRING(sam_client_describe(&client), "waiting for NAMING LOOKUP");
    sent_line(&client);
    char reply[700];
    snprintf(reply, sizeof reply, "NAMING REPLY RESULT=OK VALUE=%s\n", zero_destination());
    feed(&client, reply, NULL);
    CHECK_STRING(sam_client_describe(&client), "waiting for the SAM session");
    sam_client_use_session(&client, "s");
    CHECK_STRING(sam_client_describe(&client), "waiting for STREAM CONNECT");
    sam_client_free(&client);
}
