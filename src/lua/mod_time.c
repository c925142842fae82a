/* mod_time.c - the time module as Go Wippy's: sleep, now, after, timer,
 * ticker, date, unix, parse, parse_duration, load_location, fixed_zone and
 * the constants. Numbers are nanoseconds (time.SECOND == 1000000000); the
 * values themselves are lua/time_values.c. */
#include <lauxlib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "vm/channel.h"
#include "lua/error_values.h"
#include "lua/modules.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"
#include "vm/heaps.h"
#include "lua/time_values.h"
#include "util/go_time.h"
#include "util/handle.h"
#include "util/memory.h"
#include "util/time_zone.h"

#define TIMER_TYPE "wippy.timer"

static uint64_t milliseconds_for_timer(int64_t nanoseconds)
{
    if (nanoseconds <= 0)
        return 0;
    return (uint64_t)(nanoseconds / 1000000 + (nanoseconds % 1000000 != 0));
}

/* libuv keeps its clock in whole milliseconds from a coarse clock, so a timer
 * can fire up to two milliseconds early; Go's sleeps and timers never do. */
static uint64_t deadline_after(int64_t nanoseconds)
{
    return uv_hrtime() + (uint64_t)(nanoseconds > 0 ? nanoseconds : 0);
}

static bool rearmed_if_early(uv_timer_t *handle, uv_timer_cb callback, uint64_t deadline)
{
    uint64_t now = uv_hrtime();
    if (now >= deadline)
        return false;
    uv_update_time(handle->loop);
    uv_timer_start(handle, callback, milliseconds_for_timer((int64_t)(deadline - now)), 0);
    return true;
}

/* ---- sleep ---- */

struct sleep_timer {
    uv_timer_t handle; /* first: the close callback frees the struct */
    struct task *task;
    uint64_t deadline; /* uv_hrtime() */
};

static void sleep_fired(uv_timer_t *handle)
{
    struct sleep_timer *timer = (struct sleep_timer *)handle;
    if (rearmed_if_early(handle, sleep_fired, timer->deadline))
        return;
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
    timer->deadline = deadline_after(nanoseconds);
    uv_timer_init(task->vm->loop, &timer->handle);
    uv_update_time(task->vm->loop); /* the cached loop time may be stale */
    uv_timer_start(&timer->handle, sleep_fired, milliseconds_for_timer(nanoseconds), 0);
    return task_wait(L, task, cancel_sleep, timer, NULL, 0);
}

static int time_now(lua_State *L)
{
    time_value_push_now(L);
    return 1;
}

/* Go's time.Unix: nanoseconds outside [0, 1e9) carry into the seconds. */
static int time_unix(lua_State *L)
{
    lua_Integer seconds = luaL_checkinteger(L, 1);
    lua_Integer nanoseconds = luaL_optinteger(L, 2, 0);
    if (__builtin_add_overflow(seconds, go_time_floor_div(nanoseconds, 1000000000), &seconds))
        return luaL_error(L, "time out of range (more than 285 million years from 1970)");
    time_value_push_time(L, seconds, (int32_t)go_time_floor_mod(nanoseconds, 1000000000), NULL);
    return 1;
}

static struct time_zone *optional_location(lua_State *L, int index)
{
    return lua_isnoneornil(L, index) ? time_values_local_zone() : time_value_check_location(L, index);
}

static int time_date(lua_State *L)
{
    lua_Integer parts[7];
    for (int i = 0; i < 7; i++)
        parts[i] = luaL_checkinteger(L, i + 1);
    struct time_zone *zone = optional_location(L, 8);
    for (int i = 0; i < 7; i++) /* with these, nothing below passes int64 */
        luaL_argcheck(L, parts[i] > -TIME_VALUE_MAX_FIELD && parts[i] < TIME_VALUE_MAX_FIELD, i + 1, "out of range");
    int64_t seconds = parts[5] + go_time_floor_div(parts[6], 1000000000);
    int64_t local = go_time_days_from_date(parts[0], parts[1], parts[2]) * GO_TIME_SECONDS_PER_DAY +
                    parts[3] * 3600 + parts[4] * 60 + seconds;
    time_value_push_time(L, time_zone_unix_from_local(zone, local), (int32_t)go_time_floor_mod(parts[6], 1000000000),
                         zone);
    return 1;
}

