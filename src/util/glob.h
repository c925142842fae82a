/* glob.h - the wildcard match used by security policies: "*" matches any run
 * of characters (including none); every other character matches itself. */
#ifndef WIPPY_UTIL_GLOB_H
#define WIPPY_UTIL_GLOB_H

#include <stdbool.h>

bool glob_match(const char *pattern, const char *text);

#endif
