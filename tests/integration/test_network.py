"""Outbound HTTP through SOCKS5 overlays (SPEC sections 4 to 6) against
real microsocks and our recording peer, through the real binary."""
import os
import re
import shutil

import pytest

from conftest import APPS, one_command_index, run_wippy
from peers import IpService, Microsocks, RecordingSocks5, SilentListener, free_port


@pytest.fixture
def target():
    service = IpService()
    yield service
    service.close()


@pytest.fixture
def network(tmp_path, target):
    """The tests/apps/network project with live peers behind its entries."""
    proxy = Microsocks()
    auth = Microsocks("alice", "secret")
    names = {"only-the-proxy-knows.test": "127.0.0.1"}

    malformed = {
        "bad-version.test": b"\x04\x00\x00\x01\x00\x00\x00\x00\x00\x00",
        "truncated.test": b"\x05\x00\x00",
        "garbage.test": b"\x05\x00\x00\x09\xff\xff\xff\xff\xff\xff\xff",
    }

    def recorder_behaviour(dial):
        match = re.fullmatch(r"(?:[a-z]+\.)*code-(\d+)\.test", dial["host"])
        if match:
            return ("reply", int(match.group(1)))
        if dial["host"] in malformed:
            return ("raw", malformed[dial["host"]])
        return "relay"

    recorder = RecordingSocks5(names=names, behaviour=recorder_behaviour)
    silent = RecordingSocks5(behaviour=lambda dial: "silent")
    silent_greeting = SilentListener()
    ports = {
        "PROXY_PORT": proxy.port,
        "AUTH_PORT": auth.port,
        "RECORDER_PORT": recorder.port,
        "SILENT_PORT": silent_greeting.port,
        "DEAD_PORT": free_port(),
        "TOR_PORT": free_port(),
        "SAM_PORT": free_port(),
        "TOR_EXTENDED_PORT": free_port(),
    }
    shutil.copytree(APPS / "network", tmp_path / "app")
    index = tmp_path / "app" / "src" / "_index.yaml"
    text = index.read_text()
    for name, port in ports.items():
        text = text.replace(f"@{name}@", str(port))
    index.write_text(text)

    class Network:
        app = tmp_path / "app"

        def run(self, *args, **kw):
            return run_wippy(self.app, *args, **kw)

        def scenario(self, *args, **kw):
            return run_wippy(self.app, "run", "scenario", *args, **kw)

    network = Network()
    network.recorder = recorder
    network.target = target
    yield network
    for peer in (proxy, auth, recorder, silent, silent_greeting):
        peer.close()


def test_direct_and_routed_requests_are_told_apart_by_the_target(network, target):
    direct = network.scenario("fetch", target.url)
    routed = network.scenario("fetch", target.url, "app:proxy")
    assert (direct.code, direct.out) == (0, "127.0.0.1\n"), direct
    assert (routed.code, routed.out) == (0, "127.0.0.2\n"), routed


def test_post_with_headers_query_and_body_through_the_overlay(network, target):
    result = network.scenario("post", target.url, "app:proxy")
    assert result.code == 0, result
    status, content_type, body = result.out.rstrip("\n").split("\t")
    assert (status, content_type) == ("200", "application/json")
    assert '"ip": "127.0.0.2"' in body and '"method": "POST"' in body
    assert '"body": "payload"' in body and '"path": "/?a=1+2"' in body  # Go's query encoding


def test_a_post_without_a_body_sends_an_empty_one(network, target):
    """Not curl's default of reading the body from standard input."""
    result = network.scenario("post_empty", target.url, stdin="do not send this")
    assert result.lines == ["200\tPOST\t[]"], result


def test_username_and_password_authentication(network, target):
    good = network.scenario("fetch", target.url, "app:auth_proxy")
    assert good.out == "127.0.0.2\n", good
    bad = network.scenario("fetch", target.url, "app:wrong_password")
    assert bad.out.startswith("error: overlay app:wrong_password: SOCKS5 proxy 127.0.0.1:"), bad
    assert "authentication failed" in bad.out


