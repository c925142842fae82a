/* actor_scope.c - lifetimes of actors and scopes. The counts are atomic:
 * a value carried to a heap on another thread is released there. */
#include <stdlib.h>
#include <string.h>

#include "security/security.h"
#include "util/memory.h"

/* Drops one reference; true for the last one. acq_rel (not a fence, which
 * ThreadSanitizer cannot follow): every other thread's use of the object
 * happens before the one that frees it. */
static bool last_reference(atomic_int *references)
{
    return atomic_fetch_sub_explicit(references, 1, memory_order_acq_rel) == 1;
}

struct actor *actor_new(const char *id, struct value *meta)
{
    struct actor *actor = xcalloc(1, sizeof *actor);
    atomic_init(&actor->references, 1);
    actor->id = xstrdup(id);
    actor->meta = meta != NULL ? meta : value_new_map();
    return actor;
}

struct actor *actor_retain(struct actor *actor)
{
    if (actor != NULL)
        atomic_fetch_add_explicit(&actor->references, 1, memory_order_relaxed);
    return actor;
}

void actor_release(struct actor *actor)
{
    if (actor == NULL || !last_reference(&actor->references))
        return;
    free(actor->id);
    value_free(actor->meta);
    free(actor);
}

struct scope *scope_new(const struct entry *const *policies, size_t count)
{
    struct scope *scope = xcalloc(1, sizeof *scope);
    atomic_init(&scope->references, 1);
    scope->policies = xcalloc(count + 1, sizeof(struct entry *));
    for (size_t i = 0; i < count; i++)
        if (!scope_contains(scope, policies[i]->id))
            scope->policies[scope->count++] = policies[i];
    return scope;
}

struct scope *scope_with(const struct scope *scope, const struct entry *policy)
{
    struct scope *grown = scope_new(scope->policies, scope->count);
    if (!scope_contains(grown, policy->id)) {
        grown->policies = xrealloc(grown->policies, (grown->count + 1) * sizeof(struct entry *));
        grown->policies[grown->count++] = policy;
    }
    return grown;
}

struct scope *scope_without(const struct scope *scope, const char *policy_id)
{
    struct scope *shrunk = scope_new(NULL, 0);
    shrunk->policies = xrealloc(shrunk->policies, (scope->count + 1) * sizeof(struct entry *));
    for (size_t i = 0; i < scope->count; i++)
        if (strcmp(scope->policies[i]->id, policy_id) != 0)
            shrunk->policies[shrunk->count++] = scope->policies[i];
    return shrunk;
}

bool scope_contains(const struct scope *scope, const char *policy_id)
{
    for (size_t i = 0; i < scope->count; i++)
        if (strcmp(scope->policies[i]->id, policy_id) == 0)
            return true;
    return false;
}

struct scope *scope_retain(struct scope *scope)
{
    if (scope != NULL)
        atomic_fetch_add_explicit(&scope->references, 1, memory_order_relaxed);
    return scope;
}

void scope_release(struct scope *scope)
{
    if (scope == NULL || !last_reference(&scope->references))
        return;
    free(scope->policies);
    free(scope);
}
