/* edge.c - edge options and the network.select permission. */
#include "lua/edge.h"

#include <lauxlib.h>
#include <stdlib.h>

#include "util/memory.h"

void edge_options_copy(struct edge_options *target, const struct edge_options *source)
{
    target->network_choice = source->network_choice;
    target->network_overlay_id =
        source->network_overlay_id != NULL ? xstrdup(source->network_overlay_id) : NULL;
    target->actor = actor_retain(source->actor);
    target->scope = scope_retain(source->scope);
    target->context = source->context != NULL ? value_copy(source->context) : NULL;
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

bool task_allows(struct task *task, const char *action, const char *resource)
{
    const struct frame *frame = task->frame;
    return security_allows(frame->actor, frame->scope, task->runtime->config->strict_mode,
                           action, resource, NULL);
}

int edge_read_network(lua_State *L, struct task *task, int value_index,
                      struct edge_options *options)
{
    int type = lua_type(L, value_index);
    if (type == LUA_TNIL || type == LUA_TNONE)
        return 1;
    const char *resource;
    if (type == LUA_TBOOLEAN && !lua_toboolean(L, value_index)) {
        resource = "direct";
    } else if (type == LUA_TSTRING) {
        resource = lua_tostring(L, value_index);
    } else {
        return luaL_error(L, "network: expected an overlay id (string) or false, got %s",
                          luaL_typename(L, value_index));
    }
    if (!task_allows(task, "network.select", resource)) {
        lua_pushnil(L);
        lua_pushfstring(L, "not allowed: network %s", resource);
        return 0;
    }
    free(options->network_overlay_id);
    options->network_overlay_id = NULL;
    if (type == LUA_TSTRING) {
        options->network_choice = NETWORK_OVERLAY;
        options->network_overlay_id = xstrdup(resource);
    } else {
        options->network_choice = NETWORK_DIRECT;
    }
    return 1;
}

int edge_check_network_exists(lua_State *L, struct runtime *runtime,
                              const struct edge_options *options)
{
    if (options->network_choice != NETWORK_OVERLAY)
        return 1;
    const struct entry *entry = registry_find(runtime->registry, options->network_overlay_id);
    if (entry != NULL && entry_is_network(entry))
        return 1;
    lua_pushnil(L);
    lua_pushfstring(L, "overlay network \"%s\": not found", options->network_overlay_id);
    return 0;
}
