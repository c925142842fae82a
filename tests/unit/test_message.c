/* Messages: a value taken from one Lua state and rebuilt in another. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>

#include "test.h"
#include "vm/message.h"
#include "vm/state.h"

/* Evaluates code in L and leaves its one result on the stack. */
static bool evaluate(lua_State *L, const char *code)
{
    return luaL_loadstring(L, code) == LUA_OK && lua_pcall(L, 0, 1, 0) == LUA_OK;
}

/* Calls check(value) in L with the value on top of the stack; the result
 * must be the string "ok". */
static const char *check_in(lua_State *L, const char *check)
{
    if (!evaluate(L, check))
        return lua_tostring(L, -1);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        return lua_tostring(L, -1);
    return lua_tostring(L, -1);
}

/* Takes `value` (Lua code) from a new state and rebuilds it in another. */
static const char *travel(const char *value, const char *check, size_t max_bytes, struct wippy_error *error)
{
    static char result[2048];
    lua_State *from = luaL_newstate(), *to = luaL_newstate();
    luaL_openlibs(from);
    luaL_openlibs(to);
    snprintf(result, sizeof result, "(no result)");
    if (!evaluate(from, value)) {
        snprintf(result, sizeof result, "the value did not evaluate: %s", lua_tostring(from, -1));
    } else {
        int top = lua_gettop(from);
        struct message *message = message_take(from, -1, max_bytes, error);
        if (lua_gettop(from) != top) {
            snprintf(result, sizeof result, "taking changed the stack");
        } else if (message == NULL) {
            snprintf(result, sizeof result, "refused: %s", error->message);
        } else if (message_push(to, message, error) < 0) {
            snprintf(result, sizeof result, "not pushed: %s", error->message);
        } else {
            const char *answer = check_in(to, check);
            snprintf(result, sizeof result, "%s", answer != NULL ? answer : "(not a string)");
        }
    }
    lua_close(from);
    lua_close(to);
    return result;
}

TEST(test_message_carries_scalars_and_strings_with_zero_bytes)
{
    struct wippy_error error;
    CHECK_STRING(travel("return {1, 2.5, true, false, 'a\\0b', math.maxinteger, -0.0, 1/0}",
                        "return function(t) return (t[1] == 1 and math.type(t[1]) == 'integer' and t[2] == 2.5 "
                        "and t[3] == true and t[4] == false and t[5] == 'a\\0b' and #t[5] == 3 and "
                        "t[6] == math.maxinteger and 1/t[7] == -1/0 and t[8] == 1/0) and 'ok' or 'wrong' end",
                        0, &error),
                 "ok");
    CHECK_STRING(travel("return 'plain'", "return function(v) return v == 'plain' and 'ok' or 'wrong' end", 0, &error),
                 "ok");
    CHECK_STRING(travel("return nil", "return function(v) return v == nil and 'ok' or 'wrong' end", 0, &error), "ok");
}

TEST(test_message_keeps_cycles_and_shared_subtables_as_one_table)
{
    struct wippy_error error;
    CHECK_STRING(travel("local shared = {n = 1}; local t = {a = shared, b = shared, list = {shared}}; t.self = t; "
                        "t[shared] = 'key'; return t",
                        "return function(t) return (t.self == t and t.a == t.b and t.list[1] == t.a and "
                        "t[t.a] == 'key' and t.a.n == 1) and 'ok' or 'wrong' end",
                        0, &error),
                 "ok");
}

TEST(test_message_drops_metatables_and_copies_deeply)
{
    struct wippy_error error;
    CHECK_STRING(travel("return setmetatable({x = {y = {z = 'deep'}}}, {__index = function() return 'meta' end})",
                        "return function(t) return (getmetatable(t) == nil and t.missing == nil and "
                        "t.x.y.z == 'deep') and 'ok' or 'wrong' end",
                        0, &error),
                 "ok");
}

TEST(test_message_refuses_functions_coroutines_and_deep_nesting)
{
    struct wippy_error error;
    CHECK_STRING(travel("return {f = print}", "", 0, &error), "refused: cannot pass a function between processes");
    CHECK_STRING(travel("return {co = coroutine.create(print)}", "", 0, &error),
                 "refused: cannot pass a thread between processes");
    CHECK_CONTAINS(travel("local t = {} local c = t for i = 1, 200 do c.next = {} c = c.next end return t", "", 0,
                          &error),
                   "nested deeper than 128 levels");
    CHECK_CONTAINS(travel("return io.stdout", "", 0, &error), "refused: cannot pass a userdata between processes");
}

/* Crossing threads, a userdata without a transport becomes a stand-in; it
 * was numbered when taken, so the tables met after it must keep theirs. */
TEST(test_message_keeps_references_after_a_stand_in_for_a_userdata)
{
    struct wippy_error error;
    message_cross_thread_begin();
    const char *result = travel("local shared = {'x'} return {io.stdout, shared, shared}",
                                "return function(v) return type(v[1]) == 'userdata' and type(v[2]) == 'table' "
                                "and v[2] == v[3] and v[3][1] == 'x' and 'ok' or 'broken' end",
                                0, &error);
    message_cross_thread_end();
    CHECK_STRING(result, "ok");
}

TEST(test_message_refuses_a_value_larger_than_its_bound)
{
    struct wippy_error error;
    CHECK_CONTAINS(travel("return string.rep('x', 5000)", "", 1000, &error), "larger than 1000 bytes");
    CHECK_STRING(travel("return string.rep('x', 500)", "return function(v) return #v == 500 and 'ok' or 'no' end",
                        1000, &error),
                 "ok");
}

/* A shared type whose values are counted references to one C object. */
struct counted {
    int references;
    int value;
};

static struct counted the_object;

