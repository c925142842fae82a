/* read_buffer.c - see read_buffer.h. */
#include "util/read_buffer.h"

void read_buffer_allocate(uv_handle_t *handle, size_t suggested, uv_buf_t *buffer)
{
    static _Thread_local char storage[READ_BUFFER_SIZE];
    buffer->base = storage;
    buffer->len = sizeof storage;
}
