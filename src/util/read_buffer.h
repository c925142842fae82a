/* read_buffer.h - the one buffer every libuv reader of a loop thread reads
 * into. libuv calls the read callback right after allocating, and every
 * reader here consumes (or copies) the bytes before its callback returns, so
 * one buffer per thread serves them all. */
#ifndef WIPPY_UTIL_READ_BUFFER_H
#define WIPPY_UTIL_READ_BUFFER_H

#include <uv.h>

#define READ_BUFFER_SIZE (64 * 1024)

/* A uv_alloc_cb handing out this thread's buffer. The read callback must
 * be done with the bytes when it returns. */
void read_buffer_allocate(uv_handle_t *handle, size_t suggested, uv_buf_t *buffer);

#endif
