/* overlay.c - the driver table and the runtime's set of live overlays. */
#include "net/overlay.h"

#include <stdlib.h>

#include "util/handle.h"
#include "util/memory.h"

static const struct overlay_driver *const drivers[] = {
    &socks5_overlay_driver,
    &i2p_overlay_driver,
    &tailscale_overlay_driver,
};

static const struct overlay_driver *driver_for(enum entry_kind kind)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (drivers[i]->kind == kind)
            return drivers[i];
    return NULL;
}

int overlay_get(struct overlay_set *set, const struct entry *entry, struct overlay **out,
                struct wippy_error *error)
{
    for (struct overlay *overlay = set->first; overlay != NULL; overlay = overlay->next) {
        if (overlay->entry == entry) {
            *out = overlay;
            return WIPPY_OK;
        }
    }
    const struct overlay_driver *driver = driver_for(entry->kind);
    if (driver == NULL)
        return error_set(error, WIPPY_ESTATE, "overlay %s: %s is not supported by this build yet",
                         entry->id, entry->kind_name);
    struct overlay *overlay = xcalloc(1, driver->size);
    overlay->driver = driver;
    overlay->entry = entry;
    overlay->loop = set->loop;
    overlay->state_dir = set->state_dir;
    overlay->capabilities = driver->capabilities;
    int rc = driver->open(overlay, error);
    if (rc < 0) {
        free(overlay);
        return rc;
    }
    overlay->next = set->first;
    set->first = overlay;
    *out = overlay;
    return WIPPY_OK;
}

void overlay_set_close(struct overlay_set *set)
{
    struct overlay *overlay = set->first;
    while (overlay != NULL) {
        struct overlay *next = overlay->next;
        overlay->driver->close(overlay);
        overlay = next;
    }
    set->first = NULL;
}

struct overlay_dial *overlay_dial(struct overlay *overlay, const char *host, uint16_t port,
                                  int64_t timeout_ns, overlay_dial_done done, void *context,
                                  struct wippy_error *error)
{
    if (!(overlay->driver->capabilities & OVERLAY_CAN_DIAL)) {
        error_set(error, WIPPY_ESTATE, "overlay %s cannot dial", overlay->entry->id);
        return NULL;
    }
    return overlay->driver->dial(overlay, host, port, timeout_ns, done, context, error);
}

void overlay_dial_cancel(struct overlay *overlay, struct overlay_dial *dial)
{
    overlay->driver->cancel(dial);
}

const char *overlay_dial_describe(struct overlay *overlay, const struct overlay_dial *dial)
{
    return overlay->driver->describe(dial);
}

int overlay_listen(struct overlay *overlay, const char *label, const char *address,
                   const struct overlay_listen_handlers *handlers, struct wippy_error *error)
{
    if (overlay->driver->listen == NULL || !(overlay->capabilities & OVERLAY_CAN_LISTEN))
        return error_set(error, WIPPY_ESTATE, "overlay %s (%s) cannot accept inbound connections",
                         overlay->entry->id, overlay->entry->kind_name);
    return overlay->driver->listen(overlay, label, address, handlers, error);
}

bool overlay_never_reuses(const struct overlay *overlay)
{
    return (overlay->capabilities & OVERLAY_NEVER_REUSE) != 0;
}

void overlay_connection_close(struct overlay_connection *connection)
{
    if (connection == NULL)
        return;
    if (connection->stream != NULL && !uv_is_closing((uv_handle_t *)connection->stream))
        handle_close((uv_handle_t *)connection->stream);
    free(connection->early_bytes);
    free(connection);
}
