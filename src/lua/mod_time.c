/* mod_time.c - the time module: sleep, now, after, timer, ticker,
 * parse_duration, Time and Duration values. Numbers are seconds (SPEC 3),
 * so the unit constants are in seconds too: 5 * time.SECOND == 5. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm/channel.h"
#include "lua/error_values.h"
#include "lua/modules.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"
#include "lua/time_values.h"
#include "util/handle.h"
#include "util/duration.h"
#include "util/memory.h"

#define DURATION_TYPE "wippy.duration"
#define TIME_TYPE "wippy.time"
#define TIMER_TYPE "wippy.timer"

int64_t wall_clock_nanoseconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * DURATION_NANOSECONDS_PER_SECOND + now.tv_nsec;
}

void time_value_push_duration(lua_State *L, int64_t nanoseconds)
{
    int64_t *value = lua_newuserdatauv(L, sizeof *value, 0);
    *value = nanoseconds;
    luaL_setmetatable(L, DURATION_TYPE);
}

void time_value_push_time(lua_State *L, int64_t unix_nanoseconds)
{
    int64_t *value = lua_newuserdatauv(L, sizeof *value, 0);
    *value = unix_nanoseconds;
    luaL_setmetatable(L, TIME_TYPE);
}

int time_value_to_duration(lua_State *L, int index, int64_t *nanoseconds, struct wippy_error *error)
{
    int64_t *duration = luaL_testudata(L, index, DURATION_TYPE);
    if (duration != NULL) {
        *nanoseconds = *duration;
        return WIPPY_OK;
    }
    if (lua_type(L, index) == LUA_TNUMBER)
        return duration_from_seconds(lua_tonumber(L, index), nanoseconds, error);
    if (lua_type(L, index) == LUA_TSTRING)
        return duration_parse(lua_tostring(L, index), nanoseconds, error);
    return error_set(error, WIPPY_EINVAL, "expected a duration (seconds, \"500ms\", \"1m30s\"), got %s",
                     luaL_typename(L, index));
}

int64_t time_value_check_duration(lua_State *L, int index)
{
    int64_t nanoseconds = 0;
    struct wippy_error error;
    if (time_value_to_duration(L, index, &nanoseconds, &error) < 0)
        luaL_argerror(L, index, error.message);
    return nanoseconds;
}

static uint64_t milliseconds_for_timer(int64_t nanoseconds)
{
    if (nanoseconds <= 0)
        return 0;
    return (uint64_t)((nanoseconds + 999999) / 1000000);
}

/* ---- sleep ---- */

struct sleep_timer {
    uv_timer_t handle; /* first: the close callback frees the struct */
    struct task *task;
};

static void sleep_fired(uv_timer_t *handle)
{
    struct sleep_timer *timer = (struct sleep_timer *)handle;
    task_wake(timer->task, 0);
    handle_close((uv_handle_t *)handle);
}

static void cancel_sleep(struct task *task)
{
    struct sleep_timer *timer = task->wait_data;
    uv_timer_stop(&timer->handle);
    handle_close((uv_handle_t *)&timer->handle);
}

static int time_sleep(lua_State *L)
{
    int64_t nanoseconds = time_value_check_duration(L, 1);
    struct task *task = task_current(L);
    task_check_can_block(L, task, "time.sleep");
    struct sleep_timer *timer = xcalloc(1, sizeof *timer);
    timer->task = task;
    uv_timer_init(task->vm->loop, &timer->handle);
    uv_update_time(task->vm->loop); /* the cached loop time may be stale */
    uv_timer_start(&timer->handle, sleep_fired, milliseconds_for_timer(nanoseconds), 0);
    return task_wait(L, task, cancel_sleep, timer, NULL, 0);
}

static int time_now(lua_State *L)
{
    time_value_push_time(L, wall_clock_nanoseconds());
    return 1;
}

