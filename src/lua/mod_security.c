/* mod_security.c - the security module: actors, scopes, policies, can. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "lua/error_values.h"
#include "lua/modules.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"
#include "lua/security_values.h"
#include "lua/value_bridge.h"
#include "lua/edge.h"
#include "lua/guard.h"
#include "util/memory.h"

#define ACTOR_TYPE "wippy.actor"
#define SCOPE_TYPE "wippy.scope"
#define POLICY_TYPE "wippy.policy"

/* A handle whose finalizer ran (a weak table can give one back) is gone:
 * it never stands for "no actor" or "no scope". */
struct actor *security_value_check_actor(lua_State *L, int index)
{
    struct actor *actor = *(struct actor **)luaL_checkudata(L, index, ACTOR_TYPE);
    if (actor == NULL)
        luaL_argerror(L, index, "the actor is gone");
    return actor;
}

struct scope *security_value_check_scope(lua_State *L, int index)
{
    struct scope *scope = *(struct scope **)luaL_checkudata(L, index, SCOPE_TYPE);
    if (scope == NULL)
        luaL_argerror(L, index, "the scope is gone");
    return scope;
}

void security_value_push_actor(lua_State *L, struct actor *actor)
{
    struct actor **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = actor_retain(actor);
    luaL_setmetatable(L, ACTOR_TYPE);
}

void security_value_push_scope(lua_State *L, struct scope *scope)
{
    struct scope **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = scope_retain(scope);
    luaL_setmetatable(L, SCOPE_TYPE);
}

static void push_policy(lua_State *L, const struct entry *policy)
{
    const struct entry **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = policy;
    luaL_setmetatable(L, POLICY_TYPE);
}

static const struct entry *check_policy(lua_State *L, int index)
{
    return *(const struct entry **)luaL_checkudata(L, index, POLICY_TYPE);
}

static int actor_collect(lua_State *L)
{
    struct actor **slot = luaL_checkudata(L, 1, ACTOR_TYPE);
    actor_release(*slot);
    *slot = NULL;
    return 0;
}

static int scope_collect(lua_State *L)
{
    struct scope **slot = luaL_checkudata(L, 1, SCOPE_TYPE);
    scope_release(*slot);
    *slot = NULL;
    return 0;
}

/* ---- across heaps: actors and scopes as counted references, policies as
 * the registry's entries (which live as long as the runtime) ---- */

static int export_actor(lua_State *L, int index, void **out, struct wippy_error *error)
{
    struct actor *actor = *(struct actor **)lua_touserdata(L, index);
    if (actor == NULL)
        return error_set(error, WIPPY_EINVAL, "the actor is gone");
    *out = actor_retain(actor);
    return WIPPY_OK;
}

/* The reference becomes the userdata's last: nothing after it raises. */
static int import_actor(lua_State *L, void *exported, struct wippy_error *error)
{
    struct actor **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, ACTOR_TYPE);
    *slot = exported;
    return WIPPY_OK;
}

static void release_actor(void *exported)
{
    actor_release(exported);
}

static int export_scope(lua_State *L, int index, void **out, struct wippy_error *error)
{
    struct scope *scope = *(struct scope **)lua_touserdata(L, index);
    if (scope == NULL)
        return error_set(error, WIPPY_EINVAL, "the scope is gone");
    *out = scope_retain(scope);
    return WIPPY_OK;
}

static int import_scope(lua_State *L, void *exported, struct wippy_error *error)
{
    struct scope **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, SCOPE_TYPE);
    *slot = exported;
    return WIPPY_OK;
}

static void release_scope(void *exported)
{
    scope_release(exported);
}

static int export_policy(lua_State *L, int index, void **out, struct wippy_error *error)
{
    *out = (void *)*(const struct entry **)lua_touserdata(L, index);
    return WIPPY_OK;
}

static int import_policy(lua_State *L, void *exported, struct wippy_error *error)
{
    push_policy(L, exported);
    return WIPPY_OK;
}

static void release_policy(void *exported)
{
    /* nothing to give back: the registry owns its entries */
}

static const struct state_transport actor_transport = {ACTOR_TYPE, export_actor, import_actor, release_actor, false, NULL};
static const struct state_transport scope_transport = {SCOPE_TYPE, export_scope, import_scope, release_scope, false, NULL};
static const struct state_transport policy_transport = {POLICY_TYPE, export_policy, import_policy, release_policy, false, NULL};

static int actor_id(lua_State *L)
{
    lua_pushstring(L, security_value_check_actor(L, 1)->id);
    return 1;
}

static int actor_meta(lua_State *L)
{
    value_bridge_push(L, security_value_check_actor(L, 1)->meta);
    return 1;
}

