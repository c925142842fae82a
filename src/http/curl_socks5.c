/* curl_socks5.c - curl's socks5h for SOCKS5 overlays, with our messages. */
#include "http/curl_socks5.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "net/socks5_codec.h"

int curl_socks5_use(CURL *easy, struct overlay *overlay, char proxy_address[300], struct wippy_error *error)
{
    struct overlay_socks5_proxy proxy;
    if (overlay_socks5_proxy(overlay, &proxy, error) < 0)
        return WIPPY_EIO;
    char url[320];
    snprintf(url, sizeof url, "socks5h://%s", proxy.address);
    /* Every setting must hold: a proxy left unset would send the request
     * direct. libcurl reads no_proxy from the environment even for a proxy
     * set here (a host it names would go direct): no host bypasses it. */
    CURLcode result = curl_easy_setopt(easy, CURLOPT_PROXY, url);
    if (result == CURLE_OK)
        result = curl_easy_setopt(easy, CURLOPT_NOPROXY, "");
    if (result == CURLE_OK && proxy.username[0] != '\0') {
        /* Only no authentication (0x00) and username/password (0x02) are
         * offered, as the overlay's own dial does (never GSS-API). */
        result = curl_easy_setopt(easy, CURLOPT_SOCKS5_AUTH, (long)CURLAUTH_BASIC);
        if (result == CURLE_OK)
            result = curl_easy_setopt(easy, CURLOPT_PROXYUSERNAME, proxy.username);
        if (result == CURLE_OK)
            result = curl_easy_setopt(easy, CURLOPT_PROXYPASSWORD, proxy.password);
    } else if (result == CURLE_OK) {
        result = curl_easy_setopt(easy, CURLOPT_SOCKS5_AUTH, (long)CURLAUTH_NONE);
    }
    if (result != CURLE_OK)
        return error_set(error, WIPPY_EIO, "overlay %s: cannot set up the SOCKS5 proxy %s: %s (nothing was sent)",
                         overlay->id, proxy.address, curl_easy_strerror(result));
    memcpy(proxy_address, proxy.address, sizeof proxy.address);
    return WIPPY_OK;
}

/* The number in curl's "... (N)" or "... (A B)": the last one. */
static int trailing_number(const char *message)
{
    const char *open = strrchr(message, '(');
    if (open == NULL)
        return -1;
    int first, second;
    int found = sscanf(open, "(%d %d)", &first, &second);
    return found == 2 ? second : found == 1 ? first : -1;
}

/* strerror's text with a lower-case first letter, as the driver's uv_strerror
 * texts read ("connection refused"). */
static void system_reason(long os_errno, char *out, size_t size)
{
    snprintf(out, size, "%s", os_errno != 0 ? strerror((int)os_errno) : "no answer");
    out[0] = (char)tolower((unsigned char)out[0]);
}

