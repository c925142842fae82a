/* overlay.h - the one interface every network, overlay or not, implements
 * (direct TCP, SOCKS5, I2P and Tailscale are rows of the driver table). The
 * HTTP client and the HTTP service ask this interface, never a driver.
 * Dials are asynchronous on the runtime's libuv loop, bounded by a timeout,
 * cancellable, and never fall back to another network. */
#ifndef WIPPY_NET_OVERLAY_H
#define WIPPY_NET_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "registry/entry.h"
#include "util/error.h"

struct overlay;
struct overlay_dial;
struct overlay_listener;

enum overlay_capability {
    OVERLAY_CAN_DIAL = 1 << 0,
    OVERLAY_CAN_LISTEN = 1 << 1,
    OVERLAY_NEVER_REUSE = 1 << 2, /* every dial must stay its own connection */
    /* Targets are reached by plain TCP from this host (the direct network):
     * a client may open the connection itself, with its own name lookup
     * and connection pool, instead of dialing through the driver. */
    OVERLAY_PLAIN_TCP = 1 << 3,
    /* The overlay is a SOCKS5 proxy a client may speak to itself (curl's
     * socks5h: names sent unresolved, as the driver's own dial does), with
     * the credentials overlay_socks5_proxy gives for each connection. */
    OVERLAY_SOCKS5_PROXY = 1 << 4,
};

/* Where an OVERLAY_SOCKS5_PROXY overlay's proxy is and what one connection
 * must offer it (fresh random credentials when streams are isolated). */
struct overlay_socks5_proxy {
    char address[300];  /* "host:port", "[v6]:port": as messages name it */
    char username[256]; /* "" when the proxy takes none */
    char password[256];
};

/* A connected byte stream to the dialed target. The receiver owns it: it
 * must eventually pass it to overlay_connection_close. early_bytes are bytes
 * of the target's stream that arrived with the overlay's handshake. */
struct overlay_connection {
    uv_stream_t *stream; /* reading stopped */
    uint8_t *early_bytes;
    size_t early_length;
};

/* Called for each connection an overlay listener accepts (never NULL); the
 * receiver owns the connection. remote_address names the peer as the
 * overlay knows it (a tailnet address, a .b32.i2p destination). */
typedef void (*overlay_accept_fn)(void *context, struct overlay_connection *connection,
                                  const char *remote_address);

/* Called at most once, when a listener fails for good (its overlay could
 * not come up); error is the one-line reason. No call of either kind
 * follows. */
typedef void (*overlay_listen_failed_fn)(void *context, const struct wippy_error *error);

/* What a listener reports to. */
struct overlay_listen_handlers {
    overlay_accept_fn accept;
    overlay_listen_failed_fn failed;
    void *context;
    /* direct network only: bind with SO_REUSEPORT, so that several
     * runtimes (or threads) may listen on one port and the kernel spreads
     * the connections */
    bool reuse_port;
};

/* Called exactly once per dial that was not cancelled: a connection, or
 * NULL with a one-line reason naming the overlay and the peer's reply. */
typedef void (*overlay_dial_done)(void *context, struct overlay_connection *connection,
                                  const struct wippy_error *error);

struct overlay_driver {
    unsigned capabilities;
    size_t size; /* of the driver's overlay struct, which starts with struct overlay */
    int (*open)(struct overlay *overlay, struct wippy_error *error);
    /* NULL with error set when the dial cannot even start. */
    struct overlay_dial *(*dial)(struct overlay *overlay, const char *host, uint16_t port,
                                 int64_t timeout_ns, overlay_dial_done done, void *context,
                                 struct wippy_error *error);
    /* Stops a dial; its done callback will not run. */
    void (*cancel)(struct overlay_dial *dial);
    /* Describes where a dial is ("waiting for the CONNECT reply"). */
    const char *(*describe)(const struct overlay_dial *dial);
    /* Starts accepting inbound connections for the service named label at
     * address (its addr, e.g. ":80"); NULL with error set when it cannot.
     * NULL (the function) for outbound-only overlays such as SOCKS5. */
    struct overlay_listener *(*listen)(struct overlay *overlay, const char *label, const char *address,
                                       const struct overlay_listen_handlers *handlers,
                                       struct wippy_error *error);
    /* Stops accepting and frees the listener; no handler runs afterwards. */
    void (*stop_listening)(struct overlay_listener *listener);
    /* Where the listener accepts, as a person writes it ("127.0.0.1:8080"),
     * or NULL when the driver announces it itself once known. */
    const char *(*listener_address)(const struct overlay_listener *listener);
    /* For OVERLAY_SOCKS5_PROXY drivers: the proxy and the credentials of
     * the next connection. */
    int (*socks5_proxy)(struct overlay *overlay, struct overlay_socks5_proxy *out, struct wippy_error *error);
    void (*close)(struct overlay *overlay);
};

