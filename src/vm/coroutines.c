/* coroutines.c - coroutine.resume and coroutine.wrap that let a blocking
 * call inside a program's own coroutine block the whole task (the block is
 * passed up to the scheduler and the wake-up passed back down), and Wippy's
 * coroutine.spawn, which runs a function concurrently inside its process. */
#include "vm/coroutines.h"

#include <lauxlib.h>
#include <stdlib.h>

#include "util/memory.h"
#include "vm/preempt.h"
#include "vm/process.h"
#include "vm/task.h"
#include "vm/core.h"

static bool yielded_a_block(lua_State *coroutine, int status, int result_count)
{
    return status == LUA_YIELD && result_count == 1 &&
           lua_touserdata(coroutine, -1) == &task_block_marker;
}

static int resume_step(lua_State *L, lua_State *coroutine, int argument_count, bool wrapped);
static int resume_result(lua_State *L, lua_State *coroutine, int status, int result_count, bool wrapped);

/* The task woke up: the wake values are on top of L above the coroutine at
 * index 1; hand them to the coroutine and resume it again. */
static int resume_continue(lua_State *L, int status, lua_KContext wrapped)
{
    lua_State *coroutine = lua_tothread(L, 1);
    int count = lua_gettop(L) - 1;
    lua_xmove(L, coroutine, count);
    return resume_step(L, coroutine, count, wrapped != 0);
}

enum preempted_yield {
    NOT_PREEMPTED,  /* an ordinary result or yield of the coroutine */
    PASS_IT_UP,     /* its slice ran out: the task's scheduler gets the turn */
    GO_ON,          /* its slice ran out where nothing above can yield */
};

/* What a yield of the coroutine means: a slice that ran out is passed up to
 * the scheduler as a block; where nothing above can yield, the coroutine
 * goes on at once (and is stopped after the unyieldable limit). */
static enum preempted_yield preempted_yield(lua_State *L, lua_State *coroutine, int status,
                                            int result_count)
{
    struct vm *vm = vm_of(L);
    struct task *task = vm->current;
    /* the hook's own yield (no values), or one passed up from deeper */
    bool slice_yield = result_count == 0 || yielded_a_block(coroutine, status, result_count);
    if (status != LUA_YIELD || !slice_yield || task == NULL || !vm->slice_over)
        return NOT_PREEMPTED;
    if (lua_isyieldable(L))
        return PASS_IT_UP;
    vm->slice_over = false;
    preemption_check_stuck(vm->preemption, L);
    return GO_ON;
}

static int resume_step(lua_State *L, lua_State *coroutine, int argument_count, bool wrapped)
{
    struct preemption *preemption = vm_of(L)->preemption;
    for (;;) {
        int result_count = 0;
        lua_State *outer = preemption_switch(preemption, coroutine);
        struct task *task = vm_of(L)->current;
        bool unyieldable = task != NULL && !lua_isyieldable(L);
        if (unyieldable)
            task->unyieldable_resumes++;
        int status = lua_resume(coroutine, L, argument_count, &result_count);
        if (unyieldable)
            task->unyieldable_resumes--;
        preemption_switch(preemption, outer);
        switch (preempted_yield(L, coroutine, status, result_count)) {
        case PASS_IT_UP:
            lua_settop(L, 1);
            lua_pushlightuserdata(L, &task_block_marker);
            return lua_yieldk(L, 1, wrapped, resume_continue);
        case GO_ON:
            lua_pop(coroutine, result_count);
            argument_count = 0;
            continue;
        case NOT_PREEMPTED:
            return resume_result(L, coroutine, status, result_count, wrapped);
        }
    }
}

