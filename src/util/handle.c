/* handle.c - see handle.h. */
#include "util/handle.h"

#include <stdlib.h>

void handle_free(uv_handle_t *handle)
{
    free(handle);
}

void handle_close(uv_handle_t *handle)
{
    if (handle != NULL && !uv_is_closing(handle))
        uv_close(handle, handle_free);
}
