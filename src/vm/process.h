/* process.h - Lua processes: addressable tasks with a pid, an inbox, an
 * events channel, topic listeners, monitors and links. */
#ifndef WIPPY_VM_PROCESS_H
#define WIPPY_VM_PROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/task.h"
#include "vm/core.h"
#include "vm/directory.h"

#define PROCESS_EVENT_EXIT "pid.exit"
#define PROCESS_EVENT_LINK_DOWN "pid.link.down"
#define PROCESS_EVENT_CANCEL "pid.cancel"

struct process {
    struct task task; /* first, so a struct task * of kind TASK_PROCESS is one */
    uint64_t number;         /* its parent's is record.parent_number */
    char *pid;
    const struct entry *host;
    int inbox_reference;     /* channel, created on first use */
    int events_reference;    /* channel, created on first use */
    int listeners_reference; /* table: topic -> {channel, message} */
    int waiting_reference;   /* messages for no listener before the inbox is taken */
    int upgrade_arguments_reference;   /* table of the new code's arguments */
    int upgrade_argument_count;
    bool inbox_taken;        /* its code has asked for its inbox */
    bool trap_links;
    bool is_command;         /* its return value becomes the exit code */
    bool exec_waited;        /* it had an exec_waiter when it ended */
    uint32_t refused_from_elsewhere; /* messages from other loops it could not take (vm/send_elsewhere.h) */
    size_t waiting_count;
    const struct entry *entry;         /* its process.lua entry (a task's entry changes while a library loads) */
    const struct entry *upgrade_entry; /* process.upgrade asked for: its code ends, this starts */
    struct task *exec_waiter; /* a task in process.exec waiting for my result */
    struct task *coroutines; /* started with coroutine.spawn, still running */
    struct heap_account *account; /* what its code holds (vm/heap.h) */
    struct vm_mailbox *elsewhere; /* a stand-in (below): the mailbox of the VM its process lives on */
    struct directory_record record; /* how the runtime finds it (vm/directory.h) */
};

/* Starts a process of a process.lua entry on host, with frame, called with
 * the argument_count values on top of from (moved). Its memory limit is the
 * entry's memory_limit or memory_limit (bytes; 0 = none), the smaller when
 * both are set: a spawner can tighten the entry's limit, never lift it; and
 * never past its own limit when it has one. */
int process_spawn(struct vm *vm, const struct entry *entry, const struct entry *host,
                  struct frame *frame, lua_State *from, int argument_count, size_t memory_limit,
                  struct process **out, struct wippy_error *error);

/* The same in steps, for a process started on another VM than its
 * spawner's (vm/spawn_elsewhere.h). On the spawner's VM: a plan gives the
 * process its number, pid, parent and memory limit, its record's home set
 * to this VM (change it before it is added); abandon frees a plan never
 * started. Here: start it on this VM (the plan is freed on failure). */
struct process *process_plan(struct vm *vm, const struct entry *entry, const struct entry *host,
                             size_t memory_limit);
void process_plan_abandon(struct process *process);
int process_start_here(struct vm *vm, struct process *process, struct frame *frame, lua_State *from,
                       int argument_count, struct wippy_error *error);

/* On its home VM, for a plan added as starting (directory_add_starting):
 * starts it with the arguments (each freed whatever happens, and set to
 * NULL), and marks it started. On failure the plan stays the caller's:
 * process_fail_start takes it out, tells its watchers and links of an end
 * with the reason, and frees it. */
struct message;
int process_start_placed(struct vm *vm, struct process *process, struct frame *frame,
                         struct message **arguments, int argument_count, struct wippy_error *error);
void process_fail_start(struct vm *vm, struct process *process, const char *why);

/* process.exec, and funcs.call of a process entry: waiter (the running
 * task) is told the child's result as (value) or (nil, error) when it
 * ends; pass this as the waiter's cancel_wait, with the child as its
 * wait data, so that a waiter that goes away ends the child. */
void process_exec_cancel(struct task *waiter);

/* Finds one of this VM's live processes by its pid string or a name
 * registered to it, or NULL. */
struct process *process_find(struct vm *vm, const char *destination);

