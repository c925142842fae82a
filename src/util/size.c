/* size.c - see size.h. */
#include "util/size.h"

#include <errno.h>
#include <stdlib.h>

bool size_parse(const char *text, int64_t *bytes)
{
    if (text[0] < '0' || text[0] > '9') /* strtoll would take spaces and signs */
        return false;
    char *end = NULL;
    errno = 0;
    long long number = strtoll(text, &end, 10);
    if (errno == ERANGE)
        return false;
    int shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10, end++;
    else if (*end == 'M' || *end == 'm')
        shift = 20, end++;
    else if (*end == 'G' || *end == 'g')
        shift = 30, end++;
    if (*end == 'i' && shift > 0)
        end++;
    if (*end == 'B' && shift > 0)
        end++;
    if (*end != '\0' || number > (INT64_MAX >> shift))
        return false;
    *bytes = (int64_t)number << shift;
    return true;
}
