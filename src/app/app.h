/* app.h - the composition root: boots the runtime out of its parts (the
 * loop, the VM with its modules, the overlays, the HTTP client, the
 * terminal, the services), runs it, and shuts it down by running the close
 * hooks each part registered, last opened first. */
#ifndef WIPPY_APP_APP_H
#define WIPPY_APP_APP_H

#include <stdbool.h>

#include "registry/config.h"
#include "registry/registry.h"
#include "util/error.h"

struct app;

/* Boots the runtime around registry and config (both stay owned by the
 * caller; arguments too) and compiles every Lua entry. Returns NULL with
 * error set when an entry cannot be compiled or names an unknown module. */
struct app *app_new(const struct registry *registry, const struct config *config, bool verbose,
                    char **arguments, int argument_count, struct wippy_error *error);

/* Starts every auto_start process.service and http.service. */
int app_start_services(struct app *app, struct wippy_error *error);

/* Starts a command process of entry on the terminal host with the
 * arguments given to app_new; its return value becomes the exit code. */
int app_start_command(struct app *app, const struct entry *entry, struct wippy_error *error);

/* Runs until stopped: by a command's end, by SIGINT/SIGTERM (requests in
 * flight finish first, then exit code signal_exit_code; a negative one
 * means 128 + the signal, 130 or 143, as shells report it), or a deadlock.
 * keep_alive: whether the signal watchers alone keep the runtime running
 * (serving) or not (a command whose processes all block ends with a
 * deadlock report). Returns the exit code. */
int app_run(struct app *app, bool keep_alive, int signal_exit_code);

/* Runs the close hooks, last registered first, and frees the app. */
void app_free(struct app *app);

#endif