def test_a_dead_proxy_fails_closed_and_nothing_goes_direct(network, target):
    result = network.scenario("fetch", target.url, "app:dead")
    assert result.out.startswith("error: overlay app:dead: SOCKS5 proxy"), result
    assert "cannot reach the proxy: connection refused" in result.out
    assert target.clients == []


def test_proxy_variables_of_the_environment_change_nothing(network, target):
    """libcurl reads no_proxy even for a proxy the program set: a host it
    names would go direct. Neither it nor the other proxy variables may move
    a request off its overlay, or put a direct one on a proxy."""
    import os
    env = {**os.environ, "no_proxy": "*", "NO_PROXY": "*", "all_proxy": "socks5h://127.0.0.1:1",
           "ALL_PROXY": "socks5h://127.0.0.1:1", "http_proxy": "http://127.0.0.1:1"}
    routed = network.scenario("fetch", target.url, "app:proxy", env=env)
    assert routed.out == "127.0.0.2\n", routed
    recorded = network.scenario("fetch", target.url, "app:recorder", env=env)
    assert recorded.out == "127.0.0.1\n", recorded
    assert network.recorder.dials and network.recorder.dials[-1]["port"] == target.port
    direct = network.scenario("fetch", target.url, env=env)
    assert direct.out == "127.0.0.1\n", direct
    assert target.clients == ["127.0.0.2", "127.0.0.1", "127.0.0.1"]


def test_hostnames_go_to_the_proxy_as_names_and_are_never_resolved_locally(network, target):
    url = f"http://only-the-proxy-knows.test:{target.port}/"
    result = network.scenario("fetch", url, "app:recorder")
    assert result.out == "127.0.0.1\n", result  # the recorder relays from 127.0.0.1
    dial = network.recorder.dials[-1]
    assert dial["atyp"] == 3
    assert dial["host"] == "only-the-proxy-knows.test" and dial["port"] == target.port
    # The name does not resolve on this machine: a local lookup would have failed.
    direct = network.scenario("fetch", url)
    assert direct.out.startswith("error: GET http://only-the-proxy-knows.test"), direct


def test_hostnames_longer_than_255_bytes_fail_without_local_resolution(network, target):
    long_host = ("a" * 60 + ".") * 4 + "b" * 30 + ".test"  # 279 bytes
    result = network.scenario("fetch", f"http://{long_host}:{target.port}/", "app:recorder")
    assert "longer than SOCKS5 can carry (255)" in result.out, result
    assert network.recorder.dials == []
    assert target.clients == []


def test_configured_credentials_are_reused_without_isolation(network, target):
    result = network.scenario("sequential", target.url, "app:recorder", "20")
    assert result.out == "ok\t20\n", result
    dials = network.recorder.dials
    assert dials and all(d["username"] == "wippy" and d["password"] == "configured" for d in dials)
    assert all(d["methods"] == [0, 2] for d in dials)
    assert len(dials) < 20  # keep-alive: connections of one overlay are reused


def test_credentials_reach_the_proxy_byte_for_byte(network, target):
    """Proxy credentials arrive as configured: %41 as the three bytes %41
    (libcurl 7.88 URL-decoded them; 8.x does not), and a URL's special
    characters as they are."""
    result = network.scenario("fetch", target.url, "app:percent")
    assert result.out == "127.0.0.1\n", result
    dial = network.recorder.dials[-1]
    assert (dial["username"], dial["password"]) == ("us%41r %00", "p%41ss:@/?#"), dial