void curl_socks5_failure(CURL *easy, CURLcode result, const char *curl_message, const struct overlay *overlay,
                         const char *proxy_address, const char *host, uint16_t port, const char *prefix,
                         double timeout_seconds, struct wippy_error *error)
{
    long proxy_code = CURLPX_OK, os_errno = 0;
    curl_easy_getinfo(easy, CURLINFO_PROXY_ERROR, &proxy_code);
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    curl_off_t connected_after = 0;
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected_after);
    const char *id = overlay->id;
    char reason[256];
    if (result == CURLE_OPERATION_TIMEDOUT) {
        /* curl counts a connection made once TLS is up too, so this is
         * "not connected yet", wherever it waits. */
        if (connected_after == 0)
            error_set(error, WIPPY_ETIMEDOUT, "%s: timed out after %.3gs: overlay %s still connecting through the SOCKS5 "
                      "proxy %s (the proxy's greeting, authentication or CONNECT reply, or the target's TLS "
                      "handshake, never came)", prefix, timeout_seconds, id, proxy_address);
        else
            error_set(error, WIPPY_ETIMEDOUT, "%s: timed out after %.3gs", prefix, timeout_seconds);
        return;
    }
    if (result == CURLE_COULDNT_RESOLVE_PROXY) {
        error_set(error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: cannot resolve the proxy's host name", id,
                  proxy_address);
        return;
    }
    if (result == CURLE_COULDNT_CONNECT && proxy_code == CURLPX_OK) {
        system_reason(os_errno, reason, sizeof reason);
        error_set(error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: cannot reach the proxy: %s", id, proxy_address,
                  reason);
        return;
    }
    if (result != CURLE_PROXY || proxy_code == CURLPX_OK) {
        error_set(error, WIPPY_EIO, "%s: %s", prefix, curl_message[0] != '\0' ? curl_message : curl_easy_strerror(result));
        return;
    }
    int number = trailing_number(curl_message);
    /* RFC 1928's replies have their own codes; only the others (Tor's
     * 0xF0-0xF7) are read from curl's message, which a long host name can
     * cut before the number. */
    static const struct {
        long code;
        int reply;
    } replies[] = {
        {CURLPX_REPLY_GENERAL_SERVER_FAILURE, 0x01}, {CURLPX_REPLY_NOT_ALLOWED, 0x02},
        {CURLPX_REPLY_NETWORK_UNREACHABLE, 0x03},    {CURLPX_REPLY_HOST_UNREACHABLE, 0x04},
        {CURLPX_REPLY_CONNECTION_REFUSED, 0x05},     {CURLPX_REPLY_TTL_EXPIRED, 0x06},
        {CURLPX_REPLY_COMMAND_NOT_SUPPORTED, 0x07},  {CURLPX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED, 0x08},
    };
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++)
        if (replies[i].code == proxy_code)
            number = replies[i].reply;
    switch (proxy_code) {
    case CURLPX_REPLY_GENERAL_SERVER_FAILURE:
    case CURLPX_REPLY_NOT_ALLOWED:
    case CURLPX_REPLY_NETWORK_UNREACHABLE:
    case CURLPX_REPLY_HOST_UNREACHABLE:
    case CURLPX_REPLY_CONNECTION_REFUSED:
    case CURLPX_REPLY_TTL_EXPIRED:
    case CURLPX_REPLY_COMMAND_NOT_SUPPORTED:
    case CURLPX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED:
    case CURLPX_REPLY_UNASSIGNED:
        if (number > 0 && number < 256)
            error_set(error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: connect to %s:%u failed: %s (reply 0x%02x)",
                      id, proxy_address, host, port, socks5_reply_message((uint8_t)number), number);
        else
            error_set(error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: connect to %s:%u failed: an unassigned reply "
                      "(its number did not fit in curl's message)", id, proxy_address, host, port);
        return;
    case CURLPX_USER_REJECTED:
        error_set(error, WIPPY_EIO,
                  "overlay %s: SOCKS5 proxy %s: authentication failed: the proxy rejected the username or "
                  "password (status 0x%02x)", id, proxy_address, number >= 0 ? number : 0xff);
        return;
    case CURLPX_NO_AUTH:
        error_set(error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: %s", id, proxy_address,
                  overlay->config.socks5.username != NULL || overlay->config.socks5.isolate_streams
                      ? "the proxy accepts neither no authentication nor username/password"
                      : "the proxy requires authentication (set username and password)");
        return;
    case CURLPX_CLOSED:
    case CURLPX_RECV_REQACK:
    case CURLPX_RECV_AUTH:
    case CURLPX_RECV_CONNECT:
    case CURLPX_RECV_ADDRESS:
        error_set(error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: the proxy closed the connection during the "
                  "SOCKS5 handshake (%s)", id, proxy_address, curl_message);
        return;
    case CURLPX_BAD_VERSION:
    case CURLPX_BAD_ADDRESS_TYPE:
        error_set(error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: malformed reply (%s)", id, proxy_address,
                  curl_message);
        return;
    case CURLPX_LONG_HOSTNAME:
        error_set(error, WIPPY_EINVAL, "overlay %s: host name is longer than SOCKS5 can carry (%d); it is not "
                  "resolved locally instead", id, CURL_SOCKS5_MAX_HOST);
        return;
    default:
        break;
    }
    error_set(error, WIPPY_EIO, "overlay %s: SOCKS5 proxy %s: the SOCKS5 handshake failed: %s", id,
              proxy_address, curl_message[0] != '\0' ? curl_message : curl_easy_strerror(result));
}
