/* typed_lua.h - Wippy's typed Lua read as Lua 5.4: type aliases (`type`,
 * `export type`), annotations of locals, loop variables, parameters and
 * returns, generic parameters of functions, casts (`expr as T`,
 * `expr :: T`) and non-nil assertions (`value!`) are
 * erased, each byte of them turned into a space (line breaks kept), so every
 * line and column of what is left stays where it was and Lua's messages
 * point at the right place. Plain Lua 5.4 passes unchanged. */
#ifndef WIPPY_VM_TYPED_LUA_H
#define WIPPY_VM_TYPED_LUA_H

#include <stddef.h>

#include "util/error.h"

/* The largest file read (its tokens take about nine times its size). */
#define TYPED_LUA_MAX_SOURCE (16 << 20)

/* Erases the type syntax of source (length bytes, changed in place). On a
 * type it cannot read, returns an error whose message starts with
 * "LINE:COLUMN: " and leaves source partly erased. */
int typed_lua_erase(char *source, size_t length, struct wippy_error *error);

#endif
