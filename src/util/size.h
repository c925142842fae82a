/* size.h - sizes in bytes as users write them: a whole number, or one with
 * K, M or G (powers of 1024, as Go Wippy's --memory-limit reads "512M" or
 * "1G"; "Mi", "MB" and "MiB" mean the same). */
#ifndef WIPPY_UTIL_SIZE_H
#define WIPPY_UTIL_SIZE_H

#include <stdbool.h>
#include <stdint.h>

/* Parses text into bytes; false when it is not a size or does not fit. */
bool size_parse(const char *text, int64_t *bytes);

#endif
