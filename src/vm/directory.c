/* directory.c - see directory.h. One lock guards both tables: every
 * operation is a lookup or two, and records live in their processes. */
#include "vm/directory.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "util/memory.h"
#include "vm/mailbox.h"

struct directory_name {
    char *name;
    struct directory_record *holder;
    struct directory_name *bucket_next;
    struct directory_name *holder_next; /* the holder's other names */
};

struct loop {
    struct vm_mailbox *mailbox;
    size_t processes; /* live, on it */
};

struct process_directory {
    uv_mutex_t lock;
    struct loop *loops;
    size_t loop_count;
    atomic_uint_fast64_t last_number;
    struct directory_record **records; /* by number; record_buckets is a power of two */
    size_t record_buckets;
    size_t record_count;
    struct directory_name **names;     /* by name; name_buckets is a power of two */
    size_t name_buckets;
    size_t name_count;
};

struct process_directory *directory_new(void)
{
    struct process_directory *directory = xcalloc(1, sizeof *directory);
    uv_mutex_init(&directory->lock);
    atomic_init(&directory->last_number, 0);
    directory->record_buckets = 1024;
    directory->records = xcalloc(directory->record_buckets, sizeof *directory->records);
    directory->name_buckets = 64;
    directory->names = xcalloc(directory->name_buckets, sizeof *directory->names);
    return directory;
}

void directory_free(struct process_directory *directory)
{
    if (directory == NULL)
        return;
    for (size_t i = 0; i < directory->name_buckets; i++) {
        struct directory_name *name = directory->names[i];
        while (name != NULL) {
            struct directory_name *next = name->bucket_next;
            free(name->name);
            free(name);
            name = next;
        }
    }
    free(directory->names);
    free(directory->records);
    free(directory->loops);
    uv_mutex_destroy(&directory->lock);
    free(directory);
}

uint64_t directory_next_number(struct process_directory *directory)
{
    return atomic_fetch_add_explicit(&directory->last_number, 1, memory_order_relaxed) + 1;
}

static size_t record_bucket(size_t buckets, uint64_t number)
{
    return (size_t)((number * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (buckets - 1);
}

static size_t name_bucket(size_t buckets, const char *name)
{
    uint64_t hash = UINT64_C(14695981039346656037); /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)name; *c != '\0'; c++)
        hash = (hash ^ *c) * UINT64_C(1099511628211);
    return (size_t)hash & (buckets - 1);
}

static void grow_records(struct process_directory *directory)
{
    size_t old_buckets = directory->record_buckets;
    struct directory_record **old = directory->records;
    directory->record_buckets *= 2;
    directory->records = xcalloc(directory->record_buckets, sizeof *directory->records);
    for (size_t i = 0; i < old_buckets; i++) {
        struct directory_record *record = old[i];
        while (record != NULL) {
            struct directory_record *next = record->bucket_next;
            size_t bucket = record_bucket(directory->record_buckets, record->number);
            record->bucket_next = directory->records[bucket];
            directory->records[bucket] = record;
            record = next;
        }
    }
    free(old);
}

static void grow_names(struct process_directory *directory)
{
    size_t old_buckets = directory->name_buckets;
    struct directory_name **old = directory->names;
    directory->name_buckets *= 2;
    directory->names = xcalloc(directory->name_buckets, sizeof *directory->names);
    for (size_t i = 0; i < old_buckets; i++) {
        struct directory_name *name = old[i];
        while (name != NULL) {
            struct directory_name *next = name->bucket_next;
            size_t bucket = name_bucket(directory->name_buckets, name->name);
            name->bucket_next = directory->names[bucket];
            directory->names[bucket] = name;
            name = next;
        }
    }
    free(old);
}

/* ---- under the lock ---- */

static struct directory_record *find_record(const struct process_directory *directory, uint64_t number)
{
    struct directory_record *record = directory->records[record_bucket(directory->record_buckets, number)];
    while (record != NULL && record->number != number)
        record = record->bucket_next;
    return record;
}

