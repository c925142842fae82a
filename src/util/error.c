/* error.c - filling and decorating struct wippy_error. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int error_set(struct wippy_error *error, int code, const char *format, ...)
{
    if (error == NULL)
        return code;
    va_list args;
    va_start(args, format);
    vsnprintf(error->message, sizeof error->message, format, args);
    va_end(args);
    error->code = code;
    return code;
}

void error_clear(struct wippy_error *error)
{
    if (error == NULL)
        return;
    error->code = WIPPY_OK;
    error->message[0] = '\0';
}
