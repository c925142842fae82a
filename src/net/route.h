/* route.h - the one place that decides which network a dial or a listener
 * uses (SPEC sections 5 and 6): an explicit choice on the call (checked as
 * network.select), else the selection inherited through the frame, else
 * network_service.default_network, else direct; an id that is not a
 * network.* entry fails; a literal private address reached through an
 * overlay needs http_client.private_ip. Every module that dials or listens
 * asks here, and nothing here falls back to direct. */
#ifndef WIPPY_NET_ROUTE_H
#define WIPPY_NET_ROUTE_H

#include <stdbool.h>

#include "registry/registry.h"
#include "security/security.h"
#include "util/error.h"

enum network_choice {
    NETWORK_UNSET,   /* nothing chosen: the application default applies */
    NETWORK_DIRECT,  /* `false`: explicitly direct */
    NETWORK_OVERLAY, /* an overlay entry id */
};

struct network_selection {
    enum network_choice choice;
    const char *overlay_id; /* owned by whoever holds the selection */
};

/* What the application decides routes with. */
struct route_policy {
    const struct registry *registry;
    const char *default_network; /* an overlay id, or NULL */
    bool strict_mode;            /* security.strict_mode */
};

/* Who asks: the security context of the calling task. */
struct route_caller {
    const struct actor *actor; /* NULL when none */
    const struct scope *scope; /* NULL when none */
};

/* The effective selection: explicit, else inherited, else the default
 * overlay (may be NULL), else direct. The result points into the inputs. */
struct network_selection route_effective(struct network_selection explicit_selection,
                                         struct network_selection inherited,
                                         const char *default_overlay_id);

/* network.select for an explicit choice made at an edge (a call's option,
 * an executor's or spawner's with_options): WIPPY_OK when allowed or when
 * nothing was chosen, else WIPPY_EDENIED with "not allowed: network <id>"
 * (the id is "direct" for false). */
int route_check_select(const struct route_policy *policy, const struct route_caller *caller,
                       struct network_selection chosen, struct wippy_error *error);

/* WIPPY_OK unless the selection names an overlay that is not a network.*
 * entry: then WIPPY_ENOENT with 'overlay network "<id>": not found'. */
int route_check_exists(const struct route_policy *policy, struct network_selection chosen,
                       struct wippy_error *error);

/* Decides the network of one dial to target_host (as written in the URL;
 * names are never resolved here). explicit_selection is checked as
 * network.select. On WIPPY_OK *network is the network.* entry to dial
 * through, or NULL for direct. */
int route_dial(const struct route_policy *policy, const struct route_caller *caller,
               struct network_selection explicit_selection, struct network_selection inherited,
               const char *target_host, const struct entry **network, struct wippy_error *error);

/* The private-address rule alone, for a dial through an overlay to
 * target_host (a redirect's host, say): WIPPY_EDENIED with "not allowed:
 * private IP <host> via overlay network" when the caller may not. */
int route_check_private_target(const struct route_policy *policy, const struct route_caller *caller,
                               const char *target_host, struct wippy_error *error);

/* The private-address rule for a direct connection to address (the one
 * being connected to, resolved): WIPPY_EDENIED with "not allowed: private
 * IP <address>" when the caller may not. */
int route_check_private_address(const struct route_policy *policy, const struct route_caller *caller,
                                const char *address, struct wippy_error *error);

/* Decides the network an http.service listens on: its network id, or NULL
 * for direct. Listening on an overlay is network.bind for caller (the
 * service's context): WIPPY_EDENIED with "not allowed: bind on network
 * <id>". On WIPPY_OK *network is the entry or NULL. */
int route_listen(const struct route_policy *policy, const struct route_caller *caller, const char *network_id,
                 const struct entry **network, struct wippy_error *error);

#endif