static struct directory_name **find_name(struct process_directory *directory, const char *name)
{
    struct directory_name **link = &directory->names[name_bucket(directory->name_buckets, name)];
    while (*link != NULL && strcmp((*link)->name, name) != 0)
        link = &(*link)->bucket_next;
    return link;
}

static void drop_name(struct process_directory *directory, struct directory_name **link)
{
    struct directory_name *name = *link;
    *link = name->bucket_next;
    struct directory_name **held = &name->holder->names;
    while (*held != name)
        held = &(*held)->holder_next;
    *held = name->holder_next;
    directory->name_count--;
    free(name->name);
    free(name);
}

/* What a lookup found, told as directory_find tells it. */
static struct directory_record *found(struct directory_record *record, struct vm_mailbox *mine,
                                      struct vm_mailbox **elsewhere)
{
    *elsewhere = NULL;
    if (record == NULL || (record->home == mine && !record->starting))
        return record;
    vm_mailbox_retain(record->home);
    *elsewhere = record->home;
    return NULL;
}

static struct loop *find_loop(struct process_directory *directory, const struct vm_mailbox *mailbox)
{
    for (size_t i = 0; i < directory->loop_count; i++)
        if (directory->loops[i].mailbox == mailbox)
            return &directory->loops[i];
    return NULL;
}

/* ---- the operations ---- */

void directory_add_loop(struct process_directory *directory, struct vm_mailbox *loop, size_t processes)
{
    uv_mutex_lock(&directory->lock);
    directory->loops = xrealloc(directory->loops, (directory->loop_count + 1) * sizeof *directory->loops);
    directory->loops[directory->loop_count++] = (struct loop){loop, processes};
    uv_mutex_unlock(&directory->lock);
}

void directory_remove_loop(struct process_directory *directory, struct vm_mailbox *loop)
{
    uv_mutex_lock(&directory->lock);
    struct loop *found = find_loop(directory, loop);
    if (found != NULL)
        *found = directory->loops[--directory->loop_count];
    uv_mutex_unlock(&directory->lock);
}

struct vm_mailbox *directory_place(struct process_directory *directory, struct vm_mailbox *mine)
{
    uv_mutex_lock(&directory->lock);
    struct loop *own = find_loop(directory, mine);
    struct loop *fewest = own;
    for (size_t i = 0; own != NULL && i < directory->loop_count; i++)
        if (directory->loops[i].processes < fewest->processes)
            fewest = &directory->loops[i];
    /* one more than the fewest stays: a process and its first child keep
     * talking within one loop (a message to another is two wake-ups) */
    struct vm_mailbox *place = own != NULL && own->processes > fewest->processes + 1 ? fewest->mailbox : NULL;
    if (place != NULL)
        vm_mailbox_retain(place);
    uv_mutex_unlock(&directory->lock);
    return place;
}

static void list_add(uint64_t **items, size_t *count, uint64_t number)
{
    for (size_t i = 0; i < *count; i++)
        if ((*items)[i] == number)
            return;
    *items = xrealloc(*items, (*count + 1) * sizeof(uint64_t));
    (*items)[(*count)++] = number;
}

static void list_remove(uint64_t *items, size_t *count, uint64_t number)
{
    for (size_t i = 0; i < *count; i++) {
        if (items[i] == number) {
            items[i] = items[--*count];
            return;
        }
    }
}

static void add_locked(struct process_directory *directory, struct directory_record *record, bool starting)
{
    record->names = NULL;
    record->monitors = record->links = NULL;
    record->monitor_count = record->link_count = 0;
    record->starting = starting;
    if (directory->record_count >= directory->record_buckets)
        grow_records(directory);
    size_t bucket = record_bucket(directory->record_buckets, record->number);
    record->bucket_next = directory->records[bucket];
    directory->records[bucket] = record;
    directory->record_count++;
    struct loop *loop = find_loop(directory, record->home);
    if (loop != NULL)
        loop->processes++;
}

void directory_add(struct process_directory *directory, struct directory_record *record)
{
    uv_mutex_lock(&directory->lock);
    add_locked(directory, record, false);
    uv_mutex_unlock(&directory->lock);
}

