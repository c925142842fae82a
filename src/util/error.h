/* error.h - the one error shape of the runtime: a negative code plus a
 * one-line message with its context, filled by the function that failed. */
#ifndef WIPPY_UTIL_ERROR_H
#define WIPPY_UTIL_ERROR_H

#include <stddef.h>

enum {
    WIPPY_OK = 0,
    WIPPY_EINVAL = -1,    /* the user's input is wrong */
    WIPPY_ENOENT = -2,    /* a named thing does not exist */
    WIPPY_EIO = -3,       /* the operating system refused */
    WIPPY_ENOMEM = -4,
    WIPPY_EDENIED = -5,   /* a security policy said no */
    WIPPY_ESTATE = -6,    /* called at the wrong time */
    WIPPY_ETIMEDOUT = -7, /* the time allowed ran out */
};

#define WIPPY_ERROR_MESSAGE_SIZE 1024

struct wippy_error {
    int code;
    char message[WIPPY_ERROR_MESSAGE_SIZE];
};

/* Fills error (if not NULL) with code and a printf-style message and returns
 * code, so callers can write `return error_set(error, WIPPY_EINVAL, ...)`. */
int error_set(struct wippy_error *error, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

void error_clear(struct wippy_error *error);

#endif
