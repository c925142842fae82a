/* fuzz_socks5_codec.c - libFuzzer target: any bytes a proxy may send, in
 * any split, must end in CONNECTED or FAILED (or a wait for more), never in
 * a crash, an overread or a message longer than the buffers. The first
 * input byte picks the credentials mode and the split size. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/socks5_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t control = data[0];
    data++;
    size--;
    struct socks5_client client;
    const char *user = (control & 1) ? "user" : NULL;
    const char *password = (control & 1) ? "password" : NULL;
    const char *host = (control & 2) ? "only-the-proxy-knows.test" : "127.0.0.1";
    if (socks5_client_init(&client, host, 80, user, password, NULL) != 0)
        abort();
    size_t chunk = 1 + (control >> 2) % 16;
    size_t at = 0;
    for (int rounds = 0; rounds < 64; rounds++) {
        enum socks5_step step = socks5_client_step(&client);
        if (step == SOCKS5_STEP_SEND) {
            size_t length;
            socks5_client_output(&client, &length);
            if (length == 0 || length > SOCKS5_BUFFER_SIZE)
                abort();
            socks5_client_output_sent(&client);
            continue;
        }
        if (step != SOCKS5_STEP_RECEIVE || at >= size)
            break;
        size_t give = size - at < chunk ? size - at : chunk;
        size_t used = socks5_client_receive(&client, data + at, give);
        if (used > give || client.input_length > SOCKS5_BUFFER_SIZE)
            abort();
        at += used;
        if (used == 0 && socks5_client_step(&client) == SOCKS5_STEP_RECEIVE)
            abort(); /* asked for bytes but took none */
    }
    return 0;
}
