/* message.c - a Lua value as bytes: one tag per value, tables as
 * key/value pairs up to an end tag, a later visit of a table or a shared
 * value as a reference to its number (both are numbered in the order they
 * are first met). A shared value is its transport's address and what
 * export gave. */
#include "vm/message.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"
#include "vm/heap.h"
#include "vm/state.h"

#define MESSAGE_MAX_DEPTH 128

enum tag {
    TAG_NIL,
    TAG_FALSE,
    TAG_TRUE,
    TAG_INTEGER,
    TAG_FLOAT,
    TAG_STRING,
    TAG_TABLE,
    TAG_END,
    TAG_REFERENCE,
    TAG_SHARED,
    TAG_LONG_STRING, /* numbered like a table: met again, it is a reference */
    TAG_STAND_IN,    /* then the Lua type of what it stands in for */
};

/* What a value that cannot cross to another thread's VM becomes there (see
 * message_cross_thread_begin), so that whatever receives it refuses it as
 * it refuses such a value from its own thread. */

static _Thread_local int crossing_threads;

void message_cross_thread_begin(void) { crossing_threads++; }
void message_cross_thread_end(void) { crossing_threads--; }

static int put_stand_in(struct message *message, int type, struct wippy_error *error);

/* A string at least this long travels once however often it is met, and
 * arrives as one string, as a copy within one heap shares it. */
#define MESSAGE_SHARED_STRING 32

struct message {
    uint8_t *bytes;
    size_t length;
    size_t capacity;
    size_t max_bytes;
    size_t table_count;
    size_t shared_count; /* shared values not yet imported */
    size_t exported_bytes; /* what their exports hold (state_transport.bytes) */
    uint8_t first_bytes[32]; /* bytes until it outgrows them: most messages are a number or a short string */
};

/* Tables seen while taking: their address to their number. */
struct seen {
    const void **keys;
    size_t *numbers;
    size_t capacity;
    size_t count;
};

/* ---- writing ---- */

/* A take and every take nested in it (a payload's or an error's export
 * takes its value as a message of its own, copying it again) draw on one
 * room: what the account paying at the moment may still hold (heap_room).
 * So a value cannot make the runtime copy more than its payer could pay
 * for, whatever it is charged once the message stands. */
static _Thread_local int take_depth;
static _Thread_local size_t take_room;

/* A state of the runtime's heaps allocates through heap_allocate, its
 * context the VM; any other state (a unit test's) has no limit. */
static size_t room_of(lua_State *L)
{
    void *context = NULL;
    return lua_getallocf(L, &context) == heap_allocate ? heap_room(context) : SIZE_MAX;
}

static int grow(struct message *message, size_t more, struct wippy_error *error)
{
    size_t needed = message->length + more;
    if (message->max_bytes > 0 && needed > message->max_bytes)
        return error_set(error, WIPPY_ENOMEM, "the value is larger than %zu bytes", message->max_bytes);
    if (needed > message->capacity) {
        size_t capacity = message->capacity > 0 ? message->capacity : 64;
        while (capacity < needed)
            capacity *= 2;
        bool first = message->bytes == message->first_bytes;
        size_t charge = first ? capacity : capacity - message->capacity; /* the bytes inside are no allocation */
        if (take_room != SIZE_MAX && charge > take_room)
            return error_set(error, WIPPY_ENOMEM, "not enough memory");
        if (take_room != SIZE_MAX)
            take_room -= charge;
        uint8_t *bytes = realloc(first ? NULL : message->bytes, capacity);
        if (bytes == NULL)
            return error_set(error, WIPPY_ENOMEM, "not enough memory for a message of %zu bytes", needed);
        if (first)
            memcpy(bytes, message->first_bytes, message->length);
        message->bytes = bytes;
        message->capacity = capacity;
    }
    return WIPPY_OK;
}

static int put(struct message *message, const void *data, size_t length, struct wippy_error *error)
{
    if (grow(message, length, error) < 0)
        return error->code;
    memcpy(message->bytes + message->length, data, length);
    message->length += length;
    return WIPPY_OK;
}

static int put_tag(struct message *message, enum tag tag, struct wippy_error *error)
{
    uint8_t byte = (uint8_t)tag;
    return put(message, &byte, 1, error);
}

static int put_size(struct message *message, size_t size, struct wippy_error *error)
{
    uint64_t value = size;
    return put(message, &value, sizeof value, error);
}

