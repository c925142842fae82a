/* mod_os.c - Go Wippy's `os` time subset (its ostime module): os.time,
 * os.date, os.clock, os.difftime and os.platform, in the local zone that
 * the time module uses (lua/time_values.h). Nothing else of Lua's os. */
#include <pthread.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/modules.h"
#include "lua/time_values.h"
#include "util/go_time.h"
#include "util/time_zone.h"

static struct timespec started;
static pthread_once_t started_once = PTHREAD_ONCE_INIT; /* the first VM to open it, on any thread */

static void note_start(void)
{
    clock_gettime(CLOCK_MONOTONIC, &started);
}

/* os.time([spec]): now, or the local time a table names (missing date
 * fields are today's, missing time fields 0), as Go's time.Date reads it. */
static int os_time(lua_State *L)
{
    int64_t now = wall_clock_nanoseconds() / 1000000000;
    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, now);
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    struct time_zone *zone = time_values_local_zone();
    int offset;
    time_zone_lookup(zone, now, &offset, NULL);
    struct go_time_fields today;
    go_time_fields_from_local(now + offset, 0, offset, NULL, &today);
    static const char *const names[] = {"year", "month", "day", "hour", "min", "sec"};
    lua_Integer parts[6] = {today.year, today.month, today.day, 0, 0, 0};
    for (int i = 0; i < 6; i++) {
        lua_pushstring(L, names[i]);
        if (lua_rawget(L, 1) == LUA_TNUMBER)
            parts[i] = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : (lua_Integer)lua_tonumber(L, -1);
        lua_pop(L, 1);
        /* 2^31 bounds every product below (days times 86,400) within 64 bits */
        luaL_argcheck(L, parts[i] > -(INT64_C(1) << 31) && parts[i] < (INT64_C(1) << 31), 1, "field out of range");
    }
    int64_t local = go_time_days_from_date(parts[0], parts[1], parts[2]) * GO_TIME_SECONDS_PER_DAY +
                    parts[3] * 3600 + parts[4] * 60 + parts[5];
    lua_pushinteger(L, time_zone_unix_from_local(zone, local));
    return 1;
}

/* Go's ISO week number, which Go Wippy writes for both %U and %W. */
static int iso_week(const struct go_time_fields *f)
{
    int weekday = (f->weekday + 6) % 7; /* Monday = 0 */
    int64_t thursday_day = f->year_day - weekday + 3;
    if (thursday_day < 1) { /* the last week of the year before */
        int64_t days_before = go_time_days_from_date(f->year, 1, 1) - go_time_days_from_date(f->year - 1, 1, 1);
        thursday_day += days_before;
    } else {
        int64_t days = go_time_days_from_date(f->year + 1, 1, 1) - go_time_days_from_date(f->year, 1, 1);
        if (thursday_day > days)
            thursday_day -= days;
    }
    return (int)((thursday_day - 1) / 7 + 1);
}

static void add_layout(luaL_Buffer *out, const char *layout, const struct go_time_fields *f)
{
    size_t length;
    char *text = go_time_format(layout, strlen(layout), f, &length);
    char copy[128]; /* these layouts write a few dozen bytes; copied so a raise loses nothing */
    size_t kept = length < sizeof copy ? length : sizeof copy;
    memcpy(copy, text, kept);
    free(text);
    luaL_addlstring(out, copy, kept);
}

