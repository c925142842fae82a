"""Runs inside a fresh network namespace (lo, and one veth pair on 10.200.0.1
so that tsnet sees a network up): starts headscale, a wippy http.service on
the tailnet and wippy clients with tailnet nodes of their own, and prints
what was observed as JSON for test_tailscale.py."""
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from headscale import NODE_ENV, Headscale  # noqa: E402
from peers import IpService, free_port  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
WIPPY = os.environ["WIPPY"]
NAMESPACE_ADDRESS = "10.200.0.1"
UNKNOWN_TAILNET_ADDRESS = "100.64.0.99"  # in the tailnet's range, no node's


def prepare(source, destination, control, hostname=None, ephemeral=False):
    shutil.copytree(source, destination)
    index = destination / "src" / "_index.yaml"
    text = index.read_text().replace("@CONTROL_URL@", control.url).replace("@CONTROL_PORT@", str(control.port))
    if hostname is not None:
        text = text.replace("hostname: wippy-client", f"hostname: {hostname}")
    if ephemeral:
        text = text.replace("ephemeral: false", "ephemeral: true")
    text = re.sub(r"@[A-Z_]+@", lambda _: str(free_port()), text)
    index.write_text(text)
    return destination


def environment(key):
    return {**os.environ, **NODE_ENV, "WIPPY_TEST_TS_AUTHKEY": key}


def start_service(app, key, args=(), env=None):
    started = time.monotonic()
    process = subprocess.Popen([WIPPY, *args, "run"], cwd=app, env=env or environment(key), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    lines = []
    while time.monotonic() - started < 90:
        line = process.stderr.readline()
        lines.append(line)
        match = re.search(r"app:server listening on (100\.[0-9.]+):8080 via app:tailnet", line)
        if match:
            return process, match.group(1), round(time.monotonic() - started, 1)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError("the service did not come up on the tailnet: " + "".join(lines)[-2000:])


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def fetch(app, key, url):
    started = time.monotonic()
    completed = subprocess.run([WIPPY, "run", "scenario", "fetch", url, "app:tailnet"], cwd=app,
                               env=environment(key), capture_output=True, text=True, timeout=180)
    match = re.search(r"tailnet node \S+ up, addresses ([0-9.]+)", completed.stderr)
    return {"code": completed.returncode, "out": completed.stdout, "err": completed.stderr[-3000:],
            "own_address": match.group(1) if match else None,
            "seconds": round(time.monotonic() - started, 1)}


def fetch_and_look(app, key, url, control, hostname):
    """Fetches with a runtime that stays up afterwards; while it is up, asks
    the control server for its node; then lets it end."""
    process = subprocess.Popen([WIPPY, "run", "scenario", "fetch_then_wait", url, "app:tailnet"],
                               cwd=app, env=environment(key), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out = process.stdout.readline()
        nodes_while_running = node(control, hostname)
        process.stdin.close()
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return {"code": code, "out": out, "err": process.stderr.read()[-3000:],
            "nodes_while_running": [n.get("ip_addresses", []) for n in nodes_while_running]}


def connectable(host, port):
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def node(control, name):
    return [n for n in control.nodes() if n["name"] == name]


def run_example(work, control, key):
    """examples/tailscale as docs/tailscale.md says to run it with headscale:
    the auth key in TS_AUTHKEY, control_url given with -o; a second copy,
    another node, fetches the first by name through the tailnet."""
    env = {**os.environ, **NODE_ENV, "TS_AUTHKEY": key}
    override = ["-o", f"app:tailnet:control_url={control.url}"]
    example = work / "example"
    shutil.copytree(ROOT / "examples" / "tailscale", example)
    other = work / "example-client"
    shutil.copytree(ROOT / "examples" / "tailscale", other)
    process, address, seconds = start_service(example, key, override, env)
    try:
        completed = subprocess.run([WIPPY, *override, "-o", "app:tailnet:hostname=wippy-example-client", "run",
                                    "fetch", "http://wippy-example:8080/"], cwd=other, env=env,
                                   capture_output=True, text=True, timeout=180)
    finally:
        stop(process)
    client = node(control, "wippy-example-client")
    return {"address": address, "start_seconds": seconds, "code": completed.returncode, "out": completed.stdout,
            "err": completed.stderr[-3000:], "client_addresses": [a for n in client for a in n.get("ip_addresses", [])]}


def main(work):
    work = pathlib.Path(work)
    result = {}
    control = Headscale(work / "headscale")
    target = IpService()
    try:
        control.start()
        key = control.auth_key()
        ephemeral_key = control.auth_key(ephemeral=True)
        service = prepare(ROOT / "tests" / "apps" / "tailnet_service", work / "service", control)
        client = prepare(ROOT / "tests" / "apps" / "network", work / "client", control)

        process, address, seconds = start_service(service, key)
        result.update(service_address=address, service_start_seconds=seconds)
        result["by_name"] = fetch(client, key, "http://service:8080/")
        result["client_node_addresses"] = [a for n in node(control, "wippy-client")
                                           for a in n.get("ip_addresses", [])]
        result["by_address"] = fetch(client, key, f"http://{address}:8080/")
        result["host_reachable"] = {host: connectable(host, 8080) for host in ("127.0.0.1", NAMESPACE_ADDRESS)}
        result["clearnet_address"] = fetch(client, key, target.url)
        result["clearnet_name"] = fetch(client, key, f"http://localhost:{target.port}/")
        result["unknown_tailnet_address"] = fetch(client, key, f"http://{UNKNOWN_TAILNET_ADDRESS}:8080/")
        result["target_clients"] = list(target.clients)
        before = node(control, "service")
        stop(process)

        process, again, _ = start_service(service, key)
        after = node(control, "service")
        result["restart"] = {"address": again, "nodes_before": [(n["id"], n["node_key"]) for n in before],
                             "nodes_after": [(n["id"], n["node_key"]) for n in after]}
        result["after_restart"] = fetch(client, key, "http://service:8080/")

        ephemeral = prepare(ROOT / "tests" / "apps" / "network", work / "ephemeral", control,
                            hostname="wippy-ephemeral", ephemeral=True)
        result["ephemeral_fetch"] = fetch_and_look(ephemeral, ephemeral_key, "http://service:8080/",
                                                   control, "wippy-ephemeral")
        stopped = time.monotonic()
        while node(control, "wippy-ephemeral") and time.monotonic() - stopped < 20:
            time.sleep(0.5)
        result["ephemeral_left"] = node(control, "wippy-ephemeral") == []
        result["ephemeral_gone_seconds"] = round(time.monotonic() - stopped, 1)
        stop(process)
        result["example"] = run_example(work, control, key)

        control.stop()
        late = prepare(ROOT / "tests" / "apps" / "network", work / "late", control, hostname="wippy-late")
        result["control_down"] = fetch(late, key, "http://service:8080/")
        result["target_clients_at_end"] = list(target.clients)
    finally:
        control.stop()
        target.close()
        logs = list(work.glob("*/.wippy/net/tailscale/*/node.log"))
        result["non_loopback_addresses"] = [a for a in control.non_loopback_addresses(*logs)
                                            if a != NAMESPACE_ADDRESS]
        result["logs_naming_tailscale_servers"] = [str(log) for log in logs
                                                   if "tailscale.com" in log.read_text(errors="replace")]
        result["node_logs"] = len(logs)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
