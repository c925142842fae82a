"""A private I2P network on loopback: three unmodified i2pd 2.56 routers
(Debian 13's, in a debootstrap tree run with chroot; Debian 12's 2.45 refuses
loopback peers), on 127.0.0.21-23, netid 77, every one a floodfill (with a
single floodfill, a destination whose first publications went unconfirmed
under load gave up with "no more floodfills found" and stayed unreachable
for minutes), no reseed, zero-hop
exploratory tunnels, each other's router.info copied into their netDb.
Meant to run inside a network namespace holding only lo."""
import base64
import hashlib
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import time

TREE = pathlib.Path(os.environ.get("WIPPY_I2P_TREE", "/var/cache/wippy-c/trixie-i2pd"))
ADDRESSES = ["127.0.0.21", "127.0.0.22", "127.0.0.23"]
NTCP2_PORT = 17000
SAM_PORTS = [17661, 17662, 17663]

CONFIG = """log = file
logfile = {dir}/i2pd.log
loglevel = info
ipv4 = true
ipv6 = false
host = {address}
address4 = {address}
port = {port}
netid = 77
reservedrange = false
floodfill = true
nat = false
daemon = false
service = false

[ntcp2]
enabled = true
published = true
port = {port}

[ssu2]
enabled = false

[reseed]
urls =
verify = false
threshold = 0

[addressbook]
defaulturl =
subscriptions =

[sam]
enabled = true
address = 127.0.0.1
port = {sam}

[http]
enabled = false
[httpproxy]
enabled = false
[socksproxy]
enabled = false
[bob]
enabled = false
[i2cp]
enabled = false
[i2pcontrol]
enabled = false
[upnp]
enabled = false

[exploratory]
inbound.length = 0
outbound.length = 0
inbound.quantity = 2
outbound.quantity = 2
"""


def i2p_base64(data):
    return base64.b64encode(data).decode().replace("+", "-").replace("/", "~")


def router_hash(router_info):
    """The router's identity hash: SHA-256 over its identity (387 bytes and
    the certificate payload whose length is at bytes 385-386)."""
    length = 387 + int.from_bytes(router_info[385:387], "big")
    return i2p_base64(hashlib.sha256(router_info[:length]).digest())


class I2PNetwork:
    def __init__(self):
        if not (TREE / "usr" / "bin" / "i2pd").exists():
            raise RuntimeError(f"no i2pd tree at {TREE} (scripts/prepare-i2p builds it)")
        self.relative = pathlib.Path("tmp") / f"wippy-i2p-{os.getpid()}"
        self.base = TREE / self.relative
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        self.processes = []

    def router_dir(self, index):
        return self.base / f"router{index}"

    def inside(self, path):
        return "/" + str(path.relative_to(TREE))

    def configure(self):
        for index, address in enumerate(ADDRESSES):
            directory = self.router_dir(index)
            directory.mkdir(exist_ok=True)
            (directory / "i2pd.conf").write_text(CONFIG.format(
                dir=self.inside(directory), address=address, port=NTCP2_PORT,
                sam=SAM_PORTS[index]))
            (directory / "tunnels.conf").write_text("")

    def launch(self):
        self.processes = []
        for index in range(len(ADDRESSES)):
            directory = self.inside(self.router_dir(index))
            with open(self.router_dir(index) / "stderr.log", "ab") as errors:  # what a crash says
                self.processes.append(subprocess.Popen(
                    ["chroot", str(TREE), "i2pd", f"--datadir={directory}", f"--conf={directory}/i2pd.conf",
                     f"--tunconf={directory}/tunnels.conf"],
                    stdout=subprocess.DEVNULL, stderr=errors))

    def halt(self):
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def start(self, timeout=120):
        self.configure()
        self.launch()
        deadline = time.monotonic() + 60
        while not all((self.router_dir(i) / "router.info").exists() for i in range(len(ADDRESSES))):
            if time.monotonic() > deadline:
                raise RuntimeError("i2pd did not write its router.info")
            time.sleep(0.2)
        time.sleep(1)
        self.halt()
        infos = [(self.router_dir(i) / "router.info").read_bytes() for i in range(len(ADDRESSES))]
        for index in range(len(ADDRESSES)):
            for other, info in enumerate(infos):
                if other == index:
                    continue
                identity = router_hash(info)
                folder = self.router_dir(index) / "netDb" / f"r{identity[0]}"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"routerInfo-{identity}.dat").write_bytes(info)
        self.launch()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.sam_answers(port) for port in SAM_PORTS) and self.connected():
                return
            time.sleep(1)
        raise RuntimeError("the private I2P network did not come up in time")

    @staticmethod
    def sam_answers(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"HELLO VERSION MIN=3.1 MAX=3.3\n")
                return sock.recv(256).startswith(b"HELLO REPLY RESULT=OK")
        except OSError:
            return False

    def connected(self):
        """Every router has built a tunnel (zero-hop tunnels need peers known)."""
        for index in range(len(ADDRESSES)):
            log = self.router_dir(index) / "i2pd.log"
            text = log.read_text(errors="replace") if log.exists() else ""
            if not re.search(r"Tunnel: .*(established|created)", text, re.I):
                return False
        return True

    def non_loopback_addresses(self):
        found = set()
        for log in self.base.glob("router*/i2pd.log"):
            for address in re.findall(r"\b(\d{1,3}(?:\.\d{1,3}){3})\b", log.read_text(errors="replace")):
                if not address.startswith("127.") and address != "0.0.0.0":
                    found.add(address)
        return sorted(found)

    def stop(self):
        self.exits = [process.poll() for process in self.processes]  # before SIGTERM: who died by itself
        self.halt()

    def crashes(self):
        """Routers that had exited before stop(), with what they wrote on stderr."""
        found = []
        for index, code in enumerate(getattr(self, "exits", [])):
            if code is not None:
                errors = self.router_dir(index) / "stderr.log"
                found.append({"router": index, "code": code,
                              "stderr": errors.read_text(errors="replace") if errors.exists() else ""})
        return found

    def cleanup(self):
        shutil.rmtree(self.base, ignore_errors=True)
