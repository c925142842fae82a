"""A private Tor network on loopback: one directory authority, exit relays,
a client and, when asked, one more tor hosting an onion service, each a
real `tor` process with a private, loopback-only
configuration (TestingTorNetwork, the one loopback authority, no fallback
directories). Meant to run inside a network namespace that only has `lo`,
so nothing could leave this machine even by mistake."""
import pathlib
import re
import socket
import subprocess
import threading
import time

AUTHORITY_ADDRESS = "127.0.0.11"
# Five relays besides the authority: onion-service paths (vanguards-lite
# layer-2 guards, four-hop service circuits, all distinct) failed now and
# then in CI with only three.
RELAY_ADDRESSES = ["127.0.0.12", "127.0.0.13", "127.0.0.14", "127.0.0.15", "127.0.0.16"]
CLIENT_ADDRESS = "127.0.0.1"
OR_PORT = 5100
DIR_PORT = 7100
SOCKS_PORT = 9150
EXTENDED_SOCKS_PORT = 9151
NO_ISOLATION_SOCKS_PORT = 9152  # NoIsolateSOCKSAuth: credentials do not separate circuits
CONTROL_PORT = 9160
ONION_CONTROL_PORT = 9161

COMMON = """TestingTorNetwork 1
UseDefaultFallbackDirs 0
AssumeReachable 1
PathsNeededToBuildCircuits 0.25
TestingMinExitFlagThreshold 0
Sandbox 0
RunAsDaemon 0
SafeLogging 0
ClientUseIPv6 0
"""

AUTHORITY = """AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
V3AuthVotingInterval 10
V3AuthVoteDelay 2
V3AuthDistDelay 2
V3AuthNIntervalsValid 2
TestingV3AuthInitialVotingInterval 10
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
TestingV3AuthVotingStartOffset 0
TestingDirAuthVoteExit *
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
ExitPolicy reject *:*
"""

# Clients pick exits by the consensus' policy summary, which only speaks of
# public addresses: a 127.0.0.0/8-only policy reads as "reject everything".
# "accept *:*" is safe here because the network namespace has nothing but lo.
EXIT = """ExitRelay 1
ExitPolicyRejectPrivate 0
ExitPolicyRejectLocalInterfaces 0
ExitPolicy accept *:*
"""


def run(command, **kw):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kw)


