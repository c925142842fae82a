/* test_private_address.c - which targets need http_client.private_ip. */
#include "net/private_address.h"
#include "test.h"

TEST(test_private_address_knows_local_ranges)
{
    const char *private_hosts[] = {"127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255",
                                   "192.168.1.1", "169.254.10.10", "0.0.0.0", "224.0.0.251", "::1", "[::1]",
                                   "::", "fd7a:115c:a1e0::1", "fe80::1", "[fe80::1]", "ff02::1",
                                   "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                                   /* beyond Go Wippy's list: CGNAT (tailnets), NAT64 of a private address */
                                   "100.64.0.1", "100.127.255.254", "64:ff9b::a00:1", "[64:ff9b::7f00:1]"};
    for (size_t i = 0; i < sizeof private_hosts / sizeof private_hosts[0]; i++)
        CHECK(private_address(private_hosts[i]));
}

TEST(test_private_address_passes_names_and_public_addresses)
{
    const char *public_hosts[] = {"example.com", "localhost", "x.onion", "172.32.0.1", "172.15.0.1",
                                  "8.8.8.8", "100.63.255.255", "100.128.0.1", "64:ff9b::808:808", "192.169.0.1",
                                  "2001:db8::1", "[2606:4700::1111]",
                                  "::ffff:8.8.8.8", "", "[", "[]", "1.2.3", "999.1.1.1"};
    for (size_t i = 0; i < sizeof public_hosts / sizeof public_hosts[0]; i++)
        CHECK(!private_address(public_hosts[i]));
}
