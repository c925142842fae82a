/* private_address.c - see private_address.h. */
#include "net/private_address.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Go Wippy's ranges, and two it leaves out: 100.64.0.0/10 (carrier-grade
 * NAT, which is also where a tailnet's addresses are, this host's own among
 * them) and the NAT64 prefix 64:ff9b::/96 (an IPv6 way to any of these). */
static bool private_ipv4(const uint8_t a[4])
{
    return a[0] == 10 || a[0] == 127 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
           (a[0] == 100 && (a[1] & 0xc0) == 64) ||      /* 100.64.0.0/10 */
           (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
           (a[0] == 224 && a[1] == 0 && a[2] == 0) || /* link-local multicast */
           (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0);
}

static bool private_ipv6(const uint8_t a[16])
{
    static const uint8_t zero[16];
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(a, v4_mapped, sizeof v4_mapped) == 0 || memcmp(a, nat64, sizeof nat64) == 0)
        return private_ipv4(a + 12);
    if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) /* :: and ::1 */
        return true;
    return (a[0] & 0xfe) == 0xfc ||                   /* fc00::/7 */
           (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* fe80::/10 */
           (a[0] == 0xff && (a[1] & 0x0f) == 0x02);   /* link-local multicast */
}

bool private_address(const char *host)
{
    char text[64];
    size_t length = strlen(host);
    if (length >= 2 && host[0] == '[' && host[length - 1] == ']') {
        if (length - 2 >= sizeof text)
            return false;
        memcpy(text, host + 1, length - 2);
        text[length - 2] = '\0';
    } else {
        if (length >= sizeof text)
            return false;
        memcpy(text, host, length + 1);
    }
    uint8_t bytes[16];
    if (inet_pton(AF_INET, text, bytes) == 1)
        return private_ipv4(bytes);
    if (inet_pton(AF_INET6, text, bytes) == 1)
        return private_ipv6(bytes);
    return false;
}