static size_t *seen_slot(struct seen *seen, const void *key, bool *found)
{
    if ((seen->count + 1) * 2 > seen->capacity) {
        struct seen bigger = {.capacity = seen->capacity > 0 ? seen->capacity * 2 : 16};
        bigger.keys = xcalloc(bigger.capacity, sizeof *bigger.keys);
        bigger.numbers = xcalloc(bigger.capacity, sizeof *bigger.numbers);
        for (size_t i = 0; i < seen->capacity; i++) {
            if (seen->keys[i] == NULL)
                continue;
            bool ignored;
            *seen_slot(&bigger, seen->keys[i], &ignored) = seen->numbers[i];
            bigger.count++;
        }
        free(seen->keys);
        free(seen->numbers);
        *seen = bigger;
    }
    size_t mask = seen->capacity - 1;
    size_t i = ((uintptr_t)key >> 4) * 0x9E3779B97F4A7C15u & mask;
    while (seen->keys[i] != NULL && seen->keys[i] != key)
        i = (i + 1) & mask;
    *found = seen->keys[i] != NULL;
    if (!*found) {
        seen->keys[i] = key;
        seen->count++;
    }
    return &seen->numbers[i];
}

static int take_value(lua_State *L, int index, struct message *message, struct seen *seen, int depth,
                      struct wippy_error *error);

/* A table or shared value met the first time gets the next number (*first
 * true); met again, a reference to its number is written (error->code is
 * WIPPY_OK then, or the failure). */
static int meet(lua_State *L, int index, struct message *message, struct seen *seen, bool *first,
                struct wippy_error *error)
{
    bool found;
    size_t *number = seen_slot(seen, lua_topointer(L, index), &found);
    *first = !found;
    error->code = WIPPY_OK;
    if (!found) {
        *number = message->table_count++;
        return WIPPY_OK;
    }
    size_t reference = *number;
    if (put_tag(message, TAG_REFERENCE, error) < 0 || put_size(message, reference, error) < 0)
        return error->code;
    return WIPPY_OK;
}

static int put_stand_in(struct message *message, int type, struct wippy_error *error)
{
    if (put_tag(message, TAG_STAND_IN, error) < 0)
        return error->code;
    return put_tag(message, (enum tag)type, error);
}

static int take_shared(lua_State *L, int index, struct message *message, struct seen *seen,
                       struct wippy_error *error)
{
    /* a value met again is a reference, so it arrives as one object */
    bool first;
    if (meet(L, index, message, seen, &first, error) < 0 || !first)
        return error->code;
    const struct state_transport *transport = state_transport_of(L, index);
    if (crossing_threads > 0 && transport == NULL)
        return put_stand_in(message, LUA_TUSERDATA, error);
    if (transport == NULL)
        return error_set(error, WIPPY_EINVAL, "cannot pass a %s between processes", luaL_typename(L, index));
    state_share_fn share;
    if (state_sharing_of(L, index, &share) == STATE_SHARED && share != NULL && share(L, index, error) < 0)
        return error->code;
    if (grow(message, 1 + 2 * sizeof(void *), error) < 0)
        return error->code;
    void *exported = NULL;
    if (transport->export(L, index, &exported, error) < 0)
        return error->code;
    put_tag(message, TAG_SHARED, error);
    put(message, &transport, sizeof transport, error);
    put(message, &exported, sizeof exported, error);
    message->shared_count++;
    if (transport->bytes != NULL)
        message->exported_bytes += transport->bytes(exported);
    return WIPPY_OK;
}

static int take_table(lua_State *L, int index, struct message *message, struct seen *seen, int depth,
                      struct wippy_error *error)
{
    bool first;
    if (meet(L, index, message, seen, &first, error) < 0 || !first)
        return error->code;
    if (depth > MESSAGE_MAX_DEPTH)
        return error_set(error, WIPPY_EINVAL, "cannot pass a table nested deeper than %d levels",
                         MESSAGE_MAX_DEPTH);
    if (!lua_checkstack(L, 4))
        return error_set(error, WIPPY_ENOMEM, "out of Lua stack space while copying a table");
    size_t array = lua_rawlen(L, index);
    if (put_tag(message, TAG_TABLE, error) < 0 || put_size(message, array, error) < 0)
        return error->code;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        int value = lua_gettop(L);
        if (take_value(L, value - 1, message, seen, depth + 1, error) < 0 ||
            take_value(L, value, message, seen, depth + 1, error) < 0) {
            lua_pop(L, 2);
            return error->code;
        }
        lua_pop(L, 1);
    }
    return put_tag(message, TAG_END, error);
}

