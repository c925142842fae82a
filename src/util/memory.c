/* memory.c - checked allocation helpers. */
#include "util/memory.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    fprintf(stderr, "wippy: out of memory allocating %zu bytes\n", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *pointer = malloc(size ? size : 1);
    if (pointer == NULL)
        out_of_memory(size);
    return pointer;
}

void *xcalloc(size_t count, size_t size)
{
    void *pointer = calloc(count ? count : 1, size ? size : 1);
    if (pointer == NULL)
        out_of_memory(count * size);
    return pointer;
}

void *xrealloc(void *pointer, size_t size)
{
    void *grown = realloc(pointer, size ? size : 1);
    if (grown == NULL)
        out_of_memory(size);
    return grown;
}

char *xstrndup(const char *text, size_t length)
{
    char *copy = xmalloc(length + 1);
    memcpy(copy, text, length);
    copy[length] = '\0';
    return copy;
}

char *xstrdup(const char *text)
{
    return xstrndup(text, strlen(text));
}

char *xasprintf(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *result = NULL;
    if (vasprintf(&result, format, args) < 0)
        out_of_memory(strlen(format));
    va_end(args);
    return result;
}
