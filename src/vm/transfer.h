/* transfer.h - moving a Lua value from one task to another without sharing
 * anything mutable: tables are copied deeply (cycles kept, metatables
 * dropped), shareable userdata (channels, actors, scopes, times) pass as they
 * are, and functions or coroutines cannot cross. */
#ifndef WIPPY_VM_TRANSFER_H
#define WIPPY_VM_TRANSFER_H

#include <lua.h>
#include <stddef.h>

#include "util/error.h"

/* Pushes onto `to` a copy of the value at index of `from` (the two may be the
 * same thread, or threads of two heaps). On failure pushes nothing and returns the error's code
 * ("cannot pass a function between processes"). */
int transfer_value(lua_State *from, int index, lua_State *to, struct wippy_error *error);

/* Same, but raises a Lua error on `from` instead of returning -1. */
void transfer_value_or_raise(lua_State *from, int index, lua_State *to);

#endif
