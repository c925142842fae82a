"""Hostile callers of one network's HTTP pool: a finished request's curl
handle serves the next request of any task on that loop, an isolated
overlay's included, so nothing one caller set may reach another's request
(docs/isolation.md). Each test runs
with one loop so that both requests share the pool, and fails when the
handle is kept without curl_easy_reset."""
import pytest

from conftest import run_wippy
from peers import IpService
from test_network import certificate, network, target  # noqa: F401 (fixtures)


@pytest.mark.parametrize("overlay", ["direct", "app:proxy", "app:isolated"])
def test_a_request_carries_nothing_of_the_caller_before_it(network, target, overlay):
    """A hostile or careless process cannot hand its credentials, headers or
    body to the next caller's request, nor see them in it: the curl handle a
    finished request leaves for the next one (one loop, so one pool) is
    reset first."""
    dials_before = len(network.recorder.dials)
    result = run_wippy(network.app, "run", "--threads", "1", "scenario", "after_another_caller", target.url, overlay)
    assert result.lines == ["first caller:\t200", "GET\t\tnil\tnil"], result
    if overlay == "app:isolated":
        # the second caller's request, on the handle the first left, went
        # out on a connection of its own with credentials of its own
        users = [dial["username"] for dial in network.recorder.dials[dials_before:]]
        assert len(users) == 2 and users[0] != users[1], users


def test_trust_given_to_one_request_is_not_kept_for_the_next(network, certificate):
    """One process, one network (so the next request may get the curl
    handle the last one left): a request with verification off, or with
    its own CA, leaves the next request with neither."""
    tls_target = IpService(certificate)
    try:
        for overlay, seen in (("direct", "127.0.0.1"), ("app:proxy", "127.0.0.2"), ("app:isolated", "127.0.0.1")):
            result = run_wippy(network.app, "run", "--threads", "1", "scenario", "tls_in_turn", tls_target.url,
                               overlay, certificate.pem)
            assert len(result.lines) == 4, result
            assert result.lines[0] == seen and result.lines[2] == seen, result
            for refused in (result.lines[1], result.lines[3]):
                assert refused.startswith("error: ") and "certificate" in refused, result
    finally:
        tls_target.close()
