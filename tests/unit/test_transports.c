/* Transports: times, durations, actors, scopes, policies and errors carried
 * as messages from one Lua state to another, as between heaps. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "lua/error_values.h"
#include "lua/modules.h"
#include "lua/security_values.h"
#include "test.h"
#include "vm/message.h"

static void open_module(lua_State *L, const char *name, int (*open)(lua_State *, void *))
{
    open(L, NULL);
    lua_setglobal(L, name);
}

/* A state with the real time, errors and security types (as a heap has
 * them); their functions that need a running task are not called here. */
static lua_State *open_state(lua_State *L)
{
    luaL_openlibs(L);
    open_module(L, "time", mod_time_open);
    open_module(L, "errors", mod_errors_open);
    open_module(L, "security", mod_security_open);
    return L;
}

/* Evaluates code in L and leaves its one result on the stack. */
static bool evaluate(lua_State *L, const char *code)
{
    return luaL_loadstring(L, code) == LUA_OK && lua_pcall(L, 0, 1, 0) == LUA_OK;
}

/* Moves the value on top of `from` to the top of `to` through a message. */
static int carry(lua_State *from, lua_State *to, struct wippy_error *error)
{
    struct message *message = message_take(from, -1, 0, error);
    lua_pop(from, 1);
    if (message == NULL)
        return error->code;
    return message_push(to, message, error);
}

/* Calls the function `check` evaluates to with the value on top of L (which
 * it pops); the answer is its string result ("ok" when all is well). */
static const char *check_in(lua_State *L, const char *check)
{
    if (!evaluate(L, check))
        return lua_tostring(L, -1);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        return lua_tostring(L, -1);
    return lua_isstring(L, -1) ? lua_tostring(L, -1) : "(not a string)";
}

TEST(test_transports_carry_durations_and_times_that_compare_and_format_the_same)
{
    lua_State *from = open_state(luaL_newstate()), *to = open_state(luaL_newstate());
    struct wippy_error error;
    CHECK(evaluate(from, "local t = time.unix(1700000000, 123456789) "
                         "return {d = time.parse_duration('1m30.5s'), whole = time.parse_duration('2h'), "
                         "t = t, again = t}"));
    CHECK_EQUAL(carry(from, to, &error), WIPPY_OK);
    CHECK_STRING(check_in(to, "return function(v) "
                              "local local_t = time.unix(1700000000, 123456789) "
                              "local checks = { "
                              "  tostring(v.d) == '1m30.5s', tostring(v.whole) == '2h0m0s', "
                              "  v.d:nanoseconds() == 90500000000, v.whole:hours() == 2, "
                              "  tostring(v.t:utc()) == '2023-11-14 22:13:20.123456789 +0000 UTC', v.t:unix_nano() == 1700000000123456789, "
                              "  v.t:equal(local_t), local_t:equal(v.t), not v.t:before(local_t), "
                              "  v.t:sub(time.unix(1700000000)):nanoseconds() == 123456789, "
                              "  v.t:add(v.d):unix() == 1700000090, "
                              "  rawequal(v.t, v.again), getmetatable(v.t) == 'protected' } "
                              "for i, passed in ipairs(checks) do if not passed then return 'check ' .. i end end "
                              "return #checks == 13 and 'ok' or 'lost a check' end"),
                 "ok");
    lua_close(from);
    lua_close(to);
}

TEST(test_transports_carry_an_actor_with_its_id_and_meta)
{
    lua_State *from = open_state(luaL_newstate()), *to = open_state(luaL_newstate());
    struct value *meta = value_new_map();
    value_map_set(meta, "role", value_new_string("admin", 5));
    struct actor *actor = actor_new("user:7", meta);
    security_value_push_actor(from, actor);
    CHECK_EQUAL(atomic_load(&actor->references), 2);
    struct wippy_error error;
    struct message *message = message_take(from, -1, 0, &error);
    CHECK(message != NULL);
    CHECK_EQUAL(atomic_load(&actor->references), 3); /* the message's own */
    CHECK_EQUAL(message_push(to, message, &error), WIPPY_OK);
    CHECK_EQUAL(atomic_load(&actor->references), 3); /* now the new userdata's */
    lua_close(from);
    CHECK_EQUAL(atomic_load(&actor->references), 2);
    CHECK_STRING(check_in(to, "return function(a) return (a:id() == 'user:7' and a:meta().role == 'admin') "
                              "and 'ok' or 'wrong' end"),
                 "ok");
    lua_close(to);
    CHECK_EQUAL(atomic_load(&actor->references), 1);
    actor_release(actor);
}

static char *select_action[] = {"network.select"};
static char *tor_resource[] = {"app:tor"};
static char *direct_resource[] = {"direct"};

