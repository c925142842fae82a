/* edge.c - edge options, and network choices read at an edge. */
#include "lua/edge.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "lua/security_values.h"
#include "lua/value_bridge.h"
#include "util/memory.h"
#include "util/suggest.h"

void edge_options_copy(struct edge_options *target, const struct edge_options *source)
{
    target->network_choice = source->network_choice;
    target->network_overlay_id =
        source->network_overlay_id != NULL ? xstrdup(source->network_overlay_id) : NULL;
    target->actor = actor_retain(source->actor);
    target->scope = scope_retain(source->scope);
    target->context = source->context != NULL ? value_copy(source->context) : NULL;
    target->memory_limit = source->memory_limit;
}

void edge_options_clear(struct edge_options *options)
{
    free(options->network_overlay_id);
    actor_release(options->actor);
    scope_release(options->scope);
    value_free(options->context);
    *options = (struct edge_options){0};
}

struct frame_changes edge_options_changes(const struct edge_options *options)
{
    return (struct frame_changes){
        .network = {options->network_choice, options->network_overlay_id},
        .actor = options->actor,
        .scope = options->scope,
        .context = options->context,
    };
}

int edge_parse_selection(lua_State *L, int value_index, struct network_selection *out,
                         struct wippy_error *error)
{
    int type = lua_type(L, value_index);
    if (type == LUA_TNIL || type == LUA_TNONE) {
        *out = (struct network_selection){NETWORK_UNSET, NULL};
        return WIPPY_OK;
    }
    if (type == LUA_TBOOLEAN && !lua_toboolean(L, value_index)) {
        *out = (struct network_selection){NETWORK_DIRECT, NULL};
        return WIPPY_OK;
    }
    if (type != LUA_TSTRING)
        return error_set(error, WIPPY_EINVAL, "expected an overlay id (string) or false, got %s",
                         type == LUA_TBOOLEAN ? "true" : luaL_typename(L, value_index));
    *out = (struct network_selection){NETWORK_OVERLAY, lua_tostring(L, value_index)};
    return WIPPY_OK;
}

struct network_selection edge_read_selection(lua_State *L, int value_index)
{
    struct network_selection selection;
    struct wippy_error error;
    if (edge_parse_selection(L, value_index, &selection, &error) < 0)
        luaL_error(L, "network: %s", error.message);
    return selection;
}

int edge_check_option_names(lua_State *L, int table_index, const char *const *known, struct wippy_error *error)
{
    lua_pushnil(L);
    while (lua_next(L, table_index) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            continue;
        const char *name = lua_tostring(L, -1);
        bool listed = false;
        for (size_t i = 0; known[i] != NULL && !listed; i++)
            listed = strcmp(known[i], name) == 0;
        const char *near = listed ? NULL : suggest_closest(name, known);
        if (near != NULL) {
            int rc = error_set(error, WIPPY_EINVAL, "with_options: unknown option \"%s\" (did you mean \"%s\"?)",
                               name, near);
            lua_pop(L, 1);
            return rc;
        }
    }
    return WIPPY_OK;
}

int edge_read_network(lua_State *L, struct task *task, int value_index,
                      struct edge_options *options, struct wippy_error *error)
{
    struct network_selection chosen = edge_read_selection(L, value_index);
    if (chosen.choice == NETWORK_UNSET)
        return WIPPY_OK;
    struct route_policy policy = vm_route_policy(task->vm);
    struct route_caller caller = task_route_caller(task);
    int rc = route_check_select(&policy, &caller, chosen, error);
    if (rc < 0)
        return rc;
    free(options->network_overlay_id);
    options->network_choice = chosen.choice;
    options->network_overlay_id = chosen.overlay_id != NULL ? xstrdup(chosen.overlay_id) : NULL;
    return WIPPY_OK;
}

int edge_check_network_exists(const struct vm *vm, const struct edge_options *options,
                              struct wippy_error *error)
{
    struct route_policy policy = vm_route_policy(vm);
    struct network_selection chosen = {options->network_choice, options->network_overlay_id};
    return route_check_exists(&policy, chosen, error);
}

struct edge_options *edge_check(lua_State *L, int index, const char *type_name)
{
    return luaL_checkudata(L, index, type_name);
}

struct edge_options *edge_push(lua_State *L, const struct edge_options *source,
                               const char *type_name)
{
    struct edge_options *options = lua_newuserdatauv(L, sizeof *options, 0);
    *options = (struct edge_options){0};
    if (source != NULL)
        edge_options_copy(options, source);
    luaL_setmetatable(L, type_name);
    return options;
}

int edge_collect(lua_State *L)
{
    struct edge_options *options = lua_touserdata(L, 1);
    if (options != NULL)
        edge_options_clear(options);
    return 0;
}

int edge_with_actor(lua_State *L, const char *type_name)
{
    struct edge_options *current = edge_check(L, 1, type_name);
    struct actor *actor = security_value_check_actor(L, 2);
    struct edge_options *next = edge_push(L, current, type_name);
    actor_release(next->actor);
    next->actor = actor_retain(actor);
    return 1;
}

int edge_with_scope(lua_State *L, const char *type_name)
{
    struct edge_options *current = edge_check(L, 1, type_name);
    struct scope *scope = security_value_check_scope(L, 2);
    struct edge_options *next = edge_push(L, current, type_name);
    scope_release(next->scope);
    next->scope = scope_retain(scope);
    return 1;
}

int edge_with_context(lua_State *L, const struct edge_options *current, int table_index,
                      const char *type_name)
{
    luaL_checktype(L, table_index, LUA_TTABLE);
    struct wippy_error error;
    struct value *values = value_bridge_from_lua(L, table_index, &error);
    if (values == NULL || values->type != VALUE_MAP) {
        value_free(values);
        return luaL_argerror(L, table_index,
                             values == NULL ? error.message : "expected a table of named values");
    }
    struct edge_options *next = edge_push(L, current, type_name);
    if (next->context == NULL) {
        next->context = values;
    } else {
        value_merge(next->context, values);
        value_free(values);
    }
    return 1;
}