/* Go's ParseInLocation: a parsed offset or abbreviation that the location
 * has at that time keeps the location, another makes a zone of its own;
 * none reads the wall clock in the location. */
static int time_parse(lua_State *L)
{
    size_t layout_length, value_length;
    const char *layout = luaL_checklstring(L, 1, &layout_length);
    const char *value = luaL_checklstring(L, 2, &value_length);
    struct time_zone *zone = optional_location(L, 3);
    if (layout_length > 4096 || value_length > 4096)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "time.parse: layout or value longer than 4096 bytes");
    struct go_time_parsed p;
    struct wippy_error error;
    if (go_time_parse(layout, layout_length, value, value_length, &p, &error) < 0)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "time.parse: %s", error.message);
    int64_t local = go_time_days_from_date(p.year, p.month, p.day) * GO_TIME_SECONDS_PER_DAY + p.hour * 3600 +
                    p.minute * 60 + p.second;
    if (p.has_offset || p.has_abbreviation) {
        int offset = p.offset;
        if (!p.has_offset) { /* an abbreviation: the location's offset when it has it then */
            int at;
            const char *name;
            time_zone_lookup(zone, local, &at, &name);
            time_zone_lookup(zone, local - at, &at, &name);
            offset = strcmp(name, p.abbreviation) == 0 ? at : 0;
            if (strcmp(name, p.abbreviation) != 0 && strncmp(p.abbreviation, "GMT", 3) == 0)
                offset = atoi(p.abbreviation + 3) * 3600;
        }
        int64_t seconds = local - offset;
        int at;
        const char *name;
        time_zone_lookup(zone, seconds, &at, &name);
        if (at == offset && (!p.has_abbreviation || strcmp(name, p.abbreviation) == 0)) {
            time_value_push_time(L, seconds, p.nanosecond, zone);
        } else {
            struct time_zone *own = p.has_offset && !p.has_abbreviation && offset == 0 && p.abbreviation[0] == '\0'
                                        ? time_zone_retain(time_zone_utc())
                                        : time_zone_fixed(p.has_abbreviation ? p.abbreviation : "", offset);
            time_value_push_time(L, seconds, p.nanosecond, own);
            time_zone_release(own);
        }
        return 1;
    }
    time_value_push_time(L, time_zone_unix_from_local(zone, local), p.nanosecond, zone);
    return 1;
}

static int time_fixed_zone(lua_State *L)
{
    size_t name_length;
    const char *name = luaL_checklstring(L, 1, &name_length);
    luaL_argcheck(L, name_length <= TIME_ZONE_NAME_MAX, 1, "name longer than 255 bytes");
    lua_Integer offset = luaL_checkinteger(L, 2);
    luaL_argcheck(L, offset > -(INT64_C(1) << 31) && offset < (INT64_C(1) << 31), 2, "out of range");
    struct time_zone *zone = time_zone_fixed(name, (int)offset);
    time_value_push_location(L, zone);
    time_zone_release(zone);
    return 1;
}

/* ---- load_location: the zone file is read on libuv's thread pool ---- */

/* A name as an error line shows it: bytes that are not printable as \xNN. */
static void printable(const char *name, size_t length, char *out, size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < length && used + 5 < size; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            used += (size_t)snprintf(out + used, size - used, "\\x%02x", c);
        else
            out[used++] = (char)c;
    }
    out[used] = '\0';
}

struct zone_load {
    uv_work_t work;
    struct task *task;     /* NULL once the task stopped waiting */
    char *name;
    char path[4096];
    struct time_zone *zone;
    bool found;
    struct wippy_error error;
};

