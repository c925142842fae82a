/* test_security.c - policy evaluation and the permission rule of SPEC 6. */
#include "security/security.h"
#include "test.h"
#include "util/yaml_load.h"

static char *allow_all_actions[] = {"*"};
static char *network_select[] = {"network.select"};
static char *tor_only[] = {"app:tor"};
static char *direct_only[] = {"direct"};
static char *any_resource[] = {"*"};

static struct entry make_policy(const char *id, char **actions, size_t action_count,
                                char **resources, size_t resource_count, bool allow)
{
    struct entry policy = {.id = (char *)id, .kind = ENTRY_SECURITY_POLICY};
    policy.as.policy.actions = actions;
    policy.as.policy.action_count = action_count;
    policy.as.policy.resources = resources;
    policy.as.policy.resource_count = resource_count;
    policy.as.policy.allow = allow;
    return policy;
}

TEST(test_policy_evaluation_table)
{
    struct entry allow_tor = make_policy("app:allow_tor", network_select, 1, tor_only, 1, true);
    struct entry deny_direct = make_policy("app:deny_direct", network_select, 1, direct_only, 1, false);
    struct actor *actor = actor_new("user:1", NULL);
    CHECK(policy_evaluate(&allow_tor, actor, "network.select", "app:tor", NULL) == POLICY_ALLOW);
    CHECK(policy_evaluate(&allow_tor, actor, "network.select", "app:i2p", NULL) == POLICY_UNDEFINED);
    CHECK(policy_evaluate(&allow_tor, actor, "process.spawn", "app:tor", NULL) == POLICY_UNDEFINED);
    CHECK(policy_evaluate(&deny_direct, actor, "network.select", "direct", NULL) == POLICY_DENY);

    const struct entry *both[] = {&allow_tor, &deny_direct};
    struct scope *scope = scope_new(both, 2);
    CHECK(scope_evaluate(scope, actor, "network.select", "app:tor", NULL) == POLICY_ALLOW);
    CHECK(scope_evaluate(scope, actor, "network.select", "direct", NULL) == POLICY_DENY);
    CHECK(scope_evaluate(scope, actor, "network.select", "app:i2p", NULL) == POLICY_UNDEFINED);
    scope_release(scope);
    actor_release(actor);
}

TEST(test_deny_wins_over_allow)
{
    struct entry allow_everything = make_policy("app:all", allow_all_actions, 1, any_resource, 1, true);
    struct entry deny_tor = make_policy("app:no_tor", network_select, 1, tor_only, 1, false);
    const struct entry *policies[] = {&allow_everything, &deny_tor};
    struct scope *scope = scope_new(policies, 2);
    struct actor *actor = actor_new("a", NULL);
    CHECK(scope_evaluate(scope, actor, "network.select", "app:tor", NULL) == POLICY_DENY);
    CHECK(!security_allows(actor, scope, false, "network.select", "app:tor", NULL));
    CHECK(security_allows(actor, scope, false, "network.select", "direct", NULL));
    scope_release(scope);
    actor_release(actor);
}

TEST(test_without_actor_or_scope_strict_mode_decides)
{
    struct entry deny_tor = make_policy("app:no_tor", network_select, 1, tor_only, 1, false);
    const struct entry *policies[] = {&deny_tor};
    struct scope *scope = scope_new(policies, 1);
    struct actor *actor = actor_new("a", NULL);
    CHECK(security_allows(NULL, NULL, false, "network.select", "app:tor", NULL));
    CHECK(!security_allows(NULL, NULL, true, "network.select", "app:tor", NULL));
    CHECK(security_allows(NULL, scope, false, "x", "y", NULL));
    CHECK(!security_allows(actor, NULL, true, "x", "y", NULL));
    /* with both, no match denies even when strict mode is off */
    CHECK(!security_allows(actor, scope, false, "other.action", "r", NULL));
    scope_release(scope);
    actor_release(actor);
}

TEST(test_policy_conditions_on_actor_metadata)
{
    struct value *conditions = NULL;
    const char text[] = "- field: actor.meta.role\n  operator: eq\n  value: admin\n"
                        "- field: actor.meta.level\n  operator: gte\n  value: 3\n";
    CHECK(yaml_load_text("c", text, sizeof text - 1, &conditions, NULL) == 0);
    struct entry admin = make_policy("app:admin", allow_all_actions, 1, any_resource, 1, true);
    admin.as.policy.conditions = conditions;
    struct value *meta = NULL;
    const char admin_meta[] = "role: admin\nlevel: 5\n";
    CHECK(yaml_load_text("m", admin_meta, sizeof admin_meta - 1, &meta, NULL) == 0);
    struct actor *boss = actor_new("boss", meta);
    struct value *low_meta = NULL;
    const char low_text[] = "role: admin\nlevel: 1\n";
    CHECK(yaml_load_text("m", low_text, sizeof low_text - 1, &low_meta, NULL) == 0);
    struct actor *junior = actor_new("junior", low_meta);
    CHECK(policy_evaluate(&admin, boss, "delete", "x", NULL) == POLICY_ALLOW);
    CHECK(policy_evaluate(&admin, junior, "delete", "x", NULL) == POLICY_UNDEFINED);
    CHECK(policy_evaluate(&admin, NULL, "delete", "x", NULL) == POLICY_UNDEFINED);
    actor_release(boss);
    actor_release(junior);
    value_free(conditions);
}

TEST(test_scope_with_and_without_return_new_scopes)
{
    struct entry a = make_policy("app:a", allow_all_actions, 1, any_resource, 1, true);
    struct entry b = make_policy("app:b", network_select, 1, tor_only, 1, false);
    struct scope *empty = scope_new(NULL, 0);
    struct scope *one = scope_with(empty, &a);
    struct scope *two = scope_with(one, &b);
    struct scope *back = scope_without(two, "app:b");
    CHECK(empty->count == 0 && one->count == 1 && two->count == 2 && back->count == 1);
    CHECK(scope_contains(two, "app:b") && !scope_contains(back, "app:b"));
    scope_release(empty);
    scope_release(one);
    scope_release(two);
    scope_release(back);
}
