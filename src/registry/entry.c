/* entry.c - questions asked about an entry: its kind, finding one among
 * others by id, and the full id of a reference it makes. */
#include "registry/entry.h"

#include <string.h>

#include "util/memory.h"

bool entry_is_network(const struct entry *entry)
{
    return entry->kind == ENTRY_NETWORK_SOCKS5 || entry->kind == ENTRY_NETWORK_I2P ||
           entry->kind == ENTRY_NETWORK_TAILSCALE;
}

bool entry_is_lua(const struct entry *entry)
{
    return entry->kind == ENTRY_PROCESS_LUA || entry->kind == ENTRY_FUNCTION_LUA ||
           entry->kind == ENTRY_LIBRARY_LUA;
}

bool entry_is_host(const struct entry *entry)
{
    return entry->kind == ENTRY_PROCESS_HOST || entry->kind == ENTRY_TERMINAL_HOST;
}

const struct entry *entry_list_find(const struct entry_list *list, const char *id)
{
    size_t low = 0, high = list->count;
    while (low < high) {
        size_t middle = (low + high) / 2;
        int order = strcmp(list->entries[middle]->id, id);
        if (order == 0)
            return list->entries[middle];
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

char *entry_qualify_reference(const char *namespace_name, const char *reference)
{
    if (strchr(reference, ':') != NULL)
        return xstrdup(reference);
    return xasprintf("%s:%s", namespace_name, reference);
}
