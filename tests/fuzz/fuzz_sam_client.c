/* fuzz_sam_client.c - libFuzzer target: a SAM conversation of each kind
 * (chosen by the first byte) fed arbitrary bridge bytes in arbitrary pieces
 * must end in a stream, a ready session, a failure or a wait for more,
 * never a crash, an overread or a leak; what it says it used is never more
 * than it was given. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/sam_client.h"

static void start(struct sam_client *client, uint8_t kind)
{
    const char *options[] = {"inbound.length", "1", NULL};
    switch (kind % 4) {
    case 0:
        sam_client_init_session(client, "fuzz", NULL, options);
        break;
    case 1:
        sam_client_init_session(client, "fuzz", "KEYS", NULL);
        break;
    case 2:
        sam_client_init_dial(client, "site.i2p", NULL);
        break;
    default:
        sam_client_init_accept(client);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct sam_client client;
    start(&client, data[0]);
    size_t piece = (size_t)data[1] % 64 + 1; /* bytes per receive call */
    size_t at = 2;
    for (int steps = 0; steps < 10000; steps++) {
        enum sam_client_step step = sam_client_step(&client);
        if (step == SAM_STEP_SEND) {
            size_t length;
            const char *line = sam_client_output(&client, &length);
            if (length == 0 || line[length - 1] != '\n')
                abort();
            sam_client_output_sent(&client);
        } else if (step == SAM_STEP_NEED_SESSION) {
            sam_client_use_session(&client, "fuzz");
        } else if (step == SAM_STEP_SESSION_CREATED) {
            sam_client_continue(&client);
        } else if (step == SAM_STEP_RECEIVE || step == SAM_STEP_SESSION_READY) {
            if (at >= size)
                break;
            size_t offered = size - at < piece ? size - at : piece;
            size_t used = sam_client_receive(&client, (const char *)data + at, offered);
            if (used > offered)
                abort();
            if (used == 0 && sam_client_step(&client) == step)
                abort(); /* no progress and no change: it would spin */
            at += used;
        } else {
            (void)sam_client_describe(&client);
            break; /* the stream is open (the rest is its bytes) or it failed */
        }
    }
    sam_client_free(&client);
    return 0;
}