static void load_zone_file(uv_work_t *work)
{
    struct zone_load *load = (struct zone_load *)work;
    FILE *file = fopen(load->path, "rb");
    struct stat status;
    if (file != NULL && (fstat(fileno(file), &status) != 0 || !S_ISREG(status.st_mode))) {
        fclose(file); /* a directory such as "America" is no zone */
        file = NULL;
    }
    if (file == NULL)
        return;
    load->found = true;
    unsigned char *data = xmalloc(TIME_ZONE_TZIF_MAX_BYTES + 1);
    size_t length = fread(data, 1, TIME_ZONE_TZIF_MAX_BYTES + 1, file);
    fclose(file);
    if (time_zone_from_tzif(load->name, data, length, &load->zone, &load->error) < 0)
        load->zone = NULL;
    free(data);
}

static void zone_loaded(uv_work_t *work, int status)
{
    struct zone_load *load = (struct zone_load *)work;
    struct task *task = load->task;
    if (task != NULL) {
        lua_State *thread = task->thread;
        vm_unlimited_begin(task->vm);
        if (load->zone != NULL) {
            time_value_push_location(thread, load->zone);
            task_wake(task, 1);
        } else {
            char message[WIPPY_ERROR_MESSAGE_SIZE + 64];
            if (load->found)
                snprintf(message, sizeof message, "time.load_location: %s", load->error.message);
            else
                snprintf(message, sizeof message, "time.load_location: unknown time zone %s", load->name);
            lua_pushnil(thread);
            error_value_push(thread, load->found ? ERROR_KIND_INVALID : ERROR_KIND_NOT_FOUND, 0, message);
            task_wake(task, 2);
        }
        vm_unlimited_end(task->vm);
    }
    if (load->zone != NULL)
        time_zone_release(load->zone);
    free(load->name);
    free(load);
    (void)status;
}

static void cancel_zone_load(struct task *task)
{
    ((struct zone_load *)task->wait_data)->task = NULL;
}

static int time_load_location(lua_State *L)
{
    size_t name_length;
    const char *name = luaL_checklstring(L, 1, &name_length);
    if (name[0] == '\0')
        return error_value_fail_with(L, ERROR_KIND_INVALID, "empty location name");
    if (strcmp(name, "UTC") == 0) {
        time_value_push_location(L, time_zone_utc());
        return 1;
    }
    if (strcmp(name, "Local") == 0) {
        time_value_push_location(L, time_values_local_zone());
        return 1;
    }
    struct task *task = task_current(L);
    task_check_can_block(L, task, "time.load_location");
    struct zone_load *load = xcalloc(1, sizeof *load);
    struct wippy_error error;
    char shown[TIME_ZONE_NAME_MAX * 4 + 8];
    printable(name, name_length < TIME_ZONE_NAME_MAX ? name_length : TIME_ZONE_NAME_MAX, shown, sizeof shown);
    if (time_zone_path(name, name_length, load->path, sizeof load->path, &error) < 0) {
        free(load);
        return error_value_fail_with(L, ERROR_KIND_NOT_FOUND, "time.load_location: unknown time zone %s", shown);
    }
    load->task = task;
    load->name = xstrdup(shown);
    uv_queue_work(task->vm->loop, &load->work, load_zone_file, zone_loaded);
    return task_wait(L, task, cancel_zone_load, load, NULL, 0);
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
    struct vm_heap *heap; /* held until the timer is closed: its channel lives there */
    int channel_reference;
    bool repeating;
    bool owned_by_userdata; /* a Timer/Ticker object controls it */
    bool stopped;
    uint64_t deadline; /* of a one-shot timer, uv_hrtime() */
};

static void channel_timer_close(struct channel_timer *timer)
{
    if (timer->stopped)
        return;
    timer->stopped = true;
    uv_timer_stop(&timer->handle);
    luaL_unref(timer->lua, LUA_REGISTRYINDEX, timer->channel_reference);
    timer->channel_reference = LUA_NOREF;
    heaps_release(timer->heap);
    handle_close((uv_handle_t *)&timer->handle);
}