/* Reads the optional metadata table at index (NULL when absent). */
static struct value *optional_meta(lua_State *L, int index)
{
    if (lua_isnoneornil(L, index))
        return NULL;
    struct wippy_error error;
    struct value *meta = value_bridge_from_lua(L, index, &error);
    if (meta == NULL)
        luaL_argerror(L, index, error.message);
    return meta;
}

static int push_evaluation(lua_State *L, enum policy_result result)
{
    lua_pushstring(L, policy_result_name(result));
    return 1;
}

static struct actor *optional_actor(lua_State *L, int index)
{
    return lua_isnoneornil(L, index) ? NULL : security_value_check_actor(L, index);
}

static int scope_evaluate_lua(lua_State *L)
{
    struct scope *scope = security_value_check_scope(L, 1);
    struct actor *actor = optional_actor(L, 2);
    const char *action = luaL_checkstring(L, 3);
    const char *resource = luaL_checkstring(L, 4);
    struct value *meta = optional_meta(L, 5);
    enum policy_result result = scope_evaluate(scope, actor, action, resource, meta);
    value_free(meta);
    return push_evaluation(L, result);
}

static int scope_with_lua(lua_State *L)
{
    struct scope *scope = security_value_check_scope(L, 1);
    const struct entry *policy = check_policy(L, 2);
    if (!guard_allows(L, ACTION_SECURITY_SCOPE_CREATE, "with"))
        return guard_refuse(L, "not allowed to add policy to scope");
    struct scope *grown = scope_with(scope, policy);
    security_value_push_scope(L, grown);
    scope_release(grown);
    return 1;
}

static int scope_without_lua(lua_State *L)
{
    struct scope *scope = security_value_check_scope(L, 1);
    const char *policy_id = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2)
                                                          : check_policy(L, 2)->id;
    if (!guard_allows(L, ACTION_SECURITY_SCOPE_CREATE, "without"))
        return guard_refuse(L, "not allowed to remove policy from scope");
    struct scope *shrunk = scope_without(scope, policy_id);
    security_value_push_scope(L, shrunk);
    scope_release(shrunk);
    return 1;
}

static int scope_contains_lua(lua_State *L)
{
    struct scope *scope = security_value_check_scope(L, 1);
    const char *policy_id = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2)
                                                          : check_policy(L, 2)->id;
    lua_pushboolean(L, scope_contains(scope, policy_id));
    return 1;
}

