/* time_values.c - see time_values.h. An instant is Unix seconds and
 * nanoseconds (any year Go allows), shown in its zone; what Go computes on
 * the presentation (date, format, add_date) goes through the zone's offset
 * at that instant. */
#include "lua/time_values.h"

#include <lauxlib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/error_values.h"
#include "util/duration.h"
#include "util/go_time.h"
#include "util/memory.h"
#include "util/time_zone.h"
#include "vm/state.h"

#define DURATION_TYPE "wippy.duration"
#define TIME_TYPE "wippy.time"
#define LOCATION_TYPE "wippy.location"

#define NANOSECONDS INT64_C(1000000000)
/* Unix seconds of Go's zero time, January 1 of year 1, UTC. */
#define ZERO_TIME_UNIX INT64_C(-62135596800)

struct time_value {
    int64_t seconds;
    int32_t nanosecond;
    struct time_zone *zone; /* retained */
};

int64_t wall_clock_nanoseconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * NANOSECONDS + now.tv_nsec;
}

/* ---- the local zone ---- */

static struct time_zone *local_zone;
static pthread_once_t local_zone_once = PTHREAD_ONCE_INIT;

static struct time_zone *zone_from_file(const char *name, const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    unsigned char *buffer = xmalloc(TIME_ZONE_TZIF_MAX_BYTES + 1);
    size_t length = fread(buffer, 1, TIME_ZONE_TZIF_MAX_BYTES + 1, file);
    fclose(file);
    struct time_zone *zone = NULL;
    struct wippy_error error;
    if (time_zone_from_tzif(name, buffer, length, &zone, &error) < 0)
        zone = NULL;
    free(buffer);
    return zone;
}

/* As Go names and finds it: TZ unset means /etc/localtime ("Local"), TZ=""
 * or "UTC" UTC, an absolute path (after an optional ':') that file, any
 * other name the database's zone of that name; what cannot be read is UTC. */
static void find_local_zone(void)
{
    const char *tz = getenv("TZ");
    struct time_zone *zone = NULL;
    if (tz == NULL) {
        zone = zone_from_file("Local", "/etc/localtime");
    } else {
        const char *name = tz[0] == ':' ? tz + 1 : tz;
        char path[4096];
        struct wippy_error error;
        if (name[0] == '/')
            zone = zone_from_file(strcmp(name, "/etc/localtime") == 0 ? "Local" : name, name);
        else if (name[0] != '\0' && strcmp(name, "UTC") != 0 &&
                 time_zone_path(name, strlen(name), path, sizeof path, &error) == WIPPY_OK)
            zone = zone_from_file(name, path);
    }
    local_zone = zone != NULL ? zone : time_zone_fixed("UTC", 0);
}

struct time_zone *time_values_local_zone(void)
{
    pthread_once(&local_zone_once, find_local_zone);
    return local_zone;
}

/* ---- durations ---- */

void time_value_push_duration(lua_State *L, int64_t nanoseconds)
{
    int64_t *value = lua_newuserdatauv(L, sizeof *value, 0);
    *value = nanoseconds;
    luaL_setmetatable(L, DURATION_TYPE);
}

