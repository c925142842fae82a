/* curl_socks5.h - requests through a SOCKS5 overlay speak SOCKS5 through
 * curl's own non-blocking socks5h (the host goes to the proxy as a name,
 * never resolved here), with no local bridge in between. This file sets a
 * transfer up for it and turns curl's failures into the lines the
 * overlay's own dial gives (the proxy's reply, Tor's extended codes). */
#ifndef WIPPY_HTTP_CURL_SOCKS5_H
#define WIPPY_HTTP_CURL_SOCKS5_H

#include <curl/curl.h>
#include <stdint.h>

#include "net/overlay.h"

/* The SOCKS5 protocol carries a host name of at most 255 bytes; a longer one
 * fails here and is never resolved locally instead. */
#define CURL_SOCKS5_MAX_HOST 255

/* Points easy at the overlay's proxy with the credentials of one new
 * connection; proxy_address receives "host:port" for messages. No
 * environment variable (no_proxy, all_proxy) can change where it goes. */
int curl_socks5_use(CURL *easy, struct overlay *overlay, char proxy_address[300], struct wippy_error *error);

/* The error of a transfer through the proxy that failed with result:
 * prefix is "METHOD URL" for failures that are not the proxy's. */
void curl_socks5_failure(CURL *easy, CURLcode result, const char *curl_message, const struct overlay *overlay,
                         const char *proxy_address, const char *host, uint16_t port, const char *prefix,
                         double timeout_seconds, struct wippy_error *error);

#endif
