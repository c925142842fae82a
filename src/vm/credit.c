/* credit.c - see credit.h. */
#include "vm/credit.h"

#include <stdlib.h>
#include <uv.h>

#include "util/memory.h"
#include "vm/core.h"
#include "vm/heap.h"
#include "vm/mailbox.h"

struct credit_post {
    struct vm_post post; /* first */
    struct heap_account *account;
    size_t bytes;
};

static void run_credit(struct vm *vm, struct vm_post *post)
{
    struct credit_post *credit = (struct credit_post *)post;
    heap_account_let_go(vm, credit->account, credit->bytes);
    free(credit);
}

/* The account's loop is gone; what it left is dropped both by the loop as
 * it closes and by whoever posts later: one lock for those. */
static uv_mutex_t dropped_credit_lock;
static uv_once_t dropped_credit_lock_once = UV_ONCE_INIT;

static void dropped_credit_lock_init(void)
{
    uv_mutex_init(&dropped_credit_lock);
}

void credit_drop(struct heap_account *account, size_t bytes)
{
    uv_once(&dropped_credit_lock_once, dropped_credit_lock_init);
    uv_mutex_lock(&dropped_credit_lock);
    account->bytes -= bytes;
    heap_account_release(account);
    uv_mutex_unlock(&dropped_credit_lock);
}

static void drop_credit(struct vm_post *post)
{
    struct credit_post *credit = (struct credit_post *)post;
    credit_drop(credit->account, credit->bytes);
    free(credit);
}

void credit_give(struct vm *here, struct vm_mailbox *home, struct heap_account *account, size_t bytes)
{
    if (here != NULL && here->mailbox == home) {
        heap_account_let_go(here, account, bytes);
        return;
    }
    struct credit_post *post = xmalloc(sizeof *post);
    *post = (struct credit_post){{NULL, run_credit, drop_credit}, account, bytes};
    vm_mailbox_post(home, &post->post);
}
