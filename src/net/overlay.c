/* overlay.c - the driver table and the runtime's set of live overlays. */
#include "net/overlay.h"

#include <stdlib.h>

#include "util/handle.h"
#include "util/memory.h"

/* Which driver runs each kind of network.* entry (the direct network has
 * no entry: overlay_direct). */
static const struct {
    enum entry_kind kind;
    const struct overlay_driver *driver;
} drivers[] = {
    {ENTRY_NETWORK_SOCKS5, &socks5_overlay_driver},
    {ENTRY_NETWORK_I2P, &i2p_overlay_driver},
    {ENTRY_NETWORK_TAILSCALE, &tailscale_overlay_driver},
};

static const struct overlay_driver *driver_for(enum entry_kind kind)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (drivers[i].kind == kind)
            return drivers[i].driver;
    return NULL;
}

/* A router option's value as SAM takes it. */
static char *option_text(const struct value *option)
{
    switch (option->type) {
    case VALUE_STRING:
        return xstrdup(option->as.string.bytes);
    case VALUE_INTEGER:
        return xasprintf("%lld", option->as.integer);
    case VALUE_BOOLEAN:
        return xstrdup(option->as.boolean ? "true" : "false");
    default:
        return xasprintf("%g", option->as.number);
    }
}

/* key, value, ..., NULL of an options map (texts owned by the result). */
static char **option_pairs(const struct value *options)
{
    size_t count = options != NULL ? options->as.map.count : 0;
    char **pairs = xcalloc(2 * count + 1, sizeof(char *));
    for (size_t i = 0; i < count; i++) {
        pairs[2 * i] = xstrdup(options->as.map.keys[i]);
        pairs[2 * i + 1] = option_text(options->as.map.values[i]);
    }
    return pairs;
}

static void configure(struct overlay *overlay, const struct entry *entry)
{
    overlay->id = entry->id;
    overlay->name = entry->name;
    switch (entry->kind) {
    case ENTRY_NETWORK_SOCKS5: {
        const struct entry_socks5 *socks5 = &entry->as.socks5;
        overlay->config.socks5 = (struct socks5_config){socks5->host, socks5->port, socks5->username,
                                                        socks5->password, socks5->isolate_streams};
        break;
    }
    case ENTRY_NETWORK_I2P: {
        const struct entry_i2p *i2p = &entry->as.i2p;
        overlay->owned = option_pairs(i2p->options);
        overlay->config.i2p = (struct i2p_config){i2p->host, i2p->port, i2p->session_name,
                                                  (const char *const *)overlay->owned};
        break;
    }
    case ENTRY_NETWORK_TAILSCALE: {
        const struct entry_tailscale *tailscale = &entry->as.tailscale;
        overlay->config.tailscale = (struct tailscale_config){
            tailscale->hostname, tailscale->auth_key, tailscale->auth_key_env,
            tailscale->control_url, tailscale->state_dir, tailscale->ephemeral};
        break;
    }
    default:
        break;
    }
}

static void free_owned(char **owned)
{
    for (size_t i = 0; owned != NULL && owned[i] != NULL; i++)
        free(owned[i]);
    free(owned);
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
    configure(overlay, entry);
    int rc = driver->open(overlay, error);
    if (rc < 0) {
        free_owned(overlay->owned);
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
        char **owned = overlay->owned;
        overlay->driver->close(overlay); /* frees the overlay */
        free_owned(owned);
        overlay = next;
    }
    set->first = NULL;
    if (set->direct != NULL)
        set->direct->driver->close(set->direct);
    set->direct = NULL;
}

struct overlay_dial *overlay_dial(struct overlay *overlay, const char *host, uint16_t port,
                                  int64_t timeout_ns, overlay_dial_done done, void *context,
                                  struct wippy_error *error)
{
    if (!(overlay->driver->capabilities & OVERLAY_CAN_DIAL)) {
        error_set(error, WIPPY_ESTATE, "overlay %s cannot dial", overlay->id);
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

struct overlay_listener *overlay_listen(struct overlay *overlay, const char *label, const char *address,
                                        const struct overlay_listen_handlers *handlers,
                                        struct wippy_error *error)
{
    if (overlay->driver->listen == NULL || !(overlay->capabilities & OVERLAY_CAN_LISTEN)) {
        error_set(error, WIPPY_ESTATE, "overlay %s cannot accept inbound connections", overlay->id);
        return NULL;
    }
    return overlay->driver->listen(overlay, label, address, handlers, error);
}

void overlay_stop_listening(struct overlay *overlay, struct overlay_listener *listener)
{
    if (listener != NULL)
        overlay->driver->stop_listening(listener);
}

const char *overlay_listener_address(const struct overlay *overlay, const struct overlay_listener *listener)
{
    return overlay->driver->listener_address != NULL ? overlay->driver->listener_address(listener) : NULL;
}

bool overlay_is_plain_tcp(const struct overlay *overlay)
{
    return (overlay->capabilities & OVERLAY_PLAIN_TCP) != 0;
}

struct overlay *overlay_direct(struct overlay_set *set)
{
    if (set->direct != NULL)
        return set->direct;
    struct overlay *overlay = xcalloc(1, direct_overlay_driver.size);
    overlay->driver = &direct_overlay_driver;
    overlay->id = "direct";
    overlay->name = "direct";
    overlay->loop = set->loop;
    overlay->state_dir = set->state_dir;
    overlay->capabilities = direct_overlay_driver.capabilities;
    set->direct = overlay;
    return overlay;
}

bool overlay_is_socks5_proxy(const struct overlay *overlay)
{
    return (overlay->capabilities & OVERLAY_SOCKS5_PROXY) != 0;
}

int overlay_socks5_proxy(struct overlay *overlay, struct overlay_socks5_proxy *out, struct wippy_error *error)
{
    if (!overlay_is_socks5_proxy(overlay))
        return error_set(error, WIPPY_ESTATE, "overlay %s is not a SOCKS5 proxy", overlay->id);
    return overlay->driver->socks5_proxy(overlay, out, error);
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
