/* mod_yaml.c - the yaml module as Go Wippy's (gopkg.in/yaml.v3 behind it):
 * decode reads the first document with YAML 1.2's core schema
 * (util/yaml_load.c, bounded), encode writes a table as yaml.v3 does: keys
 * sorted, four spaces of indentation (two when field_order or
 * sort_unordered are given), strings quoted where they would read back as
 * something else. */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/error_values.h"
#include "lua/modules.h"
#include "lua/value_bridge.h"
#include "util/memory.h"
#include "util/yaml_load.h"

#define YAML_MAX_DEPTH 100
/* What one encode may write: a table reached many times is written each
 * time (as yaml.v3 does), so these bound the blow-up. */
#define YAML_MAX_NODES 1000000
#define YAML_MAX_BYTES (64 * 1024 * 1024)

/* ---- decode ---- */

/* yaml.v3's messages name the line as "yaml: line N: ...". */
static int fail_parse(lua_State *L, const char *message)
{
    int line;
    int offset = 0;
    if (sscanf(message, "yaml:%d:%n", &line, &offset) == 1 && offset > 0) {
        const char *rest = message + offset;
        while (*rest == ' ')
            rest++;
        return error_value_fail_with(L, ERROR_KIND_INTERNAL, "yaml: line %d: %s", line, rest);
    }
    return error_value_fail_with(L, ERROR_KIND_INTERNAL, "%s", message);
}

bool mod_yaml_decode(lua_State *L, const char *text, size_t length)
{
    struct value *value = NULL;
    struct wippy_error error;
    if (yaml_load_text("yaml", text, length, &value, &error) < 0) {
        lua_pushstring(L, error.message);
        return false;
    }
    if (value == NULL)
        lua_pushnil(L);
    else
        value_bridge_push(L, value);
    value_free(value);
    return true;
}

static int yaml_decode(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "string expected");
    size_t length;
    const char *text = lua_tolstring(L, 1, &length);
    if (length == 0)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "input cannot be empty");
    struct value *value = NULL;
    struct wippy_error error;
    if (yaml_load_text("yaml", text, length, &value, &error) < 0)
        return fail_parse(L, error.message);
    if (value == NULL) { /* nothing but comments, or null */
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
    }
    value_bridge_push(L, value);
    value_free(value);
    lua_pushnil(L);
    return 2;
}

/* ---- encode ---- */

/* The text being written: C memory the caller frees, so that the Lua
 * stack stays free for the walk (a luaL_Buffer needs it balanced). */
struct text {
    char *bytes;
    size_t length;
    size_t capacity;
    lua_State *L; /* where a bound raises */
};

struct emitter {
    struct text *out;
    int indent;            /* spaces per level */
    int field_ranks;       /* index of a table name -> place in field_order, or 0 */
    size_t nodes;          /* values written so far */
    lua_State *L;
};

static void add_bytes(struct text *text, const char *bytes, size_t length)
{
    if (text->length + length > YAML_MAX_BYTES)
        luaL_error(text->L, "yaml.encode: the text would pass %d MB", YAML_MAX_BYTES / (1024 * 1024));
    if (text->length + length + 1 > text->capacity) {
        text->capacity = (text->length + length + 1) * 2;
        text->bytes = xrealloc(text->bytes, text->capacity);
    }
    memcpy(text->bytes + text->length, bytes, length);
    text->length += length;
}

static void add_string(struct text *text, const char *string)
{
    add_bytes(text, string, strlen(string));
}

static void add_char(struct text *text, char c)
{
    add_bytes(text, &c, 1);
}

/* True when a plain scalar of this text would read back as something else
 * than this string, or could not be written plain at all. */
