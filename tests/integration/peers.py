"""Peers the network tests start on loopback: a "what is my IP" HTTP
target, the real microsocks SOCKS5 server, and a small recording SOCKS5
peer of our own for what a real server cannot show (the exact bytes it got,
chosen reply codes, malformed replies, a proxy that never answers)."""
import http.server
import json
import shutil
import socket
import struct
import subprocess
import threading
import time


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, host="127.0.0.1", timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {host}:{port}")


class IpService:
    """Answers every request with {"ip": <client address>} and records the
    client address of each request. /redirect sends to /landed, /to-literal
    to /landed by the literal 127.0.0.1, /to-name (302) and /to-name-307 to
    /landed by the name localhost, /big/N answers N bytes, /twice sends one
    header twice. With a certificate it speaks HTTPS."""

    def __init__(self, certificate=None):
        service = self
        self.clients = []
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                length = int(self.headers.get("Content-Length", 0) or 0)
                body_in = self.rfile.read(length) if length else b""  # read, so keep-alive stays in step
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "/landed")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/to-literal":  # to this service by its loopback address
                    self.send_response(302)
                    self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/landed")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path in ("/to-name", "/to-name-307"):  # to this service by the name localhost
                    self.send_response(307 if self.path.endswith("307") else 302)
                    self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/landed")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/twice":  # one header twice, in two cases, and a name in odd case
                    self.send_response(200)
                    self.send_header("X-Twice", "first")
                    self.send_header("x-TWICE", "second")
                    self.send_header("x-odd-CASE", "kept")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/big/"):
                    size = int(self.path.split("/")[2])
                    self.send_response(200)
                    self.send_header("Content-Length", str(size))
                    self.end_headers()
                    self.wfile.write(b"x" * size)
                    return
                with service.lock:
                    service.clients.append(self.client_address[0])
                body = json.dumps({
                    "ip": self.client_address[0],
                    "method": self.command,
                    "path": self.path,
                    "body": body_in.decode("utf-8", "replace"),
                    "host": self.headers.get("Host"),
                    "authorization": self.headers.get("Authorization"),
                    "x_secret": self.headers.get("X-Secret"),
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

            def do_HEAD(self):
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.scheme = "http"
        if certificate is not None:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate.certificate, certificate.key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}/"


    def close(self):
        self.server.shutdown()
        self.server.server_close()

class Certificate:
    """A self-signed certificate for localhost and 127.0.0.1 (openssl CLI)."""

    def __init__(self, directory):
        self.certificate = str(directory / "cert.pem")
        self.key = str(directory / "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", self.key,
                        "-out", self.certificate], check=True, capture_output=True)
        with open(self.certificate) as pem:
            self.pem = pem.read()



class Microsocks:
    """Debian's microsocks, its outgoing side bound to 127.0.0.2 so that a
    target tells routed requests (127.0.0.2) from direct ones (127.0.0.1)."""

    def __init__(self, username=None, password=None):
        binary = shutil.which("microsocks")
        if binary is None:
            raise RuntimeError("microsocks is not installed (scripts/test installs it)")
        self.port = free_port()
        command = [binary, "-i", "127.0.0.1", "-p", str(self.port), "-b", "127.0.0.2"]
        if username is not None:
            command += ["-u", username, "-P", password]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=5)


