/* test_socks5_codec.c - the SOCKS5 client machine, byte by byte. */
#include <stdint.h>

#include "net/socks5_codec.h"
#include "test.h"

/* Feeds bytes one at a time; returns the step after the last byte used and
 * how many bytes were left unused. */
static enum socks5_step feed(struct socks5_client *client, const uint8_t *bytes, size_t length,
                             size_t *unused)
{
    size_t at = 0;
    enum socks5_step step = socks5_client_step(client);
    while (at < length && step == SOCKS5_STEP_RECEIVE) {
        at += socks5_client_receive(client, bytes + at, 1);
        step = socks5_client_step(client);
    }
    if (unused != NULL)
        *unused = length - at;
    return step;
}

static bool output_is(struct socks5_client *client, const uint8_t *expected, size_t length)
{
    size_t got = 0;
    const uint8_t *bytes = socks5_client_output(client, &got);
    return got == length && memcmp(bytes, expected, length) == 0;
}

TEST(test_socks5_greeting_offers_no_auth_only_without_credentials)
{
    struct socks5_client client;
    CHECK(socks5_client_init(&client, "example.com", 80, NULL, NULL, NULL) == 0);
    CHECK_EQUAL(socks5_client_step(&client), SOCKS5_STEP_SEND);
    CHECK(output_is(&client, (const uint8_t[]){5, 1, 0}, 3));
}

TEST(test_socks5_greeting_offers_both_methods_with_credentials)
{
    struct socks5_client client;
    CHECK(socks5_client_init(&client, "example.com", 80, "user", "secret", NULL) == 0);
    CHECK_EQUAL(socks5_client_step(&client), SOCKS5_STEP_SEND);
    CHECK(output_is(&client, (const uint8_t[]){5, 2, 0, 2}, 4));
    socks5_client_output_sent(&client);
    CHECK(feed(&client, (const uint8_t[]){5, 2}, 2, NULL) == SOCKS5_STEP_SEND);
    CHECK(output_is(&client, (const uint8_t[]){1, 4, 'u', 's', 'e', 'r', 6, 's', 'e', 'c', 'r', 'e', 't'}, 13));
    socks5_client_output_sent(&client);
    CHECK(feed(&client, (const uint8_t[]){1, 0}, 2, NULL) == SOCKS5_STEP_SEND);
}

TEST(test_socks5_sends_hostnames_as_domain_names_never_resolved)
{
    struct socks5_client client;
    CHECK(socks5_client_init(&client, "only-the-proxy-knows.test", 8080, NULL, NULL, NULL) == 0);
    socks5_client_step(&client);
    socks5_client_output_sent(&client);
    CHECK(feed(&client, (const uint8_t[]){5, 0}, 2, NULL) == SOCKS5_STEP_SEND);
    size_t length;
    const uint8_t *out = socks5_client_output(&client, &length);
    CHECK_EQUAL(length, 4 + 1 + 25 + 2);
    CHECK(out[0] == 5 && out[1] == 1 && out[2] == 0 && out[3] == 3 && out[4] == 25);
    CHECK(memcmp(out + 5, "only-the-proxy-knows.test", 25) == 0);
    CHECK(out[30] == 0x1F && out[31] == 0x90);
}

TEST(test_socks5_sends_ip_literals_as_addresses)
{
    struct socks5_client client;
    CHECK(socks5_client_init(&client, "127.0.0.2", 443, NULL, NULL, NULL) == 0);
    socks5_client_step(&client);
    socks5_client_output_sent(&client);
    feed(&client, (const uint8_t[]){5, 0}, 2, NULL);
    CHECK(output_is(&client, (const uint8_t[]){5, 1, 0, 1, 127, 0, 0, 2, 1, 0xBB}, 10));
    CHECK(socks5_client_init(&client, "::1", 80, NULL, NULL, NULL) == 0);
    socks5_client_step(&client);
    socks5_client_output_sent(&client);
    feed(&client, (const uint8_t[]){5, 0}, 2, NULL);
    size_t length;
    const uint8_t *out = socks5_client_output(&client, &length);
    CHECK(length == 22 && out[3] == 4 && out[19] == 1 && out[20] == 0 && out[21] == 80);
}

