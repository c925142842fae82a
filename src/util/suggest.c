/* suggest.c - see suggest.h. */
#include "util/suggest.h"

#include <ctype.h>
#include <string.h>

#define LONGEST 64

/* Edits (insert, delete, replace, swap two neighbours) from one to other,
 * letter case ignored. */
static size_t distance(const char *one, const char *other)
{
    size_t m = strlen(one), n = strlen(other);
    if (m >= LONGEST || n >= LONGEST)
        return LONGEST;
    size_t d[LONGEST + 1][LONGEST + 1];
    for (size_t i = 0; i <= m; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= n; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= m; i++) {
        for (size_t j = 1; j <= n; j++) {
            size_t cost = tolower((unsigned char)one[i - 1]) != tolower((unsigned char)other[j - 1]);
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && one[i - 1] == other[j - 2] && one[i - 2] == other[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[m][n];
}

const char *suggest_closest(const char *given, const char *const *known)
{
    size_t allowed = strlen(given) <= 4 ? 1 : 2;
    const char *best = NULL;
    size_t best_distance = allowed + 1;
    for (size_t i = 0; known[i] != NULL; i++) {
        size_t d = distance(given, known[i]);
        if (d < best_distance) {
            best = known[i];
            best_distance = d;
        }
    }
    return best;
}
