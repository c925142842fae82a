/* frame.h - the context a call or process carries and hands to everything it
 * starts: the network selection, the security actor and scope, and context
 * values. Frames are immutable and shared; a child that changes something
 * gets a new frame, so no change ever reaches the parent. */
#ifndef WIPPY_VM_FRAME_H
#define WIPPY_VM_FRAME_H

#include <stdatomic.h>
#include <stdbool.h>

#include "net/route.h"
#include "security/security.h"
#include "util/value.h"

struct frame {
    atomic_int references;    /* a worker's call may hold it on the main thread */
    enum network_choice network_choice;
    char *network_overlay_id; /* set when network_choice is NETWORK_OVERLAY */
    struct actor *actor;      /* NULL when no actor */
    struct scope *scope;      /* NULL when no scope */
    struct value *context;    /* map of context values, never NULL */
};

/* What a child edge changes. Unset members keep the parent's value. */
struct frame_changes {
    struct network_selection network; /* NETWORK_UNSET keeps the parent's */
    struct actor *actor;              /* NULL keeps the parent's */
    struct scope *scope;              /* NULL keeps the parent's */
    const struct value *context;      /* merged over the parent's, or NULL */
};

struct frame *frame_new_root(void);
struct frame *frame_retain(struct frame *frame);
void frame_release(struct frame *frame);

/* The frame of a child started through an edge (funcs.call, spawn): the
 * parent's inheritable keys, with changes applied. The parent is untouched. */
struct frame *frame_inherit(struct frame *parent, const struct frame_changes *changes);

/* The network selection the frame carries (NETWORK_UNSET when none was
 * made on the way here); route_effective turns it into the dial's. */
struct network_selection frame_network(const struct frame *frame);

#endif
