/* socks5_codec.c - encoding requests and decoding replies of SOCKS5, one
 * message at a time, checking every length and version byte. */
#include "net/socks5_codec.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum {
    SOCKS5_VERSION = 0x05,
    AUTH_VERSION = 0x01,
    METHOD_NONE = 0x00,
    METHOD_PASSWORD = 0x02,
    METHOD_UNACCEPTABLE = 0xFF,
    COMMAND_CONNECT = 0x01,
    ADDRESS_IPV4 = 0x01,
    ADDRESS_DOMAIN = 0x03,
    ADDRESS_IPV6 = 0x04,
};

static const struct {
    uint8_t code;
    const char *message;
} reply_messages[] = {
    {0x00, "succeeded"},
    {0x01, "general SOCKS server failure"},
    {0x02, "connection not allowed by ruleset"},
    {0x03, "network unreachable"},
    {0x04, "host unreachable"},
    {0x05, "connection refused"},
    {0x06, "TTL expired"},
    {0x07, "command not supported"},
    {0x08, "address type not supported"},
    {0xF0, "onion service descriptor not found"},
    {0xF1, "onion service descriptor is invalid"},
    {0xF2, "onion service introduction failed"},
    {0xF3, "onion service rendezvous failed"},
    {0xF4, "onion service client authorization missing"},
    {0xF5, "onion service client authorization wrong"},
    {0xF6, "invalid onion service address"},
    {0xF7, "onion service introduction timed out"},
};

const char *socks5_reply_message(uint8_t code)
{
    for (size_t i = 0; i < sizeof reply_messages / sizeof reply_messages[0]; i++)
        if (reply_messages[i].code == code)
            return reply_messages[i].message;
    return "unassigned reply code";
}

static int fail(struct socks5_client *client, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct socks5_client *client, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(client->error.message, sizeof client->error.message, format, args);
    va_end(args);
    client->error.code = WIPPY_EIO;
    client->state = SOCKS5_FAILED;
    return WIPPY_EIO;
}

int socks5_client_init(struct socks5_client *client, const char *host, uint16_t port,
                       const char *username, const char *password, struct wippy_error *error)
{
    memset(client, 0, sizeof *client);
    size_t host_length = strlen(host);
    if (host_length == 0)
        return error_set(error, WIPPY_EINVAL, "empty host name");
    if (host_length > SOCKS5_MAX_HOST_LENGTH)
        return error_set(error, WIPPY_EINVAL,
                         "host name is %zu bytes, longer than SOCKS5 can carry (255); "
                         "it is not resolved locally instead", host_length);
    if (username != NULL && password != NULL) {
        size_t user_length = strlen(username), password_length = strlen(password);
        if (user_length == 0 || user_length > SOCKS5_MAX_CREDENTIAL_LENGTH ||
            password_length == 0 || password_length > SOCKS5_MAX_CREDENTIAL_LENGTH)
            return error_set(error, WIPPY_EINVAL, "SOCKS5 username and password must be 1 to 255 bytes");
        memcpy(client->username, username, user_length + 1);
        memcpy(client->password, password, password_length + 1);
        client->has_credentials = true;
    }
    memcpy(client->host, host, host_length + 1);
    client->port = port;
    client->state = SOCKS5_SEND_GREETING;
    return WIPPY_OK;
}

static void encode_greeting(struct socks5_client *client)
{
    uint8_t *out = client->output;
    out[0] = SOCKS5_VERSION;
    if (client->has_credentials) {
        out[1] = 2;
        out[2] = METHOD_NONE;
        out[3] = METHOD_PASSWORD;
        client->output_length = 4;
    } else {
        out[1] = 1;
        out[2] = METHOD_NONE;
        client->output_length = 3;
    }
}

static void encode_auth(struct socks5_client *client)
{
    uint8_t *out = client->output;
    size_t user_length = strlen(client->username), password_length = strlen(client->password);
    size_t at = 0;
    out[at++] = AUTH_VERSION;
    out[at++] = (uint8_t)user_length;
    memcpy(out + at, client->username, user_length);
    at += user_length;
    out[at++] = (uint8_t)password_length;
    memcpy(out + at, client->password, password_length);
    at += password_length;
    client->output_length = at;
}

static void encode_connect(struct socks5_client *client)
{
    uint8_t *out = client->output;
    size_t at = 0;
    out[at++] = SOCKS5_VERSION;
    out[at++] = COMMAND_CONNECT;
    out[at++] = 0x00;
    uint8_t address[16];
    if (inet_pton(AF_INET, client->host, address) == 1) {
        out[at++] = ADDRESS_IPV4;
        memcpy(out + at, address, 4);
        at += 4;
    } else if (inet_pton(AF_INET6, client->host, address) == 1) {
        out[at++] = ADDRESS_IPV6;
        memcpy(out + at, address, 16);
        at += 16;
    } else {
        size_t length = strlen(client->host);
        out[at++] = ADDRESS_DOMAIN;
        out[at++] = (uint8_t)length;
        memcpy(out + at, client->host, length);
        at += length;
    }
    out[at++] = (uint8_t)(client->port >> 8);
    out[at++] = (uint8_t)(client->port & 0xFF);
    client->output_length = at;
}

/* Removes the first count bytes of the input. */
static void consume(struct socks5_client *client, size_t count)
{
    memmove(client->input, client->input + count, client->input_length - count);
    client->input_length -= count;
}

/* Each reader returns 1 when a whole message was handled, 0 when more bytes
 * are needed, negative on a malformed or refusing reply. */
