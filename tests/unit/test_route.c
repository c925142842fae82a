/* test_route.c - net/route.c, the one place that decides a dial's network
 * (SPEC sections 5 and 6): which network, what is checked, what fails. */
#include "net/route.h"
#include "test.h"

static char *select_action[] = {"network.select"};
static char *tor_resource[] = {"app:tor"};

static struct entry fn = {.id = "app:fn", .kind = ENTRY_FUNCTION_LUA};
static struct entry tor = {.id = "app:tor", .kind = ENTRY_NETWORK_SOCKS5};

static struct registry two_entries(void)
{
    static struct entry *sorted[] = {&fn, &tor};
    return (struct registry){.entries = sorted, .count = 2};
}

static const struct network_selection unset = {NETWORK_UNSET, NULL};
static const struct network_selection via_tor = {NETWORK_OVERLAY, "app:tor"};
static const struct network_selection direct = {NETWORK_DIRECT, NULL};

/* A scope allowing network.select on app:tor and nothing else. */
static struct scope *tor_select_scope(struct entry *policy)
{
    *policy = (struct entry){.id = "app:select_tor", .kind = ENTRY_SECURITY_POLICY};
    policy->as.policy.actions = select_action;
    policy->as.policy.action_count = 1;
    policy->as.policy.resources = tor_resource;
    policy->as.policy.resource_count = 1;
    policy->as.policy.allow = true;
    const struct entry *policies[] = {policy};
    return scope_new(policies, 1);
}

/* An actor under a scope that allows network.select on app:tor only. */
struct tor_user {
    struct entry policy;
    struct actor *actor;
    struct scope *scope;
};

static struct route_caller tor_user_caller(struct tor_user *user)
{
    user->scope = tor_select_scope(&user->policy);
    user->actor = actor_new("user:1", NULL);
    return (struct route_caller){user->actor, user->scope};
}

static void tor_user_release(struct tor_user *user)
{
    scope_release(user->scope);
    actor_release(user->actor);
}

TEST(test_route_prefers_explicit_then_inherited_then_default_then_direct)
{
    struct network_selection other = {NETWORK_OVERLAY, "app:other"};
    CHECK_STRING(route_effective(via_tor, other, "app:default").overlay_id, "app:tor");
    CHECK_STRING(route_effective(unset, other, "app:default").overlay_id, "app:other");
    CHECK_STRING(route_effective(unset, unset, "app:default").overlay_id, "app:default");
    CHECK_EQUAL(route_effective(unset, unset, NULL).choice, NETWORK_DIRECT);
    CHECK_EQUAL(route_effective(direct, other, "app:default").choice, NETWORK_DIRECT);
}

TEST(test_route_checks_an_explicit_choice_as_network_select)
{
    struct registry registry = two_entries();
    struct route_policy policy = {&registry, NULL, false};
    struct tor_user user;
    struct route_caller caller = tor_user_caller(&user);
    struct wippy_error error;
    const struct entry *network = NULL;
    CHECK_EQUAL(route_dial(&policy, &caller, via_tor, unset, "example.com", &network, &error), WIPPY_OK);
    CHECK(network == &tor);
    CHECK_EQUAL(route_dial(&policy, &caller, direct, via_tor, "example.com", &network, &error), WIPPY_EDENIED);
    CHECK_STRING(error.message, "not allowed: network direct");
    /* an inherited choice was checked where it was made, not again */
    CHECK_EQUAL(route_dial(&policy, &caller, unset, via_tor, "example.com", &network, &error), WIPPY_OK);
    tor_user_release(&user);
}

