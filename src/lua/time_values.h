/* time_values.h - the time module's values as Go Wippy has them: Duration
 * (nanoseconds), Time (an instant with the zone it is shown in) and
 * Location (a zone), with their methods and how they cross heaps; and
 * durations as arguments (an integer of nanoseconds, a string such as
 * "1m30s", or a Duration) for every module that takes one. */
#ifndef WIPPY_LUA_TIME_VALUES_H
#define WIPPY_LUA_TIME_VALUES_H

#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct time_zone;

/* A Time is at most this many seconds from 1970 either way (about 285
 * million years: Go's own range is wider, but every sum of a Time and a
 * day or an offset stays inside int64 from here), and a date's fields are
 * each smaller than TIME_VALUE_MAX_FIELD in magnitude. */
#define TIME_VALUE_MAX_SECONDS (INT64_C(1) << 53)
#define TIME_VALUE_MAX_FIELD (INT64_C(1) << 31)

/* Registers the Duration, Time and Location types in L. */
void time_values_register(lua_State *L);

/* Reads a duration argument, or raises a Lua error naming the argument. */
int64_t time_value_check_duration(lua_State *L, int index);

/* Reads a duration without raising: WIPPY_OK, or the error. Numbers are
 * nanoseconds (a fraction is dropped, as Go converts). */
int time_value_to_duration(lua_State *L, int index, int64_t *nanoseconds, struct wippy_error *error);

/* Pushes a Duration userdata. */
void time_value_push_duration(lua_State *L, int64_t nanoseconds);

/* Pushes a Time for Unix seconds and nanoseconds shown in zone (retained
 * here; NULL: the local zone). */
void time_value_push_time(lua_State *L, int64_t seconds, int32_t nanosecond, struct time_zone *zone);

/* Pushes the current time in the local zone. */
void time_value_push_now(lua_State *L);

/* Pushes a Location for zone (retained here). */
void time_value_push_location(lua_State *L, struct time_zone *zone);

/* The zone of the Location at index, or raises. */
struct time_zone *time_value_check_location(lua_State *L, int index);

/* The machine's zone (TZ, else /etc/localtime, else UTC), read once at the
 * first call: call it before the loop runs (module open does). */
struct time_zone *time_values_local_zone(void);

/* The wall clock in nanoseconds since the Unix epoch. */
int64_t wall_clock_nanoseconds(void);

#endif
