/* mod_logger.c - the logger module as Go Wippy's: the module value is a
 * Logger (colon calls: logger:info(msg, fields)), with debug/info/warn/
 * error, with(fields) and named(name) making children. A line goes to
 * standard error as zap's console encoder writes it: time, level, name,
 * message, then the fields as JSON (the process's pid and the caller's
 * "entry:line" added). debug lines show with -v only. */
#include <jansson.h>
#include <lauxlib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/error_values.h"
#include "lua/modules.h"
#include "util/memory.h"
#include "vm/core.h"
#include "vm/process.h"
#include "vm/state.h"
#include "vm/task.h"
#include "util/log.h"

#define LOGGER_TYPE "wippy.logger"
/* A line's message and fields, and a logger's own fields, are bounded: a
 * log line is no place for megabytes, and a logger's fields are C memory
 * no limit counts. */
#define LOGGER_MAX_TEXT (64 * 1024)

/* Immutable once made; shared by every heap that holds it. */
struct logger {
    atomic_int references;
    char *name;     /* "" for the root */
    json_t *fields; /* an object, from with() */
};

static struct logger *logger_new(const char *name, json_t *fields)
{
    struct logger *logger = xcalloc(1, sizeof *logger);
    atomic_init(&logger->references, 1);
    logger->name = xstrdup(name);
    logger->fields = fields;
    return logger;
}

static struct logger *logger_retain(struct logger *logger)
{
    atomic_fetch_add_explicit(&logger->references, 1, memory_order_relaxed);
    return logger;
}

static void logger_release(struct logger *logger)
{
    if (logger == NULL || atomic_fetch_sub_explicit(&logger->references, 1, memory_order_acq_rel) != 1)
        return;
    json_decref(logger->fields);
    free(logger->name);
    free(logger);
}

/* Pushes an empty Logger userdata, to be given its logger once nothing
 * can raise any more. */
static struct logger **push_slot(lua_State *L)
{
    struct logger **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, LOGGER_TYPE);
    return slot;
}

static struct logger *check_logger(lua_State *L)
{
    struct logger **slot = luaL_checkudata(L, 1, LOGGER_TYPE);
    if (*slot == NULL)
        luaL_argerror(L, 1, "the logger is gone");
    return *slot;
}

static int logger_collect(lua_State *L)
{
    struct logger **slot = luaL_checkudata(L, 1, LOGGER_TYPE);
    logger_release(*slot);
    *slot = NULL;
    return 0;
}

/* ---- fields ---- */

static json_t *text_value(lua_State *L, int index)
{
    size_t length;
    const char *text = luaL_tolstring(L, index, &length);
    json_t *value = json_stringn(text, length);
    lua_pop(L, 1);
    return value != NULL ? value : json_string("(not UTF-8)");
}

/* A field's value as Go Wippy converts it: scalars as they are, an error
 * as its message, a table as JSON structure, anything else its text. */
static json_t *field_value(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    switch (lua_type(L, index)) {
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, index));
    case LUA_TNUMBER:
        return lua_isinteger(L, index) ? json_integer(lua_tointeger(L, index)) : json_real(lua_tonumber(L, index));
    case LUA_TTABLE: /* as JSON structure; a table's own __tostring never runs here */
        if (mod_json_encode(L, index)) {
            size_t length;
            const char *text = lua_tolstring(L, -1, &length);
            json_t *value = length <= LOGGER_MAX_TEXT ? json_loadb(text, length, JSON_DECODE_ANY, NULL) : NULL;
            lua_pop(L, 1);
            if (value != NULL)
                return value;
        } else {
            lua_pop(L, 1);
        }
        return json_string("(a table that cannot be written as JSON)");
    default:
        return text_value(L, index);
    }
}

/* Adds the string keys of the table at index to object (others are
 * dropped, as in Go Wippy). */
static void add_fields(lua_State *L, int index, json_t *object)
{
    index = lua_absindex(L, index);
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            json_t *value = field_value(L, -1);
            if (value != NULL)
                json_object_set_new(object, lua_tostring(L, -2), value);
        }
        lua_pop(L, 1);
    }
}

/* ---- writing ---- */

/* Control bytes as \xNN: a message or a name cannot forge another line. */
static void add_escaped(luaL_Buffer *out, const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f) {
            char escaped[8];
            snprintf(escaped, sizeof escaped, "\\x%02x", c);
            luaL_addstring(out, escaped);
        } else {
            luaL_addchar(out, (char)c);
        }
    }
}

