/* message.h - a Lua value taken out of one Lua state into plain memory and
 * rebuilt in another: another heap, or a heap another thread runs. It
 * carries nil, booleans, numbers, strings, tables (a subtable reached twice
 * and cycles stay one table; metatables are dropped) and values of shared
 * types that have a transport (vm/state.h). Functions, coroutines, light
 * userdata and private userdata cannot travel. A message is plain bytes
 * owned by no Lua state, so any thread may hold it. */
#ifndef WIPPY_VM_MESSAGE_H
#define WIPPY_VM_MESSAGE_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct state_transport;

struct message;

/* Takes the value at index of L, which is left as it was. max_bytes bounds
 * the message (0: no bound). NULL with error set when the value cannot
 * travel or is too large. */
struct message *message_take(lua_State *L, int index, size_t max_bytes, struct wippy_error *error);

/* Pushes the message's value onto L (any state) and frees the message.
 * On failure (L's memory limit, a transport refusing) pushes nothing,
 * frees the message all the same, and returns the error's code. */
int message_push(lua_State *L, struct message *message, struct wippy_error *error);

/* Between begin and end, on the calling thread, a value that cannot cross
 * to another thread's VM (a function, a coroutine, a private userdata, a
 * value of a thread-bound type) is taken as a stand-in, so that the
 * receiver refuses it where it would refuse the value itself (vm/remote.h). */
void message_cross_thread_begin(void);
void message_cross_thread_end(void);

/* The bytes the message holds itself (what rebuilding it costs, roughly). */
size_t message_bytes(const struct message *message);

/* The same with what the exports of its shared values hold outside it (a
 * payload's copy of its value): what holding the message costs. */
size_t message_held_bytes(const struct message *message);

/* Calls visit with the export of each shared value of the message whose
 * transport is `transport` (values nested in another's export are not
 * seen). */
void message_each_export(const struct message *message, const struct state_transport *transport,
                         void (*visit)(void *exported, void *context), void *context);

/* Frees a message that is never pushed (its shared values released). */
void message_free(struct message *message);

#endif
