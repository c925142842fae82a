/* list.h - intrusive doubly-linked lists: an element holds its own links
 * (fields named by the caller) and the list is a pointer to the first one. */
#ifndef WIPPY_UTIL_LIST_H
#define WIPPY_UTIL_LIST_H

/* Puts item first in the list starting at head. */
#define DLIST_PUSH(head, item, prev, next)      \
    do {                                        \
        (item)->prev = NULL;                    \
        (item)->next = (head);                  \
        if ((head) != NULL)                     \
            (head)->prev = (item);              \
        (head) = (item);                        \
    } while (0)

/* Takes item out of the list starting at head (nothing happens to a list
 * that does not hold it) and clears its links. */
#define DLIST_REMOVE(head, item, prev, next)    \
    do {                                        \
        if ((item)->prev != NULL)               \
            (item)->prev->next = (item)->next;  \
        else if ((head) == (item))              \
            (head) = (item)->next;              \
        if ((item)->next != NULL)               \
            (item)->next->prev = (item)->prev;  \
        (item)->next = (item)->prev = NULL;     \
    } while (0)

#endif
