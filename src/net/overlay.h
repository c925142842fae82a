/* overlay.h - the one interface every network overlay implements (direct,
 * SOCKS5, I2P, Tailscale). Callers (the HTTP client, the HTTP service) ask
 * this interface, never a driver. Dials and listens are asynchronous on the
 * runtime's libuv loop; there is never a fallback from an overlay to a direct
 * connection. The drivers arrive with the overlay issues; the runtime already
 * carries the selection they need (runtime/frame.h:frame_effective_network). */
#ifndef WIPPY_NET_OVERLAY_H
#define WIPPY_NET_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "registry/entry.h"
#include "util/error.h"

struct overlay;

enum overlay_capability {
    OVERLAY_CAN_DIAL = 1 << 0,
    OVERLAY_CAN_LISTEN = 1 << 1,
    OVERLAY_RESOLVES_NAMES = 1 << 2, /* hostnames go to the overlay, never to local DNS */
};

/* Called once per dial: status 0 with a connected stream (now owned by the
 * callback), or a negative code with a one-line reason in error. */
typedef void (*overlay_dial_done)(void *context, int status, uv_stream_t *stream,
                                  const struct wippy_error *error);

/* Called for each accepted connection; remote_address names the peer as the
 * overlay knows it (a tailnet IP, a .b32.i2p address...). */
typedef void (*overlay_accept)(void *context, uv_stream_t *stream, const char *remote_address);

struct overlay_driver {
    const char *kind_name; /* the registry kind this driver serves */
    unsigned capabilities;
    /* Creates the live overlay of an entry. */
    int (*open)(uv_loop_t *loop, const struct entry *entry, struct overlay **out,
                struct wippy_error *error);
    /* Starts a dial to host:port; timeout_ns bounds it. Returns a handle the
     * caller may pass to cancel until done runs. */
    int (*dial)(struct overlay *overlay, const char *host, uint16_t port, int64_t timeout_ns,
                overlay_dial_done done, void *context, void **dial_handle,
                struct wippy_error *error);
    void (*cancel_dial)(struct overlay *overlay, void *dial_handle);
    /* Starts accepting on the overlay for an http.service (NULL when the
     * driver cannot listen: the registry rejects such services at load). */
    int (*listen)(struct overlay *overlay, const char *address, overlay_accept accept,
                  void *context, struct wippy_error *error);
    /* Releases every socket and session of the overlay. */
    void (*close)(struct overlay *overlay);
};

#endif
