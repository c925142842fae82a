/* state.h - one heap's Lua state: compiled entries, the environment each
 * task runs in, read-only views, and userdata types that say how their
 * values cross between processes and heaps. */
#ifndef WIPPY_VM_STATE_H
#define WIPPY_VM_STATE_H

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct entry;
struct vm;
struct vm_heap;

/* Reads the text of every Lua entry of the registry (with Wippy's types
 * erased) and checks their modules lists against the VM's modules: the
 * only disk reads; heaps compile from these texts. */
int state_read_sources(struct vm *vm, struct wippy_error *error);
void state_free_sources(struct vm *vm);

/* Opens heap->lua with the standard libraries and the task trampoline. */
int state_open(struct vm_heap *heap, struct wippy_error *error);
/* Compiles every Lua entry in the heap (at load, in the front heap, so that
 * a syntax error stops the start). */
int state_compile_entries(struct vm_heap *heap, struct wippy_error *error);
/* Closes the state (runs every __gc). */
void state_close(struct vm_heap *heap);

/* Pops the base table (vm/sandbox.c fills it) that every task environment
 * falls through to on a miss. */
void state_set_environment_base(lua_State *L);

/* Pops the table of the modules (name -> value) that require hands out,
 * and pushes one of them (nil when there is none). */
void state_set_modules(lua_State *L);
void state_push_module(lua_State *L, const char *name);

/* Pushes a fresh environment table for a task of entry (NULL: none): its
 * globals are its own, a miss reads the modules the entry lists, then the
 * base. */
void state_push_new_environment(lua_State *L, const struct entry *entry);

/* Pushes the task trampoline: f(instance, env, method, ...) instantiates an
 * entry in env and calls its method with the remaining arguments. */
void state_push_trampoline(lua_State *L);

/* Pushes the compiled instance function of a Lua entry, compiling it in
 * L's heap on its first use there; pushes nothing on failure. */
int state_push_entry(lua_State *L, const char *entry_id, struct wippy_error *error);

/* Replaces the table on top of the stack with a read-only view of it. */
void state_make_read_only(lua_State *L);

/* True when the table at index is a read-only view. */
bool state_is_read_only(lua_State *L, int index);

/* How a userdata type's values cross to another process. */
enum state_sharing {
    STATE_PRIVATE, /* never: passing one is an error */
    STATE_SHARED,  /* as they are: immutable or synchronised */
};

/* Called when a value of a shared type (at index) is about to cross to
 * another process, so it can prepare (a channel starts copying what is sent
 * on it). Returns WIPPY_OK, or an error: the value then does not cross, and
 * nothing was changed. */
typedef int (*state_share_fn)(lua_State *L, int index, struct wippy_error *error);

/* Creates (or fetches) a protected metatable for a userdata type with its
 * methods, how it is shared, and an optional share hook. Leaves the
 * metatable on the stack. */
void state_new_type(lua_State *L, const char *name, const luaL_Reg *methods,
                    enum state_sharing sharing, state_share_fn share);

/* The sharing of the userdata at index; when STATE_SHARED, *share is its
 * hook or NULL. */
enum state_sharing state_sharing_of(lua_State *L, int index, state_share_fn *share);

/* How a shared type's values leave their Lua state and enter another one
 * (vm/message.h): export takes what a value needs to exist elsewhere (a
 * copy of an immutable value, a counted reference to a synchronised one),
 * import pushes it in another state and takes over what export gave when it
 * returns WIPPY_OK (if it fails or raises, the message releases it, so it
 * must not raise once it has taken it over), release frees what export gave
 * when it is never imported. A type is
 * identified by its transport's address, the same in every state. */
struct state_transport {
    const char *name;
    int (*export)(lua_State *L, int index, void **out, struct wippy_error *error);
    int (*import)(lua_State *L, void *exported, struct wippy_error *error);
    void (*release)(void *exported);
    /* true for a type whose value holds mutable Lua values (a payload):
     * crossing to another process within one heap makes a copy through
     * export and import too, rather than sharing the object */
    bool copies;
    /* what an export holds outside the message (a payload's copy of its
     * value), counted in message_held_bytes; NULL: nothing worth counting */
    size_t (*bytes)(const void *exported);
};

/* Gives a shared type (made by state_new_type in L) its transport. */
void state_set_transport(lua_State *L, const char *name, const struct state_transport *transport);

/* The transport of the userdata at index, or NULL when its type has none. */
const struct state_transport *state_transport_of(lua_State *L, int index);

#endif