static bool needs_quotes(const char *text, size_t length)
{
    if (length == 0)
        return true;
    static const char *const old_words[] = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
                                            "on", "On", "ON", "off", "Off", "OFF", NULL};
    for (const char *const *word = old_words; *word != NULL; word++)
        if (strlen(*word) == length && memcmp(*word, text, length) == 0)
            return true;
    struct value *resolved = yaml_resolve_plain_scalar(text, length);
    bool other = resolved->type != VALUE_STRING;
    value_free(resolved);
    if (other)
        return true;
    if (strchr("-?:,[]{}#&*!|>'\"%@`", text[0]) != NULL && !(text[0] == '-' && length > 1 && text[1] != ' '))
        return true;
    if (text[0] == ' ' || text[length - 1] == ' ' || text[length - 1] == ':')
        return true;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f)
            return true;
        if ((c == ':' && i + 1 < length && text[i + 1] == ' ') || (c == '#' && i > 0 && text[i - 1] == ' '))
            return true;
    }
    return false;
}

static void put_quoted(struct emitter *e, const char *text, size_t length)
{
    add_char(e->out, '"');
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        char escaped[8];
        switch (c) {
        case '"': add_string(e->out, "\\\""); break;
        case '\\': add_string(e->out, "\\\\"); break;
        case '\n': add_string(e->out, "\\n"); break;
        case '\t': add_string(e->out, "\\t"); break;
        case '\r': add_string(e->out, "\\r"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(escaped, sizeof escaped, "\\x%02X", c);
                add_string(e->out, escaped);
            } else {
                add_char(e->out, (char)c);
            }
        }
    }
    add_char(e->out, '"');
}

static void put_spaces(struct emitter *e, int count)
{
    for (int i = 0; i < count; i++)
        add_char(e->out, ' ');
}

/* A string: plain, quoted, or (with line breaks and nothing else odd) a
 * literal block at column `column`. */
static void put_string(struct emitter *e, const char *text, size_t length, int column, bool key)
{
    bool multiline = !key && memchr(text, '\n', length) != NULL;
    if (multiline) {
        bool printable = true;
        for (size_t i = 0; i < length && printable; i++)
            printable = (unsigned char)text[i] >= 0x20 || text[i] == '\n';
        printable = printable && text[0] != ' ';
        if (printable) {
            bool trailing = text[length - 1] == '\n';
            add_string(e->out, trailing ? "|" : "|-");
            size_t start = 0;
            while (start < length) {
                const char *end = memchr(text + start, '\n', length - start);
                size_t line = end != NULL ? (size_t)(end - (text + start)) : length - start;
                add_char(e->out, '\n');
                if (line > 0)
                    put_spaces(e, column);
                add_bytes(e->out, text + start, line);
                start += line + 1;
            }
            return;
        }
    }
    if (needs_quotes(text, length))
        put_quoted(e, text, length);
    else
        add_bytes(e->out, text, length);
}

static void put_number(struct emitter *e, lua_State *L, int index)
{
    char text[64];
    if (lua_isinteger(L, index)) {
        snprintf(text, sizeof text, LUA_INTEGER_FMT, lua_tointeger(L, index));
    } else {
        double number = lua_tonumber(L, index);
        if (isnan(number))
            snprintf(text, sizeof text, ".nan");
        else if (isinf(number))
            snprintf(text, sizeof text, number > 0 ? ".inf" : "-.inf");
        else if (number == floor(number) && fabs(number) < 1e21) /* Go writes 1.0 as 1 */
            snprintf(text, sizeof text, "%.0f", number);
        else
            for (int precision = 1; precision <= 17; precision++) { /* the shortest that reads back */
                snprintf(text, sizeof text, "%.*g", precision, number);
                if (strtod(text, NULL) == number)
                    break;
            }
    }
    add_string(e->out, text);
}

static bool is_sequence(lua_State *L, int index)
{
    return lua_rawlen(L, index) > 0;
}

static bool is_empty(lua_State *L, int index)
{
    lua_pushnil(L);
    if (lua_next(L, index) == 0)
        return true;
    lua_pop(L, 2);
    return false;
}

static void emit_value(struct emitter *e, int index, int column, int depth);

/* A scalar after "key: " or "- ", or a nested collection on the lines
 * below at column. */
static void emit_after_indicator(struct emitter *e, int index, int column, int depth, bool in_sequence)
{
    lua_State *L = e->L;
    if (lua_type(L, index) != LUA_TTABLE) {
        add_char(e->out, ' ');
        emit_value(e, index, column, depth);
        return;
    }
    if (is_empty(L, index)) {
        add_string(e->out, " {}");
        return;
    }
    if (in_sequence) { /* "- " then the collection's first line on the same line */
        add_char(e->out, ' ');
        emit_value(e, index, column, depth);
        return;
    }
    add_char(e->out, '\n');
    put_spaces(e, column);
    emit_value(e, index, column, depth);
}