bool directory_add_starting(struct process_directory *directory, struct directory_record *record,
                            uint64_t monitor, uint64_t link, struct vm_post *start)
{
    uv_mutex_lock(&directory->lock);
    add_locked(directory, record, true);
    if (monitor != 0)
        list_add(&record->monitors, &record->monitor_count, monitor);
    struct directory_record *linked = link != 0 ? find_record(directory, link) : NULL;
    if (linked != NULL) {
        list_add(&record->links, &record->link_count, link);
        list_add(&linked->links, &linked->link_count, record->number);
    }
    bool posted = vm_mailbox_post_if_open(record->home, start);
    uv_mutex_unlock(&directory->lock);
    if (!posted) { /* its home has ended (the runtime stops): it never was */
        struct directory_watchers watchers;
        directory_remove(directory, record, &watchers);
        free(watchers.monitors);
        free(watchers.links);
    }
    return posted;
}

void directory_started(struct process_directory *directory, struct directory_record *record)
{
    uv_mutex_lock(&directory->lock);
    record->starting = false;
    uv_mutex_unlock(&directory->lock);
}

void directory_remove(struct process_directory *directory, struct directory_record *record,
                      struct directory_watchers *watchers)
{
    uv_mutex_lock(&directory->lock);
    struct directory_record **link = &directory->records[record_bucket(directory->record_buckets, record->number)];
    while (*link != NULL && *link != record)
        link = &(*link)->bucket_next;
    if (*link == record) {
        *link = record->bucket_next;
        directory->record_count--;
        struct loop *loop = find_loop(directory, record->home);
        if (loop != NULL && loop->processes > 0)
            loop->processes--;
    }
    while (record->names != NULL)
        drop_name(directory, find_name(directory, record->names->name));
    for (size_t i = 0; i < record->link_count; i++) {
        struct directory_record *linked = find_record(directory, record->links[i]);
        if (linked != NULL)
            list_remove(linked->links, &linked->link_count, record->number);
    }
    *watchers = (struct directory_watchers){record->monitors, record->monitor_count, record->links,
                                            record->link_count};
    record->monitors = record->links = NULL;
    record->monitor_count = record->link_count = 0;
    uv_mutex_unlock(&directory->lock);
}

int directory_link(struct process_directory *directory, uint64_t one, uint64_t other, bool add)
{
    uv_mutex_lock(&directory->lock);
    struct directory_record *first = find_record(directory, one), *second = find_record(directory, other);
    int rc = first != NULL && second != NULL ? WIPPY_OK : WIPPY_ENOENT;
    if (rc == WIPPY_OK && add) {
        list_add(&first->links, &first->link_count, other);
        list_add(&second->links, &second->link_count, one);
    } else if (rc == WIPPY_OK) {
        list_remove(first->links, &first->link_count, other);
        list_remove(second->links, &second->link_count, one);
    }
    uv_mutex_unlock(&directory->lock);
    return rc;
}

/* Watchers that ended stay in a list until it doubles: then they go, so
 * a long-lived process watched by short-lived ones keeps a list at most
 * twice its live watchers, at no cost to a process's end. */
static void drop_ended_watchers(struct process_directory *directory, struct directory_record *record)
{
    size_t count = record->monitor_count;
    if (count < 16 || (count & (count - 1)) != 0)
        return;
    size_t kept = 0;
    for (size_t i = 0; i < count; i++)
        if (find_record(directory, record->monitors[i]) != NULL)
            record->monitors[kept++] = record->monitors[i];
    record->monitor_count = kept;
}

int directory_monitor(struct process_directory *directory, uint64_t watched, uint64_t watcher, bool add)
{
    uv_mutex_lock(&directory->lock);
    struct directory_record *record = find_record(directory, watched);
    int rc = record != NULL ? WIPPY_OK : WIPPY_ENOENT;
    if (record != NULL && add) {
        drop_ended_watchers(directory, record);
        list_add(&record->monitors, &record->monitor_count, watcher);
    } else if (record != NULL) {
        list_remove(record->monitors, &record->monitor_count, watcher);
    }
    uv_mutex_unlock(&directory->lock);
    return rc;
}