static struct entry policy_on(const char *id, char **resource, bool allow)
{
    struct entry policy = {.id = (char *)id, .kind = ENTRY_SECURITY_POLICY};
    policy.as.policy.actions = select_action;
    policy.as.policy.action_count = 1;
    policy.as.policy.resources = resource;
    policy.as.policy.resource_count = 1;
    policy.as.policy.allow = allow;
    return policy;
}

TEST(test_transports_carry_a_scope_with_its_policies)
{
    struct entry allow_tor = policy_on("app:allow_tor", tor_resource, true);
    struct entry deny_direct = policy_on("app:deny_direct", direct_resource, false);
    const struct entry *policies[] = {&allow_tor, &deny_direct};
    struct scope *scope = scope_new(policies, 2);
    struct actor *actor = actor_new("user:1", NULL);
    lua_State *from = open_state(luaL_newstate()), *to = open_state(luaL_newstate());
    security_value_push_scope(from, scope);
    lua_setglobal(from, "scope");
    security_value_push_actor(from, actor);
    lua_setglobal(from, "actor");
    CHECK(evaluate(from, "return {scope = scope, actor = actor, policy = scope:policies()[2]}"));
    struct wippy_error error;
    CHECK_EQUAL(carry(from, to, &error), WIPPY_OK);
    lua_close(from);
    CHECK_EQUAL(atomic_load(&scope->references), 2);
    CHECK_STRING(check_in(to, "return function(v) "
                              "local listed = v.scope:policies() "
                              "local checks = { "
                              "  #listed == 2, listed[1]:id() == 'app:allow_tor', listed[2]:id() == 'app:deny_direct', "
                              "  v.scope:contains('app:deny_direct'), v.scope:contains(v.policy), "
                              "  v.scope:evaluate(v.actor, 'network.select', 'app:tor') == 'allow', "
                              "  v.scope:evaluate(v.actor, 'network.select', 'direct') == 'deny', "
                              "  v.policy:id() == 'app:deny_direct', "
                              "  v.policy:evaluate(v.actor, 'network.select', 'direct') == 'deny', "
                              "  v.scope:evaluate(v.actor, 'network.select', 'app:i2p') == 'undefined' } "
                              "for i, passed in ipairs(checks) do if not passed then return 'check ' .. i end end "
                              "return #checks == 10 and 'ok' or 'lost a check' end"),
                 "ok");
    lua_close(to);
    CHECK_EQUAL(atomic_load(&scope->references), 1);
    CHECK_EQUAL(atomic_load(&actor->references), 1);
    scope_release(scope);
    actor_release(actor);
}

/* The error made in `from` by make_error, and what the sender itself sees
 * of it, carried together. */
static const char make_error[] =
    "local e = errors.new{message = 'boom', kind = errors.NOT_FOUND, retryable = true, "
    "  details = {id = 7, nested = {list = {1, 2, 3}}, at = time.unix(1700000000)}} "
    "local wrapped = errors.wrap(e, 'while testing') "
    "local plain = errors.new('plain') "
    "return {e = e, wrapped = wrapped, plain = plain, stack = e:stack(), wrapped_stack = wrapped:stack(), "
    "  frames = errors.call_stack(e).frames}";

TEST(test_transports_carry_an_error_that_behaves_the_same)
{
    lua_State *from = open_state(luaL_newstate()), *to = open_state(luaL_newstate());
    struct wippy_error error;
    CHECK(evaluate(from, make_error));
    CHECK_EQUAL(carry(from, to, &error), WIPPY_OK);
    lua_close(from);
    CHECK_STRING(check_in(to, "return function(v) "
                              "local e, details = v.e, v.e:details() "
                              "local frames = errors.call_stack(e).frames "
                              "local checks = { "
                              "  tostring(e) == 'boom', 'x: ' .. e == 'x: boom', e .. '!' == 'boom!', "
                              "  e:message() == 'boom', e:kind() == 'NotFound', errors.is(e, errors.NOT_FOUND), "
                              "  e:retryable() == true, details.id == 7, details.nested.list[3] == 3, "
                              "  details.at:utc():format_rfc3339() == '2023-11-14T22:13:20Z', "
                              "  details.at:equal(time.unix(1700000000)), "
                              "  e:stack() == v.stack, e:stack():find('boom', 1, true) == 1, "
                              "  #frames == #v.frames and #frames >= 1, "
                              "  frames[1].source == v.frames[1].source and frames[1].line == v.frames[1].line, "
                              "  v.wrapped:stack() == v.wrapped_stack, "
                              "  v.wrapped:stack():find('while testing: ', 1, true) == 1, "
                              "  v.wrapped:details().nested.list[1] == 1, v.wrapped:kind() == 'NotFound', "
                              "  tostring(v.plain) == 'plain', v.plain:retryable() == nil, v.plain:details() == nil, "
                              "  errors.is(v.plain, errors.UNKNOWN), "
                              "  e:kind('Timeout'):kind() == 'Timeout', e:kind('Timeout'):details().id == 7 } "
                              "for i, passed in ipairs(checks) do if not passed then return 'check ' .. i end end "
                              "return #checks == 25 and 'ok' or 'lost a check' end"),
                 "ok");
    lua_close(to);
}