static int time_unix(lua_State *L)
{
    lua_Integer seconds = luaL_checkinteger(L, 1);
    lua_Integer nanoseconds = luaL_optinteger(L, 2, 0);
    time_value_push_time(L, seconds * DURATION_NANOSECONDS_PER_SECOND + nanoseconds);
    return 1;
}

static int time_parse_duration(lua_State *L)
{
    int64_t nanoseconds;
    struct wippy_error error;
    if (time_value_to_duration(L, 1, &nanoseconds, &error) < 0) {
        return error_value_fail(L, &error);
    }
    time_value_push_duration(L, nanoseconds);
    return 1;
}

/* ---- timers feeding channels: after, timer, ticker ---- */

struct channel_timer {
    uv_timer_t handle; /* first: the close callback frees the struct */
    lua_State *lua;
    int channel_reference;
    bool repeating;
    bool owned_by_userdata; /* a Timer/Ticker object controls it */
    bool stopped;
};

static void channel_timer_close(struct channel_timer *timer)
{
    if (timer->stopped)
        return;
    timer->stopped = true;
    uv_timer_stop(&timer->handle);
    luaL_unref(timer->lua, LUA_REGISTRYINDEX, timer->channel_reference);
    timer->channel_reference = LUA_NOREF;
    handle_close((uv_handle_t *)&timer->handle);
}

static void channel_timer_fired(uv_timer_t *handle)
{
    struct channel_timer *timer = (struct channel_timer *)handle;
    lua_State *L = timer->lua;
    lua_rawgeti(L, LUA_REGISTRYINDEX, timer->channel_reference);
    time_value_push_time(L, wall_clock_nanoseconds());
    channel_offer(L, -2); /* a full ticker channel drops the tick, as Go's does */
    lua_pop(L, 1);
    if (!timer->repeating && !timer->owned_by_userdata)
        channel_timer_close(timer);
}

static struct channel_timer *channel_timer_start(lua_State *L, int64_t nanoseconds, bool repeating,
                                                 bool owned)
{
    struct task *task = task_current(L);
    struct channel_timer *timer = xcalloc(1, sizeof *timer);
    timer->lua = task->heap->lua;
    timer->repeating = repeating;
    timer->owned_by_userdata = owned;
    channel_push_new(L, 1);
    lua_pushvalue(L, -1);
    timer->channel_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    uv_timer_init(task->vm->loop, &timer->handle);
    uv_update_time(task->vm->loop);
    uint64_t milliseconds = milliseconds_for_timer(nanoseconds);
    uv_timer_start(&timer->handle, channel_timer_fired, milliseconds, repeating ? milliseconds : 0);
    return timer;
}

static int time_after(lua_State *L)
{
    channel_timer_start(L, time_value_check_duration(L, 1), false, false);
    return 1;
}

static int push_timer_object(lua_State *L, bool repeating)
{
    int64_t nanoseconds = time_value_check_duration(L, 1);
    if (nanoseconds <= 0) {
        return error_value_fail_with(L, ERROR_KIND_INVALID, "%s", "duration must be positive");
    }
    struct channel_timer **slot = lua_newuserdatauv(L, sizeof *slot, 1);
    luaL_setmetatable(L, TIMER_TYPE);
    *slot = channel_timer_start(L, nanoseconds, repeating, true);
    lua_setiuservalue(L, -2, 1); /* the channel, for :response() */
    return 1;
}

static int time_timer(lua_State *L) { return push_timer_object(L, false); }
static int time_ticker(lua_State *L) { return push_timer_object(L, true); }

static struct channel_timer *check_timer(lua_State *L)
{
    return *(struct channel_timer **)luaL_checkudata(L, 1, TIMER_TYPE);
}

