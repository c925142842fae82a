"""A Tailscale control server on loopback for the tests: headscale (built
from the Go module proxy by scripts/prepare-headscale, cached outside the
checkout) with its embedded DERP relay and STUN on 127.0.0.1, no public DERP
map, no update check, no log upload, and pre-auth keys made with its own
command line. Nodes reach the relay over plain HTTP (tsnet's
TS_DEBUG_USE_DERP_HTTP knob) so no certificate is needed, and take the
namespace holding only lo for a working network (TS_ASSUME_NETWORK_UP_FOR_TEST);
both are in NODE_ENV."""
import ipaddress
import json
import os
import pathlib
import re
import subprocess
import time
import urllib.request

from peers import free_port

BINARY = pathlib.Path(os.environ.get("WIPPY_HEADSCALE", "/var/cache/wippy-c/bin/headscale"))
NODE_ENV = {"TS_DEBUG_USE_DERP_HTTP": "1", "TS_ASSUME_NETWORK_UP_FOR_TEST": "1"}
TAILNET = ipaddress.ip_network("100.64.0.0/10")

CONFIG = """server_url: http://127.0.0.1:{port}
listen_addr: 127.0.0.1:{port}
metrics_listen_addr: 127.0.0.1:{metrics}
grpc_listen_addr: 127.0.0.1:{grpc}
grpc_allow_insecure: false
noise:
  private_key_path: {dir}/noise_private.key
prefixes:
  v4: 100.64.0.0/10
  v6: fd7a:115c:a1e0::/48
  allocation: sequential
derp:
  server:
    enabled: true
    region_id: 999
    region_code: wippy
    region_name: wippy test relay
    verify_clients: true
    stun_listen_addr: 127.0.0.1:{stun}
    private_key_path: {dir}/derp_server_private.key
    automatically_add_embedded_derp_region: true
    ipv4: 127.0.0.1
  urls: []
  paths: []
  auto_update_enabled: false
disable_check_updates: true
node:
  ephemeral:
    inactivity_timeout: 66s
auto_update:
  enabled: false
database:
  type: sqlite
  sqlite:
    path: {dir}/db.sqlite
log:
  level: info
  format: text
policy:
  mode: file
  path: ""
dns:
  magic_dns: true
  base_domain: tailnet.test
  override_local_dns: false
  nameservers:
    global: []
unix_socket: {dir}/headscale.sock
unix_socket_permission: "0770"
logtail:
  enabled: false
taildrop:
  enabled: false
"""


class Headscale:
    def __init__(self, directory):
        if not BINARY.exists():
            raise RuntimeError(f"no headscale at {BINARY}: scripts/prepare-headscale builds it")
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = self.dir / "config.yaml"
        self.config.write_text(CONFIG.format(port=self.port, metrics=free_port(), grpc=free_port(),
                                             stun=free_port(), dir=self.dir))
        self.log = self.dir / "headscale.log"
        self.process = None

    def start(self, timeout=30):
        self.process = subprocess.Popen([str(BINARY), "-c", str(self.config), "serve"],
                                        stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("headscale did not start: " + self.log.read_text()[-2000:])

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def command(self, *arguments):
        completed = subprocess.run([str(BINARY), "-c", str(self.config), *arguments, "-o", "json"],
                                   capture_output=True, text=True, timeout=30)
        if completed.returncode != 0:
            raise RuntimeError(f"headscale {' '.join(arguments)}: {completed.stderr.strip()}")
        return json.loads(completed.stdout)

    def auth_key(self, user="wippy", ephemeral=False):
        users = {u["name"]: u for u in self.command("users", "list") or []}
        if user not in users:
            self.command("users", "create", user)
            users = {u["name"]: u for u in self.command("users", "list") or []}
        arguments = ["preauthkeys", "create", "--user", str(users[user]["id"]), "--reusable",
                     "--expiration", "1h"]
        if ephemeral:
            arguments.append("--ephemeral")
        return self.command(*arguments)["key"]

    def nodes(self):
        return self.command("nodes", "list") or []

    def non_loopback_addresses(self, *more_logs):
        found = set()
        for log in [self.log, *more_logs]:
            text = pathlib.Path(log).read_text(errors="replace") if pathlib.Path(log).exists() else ""
            for address in re.findall(r"\b(\d{1,3}(?:\.\d{1,3}){3})\b", text):
                try:
                    ip = ipaddress.ip_address(address)
                except ValueError:
                    continue
                if not (ip.is_loopback or ip.is_unspecified or ip in TAILNET):
                    found.add(address)
        return sorted(found)
