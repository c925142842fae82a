/* test_sam_codec.c - SAM lines, quoting, results and I2P addresses. */
#include "net/sam_codec.h"
#include <stdio.h>

#include "test.h"

TEST(test_sam_lines_are_split_and_bytes_after_them_kept)
{
    struct sam_line_reader reader = {0};
    bool complete = false;
    const char data[] = "STREAM STATUS RESULT=OK\nGET / HTTP/1.1";
    long used = sam_line_reader_feed(&reader, data, sizeof data - 1, &complete);
    CHECK(complete && used == 24);
    CHECK_STRING(reader.line, "STREAM STATUS RESULT=OK");
    sam_line_reader_reset(&reader);
    CHECK(sam_line_reader_feed(&reader, "HELLO RE", 8, &complete) == 8 && !complete);
    CHECK(sam_line_reader_feed(&reader, "PLY RESULT=OK\r\n", 15, &complete) == 15 && complete);
    CHECK_STRING(reader.line, "HELLO REPLY RESULT=OK");
}

TEST(test_sam_replies_parse_with_quoted_values)
{
    struct sam_reply reply;
    const char line[] = "STREAM STATUS RESULT=I2P_ERROR MESSAGE=\"Stream \\\"closed\\\" early\" X";
    CHECK(sam_reply_parse(line, sizeof line - 1, &reply, NULL) == 0);
    CHECK_STRING(reply.topic, "STREAM");
    CHECK_STRING(reply.kind, "STATUS");
    CHECK_STRING(sam_reply_get(&reply, "RESULT"), "I2P_ERROR");
    CHECK_STRING(sam_reply_get(&reply, "MESSAGE"), "Stream \"closed\" early");
    CHECK_STRING(sam_reply_get(&reply, "X"), "");
    CHECK(!sam_reply_ok(&reply, "STREAM", "STATUS"));
    char text[200];
    sam_reply_describe(&reply, text, sizeof text);
    CHECK_STRING(text, "the I2P router reported an error (I2P_ERROR: Stream \"closed\" early)");
    sam_reply_free(&reply);
}

TEST(test_sam_every_result_is_named)
{
    static const struct {
        const char *result;
        const char *text;
    } cases[] = {
        {"CANT_REACH_PEER", "the peer cannot be reached (CANT_REACH_PEER)"},
        {"INVALID_KEY", "the destination or key is invalid (INVALID_KEY)"},
        {"INVALID_ID", "the bridge does not know this session (INVALID_ID)"},
        {"TIMEOUT", "the I2P router timed out (TIMEOUT)"},
        {"DUPLICATED_ID", "a session of this name already exists on the bridge (DUPLICATED_ID)"},
        {"KEY_NOT_FOUND", "the name is not known to the I2P address book (KEY_NOT_FOUND)"},
        {"NOVERSION", "the bridge speaks no SAM version from 3.1 to 3.3 (NOVERSION)"},
        {"WHATEVER", "unexpected reply (WHATEVER)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[128], text[200];
        int length = snprintf(line, sizeof line, "STREAM STATUS RESULT=%s", cases[i].result);
        struct sam_reply reply;
        CHECK(sam_reply_parse(line, (size_t)length, &reply, NULL) == 0);
        sam_reply_describe(&reply, text, sizeof text);
        CHECK_STRING(text, cases[i].text);
        sam_reply_free(&reply);
    }
}

TEST(test_sam_malformed_replies_are_errors)
{
    struct sam_reply reply;
    struct wippy_error error;
    CHECK(sam_reply_parse("HELLO", 5, &reply, &error) == WIPPY_EINVAL);
    CHECK(sam_reply_parse("", 0, &reply, &error) == WIPPY_EINVAL);
    const char open_quote[] = "STREAM STATUS MESSAGE=\"never closed";
    CHECK_EQUAL(sam_reply_parse(open_quote, sizeof open_quote - 1, &reply, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "unterminated");
}

TEST(test_sam_commands_quote_what_needs_it)
{
    char out[256];
    const char *pairs[] = {"ID", "wippy", "DESTINATION", "x.b32.i2p", "MESSAGE", "a \"b\"", NULL};
    long length = sam_format(out, sizeof out, "STREAM", "CONNECT", pairs);
    CHECK(length > 0);
    CHECK_STRING(out, "STREAM CONNECT ID=wippy DESTINATION=x.b32.i2p MESSAGE=\"a \\\"b\\\"\"\n");
    const char *bad[] = {"ID", "two\nlines", NULL};
    CHECK(sam_format(out, sizeof out, "STREAM", "CONNECT", bad) == -1);
}

TEST(test_i2p_addresses)
{
    CHECK(i2p_is_destination("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz.b32.i2p"));
    CHECK(!i2p_is_destination("example.com"));
    CHECK(!i2p_is_destination("site.i2p"));
    /* a destination of 256 + 128 zero bytes and a null certificate (3 bytes) */
    char base64[600] = {0};
    for (int i = 0; i < 516; i++)
        base64[i] = 'A';
    CHECK(i2p_is_destination(base64));
    char b32[80];
    CHECK(i2p_b32_address(base64, b32, sizeof b32));
    CHECK_EQUAL(strlen(b32), 52 + 8);
    CHECK_CONTAINS(b32, ".b32.i2p");
    CHECK(!i2p_b32_address("AAAA", b32, sizeof b32));
    uint8_t bytes[4];
    CHECK(i2p_base64_decode("-~-~", 4, bytes, sizeof bytes) == 3);
    CHECK(bytes[0] == 0xFB && bytes[1] == 0xFF && bytes[2] == 0xBF);
    CHECK(i2p_base64_decode("a+b/", 4, bytes, sizeof bytes) == -1);
}