TEST(test_transports_keep_the_imported_error_details_a_copy)
{
    lua_State *from = open_state(luaL_newstate()), *to = open_state(luaL_newstate());
    struct wippy_error error;
    CHECK(evaluate(from, "return errors.new{message = 'm', details = {n = 1}}"));
    CHECK_EQUAL(carry(from, to, &error), WIPPY_OK);
    CHECK_STRING(check_in(to, "return function(e) e:details().n = 2 "
                              "return e:details().n == 1 and 'ok' or 'changed' end"),
                 "ok");
    lua_close(from);
    lua_close(to);
}

/* An actor and a scope straight in a message and inside an error's details
 * (a message nested in it). */
static void push_shared_values(lua_State *L, struct actor *actor, struct scope *scope)
{
    security_value_push_actor(L, actor);
    lua_setglobal(L, "actor");
    security_value_push_scope(L, scope);
    lua_setglobal(L, "scope");
}

static const char shared_values[] =
    "local t = {actor = actor, scope = scope, "
    "  e = errors.new{message = 'm', details = {who = actor, where = scope, when = time.unix(1)}}} "
    "for i = 1, 20 do t[i] = string.rep('x', 50) .. i end "
    "t.inner = errors.new{message = 'outer', "
    "  details = {cause = errors.new{message = 'inner', details = {who = actor}}}} "
    "return t";

TEST(test_transports_message_never_pushed_gives_back_actor_and_scope_references)
{
    struct actor *actor = actor_new("user:1", NULL);
    struct scope *scope = scope_new(NULL, 0);
    lua_State *from = open_state(luaL_newstate());
    push_shared_values(from, actor, scope);
    CHECK(evaluate(from, shared_values));
    struct wippy_error error;
    struct message *message = message_take(from, -1, 0, &error);
    CHECK(message != NULL);
    /* the message, the outer error's details, the inner error's details */
    CHECK_EQUAL(atomic_load(&actor->references), 2 + 3);
    CHECK_EQUAL(atomic_load(&scope->references), 2 + 2);
    message_free(message);
    CHECK_EQUAL(atomic_load(&actor->references), 2);
    CHECK_EQUAL(atomic_load(&scope->references), 2);
    lua_close(from);
    CHECK_EQUAL(atomic_load(&actor->references), 1);
    CHECK_EQUAL(atomic_load(&scope->references), 1);
    actor_release(actor);
    scope_release(scope);
}

/* A state whose allocator fails once it has made a given number of
 * allocations (growing a block counts as one). */
struct budget {
    size_t allocations_left;
};

static void *allocate_within(void *user, void *block, size_t old_size, size_t new_size)
{
    struct budget *budget = user;
    if (new_size == 0) {
        free(block);
        return NULL;
    }
    if (block == NULL || new_size > old_size) {
        if (budget->allocations_left == 0)
            return NULL;
        budget->allocations_left--;
    }
    return realloc(block, new_size);
}

/* Every allocation of the rebuild fails in turn: whatever was imported
 * before belongs to the state, the rest is given back. */
TEST(test_transports_import_under_a_memory_limit_fails_without_leaking)
{
    struct actor *actor = actor_new("user:1", NULL);
    struct scope *scope = scope_new(NULL, 0);
    lua_State *from = open_state(luaL_newstate());
    push_shared_values(from, actor, scope);
    bool pushed = false;
    size_t allocations = 0;
    for (; !pushed; allocations++) {
        CHECK(allocations < 100000);
        CHECK(evaluate(from, shared_values));
        struct wippy_error error;
        struct message *message = message_take(from, -1, 0, &error);
        lua_pop(from, 1);
        CHECK(message != NULL);
        struct budget budget = {.allocations_left = SIZE_MAX};
        lua_State *to = open_state(lua_newstate(allocate_within, &budget));
        int top = lua_gettop(to);
        budget.allocations_left = allocations;
        pushed = message_push(to, message, &error) == WIPPY_OK;
        CHECK(pushed || lua_gettop(to) == top);
        budget.allocations_left = SIZE_MAX;
        if (pushed)
            CHECK_STRING(check_in(to, "return function(t) return (t.inner:details().cause:details().who:id() == "
                                      "'user:1' and t.e:details().when:unix() == 1) and 'ok' or 'wrong' end"),
                         "ok");
        lua_close(to);
        CHECK_EQUAL(atomic_load(&actor->references), 2);
        CHECK_EQUAL(atomic_load(&scope->references), 2);
    }
    CHECK(allocations > 20); /* the rebuild failed at every one of them first */
    lua_close(from);
    actor_release(actor);
    scope_release(scope);
}

