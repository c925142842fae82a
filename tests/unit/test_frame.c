/* test_frame.c - what children inherit (SPEC 5): explicit > inherited >
 * default > direct, through any depth, never upward or sideways. */
#include "vm/frame.h"
#include "test.h"

static const struct network_selection unset = {NETWORK_UNSET, NULL};

/* The network a dial from a task with this frame would use. */
static struct network_selection effective(const struct frame *frame,
                                          struct network_selection explicit_selection,
                                          const char *default_overlay_id)
{
    return route_effective(explicit_selection, frame_network(frame), default_overlay_id);
}

static struct frame *child_selecting(struct frame *parent, enum network_choice choice,
                                     const char *overlay)
{
    struct frame_changes changes = {.network = {choice, overlay}};
    return frame_inherit(parent, &changes);
}

static struct frame *plain_child(struct frame *parent)
{
    return frame_inherit(parent, NULL);
}

TEST(test_root_uses_default_then_direct)
{
    struct frame *root = frame_new_root();
    struct network_selection chosen = effective(root, unset, "app:tor");
    CHECK_EQUAL(chosen.choice, NETWORK_OVERLAY);
    CHECK_STRING(chosen.overlay_id, "app:tor");
    chosen = effective(root, unset, NULL);
    CHECK_EQUAL(chosen.choice, NETWORK_DIRECT);
    frame_release(root);
}

TEST(test_depth_four_chain_inherits_the_selection)
{
    struct frame *root = frame_new_root();
    struct frame *first = child_selecting(root, NETWORK_OVERLAY, "app:tor");
    struct frame *second = plain_child(first);  /* funcs.call */
    struct frame *third = plain_child(second);  /* process.spawn */
    struct frame *fourth = plain_child(third);  /* funcs.call again */
    struct network_selection chosen = effective(fourth, unset, "app:other");
    CHECK_EQUAL(chosen.choice, NETWORK_OVERLAY);
    CHECK_STRING(chosen.overlay_id, "app:tor");
    frame_release(fourth);
    frame_release(third);
    frame_release(second);
    frame_release(first);
    frame_release(root);
}

TEST(test_child_override_leaves_parent_and_siblings_alone)
{
    struct frame *root = frame_new_root();
    struct frame *parent = child_selecting(root, NETWORK_OVERLAY, "app:tor");
    struct frame *overriding = child_selecting(parent, NETWORK_OVERLAY, "app:i2p");
    struct frame *sibling = plain_child(parent);
    struct frame *grandchild = plain_child(overriding);
    CHECK_STRING(effective(parent, unset, NULL).overlay_id, "app:tor");
    CHECK_STRING(effective(sibling, unset, NULL).overlay_id, "app:tor");
    CHECK_STRING(effective(overriding, unset, NULL).overlay_id, "app:i2p");
    CHECK_STRING(effective(grandchild, unset, NULL).overlay_id, "app:i2p");
    frame_release(grandchild);
    frame_release(sibling);
    frame_release(overriding);
    frame_release(parent);
    frame_release(root);
}

TEST(test_default_never_overrides_an_inherited_choice)
{
    struct frame *root = frame_new_root();
    struct frame *direct = child_selecting(root, NETWORK_DIRECT, NULL);
    struct frame *call = plain_child(direct);
    struct frame *spawned = plain_child(call);
    CHECK(effective(spawned, unset, "app:tor").choice == NETWORK_DIRECT);
    frame_release(spawned);
    frame_release(call);
    frame_release(direct);
    frame_release(root);
}

TEST(test_explicit_call_selection_wins_over_everything)
{
    struct frame *root = frame_new_root();
    struct frame *inherited = child_selecting(root, NETWORK_OVERLAY, "app:tor");
    struct network_selection explicit_direct = {NETWORK_DIRECT, NULL};
    CHECK(effective(inherited, explicit_direct, "app:x").choice == NETWORK_DIRECT);
    struct network_selection explicit_i2p = {NETWORK_OVERLAY, "app:i2p"};
    CHECK_STRING(effective(inherited, explicit_i2p, NULL).overlay_id, "app:i2p");
    frame_release(inherited);
    frame_release(root);
}

TEST(test_context_and_security_are_inherited_and_copied)
{
    struct frame *root = frame_new_root();
    struct value *context = value_new_map();
    value_map_set(context, "request_id", value_new_string("r1", 2));
    struct actor *actor = actor_new("user:1", NULL);
    struct frame_changes changes = {.actor = actor, .context = context};
    struct frame *child = frame_inherit(root, &changes);
    struct frame *grandchild = plain_child(child);
    CHECK_EQUAL(grandchild->actor, actor);
    CHECK_STRING(value_map_get(grandchild->context, "request_id")->as.string.bytes, "r1");
    CHECK(root->actor == NULL && value_map_get(root->context, "request_id") == NULL);
    frame_release(grandchild);
    frame_release(child);
    actor_release(actor);
    value_free(context);
    frame_release(root);
}