static int take_value(lua_State *L, int index, struct message *message, struct seen *seen, int depth,
                      struct wippy_error *error)
{
    index = lua_absindex(L, index);
    switch (lua_type(L, index)) {
    case LUA_TNIL:
        return put_tag(message, TAG_NIL, error);
    case LUA_TBOOLEAN:
        return put_tag(message, lua_toboolean(L, index) ? TAG_TRUE : TAG_FALSE, error);
    case LUA_TNUMBER:
        if (lua_isinteger(L, index)) {
            lua_Integer integer = lua_tointeger(L, index);
            if (put_tag(message, TAG_INTEGER, error) < 0)
                return error->code;
            return put(message, &integer, sizeof integer, error);
        } else {
            lua_Number number = lua_tonumber(L, index);
            if (put_tag(message, TAG_FLOAT, error) < 0)
                return error->code;
            return put(message, &number, sizeof number, error);
        }
    case LUA_TSTRING: {
        size_t length;
        const char *text = lua_tolstring(L, index, &length);
        bool first = true;
        if (length >= MESSAGE_SHARED_STRING && (meet(L, index, message, seen, &first, error) < 0 || !first))
            return error->code;
        enum tag tag = length >= MESSAGE_SHARED_STRING ? TAG_LONG_STRING : TAG_STRING;
        if (put_tag(message, tag, error) < 0 || put_size(message, length, error) < 0)
            return error->code;
        return put(message, text, length, error);
    }
    case LUA_TTABLE:
        return take_table(L, index, message, seen, depth, error);
    case LUA_TUSERDATA:
        return take_shared(L, index, message, seen, error);
    default:
        if (crossing_threads > 0 && lua_type(L, index) != LUA_TLIGHTUSERDATA)
            return put_stand_in(message, lua_type(L, index), error);
        return error_set(error, WIPPY_EINVAL, "cannot pass a %s between processes", luaL_typename(L, index));
    }
}

struct take_call {
    struct message *message;
    struct seen seen;
    struct wippy_error *error;
    int rc;
};

/* Taking nil, a boolean, a number or a string raises nothing, so it needs
 * no protected call. */
static bool is_plain(lua_State *L, int index)
{
    int type = lua_type(L, index);
    return type == LUA_TNIL || type == LUA_TBOOLEAN || type == LUA_TNUMBER || type == LUA_TSTRING;
}

/* Run protected: a share hook or an export may raise (Lua's memory). */
static int take_protected(lua_State *L)
{
    struct take_call *call = lua_touserdata(L, 1);
    call->rc = take_value(L, 2, call->message, &call->seen, 0, call->error);
    return 0;
}

struct message *message_take(lua_State *L, int index, size_t max_bytes, struct wippy_error *error)
{
    index = lua_absindex(L, index);
    struct take_call call = {.error = error};
    call.message = xcalloc(1, sizeof *call.message);
    call.message->max_bytes = max_bytes;
    call.message->bytes = call.message->first_bytes;
    call.message->capacity = sizeof call.message->first_bytes;
    if (take_depth++ == 0)
        take_room = room_of(L);
    int top = lua_gettop(L);
    if (is_plain(L, index)) {
        call.rc = take_value(L, index, call.message, &call.seen, 0, error);
    } else if (!lua_checkstack(L, 4)) {
        call.rc = error_set(error, WIPPY_ENOMEM, "out of Lua stack space for a message");
    } else {
        lua_pushcfunction(L, take_protected);
        lua_pushlightuserdata(L, &call);
        lua_pushvalue(L, index);
        if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
            const char *reason = lua_tostring(L, -1);
            call.rc = error_set(error, WIPPY_ENOMEM, "%s", reason != NULL ? reason : "not enough memory");
        }
    }
    lua_settop(L, top);
    take_depth--;
    free(call.seen.keys);
    free(call.seen.numbers);
    if (call.rc < 0) {
        message_free(call.message);
        return NULL;
    }
    return call.message;
}

size_t message_bytes(const struct message *message)
{
    return message->length;
}

size_t message_held_bytes(const struct message *message)
{
    return message->length + message->exported_bytes;
}

/* ---- reading ---- */

struct reader {
    const struct message *message;
    size_t at;
    size_t unread; /* the tag of the first value not yet rebuilt: what a failure must release from */
    int tables; /* index of the table of rebuilt tables, by number */
    lua_Integer next_table;
};

static uint8_t get_tag(struct reader *reader)
{
    return reader->message->bytes[reader->at++];
}

