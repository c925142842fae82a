/* memory.h - allocation that never returns NULL: out of memory aborts with a
 * message, because no caller of this runtime can recover from it usefully. */
#ifndef WIPPY_UTIL_MEMORY_H
#define WIPPY_UTIL_MEMORY_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *pointer, size_t size);
char *xstrdup(const char *text);
char *xstrndup(const char *text, size_t length);
/* Returns a newly allocated printf-formatted string. */
char *xasprintf(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