static int read_method(struct socks5_client *client)
{
    if (client->input_length < 2)
        return 0;
    uint8_t version = client->input[0], method = client->input[1];
    consume(client, 2);
    if (version != SOCKS5_VERSION)
        return fail(client, "not a SOCKS5 proxy (greeting reply version %u)", version);
    if (method == METHOD_NONE) {
        client->state = SOCKS5_SEND_CONNECT;
        return 1;
    }
    if (method == METHOD_PASSWORD && client->has_credentials) {
        client->state = SOCKS5_SEND_AUTH;
        return 1;
    }
    if (method == METHOD_UNACCEPTABLE)
        return fail(client, client->has_credentials
                                ? "the proxy accepts neither no authentication nor username/password"
                                : "the proxy requires authentication (set username and password)");
    return fail(client, "the proxy chose authentication method 0x%02x, which was not offered", method);
}

static int read_auth(struct socks5_client *client)
{
    if (client->input_length < 2)
        return 0;
    uint8_t version = client->input[0], status = client->input[1];
    consume(client, 2);
    if (version != AUTH_VERSION)
        return fail(client, "malformed authentication reply (version %u)", version);
    if (status != 0x00)
        return fail(client, "authentication failed: the proxy rejected the username or password (status 0x%02x)",
                    status);
    client->state = SOCKS5_SEND_CONNECT;
    return 1;
}

static int read_reply(struct socks5_client *client)
{
    if (client->input_length < 5)
        return 0;
    const uint8_t *in = client->input;
    if (in[0] != SOCKS5_VERSION)
        return fail(client, "malformed CONNECT reply (version %u)", in[0]);
    client->reply_code = in[1];
    size_t address_length;
    switch (in[3]) {
    case ADDRESS_IPV4:
        address_length = 4;
        break;
    case ADDRESS_IPV6:
        address_length = 16;
        break;
    case ADDRESS_DOMAIN:
        address_length = 1 + (size_t)in[4];
        break;
    default:
        /* A refusal may come with a bad address; the code still counts. */
        if (in[1] != 0x00)
            return fail(client, "connect to %s:%u failed: %s (reply 0x%02x)", client->host,
                        client->port, socks5_reply_message(in[1]), in[1]);
        return fail(client, "malformed CONNECT reply (address type 0x%02x)", in[3]);
    }
    size_t total = 4 + address_length + 2;
    if (in[1] != 0x00) {
        /* Some proxies close right after a refusal; do not wait for the rest. */
        consume(client, client->input_length < total ? client->input_length : total);
        return fail(client, "connect to %s:%u failed: %s (reply 0x%02x)", client->host, client->port,
                    socks5_reply_message(client->reply_code), client->reply_code);
    }
    if (in[2] != 0x00)
        return fail(client, "malformed CONNECT reply (reserved byte 0x%02x)", in[2]);
    if (client->input_length < total)
        return 0;
    consume(client, total);
    client->state = SOCKS5_CONNECTED;
    return 1;
}

enum socks5_step socks5_client_step(struct socks5_client *client)
{
    for (;;) {
        int progress = 0;
        switch (client->state) {
        case SOCKS5_SEND_GREETING:
            encode_greeting(client);
            return SOCKS5_STEP_SEND;
        case SOCKS5_SEND_AUTH:
            encode_auth(client);
            return SOCKS5_STEP_SEND;
        case SOCKS5_SEND_CONNECT:
            encode_connect(client);
            return SOCKS5_STEP_SEND;
        case SOCKS5_READ_METHOD:
            progress = read_method(client);
            break;
        case SOCKS5_READ_AUTH:
            progress = read_auth(client);
            break;
        case SOCKS5_READ_REPLY:
            progress = read_reply(client);
            break;
        case SOCKS5_CONNECTED:
            return SOCKS5_STEP_CONNECTED;
        case SOCKS5_FAILED:
            return SOCKS5_STEP_FAILED;
        }
        if (progress == 0)
            return SOCKS5_STEP_RECEIVE;
    }
}

const uint8_t *socks5_client_output(const struct socks5_client *client, size_t *length)
{
    *length = client->output_length;
    return client->output;
}

void socks5_client_output_sent(struct socks5_client *client)
{
    client->output_length = 0;
    switch (client->state) {
    case SOCKS5_SEND_GREETING:
        client->state = SOCKS5_READ_METHOD;
        break;
    case SOCKS5_SEND_AUTH:
        client->state = SOCKS5_READ_AUTH;
        break;
    case SOCKS5_SEND_CONNECT:
        client->state = SOCKS5_READ_REPLY;
        break;
    default:
        break;
    }
}

size_t socks5_client_receive(struct socks5_client *client, const uint8_t *data, size_t length)
{
    if (client->state != SOCKS5_READ_METHOD && client->state != SOCKS5_READ_AUTH &&
        client->state != SOCKS5_READ_REPLY)
        return 0;
    /* Take only what the current message can still need, so that bytes of
     * the target's stream after the CONNECT reply stay with the caller. */
    size_t wanted;
    if (client->state == SOCKS5_READ_REPLY) {
        size_t have = client->input_length;
        if (have < 5)
            wanted = 5 - have;
        else {
            uint8_t type = client->input[3];
            size_t address = type == ADDRESS_IPV4 ? 4 : type == ADDRESS_IPV6 ? 16
                             : type == ADDRESS_DOMAIN ? 1 + (size_t)client->input[4] : 0;
            size_t total = 4 + address + 2;
            wanted = total > have ? total - have : 0;
        }
    } else {
        wanted = 2 - client->input_length;
    }
    size_t take = length < wanted ? length : wanted;
    memcpy(client->input + client->input_length, data, take);
    client->input_length += take;
    return take;
}