struct key {
    const char *text;  /* the key as text, kept alive in the keys table */
    size_t length;
    lua_Integer rank;  /* its place in field_order, or LUA_MAXINTEGER */
    int slot;          /* where the key itself is in the keys table */
};

static int compare_keys(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    size_t shorter = x->length < y->length ? x->length : y->length;
    int order = memcmp(x->text, y->text, shorter);
    return order != 0 ? order : (x->length > y->length) - (x->length < y->length);
}

/* Writes the map at index: the field_order names it has first, in that
 * order, then the rest sorted by their text (one sort, in C: no Lua runs
 * while keys are compared). */
static void emit_map(struct emitter *e, int index, int column, int depth)
{
    lua_State *L = e->L;
    lua_newtable(L); /* slot -> key, then slot + count -> its text */
    int keys = lua_gettop(L);
    int count = 0;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        if (count >= YAML_MAX_NODES)
            luaL_error(L, "yaml.encode: more than %d entries", YAML_MAX_NODES);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, ++count);
    }
    struct key *order = lua_newuserdatauv(L, (size_t)count * sizeof *order + 1, 0);
    for (int i = 1; i <= count; i++) {
        lua_rawgeti(L, keys, i);
        size_t length;
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_tolstring(L, -1, &length);
        } else {
            luaL_tolstring(L, -1, &length);
            lua_remove(L, -2);
        }
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, count + i); /* keeps the text alive */
        lua_Integer rank = LUA_MAXINTEGER;
        if (e->field_ranks != 0) {
            lua_pushvalue(L, -1);
            if (lua_rawget(L, e->field_ranks) == LUA_TNUMBER)
                rank = lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        order[i - 1] = (struct key){lua_tolstring(L, -1, NULL), length, rank, i};
        lua_pop(L, 1);
    }
    qsort(order, (size_t)count, sizeof *order, compare_keys);
    for (int i = 0; i < count; i++) {
        if (i > 0) {
            add_char(e->out, '\n');
            put_spaces(e, column);
        }
        put_string(e, order[i].text, order[i].length, column, true);
        add_char(e->out, ':');
        lua_rawgeti(L, keys, order[i].slot);
        lua_rawget(L, index);
        emit_after_indicator(e, lua_gettop(L), column + e->indent, depth + 1, false);
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
}

static void emit_sequence(struct emitter *e, int index, int column, int depth)
{
    lua_State *L = e->L;
    lua_Integer count = (lua_Integer)lua_rawlen(L, index);
    for (lua_Integer i = 1; i <= count; i++) {
        if (i > 1) {
            add_char(e->out, '\n');
            put_spaces(e, column);
        }
        add_char(e->out, '-');
        lua_rawgeti(L, index, i);
        emit_after_indicator(e, lua_gettop(L), column + 2, depth + 1, true);
        lua_pop(L, 1);
    }
}

static void emit_value(struct emitter *e, int index, int column, int depth)
{
    lua_State *L = e->L;
    if (depth > YAML_MAX_DEPTH)
        luaL_error(L, "yaml.encode: nested deeper than %d levels (or a cycle)", YAML_MAX_DEPTH);
    if (++e->nodes > YAML_MAX_NODES)
        luaL_error(L, "yaml.encode: more than %d values", YAML_MAX_NODES);
    luaL_checkstack(L, 8, "yaml.encode: nested too deeply");
    size_t length;
    switch (lua_type(L, index)) {
    case LUA_TNIL:
        add_string(e->out, "null");
        break;
    case LUA_TBOOLEAN:
        add_string(e->out, lua_toboolean(L, index) ? "true" : "false");
        break;
    case LUA_TNUMBER:
        put_number(e, L, index);
        break;
    case LUA_TSTRING: {
        const char *text = lua_tolstring(L, index, &length);
        put_string(e, text, length, column, false);
        break;
    }
    case LUA_TTABLE:
        if (is_sequence(L, index))
            emit_sequence(e, index, column, depth);
        else if (is_empty(L, index))
            add_string(e->out, "{}");
        else
            emit_map(e, index, column, depth);
        break;
    default: { /* functions, userdata: their text, as Go Wippy writes them */
        const char *text = luaL_tolstring(L, index, &length);
        put_string(e, text, length, column, false);
        lua_pop(L, 1);
        break;
    }
    }
}

