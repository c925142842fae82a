/* security.h - actors (who), scopes (which policies apply) and policy
 * evaluation as SPEC section 6 and Wippy define it. Pure data and logic:
 * no Lua, no I/O. Actors and scopes are immutable and reference-counted;
 * any thread may retain and release them. */
#ifndef WIPPY_SECURITY_SECURITY_H
#define WIPPY_SECURITY_SECURITY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "registry/entry.h"
#include "util/value.h"

enum policy_result {
    POLICY_UNDEFINED,
    POLICY_ALLOW,
    POLICY_DENY,
};

struct actor {
    atomic_int references;
    char *id;
    struct value *meta; /* a map, owned */
};

struct scope {
    atomic_int references;
    const struct entry **policies; /* security.policy entries, owned by the registry */
    size_t count;
};

/* Creates an actor; takes ownership of meta (NULL becomes an empty map). */
struct actor *actor_new(const char *id, struct value *meta);
struct actor *actor_retain(struct actor *actor);
void actor_release(struct actor *actor);

struct scope *scope_new(const struct entry *const *policies, size_t count);
/* Returns a new scope with policy added (unchanged copy when present). */
struct scope *scope_with(const struct scope *scope, const struct entry *policy);
/* Returns a new scope without the policy whose id is policy_id. */
struct scope *scope_without(const struct scope *scope, const char *policy_id);
bool scope_contains(const struct scope *scope, const char *policy_id);
struct scope *scope_retain(struct scope *scope);
void scope_release(struct scope *scope);

/* Evaluates one policy: its effect when action, resource and every condition
 * match, otherwise undefined. meta is the resource metadata (may be NULL). */
enum policy_result policy_evaluate(const struct entry *policy, const struct actor *actor,
                                   const char *action, const char *resource,
                                   const struct value *meta);

/* Evaluates every policy of scope: deny wins, then allow, else undefined. */
enum policy_result scope_evaluate(const struct scope *scope, const struct actor *actor,
                                  const char *action, const char *resource,
                                  const struct value *meta);

/* The permission check of SPEC section 6: with an actor and a scope, allowed
 * only when the scope evaluates to allow; without them, allowed unless
 * strict_mode. */
bool security_allows(const struct actor *actor, const struct scope *scope, bool strict_mode,
                     const char *action, const char *resource, const struct value *meta);

const char *policy_result_name(enum policy_result result);

#endif