def test_isolate_streams_uses_fresh_credentials_per_dial(network, target):
    result = network.scenario("sequential", target.url, "app:isolated", "1000", timeout=120)
    assert result.out == "ok\t1000\n", result
    dials = network.recorder.dials
    assert len(dials) == 1000  # never reused
    users = [d["username"] for d in dials]
    assert len(set(users)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{16}", u) for u in users)
    assert all(d["password"] == d["username"] for d in dials)
    assert "ignored" not in users


def test_isolate_streams_with_64_concurrent_requests(network, target):
    result = network.scenario("concurrent", target.url, "app:isolated", "64", timeout=60)
    assert result.out == "ok\t64\terrors\t0\n", result
    users = [d["username"] for d in network.recorder.dials]
    assert len(users) == 64 and len(set(users)) == 64


def test_reply_codes_become_readable_errors(network, target):
    result = network.scenario("codes", f"http://%s:{target.port}/")
    assert result.code == 0, result
    expected = {
        "0x01": "general SOCKS server failure", "0x02": "connection not allowed by ruleset",
        "0x03": "network unreachable", "0x04": "host unreachable", "0x05": "connection refused",
        "0x06": "TTL expired", "0x07": "command not supported", "0x08": "address type not supported",
        "0xf0": "onion service descriptor not found", "0xf1": "onion service descriptor is invalid",
        "0xf2": "onion service introduction failed", "0xf3": "onion service rendezvous failed",
        "0xf4": "onion service client authorization missing",
        "0xf5": "onion service client authorization wrong", "0xf6": "invalid onion service address",
        "0xf7": "onion service introduction timed out",
    }
    lines = dict(line.split("\t", 1) for line in result.lines)
    for code, text in expected.items():
        assert f"connect to code-{int(code, 16)}.test:{target.port} failed: {text} (reply {code})" in lines[code]
        assert lines[code].startswith("overlay app:recorder: SOCKS5 proxy localhost:")
    assert target.clients == []


def test_reply_codes_of_long_host_names_are_read_as_well(network, target):
    """curl's message (256 bytes) cannot hold a 240-byte host and the reply
    number after it: the standard codes are read from curl's own code, and
    an extended one says its number was lost rather than guessing."""
    prefix = ("a" * 60 + ".") * 3 + "b" * 40 + "."
    host = prefix + "code-4.test"
    result = network.scenario("fetch", f"http://{host}:{target.port}/", "app:recorder")
    assert f"connect to {host}:{target.port} failed: host unreachable (reply 0x04)" in result.out, result
    host = prefix + f"code-{0xf0}.test"
    result = network.scenario("fetch", f"http://{host}:{target.port}/", "app:recorder")
    assert "failed: onion service descriptor not found (reply 0xf0)" in result.out or \
        "an unassigned reply (its number did not fit in curl's message)" in result.out, result
    assert target.clients == []


def test_malformed_replies_are_errors(network, target):
    result = network.scenario("malformed", f"http://%s:{target.port}/")
    assert result.code == 0, result
    lines = dict(line.split("\t", 1) for line in result.lines)
    prefix = "overlay app:recorder: SOCKS5 proxy localhost:"
    assert all(line.startswith(prefix) for line in lines.values()), result
    assert "malformed reply (SOCKS5 reply has wrong version" in lines["bad-version.test"], result
    assert "the proxy closed the connection during the SOCKS5 handshake" in lines["truncated.test"], result
    assert "malformed reply (SOCKS5 reply has wrong address type" in lines["garbage.test"], result
    assert target.clients == []


def test_connections_never_cross_overlays_or_go_direct(network, target):
    result = network.scenario("alternate", target.url)
    assert result.out == "127.0.0.2 127.0.0.1 127.0.0.2 127.0.0.1 127.0.0.2\n", result


def test_a_proxy_that_never_answers_times_out_while_direct_traffic_flows(network, target):
    result = network.scenario("silent", target.url, timeout=20)
    assert result.code == 0, result
    assert result.lines[0] == "direct\t200"
    assert "timed out" in result.lines[1] and "app:silent" in result.lines[1], result
    assert "greeting" in result.lines[1]
    assert result.lines[2] == "bounded\ttrue"


def test_unknown_overlay_id_fails_the_call(network, target):
    result = network.scenario("fetch", target.url, "app:nope")
    assert result.out == 'error: overlay network "app:nope": not found\n'
    not_network = network.scenario("fetch", target.url, "app:probe")
    assert not_network.out == 'error: overlay network "app:probe": not found\n'
    assert target.clients == []


def test_false_selects_direct(network, target):
    result = network.scenario("fetch", target.url, "false")
    assert result.out == "127.0.0.1\n", result


class TestSelectionMatrix:
    """Explicit > inherited > default > direct, at every edge (SPEC 5)."""

    def test_funcs_callee_inherits_and_the_caller_is_unchanged(self, network, target):
        result = network.scenario("funcs", target.url)
        assert result.lines == ["callee\t127.0.0.2", "caller\t127.0.0.1"], result

    def test_spawned_child_and_its_descendants_inherit(self, network, target):
        result = network.scenario("spawn", target.url)
        assert result.lines == [
            "child grandchild greatgrandchild\t127.0.0.2 127.0.0.2 127.0.0.2",
            "parent\t127.0.0.1",
        ], result

    def test_funcs_then_process_then_funcs(self, network, target):
        result = network.scenario("chain", target.url)
        assert result.lines == ["funcs process funcs\t127.0.0.2"], result

    def test_a_child_override_changes_only_its_subtree(self, network, target):
        result = network.scenario("override", target.url)
        assert result.lines == ["override\t127.0.0.1 / self 127.0.0.2"], result

    def test_default_applies_at_the_root_and_never_overrides_an_inherited_choice(self, network, target):
        result = network.run("--set", "network_service.default_network=app:proxy",
                             "run", "scenario", "default", target.url)
        assert result.lines == ["root\t127.0.0.2", "explicit false below\t127.0.0.1"], result

    def test_explicit_selections_are_denied_at_every_edge(self, network, target):
        result = network.scenario("denied", target.url)
        assert result.lines == [
            "http: not allowed: network app:proxy",
            "http false: not allowed: network direct",
            "funcs: not allowed: network app:proxy",
            "spawn: not allowed: network app:proxy",
            "inherited: 127.0.0.1",
        ], result

    def test_an_allowed_overlay_passes_while_direct_is_denied(self, network, target):
        result = network.scenario("proxy_only", target.url)
        assert result.lines == [
            "http: nil",
            "http false: not allowed: network direct",
            "funcs: nil",
            "spawn: nil",
            "inherited: 127.0.0.1",  # nothing chosen on the way: direct, unchecked
        ], result

    def test_a_private_target_through_an_overlay_needs_its_permission(self, network, target):
        allowed = network.scenario("private_ip", target.url, "proxy_only")
        assert allowed.lines == ["127.0.0.2"], allowed
        target.clients.clear()
        denied = network.scenario("private_ip", target.url, "proxy_without_private")
        assert denied.lines == ["error: not allowed: private IP 127.0.0.1 via overlay network"], denied
        assert target.clients == []

    def test_a_redirect_to_a_private_address_through_an_overlay_needs_the_permission_too(self, network,
                                                                                          target):
        # the first URL names a host (never resolved here, so not checked);
        # the proxy resolves it to loopback, and the redirect names 127.0.0.1
        by_name = target.url.replace("127.0.0.1", "localhost") + "to-literal"
        allowed = network.scenario("private_ip", by_name, "proxy_only")
        assert allowed.lines == ["127.0.0.2"], allowed
        target.clients.clear()
        denied = network.scenario("private_ip", by_name, "proxy_without_private")
        assert denied.lines == ["error: not allowed: private IP 127.0.0.1 via overlay network"], denied
        assert target.clients == []  # /landed was never asked for (redirects are not recorded)

    def test_an_inherited_overlay_is_used_under_a_denying_scope(self, network, target):
        result = network.scenario("inherited_under_denial", target.url, "app:proxy")
        assert result.lines == ["127.0.0.2"], result
        target.clients.clear()
        dead = network.scenario("inherited_under_denial", target.url, "app:dead")
        assert dead.lines[0].startswith("error: overlay app:dead: SOCKS5 proxy"), dead
        assert "not allowed" not in dead.out
        assert target.clients == []


@pytest.fixture
def certificate(tmp_path):
    from peers import Certificate
    return Certificate(tmp_path)


def test_https_direct_and_through_the_overlay(network, certificate):
    tls_target = IpService(certificate)
    try:
        for overlay, seen in (("direct", "127.0.0.1"), ("app:proxy", "127.0.0.2")):
            trusted = network.scenario("tls", tls_target.url, overlay, certificate.pem)
            assert trusted.out == seen + "\n", trusted
            untrusted = network.scenario("tls", tls_target.url, overlay, "")
            assert untrusted.out.startswith("error: GET https://127.0.0.1:"), untrusted
            assert "certificate" in untrusted.out
            insecure = network.scenario("tls", tls_target.url, overlay, "", "insecure")
            assert insecure.out == seen + "\n", insecure
            # SSL_CERT_FILE is honoured, as curl's users expect
            by_environment = network.scenario("tls", tls_target.url, overlay, "",
                                              env={**os.environ, "SSL_CERT_FILE": certificate.certificate})
            assert by_environment.out == seen + "\n", by_environment
    finally:
        tls_target.close()


def test_redirects_are_followed_through_the_overlay(network, target):
    result = network.scenario("redirect", target.url, "app:proxy")
    assert result.out == f"200\t{target.url}landed\n", result


def test_each_redirect_of_an_isolated_request_gets_fresh_credentials(network, target):
    """curl would give every hop of one transfer the same credentials, and
    Tor would put the first host and the one it redirects to on one circuit."""
    result = network.scenario("redirect", target.url, "app:isolated")
    assert result.out == f"200\t{target.url}landed\n", result
    hops = network.recorder.dials[-2:]
    assert len(network.recorder.dials) == 2 and hops[0]["username"] != hops[1]["username"], hops


@pytest.mark.parametrize("overlay", ["app:isolated", "app:recorder"])
def test_a_redirect_keeps_secrets_at_their_origin_and_follows_the_method_rules(network, target, overlay):
    """The same on curl's own redirects and on an isolated request's (which
    follows its redirects itself): to another host the Authorization header
    stays behind; 302 turns POST into GET without the body, 307 keeps both."""
    same = network.scenario("redirect_with_secret", target.url + "redirect", overlay, "POST")
    assert same.lines == ["200\tGET\t/landed\t\tBearer secret"], same
    other = network.scenario("redirect_with_secret", target.url + "to-name", overlay, "POST")
    assert other.lines == ["200\tGET\t/landed\t\tnil"], other
    kept = network.scenario("redirect_with_secret", target.url + "to-name-307", overlay, "POST")
    assert kept.lines == ["200\tPOST\t/landed\tpayload\tnil"], kept


@pytest.mark.parametrize("overlay", ["direct", "app:proxy"])
def test_a_header_sent_twice_is_joined_under_its_canonical_name(network, target, overlay):
    """As Go's http.Header reads them (Wippy's): one key in canonical case,
    the values joined with ", " in the order they came."""
    result = network.scenario("twice", target.url, overlay)
    assert result.lines == ["first, second\tkept\tnil"], result


def test_max_response_body_limits_what_is_kept(network, target):
    fits = network.scenario("limit", target.url, "app:proxy", "1000", "1000")
    assert fits.out == "1000\tnil\n", fits
    too_big = network.scenario("limit", target.url, "app:proxy", "100000", "1000")
    assert too_big.out.startswith("nil\tGET "), too_big
    assert "larger than max_response_body (1000 bytes)" in too_big.out


def test_a_dial_is_cancelled_when_its_process_dies(network):
    import socket
    silent = SilentListener()
    try:
        app = network.app
        index = app / "src" / "_index.yaml"
        index.write_text(index.read_text().replace("name: dead\n    kind: network.socks5\n    host: 127.0.0.1\n    port: ",
                                                   f"name: dead\n    kind: network.socks5\n    host: 127.0.0.1\n    port: {silent.port}\n    # was: "))
        result = network.scenario("cancel", "http://127.0.0.1:1/", "app:dead")
        assert result.out == "pid.exit\tthe dialing process\tterminated\n", result
        # nothing of the killed request is left behind (LeakSanitizer fails the exit code)
        assert result.code == 0 and result.err == "", result
        # with the process gone, the proxy connection was closed
        assert len(silent.held) == 1
        silent.held[0].settimeout(5)
        assert silent.held[0].recv(16) == b"\x05\x01\x00"  # the greeting, then...
        assert silent.held[0].recv(16) == b""  # ...the close
    finally:
        silent.close()


OPTIONS_APP = one_command_index(["io", "http_client"])

OPTIONS_SCRIPT = r"""
local io, http_client = require("io"), require("http_client")
local cases = {
  {name = "a misspelt option", options = {header = {X = "1"}}},
  {name = "an unknown option", options = {retries = 3}},
  {name = "unix_socket", options = {unix_socket = "/run/docker.sock"}},
  {name = "files", options = {files = {{name = "f", filename = "f", content = "x"}}}},
  {name = "stream", options = {stream = true}},
  {name = "overlay_network 42", options = {overlay_network = 42}},
  {name = "overlay_network true", options = {overlay_network = true}},
  {name = "overlay_network {}", options = {overlay_network = {}}},
  {name = "auth as a string", options = {auth = "alice:secret"}},
  {name = "a key that is not a name", options = {[1] = "x"}},
}
return {main = function(url)
  for _, case in ipairs(cases) do
    local ok, response, err = pcall(http_client.get, url, case.options)
    io.print(case.name, ok, response, err)
  end
  -- in a batch, a malformed request refuses the whole batch (as Go Wippy's parse errors do)
  local responses, err = http_client.request_batch({{"GET", url}, {"GET", url, {overlay_netwrok = false}}})
  io.print("in a batch", responses, err)
end}
"""


def test_an_unknown_or_unsupported_option_is_refused_and_nothing_is_sent(make_app, target):
    app = make_app({"src/_index.yaml": OPTIONS_APP, "src/main.lua": OPTIONS_SCRIPT})
    result = run_wippy(app, "run", "main", target.url)
    assert result.code == 0, result
    assert result.lines == [
        'a misspelt option\ttrue\tnil\tunknown option "header" (did you mean "headers"?)',
        'an unknown option\ttrue\tnil\tunknown option "retries"',
        "unix_socket\ttrue\tnil\toption unix_socket: not supported by this runtime",
        "files\ttrue\tnil\toption files: not supported by this runtime",
        "stream\ttrue\tnil\toption stream: not supported by this runtime",
        "overlay_network 42\ttrue\tnil\toption overlay_network: expected an overlay id (string) or false, got number",
        "overlay_network true\ttrue\tnil\toption overlay_network: expected an overlay id (string) or false, got true",
        "overlay_network {}\ttrue\tnil\toption overlay_network: expected an overlay id (string) or false, got table",
        "auth as a string\ttrue\tnil\toption auth: expected a table, got string",
        "a key that is not a name\ttrue\tnil\toptions: keys must be option names",
        'in a batch\tnil\tunknown option "overlay_netwrok" (did you mean "overlay_network"?)',
    ], result
    assert target.clients == []


def test_a_slip_in_a_spawn_or_call_option_is_refused(make_app):
    app = make_app({"src/_index.yaml": one_command_index(["io", "funcs"]),
                    "src/main.lua": """
local io, funcs = require("io"), require("funcs")
return {main = function()
  io.print(process.with_options({netwrok = "app:tor"}))
  io.print(process.with_options({memory_limt = "4M"}))
  io.print(funcs.new():with_options({netwrk = false}))
  io.print(type(process.with_options({["custom.policy"] = "strict"})))  -- opaque keys pass, as in Go Wippy
end}
"""})
    result = run_wippy(app, "run", "main")
    assert result.lines == [
        'nil\twith_options: unknown option "netwrok" (did you mean "network"?)',
        'nil\twith_options: unknown option "memory_limt" (did you mean "memory_limit"?)',
        'nil\twith_options: unknown option "netwrk" (did you mean "network"?)',
        "userdata",
    ], result
