/* sandbox.h - the base every task environment falls through to: safe base
 * functions, read-only libraries, sandboxed load/require, and the modules
 * the application added to the VM. */
#ifndef WIPPY_VM_SANDBOX_H
#define WIPPY_VM_SANDBOX_H

#include "util/error.h"

struct vm;

/* Builds the base table in vm->lua, opening every module of the VM. */
int sandbox_install(struct vm *vm, struct wippy_error *error);

#endif