/* What each driver is configured with; overlay_get fills it from the
 * network.* entry, so no driver reads a registry entry. Strings stay owned
 * by the registry, which outlives every overlay. */
struct socks5_config {
    const char *host;
    int port;
    const char *username; /* NULL when the proxy takes no credentials */
    const char *password;
    bool isolate_streams;
};

struct i2p_config {
    const char *host; /* the SAM bridge */
    int port;
    const char *session_name;
    const char *const *options; /* router options: key, value, ..., NULL */
};

struct tailscale_config {
    const char *hostname;
    const char *auth_key;     /* or NULL when auth_key_env names it */
    const char *auth_key_env;
    const char *control_url;  /* or NULL */
    const char *state_dir;    /* or NULL: under network_service.state_dir */
    bool ephemeral;
};

union overlay_config {
    struct socks5_config socks5;
    struct i2p_config i2p;
    struct tailscale_config tailscale;
};

struct overlay {
    const struct overlay_driver *driver;
    const char *id;        /* the entry's id, for every message */
    const char *name;      /* the entry's name, for the files of its state */
    const char *state_dir; /* network_service.state_dir, for keys and node state */
    unsigned capabilities; /* the driver's, adjusted by open for this entry */
    union overlay_config config;
    uv_loop_t *loop;
    const struct entry *entry; /* what overlay_get finds it by; drivers never read it */
    char **owned;          /* texts made for config (i2p options), freed with the overlay */
    struct overlay *next;  /* in the runtime's set of live overlays */
};

/* The live overlays of a runtime, opened on first use, and its direct
 * network. */
struct overlay_set {
    uv_loop_t *loop;
    const char *state_dir;
    struct overlay *first;
    struct overlay *direct; /* opened on first use */
};

/* Returns the live overlay of a network.* entry, opening it when needed. */
int overlay_get(struct overlay_set *set, const struct entry *entry, struct overlay **out,
                struct wippy_error *error);
/* Closes every overlay of the set. */
void overlay_set_close(struct overlay_set *set);

/* The set's direct network: plain TCP from this host (net/direct.c). */
struct overlay *overlay_direct(struct overlay_set *set);

/* Starts a dial to host:port (host is sent to the overlay as written, never
 * resolved here). Returns NULL after calling nothing when the dial could not
 * start, with error set. */
struct overlay_dial *overlay_dial(struct overlay *overlay, const char *host, uint16_t port,
                                  int64_t timeout_ns, overlay_dial_done done, void *context,
                                  struct wippy_error *error);
void overlay_dial_cancel(struct overlay *overlay, struct overlay_dial *dial);
const char *overlay_dial_describe(struct overlay *overlay, const struct overlay_dial *dial);

bool overlay_never_reuses(const struct overlay *overlay);

bool overlay_is_plain_tcp(const struct overlay *overlay);

bool overlay_is_socks5_proxy(const struct overlay *overlay);
/* The proxy of an OVERLAY_SOCKS5_PROXY overlay and the credentials one new
 * connection must use. */
int overlay_socks5_proxy(struct overlay *overlay, struct overlay_socks5_proxy *out, struct wippy_error *error);

/* Accepts connections through the overlay; NULL with an error naming the
 * overlay when it cannot listen (registry validation already refuses
 * SOCKS5). */
struct overlay_listener *overlay_listen(struct overlay *overlay, const char *label, const char *address,
                                        const struct overlay_listen_handlers *handlers,
                                        struct wippy_error *error);
/* Stops a listener; no handler runs afterwards. */
void overlay_stop_listening(struct overlay *overlay, struct overlay_listener *listener);
/* Where a listener accepts, or NULL when the driver announces it itself. */
const char *overlay_listener_address(const struct overlay *overlay, const struct overlay_listener *listener);

/* Closes a connection received from a dial, freeing it. */
void overlay_connection_close(struct overlay_connection *connection);

/* Drivers. */
extern const struct overlay_driver direct_overlay_driver;
extern const struct overlay_driver socks5_overlay_driver;
extern const struct overlay_driver i2p_overlay_driver;
extern const struct overlay_driver tailscale_overlay_driver;

#endif
