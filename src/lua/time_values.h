/* time_values.h - durations as Lua arguments (a number of seconds, a string
 * such as "1m30s", or a Duration) for every module that takes one. */
#ifndef WIPPY_LUA_TIME_VALUES_H
#define WIPPY_LUA_TIME_VALUES_H

#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

/* Reads a duration argument, or raises a Lua error naming the argument. */
int64_t time_value_check_duration(lua_State *L, int index);

/* Reads a duration without raising: WIPPY_OK, or the error. */
int time_value_to_duration(lua_State *L, int index, int64_t *nanoseconds, struct wippy_error *error);

/* Pushes a Duration userdata. */
void time_value_push_duration(lua_State *L, int64_t nanoseconds);

/* Pushes a Time userdata for nanoseconds since the Unix epoch. */
void time_value_push_time(lua_State *L, int64_t unix_nanoseconds);

/* The wall clock in nanoseconds since the Unix epoch. */
int64_t wall_clock_nanoseconds(void);

#endif
