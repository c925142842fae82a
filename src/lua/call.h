/* call.h - running a function.lua entry as a child task of the calling task
 * and handing its results back: the machinery under funcs.call. */
#ifndef WIPPY_LUA_CALL_H
#define WIPPY_LUA_CALL_H

#include <lua.h>

#include "lua/edge.h"

/* Calls function entry `function_id` with the arguments at first_argument..top
 * of L under options; blocks the calling task and returns (result, error)
 * to Lua. Must be used as `return call_function(...)`. */
int call_function(lua_State *L, const char *function_id, int first_argument,
                      const struct edge_options *options);

/* funcs.async: starts the call without waiting and returns a Future to
 * Lua (its channel gets the result as a payload, or the error); the call
 * ends with the calling process. */
int call_function_async(lua_State *L, const char *function_id, int first_argument,
                        const struct edge_options *options);

/* Registers the Future type in L. */
void call_register_future(lua_State *L);

#endif
