/* route.c - see route.h. */
#include "net/route.h"

#include "security/actions.h"

#include "net/private_address.h"

struct network_selection route_effective(struct network_selection explicit_selection,
                                         struct network_selection inherited,
                                         const char *default_overlay_id)
{
    if (explicit_selection.choice != NETWORK_UNSET)
        return explicit_selection;
    if (inherited.choice != NETWORK_UNSET)
        return inherited;
    if (default_overlay_id != NULL)
        return (struct network_selection){NETWORK_OVERLAY, default_overlay_id};
    return (struct network_selection){NETWORK_DIRECT, NULL};
}

static bool allows(const struct route_policy *policy, const struct route_caller *caller,
                   const char *action, const char *resource)
{
    return security_allows(caller->actor, caller->scope, policy->strict_mode, action, resource, NULL);
}

int route_check_select(const struct route_policy *policy, const struct route_caller *caller,
                       struct network_selection chosen, struct wippy_error *error)
{
    if (chosen.choice == NETWORK_UNSET)
        return WIPPY_OK;
    const char *resource = chosen.choice == NETWORK_DIRECT ? "direct" : chosen.overlay_id;
    if (!allows(policy, caller, ACTION_NETWORK_SELECT, resource))
        return error_set(error, WIPPY_EDENIED, "not allowed: network %s", resource);
    return WIPPY_OK;
}

int route_check_exists(const struct route_policy *policy, struct network_selection chosen,
                       struct wippy_error *error)
{
    if (chosen.choice != NETWORK_OVERLAY)
        return WIPPY_OK;
    const struct entry *entry = registry_find(policy->registry, chosen.overlay_id);
    if (entry == NULL || !entry_is_network(entry))
        return error_set(error, WIPPY_ENOENT, "overlay network \"%s\": not found", chosen.overlay_id);
    return WIPPY_OK;
}

/* A literal private address (this host, its LAN) reached through an overlay
 * needs http_client.private_ip, as in Go Wippy: the overlay's far end would
 * otherwise open the caller's own network to it. */
int route_check_private_target(const struct route_policy *policy, const struct route_caller *caller,
                               const char *target_host, struct wippy_error *error)
{
    if (target_host == NULL || !private_address(target_host))
        return WIPPY_OK;
    if (!allows(policy, caller, ACTION_HTTP_CLIENT_PRIVATE_IP, target_host))
        return error_set(error, WIPPY_EDENIED, "not allowed: private IP %s via overlay network",
                         target_host);
    return WIPPY_OK;
}

int route_check_private_address(const struct route_policy *policy, const struct route_caller *caller,
                                const char *address, struct wippy_error *error)
{
    if (address == NULL || !private_address(address))
        return WIPPY_OK;
    if (!allows(policy, caller, ACTION_HTTP_CLIENT_PRIVATE_IP, address))
        return error_set(error, WIPPY_EDENIED, "not allowed: private IP %s", address);
    return WIPPY_OK;
}

int route_dial(const struct route_policy *policy, const struct route_caller *caller,
               struct network_selection explicit_selection, struct network_selection inherited,
               const char *target_host, const struct entry **network, struct wippy_error *error)
{
    *network = NULL;
    int rc = route_check_select(policy, caller, explicit_selection, error);
    if (rc < 0)
        return rc;
    struct network_selection chosen =
        route_effective(explicit_selection, inherited, policy->default_network);
    if (chosen.choice != NETWORK_OVERLAY)
        return WIPPY_OK;
    rc = route_check_exists(policy, chosen, error);
    if (rc < 0)
        return rc;
    rc = route_check_private_target(policy, caller, target_host, error);
    if (rc < 0)
        return rc;
    *network = registry_find(policy->registry, chosen.overlay_id);
    return WIPPY_OK;
}

int route_listen(const struct route_policy *policy, const struct route_caller *caller, const char *network_id,
                 const struct entry **network, struct wippy_error *error)
{
    *network = NULL;
    if (network_id == NULL)
        return WIPPY_OK;
    struct network_selection chosen = {NETWORK_OVERLAY, network_id};
    int rc = route_check_exists(policy, chosen, error);
    if (rc < 0)
        return rc;
    if (!allows(policy, caller, ACTION_NETWORK_BIND, network_id))
        return error_set(error, WIPPY_EDENIED, "not allowed: bind on network %s", network_id);
    *network = registry_find(policy->registry, network_id);
    return WIPPY_OK;
}