struct directory_record *directory_find(struct process_directory *directory, uint64_t number,
                                        const char *pid, struct vm_mailbox *mine,
                                        struct vm_mailbox **elsewhere)
{
    uv_mutex_lock(&directory->lock);
    struct directory_record *record = find_record(directory, number);
    if (record != NULL && pid != NULL && strcmp(record->pid, pid) != 0)
        record = NULL;
    record = found(record, mine, elsewhere);
    uv_mutex_unlock(&directory->lock);
    return record;
}

uint64_t directory_number_of_pid(const char *pid)
{
    const char *bar = strrchr(pid, '|');
    if (pid[0] != '{' || bar == NULL || strncmp(bar + 1, "0x", 2) != 0)
        return 0;
    char *end = NULL;
    uint64_t number = strtoull(bar + 3, &end, 16);
    if (end == NULL || end == bar + 3 || strcmp(end, "}") != 0)
        return 0;
    return number;
}

/* Under the lock: the live process destination names (its pid, or a name
 * registered to it), or NULL. */
static struct directory_record *resolve_locked(struct process_directory *directory, const char *destination)
{
    uint64_t by_pid = directory_number_of_pid(destination);
    if (by_pid != 0) {
        struct directory_record *record = find_record(directory, by_pid);
        return record != NULL && strcmp(record->pid, destination) == 0 ? record : NULL;
    }
    if (destination[0] == '{')
        return NULL;
    struct directory_name *held = *find_name(directory, destination);
    return held != NULL ? held->holder : NULL;
}

static void identify(const struct directory_record *record, struct process_identity *identity)
{
    identity->number = record->number;
    identity->parent_number = record->parent_number;
    snprintf(identity->pid, sizeof identity->pid, "%s", record->pid);
}

bool directory_resolve(struct process_directory *directory, const char *destination,
                       struct process_identity *identity)
{
    uv_mutex_lock(&directory->lock);
    struct directory_record *record = resolve_locked(directory, destination);
    if (record != NULL)
        identify(record, identity);
    uv_mutex_unlock(&directory->lock);
    return record != NULL;
}

struct directory_record *directory_locate(struct process_directory *directory, const char *destination,
                                          struct vm_mailbox *mine, struct process_identity *identity,
                                          struct vm_mailbox **elsewhere)
{
    uv_mutex_lock(&directory->lock);
    struct directory_record *record = resolve_locked(directory, destination);
    if (record != NULL && (record->home != mine || record->starting) && identity != NULL)
        identify(record, identity);
    record = found(record, mine, elsewhere);
    uv_mutex_unlock(&directory->lock);
    return record;
}

int directory_register(struct process_directory *directory, const char *name, uint64_t number,
                       struct wippy_error *error)
{
    int rc = WIPPY_OK;
    uv_mutex_lock(&directory->lock);
    struct directory_record *record = find_record(directory, number);
    struct directory_name **link = find_name(directory, name);
    if (record == NULL) {
        rc = error_set(error, WIPPY_ENOENT, "process not found");
    } else if (*link != NULL && (*link)->holder != record) {
        rc = error_set(error, WIPPY_EINVAL, "name \"%s\" is already registered to %s", name,
                       (*link)->holder->pid);
    } else if (*link == NULL) {
        struct directory_name *held = xcalloc(1, sizeof *held);
        held->name = xstrdup(name);
        held->holder = record;
        held->holder_next = record->names;
        record->names = held;
        if (directory->name_count >= directory->name_buckets) {
            grow_names(directory);
            link = find_name(directory, name);
        }
        held->bucket_next = *link;
        *link = held;
        directory->name_count++;
    }
    uv_mutex_unlock(&directory->lock);
    return rc;
}

void directory_unregister_held(struct process_directory *directory, const char *name, uint64_t number)
{
    uv_mutex_lock(&directory->lock);
    struct directory_name **link = find_name(directory, name);
    if (*link != NULL && (*link)->holder->number == number)
        drop_name(directory, link);
    uv_mutex_unlock(&directory->lock);
}
