/* mod_io.c - the io module for terminal programs: print, write, eprint,
 * flush, readline, read, args. Standard input is read through libuv, so a
 * process waiting for a line never holds up the others. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua/modules.h"
#include "vm/remote.h"
#include "vm/state.h"
#include "vm/task.h"
#include "vm/core.h"
#include "terminal/terminal.h"
#include "util/memory.h"

static int write_values(lua_State *L, FILE *stream, const char *separator, const char *ending)
{
    int count = lua_gettop(L);
    for (int i = 1; i <= count; i++) {
        size_t length;
        const char *text = luaL_tolstring(L, i, &length);
        if (i > 1 && separator != NULL)
            fputs(separator, stream);
        fwrite(text, 1, length, stream);
        lua_pop(L, 1);
    }
    if (ending != NULL)
        fputs(ending, stream);
    if (fflush(stream) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "write failed");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int io_print(lua_State *L) { return write_values(L, stdout, "\t", "\n"); }
static int io_write(lua_State *L) { return write_values(L, stdout, NULL, NULL); }
static int io_eprint(lua_State *L) { return write_values(L, stderr, "\t", "\n"); }

static int io_flush(lua_State *L)
{
    fflush(stdout);
    lua_pushboolean(L, 1);
    return 1;
}

static int io_args(lua_State *L)
{
    const struct terminal *terminal = vm_module_context(L);
    int count = terminal_argument_count(terminal);
    lua_createtable(L, count, 0);
    for (int i = 0; i < count; i++) {
        lua_pushstring(L, terminal_argument(terminal, i));
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* Where a read's result goes: onto the calling thread at once, or onto the
 * waiting task's thread, which is then woken. */
struct read_target {
    lua_State *L;
    struct task *task;
    struct terminal *terminal;
    bool waiting;
    int pushed;
};

static void deliver_read(void *context, const char *data, size_t length)
{
    struct read_target *target = context;
    lua_State *L = target->waiting ? target->task->thread : target->L;
    if (data == NULL) {
        lua_pushnil(L);
        lua_pushliteral(L, "EOF");
        target->pushed = 2;
    } else {
        lua_pushlstring(L, data, length);
        target->pushed = 1;
    }
    if (target->waiting) {
        struct task *task = target->task;
        int pushed = target->pushed;
        free(target);
        task_wake(task, pushed);
    }
}

static void cancel_read(struct task *task)
{
    struct read_target *target = task->wait_data;
    terminal_wait_cancel(target->terminal);
    free(target);
}

static int read_input(lua_State *L, bool want_line, size_t bytes)
{
    struct terminal *terminal = vm_module_context(L);
    struct task *task = task_current(L);
    struct read_target now = {.L = L, .task = task, .terminal = terminal};
    if (terminal_take(terminal, want_line, bytes, deliver_read, &now))
        return now.pushed;
    task_check_can_block(L, task, "io.readline");
    struct read_target *later = xmalloc(sizeof *later);
    *later = (struct read_target){.task = task, .terminal = terminal, .waiting = true};
    if (!terminal_wait(terminal, want_line, bytes, deliver_read, later)) {
        free(later);
        lua_pushnil(L);
        lua_pushliteral(L, "another process is already reading standard input");
        return 2;
    }
    return task_wait(L, task, cancel_read, later, NULL, 0);
}

static int io_readline(lua_State *L)
{
    return read_input(L, true, 0);
}

static int io_read(lua_State *L)
{
    lua_Integer bytes = luaL_optinteger(L, 1, 1024);
    return read_input(L, false, bytes <= 0 ? 1024 : (size_t)bytes);
}

int mod_io_open(lua_State *L, void *context)
{
    static const luaL_Reg functions[] = {
        {"print", io_print},
        {"write", io_write},
        {"eprint", io_eprint},
        {"flush", io_flush},
        {"readline", io_readline},
        {"read", io_read},
        {"args", io_args},
        {NULL, NULL},
    };
    luaL_newlibtable(L, functions);
    if (remote_is_worker(L)) { /* the terminal lives on the main VM (vm/remote.h) */
        remote_set_functions(L, "io", functions);
        return 1;
    }
    lua_pushlightuserdata(L, context);
    luaL_setfuncs(L, functions, 1);
    return 1;
}
