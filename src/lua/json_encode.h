/* json_encode.h - json.encode's writer (mod_json_encode in lua/modules.h)
 * and the table classification json.validate shares with it. */
#ifndef WIPPY_LUA_JSON_ENCODE_H
#define WIPPY_LUA_JSON_ENCODE_H

#include <lua.h>

#define JSON_ENCODE_MAX_DEPTH 128

/* A table reached many times is written each time: this bounds the
 * blow-up of one shared a few times over (2^30 values from 30 tables). */
#define JSON_ENCODE_MAX_VALUES 1000000

/* The table at index as JSON sees it: its length when it is a proper
 * sequence 1..n, 0 when empty, -1 when its keys are all strings, -2 when
 * they are mixed or sparse (or of another type). */
lua_Integer json_encode_table_kind(lua_State *L, int index);

#endif
