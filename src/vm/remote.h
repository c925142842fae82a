/* remote.h - a VM (a scheduler thread with its own loop and Lua heaps) has
 * a module function run on another VM: a worker's io, env and overlay
 * calls on the main VM, where the terminal and the overlays with one
 * identity live, and any VM's process operations on the VM where their
 * target process lives. Such a call runs there as a task of its own with
 * the caller's entry, frame (network selection, actor, scope, context
 * values), call depth and guest mark, so every check and every text is the
 * one that VM gives. The arguments and the results travel as messages
 * (channels among them as crossed channels, vm/channel.h). The caller's
 * task waits; the other tasks of its loop keep running. */
#ifndef WIPPY_VM_REMOTE_H
#define WIPPY_VM_REMOTE_H

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <uv.h>

#include "vm/core.h"

/* What an argument list cannot carry (a spawner's options): pushed on the
 * main VM before the arguments. The call takes it over. */
struct remote_prefix {
    void *data;
    void (*push)(lua_State *L, void *data); /* on the main VM's thread */
    void (*free)(void *data);                /* on either thread */
};

/* True when L's VM is a worker (its main_mailbox is set): its io and env
 * calls run on the main VM. */
bool remote_is_worker(lua_State *L);

/* In a worker VM, from a C function of a module: runs function on the main
 * VM (with the context the main VM opened module with, vm_module_context)
 * with the arguments of the current call (after prefix's value when
 * prefix is not NULL) and returns what it returns, or raises what it
 * raises. Use as `return remote_call(L, module, function, prefix);`. */
int remote_call(lua_State *L, const char *module, lua_CFunction function, struct remote_prefix *prefix);

/* The same on the VM whose mailbox is target (any VM, from any other),
 * taking over the caller's count of target, for a process operation: a
 * call made from a process runs there as that process (a stand-in,
 * vm/process.h: its pid, parent and memory limit, for that one function).
 * Requests, cancellations and replies travel as posts (vm/mailbox.h). The
 * caller's loop stays alive while it waits; a target that has ended
 * answers "runtime shutting down". */
int remote_call_as_process(lua_State *L, struct vm_mailbox *target, const char *module, const char *name,
                           lua_CFunction function, struct remote_prefix *prefix);

/* The same for a function Lua code calls by name (module.name, or a method
 * of prefix's value when prefix is set), so that an argument error names it
 * as a call on the main VM does. Arguments that cannot be taken (too deep,
 * past vm.memory_limit) give nil and the error, as the functions do. */
int remote_call_named(lua_State *L, const char *module, const char *name, lua_CFunction function,
                      struct remote_prefix *prefix);

/* True when task runs a call made on another VM. */
bool remote_is_proxy(const struct task *task);

/* Pushes a function that runs function->func on the main VM through
 * remote_call; function (a static luaL_Reg) and module must stay. */
void remote_push_function(lua_State *L, const char *module, const luaL_Reg *function);

/* Like luaL_setfuncs into the table on top of L, with functions that run
 * on the main VM through remote_call (functions and module stay). */
void remote_set_functions(lua_State *L, const char *module, const luaL_Reg *functions);

#endif
