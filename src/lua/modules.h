/* modules.h - the Lua modules, one opener each. The application adds them
 * to the VM (vm_add_module) with the context each one needs; an opener
 * pushes the module table, and the functions that need the context find it
 * with vm_module_context. A binding uses what it is handed and never builds
 * infrastructure of its own. */
#ifndef WIPPY_LUA_MODULES_H
#define WIPPY_LUA_MODULES_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "registry/registry.h"
#include "util/value.h"

struct http_client;
struct overlay_set;

/* Context of the http_client module. */
struct mod_http_client_context {
    struct http_client *client;
    struct overlay_set *overlays;
    bool on_main; /* a worker VM's calls run on the main VM (vm/remote.h) */
};

int mod_io_open(lua_State *L, void *terminal);        /* a struct terminal */
int mod_json_open(lua_State *L, void *context);
int mod_time_open(lua_State *L, void *context);
int mod_channel_open(lua_State *L, void *context);
int mod_process_open(lua_State *L, void *context);
int mod_funcs_open(lua_State *L, void *context);
int mod_security_open(lua_State *L, void *context);
int mod_ctx_open(lua_State *L, void *context);
int mod_http_client_open(lua_State *L, void *context); /* a struct mod_http_client_context */
int mod_http_open(lua_State *L, void *context);
int mod_base64_open(lua_State *L, void *context);
int mod_hash_open(lua_State *L, void *context);
int mod_uuid_open(lua_State *L, void *context);
int mod_yaml_open(lua_State *L, void *context);
int mod_logger_open(lua_State *L, void *context);
int mod_payload_open(lua_State *L, void *context);
int mod_os_open(lua_State *L, void *context);
int mod_crypto_open(lua_State *L, void *context);

/* The env module's context: the registry it reads variables and storages
 * from, and the values set in memory storages (storage id -> name ->
 * value), which the application owns. */
struct mod_env_context {
    const struct registry *registry;
    struct value *memory;
};
int mod_env_open(lua_State *L, void *context);
int mod_errors_open(lua_State *L, void *context);

/* The attachment kind (task_attachment) of a task answering an HTTP
 * request: its attachment is the struct http_exchange the http module
 * reads and answers. */
extern const char mod_http_exchange_kind;

/* JSON as the json module does it: pushes the text (or the decoded value)
 * and returns true, or pushes an error message and returns false. */
bool mod_json_encode(lua_State *L, int index);
bool mod_json_decode(lua_State *L, const char *text, size_t length);

/* YAML as the yaml module does it, the same way. */
bool mod_yaml_encode(lua_State *L, int index);
bool mod_yaml_decode(lua_State *L, const char *text, size_t length);

/* Registers the Payload type in L (payload module, funcs.async) and pushes
 * a payload holding the value at index (an error object's format is
 * golang/error, any other value's lua/any). */
void payload_register(lua_State *L);
void payload_push(lua_State *L, int index);

#endif
