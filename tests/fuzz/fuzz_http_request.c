/* fuzz_http_request.c - libFuzzer target: the server's request path
 * (http/request_reader.c over llhttp) fed arbitrary client bytes in
 * arbitrary pieces (the first byte chooses the piece size) must end every
 * time in requests, a wait for more, or one refusal with a status, never a
 * crash, an overread or a leak; what it says it used is never more than it
 * was given, and every request it hands out is whole. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/request_reader.h"

static const struct http_limits limits = {1024, 4096, 65536};

static void check_request(const struct http_request *request)
{
    if (request->method == NULL || request->path == NULL || request->query == NULL || request->body == NULL)
        abort();
    if (strlen(request->path) == 0 && request->path[0] != '\0')
        abort();
    for (size_t i = 0; i < request->header_count; i++)
        if (request->header_names[i] == NULL || request->header_values[i] == NULL)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t piece = (size_t)data[0] % 17 + 1;
    data++, size--;
    struct http_request_reader reader;
    http_request_reader_init(&reader, &limits);
    size_t at = 0;
    while (at < size) {
        size_t length = size - at < piece ? size - at : piece;
        size_t used = 0;
        enum http_read_result result =
            http_request_reader_feed(&reader, (const char *)data + at, length, &used);
        if (used > length)
            abort();
        at += used;
        if (result == HTTP_READ_FAILED) {
            if (reader.failure_status < 400 || reader.failure_status > 599 || reader.failure_message == NULL)
                abort();
            break;
        }
        if (result == HTTP_READ_REQUEST) {
            struct http_request *request = http_request_reader_take(&reader);
            check_request(request);
            http_request_free(request);
        } else if (result == HTTP_READ_MORE && used != length) {
            abort();
        }
    }
    http_request_reader_release(&reader);
    return 0;
}
