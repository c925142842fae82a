/* handle.h - closing libuv handles that live on the heap. */
#ifndef WIPPY_UTIL_HANDLE_H
#define WIPPY_UTIL_HANDLE_H

#include <uv.h>

/* A uv_close callback that frees the handle. */
void handle_free(uv_handle_t *handle);

/* Closes a heap-allocated handle and frees it once libuv is done with it;
 * NULL and a handle already closing are left alone. */
void handle_close(uv_handle_t *handle);

#endif
