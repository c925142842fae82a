/* terminal.c - see terminal.h. */
#include "terminal/terminal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/memory.h"
#include "util/read_buffer.h"

/* Standard input, shared by every reader of the runtime. */
struct terminal_input {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tty_t tty;
        uv_pipe_t pipe;
    } source; /* first, so the handle is the input; valid only when is_stream */
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
    terminal_deliver_fn deliver; /* the waiting reader, or NULL */
    void *deliver_context;
    bool waiter_wants_line;
    size_t waiter_bytes;
    uv_loop_t *loop;
};

struct terminal {
    uv_loop_t *loop;
    char **arguments;
    int argument_count;
    struct terminal_input *input; /* opened on the first read */
};

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

/* Delivers what the request wants if it is available; returns whether it
 * did. */
static bool take_input(struct terminal_input *input, bool want_line, size_t bytes,
                       terminal_deliver_fn deliver, void *context)
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
            deliver(context, NULL, 0);
            return true;
        } else {
            return false;
        }
        deliver(context, input->buffer, line_length);
        memmove(input->buffer, input->buffer + take, input->length - take);
        input->length -= take;
        return true;
    }
    if (input->length == 0) {
        if (!input->end_of_input)
            return false;
        deliver(context, NULL, 0);
        return true;
    }
    size_t take = input->length < bytes ? input->length : bytes;
    deliver(context, input->buffer, take);
    memmove(input->buffer, input->buffer + take, input->length - take);
    input->length -= take;
    return true;
}

static void stop_reading(struct terminal_input *input);

static void satisfy_waiter(struct terminal_input *input)
{
    terminal_deliver_fn deliver = input->deliver;
    if (deliver == NULL)
        return;
    /* the reader is forgotten first: delivering may start the next read */
    input->deliver = NULL;
    if (!take_input(input, input->waiter_wants_line, input->waiter_bytes, deliver,
                    input->deliver_context)) {
        input->deliver = deliver;
        return;
    }
    if (input->deliver == NULL)
        stop_reading(input);
}

static void stream_read(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer)
{
    struct terminal_input *input = (struct terminal_input *)stream;
    if (count > 0)
        append_input(input, buffer->base, (size_t)count);
    else if (count < 0)
        input->end_of_input = true;
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
    if (input->deliver != NULL)
        start_file_read(input);
}

static void start_file_read(struct terminal_input *input)
{
    if (input->reading || input->end_of_input)
        return;
    input->reading = true;
    uv_buf_t buffer = uv_buf_init(input->file_buffer, sizeof input->file_buffer);
    input->file_request.data = input;
    if (uv_fs_read(input->loop, &input->file_request, STDIN_FILENO, &buffer, 1, input->file_offset,
                   file_read_done) < 0) {
        input->reading = false;
        input->end_of_input = true; /* standard input cannot be read: it has ended */
        satisfy_waiter(input);
    }
}

static void start_reading(struct terminal_input *input)
{
    if (!input->is_stream) {
        start_file_read(input);
        return;
    }
    if (!input->reading && !input->end_of_input) {
        input->reading = true;
        uv_read_start(&input->source.stream, read_buffer_allocate, stream_read);
    }
}

static void stop_reading(struct terminal_input *input)
{
    if (input->is_stream && input->reading) {
        uv_read_stop(&input->source.stream);
        input->reading = false;
    }
}

static struct terminal_input *open_input(uv_loop_t *loop)
{
    struct terminal_input *input = xcalloc(1, sizeof *input);
    uv_handle_type type = uv_guess_handle(STDIN_FILENO);
    int rc = -1;
    if (type == UV_TTY) {
        rc = uv_tty_init(loop, &input->source.tty, STDIN_FILENO, 1);
        input->is_stream = true;
    } else if (type == UV_NAMED_PIPE || type == UV_TCP) {
        rc = uv_pipe_init(loop, &input->source.pipe, 0);
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
    input->loop = loop;
    return input;
}

static struct terminal_input *input_of(struct terminal *terminal)
{
    if (terminal->input == NULL)
        terminal->input = open_input(terminal->loop);
    return terminal->input;
}

struct terminal *terminal_new(uv_loop_t *loop, char **arguments, int argument_count)
{
    struct terminal *terminal = xcalloc(1, sizeof *terminal);
    terminal->loop = loop;
    terminal->arguments = arguments;
    terminal->argument_count = argument_count;
    return terminal;
}

int terminal_argument_count(const struct terminal *terminal)
{
    return terminal->argument_count;
}

const char *terminal_argument(const struct terminal *terminal, int index)
{
    return index >= 0 && index < terminal->argument_count ? terminal->arguments[index] : NULL;
}

bool terminal_take(struct terminal *terminal, bool want_line, size_t bytes,
                   terminal_deliver_fn deliver, void *context)
{
    return take_input(input_of(terminal), want_line, bytes, deliver, context);
}

bool terminal_wait(struct terminal *terminal, bool want_line, size_t bytes,
                   terminal_deliver_fn deliver, void *context)
{
    struct terminal_input *input = input_of(terminal);
    if (input->deliver != NULL)
        return false;
    input->deliver = deliver;
    input->deliver_context = context;
    input->waiter_wants_line = want_line;
    input->waiter_bytes = bytes;
    start_reading(input);
    return true;
}

void terminal_wait_cancel(struct terminal *terminal)
{
    struct terminal_input *input = terminal->input;
    if (input == NULL)
        return;
    input->deliver = NULL;
    stop_reading(input);
}

static void close_stream_input(uv_handle_t *handle)
{
    free_input((struct terminal_input *)handle);
}

void terminal_close(struct terminal *terminal)
{
    if (terminal == NULL)
        return;
    struct terminal_input *input = terminal->input;
    free(terminal);
    if (input == NULL)
        return;
    input->deliver = NULL;
    if (input->is_stream)
        uv_close(&input->source.handle, close_stream_input);
    else if (input->reading)
        input->closing = true; /* file_read_done frees it */
    else
        free_input(input);
}
