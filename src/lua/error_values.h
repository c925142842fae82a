/* error_values.h - errors as Wippy's Lua sees them: an object with a kind
 * (errors.NOT_FOUND, INVALID, PERMISSION_DENIED, TIMEOUT...), a message,
 * whether it may be retried, details and the stack where it was made.
 * tostring(err) and `..` give the message alone, so the text of every error
 * is what it was when errors were strings. Bindings return their
 * failures as `nil, err` through these functions (the runtime's own
 * failures move to them module by module; today they are still strings). */
#ifndef WIPPY_LUA_ERROR_VALUES_H
#define WIPPY_LUA_ERROR_VALUES_H

#include <lua.h>
#include <stdbool.h>

#include "util/error.h"

#define ERROR_KIND_UNKNOWN ""
#define ERROR_KIND_NOT_FOUND "NotFound"
#define ERROR_KIND_ALREADY_EXISTS "AlreadyExists"
#define ERROR_KIND_INVALID "Invalid"
#define ERROR_KIND_PERMISSION_DENIED "PermissionDenied"
#define ERROR_KIND_UNAVAILABLE "Unavailable"
#define ERROR_KIND_INTERNAL "Internal"
#define ERROR_KIND_CANCELED "Canceled"
#define ERROR_KIND_CONFLICT "Conflict"
#define ERROR_KIND_TIMEOUT "Timeout"
#define ERROR_KIND_RATE_LIMITED "RateLimited"

/* The most an error takes as it leaves its heap: its fields and details,
 * errors in its details included (message, stack and details all count). */
#define ERROR_VALUE_MAX_TRAVEL_BYTES (1 << 20)
/* How many errors, the outermost included, may hold one another in their
 * details when they leave. */
#define ERROR_VALUE_MAX_NESTING 8

/* Registers the error type in L (once; every state that runs tasks), with
 * its transport to other heaps. */
void error_value_register(lua_State *L);

/* Pushes a new error object: retryable is 1, 0 or -1 (not known). */
void error_value_push(lua_State *L, const char *kind, int retryable, const char *message);
/* Same with a message that may hold zero bytes. */
void error_value_push_bytes(lua_State *L, const char *kind, int retryable, const char *message, size_t length);

/* The kind of a runtime error code (WIPPY_E*) and whether it may be retried. */
const char *error_value_kind_of(int code, int *retryable);

/* Pushes an error object for a failure the VM reports (vm_failure_pusher):
 * code is a WIPPY_E* code, or 0 when a task's own code failed. */
void error_value_push_failure(lua_State *L, int code, const char *message, size_t length);

/* Pushes nil and an error object for error, its kind from its code; returns
 * 2, what a binding returns for a failure. */
int error_value_fail(lua_State *L, const struct wippy_error *error);

/* Same with a message of its own and a kind. */
int error_value_fail_with(lua_State *L, const char *kind, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Replaces the string on top of the stack with an error object of kind
 * (for messages Lua or a helper left there). */
void error_value_from_top(lua_State *L, const char *kind);

/* True when the value at index is an error object. */
bool error_value_is(lua_State *L, int index);

/* Puts context in front of the stack of the (new) error at index. */
void error_value_add_context(lua_State *L, int index, const char *context);

/* Pushes {frames = {{source, line, name}, ...}} of the error at index. */
void error_value_push_call_stack(lua_State *L, int index);


#endif