class SilentListener:
    """Accepts connections and never says a word (a hung proxy)."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        self.held = []

        def accept():
            while True:
                try:
                    self.held.append(self.socket.accept()[0])
                except OSError:
                    return
        threading.Thread(target=accept, daemon=True).start()

    def close(self):
        self.socket.close()
        for sock in self.held:
            sock.close()


class RecordingSocks5:
    """A SOCKS5 server that records each dial (offered methods, credentials,
    address type and address) and behaves as `behaviour(dial)` says:
    "relay" (connect to the address; names are looked up in `names`, never
    in DNS), ("reply", code), ("raw", bytes) or "silent"."""

    def __init__(self, names=None, behaviour=None):
        self.names = names or {}
        self.behaviour = behaviour or (lambda dial: "relay")
        self.dials = []
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(512)
        self.port = self.listener.getsockname()[1]
        self.open_sockets = []
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.open_sockets.append(client)
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    @staticmethod
    def read_exactly(sock, count):
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def serve(self, client):
        dial = {}
        try:
            version, method_count = self.read_exactly(client, 2)
            dial["methods"] = list(self.read_exactly(client, method_count))
            if 2 in dial["methods"]:
                client.sendall(b"\x05\x02")
                _, user_length = self.read_exactly(client, 2)
                dial["username"] = self.read_exactly(client, user_length).decode()
                (password_length,) = self.read_exactly(client, 1)
                dial["password"] = self.read_exactly(client, password_length).decode()
                client.sendall(b"\x01\x00")
            else:
                client.sendall(b"\x05\x00")
            _, command, _, address_type = self.read_exactly(client, 4)
            dial["atyp"] = address_type
            if address_type == 1:
                dial["host"] = socket.inet_ntop(socket.AF_INET, self.read_exactly(client, 4))
            elif address_type == 4:
                dial["host"] = socket.inet_ntop(socket.AF_INET6, self.read_exactly(client, 16))
            else:
                (length,) = self.read_exactly(client, 1)
                dial["host"] = self.read_exactly(client, length).decode()
            (dial["port"],) = struct.unpack(">H", self.read_exactly(client, 2))
            with self.lock:
                self.dials.append(dial)
            action = self.behaviour(dial)
            if action == "silent":
                time.sleep(30)
                return
            if isinstance(action, tuple) and action[0] == "raw":
                client.sendall(action[1])
                return
            if isinstance(action, tuple) and action[0] == "reply":
                client.sendall(bytes([5, action[1], 0, 1, 0, 0, 0, 0, 0, 0]))
                return
            host = self.names.get(dial["host"], dial["host"])
            upstream = socket.create_connection((host, dial["port"]), timeout=5)
            client.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00")
            self.relay(client, upstream)
        except (OSError, ConnectionError, ValueError):
            pass
        finally:
            client.close()

    @staticmethod
    def relay(a, b):
        def pump(source, target):
            try:
                while True:
                    data = source.recv(65536)
                    if not data:
                        break
                    target.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    target.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        other = threading.Thread(target=pump, args=(b, a), daemon=True)
        other.start()
        pump(a, b)
        other.join(timeout=10)
        b.close()

    def close(self):
        self.listener.close()
        for sock in self.open_sockets:
            try:
                sock.close()
            except OSError:
                pass


def i2p_base64(data):
    import base64
    return base64.b64encode(data).decode().replace("+", "-").replace("/", "~")


def fake_destination(seed):
    """A public I2P destination (384 key bytes and a 4-byte key certificate)."""
    import hashlib
    keys = (hashlib.sha256(seed.encode()).digest() * 12)[:384]
    return keys + b"\x05\x00\x04\x00\x07\x00\x04"


def b32_of(destination_bytes):
    import base64
    import hashlib
    digest = hashlib.sha256(destination_bytes).digest()
    return base64.b32encode(digest).decode().lower().rstrip("=") + ".b32.i2p"


class RecordingSam:
    """A SAM v3 bridge of our own: records every command and answers as
    `behaviour(destination)` says for STREAM CONNECT: ("result", NAME),
    ("serve", response bytes sent with the STATUS line), ("midstream",
    bytes then close). names maps .i2p names to destinations. Like i2pd, it
    answers SESSION CREATE with given keys only after building tunnels
    (`ready_after` seconds), and `held_destinations` times at once with the
    destination it still holds from a closed session. STREAM ACCEPT is
    answered at once and the connection kept for `inbound`, which plays a
    caller reaching the session's destination."""

    def __init__(self, behaviour=lambda destination: ("result", "CANT_REACH_PEER"), names=None,
                 drop_session_after=None, held_destinations=0, ready_after=1.6,
                 hello_reply=b"HELLO REPLY RESULT=OK VERSION=3.1\n"):
        self.behaviour = behaviour
        self.hello_reply = hello_reply
        self.held_destinations = held_destinations
        self.ready_after = ready_after
        self.names = names or {}
        self.drop_session_after = drop_session_after
        self.commands = []
        self.dropped = False
        self.sessions = 0
        self.connects = 0
        self.lock = threading.Lock()
        self.own = fake_destination("bridge-session")
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.controls = []
        self.accepting = []  # STREAM ACCEPT connections waiting for a caller
        self.accepting_changed = threading.Condition(self.lock)
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def serve(self, client):
        reader = client.makefile("rb")
        try:
            while True:
                line = reader.readline()
                if not line:
                    return
                text = line.decode().strip()
                words = text.split()
                with self.lock:
                    self.commands.append(text)
                pairs = dict(word.split("=", 1) for word in words[2:] if "=" in word)
                if words[:2] == ["HELLO", "VERSION"]:
                    client.sendall(self.hello_reply)
                elif words[:2] == ["SESSION", "CREATE"]:
                    with self.lock:
                        self.sessions += 1
                        self.controls.append(client)
                        self.dropped = False
                    if pairs.get("DESTINATION") != "TRANSIENT":
                        with self.lock:
                            held = self.held_destinations > 0
                            self.held_destinations -= 1
                        if not held:
                            time.sleep(self.ready_after)
                    private = i2p_base64(self.own + b"\x00" * 64)
                    client.sendall(f"SESSION STATUS RESULT=OK DESTINATION={private}\n".encode())
                elif words[:2] == ["NAMING", "LOOKUP"]:
                    name = pairs.get("NAME")
                    if name == "ME":
                        client.sendall(f"NAMING REPLY RESULT=OK NAME=ME VALUE={i2p_base64(self.own)}\n".encode())
                    elif name in self.names:
                        client.sendall(f"NAMING REPLY RESULT=OK NAME={name} VALUE={self.names[name]}\n".encode())
                    else:
                        client.sendall(f"NAMING REPLY RESULT=KEY_NOT_FOUND NAME={name}\n".encode())
                elif words[:2] == ["STREAM", "ACCEPT"]:
                    client.sendall(b"STREAM STATUS RESULT=OK\n")
                    with self.lock:
                        self.accepting.append(client)
                        self.accepting_changed.notify_all()
                    return
                elif words[:2] == ["STREAM", "CONNECT"] and self.dropped:
                    client.sendall(b"STREAM STATUS RESULT=INVALID_ID\n")
                    return
                elif words[:2] == ["STREAM", "CONNECT"]:
                    with self.lock:
                        self.connects += 1
                        drop = self.drop_session_after is not None and self.connects >= self.drop_session_after
                    action = self.behaviour(pairs.get("DESTINATION"))
                    if action[0] == "result":
                        client.sendall(f'STREAM STATUS RESULT={action[1]} MESSAGE="as asked"\n'.encode())
                    elif action[0] in ("serve", "midstream"):
                        client.sendall(b"STREAM STATUS RESULT=OK\n" + action[1])
                    if drop:
                        for control in self.controls:
                            control.shutdown(socket.SHUT_RDWR)
                            control.close()
                        self.controls.clear()
                        self.dropped = True
                        self.drop_session_after = None
                    time.sleep(0.5 if action[0] == "serve" else 0.1)
                    return
        except OSError:
            pass
        finally:
            if client not in self.controls and client not in self.accepting:
                client.close()

    def inbound(self, request, caller, timeout=10):
        """A caller with destination `caller` (bytes) reaches the session:
        the oldest waiting STREAM ACCEPT gets the caller's destination line
        and then request; returns everything answered until the close."""
        with self.lock:
            if not self.accepting_changed.wait_for(lambda: self.accepting, timeout=timeout):
                raise TimeoutError("no STREAM ACCEPT is waiting")
            connection = self.accepting.pop(0)
        try:
            connection.settimeout(timeout)
            connection.sendall(f"{i2p_base64(caller)} FROM_PORT=0 TO_PORT=0\n".encode() + request)
            answer = b""
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    return answer
                answer += chunk
        finally:
            connection.close()

    def close(self):
        self.listener.close()
        for control in self.controls:
            control.close()
        with self.lock:
            for connection in self.accepting:
                connection.close()
