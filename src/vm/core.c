/* core.c - see core.h. */
#include "vm/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"

struct vm_heap *vm_heap_of(lua_State *L)
{
    return *(struct vm_heap **)lua_getextraspace(L);
}

struct vm *vm_of(lua_State *L)
{
    return vm_heap_of(L)->vm;
}

void *vm_module_context(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

struct route_policy vm_route_policy(const struct vm *vm)
{
    return (struct route_policy){
        .registry = vm->registry,
        .default_network = vm->config->default_network,
        .strict_mode = vm->config->strict_mode,
    };
}

void vm_log(const struct vm *vm, const char *format, ...)
{
    (void)vm;
    va_list args;
    va_start(args, format);
    log_vmessage(LOG_DEBUG, format, args);
    va_end(args);
}

void vm_push_failure(struct vm *vm, lua_State *L, int code, const char *message, size_t length)
{
    if (vm->push_failure != NULL)
        vm->push_failure(L, code, message, length);
    else
        lua_pushlstring(L, message, length);
}

void vm_stop_deadlocked(struct vm *vm)
{
    if (vm->live_tasks > 0) {
        log_message(LOG_ERROR, "every process is blocked and nothing can wake them (deadlock)");
        vm->exit_code = 1;
    }
    vm->stopping = true;
    uv_stop(vm->loop);
}

void vm_stop(struct vm *vm, int exit_code)
{
    if (vm->stopping)
        return;
    vm->stopping = true;
    vm->exit_code = exit_code;
    uv_stop(vm->loop);
}

void vm_unlimited_begin(struct vm *vm)
{
    vm->unlimited++;
}

void vm_unlimited_end(struct vm *vm)
{
    vm->unlimited--;
}
