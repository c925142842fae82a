/* private_address.h - tells addresses that name this host or its local
 * network (loopback, RFC 1918 and RFC 4193 ranges, link-local, unspecified)
 * from the rest; such targets reached through an overlay need the
 * http_client.private_ip permission, as in Go Wippy. */
#ifndef WIPPY_NET_PRIVATE_ADDRESS_H
#define WIPPY_NET_PRIVATE_ADDRESS_H

#include <stdbool.h>

/* True when host is an IPv4 or IPv6 literal (brackets allowed) in a private,
 * loopback, link-local or unspecified range; false for names and public
 * addresses. */
bool private_address(const char *host);

#endif
