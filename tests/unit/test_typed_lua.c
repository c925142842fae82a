/* Wippy's typed Lua erased to Lua 5.4, every line and column kept. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>

#include "test.h"
#include "util/memory.h"
#include "vm/typed_lua.h"

static char erased[8192];
static struct wippy_error erase_error;

/* The source with its types erased, or "error: ..." */
static const char *erase_text(const char *source)
{
    snprintf(erased, sizeof erased, "%s", source);
    if (typed_lua_erase(erased, strlen(erased), &erase_error) < 0)
        snprintf(erased, sizeof erased, "error: %s", erase_error.message);
    return erased;
}

/* The erased source must load as Lua 5.4 and, run, return "ok". */
static const char *run_erased(const char *source)
{
    static char result[1024];
    const char *text = erase_text(source);
    if (strncmp(text, "error: ", 7) == 0)
        return text;
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_loadbuffer(L, text, strlen(text), "=typed") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        snprintf(result, sizeof result, "lua: %s", lua_tostring(L, -1));
    else
        snprintf(result, sizeof result, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(not a string)");
    lua_close(L);
    return result;
}

TEST(test_typed_lua_erases_annotations_in_place)
{
    CHECK_STRING(erase_text("local x: number = 1"), "local x         = 1");
    CHECK_STRING(erase_text("local function f(a: string, b: number?): boolean return true end"),
                 "local function f(a        , b         )          return true end");
    CHECK_STRING(erase_text("type Point = {x: number, y: number}\nlocal p = {x = 1}"),
                 "                                   \nlocal p = {x = 1}");
    CHECK_STRING(erase_text("local s = msg:data() :: string"), "local s = msg:data()          ");
    CHECK_STRING(erase_text("export type Id<T> = string | T\nreturn 1"), "                              \nreturn 1");
}

TEST(test_typed_lua_keeps_plain_lua_as_it_is)
{
    const char *plain[] = {
        "local type = type; local t = type(1); return t",
        "local x = type\nfoo = 1",
        "local t = {type = 'a', b = 'x:y'} -- type X = 1\nreturn t.type",
        "local s = 'local a: number' .. [[type T = {}]] return s",
        "local o = {} function o:m(a) return a end return o:m(1)",
        "for i = 1, 3 do goto continue ::continue:: end",
        "local x <const> = 5 local y <close> = nil return x",
        "local a, b = 1 < 2, 3 > 2 return a",
        "return function(...) return select('#', ...) end",
        "local t = {f = function(a, b) return a // b end} return t",
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        CHECK_STRING(erase_text(plain[i]), plain[i]);
}

TEST(test_typed_lua_runs_typed_code)
{
    CHECK_STRING(run_erased("type Pair<K, V> = {key: K, value: V}\n"
                            "type Handler = (string, number?) -> (boolean, string?)\n"
                            "local function first<T>(list: {T}): T? return list[1] end\n"
                            "local p: Pair<string, {[string]: number}> = {key = 'a', value = {}}\n"
                            "local f = function(a: number, ...: any): ...any return a, ... end\n"
                            "local n: number, s: string = first({1, 2}) :: number, 'x'\n"
                            "for k: string, v: any in pairs({a = 1}) do n = n + v end\n"
                            "local o = {}\nfunction o:m(x: number): number return x * 2 end\n"
                            "local r = (o:m(n) :: number) + select('#', f(1, 2, 3))\n"
                            "return (r == 7 and p.key == 'a' and s == 'x') and 'ok' or tostring(r)"),
                 "ok");
}

TEST(test_typed_lua_keeps_lines_so_errors_point_at_the_right_place)
{
    CHECK_STRING(run_erased("type T = {\n  a: string,\n  b: number\n}\nlocal x: T = nil\nerror('here')"),
                 "lua: typed:6: here");
}

TEST(test_typed_lua_reports_an_unreadable_type_at_its_place)
{
    CHECK_STRING(erase_text("local x = 1\nlocal y: = 2"), "error: 2:10: expected a type");
    CHECK_STRING(erase_text("type A = {x: number"), "error: 1:10: this bracket is never closed");
    CHECK_STRING(erase_text("type A number"), "type A number"); /* not an alias: Lua will say why */
}

TEST(test_typed_lua_reads_the_rest_of_the_dialect)
{
    CHECK_STRING(run_erased("type Id = string @min_len(2) @pattern(\"^[a-z]+$\")\n"
                            "type Flag = \"hot\" | \"cold\" | 3 | true\n"
                            "type List = readonly {number}\n"
                            "type Sample = typeof(x)\n"
                            "local names: string[] = {'a'}\n"
                            "local t: any = {value = 'v'}\n"
                            "local v = t.value as string\n"
                            "local w = ({n = 1} as {n: number}).n\n"
                            "local function f(list: readonly {number}): number? return list[1] end\n"
                            "local s = tostring(t.value!)\n"
                            "return (v == 'v' and w == 1 and f({4}) == 4 and s == 'v' and names[1] == 'a') and 'ok'"
                            " or 'wrong'"),
                 "ok");
    /* `as` and `!` only after an expression: the name and the operator are left alone elsewhere */
    CHECK_STRING(erase_text("local as = 1\nas = as + 1 return as ~= 2"), "local as = 1\nas = as + 1 return as ~= 2");
}

TEST(test_typed_lua_bounds_how_deeply_types_nest)
{
    size_t count = 100000;
    char *source = xmalloc(count * 4 + 32);
    char *end = source + sprintf(source, "local f: ");
    for (size_t i = 0; i < count; i++)
        end += sprintf(end, "()->");
    sprintf(end, "nil");
    struct wippy_error error;
    int rc = typed_lua_erase(source, strlen(source), &error);
    free(source);
    CHECK(rc < 0);
    CHECK_CONTAINS(error.message, "1:810: types nested too deeply");
}

/* Found by an attacker's review: plain Lua that an erasure must not change
 * (or must refuse), never run differently. */
TEST(test_typed_lua_reads_strings_and_comments_as_lua_does)
{
    const char *plain[] = {
        "local s = \"\\z\n   x as ' \" .. ' .. \" print([[pwned]]) --'\nreturn s",
        "local s = \"a\\\r\nb as c\" return s",
        "--\rlocal s = [[\nx as { ]]\nreturn s",
        "local h <close> = nil local n <const> = 1 return n",
        "local t = {} t.x = 1 -- as {x: number}\nreturn t",
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        CHECK_STRING(erase_text(plain[i]), plain[i]);
    CHECK_STRING(run_erased("local s = \"\\z\n   x as ' \" .. ' .. \" print([[pwned]]) --'\nreturn (s:find('pwned') "
                            "and 'ok')"),
                 "ok");
}

TEST(test_typed_lua_refuses_what_could_mean_two_things)
{
    CHECK_STRING(erase_text("local v = tonumber('5')\nas(v > 10, 'hidden')"),
                 "error: 2:1: `as` first on its line and followed by (, { or a string could be a call of a function "
                 "named as or a cast: keep a cast on the line of its value");
    CHECK_CONTAINS(erase_text("local m = mode as integer | 4"), "error: 1:27: after a cast, | and & are ambiguous");
    CHECK_CONTAINS(erase_text("local m: Array<number>= {}"), "error: 1:22: write a space between > and =");
    /* a comparison after a cast stays a comparison; the attribute stays */
    CHECK_STRING(run_erased("local x = 3\nlocal ok = x as number < 5\nlocal h: any <close> = nil\n"
                            "local n: integer <const> = 1\nreturn ok and 'ok'"),
                 "ok");
    CHECK_STRING(erase_text("local y = x :: number\n::top::\nprint(y)"), "local y = x          \n::top::\nprint(y)");
    CHECK_STRING(erase_text("local ok = {a != b}"), "local ok = {a != b}"); /* Lua will refuse it */
}