static int scope_policies_lua(lua_State *L)
{
    struct scope *scope = security_value_check_scope(L, 1);
    lua_createtable(L, (int)scope->count, 0);
    for (size_t i = 0; i < scope->count; i++) {
        push_policy(L, scope->policies[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int policy_id_lua(lua_State *L)
{
    lua_pushstring(L, check_policy(L, 1)->id);
    return 1;
}

static int policy_evaluate_lua(lua_State *L)
{
    const struct entry *policy = check_policy(L, 1);
    struct actor *actor = optional_actor(L, 2);
    const char *action = luaL_checkstring(L, 3);
    const char *resource = luaL_checkstring(L, 4);
    struct value *meta = optional_meta(L, 5);
    enum policy_result result = policy_evaluate(policy, actor, action, resource, meta);
    value_free(meta);
    return push_evaluation(L, result);
}

/* ---- module functions ---- */

static int security_actor(lua_State *L)
{
    struct task *task = task_current(L);
    if (task->frame->actor == NULL)
        lua_pushnil(L);
    else
        security_value_push_actor(L, task->frame->actor);
    return 1;
}

static int security_scope(lua_State *L)
{
    struct task *task = task_current(L);
    if (task->frame->scope == NULL)
        lua_pushnil(L);
    else
        security_value_push_scope(L, task->frame->scope);
    return 1;
}

static int security_can(lua_State *L)
{
    struct task *task = task_current(L);
    const char *action = luaL_checkstring(L, 1);
    const char *resource = luaL_checkstring(L, 2);
    struct value *meta = optional_meta(L, 3);
    const struct frame *frame = task->frame;
    /* as Go Wippy's security.can: a question about the caller's own rights,
     * answered false without an actor and a scope, whatever strict_mode */
    bool allowed = frame->actor != NULL && frame->scope != NULL &&
                   security_allows(frame->actor, frame->scope, true, action, resource, meta);
    value_free(meta);
    lua_pushboolean(L, allowed);
    return 1;
}

static int security_new_actor(lua_State *L)
{
    const char *id = luaL_checkstring(L, 1);
    struct value *meta = optional_meta(L, 2);
    if (meta != NULL && meta->type != VALUE_MAP) {
        value_free(meta);
        return luaL_argerror(L, 2, "expected a table of metadata");
    }
    if (!guard_allows(L, ACTION_SECURITY_ACTOR_CREATE, id)) {
        value_free(meta);
        return guard_refuse(L, "not allowed to create actor with ID: %s", id);
    }
    struct actor *actor = actor_new(id, meta);
    security_value_push_actor(L, actor);
    actor_release(actor);
    return 1;
}

static int security_new_scope(lua_State *L)
{
    size_t count = lua_isnoneornil(L, 1) ? 0 : (luaL_checktype(L, 1, LUA_TTABLE), lua_rawlen(L, 1));
    const struct entry **policies = xcalloc(count + 1, sizeof(struct entry *));
    for (size_t i = 0; i < count; i++) {
        lua_rawgeti(L, 1, (lua_Integer)i + 1);
        const struct entry **slot = luaL_testudata(L, -1, POLICY_TYPE);
        if (slot == NULL) {
            free(policies);
            return luaL_argerror(L, 1, "expected a list of policies from security.policy()");
        }
        policies[i] = *slot;
        lua_pop(L, 1);
    }
    if (!guard_allows(L, ACTION_SECURITY_SCOPE_CREATE, "custom")) {
        free(policies);
        return guard_refuse(L, "not allowed to create custom scopes");
    }
    struct scope *scope = scope_new(policies, count);
    free(policies);
    security_value_push_scope(L, scope);
    scope_release(scope);
    return 1;
}

static int security_policy(lua_State *L)
{
    const char *id = luaL_checkstring(L, 1);
    if (!guard_allows(L, ACTION_SECURITY_POLICY_GET, id))
        return guard_refuse(L, "permission denied: access policy");
    struct vm *vm = vm_of(L);
    const struct entry *entry = registry_find(vm->registry, id);
    if (entry == NULL || entry->kind != ENTRY_SECURITY_POLICY) {
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "policy \"%s\" not found", id);
    }
    push_policy(L, entry);
    return 1;
}

static bool group_matches(const char *group_id, const char *wanted)
{
    if (strcmp(group_id, wanted) == 0)
        return true;
    const char *colon = strchr(group_id, ':');
    return strchr(wanted, ':') == NULL && colon != NULL && strcmp(colon + 1, wanted) == 0;
}

static int security_named_scope(lua_State *L)
{
    const char *group = luaL_checkstring(L, 1);
    if (!guard_allows(L, ACTION_SECURITY_POLICY_GROUP_GET, group))
        return guard_refuse(L, "permission denied: access policy group");
    struct vm *vm = vm_of(L);
    const struct registry *registry = vm->registry;
    const struct entry **policies = xcalloc(registry->count + 1, sizeof(struct entry *));
    size_t count = 0;
    for (size_t i = 0; i < registry->count; i++) {
        const struct entry *entry = registry->entries[i];
        if (entry->kind != ENTRY_SECURITY_POLICY)
            continue;
        for (size_t g = 0; g < entry->as.policy.group_count; g++) {
            if (group_matches(entry->as.policy.groups[g], group)) {
                policies[count++] = entry;
                break;
            }
        }
    }
    if (count == 0) {
        free(policies);
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "policy group \"%s\" not found", group);
    }
    struct scope *scope = scope_new(policies, count);
    free(policies);
    security_value_push_scope(L, scope);
    scope_release(scope);
    return 1;
}

int mod_security_open(lua_State *L, void *context)
{
    static const luaL_Reg actor_methods[] = {
        {"id", actor_id},
        {"meta", actor_meta},
        {NULL, NULL},
    };
    state_new_type(L, ACTOR_TYPE, actor_methods, STATE_SHARED, NULL);
    lua_pushcfunction(L, actor_collect);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    state_set_transport(L, ACTOR_TYPE, &actor_transport);
    static const luaL_Reg scope_methods[] = {
        {"evaluate", scope_evaluate_lua},
        {"with", scope_with_lua},
        {"without", scope_without_lua},
        {"contains", scope_contains_lua},
        {"policies", scope_policies_lua},
        {NULL, NULL},
    };
    state_new_type(L, SCOPE_TYPE, scope_methods, STATE_SHARED, NULL);
    lua_pushcfunction(L, scope_collect);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    state_set_transport(L, SCOPE_TYPE, &scope_transport);
    static const luaL_Reg policy_methods[] = {
        {"id", policy_id_lua},
        {"evaluate", policy_evaluate_lua},
        {NULL, NULL},
    };
    state_new_type(L, POLICY_TYPE, policy_methods, STATE_SHARED, NULL);
    lua_pop(L, 1);
    state_set_transport(L, POLICY_TYPE, &policy_transport);

    static const luaL_Reg functions[] = {
        {"actor", security_actor},
        {"scope", security_scope},
        {"can", security_can},
        {"new_actor", security_new_actor},
        {"new_scope", security_new_scope},
        {"policy", security_policy},
        {"named_scope", security_named_scope},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