/* The same, and when the process lives on another VM, *elsewhere is that
 * VM's mailbox (counted: vm_mailbox_release it) and *identity (when not
 * NULL) who it is. */
struct process *process_locate(struct vm *vm, const char *destination, struct process_identity *identity,
                               struct vm_mailbox **elsewhere);


/* The process whose code (or whose function call) is running, or NULL. */
struct process *process_current(struct vm *vm);

/* Pushes the process's inbox or events channel, creating it when needed.
 * Until its code takes its inbox, a message on a topic nobody listens to
 * waits (as in Wippy): a listen for its topic gets it, and so does the
 * inbox once taken, in the order they came. */
void process_push_inbox(lua_State *L, struct process *process);
void process_take_inbox(lua_State *L, struct process *process);
/* Hands the waiting messages on topic to the listener channel on top of L
 * (left there): messages, or their payloads alone unless as_message. */
void process_hand_waiting(lua_State *L, struct process *process, const char *topic, bool as_message);
void process_push_events(lua_State *L, struct process *process);

/* process.upgrade: the running code of process (its own task, running
 * now) ends as if killed (its __close handlers run, its coroutines end)
 * and entry's method starts in its place with the argument_count values on
 * top of L (copies; popped). The process keeps its pid, names, links,
 * monitors, inbox and events, frame and memory account (its limit
 * tightened to the entry's when that is smaller); listeners go with the old
 * code. The caller yields to the scheduler right after. */
void process_upgrade(lua_State *L, struct process *process, const struct entry *entry, int argument_count);

enum process_delivery {
    PROCESS_DELIVERED,
    PROCESS_DELIVERY_FULL,      /* the inbox holds process.max_inbox messages, or the channel is closed */
    PROCESS_DELIVERY_NO_MEMORY, /* the receiver cannot pay for it within its limits */
};

/* Delivers a message whose payload is on top of L (popped; already a copy
 * owned by nobody else) to target, on topic: into the channel listening
 * for the topic, or the inbox. What it takes is charged to the account the
 * caller charges (the receiver's), within its limit and the runtime's.
 * Anything but PROCESS_DELIVERED drops the message, and the sender must
 * be told. */
enum process_delivery process_deliver(lua_State *L, struct process *target, const char *topic,
                                      const char *from_pid);

/* Delivers an event table on top of L (popped) to target's events channel. */
void process_deliver_event(lua_State *L, struct process *target);

/* The coroutines a process started with coroutine.spawn: they are killed
 * when it ends. remove accepts a process that has ended (NULL). */
void process_add_coroutine(struct process *process, struct task *coroutine);
void process_remove_coroutine(struct process *process, struct task *coroutine);

/* The coroutines a process started with coroutine.spawn: they are killed
 * when it ends. remove accepts a process that has ended (NULL). */
void process_add_coroutine(struct process *process, struct task *coroutine);
void process_remove_coroutine(struct process *process, struct task *coroutine);

void process_add_monitor(struct process *watched, uint64_t watcher);
void process_remove_monitor(struct process *watched, uint64_t watcher);
/* Either may be a stand-in: its side is changed on its process's VM. */
void process_link(struct process *one, struct process *other);
void process_unlink(struct process *one, struct process *other);

/* Who a process is, carried with a call made for it to another VM
 * (vm/remote.h): its number, parent, pid, host and memory limit. */
struct process_card;
struct process_card *process_card_new(const struct process *process);
void process_card_free(struct process_card *card);

/* On the VM a call made for a process of another VM runs on: a stand-in
 * for that process, which its task runs as. It has the process's identity
 * and nothing else (no task, inbox or lists of its own): it is found in no
 * table (home is its process's VM). */
struct process *process_new_stand_in(struct vm *vm, const struct process_card *card, struct vm_mailbox *home);
void process_free_stand_in(struct process *stand_in);

/* One of this VM's live processes by its number, or NULL. */
struct process *process_find_number(struct vm *vm, uint64_t number);

/* Creates and frees the pid table of a VM. */
struct process_table *process_table_new(void);
void process_table_free(struct process_table *table);
size_t process_count(const struct vm *vm);

#endif
