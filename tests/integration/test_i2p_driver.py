"""The network.i2p driver against a recording SAM bridge of the suite: what
a real router cannot show (every RESULT, bytes sent with the STATUS line, a
bridge that drops the session or dies mid-stream). The real router network
is in test_i2p.py."""
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import APPS, run_wippy, wippy_binary
from peers import IpService, RecordingSam, b32_of, fake_destination, free_port, i2p_base64

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n"
            b"Connection: close\r\n\r\n{\"ip\": \"i2p-peer\"}")
RESULTS = ["CANT_REACH_PEER", "I2P_ERROR", "INVALID_KEY", "INVALID_ID", "TIMEOUT"]


def behaviour(destination):
    for result in RESULTS:
        if destination.startswith(result.lower().replace("_", "")):
            return ("result", result)
    if destination.startswith("midstream"):
        return ("midstream", RESPONSE[:80])
    return ("serve", RESPONSE)


def b32(name):
    """A .b32.i2p-looking address whose first letters pick the behaviour."""
    return (name + "a" * 52)[:52] + ".b32.i2p"


@pytest.fixture
def make_network(tmp_path):
    created = []

    def make(sam):
        ports = {"SAM_PORT": sam.port}
        app = tmp_path / f"app{len(created)}"
        shutil.copytree(APPS / "network", app)
        index = app / "src" / "_index.yaml"
        text = index.read_text()
        for name in ("PROXY_PORT", "AUTH_PORT", "RECORDER_PORT", "SILENT_PORT", "DEAD_PORT",
                     "TOR_PORT", "TOR_EXTENDED_PORT"):
            text = text.replace(f"@{name}@", str(free_port()))
        text = text.replace("@SAM_PORT@", str(sam.port))
        index.write_text(text)
        created.append(sam)
        return app

    yield make
    for sam in created:
        sam.close()


def fetch(app, url, overlay="app:i2p"):
    return run_wippy(app, "run", "scenario", "fetch", url, overlay, timeout=30)


def test_one_session_serves_every_dial_and_bytes_with_the_status_line_are_kept(make_network):
    sam = RecordingSam(behaviour)
    app = make_network(sam)
    result = run_wippy(app, "run", "scenario", "sequential", f"http://{b32('serve')}/", "app:i2p", "3")
    assert result.out == "ok\t3\n", result
    assert sam.sessions == 1
    creates = [c for c in sam.commands if c.startswith("SESSION CREATE")]
    assert len(creates) == 1
    session_id = re.search(r"ID=(wippy-test-[0-9a-f]{8}) ", creates[0]).group(1)
    assert creates == [f"SESSION CREATE STYLE=STREAM ID={session_id} DESTINATION=TRANSIENT "
                       "SIGNATURE_TYPE=7 inbound.length=0 outbound.length=0"]
    connects = [c for c in sam.commands if c.startswith("STREAM CONNECT")]
    assert connects == [f"STREAM CONNECT ID={session_id} DESTINATION={b32('serve')} SILENT=false"] * 3
    assert all(c.startswith("HELLO VERSION MIN=3.1 MAX=3.3") for c in sam.commands if c.startswith("HELLO"))


def test_keys_are_kept_and_reused_across_restarts(make_network):
    sam = RecordingSam(behaviour)
    app = make_network(sam)
    first = fetch(app, f"http://{b32('serve')}/")
    assert first.out == "i2p-peer\n", first
    keys = (app / ".wippy" / "net" / "i2p" / "i2p.keys").read_text().strip()
    assert keys == i2p_base64(sam.own + b"\x00" * 64)
    second = fetch(app, f"http://{b32('serve')}/")
    assert second.out == "i2p-peer\n"
    creates = [c for c in sam.commands if c.startswith("SESSION CREATE")]
    assert re.fullmatch("SESSION CREATE STYLE=STREAM ID=wippy-test-[0-9a-f]{8} DESTINATION=" + re.escape(keys) +
                        " inbound.length=0 outbound.length=0", creates[1])
    assert f"destination {b32_of(sam.own)}" in first.err


def test_a_destination_the_bridge_still_holds_is_given_back_and_asked_for_again(make_network):
    sam = RecordingSam(behaviour)
    app = make_network(sam)
    assert fetch(app, f"http://{b32('serve')}/").out == "i2p-peer\n"
    sam.held_destinations = 1
    started = time.monotonic()
    again = fetch(app, f"http://{b32('serve')}/")
    assert again.out == "i2p-peer\n", again
    assert "the SAM bridge still held this destination from an earlier session; " \
           "creating the session again in 7 s" in again.err
    assert time.monotonic() - started >= 7
    creates = [c for c in sam.commands if c.startswith("SESSION CREATE")]
    assert len(creates) == 3
    assert len({re.search("ID=(\\S+)", c).group(1) for c in creates}) == 3


@pytest.mark.parametrize("result", RESULTS)
def test_every_stream_status_result_is_a_readable_error(make_network, result):
    sam = RecordingSam(behaviour)
    app = make_network(sam)
    name = result.lower().replace("_", "")
    outcome = fetch(app, f"http://{b32(name)}/")
    assert outcome.out.startswith(f"error: overlay app:i2p: SAM bridge 127.0.0.1:{sam.port}: "
                                  f"connect to {b32(name)} failed: "), outcome
    assert f"({result}: as asked)" in outcome.out