TEST(test_socks5_refuses_hostnames_longer_than_255_bytes)
{
    char host[300];
    memset(host, 'a', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    struct socks5_client client;
    struct wippy_error error;
    CHECK(socks5_client_init(&client, host, 80, NULL, NULL, &error) == WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "longer than SOCKS5 can carry (255)");
    CHECK_CONTAINS(error.message, "not resolved locally");
    host[255] = '\0';
    CHECK(socks5_client_init(&client, host, 80, NULL, NULL, &error) == WIPPY_OK);
}

static enum socks5_step connect_with_reply(struct socks5_client *client, const uint8_t *reply,
                                           size_t length, size_t *unused)
{
    socks5_client_init(client, "example.com", 80, NULL, NULL, NULL);
    socks5_client_step(client);
    socks5_client_output_sent(client);
    feed(client, (const uint8_t[]){5, 0}, 2, NULL);
    socks5_client_output_sent(client);
    return feed(client, reply, length, unused);
}

TEST(test_socks5_connect_succeeds_and_keeps_bytes_after_the_reply)
{
    struct socks5_client client;
    size_t unused = 0;
    const uint8_t reply[] = {5, 0, 0, 1, 127, 0, 0, 1, 0x1F, 0x90, 'H', 'T', 'T', 'P'};
    CHECK_EQUAL(connect_with_reply(&client, reply, sizeof reply, &unused), SOCKS5_STEP_CONNECTED);
    CHECK_EQUAL(unused, 4);
    const uint8_t domain_reply[] = {5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 80};
    CHECK(connect_with_reply(&client, domain_reply, sizeof domain_reply, &unused) ==
          SOCKS5_STEP_CONNECTED);
    CHECK_EQUAL(unused, 0);
}

TEST(test_socks5_reply_codes_become_readable_errors)
{
    static const struct {
        uint8_t code;
        const char *text;
    } cases[] = {
        {0x01, "general SOCKS server failure"}, {0x02, "connection not allowed by ruleset"},
        {0x03, "network unreachable"},          {0x04, "host unreachable"},
        {0x05, "connection refused"},           {0x06, "TTL expired"},
        {0x07, "command not supported"},        {0x08, "address type not supported"},
        {0xF0, "onion service descriptor not found"},
        {0xF1, "onion service descriptor is invalid"},
        {0xF2, "onion service introduction failed"},
        {0xF3, "onion service rendezvous failed"},
        {0xF4, "onion service client authorization missing"},
        {0xF5, "onion service client authorization wrong"},
        {0xF6, "invalid onion service address"},
        {0xF7, "onion service introduction timed out"},
        {0x42, "unassigned reply code"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct socks5_client client;
        const uint8_t reply[] = {5, cases[i].code, 0, 1, 0, 0, 0, 0, 0, 0};
        CHECK(connect_with_reply(&client, reply, sizeof reply, NULL) == SOCKS5_STEP_FAILED);
        CHECK_CONTAINS(client.error.message, cases[i].text);
        CHECK_CONTAINS(client.error.message, "connect to example.com:80 failed");
        CHECK_EQUAL(client.reply_code, cases[i].code);
    }
}

TEST(test_socks5_refusal_is_reported_without_waiting_for_the_address)
{
    struct socks5_client client;
    const uint8_t short_refusal[] = {5, 5, 0, 1, 0};
    CHECK(connect_with_reply(&client, short_refusal, sizeof short_refusal, NULL) == SOCKS5_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "connection refused (reply 0x05)");
}

TEST(test_socks5_malformed_replies_are_errors)
{
    struct socks5_client client;
    socks5_client_init(&client, "example.com", 80, NULL, NULL, NULL);
    socks5_client_step(&client);
    socks5_client_output_sent(&client);
    CHECK(feed(&client, (const uint8_t[]){4, 0}, 2, NULL) == SOCKS5_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "not a SOCKS5 proxy");

    socks5_client_init(&client, "example.com", 80, NULL, NULL, NULL);
    socks5_client_step(&client);
    socks5_client_output_sent(&client);
    CHECK(feed(&client, (const uint8_t[]){5, 2}, 2, NULL) == SOCKS5_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "method 0x02, which was not offered");

    socks5_client_init(&client, "example.com", 80, NULL, NULL, NULL);
    socks5_client_step(&client);
    socks5_client_output_sent(&client);
    CHECK(feed(&client, (const uint8_t[]){5, 0xFF}, 2, NULL) == SOCKS5_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "requires authentication");

    const uint8_t bad_type[] = {5, 0, 0, 9, 0, 0, 0, 0, 0, 0};
    CHECK(connect_with_reply(&client, bad_type, sizeof bad_type, NULL) == SOCKS5_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "address type 0x09");
    const uint8_t bad_version[] = {4, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    CHECK(connect_with_reply(&client, bad_version, sizeof bad_version, NULL) == SOCKS5_STEP_FAILED);
    const uint8_t bad_reserved[] = {5, 0, 7, 1, 0, 0, 0, 0, 0, 0};
    CHECK(connect_with_reply(&client, bad_reserved, sizeof bad_reserved, NULL) == SOCKS5_STEP_FAILED);
}

TEST(test_socks5_wrong_password_is_an_authentication_error)
{
    struct socks5_client client;
    socks5_client_init(&client, "example.com", 80, "user", "wrong", NULL);
    socks5_client_step(&client);
    socks5_client_output_sent(&client);
    feed(&client, (const uint8_t[]){5, 2}, 2, NULL);
    socks5_client_output_sent(&client);
    CHECK(feed(&client, (const uint8_t[]){1, 1}, 2, NULL) == SOCKS5_STEP_FAILED);
    CHECK_CONTAINS(client.error.message, "authentication failed");
}

TEST(test_socks5_truncated_reply_waits_for_more)
{
    struct socks5_client client;
    const uint8_t partial[] = {5, 0, 0, 4, 0, 0, 0};
    CHECK(connect_with_reply(&client, partial, sizeof partial, NULL) == SOCKS5_STEP_RECEIVE);
}
