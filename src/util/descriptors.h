/* descriptors.h - the process's file descriptors, set up once at start. */
#ifndef WIPPY_UTIL_DESCRIPTORS_H
#define WIPPY_UTIL_DESCRIPTORS_H

/* How many descriptors the table is grown to at start (or the limit, if
 * lower): a service's default limits.max_connections and as many client
 * connections again, with room for the runtime's own. */
#define DESCRIPTORS_RESERVED 4096

/* Raises the soft limit on open files to the hard one, then grows the
 * kernel's descriptor table to DESCRIPTORS_RESERVED entries. Call it first
 * in main, before any thread starts: see descriptors.c for why. Failures
 * are not errors (the process runs as before, with a smaller table). */
void descriptors_prepare(void);

#endif