def test_i2p_names_are_looked_up_through_the_bridge(make_network):
    destination = i2p_base64(fake_destination("named site"))
    sam = RecordingSam(behaviour, names={"site.i2p": destination})
    app = make_network(sam)
    assert fetch(app, "http://site.i2p/").out == "i2p-peer\n"
    assert f"NAMING LOOKUP NAME=site.i2p" in sam.commands
    assert any(re.fullmatch(f"STREAM CONNECT ID=wippy-test-[0-9a-f]{{8}} DESTINATION={re.escape(destination)} SILENT=false", c)
               for c in sam.commands)
    missing = fetch(app, "http://nowhere.i2p/")
    assert "cannot look up nowhere.i2p: the name is not known to the I2P address book (KEY_NOT_FOUND)" in missing.out


def test_clearnet_hosts_fail_and_nothing_goes_direct(make_network):
    sam = RecordingSam(behaviour)
    app = make_network(sam)
    target = IpService()
    try:
        outcome = fetch(app, target.url)
        assert outcome.out == (f"error: overlay app:i2p: 127.0.0.1 is not an I2P destination (I2P has no "
                               "outproxy here: use a .i2p name, a .b32.i2p address or a base64 destination)\n"), outcome
        assert target.clients == []
        assert not any(c.startswith("STREAM CONNECT") for c in sam.commands)
    finally:
        target.close()


def test_a_dropped_session_is_created_again_on_the_next_dial(make_network):
    sam = RecordingSam(behaviour, drop_session_after=1)
    app = make_network(sam)
    result = run_wippy(app, "run", "scenario", "sequential", f"http://{b32('serve')}/", "app:i2p", "2", "0.3")
    assert result.out == "ok\t2\n", result
    assert sam.sessions == 2
    assert "the bridge closed the session's control connection (the session will be created again" in result.err


def test_the_bridge_dying_mid_stream_is_an_error(make_network):
    sam = RecordingSam(behaviour)
    app = make_network(sam)
    outcome = fetch(app, f"http://{b32('midstream')}/")
    assert outcome.out.startswith(f"error: GET http://{b32('midstream')}/: transfer closed"), outcome


def test_the_bridge_down_is_an_error(make_network):
    sam = RecordingSam(behaviour)
    app = make_network(sam)
    outcome = fetch(app, f"http://{b32('serve')}/", "app:i2p_dead")
    assert outcome.out.startswith("error: overlay app:i2p_dead: SAM bridge 127.0.0.1:"), outcome
    assert "cannot reach the bridge: connection refused" in outcome.out


def test_a_refusal_followed_by_more_lines_in_one_read_is_one_error(make_network):
    # the refusal ends the conversation half-way through the bytes of one
    # read; the rest must not be looked at (under ASan: no use after free)
    sam = RecordingSam(behaviour, hello_reply=b"HELLO REPLY RESULT=NOVERSION\nSTREAM STATUS RESULT=OK\n")
    app = make_network(sam)
    outcome = fetch(app, f"http://{b32('serve')}/")
    assert outcome.code == 0 and outcome.err == "", outcome
    assert outcome.out.startswith(f"error: overlay app:i2p: SAM bridge 127.0.0.1:{sam.port}: HELLO refused"), outcome


@pytest.fixture
def i2p_service(tmp_path):
    """The i2p_service app (an http.service on I2P) against a recording
    bridge, started with `wippy run` and stopped with SIGTERM."""
    sam = RecordingSam()
    app = tmp_path / "service"
    shutil.copytree(APPS / "i2p_service", app)
    index = app / "src" / "_index.yaml"
    index.write_text(index.read_text().replace("@SAM_PORT@", str(sam.port)))
    process = subprocess.Popen([wippy_binary(), "run"], cwd=app, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in process.stderr:  # the service says where it listens once the session is up
            lines.append(line)
            if "app:server listening on " in line:
                break
        yield sam, process, lines
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        finally:
            process.kill()
            sam.close()


def test_a_service_on_i2p_accepts_a_caller_and_sees_its_b32(i2p_service):
    sam, process, lines = i2p_service
    assert f"app:server listening on {b32_of(sam.own)} via app:i2p\n" in lines[-1], lines
    caller = fake_destination("caller")
    answer = sam.inbound(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", caller)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
    assert f'"ip":"{b32_of(caller)}"'.encode() in answer.replace(b" ", b""), answer
    # the listener asks for the next caller at once
    deadline = time.monotonic() + 10
    while len([c for c in sam.commands if c.startswith("STREAM ACCEPT")]) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    accepts = [c for c in sam.commands if c.startswith("STREAM ACCEPT")]
    assert len(accepts) == 2, sam.commands
    assert all(re.fullmatch(r"STREAM ACCEPT ID=wippy-service-[0-9a-f]{8} SILENT=false", c) for c in accepts)


def test_a_service_on_i2p_serves_callers_one_after_another(i2p_service):
    sam, process, _ = i2p_service
    for name in ("first", "second", "third"):
        caller = fake_destination(name)
        answer = sam.inbound(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", caller)
        assert b32_of(caller).encode() in answer, (name, answer)