static void write_line(lua_State *L, const struct logger *logger, enum log_level log_level, const char *level,
                       int message_index, int fields_index)
{
    json_t *fields = json_deep_copy(logger->fields);
    if (fields_index != 0)
        add_fields(L, fields_index, fields);
    struct task *task = task_current(L);
    if (task->process != NULL)
        json_object_set_new(fields, "pid", json_string(task->process->pid));
    lua_Debug caller;
    if (lua_getstack(L, 1, &caller) && lua_getinfo(L, "l", &caller) && caller.currentline > 0) {
        char location[512];
        snprintf(location, sizeof location, "%s:%d", task->entry->id, caller.currentline);
        json_object_set_new(fields, "location", json_string(location));
    }
    char *json = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(fields);

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm utc;
    time_t seconds = now.tv_sec;
    gmtime_r(&seconds, &utc);
    char stamp[40];
    size_t used = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(stamp + used, sizeof stamp - used, ".%03ldZ", now.tv_nsec / 1000000);

    size_t length;
    const char *message = lua_tolstring(L, message_index, &length);
    if (length > LOGGER_MAX_TEXT)
        length = LOGGER_MAX_TEXT;
    if (json != NULL && strlen(json) > LOGGER_MAX_TEXT) {
        free(json);
        json = strdup("{\"fields\":\"(larger than 64 KB, left out)\"}");
    }
    if (log_is_json()) {
        log_json_record(log_level, logger->name[0] != '\0' ? logger->name : "lua", message, length, json);
        free(json);
        return;
    }
    luaL_Buffer line;
    luaL_buffinit(L, &line);
    luaL_addstring(&line, stamp);
    luaL_addchar(&line, '\t');
    luaL_addstring(&line, level);
    if (logger->name[0] != '\0') {
        luaL_addchar(&line, '\t');
        add_escaped(&line, logger->name, strlen(logger->name));
    }
    luaL_addchar(&line, '\t');
    add_escaped(&line, message, length); /* one line per call, whatever the message holds */
    if (json != NULL && strcmp(json, "{}") != 0) {
        luaL_addchar(&line, '\t');
        luaL_addstring(&line, json);
    }
    luaL_addchar(&line, '\n');
    luaL_pushresult(&line);
    free(json);
    const char *text = lua_tolstring(L, -1, &length);
    fwrite(text, 1, length, stderr);
    lua_pop(L, 1);
}

static int log_at(lua_State *L, enum log_level log_level, const char *level)
{
    struct logger *logger = check_logger(L);
    luaL_checkstring(L, 2);
    int fields = 0;
    if (lua_gettop(L) >= 3) {
        luaL_checktype(L, 3, LUA_TTABLE);
        fields = 3;
    }
    if (!log_enabled(log_level))
        return 0;
    write_line(L, logger, log_level, level, 2, fields);
    return 0;
}

static int logger_debug(lua_State *L) { return log_at(L, LOG_DEBUG, "DEBUG"); }
static int logger_info(lua_State *L) { return log_at(L, LOG_INFO, "INFO"); }
static int logger_warn(lua_State *L) { return log_at(L, LOG_WARN, "WARN"); }
static int logger_error(lua_State *L) { return log_at(L, LOG_ERROR, "ERROR"); }

static int logger_with(lua_State *L)
{
    struct logger *logger = check_logger(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    struct logger **slot = push_slot(L);
    json_t *fields = json_deep_copy(logger->fields);
    add_fields(L, 2, fields); /* runs no Lua: raises only when memory runs out */
    char *text = json_dumps(fields, JSON_COMPACT);
    size_t size = text != NULL ? strlen(text) : 0;
    free(text);
    if (size > LOGGER_MAX_TEXT) {
        json_decref(fields);
        return luaL_error(L, "logger:with: fields larger than 64 KB");
    }
    *slot = logger_new(logger->name, fields);
    return 1;
}

static int logger_named(lua_State *L)
{
    struct logger *logger = check_logger(L);
    size_t length;
    const char *name = luaL_checklstring(L, 2, &length);
    luaL_argcheck(L, length > 0, 2, "name cannot be empty");
    luaL_argcheck(L, length <= 256 && strlen(name) == length, 2, "name too long or holds a zero byte");
    struct logger **slot = push_slot(L);
    char *full = logger->name[0] != '\0' ? xasprintf("%s.%s", logger->name, name) : xstrdup(name);
    *slot = logger_new(full, json_deep_copy(logger->fields));
    free(full);
    return 1;
}

/* ---- across heaps: a counted reference ---- */

static int export_logger(lua_State *L, int index, void **out, struct wippy_error *error)
{
    struct logger *logger = *(struct logger **)lua_touserdata(L, index);
    if (logger == NULL)
        return error_set(error, WIPPY_EINVAL, "the logger is gone");
    *out = logger_retain(logger);
    return WIPPY_OK;
}

static int import_logger(lua_State *L, void *exported, struct wippy_error *error)
{
    *push_slot(L) = exported;
    (void)error;
    return WIPPY_OK;
}

static void release_logger(void *exported)
{
    logger_release(exported);
}

static const struct state_transport logger_transport = {LOGGER_TYPE, export_logger, import_logger, release_logger, false, NULL};

int mod_logger_open(lua_State *L, void *context)
{
    static const luaL_Reg methods[] = {
        {"debug", logger_debug},
        {"info", logger_info},
        {"warn", logger_warn},
        {"error", logger_error},
        {"with", logger_with},
        {"named", logger_named},
        {NULL, NULL},
    };
    state_new_type(L, LOGGER_TYPE, methods, STATE_SHARED, NULL);
    lua_pushcfunction(L, logger_collect);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    state_set_transport(L, LOGGER_TYPE, &logger_transport);
    struct logger **root = push_slot(L);
    *root = logger_new("", json_object());
    (void)context;
    return 1;
}
