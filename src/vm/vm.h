/* vm.h - the Lua virtual machine of the runtime: one lua_State, the tasks
 * scheduled on the application's libuv loop, the process table and the root
 * frame (their shared state is vm/core.h). It knows nothing of HTTP,
 * overlays or the terminal: modules that need them are handed in by the
 * application (vm_add_module). */
#ifndef WIPPY_VM_VM_H
#define WIPPY_VM_VM_H

#include <stdbool.h>
#include <uv.h>

#include "registry/config.h"
#include "registry/registry.h"
#include "util/error.h"
#include "vm/core.h"

/* Creates the VM on loop around registry and config (all stay owned by the
 * caller). Nothing is compiled until vm_load. */
struct vm *vm_new(uv_loop_t *loop, const struct registry *registry, const struct config *config,
                  bool verbose);

/* Adds a module (copied) before vm_load. */
void vm_add_module(struct vm *vm, const struct vm_module *module);

/* Opens the sandbox and the modules and compiles every Lua entry of the
 * registry; an entry that cannot be compiled or names an unknown module is
 * an error. */
int vm_load(struct vm *vm, struct wippy_error *error);

/* Closes the Lua state (running the __gc of what it holds, which may close
 * handles on the loop) and frees the VM. Every task must have finished
 * (task_finish_all). */
void vm_free(struct vm *vm);

/* Runs the loop until vm_stop, or until nothing is left to run (a deadlock
 * when tasks are still waiting). Returns the exit code. */
int vm_run(struct vm *vm);

/* A shutdown was asked for (a signal): Lua that cannot yield is stopped at
 * once from now on. Async-signal-safe. */
void vm_interrupt(struct vm *vm);

#endif
