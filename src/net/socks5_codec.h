/* socks5_codec.h - the client side of SOCKS5 (RFC 1928) with username and
 * password authentication (RFC 1929), as a state machine without I/O: it
 * says which bytes to send and consumes the bytes received. The driver
 * (socks5.c) moves the bytes. Tor's extended replies 0xF0-0xF7 are named. */
#ifndef WIPPY_NET_SOCKS5_CODEC_H
#define WIPPY_NET_SOCKS5_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define SOCKS5_MAX_HOST_LENGTH 255
#define SOCKS5_MAX_CREDENTIAL_LENGTH 255
#define SOCKS5_BUFFER_SIZE 520 /* the largest message either way, with room */

enum socks5_state {
    SOCKS5_SEND_GREETING,
    SOCKS5_READ_METHOD,
    SOCKS5_SEND_AUTH,
    SOCKS5_READ_AUTH,
    SOCKS5_SEND_CONNECT,
    SOCKS5_READ_REPLY,
    SOCKS5_CONNECTED,
    SOCKS5_FAILED,
};

/* What socks5_client_step asks the driver to do next. */
enum socks5_step {
    SOCKS5_STEP_SEND,      /* send socks5_client_output(), then call step again */
    SOCKS5_STEP_RECEIVE,   /* receive bytes and pass them to socks5_client_receive */
    SOCKS5_STEP_CONNECTED, /* done: the stream now reaches the target */
    SOCKS5_STEP_FAILED,    /* done: the error says why */
};

struct socks5_client {
    enum socks5_state state;
    char host[SOCKS5_MAX_HOST_LENGTH + 1];
    uint16_t port;
    char username[SOCKS5_MAX_CREDENTIAL_LENGTH + 1];
    char password[SOCKS5_MAX_CREDENTIAL_LENGTH + 1];
    bool has_credentials;
    uint8_t output[SOCKS5_BUFFER_SIZE];
    size_t output_length;
    uint8_t input[SOCKS5_BUFFER_SIZE];
    size_t input_length;
    uint8_t reply_code; /* the proxy's CONNECT reply, once read */
    struct wippy_error error;
};

/* Prepares a handshake to host:port. host may be an IPv4 or IPv6 literal
 * (sent as such) or a name (sent as a name, never resolved here); a name
 * longer than 255 bytes is refused. With credentials (both non-NULL) the
 * greeting offers methods 0x00 and 0x02. Returns WIPPY_OK or WIPPY_EINVAL. */
int socks5_client_init(struct socks5_client *client, const char *host, uint16_t port,
                       const char *username, const char *password, struct wippy_error *error);

/* Advances the machine and says what to do. */
enum socks5_step socks5_client_step(struct socks5_client *client);

/* The bytes to send after SOCKS5_STEP_SEND; sending them all is required
 * before calling step again. */
const uint8_t *socks5_client_output(const struct socks5_client *client, size_t *length);
void socks5_client_output_sent(struct socks5_client *client);

/* Consumes received bytes. Returns how many were used; bytes after the
 * CONNECT reply are not used (they belong to the target's stream and the
 * caller must keep them). */
size_t socks5_client_receive(struct socks5_client *client, const uint8_t *data, size_t length);

/* The meaning of a CONNECT reply code ("connection refused", Tor's
 * "onion service descriptor not found"...). */
const char *socks5_reply_message(uint8_t code);

#endif
