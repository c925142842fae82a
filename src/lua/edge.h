/* edge.h - what a Lua edge (an executor of funcs, a spawner of process)
 * carries to the child it starts; where a selection is made, the routing
 * rules of net/route.h are asked. */
#ifndef WIPPY_LUA_EDGE_H
#define WIPPY_LUA_EDGE_H

#include <lua.h>
#include <stdbool.h>

#include "vm/frame.h"
#include "vm/task.h"
#include "vm/core.h"

struct edge_options {
    enum network_choice network_choice;
    char *network_overlay_id;
    struct actor *actor;
    struct scope *scope;
    struct value *context; /* map or NULL */
    int64_t memory_limit;  /* a spawner's memory_limit in bytes, 0 = none */
};

void edge_options_copy(struct edge_options *target, const struct edge_options *source);
void edge_options_clear(struct edge_options *options);
/* The frame changes these options make (pointers into options). */
struct frame_changes edge_options_changes(const struct edge_options *options);

/* Reads a `network` option (an overlay id string, or false) at value_index
 * as a selection (pointing into the Lua value, which must stay on the stack
 * while it is used); NETWORK_UNSET for nil. Raises on a wrong type. */
struct network_selection edge_read_selection(lua_State *L, int value_index);

/* Options are opaque to the host, as in Go Wippy (a key this runtime does
 * not read is passed over), but a key that is a slip of one it reads
 * ("netwrok") would silently lose that setting: WIPPY_EINVAL with the
 * nearest known name. */
int edge_check_option_names(lua_State *L, int table_index, const char *const *known, struct wippy_error *error);

/* The same without raising: WIPPY_EINVAL and error (without a "network:"
 * prefix) on a wrong type. */
int edge_parse_selection(lua_State *L, int value_index, struct network_selection *out,
                         struct wippy_error *error);

/* Reads a `network` option (an overlay id string, or false) at value_index
 * and applies network.select for the task (net/route.c): the choice goes
 * into options when allowed (nothing changes when absent); a denial is
 * WIPPY_EDENIED with "not allowed: network <id>". Raises on a wrong type. */
int edge_read_network(lua_State *L, struct task *task, int value_index,
                      struct edge_options *options, struct wippy_error *error);

/* WIPPY_ENOENT with 'overlay network "<id>": not found' when options select
 * an overlay that is not a network.* entry. */
int edge_check_network_exists(const struct vm *vm, const struct edge_options *options,
                              struct wippy_error *error);

/* Executors (funcs) and spawners (process) are userdata holding edge
 * options; they are immutable, so every with_* pushes a new one of the same
 * type (type_name names its metatable). */
struct edge_options *edge_check(lua_State *L, int index, const char *type_name);
struct edge_options *edge_push(lua_State *L, const struct edge_options *source,
                               const char *type_name);
/* __gc of both types. */
int edge_collect(lua_State *L);
/* obj:with_actor(actor), obj:with_scope(scope): self at 1, argument at 2. */
int edge_with_actor(lua_State *L, const char *type_name);
int edge_with_scope(lua_State *L, const char *type_name);
/* with_context(values) over current (NULL for none), the table at index. */
int edge_with_context(lua_State *L, const struct edge_options *current, int table_index,
                      const char *type_name);

#endif