TEST(test_route_without_actor_or_scope_follows_strict_mode)
{
    struct registry registry = two_entries();
    struct route_caller nobody = {NULL, NULL};
    struct wippy_error error;
    struct route_policy lenient = {&registry, NULL, false};
    CHECK_EQUAL(route_check_select(&lenient, &nobody, via_tor, &error), WIPPY_OK);
    struct route_policy strict = {&registry, NULL, true};
    CHECK_EQUAL(route_check_select(&strict, &nobody, via_tor, &error), WIPPY_EDENIED);
    CHECK_STRING(error.message, "not allowed: network app:tor");
    CHECK_EQUAL(route_check_select(&strict, &nobody, unset, &error), WIPPY_OK);
}

TEST(test_route_refuses_an_id_that_is_not_a_network)
{
    struct registry registry = two_entries();
    struct route_policy policy = {&registry, NULL, false};
    struct route_caller nobody = {NULL, NULL};
    struct wippy_error error;
    const struct entry *network = &tor;
    struct network_selection function = {NETWORK_OVERLAY, "app:fn"};
    CHECK_EQUAL(route_dial(&policy, &nobody, function, unset, "example.com", &network, &error), WIPPY_ENOENT);
    CHECK_STRING(error.message, "overlay network \"app:fn\": not found");
    CHECK(network == NULL);
    struct network_selection missing = {NETWORK_OVERLAY, "app:missing"};
    CHECK_EQUAL(route_dial(&policy, &nobody, unset, missing, "example.com", &network, &error), WIPPY_ENOENT);
    /* the default is a network too, or the dial fails */
    struct route_policy bad_default = {&registry, "app:fn", false};
    CHECK_EQUAL(route_dial(&bad_default, &nobody, unset, unset, "example.com", &network, &error), WIPPY_ENOENT);
}

TEST(test_route_a_private_literal_through_an_overlay_needs_its_permission)
{
    struct registry registry = two_entries();
    struct route_policy policy = {&registry, NULL, false};
    struct tor_user user;
    struct route_caller caller = tor_user_caller(&user);
    struct wippy_error error;
    const struct entry *network = NULL;
    CHECK_EQUAL(route_dial(&policy, &caller, via_tor, unset, "127.0.0.1", &network, &error), WIPPY_EDENIED);
    CHECK_STRING(error.message, "not allowed: private IP 127.0.0.1 via overlay network");
    CHECK_EQUAL(route_dial(&policy, &caller, via_tor, unset, "[::1]", &network, &error), WIPPY_EDENIED);
    /* names are never resolved here, and direct dials are not overlay dials */
    CHECK_EQUAL(route_dial(&policy, &caller, via_tor, unset, "localhost", &network, &error), WIPPY_OK);
    CHECK_EQUAL(route_dial(&policy, &caller, unset, unset, "127.0.0.1", &network, &error), WIPPY_OK);
    CHECK(network == NULL);
    tor_user_release(&user);
}

TEST(test_route_a_listener_uses_its_network_or_direct)
{
    struct registry registry = two_entries();
    struct route_policy policy = {&registry, NULL, false};
    struct wippy_error error;
    const struct entry *network = &fn;
    struct route_caller service = {NULL, NULL};
    CHECK_EQUAL(route_listen(&policy, &service, NULL, &network, &error), WIPPY_OK);
    CHECK(network == NULL);
    CHECK_EQUAL(route_listen(&policy, &service, "app:tor", &network, &error), WIPPY_OK);
    CHECK(network == &tor);
    CHECK_EQUAL(route_listen(&policy, &service, "app:nowhere", &network, &error), WIPPY_ENOENT);
    CHECK_STRING(error.message, "overlay network \"app:nowhere\": not found");
    /* network.bind: without an actor and a scope, strict mode refuses */
    struct route_policy strict = {&registry, NULL, true};
    CHECK_EQUAL(route_listen(&strict, &service, "app:tor", &network, &error), WIPPY_EDENIED);
    CHECK_STRING(error.message, "not allowed: bind on network app:tor");
    CHECK_EQUAL(route_listen(&strict, &service, NULL, &network, &error), WIPPY_OK); /* direct: unchecked */
}