static int resume_result(lua_State *L, lua_State *coroutine, int status, int result_count, bool wrapped)
{
    if (yielded_a_block(coroutine, status, result_count)) {
        lua_pop(coroutine, 1);
        lua_settop(L, 1);
        if (!lua_isyieldable(L)) {
            struct task *task = task_current(L);
            if (task->cancel_wait != NULL)
                task->cancel_wait(task);
            task->cancel_wait = NULL;
            task->state = TASK_RUNNING;
            return luaL_error(L, "a blocking call inside this coroutine cannot block here "
                                 "(the coroutine was resumed from a metamethod or a C function)");
        }
        lua_pushlightuserdata(L, &task_block_marker);
        return lua_yieldk(L, 1, wrapped, resume_continue);
    }
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, result_count + 1)) {
            lua_pop(coroutine, result_count);
            return luaL_error(L, "too many results to resume");
        }
        if (!wrapped)
            lua_pushboolean(L, 1);
        lua_xmove(coroutine, L, result_count);
        return result_count + (wrapped ? 0 : 1);
    }
    lua_xmove(coroutine, L, 1); /* the error */
    if (wrapped) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

/* Checks that coroutine can be resumed with argument_count values, the way
 * Lua's own resume does (with its messages). */
static int check_resumable(lua_State *L, lua_State *coroutine, int argument_count,
                           struct wippy_error *error)
{
    int status = lua_status(coroutine);
    if ((status == LUA_OK && lua_gettop(coroutine) == 0) || (status != LUA_OK && status != LUA_YIELD))
        return error_set(error, WIPPY_ESTATE, "cannot resume dead coroutine");
    if (coroutine == L)
        return error_set(error, WIPPY_ESTATE, "cannot resume non-suspended coroutine");
    if (!lua_checkstack(coroutine, argument_count + 1))
        return error_set(error, WIPPY_ENOMEM, "too many arguments to resume");
    return WIPPY_OK;
}

static int coroutine_resume(lua_State *L)
{
    lua_State *coroutine = lua_tothread(L, 1);
    luaL_argexpected(L, coroutine != NULL, 1, "coroutine");
    int count = lua_gettop(L) - 1;
    struct wippy_error error;
    if (check_resumable(L, coroutine, count, &error) < 0) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, error.message);
        return 2;
    }
    lua_xmove(L, coroutine, count);
    return resume_step(L, coroutine, count, false);
}

static int wrapped_call(lua_State *L)
{
    lua_State *coroutine = lua_tothread(L, lua_upvalueindex(1));
    int count = lua_gettop(L);
    struct wippy_error error;
    if (check_resumable(L, coroutine, count, &error) < 0)
        return luaL_error(L, "%s", error.message);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1); /* keep the coroutine at index 1, as resume does */
    lua_xmove(L, coroutine, count);
    return resume_step(L, coroutine, count, true);
}

static int coroutine_wrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *coroutine = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, coroutine, 1);
    lua_pushcclosure(L, wrapped_call, 1);
    return 1;
}

/* ---- coroutine.spawn ---- */

static void on_coroutine_finish(struct task *task, int status, int result_count)
{
    struct process *owner = task->process;
    process_remove_coroutine(owner, task);
    if (status == LUA_OK || owner == NULL || task->vm->stopping)
        return;
    /* An uncaught error in a spawned coroutine fails its process. */
    char *reason = xasprintf("coroutine failed: %s", lua_tostring(task->thread, -1));
    task_kill(&owner->task, reason);
    free(reason);
}

static void dispose_coroutine(struct task *task)
{
    free(task);
}

static int coroutine_spawn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    struct task *parent = task_current(L);
    struct process *owner = parent->process;
    if (owner == NULL)
        return luaL_error(L, "coroutine.spawn can only be used inside a process");
    struct task *task = xcalloc(1, sizeof *task);
    task->on_finish = on_coroutine_finish;
    task->dispose = dispose_coroutine;
    struct wippy_error error;
    int count = lua_gettop(L) - 1;
    if (task_start_function(parent, task, TASK_COROUTINE, L, count, &error) < 0) {
        free(task);
        return luaL_error(L, "%s", error.message);
    }
    process_add_coroutine(owner, task);
    lua_pushboolean(L, 1);
    return 1;
}

void coroutines_install(lua_State *L)
{
    lua_getglobal(L, "coroutine");
    static const luaL_Reg replaced[] = {
        {"resume", coroutine_resume},
        {"wrap", coroutine_wrap},
        {"spawn", coroutine_spawn},
        {NULL, NULL},
    };
    luaL_setfuncs(L, replaced, 0);
    lua_pop(L, 1);
}