static void channel_timer_fired(uv_timer_t *handle)
{
    struct channel_timer *timer = (struct channel_timer *)handle;
    if (!timer->repeating && rearmed_if_early(handle, channel_timer_fired, timer->deadline))
        return;
    lua_State *L = timer->lua;
    lua_rawgeti(L, LUA_REGISTRYINDEX, timer->channel_reference);
    time_value_push_now(L);
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
    timer->heap = task->heap;
    heaps_hold(task->heap);
    timer->repeating = repeating;
    timer->owned_by_userdata = owned;
    channel_push_new(L, 1);
    lua_pushvalue(L, -1);
    timer->channel_reference = luaL_ref(L, LUA_REGISTRYINDEX);
    timer->deadline = deadline_after(nanoseconds);
    uv_timer_init(task->vm->loop, &timer->handle);
    uv_update_time(task->vm->loop);
    uint64_t milliseconds = milliseconds_for_timer(nanoseconds);
    uv_timer_start(&timer->handle, channel_timer_fired, milliseconds, repeating ? milliseconds : 0);
    return timer;
}

static int time_after(lua_State *L)
{
    int64_t nanoseconds = time_value_check_duration(L, 1);
    if (nanoseconds <= 0)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "%s", "duration must be positive");
    channel_timer_start(L, nanoseconds, false, false);
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
    struct channel_timer *timer = *(struct channel_timer **)luaL_checkudata(L, 1, TIMER_TYPE);
    if (timer == NULL) /* its finalizer ran: a value a weak table gave back */
        luaL_error(L, "the timer is gone");
    return timer;
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
    timer->deadline = deadline_after(nanoseconds);
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

int mod_time_open(lua_State *L, void *context)
{
    time_values_register(L);
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
        {"date", time_date},
        {"parse", time_parse},
        {"after", time_after},
        {"timer", time_timer},
        {"ticker", time_ticker},
        {"parse_duration", time_parse_duration},
        {"load_location", time_load_location},
        {"fixed_zone", time_fixed_zone},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    static const struct {
        const char *name;
        lua_Integer value;
    } numbers[] = {
        {"NANOSECOND", 1}, {"MICROSECOND", 1000}, {"MILLISECOND", 1000000}, {"SECOND", 1000000000},
        {"MINUTE", INT64_C(60000000000)}, {"HOUR", INT64_C(3600000000000)},
        {"JANUARY", 1}, {"FEBRUARY", 2}, {"MARCH", 3}, {"APRIL", 4}, {"MAY", 5}, {"JUNE", 6}, {"JULY", 7},
        {"AUGUST", 8}, {"SEPTEMBER", 9}, {"OCTOBER", 10}, {"NOVEMBER", 11}, {"DECEMBER", 12},
        {"SUNDAY", 0}, {"MONDAY", 1}, {"TUESDAY", 2}, {"WEDNESDAY", 3}, {"THURSDAY", 4}, {"FRIDAY", 5},
        {"SATURDAY", 6},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        lua_pushinteger(L, numbers[i].value);
        lua_setfield(L, -2, numbers[i].name);
    }
    static const struct {
        const char *name;
        const char *layout;
    } layouts[] = {
        {"RFC3339", "2006-01-02T15:04:05Z07:00"},
        {"RFC3339NANO", "2006-01-02T15:04:05.999999999Z07:00"},
        {"RFC822", "02 Jan 06 15:04 MST"},
        {"RFC822Z", "02 Jan 06 15:04 -0700"},
        {"RFC850", "Monday, 02-Jan-06 15:04:05 MST"},
        {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"},
        {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
        {"KITCHEN", "3:04PM"},
        {"STAMP", "Jan _2 15:04:05"},
        {"STAMP_MILLI", "Jan _2 15:04:05.000"},
        {"STAMP_MICRO", "Jan _2 15:04:05.000000"},
        {"STAMP_NANO", "Jan _2 15:04:05.000000000"},
        {"DATE_TIME", "2006-01-02 15:04:05"},
        {"DATE_ONLY", "2006-01-02"},
        {"TIME_ONLY", "15:04:05"},
    };
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        lua_pushstring(L, layouts[i].layout);
        lua_setfield(L, -2, layouts[i].name);
    }
    time_value_push_location(L, time_zone_utc());
    lua_setfield(L, -2, "utc");
    time_value_push_location(L, time_values_local_zone());
    lua_setfield(L, -2, "localtz");
    (void)context;
    return 1;
}