static void get(struct reader *reader, void *out, size_t length)
{
    memcpy(out, reader->message->bytes + reader->at, length);
    reader->at += length;
}

static size_t get_size(struct reader *reader)
{
    uint64_t value;
    get(reader, &value, sizeof value);
    return (size_t)value;
}

/* One import, run protected: a transport takes over what export gave only
 * when import returns WIPPY_OK; if it raises or fails, the message gives it
 * back. */
struct import_call {
    const struct state_transport *transport;
    void *exported;
    struct wippy_error error;
    int rc;
};

static int import_protected(lua_State *L)
{
    struct import_call *call = lua_touserdata(L, 1);
    call->rc = call->transport->import(L, call->exported, &call->error);
    if (call->rc < 0)
        lua_pushnil(L);
    return 1;
}

static int run_elsewhere(lua_State *L)
{
    return luaL_error(L, "a function of another scheduler thread cannot run here");
}

/* A value of another thread's VM that could not cross: a function that
 * raises, a coroutine, or a userdata of no type, which whatever receives
 * it refuses as it refuses such a value of its own. */
static void push_stand_in(lua_State *L, int type)
{
    if (type == LUA_TFUNCTION)
        lua_pushcfunction(L, run_elsewhere);
    else if (type == LUA_TTHREAD)
        lua_newthread(L);
    else
        lua_newuserdatauv(L, 0, 0);
}

/* Pushes the next value (the message was written by message_take, so it is
 * well formed). Raises on memory errors: called under lua_pcall. */
static void push_value(lua_State *L, struct reader *reader)
{
    reader->unread = reader->at;
    luaL_checkstack(L, 4, "message nested too deeply");
    uint8_t tag = get_tag(reader);
    switch (tag) {
    case TAG_NIL:
        lua_pushnil(L);
        return;
    case TAG_FALSE:
    case TAG_TRUE:
        lua_pushboolean(L, tag == TAG_TRUE);
        return;
    case TAG_INTEGER: {
        lua_Integer integer;
        get(reader, &integer, sizeof integer);
        lua_pushinteger(L, integer);
        return;
    }
    case TAG_FLOAT: {
        lua_Number number;
        get(reader, &number, sizeof number);
        lua_pushnumber(L, number);
        return;
    }
    case TAG_STRING:
    case TAG_LONG_STRING: {
        size_t length = get_size(reader);
        lua_pushlstring(L, (const char *)reader->message->bytes + reader->at, length);
        reader->at += length;
        if (tag == TAG_LONG_STRING) { /* numbered with the tables, for later references */
            lua_pushvalue(L, -1);
            lua_rawseti(L, reader->tables, ++reader->next_table);
        }
        return;
    }
    case TAG_REFERENCE:
        lua_rawgeti(L, reader->tables, (lua_Integer)get_size(reader) + 1);
        return;
    case TAG_SHARED: {
        struct import_call call;
        get(reader, &call.transport, sizeof call.transport);
        get(reader, &call.exported, sizeof call.exported);
        reader->unread = reader->at; /* from here the value is this function's to give back */
        lua_pushcfunction(L, import_protected);
        lua_pushlightuserdata(L, &call);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
            call.transport->release(call.exported);
            lua_error(L);
        }
        if (call.rc < 0) {
            lua_pop(L, 1);
            call.transport->release(call.exported);
            luaL_error(L, "%s", call.error.message);
        }
        lua_pushvalue(L, -1); /* numbered with the tables, for later references */
        lua_rawseti(L, reader->tables, ++reader->next_table);
        return;
    }
    case TAG_TABLE: {
        /* the sender's length is a hint: no more than the entries written
         * (an integer key and a value take at least ten bytes) are made
         * room for */
        size_t array = get_size(reader);
        size_t most = (reader->message->length - reader->at) / 10;
        lua_createtable(L, (int)(array < most ? array : most), 0);
        lua_pushvalue(L, -1);
        lua_rawseti(L, reader->tables, ++reader->next_table);
        while (reader->message->bytes[reader->at] != TAG_END) {
            push_value(L, reader);
            push_value(L, reader);
            lua_rawset(L, -3);
        }
        reader->at++;
        return;
    }
    case TAG_STAND_IN: {
        int type = get_tag(reader);
        push_stand_in(L, type);
        if (type == LUA_TUSERDATA) { /* numbered when taken (take_shared), for later references */
            lua_pushvalue(L, -1);
            lua_rawseti(L, reader->tables, ++reader->next_table);
        }
        return;
    }
    default:
        luaL_error(L, "internal error: a message with tag %d", tag); /* never written */
    }
}

