/* spawn_elsewhere.c - see spawn_elsewhere.h. One post makes the whole
 * trip: to the new process's home with its plan and arguments, then back
 * to the spawner's VM as its receipt. */
#include "vm/spawn_elsewhere.h"

#include <stdlib.h>

#include "util/memory.h"
#include "vm/core.h"
#include "vm/credit.h"
#include "vm/directory.h"
#include "vm/frame.h"
#include "vm/heap.h"
#include "vm/mailbox.h"
#include "vm/message.h"
#include "vm/process.h"
#include "vm/send_elsewhere.h"
#include "vm/task.h"

struct start_post {
    struct vm_post post;         /* first */
    struct process *process;     /* the plan; NULL once started or abandoned */
    struct process_directory *directory;
    struct frame *frame;         /* counted */
    struct message **arguments;  /* each NULL once pushed */
    int argument_count;
    struct vm_mailbox *spawner;  /* counted: the spawner's VM, for the receipt */
    struct heap_account *payer;  /* the spawner's loop's: pays while they travel */
    size_t paid;
};

static void free_post(struct start_post *start)
{
    for (int i = 0; i < start->argument_count; i++)
        if (start->arguments[i] != NULL)
            message_free(start->arguments[i]);
    free(start->arguments);
    frame_release(start->frame);
    vm_mailbox_release(start->spawner);
    free(start);
}

/* ---- the receipt, on the spawner's VM ---- */

static void run_receipt(struct vm *vm, struct vm_post *post)
{
    struct start_post *start = (struct start_post *)post;
    start->payer->messages_away--;
    heap_account_let_go(vm, start->payer, start->paid);
    free_post(start);
}

static void drop_receipt(struct vm_post *post)
{
    struct start_post *start = (struct start_post *)post;
    credit_drop(start->payer, start->paid); /* the spawner's VM has ended */
    free_post(start);
}

static void send_receipt(struct start_post *start)
{
    start->post = (struct vm_post){.run = run_receipt, .drop = drop_receipt};
    vm_mailbox_post(start->spawner, &start->post);
}

/* ---- the start, on the new process's home ---- */

static void run_start(struct vm *vm, struct vm_post *post)
{
    struct start_post *start = (struct start_post *)post;
    struct process *process = start->process;
    start->process = NULL;
    struct wippy_error error;
    if (vm->stopping)
        process_fail_start(vm, process, "the runtime is stopping");
    else if (process_start_placed(vm, process, start->frame, start->arguments, start->argument_count, &error) < 0)
        process_fail_start(vm, process, error.message);
    send_receipt(start);
}

/* Its home has ended (the runtime stops), on any thread: it never was. */
static void drop_start(struct vm_post *post)
{
    struct start_post *start = (struct start_post *)post;
    struct directory_watchers watchers;
    directory_remove(start->directory, &start->process->record, &watchers);
    free(watchers.monitors);
    free(watchers.links);
    process_plan_abandon(start->process);
    start->process = NULL;
    send_receipt(start);
}

/* ---- the spawner's side ---- */

int spawn_elsewhere(lua_State *L, struct vm_mailbox *home, struct process *process, struct frame *frame,
                    int argument_count, uint64_t monitor, uint64_t link, struct wippy_error *error)
{
    struct task *task = task_current(L);
    struct vm *vm = task->vm;
    struct heap_account *payer = task->account != NULL ? task->account : vm->runtime_account;
    if (payer->messages_away >= SEND_ELSEWHERE_MAX_AWAY)
        return 0;
    int first = lua_gettop(L) - argument_count + 1;
    /* before anything is held (and unbounded, so that it cannot raise and
     * lose the caller's plan): once added, the plan is its home's */
    vm_unlimited_begin(vm);
    lua_pushstring(L, process->pid);
    vm_unlimited_end(vm);
    struct start_post *start = xcalloc(1, sizeof *start);
    start->arguments = xcalloc(argument_count > 0 ? (size_t)argument_count : 1, sizeof *start->arguments);
    start->argument_count = argument_count;
    size_t bytes = sizeof *start + (size_t)argument_count * sizeof *start->arguments;
    bool taken = true;
    for (int i = 0; i < argument_count && taken; i++) {
        start->arguments[i] = message_take(L, first + i, 0, error); /* never raises */
        taken = start->arguments[i] != NULL;
        if (taken)
            bytes += message_held_bytes(start->arguments[i]);
    }
    /* a process cannot have more on its way than its limit allows */
    if (!taken || !heap_account_hold(vm, payer, bytes)) {
        free_post(start);
        lua_pop(L, 1);
        if (taken || error->code == WIPPY_ENOMEM)
            return error_set(error, WIPPY_ENOMEM, "not enough memory to spawn %s (the spawner's memory limit)",
                             process->entry->id);
        return error->code;
    }
    start->post = (struct vm_post){.run = run_start, .drop = drop_start};
    start->process = process;
    start->directory = vm->directory;
    start->frame = frame_retain(frame);
    start->spawner = vm->mailbox;
    vm_mailbox_retain(vm->mailbox);
    start->payer = payer;
    start->paid = bytes;
    process->record.home = home;
    payer->messages_away++;
    if (!directory_add_starting(vm->directory, &process->record, monitor, link, &start->post)) {
        payer->messages_away--;
        heap_account_let_go(vm, payer, bytes);
        start->process = NULL;
        process->record.home = vm->mailbox;
        free_post(start);
        lua_pop(L, 1);
        return error_set(error, WIPPY_ESTATE, "the loop %s was placed on has ended (the runtime is stopping)",
                         process->entry->id);
    }
    if (argument_count > 0) { /* the arguments' slots take the pid */
        lua_replace(L, first);
        lua_settop(L, first);
    }
    return 1;
}
