/* directories.h - making an overlay's private state directories. */
#ifndef WIPPY_UTIL_DIRECTORIES_H
#define WIPPY_UTIL_DIRECTORIES_H

/* Creates path and every missing parent, mode 0700 (keys and node state
 * live there). Returns 0, or -1 with errno set. A plain blocking call: it
 * runs once when an overlay opens or first saves its state. */
int make_directories(const char *path);

#endif
