/* entry.c - questions asked about an entry's kind. */
#include "registry/entry.h"

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