class TorNetwork:
    def __init__(self, base):
        self.base = pathlib.Path(base)
        self.processes = []
        self.events = []
        self.control = None

    def node_dir(self, name):
        path = self.base / name
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
        return path

    def authority_line(self):
        directory = self.node_dir("authority")
        keys = directory / "keys"
        keys.mkdir(exist_ok=True)
        run(["tor-gencert", "--create-identity-key", "-m", "12", "-a",
             f"{AUTHORITY_ADDRESS}:{DIR_PORT}", "-i", str(keys / "authority_identity_key"),
             "-s", str(keys / "authority_signing_key"), "-c", str(keys / "authority_certificate"),
             "--passphrase-fd", "0"], input="\n", cwd=directory)
        certificate = (keys / "authority_certificate").read_text()
        v3ident = re.search(r"^fingerprint (\w+)", certificate, re.M).group(1)
        empty = directory / "empty.torrc"
        empty.write_text("")
        listed = run(["tor", "--list-fingerprint", "--DataDirectory", str(directory), "--ORPort",
                      f"{AUTHORITY_ADDRESS}:{OR_PORT}", "--DisableNetwork", "1", "--Nickname",
                      "authority", "-f", str(empty)]).stdout
        fingerprint = re.search(r"^authority ([0-9A-F ]+)$", listed, re.M).group(1).replace(" ", "")
        return (f"DirAuthority authority orport={OR_PORT} no-v2 v3ident={v3ident} "
                f"{AUTHORITY_ADDRESS}:{DIR_PORT} {fingerprint}\n")

    def write_config(self, name, text):
        directory = self.node_dir(name)
        config = directory / "torrc"
        config.write_text(f"DataDirectory {directory}\nNickname {name}\n"
                          f"Log notice file {directory / 'notice.log'}\n" + text)
        return config

    def start(self, timeout=150):
        if not self.in_namespace_with_only_loopback():
            raise RuntimeError("refusing to start tor outside a network namespace holding only lo")
        authority = self.authority = self.authority_line()
        configs = [self.write_config("authority", COMMON + authority + AUTHORITY + (
            f"Address {AUTHORITY_ADDRESS}\nORPort {AUTHORITY_ADDRESS}:{OR_PORT}\n"
            f"DirPort {AUTHORITY_ADDRESS}:{DIR_PORT}\nSocksPort 0\n"))]
        for index, address in enumerate(RELAY_ADDRESSES):
            configs.append(self.write_config(f"exit{index}", COMMON + authority + EXIT + (
                f"Address {address}\nORPort {address}:{OR_PORT}\nDirPort {address}:{DIR_PORT}\n"
                "SocksPort 0\n")))
        configs.append(self.write_config("client", COMMON + authority + (
            f"SocksPort {CLIENT_ADDRESS}:{SOCKS_PORT}\n"
            f"SocksPort {CLIENT_ADDRESS}:{EXTENDED_SOCKS_PORT} ExtendedErrors\n"
            f"SocksPort {CLIENT_ADDRESS}:{NO_ISOLATION_SOCKS_PORT} NoIsolateSOCKSAuth\n"
            f"ControlPort {CLIENT_ADDRESS}:{CONTROL_PORT}\nSocksTimeout 30\n")))
        for config in configs:
            self.processes.append(subprocess.Popen(["tor", "-f", str(config)],
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        client_log = self.base / "client" / "notice.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if client_log.exists() and "Bootstrapped 100%" in client_log.read_text() \
                    and self.exits_in_consensus() >= len(RELAY_ADDRESSES):
                return
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a tor process exited with {process.returncode}")
            time.sleep(0.5)
        raise RuntimeError("the private Tor network did not bootstrap in time")

    def start_onion_service(self, target_port, virtual_port=80, timeout=90, log=None):
        """Starts one more tor, a client of the private network that hosts an
        onion service (HiddenServiceDir, HiddenServicePort virtual_port ->
        127.0.0.1:target_port), as a user's tor would; returns the .onion
        name once the service has uploaded its descriptor to an HSDir (its
        HS_DESC UPLOADED event on that tor's control port), or raises after
        `timeout` seconds. The wait is logged through `log` every 10 s."""
        hidden = self.node_dir("onion") / "site"
        hidden.mkdir(exist_ok=True)
        hidden.chmod(0o700)
        config = self.write_config("onion", COMMON + self.authority + (
            f"SocksPort 0\nControlPort {CLIENT_ADDRESS}:{ONION_CONTROL_PORT}\n"
            f"HiddenServiceDir {hidden}\n"
            f"HiddenServicePort {virtual_port} 127.0.0.1:{target_port}\n"))
        self.processes.append(subprocess.Popen(["tor", "-f", str(config)],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        process = self.processes[-1]
        started = time.monotonic()
        deadline = started + timeout
        control = None
        reported = started
        try:
            while control is None:
                try:
                    control = socket.create_connection((CLIENT_ADDRESS, ONION_CONTROL_PORT), timeout=2)
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the onion service's tor did not open its control port")
                    time.sleep(0.2)
            control.settimeout(1)
            control.sendall(b'AUTHENTICATE ""\r\nSETEVENTS HS_DESC\r\n')
            data = b""
            while time.monotonic() < deadline:
                try:
                    chunk = control.recv(65536)
                except socket.timeout:
                    chunk = None
                if chunk == b"":
                    raise RuntimeError("the onion service's tor closed its control port")
                if chunk:
                    data += chunk
                for line in data.decode("utf-8", "replace").splitlines():
                    parts = line.split()
                    # 650 HS_DESC UPLOADED <address> UNKNOWN <hsdir> ...
                    if len(parts) >= 4 and parts[:3] == ["650", "HS_DESC", "UPLOADED"]:
                        hostname = (hidden / "hostname").read_text().strip()
                        if hostname.startswith(parts[3]):
                            return hostname
                if process.poll() is not None:
                    raise RuntimeError(f"the onion service's tor exited with {process.returncode}")
                if log is not None and time.monotonic() - reported >= 10:
                    reported = time.monotonic()
                    log(f"onion service: no descriptor uploaded after {reported - started:.0f} s")
            raise RuntimeError(f"the onion service published no descriptor in {timeout} s")
        finally:
            if control is not None:
                control.close()

    def control_query(self, command):
        with socket.create_connection((CLIENT_ADDRESS, CONTROL_PORT), timeout=5) as control:
            control.sendall(f'AUTHENTICATE ""\r\n{command}\r\nQUIT\r\n'.encode())
            data = b""
            while True:
                chunk = control.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data.decode("utf-8", "replace")

    def exits_in_consensus(self):
        """How many relays the client's consensus flags as exits."""
        try:
            answer = self.control_query("GETINFO ns/all")
        except OSError:
            return 0
        return sum(1 for line in answer.splitlines()
                   if line.startswith("s ") and " Exit" in line and "BadExit" not in line)

    def in_namespace_with_only_loopback(self):
        with open("/proc/net/dev") as devices:
            names = [line.split(":")[0].strip() for line in devices.readlines()[2:]]
        return names == ["lo"]

    def watch_streams(self):
        """Subscribes to STREAM events on the client's control port."""
        self.control = socket.create_connection((CLIENT_ADDRESS, CONTROL_PORT))
        self.control.sendall(b'AUTHENTICATE ""\r\nSETEVENTS STREAM\r\n')
        reader = self.control.makefile("r", encoding="utf-8", newline="\r\n")
        for _ in range(2):
            line = reader.readline()
            if not line.startswith("250"):
                raise RuntimeError(f"control port: {line.strip()}")

        def collect():
            for line in reader:
                if line.startswith("650 STREAM "):
                    self.events.append(line.strip())
        threading.Thread(target=collect, daemon=True).start()

    def succeeded_streams(self, target_port):
        """{stream id: circuit id} of streams that reached 127.0.0.1:target_port."""
        streams = {}
        for event in self.events:
            parts = event.split()
            if len(parts) >= 6 and parts[3] == "SUCCEEDED" and parts[5].endswith(f":{target_port}"):
                streams[parts[2]] = parts[4]
        return streams

    def wait_for_streams(self, target_port, count, within=5.0):
        """Waits until `count` streams to 127.0.0.1:target_port have
        SUCCEEDED on the control port (STREAM events trail the requests a
        little), or `within` seconds pass; returns what was seen."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            streams = self.succeeded_streams(target_port)
            if len(streams) >= count:
                return streams
            time.sleep(0.05)
        return self.succeeded_streams(target_port)

    def non_loopback_addresses(self):
        """IPv4 addresses outside 127.0.0.0/8 (and 0.0.0.0) named in any log."""
        found = set()
        for log in self.base.glob("*/notice.log"):
            # (a Tor version such as "Tor 0.4.9.11" looks like an address too)
            for address in re.findall(r"(?<!Tor )\b(\d{1,3}(?:\.\d{1,3}){3})\b", log.read_text()):
                if not address.startswith("127.") and address != "0.0.0.0":
                    found.add(address)
        return sorted(found)

    def stop(self):
        if self.control is not None:
            self.control.close()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
