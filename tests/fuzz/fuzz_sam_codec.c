/* fuzz_sam_codec.c - libFuzzer target: any bytes from a SAM bridge, split
 * into lines and parsed, must give replies or errors, never a crash or an
 * overread; destinations in them go through the address code too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/sam_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sam_line_reader reader;
    sam_line_reader_reset(&reader);
    size_t at = 0;
    while (at < size) {
        bool complete = false;
        long used = sam_line_reader_feed(&reader, (const char *)data + at, size - at, &complete);
        if (used < 0)
            return 0;
        if (used == 0 || (size_t)used > size - at)
            abort();
        at += (size_t)used;
        if (!complete)
            break;
        struct sam_reply reply;
        if (sam_reply_parse(reader.line, reader.length, &reply, NULL) == 0) {
            char text[512];
            sam_reply_describe(&reply, text, sizeof text);
            const char *destination = sam_reply_get(&reply, "VALUE");
            char b32[80];
            if (destination != NULL)
                (void)i2p_b32_address(destination, b32, sizeof b32);
            sam_reply_free(&reply);
        }
        sam_line_reader_reset(&reader);
    }
    return 0;
}
