/* directory.h - every live process of a runtime, whichever VM (scheduler
 * thread) runs it: its number, from one counter so that no two processes
 * ever share one, its pid, the VM it lives on, and the names registered to
 * processes. The VMs of one runtime share it; every function below may be
 * called from any of their threads. A VM reaches its own processes through
 * it (a record is embedded in its process), and learns where the others
 * live, never more: another VM's process is acted on there (vm/remote.h). */
#ifndef WIPPY_VM_DIRECTORY_H
#define WIPPY_VM_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct vm_mailbox;
struct process_directory;
struct directory_name;

/* Embedded in its process; set number, pid and home before adding it, and
 * leave the rest to the directory. */
struct directory_record {
    uint64_t number;
    uint64_t parent_number;    /* the process that spawned it, or 0 */
    const char *pid;           /* valid until the record is removed */
    struct vm_mailbox *home;   /* the mailbox of the VM it lives on */
    bool starting;             /* added by directory_add_starting, not yet started */
    struct directory_record *bucket_next;
    struct directory_name *names;
    uint64_t *monitors;        /* the processes told of its end (EXIT events) */
    size_t monitor_count;
    uint64_t *links;           /* the processes linked with it */
    size_t link_count;
};

/* Who a process that ended had watching it: free both lists. */
struct directory_watchers {
    uint64_t *monitors;
    size_t monitor_count;
    uint64_t *links;
    size_t link_count;
};

struct process_directory *directory_new(void);
void directory_free(struct process_directory *directory);

uint64_t directory_next_number(struct process_directory *directory);

/* The loops processes may be placed on (scheduler threads): each added
 * with its VM's mailbox and the count of processes it hosts already. */
void directory_add_loop(struct process_directory *directory, struct vm_mailbox *loop, size_t processes);
void directory_remove_loop(struct process_directory *directory, struct vm_mailbox *loop);

/* Where a process spawned on the loop mine goes: the loop with the fewest
 * live processes, mine while it has at most one more than that one. NULL
 * for mine, else that loop's mailbox (counted: vm_mailbox_release it). */
struct vm_mailbox *directory_place(struct process_directory *directory, struct vm_mailbox *mine);

/* A process starts; and ends: its names go with it, it leaves the links of
 * the processes linked with it, and who watched it is handed over. */
void directory_add(struct process_directory *directory, struct directory_record *record);
void directory_remove(struct process_directory *directory, struct directory_record *record,
                      struct directory_watchers *watchers);

/* A process another VM (its home) is to start (vm/spawn_elsewhere.h):
 * added as starting, with monitor (a process number, or 0) told of its end
 * and link (a process number, or 0) linked with it, and start posted to
 * its home while the lock is held, so that whatever anyone posts to it
 * once it can be found arrives after its start. Until directory_started,
 * it reads as living on another VM for every VM, its home included, so
 * that everything for it goes through its home's mailbox. False (nothing
 * added or posted) when its home has ended. */
struct vm_post;
bool directory_add_starting(struct process_directory *directory, struct directory_record *record,
                            uint64_t monitor, uint64_t link, struct vm_post *start);
void directory_started(struct process_directory *directory, struct directory_record *record);

/* Links (add) or unlinks two live processes, both sides at once, so that
 * an end is told to a linked process exactly when the link stood at that
 * moment; WIPPY_ENOENT when either has ended. */
int directory_link(struct process_directory *directory, uint64_t one, uint64_t other, bool add);

/* watcher is told (add), or no longer told, of watched's end; WIPPY_ENOENT
 * when watched has ended. */
int directory_monitor(struct process_directory *directory, uint64_t watched, uint64_t watcher, bool add);

/* The live process with number (and, when pid is not NULL, that pid):
 * its record when it lives on the VM whose mailbox is mine, else NULL with
 * *elsewhere set to its VM's mailbox (counted: vm_mailbox_release it) when
 * it lives on another, or NULL when there is no such process. */
struct directory_record *directory_find(struct process_directory *directory, uint64_t number,
                                        const char *pid, struct vm_mailbox *mine,
                                        struct vm_mailbox **elsewhere);

/* Who a process is, as any VM may know it. */
struct process_identity {
    uint64_t number;
    uint64_t parent_number;
    char pid[1024]; /* cut to fit */
};

/* The live process destination names (its pid, or a name registered to
 * it): true with who it is; false when there is none. */
bool directory_resolve(struct process_directory *directory, const char *destination,
                       struct process_identity *identity);

/* The live process destination names, found from the VM whose mailbox is
 * mine: its record when it lives there; else NULL with, when it lives on
 * another VM, *elsewhere set to that VM's mailbox (counted:
 * vm_mailbox_release it) and who it is in *identity (when not NULL). */
struct directory_record *directory_locate(struct process_directory *directory, const char *destination,
                                          struct vm_mailbox *mine, struct process_identity *identity,
                                          struct vm_mailbox **elsewhere);

/* The number a pid text carries ({host|0x...}), or 0 when it is not one. */
uint64_t directory_number_of_pid(const char *pid);

/* Names (process.registry): a name points at one live process (of any
 * VM) and goes away with it. Registering fails when that process has
 * ended, or another holds the name (its pid in the message). */
int directory_register(struct process_directory *directory, const char *name, uint64_t number,
                       struct wippy_error *error);

/* Unregisters name only while process number holds it (whoever checked
 * that it may, checked that holder). */
void directory_unregister_held(struct process_directory *directory, const char *name, uint64_t number);

#endif
