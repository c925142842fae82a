/* terminal.h - the terminal a command runs on: its arguments and standard
 * input, read through libuv (a stream, or a regular file through the thread
 * pool) so that a reader waiting for a line never blocks the loop. One
 * reader waits at a time. */
#ifndef WIPPY_TERMINAL_TERMINAL_H
#define WIPPY_TERMINAL_TERMINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct terminal;

/* Gets what a read asked for: a line (without its line ending) or up to the
 * bytes asked for; data is NULL at the end of input. data is valid only
 * during the call. */
typedef void (*terminal_deliver_fn)(void *context, const char *data, size_t length);

/* A terminal on loop; arguments (not copied) must outlive it. Standard input
 * is opened on the first read. */
struct terminal *terminal_new(uv_loop_t *loop, char **arguments, int argument_count);
/* Stops reading and frees the terminal (a file read in flight frees its
 * part when it completes). A waiting reader is never called. */
void terminal_close(struct terminal *terminal);

int terminal_argument_count(const struct terminal *terminal);
const char *terminal_argument(const struct terminal *terminal, int index);

/* Delivers at once when what the read asks for is already buffered (or the
 * input has ended) and returns true; returns false, calling nothing,
 * otherwise. */
bool terminal_take(struct terminal *terminal, bool want_line, size_t bytes,
                   terminal_deliver_fn deliver, void *context);

/* Starts reading until the read can be delivered (deliver is then called
 * once, later). Returns false when another reader is already waiting. */
bool terminal_wait(struct terminal *terminal, bool want_line, size_t bytes,
                   terminal_deliver_fn deliver, void *context);

/* Forgets the waiting reader (deliver will not be called) and stops reading. */
void terminal_wait_cancel(struct terminal *terminal);

#endif
