/* tailscale_missing.c - the network.tailscale row of a build made without
 * Go: every tailscale entry fails to load, saying why and what to do. */
#include "net/overlay.h"

static int tailscale_unavailable(struct overlay *overlay, struct wippy_error *error)
{
    return error_set(error, WIPPY_ESTATE,
                     "overlay %s: this wippy was built without Tailscale support (no Go 1.25 or newer at build "
                     "time); install Go and run make again",
                     overlay->id);
}

const struct overlay_driver tailscale_overlay_driver = {
    .capabilities = 0,
    .size = sizeof(struct overlay),
    .open = tailscale_unavailable,
};
