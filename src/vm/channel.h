/* channel.h - Go-style channels between tasks: buffered or not, closable,
 * with select over several of them. Values sent on a channel that other
 * processes can reach are copied (vm/transfer.h).
 * The runtime also feeds channels from C (inboxes, events, timers). */
#ifndef WIPPY_VM_CHANNEL_H
#define WIPPY_VM_CHANNEL_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#define CHANNEL_UNBOUNDED ((size_t)-1)

struct channel;
struct vm;

/* Pushes a new channel userdata with the given capacity (0 = unbuffered). */
struct channel *channel_push_new(lua_State *L, size_t capacity);

/* Marks a channel only the runtime fills (a process's inbox and events):
 * Lua's send and select's send cases on it raise, so what waits in it is
 * always what the runtime put there. */
void channel_set_runtime_filled(struct channel *channel);

/* Returns the channel at index, or raises a Lua error. */
struct channel *channel_check(lua_State *L, int index);

/* Delivers the value on top of L (popped) to the channel at channel_index
 * without blocking: to a waiting receiver, or into the buffer. The value is
 * not copied: the caller passes one nobody else holds. Returns false when
 * the channel is closed or full (the value is dropped). */
bool channel_offer(lua_State *L, int channel_index);

/* Registers the channel type. A channel is private to the process that made
 * it (its coroutines pass values by reference, as in Wippy) until it crosses
 * to another process: from then on values sent on it are copied, and the
 * values already waiting in it are copied as it crosses (a channel holding
 * one that cannot leave its process cannot cross). */
void channel_register_type(lua_State *L);

/* channel.new([size]) and channel.select(cases), for the channel module. */
int channel_new_function(lua_State *L);
int channel_select_function(lua_State *L);

/* Frees the shared channels that only messages buffered in each other hold
 * (A carries B, B carries A, and no userdata points at either). maybe runs
 * it once enough channels were left without userdata to make the look
 * worth it; the scheduler calls it between tasks, vm_free at the end. */
void channel_collect_cycles(struct vm *vm);
void channel_maybe_collect_cycles(struct vm *vm);

/* Closes the channel at index (receivers get nil, false). */
void channel_close(lua_State *L, int index);

#endif
