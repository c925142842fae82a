/* suggest.h - "did you mean": the known name closest to a misspelt one. */
#ifndef WIPPY_UTIL_SUGGEST_H
#define WIPPY_UTIL_SUGGEST_H

/* The name in known (NULL-terminated) nearest to given, if it is close
 * enough to be a slip (at most two edits, fewer for short names), else
 * NULL. */
const char *suggest_closest(const char *given, const char *const *known);

#endif
