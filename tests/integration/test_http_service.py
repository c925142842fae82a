"""http.service (SPEC sections 2, 3 and 7) through real clients: curl,
Python's http.client, and raw sockets for what clients would not send."""
import http.client
import json
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import APPS, run_wippy, wippy_binary
from peers import free_port, wait_for_port


class Server:
    def __init__(self, directory, limits="", stack_bytes=None):
        """limits: lines added to the service entry (its limits: map);
        stack_bytes: the server's stack limit (RLIMIT_STACK)."""
        self.port = free_port()
        shutil.copytree(APPS / "web", directory / "web")
        index = directory / "web" / "src" / "_index.yaml"
        text = index.read_text().replace("@PORT@", str(self.port))
        index.write_text(text.replace("    lifecycle:\n      auto_start: true\n", limits + "    lifecycle:\n      auto_start: true\n", 1))
        limit_stack = None if stack_bytes is None else \
            (lambda: resource.setrlimit(resource.RLIMIT_STACK, (stack_bytes, stack_bytes)))
        self.process = subprocess.Popen([wippy_binary(), "run"], cwd=directory / "web", preexec_fn=limit_stack,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_port(self.port)

    def connection(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        connection = self.connection()
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response, data

    def raw(self, data, timeout=5):
        """Sends raw bytes; returns everything the server answers before closing."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            received = b""
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    received += chunk
            except socket.timeout:
                received += b"<timeout>"
            return received

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        finally:
            self.process.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("web"))
    yield running
    running.process.kill()
    running.process.wait()


def test_routes_with_parameters_and_query(server):
    response, data = server.request("GET", "/api/users/42/posts/hello%20world?sort=new&x=1")
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(data) == {"id": "42", "post": "hello world", "sort": "new",
                                "all": {"sort": "new", "x": "1"}}


def test_plain_text_and_headers(server):
    response, data = server.request("GET", "/hello")
    assert (response.status, data) == (200, b"hello, world")
    assert response.getheader("X-Handler") == "hello"
    assert response.getheader("Content-Type") == "text/plain; charset=utf-8"
    assert response.getheader("Content-Length") == "12"
    assert response.getheader("Date") is not None


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_methods_bodies_and_request_headers(server, method):
    response, data = server.request(method, "/api/echo", body=b"payload \x00 bytes",
                                    headers={"X-Test": "yes", "Content-Type": "application/x-thing"})
    assert response.status == 200
    assert data == b"payload \x00 bytes"
    assert response.getheader("X-Method") == method
    assert response.getheader("X-Test") == "yes"
    assert response.getheader("Content-Type") == "application/x-thing"


def test_head_gets_headers_without_a_body(server):
    response, data = server.request("HEAD", "/hello")
    assert (response.status, data) == (200, b"")
    assert response.getheader("Content-Length") == "12"


def test_json_bodies_in_and_out(server):
    response, data = server.request("POST", "/json", body=json.dumps({"a": [1, 2]}),
                                    headers={"Content-Type": "application/json"})
    assert response.status == 201 and json.loads(data) == {"received": {"a": [1, 2]}}
    bad, data = server.request("POST", "/json", body="{nope")
    assert bad.status == 400 and "json.decode" in json.loads(data)["error"]


def test_large_request_and_response_bodies(server):
    payload = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    response, data = server.request("POST", "/api/echo", body=payload)
    assert response.status == 200 and data == payload
    response, data = server.request("GET", "/big/3000000")
    assert response.status == 200 and data == b"x" * 3000000


def test_chunked_request_body(server):
    connection = server.connection()
    connection.putrequest("POST", "/api/echo")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for piece in (b"first ", b"second ", b"third"):
        connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 200 and response.read() == b"first second third"
    connection.close()


def test_keep_alive_reuses_the_connection(server):
    connection = server.connection()
    seen = set()
    for _ in range(5):
        connection.request("GET", "/whoami")
        response = connection.getresponse()
        assert response.getheader("Connection") == "keep-alive"
        seen.add(response.read())
    connection.close()
    assert len(seen) == 1  # one client port: one connection


def test_curl_reuses_the_connection(server):
    url = f"http://127.0.0.1:{server.port}/hello"
    completed = subprocess.run(["curl", "-sv", url, url], capture_output=True, text=True, timeout=20)
    assert completed.stdout == "hello, worldhello, world"
    assert "Re-using existing connection" in completed.stderr or "Reusing existing" in completed.stderr


def test_not_found_and_method_not_allowed(server):
    response, data = server.request("GET", "/nowhere")
    assert response.status == 404
    response, data = server.request("PATCH", "/api/echo")
    assert response.status == 405
    assert response.getheader("Allow") == "POST, PUT, DELETE"


def test_a_raising_handler_is_a_500_and_the_server_goes_on(server):
    response, data = server.request("GET", "/raise")
    assert response.status == 500 and data == b"internal server error\n"
    response, data = server.request("GET", "/hello")
    assert response.status == 200


def test_an_error_object_whose_tostring_fails_is_a_500_not_an_abort(server):
    response, data = server.request("GET", "/raise-object")
    assert response.status == 500 and data == b"internal server error\n"
    response, data = server.request("GET", "/hello")
    assert response.status == 200
    assert server.process.poll() is None


def test_malformed_requests_are_answered_or_closed_cleanly(server):
    assert server.raw(b"NOT A REQUEST\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    huge = b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n"
    assert server.raw(huge).startswith(b"HTTP/1.1 431 ")
    long_target = b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert server.raw(long_target).startswith(b"HTTP/1.1 414 ")
    bad_chunk = (b"POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"zz\r\nhello\r\n0\r\n\r\n")
    assert server.raw(bad_chunk).startswith(b"HTTP/1.1 400 ")
    too_big = b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n"
    assert server.raw(too_big).startswith(b"HTTP/1.1 413 ")
    # and everyone else is still served
    response, _ = server.request("GET", "/hello")
    assert response.status == 200


def test_slowloris_gets_a_408_after_the_read_timeout(server):
    started = time.monotonic()
    answer = server.raw(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ", timeout=10)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert 0.8 < time.monotonic() - started < 5
    response, _ = server.request("GET", "/hello")
    assert response.status == 200


def test_idle_keep_alive_connections_are_closed_after_the_idle_timeout(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        assert sock.recv(65536) == b""  # closed by the server when idle
        assert 1 < time.monotonic() - started < 6


def test_pipelined_requests_are_answered_in_order(server):
    answer = server.raw(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert answer.index(b"hello, world") < answer.index(b"127.0.0.1:")


def test_a_thousand_concurrent_connections(server):
    sockets = []
    try:
        for _ in range(1000):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sockets.append(sock)
        for sock in sockets:
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answered = 0
        for sock in sockets:
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            if data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"hello, world"):
                answered += 1
        assert answered == 1000
    finally:
        for sock in sockets:
            sock.close()


def refuses_connections(port, within):
    """Waits until a connection to port is refused (the listener closed)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_sigterm_lets_requests_in_flight_finish_and_refuses_new_ones(tmp_path):
    server = Server(tmp_path)
    results = {}

    def slow_request():
        results["slow"] = server.request("GET", "/slow")

    thread = threading.Thread(target=slow_request)
    thread.start()
    assert server.process.stdout.readline() == "slow started\n"
    server.process.send_signal(signal.SIGTERM)
    assert refuses_connections(server.port, within=5)
    thread.join(timeout=10)
    response, data = results["slow"]
    assert (response.status, data) == (200, b"slow done")
    assert response.getheader("Connection") == "close"
    assert server.process.wait(timeout=10) == 0


def test_a_service_says_once_where_it_listens(tmp_path):
    server = Server(tmp_path)
    try:
        server.request("GET", "/hello")
    finally:
        server.stop()
    lines = [line for line in server.process.stderr.read().splitlines() if "listening on" in line]
    assert lines == [f"wippy: web:server listening on 127.0.0.1:{server.port}"], lines


def test_reuse_port_lets_two_runtimes_share_a_port(tmp_path):
    """http.service `reuse_port: true` binds with SO_REUSEPORT: a second
    runtime listens on the same port (the kernel spreads connections);
    without it the second one cannot listen."""
    port = free_port()
    index = f"""version: '1.0'
namespace: app
entries:
  - {{name: router, kind: http.router, meta: {{server: app:web}}}}
  - name: web
    kind: http.service
    addr: 127.0.0.1:{port}
    reuse_port: @REUSE@
    lifecycle: {{auto_start: true}}
  - {{name: hello, kind: function.lua, source: 'file://hello.lua', method: handler, modules: [http]}}
  - {{name: hello_endpoint, kind: http.endpoint, meta: {{router: app:router}}, method: GET, path: /, func: app:hello}}
"""
    for name, reuse in (("one", "true"), ("two", "true"), ("three", "false")):
        (tmp_path / name / "src").mkdir(parents=True)
        (tmp_path / name / "src" / "_index.yaml").write_text(index.replace("@REUSE@", reuse))
        (tmp_path / name / "src" / "hello.lua").write_text(
            "local http = require('http')\n"
            f"return {{handler = function() http.response():write('{name}') end}}\n")
    runtimes = [subprocess.Popen([wippy_binary(), "run"], cwd=tmp_path / name, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for name in ("one", "two")]
    try:
        for runtime in runtimes:
            assert "listening on" in runtime.stderr.readline()
        seen = set()
        for _ in range(200):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/")
            seen.add(connection.getresponse().read().decode())
            connection.close()
            if seen == {"one", "two"}:
                break
        assert seen == {"one", "two"}, seen
        third = run_wippy(tmp_path / "three", "run", timeout=10)
        assert third.code == 1 and "cannot listen on 127.0.0.1" in third.err, third
    finally:
        for runtime in runtimes:
            runtime.send_signal(signal.SIGTERM)
            runtime.wait(timeout=10)
