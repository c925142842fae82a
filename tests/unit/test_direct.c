/* test_direct.c - the direct network as a driver, on loopback: its listener
 * accepts what its dialer connects, names are looked up off the loop, and a
 * refused connection is one line. */
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>
#include <uv.h>

#include "net/overlay.h"
#include "test.h"

struct outcome {
    struct overlay_connection *dialed;
    struct overlay_connection *accepted;
    char remote[128];
    struct wippy_error error;
    bool dial_done;
};

static void on_accept(void *context, struct overlay_connection *connection, const char *remote_address)
{
    struct outcome *outcome = context;
    outcome->accepted = connection;
    snprintf(outcome->remote, sizeof outcome->remote, "%s", remote_address);
}

static void on_listen_failed(void *context, const struct wippy_error *error)
{
    struct outcome *outcome = context;
    outcome->error = *error;
}

static void on_dialed(void *context, struct overlay_connection *connection, const struct wippy_error *error)
{
    struct outcome *outcome = context;
    outcome->dial_done = true;
    outcome->dialed = connection;
    if (error != NULL)
        outcome->error = *error;
}

/* Runs the loop until the dial is done and, when expected, a connection
 * was accepted (at most about five seconds). */
static void run_until(uv_loop_t *loop, struct outcome *outcome, bool expect_accept)
{
    for (int round = 0; round < 5000; round++) {
        if (outcome->dial_done && (!expect_accept || outcome->accepted != NULL))
            return;
        uv_run(loop, UV_RUN_NOWAIT);
        uv_sleep(1);
    }
}

static int port_of(const char *address)
{
    const char *colon = strrchr(address, ':');
    return colon != NULL ? atoi(colon + 1) : -1;
}

static void close_all(uv_loop_t *loop, struct overlay_set *set, struct outcome *outcome)
{
    if (outcome->dialed != NULL)
        overlay_connection_close(outcome->dialed);
    if (outcome->accepted != NULL)
        overlay_connection_close(outcome->accepted);
    overlay_set_close(set);
    uv_run(loop, UV_RUN_DEFAULT);
}

TEST(test_direct_dials_what_it_accepts_on_loopback)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct overlay_set set = {.loop = &loop};
    struct overlay *direct = overlay_direct(&set);
    CHECK(overlay_is_plain_tcp(direct));
    struct outcome outcome = {0};
    struct overlay_listen_handlers handlers = {on_accept, on_listen_failed, &outcome, false};
    struct wippy_error error;
    struct overlay_listener *listener = overlay_listen(direct, "test", "127.0.0.1:0", &handlers, &error);
    CHECK(listener != NULL);
    const char *address = overlay_listener_address(direct, listener);
    CHECK_CONTAINS(address, "127.0.0.1:");
    int port = port_of(address);
    CHECK(port > 0);
    CHECK(overlay_dial(direct, "localhost", (uint16_t)port, INT64_C(5000000000), on_dialed, &outcome,
                       &error) != NULL);
    run_until(&loop, &outcome, true);
    CHECK(outcome.dial_done);
    CHECK(outcome.dialed != NULL);
    CHECK(outcome.accepted != NULL);
    CHECK_CONTAINS(outcome.remote, "127.0.0.1:");
    overlay_stop_listening(direct, listener);
    close_all(&loop, &set, &outcome);
    CHECK_EQUAL(uv_loop_close(&loop), 0);
}

/* Gives this test process its own /etc/hosts, in which `name` is ::1 first
 * and 127.0.0.1 second (the test runs in a process of its own). */
static const char *private_hosts_file(const char *name)
{
    static char path[] = "/tmp/wippy-test-hosts-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return "cannot create a hosts file";
    dprintf(fd, "::1 %s\n127.0.0.1 %s\n", name, name);
    close(fd);
    const char *problem = NULL;
    if (unshare(CLONE_NEWNS) != 0)
        problem = "no mount namespace here (needs root)";
    else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
             mount(path, "/etc/hosts", NULL, MS_BIND, NULL) != 0)
        problem = "cannot bind a hosts file over /etc/hosts";
    unlink(path);
    return problem;
}

TEST(test_direct_tries_each_address_of_a_name_in_turn)
{
    const char *problem = private_hosts_file("two-addresses.test");
    if (problem != NULL)
        SKIP(problem);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct overlay_set set = {.loop = &loop};
    struct overlay *direct = overlay_direct(&set);
    struct outcome outcome = {0};
    struct overlay_listen_handlers handlers = {on_accept, on_listen_failed, &outcome, false};
    struct wippy_error error;
    struct overlay_listener *listener = overlay_listen(direct, "test", "127.0.0.1:0", &handlers, &error);
    CHECK(listener != NULL);
    int port = port_of(overlay_listener_address(direct, listener));
    CHECK(overlay_dial(direct, "two-addresses.test", (uint16_t)port, INT64_C(5000000000), on_dialed,
                       &outcome, &error) != NULL);
    run_until(&loop, &outcome, true);
    CHECK(outcome.dial_done);
    CHECK_STRING(outcome.error.message, "");
    CHECK(outcome.dialed != NULL);
    CHECK(outcome.accepted != NULL);
    overlay_stop_listening(direct, listener);
    close_all(&loop, &set, &outcome);
    CHECK_EQUAL(uv_loop_close(&loop), 0);
}

/* A loopback port that was free a moment ago: listened on, noted, closed. */
static int closed_port(uv_loop_t *loop, struct overlay *direct)
{
    struct outcome unused = {0};
    struct overlay_listen_handlers handlers = {on_accept, on_listen_failed, &unused, false};
    struct wippy_error error;
    struct overlay_listener *listener = overlay_listen(direct, "test", "127.0.0.1:0", &handlers, &error);
    if (listener == NULL)
        return -1;
    int port = port_of(overlay_listener_address(direct, listener));
    overlay_stop_listening(direct, listener);
    uv_run(loop, UV_RUN_NOWAIT);
    return port;
}

TEST(test_direct_reports_a_refused_connection_in_one_line)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct overlay_set set = {.loop = &loop};
    struct overlay *direct = overlay_direct(&set);
    int port = closed_port(&loop, direct);
    CHECK(port > 0);
    struct wippy_error error;
    struct outcome outcome = {0};
    CHECK(overlay_dial(direct, "127.0.0.1", (uint16_t)port, INT64_C(5000000000), on_dialed, &outcome,
                       &error) != NULL);
    run_until(&loop, &outcome, false);
    CHECK(outcome.dial_done);
    CHECK(outcome.dialed == NULL);
    CHECK_CONTAINS(outcome.error.message, "direct: 127.0.0.1:");
    CHECK_CONTAINS(outcome.error.message, "cannot connect: connection refused");
    close_all(&loop, &set, &outcome);
    CHECK_EQUAL(uv_loop_close(&loop), 0);
}

TEST(test_direct_refuses_a_listen_address_it_cannot_read)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct overlay_set set = {.loop = &loop};
    struct overlay *direct = overlay_direct(&set);
    struct outcome outcome = {0};
    struct overlay_listen_handlers handlers = {on_accept, on_listen_failed, &outcome, false};
    struct wippy_error error;
    CHECK(overlay_listen(direct, "test", "example.com:80", &handlers, &error) == NULL);
    CHECK_CONTAINS(error.message, "addr \"example.com:80\": expected an IP address and a port");
    overlay_set_close(&set);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQUAL(uv_loop_close(&loop), 0);
}