int time_value_to_duration(lua_State *L, int index, int64_t *nanoseconds, struct wippy_error *error)
{
    int64_t *duration = luaL_testudata(L, index, DURATION_TYPE);
    if (duration != NULL) {
        *nanoseconds = *duration;
        return WIPPY_OK;
    }
    if (lua_isinteger(L, index)) {
        *nanoseconds = lua_tointeger(L, index);
        return WIPPY_OK;
    }
    if (lua_type(L, index) == LUA_TNUMBER) {
        double value = lua_tonumber(L, index);
        if (!(value > -9.2e18 && value < 9.2e18))
            return error_set(error, WIPPY_EINVAL, "duration out of range: %g nanoseconds", value);
        *nanoseconds = (int64_t)value;
        return WIPPY_OK;
    }
    if (lua_type(L, index) == LUA_TSTRING)
        return duration_parse(lua_tostring(L, index), nanoseconds, error);
    return error_set(error, WIPPY_EINVAL,
                     "expected a duration (nanoseconds, \"500ms\", \"1m30s\" or a Duration), got %s",
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

static int duration_whole(lua_State *L, int64_t unit)
{
    lua_pushinteger(L, check_duration_value(L, 1) / unit);
    return 1;
}

static int duration_milliseconds(lua_State *L) { return duration_whole(L, 1000000); }
static int duration_microseconds(lua_State *L) { return duration_whole(L, 1000); }
static int duration_nanoseconds(lua_State *L) { return duration_whole(L, 1); }

/* The fraction of value / 10^precision after a point, trailing zeros and
 * an empty fraction left out; returns value / 10^precision. */
static uint64_t write_fraction(char *text, size_t *used, uint64_t value, int precision)
{
    char digits[16];
    int n = 0;
    bool printing = false;
    for (int i = 0; i < precision; i++) {
        int digit = (int)(value % 10);
        printing = printing || digit != 0;
        if (printing)
            digits[n++] = (char)('0' + digit);
        value /= 10;
    }
    if (printing) {
        text[(*used)++] = '.';
        while (n > 0)
            text[(*used)++] = digits[--n];
    }
    return value;
}

/* Go's Duration.String: "1h2m3.5s", "1.5ms", "2µs", "0s". */
static void format_duration(int64_t duration, char *out, size_t size)
{
    uint64_t magnitude = duration < 0 ? (uint64_t)0 - (uint64_t)duration : (uint64_t)duration;
    const char *sign = duration < 0 ? "-" : "";
    char fraction[16];
    size_t used = 0;
    if (magnitude == 0) {
        snprintf(out, size, "0s");
    } else if (magnitude < 1000) {
        snprintf(out, size, "%s%lluns", sign, (unsigned long long)magnitude);
    } else if (magnitude < 1000000) {
        uint64_t whole = write_fraction(fraction, &used, magnitude, 3);
        snprintf(out, size, "%s%llu%.*s\xc2\xb5s", sign, (unsigned long long)whole, (int)used, fraction);
    } else if (magnitude < (uint64_t)NANOSECONDS) {
        uint64_t whole = write_fraction(fraction, &used, magnitude, 6);
        snprintf(out, size, "%s%llu%.*sms", sign, (unsigned long long)whole, (int)used, fraction);
    } else {
        uint64_t seconds = write_fraction(fraction, &used, magnitude, 9);
        unsigned long long hours = seconds / 3600, minutes = seconds / 60 % 60, rest = seconds % 60;
        if (hours > 0)
            snprintf(out, size, "%s%lluh%llum%llu%.*ss", sign, hours, minutes, rest, (int)used, fraction);
        else if (minutes > 0)
            snprintf(out, size, "%s%llum%llu%.*ss", sign, minutes, rest, (int)used, fraction);
        else
            snprintf(out, size, "%s%llu%.*ss", sign, rest, (int)used, fraction);
    }
}

static int duration_tostring(lua_State *L)
{
    char text[64];
    format_duration(check_duration_value(L, 1), text, sizeof text);
    lua_pushstring(L, text);
    return 1;
}

/* ---- locations ---- */

void time_value_push_location(lua_State *L, struct time_zone *zone)
{
    struct time_zone **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, LOCATION_TYPE);
    *slot = time_zone_retain(zone);
}

struct time_zone *time_value_check_location(lua_State *L, int index)
{
    struct time_zone **slot = luaL_checkudata(L, index, LOCATION_TYPE);
    if (*slot == NULL)
        luaL_argerror(L, index, "location expected");
    return *slot;
}

static int location_string(lua_State *L)
{
    lua_pushstring(L, time_zone_name(time_value_check_location(L, 1)));
    return 1;
}

static int location_collect(lua_State *L)
{
    struct time_zone **slot = luaL_checkudata(L, 1, LOCATION_TYPE);
    if (*slot != NULL)
        time_zone_release(*slot);
    *slot = NULL;
    return 0;
}

/* ---- times ---- */

void time_value_push_time(lua_State *L, int64_t seconds, int32_t nanosecond, struct time_zone *zone)
{
    if (seconds > TIME_VALUE_MAX_SECONDS || seconds < -TIME_VALUE_MAX_SECONDS)
        luaL_error(L, "time out of range (more than 285 million years from 1970)");
    struct time_value *value = lua_newuserdatauv(L, sizeof *value, 0);
    *value = (struct time_value){seconds, nanosecond, NULL};
    luaL_setmetatable(L, TIME_TYPE);
    value->zone = time_zone_retain(zone != NULL ? zone : time_values_local_zone());
}

void time_value_push_now(lua_State *L)
{
    int64_t now = wall_clock_nanoseconds();
    time_value_push_time(L, now / NANOSECONDS, (int32_t)(now % NANOSECONDS), NULL);
}

static struct time_value *check_time(lua_State *L, int index)
{
    struct time_value *value = luaL_checkudata(L, index, TIME_TYPE);
    if (value->zone == NULL)
        luaL_argerror(L, index, "time expected");
    return value;
}

static int time_collect(lua_State *L)
{
    struct time_value *value = luaL_checkudata(L, 1, TIME_TYPE);
    if (value->zone != NULL)
        time_zone_release(value->zone);
    value->zone = NULL;
    return 0;
}

/* The wall clock of t in its zone. */
static void fields_of(const struct time_value *t, struct go_time_fields *fields)
{
    int offset;
    const char *abbreviation;
    time_zone_lookup(t->zone, t->seconds, &offset, &abbreviation);
    go_time_fields_from_local(t->seconds + offset, t->nanosecond, offset, abbreviation, fields);
}

/* t plus nanoseconds, the nanoseconds carried into seconds. */
static void push_added(lua_State *L, const struct time_value *t, int64_t nanoseconds)
{
    int64_t seconds = t->seconds + nanoseconds / NANOSECONDS;
    int64_t nanosecond = t->nanosecond + nanoseconds % NANOSECONDS;
    seconds += go_time_floor_div(nanosecond, NANOSECONDS);
    nanosecond = go_time_floor_mod(nanosecond, NANOSECONDS);
    time_value_push_time(L, seconds, (int32_t)nanosecond, t->zone);
}

/* Go's time.Date: the fields carried over, the wall clock read in zone. */
static void push_date(lua_State *L, int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                      int64_t second, int64_t nanosecond, struct time_zone *zone)
{
    second += go_time_floor_div(nanosecond, NANOSECONDS);
    nanosecond = go_time_floor_mod(nanosecond, NANOSECONDS);
    int64_t local = go_time_days_from_date(year, month, day) * GO_TIME_SECONDS_PER_DAY + hour * 3600 +
                    minute * 60 + second;
    time_value_push_time(L, time_zone_unix_from_local(zone, local), (int32_t)nanosecond, zone);
}

static int compare(const struct time_value *a, const struct time_value *b)
{
    if (a->seconds != b->seconds)
        return a->seconds < b->seconds ? -1 : 1;
    return a->nanosecond < b->nanosecond ? -1 : a->nanosecond > b->nanosecond;
}

static int time_add(lua_State *L)
{
    struct time_value *t = check_time(L, 1);
    push_added(L, t, time_value_check_duration(L, 2));
    return 1;
}

/* t - other as a Duration, saturated at its range as Go's Sub. */
static int time_sub(lua_State *L)
{
    struct time_value *t = check_time(L, 1), *other = check_time(L, 2);
    __int128 difference = ((__int128)t->seconds - other->seconds) * NANOSECONDS + (t->nanosecond - other->nanosecond);
    if (difference > INT64_MAX)
        difference = INT64_MAX;
    if (difference < INT64_MIN)
        difference = INT64_MIN;
    time_value_push_duration(L, (int64_t)difference);
    return 1;
}

static int time_add_date(lua_State *L)
{
    struct time_value *t = check_time(L, 1);
    lua_Integer years = luaL_checkinteger(L, 2), months = luaL_checkinteger(L, 3), days = luaL_checkinteger(L, 4);
    luaL_argcheck(L, years > -TIME_VALUE_MAX_FIELD && years < TIME_VALUE_MAX_FIELD, 2, "out of range");
    luaL_argcheck(L, months > -TIME_VALUE_MAX_FIELD && months < TIME_VALUE_MAX_FIELD, 3, "out of range");
    luaL_argcheck(L, days > -TIME_VALUE_MAX_FIELD && days < TIME_VALUE_MAX_FIELD, 4, "out of range");
    struct go_time_fields f;
    fields_of(t, &f);
    push_date(L, f.year + years, f.month + months, f.day + days, f.hour, f.minute, f.second, f.nanosecond, t->zone);
    return 1;
}

static int time_after(lua_State *L)
{
    lua_pushboolean(L, compare(check_time(L, 1), check_time(L, 2)) > 0);
    return 1;
}

static int time_before(lua_State *L)
{
    lua_pushboolean(L, compare(check_time(L, 1), check_time(L, 2)) < 0);
    return 1;
}

static int time_equal(lua_State *L)
{
    lua_pushboolean(L, compare(check_time(L, 1), check_time(L, 2)) == 0);
    return 1;
}

static int push_formatted(lua_State *L, const struct time_value *t, const char *layout, size_t length)
{
    struct go_time_fields f;
    fields_of(t, &f);
    size_t text_length;
    char *text = go_time_format(layout, length, &f, &text_length);
    lua_pushlstring(L, text, text_length);
    free(text);
    return 1;
}

static int time_format(lua_State *L)
{
    struct time_value *t = check_time(L, 1);
    size_t length;
    const char *layout = luaL_checklstring(L, 2, &length);
    luaL_argcheck(L, length <= 4096, 2, "layout longer than 4096 bytes");
    return push_formatted(L, t, layout, length);
}

static int time_format_rfc3339(lua_State *L)
{
    static const char layout[] = "2006-01-02T15:04:05Z07:00";
    return push_formatted(L, check_time(L, 1), layout, sizeof layout - 1);
}

static int time_tostring(lua_State *L)
{
    static const char layout[] = "2006-01-02 15:04:05.999999999 -0700 MST";
    return push_formatted(L, check_time(L, 1), layout, sizeof layout - 1);
}

static int time_unix(lua_State *L)
{
    lua_pushinteger(L, check_time(L, 1)->seconds);
    return 1;
}

/* Go's UnixNano and UnixMilli: past int64's range the result is undefined
 * in Go; here it wraps the same way. */
static int time_unix_nano(lua_State *L)
{
    struct time_value *t = check_time(L, 1);
    lua_pushinteger(L, (lua_Integer)((uint64_t)t->seconds * (uint64_t)NANOSECONDS + (uint64_t)t->nanosecond));
    return 1;
}

static int time_unix_milli(lua_State *L)
{
    struct time_value *t = check_time(L, 1);
    lua_pushinteger(L, t->seconds * 1000 + t->nanosecond / 1000000);
    return 1;
}

enum field { FIELD_YEAR, FIELD_MONTH, FIELD_DAY, FIELD_HOUR, FIELD_MINUTE, FIELD_SECOND, FIELD_NANOSECOND,
             FIELD_WEEKDAY, FIELD_YEAR_DAY };

static int push_field(lua_State *L, enum field field)
{
    struct go_time_fields f;
    fields_of(check_time(L, 1), &f);
    const lua_Integer values[] = {f.year, f.month, f.day, f.hour, f.minute, f.second, f.nanosecond, f.weekday,
                                  f.year_day};
    lua_pushinteger(L, values[field]);
    return 1;
}

static int time_year(lua_State *L) { return push_field(L, FIELD_YEAR); }
static int time_month(lua_State *L) { return push_field(L, FIELD_MONTH); }
static int time_day(lua_State *L) { return push_field(L, FIELD_DAY); }
static int time_hour(lua_State *L) { return push_field(L, FIELD_HOUR); }
static int time_minute(lua_State *L) { return push_field(L, FIELD_MINUTE); }
static int time_second(lua_State *L) { return push_field(L, FIELD_SECOND); }
static int time_nanosecond(lua_State *L) { return push_field(L, FIELD_NANOSECOND); }
static int time_weekday(lua_State *L) { return push_field(L, FIELD_WEEKDAY); }
static int time_year_day(lua_State *L) { return push_field(L, FIELD_YEAR_DAY); }

static int time_date(lua_State *L)
{
    struct go_time_fields f;
    fields_of(check_time(L, 1), &f);
    lua_pushinteger(L, f.year);
    lua_pushinteger(L, f.month);
    lua_pushinteger(L, f.day);
    return 3;
}

static int time_clock(lua_State *L)
{
    struct go_time_fields f;
    fields_of(check_time(L, 1), &f);
    lua_pushinteger(L, f.hour);
    lua_pushinteger(L, f.minute);
    lua_pushinteger(L, f.second);
    return 3;
}

static int time_is_zero(lua_State *L)
{
    struct time_value *t = check_time(L, 1);
    lua_pushboolean(L, t->seconds == ZERO_TIME_UNIX && t->nanosecond == 0);
    return 1;
}

static int time_in_location(lua_State *L)
{
    struct time_value *t = check_time(L, 1);
    time_value_push_time(L, t->seconds, t->nanosecond, time_value_check_location(L, 2));
    return 1;
}

static int time_location(lua_State *L)
{
    time_value_push_location(L, check_time(L, 1)->zone);
    return 1;
}

static int time_utc(lua_State *L)
{
    struct time_value *t = check_time(L, 1);
    time_value_push_time(L, t->seconds, t->nanosecond, time_zone_utc());
    return 1;
}

static int time_in_local(lua_State *L)
{
    struct time_value *t = check_time(L, 1);
    time_value_push_time(L, t->seconds, t->nanosecond, NULL);
    return 1;
}

/* Go's Round and Truncate: on the instant as nanoseconds since the zero
 * time, never on its presentation. */
static int round_or_truncate(lua_State *L, bool round)
{
    struct time_value *t = check_time(L, 1);
    int64_t step = check_duration_value(L, 2);
    if (step <= 0) {
        time_value_push_time(L, t->seconds, t->nanosecond, t->zone);
        return 1;
    }
    __int128 since_zero = ((__int128)t->seconds - ZERO_TIME_UNIX) * NANOSECONDS + t->nanosecond;
    __int128 remainder = since_zero % step;
    if (remainder < 0)
        remainder += step;
    int64_t change = -(int64_t)remainder;
    if (round && (uint64_t)remainder + (uint64_t)remainder >= (uint64_t)step)
        change = step - (int64_t)remainder;
    push_added(L, t, change);
    return 1;
}

static int time_round(lua_State *L) { return round_or_truncate(L, true); }
static int time_truncate(lua_State *L) { return round_or_truncate(L, false); }

/* ---- across heaps: copies, a zone counted once more ---- */

static int export_duration(lua_State *L, int index, void **out, struct wippy_error *error)
{
    int64_t *copy = xmalloc(sizeof *copy);
    *copy = *(int64_t *)lua_touserdata(L, index);
    *out = copy;
    (void)error;
    return WIPPY_OK;
}

/* The copy is freed only once the value stands: nothing after it raises. */
static int import_duration(lua_State *L, void *exported, struct wippy_error *error)
{
    time_value_push_duration(L, *(int64_t *)exported);
    free(exported);
    (void)error;
    return WIPPY_OK;
}

static int export_time(lua_State *L, int index, void **out, struct wippy_error *error)
{
    const struct time_value *value = lua_touserdata(L, index);
    if (value->zone == NULL) /* its finalizer ran: a value a weak table gave back */
        return error_set(error, WIPPY_EINVAL, "the time is gone");
    struct time_value *copy = xmalloc(sizeof *copy);
    *copy = *value;
    time_zone_retain(copy->zone);
    *out = copy;
    return WIPPY_OK;
}

static void release_time(void *exported)
{
    struct time_value *copy = exported;
    time_zone_release(copy->zone);
    free(copy);
}

/* The new value takes another reference; the exported one is let go once
 * the value stands. */
static int import_time(lua_State *L, void *exported, struct wippy_error *error)
{
    struct time_value *copy = exported;
    time_value_push_time(L, copy->seconds, copy->nanosecond, copy->zone);
    release_time(copy);
    (void)error;
    return WIPPY_OK;
}

static int export_location(lua_State *L, int index, void **out, struct wippy_error *error)
{
    struct time_zone *zone = *(struct time_zone **)lua_touserdata(L, index);
    if (zone == NULL)
        return error_set(error, WIPPY_EINVAL, "the location is gone");
    *out = time_zone_retain(zone);
    return WIPPY_OK;
}

static void release_location(void *exported)
{
    time_zone_release(exported);
}

static int import_location(lua_State *L, void *exported, struct wippy_error *error)
{
    time_value_push_location(L, exported);
    time_zone_release(exported);
    (void)error;
    return WIPPY_OK;
}

static const struct state_transport duration_transport = {DURATION_TYPE, export_duration, import_duration, free, false, NULL};
static const struct state_transport time_transport = {TIME_TYPE, export_time, import_time, release_time, false, NULL};
static const struct state_transport location_transport = {LOCATION_TYPE, export_location, import_location,
                                                          release_location, false, NULL};

void time_values_register(lua_State *L)
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
        {"add", time_add},
        {"sub", time_sub},
        {"add_date", time_add_date},
        {"after", time_after},
        {"before", time_before},
        {"equal", time_equal},
        {"format", time_format},
        {"format_rfc3339", time_format_rfc3339},
        {"unix", time_unix},
        {"unix_nano", time_unix_nano},
        {"unix_milli", time_unix_milli},
        {"date", time_date},
        {"clock", time_clock},
        {"year", time_year},
        {"month", time_month},
        {"day", time_day},
        {"hour", time_hour},
        {"minute", time_minute},
        {"second", time_second},
        {"nanosecond", time_nanosecond},
        {"weekday", time_weekday},
        {"year_day", time_year_day},
        {"is_zero", time_is_zero},
        {"in_location", time_in_location},
        {"location", time_location},
        {"utc", time_utc},
        {"in_local", time_in_local},
        {"round", time_round},
        {"truncate", time_truncate},
        {NULL, NULL},
    };
    state_new_type(L, TIME_TYPE, time_methods, STATE_SHARED, NULL);
    lua_pushcfunction(L, time_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, time_collect);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    state_set_transport(L, TIME_TYPE, &time_transport);

    static const luaL_Reg location_methods[] = {
        {"string", location_string},
        {NULL, NULL},
    };
    state_new_type(L, LOCATION_TYPE, location_methods, STATE_SHARED, NULL);
    lua_pushcfunction(L, location_string);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, location_collect);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    state_set_transport(L, LOCATION_TYPE, &location_transport);
}
