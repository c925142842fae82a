/* host.h - the one Lua state shared by every task, and the sandbox that
 * isolates tasks inside it: each task runs in its own environment table whose
 * misses fall through to read-only shared libraries. */
#ifndef WIPPY_LUA_HOST_H
#define WIPPY_LUA_HOST_H

#include <lua.h>
#include <lauxlib.h>
#include <stdbool.h>

#include "runtime/runtime.h"

/* Opens the state (runtime->lua), installs the sandbox and the modules, and
 * compiles every Lua entry of the registry. */
int lua_host_open(struct runtime *runtime, struct wippy_error *error);
void lua_host_close(struct runtime *runtime);

/* The runtime that owns L. */
struct runtime *lua_host_runtime(lua_State *L);

/* Pushes a fresh environment table for a task. */
void lua_host_push_new_environment(lua_State *L);

/* Pushes the task trampoline: f(instance, env, method, ...) instantiates an
 * entry in env and calls its method with the remaining arguments. */
void lua_host_push_trampoline(lua_State *L);

/* Pushes the compiled instance function of a Lua entry. */
void lua_host_push_entry(lua_State *L, const char *entry_id);

/* Replaces the table on top of the stack with a read-only view of it. */
void lua_host_make_read_only(lua_State *L);

/* Creates (or fetches) a protected metatable for a userdata type; when
 * shareable, values of the type may be passed between processes as they are
 * (they are immutable or synchronised). Leaves the metatable on the stack. */
void lua_host_new_type(lua_State *L, const char *name, const luaL_Reg *methods, bool shareable);

/* Replaces coroutine.resume and coroutine.wrap, and adds coroutine.spawn. */
void lua_coroutines_install(lua_State *L);

struct process;
/* Ends the coroutines a process spawned, when the process ends. */
void lua_coroutines_end_of_process(struct process *process);

/* Closes standard input if a process read from it. */
void lua_io_close(struct runtime *runtime);

/* JSON as the json module does it: pushes the text (or the decoded value)
 * and returns true, or pushes an error message and returns false. */
bool lua_json_encode(lua_State *L, int index);
bool lua_json_decode(lua_State *L, const char *text, size_t length);

/* Module openers: each pushes the module table. */
int lua_module_io(lua_State *L);
int lua_module_json(lua_State *L);
int lua_module_time(lua_State *L);
int lua_module_channel(lua_State *L);
int lua_module_process(lua_State *L);
int lua_module_funcs(lua_State *L);
int lua_module_security(lua_State *L);
int lua_module_ctx(lua_State *L);
int lua_module_http_client(lua_State *L);
int lua_module_http(lua_State *L);

#endif