static int encode_protected(lua_State *L)
{
    struct emitter *e = lua_touserdata(L, 1);
    e->L = L;
    e->out->L = L;
    e->field_ranks = 0;
    if (lua_gettop(L) >= 3) { /* field_order, as name -> place */
        lua_newtable(L);
        e->field_ranks = lua_gettop(L);
        lua_Integer listed = (lua_Integer)lua_rawlen(L, 3);
        for (lua_Integer i = listed; i >= 1; i--) { /* the first mention wins */
            if (lua_rawgeti(L, 3, i) == LUA_TSTRING) {
                lua_pushinteger(L, i);
                lua_rawset(L, e->field_ranks);
            } else {
                lua_pop(L, 1);
            }
        }
    }
    emit_value(e, 2, 0, 0);
    add_char(e->out, '\n');
    return 0;
}

static int encode_with(lua_State *L, int index, int options, struct wippy_error *error, char **text_out,
                       size_t *length_out);

bool mod_yaml_encode(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    if (lua_type(L, index) != LUA_TTABLE) {
        lua_pushliteral(L, "yaml.encode: table expected");
        return false;
    }
    char *text;
    size_t length;
    struct wippy_error error;
    if (encode_with(L, index, 0, &error, &text, &length) < 0) {
        lua_pushstring(L, error.message);
        return false;
    }
    lua_pushlstring(L, text, length);
    free(text);
    return true;
}

/* Writes the table at index (with the options table at `options`, or 0)
 * into a malloc'd text. */
static int encode_with(lua_State *L, int index, int options, struct wippy_error *error, char **text_out,
                       size_t *length_out)
{
    struct emitter e = {.indent = 4};
    int field_order = 0;
    if (options != 0 && lua_type(L, options) == LUA_TTABLE) {
        if (lua_getfield(L, options, "field_order") == LUA_TTABLE) {
            field_order = lua_gettop(L);
            e.indent = 2;
        } else {
            lua_pop(L, 1);
        }
        lua_getfield(L, options, "sort_unordered"); /* the other keys are sorted either way */
        if (lua_toboolean(L, -1))
            e.indent = 2;
        lua_pop(L, 1);
    }
    struct text text = {NULL, 0, 0, L};
    e.out = &text;
    lua_pushcfunction(L, encode_protected);
    lua_pushlightuserdata(L, &e);
    lua_pushvalue(L, index);
    if (field_order != 0)
        lua_pushvalue(L, field_order); /* at a known index in the protected call */
    int status = lua_pcall(L, field_order != 0 ? 3 : 2, 0, 0);
    if (field_order != 0)
        lua_remove(L, field_order);
    if (status != LUA_OK) {
        free(text.bytes);
        const char *message = lua_tostring(L, -1);
        error_set(error, WIPPY_EINVAL, "%s", message != NULL ? message : "yaml.encode failed");
        lua_pop(L, 1);
        return error->code;
    }
    *text_out = text.bytes;
    *length_out = text.length;
    return WIPPY_OK;
}

static int yaml_encode(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TTABLE)
        return error_value_fail_with(L, ERROR_KIND_INVALID, "table expected");
    lua_settop(L, 2);
    char *text;
    size_t length;
    struct wippy_error error;
    if (encode_with(L, 1, 2, &error, &text, &length) < 0)
        return error_value_fail_with(L, ERROR_KIND_INTERNAL, "%s", error.message);
    lua_pushlstring(L, text, length);
    free(text);
    lua_pushnil(L);
    return 2;
}

int mod_yaml_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"encode", yaml_encode},
        {"decode", yaml_decode},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    (void)context;
    return 1;
}