static int counted_export(lua_State *L, int index, void **out, struct wippy_error *error)
{
    struct counted **slot = lua_touserdata(L, index);
    (*slot)->references++;
    *out = *slot;
    return WIPPY_OK;
}

static int counted_import(lua_State *L, void *exported, struct wippy_error *error)
{
    struct counted **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = exported; /* the exported reference is now this userdata's */
    luaL_setmetatable(L, "test.counted");
    return WIPPY_OK;
}

static void counted_release(void *exported)
{
    ((struct counted *)exported)->references--;
}

static const struct state_transport counted_transport = {"test.counted", counted_export, counted_import,
                                                         counted_release, false, NULL};

static int counted_value(lua_State *L)
{
    lua_pushinteger(L, (*(struct counted **)luaL_checkudata(L, 1, "test.counted"))->value);
    return 1;
}

static void open_counted(lua_State *L)
{
    static const luaL_Reg methods[] = {{"value", counted_value}, {NULL, NULL}};
    state_new_type(L, "test.counted", methods, STATE_SHARED, NULL);
    lua_pop(L, 1);
    state_set_transport(L, "test.counted", &counted_transport);
    for (int i = 0; i < 2; i++) { /* two values for one object */
        struct counted **slot = lua_newuserdatauv(L, sizeof *slot, 0);
        *slot = &the_object;
        luaL_setmetatable(L, "test.counted");
        lua_setglobal(L, i == 0 ? "object" : "other");
    }
}

TEST(test_message_carries_shared_values_through_their_transport)
{
    the_object = (struct counted){.references = 1, .value = 42};
    lua_State *from = luaL_newstate(), *to = luaL_newstate();
    open_counted(from);
    open_counted(to);
    struct wippy_error error;
    CHECK(evaluate(from, "return {a = object, b = object, [object] = 'key'}"));
    struct message *message = message_take(from, -1, 0, &error);
    CHECK(message != NULL);
    CHECK_EQUAL(the_object.references, 2); /* exported once, met three times */
    CHECK_EQUAL(message_push(to, message, &error), WIPPY_OK);
    lua_setglobal(to, "received");
    CHECK(evaluate(to, "return received.a:value() + received.b:value()"));
    CHECK_EQUAL(lua_tointeger(to, -1), 84);
    CHECK(evaluate(to, "return received.a == received.b and received[received.a] == 'key'"));
    CHECK(lua_toboolean(to, -1));

    /* a message never pushed gives its references back */
    CHECK(evaluate(from, "return {object, object, {object}}"));
    message = message_take(from, -1, 0, &error);
    CHECK_EQUAL(the_object.references, 3);
    message_free(message);
    CHECK_EQUAL(the_object.references, 2);
    lua_close(from);
    lua_close(to);
}

/* A state whose allocator fails after a given number of bytes. */
struct budget {
    size_t left;
};

static void *allocate_within(void *user, void *block, size_t old_size, size_t new_size)
{
    struct budget *budget = user;
    if (new_size == 0) {
        free(block);
        return NULL;
    }
    size_t grown = block != NULL && new_size > old_size ? new_size - old_size : block == NULL ? new_size : 0;
    if (grown > budget->left)
        return NULL;
    budget->left -= grown;
    return realloc(block, new_size);
}

TEST(test_message_that_cannot_be_rebuilt_gives_back_what_it_did_not_rebuild)
{
    the_object = (struct counted){.references = 1, .value = 7};
    lua_State *from = luaL_newstate();
    luaL_openlibs(from);
    open_counted(from);
    struct budget budget = {.left = 1u << 30};
    lua_State *to = lua_newstate(allocate_within, &budget);
    open_counted(to);
    struct wippy_error error;
    CHECK(evaluate(from, "local t = {object} for i = 1, 1000 do t[#t + 1] = string.rep('x', 100) .. i end "
                         "t[#t + 1] = other return t"));
    struct message *message = message_take(from, -1, 0, &error);
    CHECK_EQUAL(the_object.references, 3);
    budget.left = 20000; /* enough to start, not for a thousand strings */
    int top = lua_gettop(to);
    CHECK(message_push(to, message, &error) < 0);
    CHECK_EQUAL(lua_gettop(to), top);
    CHECK_CONTAINS(error.message, "not enough memory");
    budget.left = 1u << 30;
    /* the first object was rebuilt (its userdata holds that reference;
     * this test type has no __gc), the last one was given back */
    CHECK_EQUAL(the_object.references, 2);
    lua_close(to);
    lua_close(from);
}

/* Found by an attacker's review. */
TEST(test_message_cut_short_by_its_bound_gives_back_its_shared_values_safely)
{
    the_object = (struct counted){.references = 1, .value = 1};
    lua_State *from = luaL_newstate();
    luaL_openlibs(from);
    open_counted(from);
    struct wippy_error error;
    for (size_t bound = 1; bound < 120; bound++) {
        CHECK(evaluate(from, "return {object, 'x', 'y', {object}}"));
        struct message *message = message_take(from, -1, bound, &error);
        lua_pop(from, 1);
        if (message != NULL)
            message_free(message);
        CHECK_EQUAL(the_object.references, 1);
    }
    lua_close(from);
}

TEST(test_message_makes_room_only_for_the_entries_it_carries)
{
    struct wippy_error error;
    /* #t is a border far beyond the 27 entries the table holds */
    CHECK_STRING(travel("local t = {} for k = 26, 0, -1 do t[1 << k] = true end return t",
                        "return function(t) local n = 0 for _ in pairs(t) do n = n + 1 end "
                        "return (n == 27 and collectgarbage('count') < 4096) and 'ok' or tostring(n) end",
                        0, &error),
                 "ok");
}
