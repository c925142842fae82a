/* bridge.h - how libcurl reaches a target through an overlay it cannot
 * speak itself (I2P, the tailnet; SOCKS5 is curl's own socks5h, see
 * curl_socks5.h). curl's open-socket callback must return a socket at once,
 * and these overlays dial in several round trips, so for each connection
 * curl opens we give it a fresh local (AF_UNIX) socket
 * aimed at a one-shot listener in a private directory; when curl connects,
 * we dial the target through the overlay and pump bytes between the two.
 * curl keeps its keep-alive pool as usual (one pool per overlay), never
 * resolves the target's name, and an overlay that cannot dial makes the
 * transfer fail with the overlay's reason. It costs one local copy per
 * byte. */
#ifndef WIPPY_HTTP_BRIDGE_H
#define WIPPY_HTTP_BRIDGE_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "net/overlay.h"

struct bridge;

/* The transfer that opened a bridge: told when the bridge's dial fails, and
 * when the bridge goes away before bridge_forget_observer. */
struct bridge_observer {
    void (*dial_failed)(void *context, const struct wippy_error *error);
    void (*detached)(void *context, struct bridge *bridge);
    void *context;
};

/* Prepares a bridge to host:port through overlay. Returns the socket curl
 * must connect, with *address (room for a struct sockaddr_storage) and
 * *address_length rewritten to the bridge's listener; -1 on failure. */
int bridge_open(struct overlay *overlay, const char *host, uint16_t port, int64_t timeout_ns,
                struct bridge_observer observer, struct sockaddr *address,
                socklen_t *address_length, struct bridge **out, struct wippy_error *error);

/* The observer goes away (its transfer ended); the bridge lives on for as
 * long as curl keeps the connection. */
void bridge_forget_observer(struct bridge *bridge);

/* Closes every bridge (at shutdown). */
void bridge_close_all(void);

/* Describes a bridge whose dial is still running, or NULL. */
const char *bridge_dial_state(const struct bridge *bridge);

#endif