TEST(test_transports_refuse_an_error_whose_details_are_too_large)
{
    struct actor *actor = actor_new("user:1", NULL);
    lua_State *from = open_state(luaL_newstate());
    security_value_push_actor(from, actor);
    lua_setglobal(from, "actor");
    lua_pushinteger(from, ERROR_VALUE_MAX_TRAVEL_BYTES);
    lua_setglobal(from, "bound");
    struct wippy_error error;
    CHECK(evaluate(from, "return errors.new{message = 'm', details = {who = actor, blob = string.rep('x', bound)}}"));
    CHECK(message_take(from, -1, 0, &error) == NULL);
    CHECK_CONTAINS(error.message, "larger than");
    /* each error in the details fits alone; together they are too large */
    CHECK(evaluate(from, "local part = string.rep('y', bound // 3) local list = {} "
                         "for i = 1, 4 do "
                         "  list[i] = errors.new{message = 'part', details = {who = actor, part = part}} end "
                         "return {list[1], errors.new{message = 'all', details = {parts = list}}}"));
    lua_rawgeti(from, -1, 1);
    struct message *one = message_take(from, -1, 0, &error);
    CHECK(one != NULL);
    message_free(one);
    lua_rawgeti(from, -2, 2);
    CHECK(message_take(from, -1, 0, &error) == NULL);
    CHECK_CONTAINS(error.message, "larger than");
    CHECK_EQUAL(atomic_load(&actor->references), 2);
    lua_close(from);
    CHECK_EQUAL(atomic_load(&actor->references), 1);
    actor_release(actor);
}

#define SHARING_ROUNDS 200000

static void retain_and_release_actor(void *argument)
{
    struct actor *actor = argument;
    for (int i = 0; i < SHARING_ROUNDS; i++) {
        actor_retain(actor);
        actor_release(actor);
    }
}

static void retain_and_release_scope(void *argument)
{
    struct scope *scope = argument;
    for (int i = 0; i < SHARING_ROUNDS; i++) {
        scope_retain(scope);
        scope_release(scope);
    }
}

TEST(test_actor_and_scope_references_count_right_from_several_threads)
{
    struct actor *actor = actor_new("user:1", NULL);
    struct scope *scope = scope_new(NULL, 0);
    uv_thread_t threads[4];
    for (int i = 0; i < 4; i++)
        CHECK_EQUAL(uv_thread_create(&threads[i], i % 2 == 0 ? retain_and_release_actor : retain_and_release_scope,
                                     i % 2 == 0 ? (void *)actor : (void *)scope),
                    0);
    for (int i = 0; i < 4; i++)
        uv_thread_join(&threads[i]);
    CHECK_EQUAL(atomic_load(&actor->references), 1);
    CHECK_EQUAL(atomic_load(&scope->references), 1);
    actor_release(actor);
    scope_release(scope);
}

/* Errors holding errors in deeply nested details: each level rebuilds
 * recursively, so a chain past the bound would exhaust the C stack. */
static const char nested_errors[] =
    "local e = errors.new('level 1') "
    "for n = 2, levels do local t = {e = e} for i = 1, 120 do t = {t} end "
    "  e = errors.new{message = 'level ' .. n, details = t} end "
    "return e";

TEST(test_transports_refuse_errors_nested_too_deeply)
{
    lua_State *from = open_state(luaL_newstate()), *to = open_state(luaL_newstate());
    lua_pushinteger(from, ERROR_VALUE_MAX_NESTING);
    lua_setglobal(from, "levels");
    struct wippy_error error;
    CHECK(evaluate(from, nested_errors));
    CHECK_EQUAL(carry(from, to, &error), WIPPY_OK);
    char deepest[64];
    snprintf(deepest, sizeof deepest, "level 1 found %d levels down", ERROR_VALUE_MAX_NESTING);
    CHECK_STRING(check_in(to, "return function(e) local levels = 1 "
                              "while e:details() do local t = e:details() while t.e == nil do t = t[1] end "
                              "  e, levels = t.e, levels + 1 end "
                              "return tostring(e) .. ' found ' .. levels .. ' levels down' end"),
                 deepest);
    lua_pushinteger(from, ERROR_VALUE_MAX_NESTING + 1);
    lua_setglobal(from, "levels");
    CHECK(evaluate(from, nested_errors));
    CHECK(carry(from, to, &error) < 0);
    CHECK_CONTAINS(error.message, "errors nested in one another's details");
    lua_close(from);
    lua_close(to);
}