static void add_specifier(luaL_Buffer *out, char specifier, const struct go_time_fields *f)
{
    char text[32];
    static const struct {
        char specifier;
        const char *layout;
    } layouts[] = {
        {'a', "Mon"}, {'A', "Monday"}, {'b', "Jan"}, {'B', "January"}, {'c', "Mon Jan _2 15:04:05 2006"},
        {'d', "02"}, {'H', "15"}, {'I', "03"}, {'m', "01"}, {'M', "04"}, {'p', "PM"}, {'S', "05"},
        {'x', "01/02/06"}, {'X', "15:04:05"}, {'y', "06"}, {'Y', "2006"}, {'z', "-0700"},
    };
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        if (layouts[i].specifier == specifier) {
            add_layout(out, layouts[i].layout, f);
            return;
        }
    }
    switch (specifier) {
    case 'j':
        snprintf(text, sizeof text, "%03d", f->year_day);
        break;
    case 'U':
    case 'W':
        snprintf(text, sizeof text, "%02d", iso_week(f));
        break;
    case 'w':
        snprintf(text, sizeof text, "%d", f->weekday);
        break;
    case 'Z':
        luaL_addstring(out, f->abbreviation);
        return;
    case '%':
        snprintf(text, sizeof text, "%%");
        break;
    default: /* as Go Wippy: an unknown specifier stays as it is */
        snprintf(text, sizeof text, "%%%c", specifier);
        break;
    }
    luaL_addstring(out, text);
}

static int os_date(lua_State *L)
{
    const char *format = luaL_optstring(L, 1, "%c");
    lua_Number given = lua_isnoneornil(L, 2) ? 0 : luaL_checknumber(L, 2);
    /* as time's values: 2^53 seconds either way, so that zone offsets never overflow */
    luaL_argcheck(L, given > -9007199254740992.0 && given < 9007199254740992.0, 2, "time out of range");
    int64_t seconds = lua_isnoneornil(L, 2) ? wall_clock_nanoseconds() / 1000000000 : (int64_t)given;
    bool utc = format[0] == '!';
    if (utc)
        format++;
    struct time_zone *zone = utc ? time_zone_utc() : time_values_local_zone();
    int offset;
    const char *abbreviation;
    time_zone_lookup(zone, seconds, &offset, &abbreviation);
    struct go_time_fields f;
    go_time_fields_from_local(seconds + offset, 0, offset, abbreviation, &f);
    if (strcmp(format, "*t") == 0) {
        int standard;
        time_zone_lookup(zone, seconds - 180 * GO_TIME_SECONDS_PER_DAY, &standard, NULL);
        lua_createtable(L, 0, 9);
        const struct {
            const char *name;
            lua_Integer value;
        } fields[] = {{"year", f.year}, {"month", f.month}, {"day", f.day}, {"hour", f.hour}, {"min", f.minute},
                      {"sec", f.second}, {"wday", f.weekday + 1}, {"yday", f.year_day}};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            lua_pushinteger(L, fields[i].value);
            lua_setfield(L, -2, fields[i].name);
        }
        /* Go's Zone() says whether the zone is in its daylight time; the
         * offset half a year away being lower says the same here */
        lua_pushboolean(L, offset > standard);
        lua_setfield(L, -2, "isdst");
        return 1;
    }
    luaL_Buffer out;
    luaL_buffinit(L, &out);
    for (const char *c = format; *c != '\0'; c++) {
        if (*c == '%' && c[1] != '\0') {
            c++;
            add_specifier(&out, *c, &f);
        } else {
            luaL_addchar(&out, *c);
        }
    }
    luaL_pushresult(&out);
    return 1;
}

static int os_clock(lua_State *L)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    lua_pushnumber(L, (double)(now.tv_sec - started.tv_sec) + (double)(now.tv_nsec - started.tv_nsec) / 1e9);
    return 1;
}

static int os_difftime(lua_State *L)
{
    lua_pushnumber(L, luaL_checknumber(L, 1) - luaL_checknumber(L, 2));
    return 1;
}

int mod_os_open(lua_State *L, void *context)
{
    pthread_once(&started_once, note_start);
    static const luaL_Reg functions[] = {
        {"time", os_time},
        {"date", os_date},
        {"clock", os_clock},
        {"difftime", os_difftime},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    lua_pushliteral(L, "wippy");
    lua_setfield(L, -2, "platform");
    (void)context;
    return 1;
}
