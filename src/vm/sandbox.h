/* sandbox.h - the base every task environment falls through to: safe base
 * functions, read-only libraries, sandboxed load/require, and the modules
 * the application added to the VM. */
#ifndef WIPPY_VM_SANDBOX_H
#define WIPPY_VM_SANDBOX_H

#include "util/error.h"

struct vm_heap;

/* Builds the base table in the heap's state, opening every module of the
 * VM there. */
int sandbox_install(struct vm_heap *heap, struct wippy_error *error);

#endif
