/* mod_io.c - the io module for terminal programs: print, write, eprint,
 * flush, readline, read, args. Standard input is read through libuv, so a
 * process waiting for a line never holds up the others. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua/host.h"
#include "runtime/runtime.h"
#include "util/memory.h"

/* Standard input, shared by every reader of the runtime. */
struct terminal_input {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tty_t tty;
        uv_pipe_t pipe;
    } source; /* valid only when is_stream */
    bool is_stream;
    bool closing;
    bool end_of_input;
    bool reading;
    uv_fs_t file_request;
    char file_buffer[4096];
    int64_t file_offset;
    char *buffer;
    size_t length;
    size_t capacity;
    struct task *waiter;   /* one pending reader at a time */
    bool waiter_wants_line;
    uv_loop_t *loop;
    size_t waiter_bytes;
};

static int write_values(lua_State *L, FILE *stream, const char *separator, const char *ending)
{
    int count = lua_gettop(L);
    for (int i = 1; i <= count; i++) {
        size_t length;
        const char *text = luaL_tolstring(L, i, &length);
        if (i > 1 && separator != NULL)
            fputs(separator, stream);
        fwrite(text, 1, length, stream);
        lua_pop(L, 1);
    }
    if (ending != NULL)
        fputs(ending, stream);
    if (fflush(stream) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "write failed");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int io_print(lua_State *L) { return write_values(L, stdout, "\t", "\n"); }
static int io_write(lua_State *L) { return write_values(L, stdout, NULL, NULL); }
static int io_eprint(lua_State *L) { return write_values(L, stderr, "\t", "\n"); }

static int io_flush(lua_State *L)
{
    fflush(stdout);
    lua_pushboolean(L, 1);
    return 1;
}

static int io_args(lua_State *L)
{
    struct runtime *runtime = lua_host_runtime(L);
    lua_createtable(L, runtime->argument_count, 0);
    for (int i = 0; i < runtime->argument_count; i++) {
        lua_pushstring(L, runtime->arguments[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* ---- reading ---- */

static void append_input(struct terminal_input *input, const char *data, size_t length)
{
    if (input->length + length > input->capacity) {
        input->capacity = (input->length + length) * 2 + 256;
        input->buffer = xrealloc(input->buffer, input->capacity);
    }
    memcpy(input->buffer + input->length, data, length);
    input->length += length;
}

/* Pushes what the request wants onto L if it is available; returns the
 * number of values pushed (0: not yet). */
static int take_input(lua_State *L, struct terminal_input *input, bool want_line, size_t bytes)
{
    if (want_line) {
        char *newline = input->length > 0 ? memchr(input->buffer, '\n', input->length) : NULL;
        size_t take;
        size_t line_length;
        if (newline != NULL) {
            line_length = (size_t)(newline - input->buffer);
            take = line_length + 1;
            if (line_length > 0 && input->buffer[line_length - 1] == '\r')
                line_length--;
        } else if (input->end_of_input && input->length > 0) {
            line_length = take = input->length;
        } else if (input->end_of_input) {
            lua_pushnil(L);
            lua_pushliteral(L, "EOF");
            return 2;
        } else {
            return 0;
        }
        lua_pushlstring(L, input->buffer, line_length);
        memmove(input->buffer, input->buffer + take, input->length - take);
        input->length -= take;
        return 1;
    }
    if (input->length == 0) {
        if (!input->end_of_input)
            return 0;
        lua_pushnil(L);
        lua_pushliteral(L, "EOF");
        return 2;
    }
    size_t take = input->length < bytes ? input->length : bytes;
    lua_pushlstring(L, input->buffer, take);
    memmove(input->buffer, input->buffer + take, input->length - take);
    input->length -= take;
    return 1;
}

static void stop_reading(struct terminal_input *input);

static void satisfy_waiter(struct terminal_input *input)
{
    struct task *task = input->waiter;
    if (task == NULL)
        return;
    int pushed = take_input(task->thread, input, input->waiter_wants_line, input->waiter_bytes);
    if (pushed == 0)
        return;
    input->waiter = NULL;
    stop_reading(input);
    task_wake(task, pushed);
}

static void allocate_read_buffer(uv_handle_t *handle, size_t suggested, uv_buf_t *buffer)
{
    buffer->base = xmalloc(suggested);
    buffer->len = suggested;
}

static void stream_read(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer)
{
    struct terminal_input *input = (struct terminal_input *)stream;
    if (count > 0)
        append_input(input, buffer->base, (size_t)count);
    else if (count < 0)
        input->end_of_input = true;
    free(buffer->base);
    satisfy_waiter(input);
}

static void start_file_read(struct terminal_input *input);

static void free_input(struct terminal_input *input)
{
    free(input->buffer);
    free(input);
}

static void file_read_done(uv_fs_t *request)
{
    struct terminal_input *input = request->data;
    ssize_t count = request->result;
    uv_fs_req_cleanup(request);
    input->reading = false;
    if (input->closing) {
        free_input(input);
        return;
    }
    if (count > 0) {
        append_input(input, input->file_buffer, (size_t)count);
        input->file_offset += count;
    } else {
        input->end_of_input = true;
    }
    satisfy_waiter(input);
    if (input->waiter != NULL)
        start_file_read(input);
}

static void start_file_read(struct terminal_input *input)
{
    if (input->reading || input->end_of_input)
        return;
    input->reading = true;
    uv_buf_t buffer = uv_buf_init(input->file_buffer, sizeof input->file_buffer);
    input->file_request.data = input;
    uv_fs_read(input->loop, &input->file_request, STDIN_FILENO, &buffer, 1,
               input->file_offset, file_read_done);
}

static void start_reading(struct terminal_input *input)
{
    if (!input->is_stream) {
        start_file_read(input);
        return;
    }
    if (!input->reading && !input->end_of_input) {
        input->reading = true;
        uv_read_start(&input->source.stream, allocate_read_buffer, stream_read);
    }
}

static void stop_reading(struct terminal_input *input)
{
    if (input->is_stream && input->reading) {
        uv_read_stop(&input->source.stream);
        input->reading = false;
    }
}

static struct terminal_input *terminal_input_get(struct runtime *runtime)
{
    if (runtime->terminal != NULL)
        return runtime->terminal;
    struct terminal_input *input = xcalloc(1, sizeof *input);
    uv_handle_type type = uv_guess_handle(STDIN_FILENO);
    int rc = -1;
    if (type == UV_TTY) {
        rc = uv_tty_init(runtime->loop, &input->source.tty, STDIN_FILENO, 1);
        input->is_stream = true;
    } else if (type == UV_NAMED_PIPE || type == UV_TCP) {
        rc = uv_pipe_init(runtime->loop, &input->source.pipe, 0);
        if (rc == 0)
            rc = uv_pipe_open(&input->source.pipe, STDIN_FILENO);
        input->is_stream = true;
    }
    if (rc != 0) {
        /* A regular file (or nothing usable): read through libuv's thread pool. */
        input->is_stream = false;
        if (type != UV_FILE)
            input->end_of_input = true;
    }
    input->loop = runtime->loop;
    runtime->terminal = input;
    return input;
}

static void cancel_read(struct task *task)
{
    struct terminal_input *input = task->wait_data;
    input->waiter = NULL;
    stop_reading(input);
}

static void close_stream_input(uv_handle_t *handle)
{
    free_input((struct terminal_input *)handle);
}

void lua_io_close(struct runtime *runtime)
{
    struct terminal_input *input = runtime->terminal;
    if (input == NULL)
        return;
    runtime->terminal = NULL;
    input->waiter = NULL;
    if (input->is_stream)
        uv_close(&input->source.handle, close_stream_input);
    else if (input->reading)
        input->closing = true; /* file_read_done frees it */
    else
        free_input(input);
}

static int read_input(lua_State *L, bool want_line, size_t bytes)
{
    struct task *task = task_current(L);
    struct terminal_input *input = terminal_input_get(task->runtime);
    int pushed = take_input(L, input, want_line, bytes);
    if (pushed > 0)
        return pushed;
    if (input->waiter != NULL) {
        lua_pushnil(L);
        lua_pushliteral(L, "another process is already reading standard input");
        return 2;
    }
    task_check_can_block(L, task, "io.readline");
    input->waiter = task;
    input->waiter_wants_line = want_line;
    input->waiter_bytes = bytes;
    start_reading(input);
    return task_wait(L, task, cancel_read, input, NULL, 0);
}

static int io_readline(lua_State *L)
{
    return read_input(L, true, 0);
}

static int io_read(lua_State *L)
{
    lua_Integer bytes = luaL_optinteger(L, 1, 1024);
    return read_input(L, false, bytes <= 0 ? 1024 : (size_t)bytes);
}

int lua_module_io(lua_State *L)
{
    static const luaL_Reg functions[] = {
        {"print", io_print},
        {"write", io_write},
        {"eprint", io_eprint},
        {"flush", io_flush},
        {"readline", io_readline},
        {"read", io_read},
        {"args", io_args},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