static int timer_response(lua_State *L)
{
    check_timer(L);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static int timer_stop(lua_State *L)
{
    struct channel_timer *timer = check_timer(L);
    bool was_active = !timer->stopped && uv_is_active((uv_handle_t *)&timer->handle);
    if (!timer->stopped)
        uv_timer_stop(&timer->handle);
    lua_pushboolean(L, was_active);
    return 1;
}

static int timer_reset(lua_State *L)
{
    struct channel_timer *timer = check_timer(L);
    int64_t nanoseconds = time_value_check_duration(L, 2);
    if (timer->stopped) {
        lua_pushboolean(L, 0);
        return 1;
    }
    uint64_t milliseconds = milliseconds_for_timer(nanoseconds);
    uv_update_time(timer->handle.loop);
    uv_timer_start(&timer->handle, channel_timer_fired, milliseconds,
                   timer->repeating ? milliseconds : 0);
    lua_pushboolean(L, 1);
    return 1;
}

static int timer_collect(lua_State *L)
{
    struct channel_timer **slot = luaL_checkudata(L, 1, TIMER_TYPE);
    if (*slot != NULL)
        channel_timer_close(*slot);
    *slot = NULL;
    return 0;
}

/* ---- Duration and Time across heaps: a copy of the number ---- */

static int export_nanoseconds(lua_State *L, int index, void **out, struct wippy_error *error)
{
    int64_t *copy = xmalloc(sizeof *copy);
    *copy = *(int64_t *)lua_touserdata(L, index);
    *out = copy;
    return WIPPY_OK;
}

/* The copy is freed only once the value stands: nothing after it raises. */
static int import_duration(lua_State *L, void *exported, struct wippy_error *error)
{
    time_value_push_duration(L, *(int64_t *)exported);
    free(exported);
    return WIPPY_OK;
}

static int import_time(lua_State *L, void *exported, struct wippy_error *error)
{
    time_value_push_time(L, *(int64_t *)exported);
    free(exported);
    return WIPPY_OK;
}

static const struct state_transport duration_transport = {DURATION_TYPE, export_nanoseconds, import_duration, free};
static const struct state_transport time_transport = {TIME_TYPE, export_nanoseconds, import_time, free};

/* ---- Duration and Time methods ---- */

static int64_t check_duration_value(lua_State *L, int index)
{
    return *(int64_t *)luaL_checkudata(L, index, DURATION_TYPE);
}

static int duration_in(lua_State *L, double unit)
{
    lua_pushnumber(L, (double)check_duration_value(L, 1) / unit);
    return 1;
}

static int duration_hours(lua_State *L) { return duration_in(L, 3600e9); }
static int duration_minutes(lua_State *L) { return duration_in(L, 60e9); }
static int duration_seconds(lua_State *L) { return duration_in(L, 1e9); }
static int duration_milliseconds(lua_State *L) { return duration_in(L, 1e6); }
static int duration_microseconds(lua_State *L) { return duration_in(L, 1e3); }

static int duration_nanoseconds(lua_State *L)
{
    lua_pushinteger(L, check_duration_value(L, 1));
    return 1;
}

static int duration_tostring(lua_State *L)
{
    int64_t nanoseconds = check_duration_value(L, 1);
    char text[64];
    if (nanoseconds % DURATION_NANOSECONDS_PER_SECOND == 0)
        snprintf(text, sizeof text, "%llds", (long long)(nanoseconds / DURATION_NANOSECONDS_PER_SECOND));
    else
        snprintf(text, sizeof text, "%gs", (double)nanoseconds / 1e9);
    lua_pushstring(L, text);
    return 1;
}

static int64_t check_time_value(lua_State *L, int index)
{
    return *(int64_t *)luaL_checkudata(L, index, TIME_TYPE);
}

static int time_value_unix(lua_State *L)
{
    int64_t nanoseconds = check_time_value(L, 1);
    lua_pushinteger(L, nanoseconds / DURATION_NANOSECONDS_PER_SECOND);
    return 1;
}

static int time_value_unix_nano(lua_State *L)
{
    lua_pushinteger(L, check_time_value(L, 1));
    return 1;
}

static int time_value_unix_milli(lua_State *L)
{
    lua_pushinteger(L, check_time_value(L, 1) / 1000000);
    return 1;
}

static int time_value_sub(lua_State *L)
{
    time_value_push_duration(L, check_time_value(L, 1) - check_time_value(L, 2));
    return 1;
}

static int time_value_add(lua_State *L)
{
    time_value_push_time(L, check_time_value(L, 1) + time_value_check_duration(L, 2));
    return 1;
}

static int time_value_before(lua_State *L)
{
    lua_pushboolean(L, check_time_value(L, 1) < check_time_value(L, 2));
    return 1;
}

static int time_value_after(lua_State *L)
{
    lua_pushboolean(L, check_time_value(L, 1) > check_time_value(L, 2));
    return 1;
}

static int time_value_equal(lua_State *L)
{
    lua_pushboolean(L, check_time_value(L, 1) == check_time_value(L, 2));
    return 1;
}

static int time_value_format_rfc3339(lua_State *L)
{
    int64_t nanoseconds = check_time_value(L, 1);
    time_t seconds = (time_t)(nanoseconds / DURATION_NANOSECONDS_PER_SECOND);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    char text[64];
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    lua_pushstring(L, text);
    return 1;
}

int mod_time_open(lua_State *L, void *context)
{
    static const luaL_Reg duration_methods[] = {
        {"hours", duration_hours},
        {"minutes", duration_minutes},
        {"seconds", duration_seconds},
        {"milliseconds", duration_milliseconds},
        {"microseconds", duration_microseconds},
        {"nanoseconds", duration_nanoseconds},
        {NULL, NULL},
    };
    state_new_type(L, DURATION_TYPE, duration_methods, STATE_SHARED, NULL);
    lua_pushcfunction(L, duration_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    state_set_transport(L, DURATION_TYPE, &duration_transport);
    static const luaL_Reg time_methods[] = {
        {"unix", time_value_unix},
        {"unix_nano", time_value_unix_nano},
        {"unix_milli", time_value_unix_milli},
        {"sub", time_value_sub},
        {"add", time_value_add},
        {"before", time_value_before},
        {"after", time_value_after},
        {"equal", time_value_equal},
        {"format_rfc3339", time_value_format_rfc3339},
        {NULL, NULL},
    };
    state_new_type(L, TIME_TYPE, time_methods, STATE_SHARED, NULL);
    lua_pushcfunction(L, time_value_format_rfc3339);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    state_set_transport(L, TIME_TYPE, &time_transport);
    static const luaL_Reg timer_methods[] = {
        {"response", timer_response},
        {"channel", timer_response},
        {"stop", timer_stop},
        {"reset", timer_reset},
        {NULL, NULL},
    };
    state_new_type(L, TIMER_TYPE, timer_methods, STATE_PRIVATE, NULL);
    lua_pushcfunction(L, timer_collect);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    static const luaL_Reg functions[] = {
        {"sleep", time_sleep},
        {"now", time_now},
        {"unix", time_unix},
        {"after", time_after},
        {"timer", time_timer},
        {"ticker", time_ticker},
        {"parse_duration", time_parse_duration},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    static const struct {
        const char *name;
        double seconds;
    } units[] = {
        {"NANOSECOND", 1e-9}, {"MICROSECOND", 1e-6}, {"MILLISECOND", 1e-3},
        {"SECOND", 1},        {"MINUTE", 60},        {"HOUR", 3600},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (units[i].seconds >= 1)
            lua_pushinteger(L, (lua_Integer)units[i].seconds);
        else
            lua_pushnumber(L, units[i].seconds);
        lua_setfield(L, -2, units[i].name);
    }
    lua_pushliteral(L, "2006-01-02T15:04:05Z07:00");
    lua_setfield(L, -2, "RFC3339");
    return 1;
}
