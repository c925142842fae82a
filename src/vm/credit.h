/* credit.h - a process's bytes given back from another loop. A value held
 * as a message for a while (buffered in a crossed channel, travelling as a
 * call's arguments) is charged to its sender's account, which only the
 * sender's loop may touch: the credit is posted there, and when that loop
 * has ended it is dropped under a lock of its own. */
#ifndef WIPPY_VM_CREDIT_H
#define WIPPY_VM_CREDIT_H

#include <stddef.h>

struct vm;
struct vm_mailbox;
struct heap_account;

/* Gives account, of home's loop, bytes back (heap_account_let_go): at once
 * when that loop is here's (here may be NULL: unknown), else through its
 * mailbox. */
void credit_give(struct vm *here, struct vm_mailbox *home, struct heap_account *account, size_t bytes);

/* The same when home's loop has ended (a post to it was dropped), on any
 * thread: the account is only counted down and let go. */
void credit_drop(struct heap_account *account, size_t bytes);

#endif
