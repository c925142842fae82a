/* actor_scope.c - lifetimes of actors and scopes. */
#include <stdlib.h>
#include <string.h>

#include "security/security.h"
#include "util/memory.h"

struct actor *actor_new(const char *id, struct value *meta)
{
    struct actor *actor = xcalloc(1, sizeof *actor);
    actor->references = 1;
    actor->id = xstrdup(id);
    actor->meta = meta != NULL ? meta : value_new_map();
    return actor;
}

struct actor *actor_retain(struct actor *actor)
{
    if (actor != NULL)
        actor->references++;
    return actor;
}

void actor_release(struct actor *actor)
{
    if (actor == NULL || --actor->references > 0)
        return;
    free(actor->id);
    value_free(actor->meta);
    free(actor);
}

struct scope *scope_new(const struct entry *const *policies, size_t count)
{
    struct scope *scope = xcalloc(1, sizeof *scope);
    scope->references = 1;
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
        scope->references++;
    return scope;
}

void scope_release(struct scope *scope)
{
    if (scope == NULL || --scope->references > 0)
        return;
    free(scope->policies);
    free(scope);
}
