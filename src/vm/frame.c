/* frame.c - sharing and deriving frames. */
#include "vm/frame.h"

#include <stdlib.h>

#include "util/memory.h"

struct frame *frame_new_root(void)
{
    struct frame *frame = xcalloc(1, sizeof *frame);
    atomic_init(&frame->references, 1);
    frame->network_choice = NETWORK_UNSET;
    frame->context = value_new_map();
    return frame;
}

struct frame *frame_retain(struct frame *frame)
{
    atomic_fetch_add_explicit(&frame->references, 1, memory_order_relaxed);
    return frame;
}

void frame_release(struct frame *frame)
{
    if (frame == NULL || atomic_fetch_sub_explicit(&frame->references, 1, memory_order_acq_rel) > 1)
        return;
    free(frame->network_overlay_id);
    actor_release(frame->actor);
    scope_release(frame->scope);
    value_free(frame->context);
    free(frame);
}

static bool changes_nothing(const struct frame_changes *changes)
{
    return changes == NULL ||
           (changes->network.choice == NETWORK_UNSET && changes->actor == NULL &&
            changes->scope == NULL && changes->context == NULL);
}

struct frame *frame_inherit(struct frame *parent, const struct frame_changes *changes)
{
    if (changes_nothing(changes))
        return frame_retain(parent);
    struct frame *child = xcalloc(1, sizeof *child);
    atomic_init(&child->references, 1);
    if (changes->network.choice != NETWORK_UNSET) {
        child->network_choice = changes->network.choice;
        if (changes->network.choice == NETWORK_OVERLAY)
            child->network_overlay_id = xstrdup(changes->network.overlay_id);
    } else {
        child->network_choice = parent->network_choice;
        if (parent->network_overlay_id != NULL)
            child->network_overlay_id = xstrdup(parent->network_overlay_id);
    }
    child->actor = actor_retain(changes->actor != NULL ? changes->actor : parent->actor);
    child->scope = scope_retain(changes->scope != NULL ? changes->scope : parent->scope);
    child->context = value_copy(parent->context);
    if (changes->context != NULL)
        value_merge(child->context, changes->context);
    return child;
}

struct network_selection frame_network(const struct frame *frame)
{
    return (struct network_selection){frame->network_choice, frame->network_overlay_id};
}