/* Calls visit with each shared value's transport and export from `from`
 * on. A message cut short (its bound reached in the middle of a value)
 * ends where its bytes do. */
static void each_shared(const struct message *message, size_t from,
                        bool (*visit)(const struct state_transport *, void *, void *), void *context)
{
    size_t at = from;
    while (at < message->length) {
        uint8_t tag = message->bytes[at++];
        size_t room = message->length - at;
        switch (tag) {
        case TAG_INTEGER:
        case TAG_FLOAT:
        case TAG_TABLE:
        case TAG_REFERENCE:
            at += 8;
            break;
        case TAG_STRING:
        case TAG_LONG_STRING: {
            uint64_t length;
            if (room < sizeof length)
                return;
            memcpy(&length, message->bytes + at, sizeof length);
            if (length > room - sizeof length)
                return;
            at += sizeof length + length;
            break;
        }
        case TAG_STAND_IN:
            at += 1;
            break;
        case TAG_SHARED: {
            if (room < sizeof(void *) * 2)
                return;
            const struct state_transport *transport;
            void *exported;
            memcpy(&transport, message->bytes + at, sizeof transport);
            memcpy(&exported, message->bytes + at + sizeof transport, sizeof exported);
            at += sizeof transport + sizeof exported;
            if (!visit(transport, exported, context))
                return;
            break;
        }
        default:
            break;
        }
    }
}

static bool release_one(const struct state_transport *transport, void *exported, void *context)
{
    (void)context;
    transport->release(exported);
    return true;
}

static void release_shared(const struct message *message, size_t from)
{
    each_shared(message, from, release_one, NULL);
}

struct each_export {
    const struct state_transport *transport;
    void (*visit)(void *exported, void *context);
    void *context;
};

static bool visit_one(const struct state_transport *transport, void *exported, void *context)
{
    struct each_export *each = context;
    if (transport == each->transport)
        each->visit(exported, each->context);
    return true;
}

void message_each_export(const struct message *message, const struct state_transport *transport,
                         void (*visit)(void *exported, void *context), void *context)
{
    struct each_export each = {transport, visit, context};
    if (message->shared_count > 0)
        each_shared(message, 0, visit_one, &each);
}

static void free_bytes(struct message *message)
{
    if (message->bytes != message->first_bytes)
        free(message->bytes);
    free(message);
}

void message_free(struct message *message)
{
    if (message == NULL)
        return;
    if (message->shared_count > 0)
        release_shared(message, 0);
    free_bytes(message);
}

static int push_protected(lua_State *L)
{
    struct reader *reader = lua_touserdata(L, 1);
    if (reader->message->table_count > 0) { /* tables, long strings and shared values are numbered */
        lua_newtable(L);
        reader->tables = lua_gettop(L);
    }
    push_value(L, reader);
    return 1;
}

/* nil, a boolean or a number: pushing it cannot raise. */
static bool push_plain(lua_State *L, const struct message *message)
{
    if (message->length == 0)
        return false;
    struct reader reader = {.message = message};
    switch (message->bytes[0]) {
    case TAG_NIL:
    case TAG_FALSE:
    case TAG_TRUE:
    case TAG_INTEGER:
    case TAG_FLOAT:
        push_value(L, &reader);
        return true;
    default:
        return false;
    }
}

int message_push(lua_State *L, struct message *message, struct wippy_error *error)
{
    struct reader reader = {.message = message};
    if (!lua_checkstack(L, 4)) {
        message_free(message);
        return error_set(error, WIPPY_ENOMEM, "out of Lua stack space for a message");
    }
    if (push_plain(L, message)) {
        free_bytes(message);
        return WIPPY_OK;
    }
    lua_pushcfunction(L, push_protected);
    lua_pushlightuserdata(L, &reader);
    int rc = lua_pcall(L, 1, 1, 0);
    if (rc != LUA_OK) {
        const char *reason = lua_tostring(L, -1);
        error_set(error, rc == LUA_ERRMEM ? WIPPY_ENOMEM : WIPPY_EINVAL, "%s",
                  reason != NULL ? reason : "not enough memory");
        lua_pop(L, 1);
        if (message->shared_count > 0)
            release_shared(message, reader.unread);
        free_bytes(message);
        return error->code;
    }
    free_bytes(message);
    return WIPPY_OK;
}
