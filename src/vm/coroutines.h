/* coroutines.h - coroutine.resume and coroutine.wrap that pass a blocking
 * call up to the scheduler, and Wippy's coroutine.spawn. */
#ifndef WIPPY_VM_COROUTINES_H
#define WIPPY_VM_COROUTINES_H

#include <lua.h>

/* Replaces coroutine.resume and coroutine.wrap, and adds coroutine.spawn. */
void coroutines_install(lua_State *L);

#endif
