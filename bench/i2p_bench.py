"""Runs inside a fresh network namespace (only `lo`), started by bench/i2p.sh:
the private I2P network of the tests, a wippy http.service on router 2, and
200 sequential GETs from router 3, each on its own stream, (a) by wippy with
its one SAM session reused by every dial, (b) by a minimal SAM client making a
new session per dial (the approach of Go Wippy), (c) by the same minimal
client reusing one session (the floor). Prints the markdown report."""
import json
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from i2pnet import SAM_PORTS, I2PNetwork  # noqa: E402

WIPPY = str(ROOT / "build" / "wippy")
OPTIONS = "inbound.length=0 outbound.length=0"


def prepare(source, destination, sam_port):
    shutil.copytree(source, destination)
    index = destination / "src" / "_index.yaml"
    index.write_text(index.read_text().replace("@SAM_PORT@", str(sam_port)).replace("@CONTROL_URL@", "unused"))
    return destination


def start_service(app):
    process = subprocess.Popen([WIPPY, "run"], cwd=app, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(r"listening on (\S+\.b32\.i2p)", line)
        if match:
            return process, match.group(1)
        if not line and process.poll() is not None:
            break
    raise RuntimeError("the service did not announce its I2P address")


class SamLine:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.reader = self.sock.makefile("rb")

    def ask(self, line):
        self.sock.sendall(line.encode() + b"\n")
        reply = self.reader.readline().decode()
        if "RESULT=OK" not in reply:
            raise RuntimeError(f"{line.split(' DESTINATION')[0]}: {reply.strip()}")
        return reply

    def close(self):
        self.reader.close()
        self.sock.close()


def open_session(port, name):
    control = SamLine(port)
    control.ask("HELLO VERSION MIN=3.1 MAX=3.3")
    control.ask(f"SESSION CREATE STYLE=STREAM ID={name} DESTINATION=TRANSIENT SIGNATURE_TYPE=7 {OPTIONS}")
    return control


def get_over_stream(port, session, address):
    stream = SamLine(port)
    try:
        stream.ask("HELLO VERSION MIN=3.1 MAX=3.3")
        stream.ask(f"STREAM CONNECT ID={session} DESTINATION={address} SILENT=false")
        stream.sock.sendall(f"GET /blob HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode())
        body = stream.reader.read()
        if not body.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"bad answer: {body[:80]!r}")
        return len(body)
    finally:
        stream.close()


def minimal_client(count, address, per_dial):
    """A failed request (a fresh session may not find the service's lease
    set yet) is counted and timed like the others."""
    port = SAM_PORTS[2]
    seconds, bytes_, failures = [], 0, 0
    base = f"bench-{'dial' if per_dial else 'reuse'}-{os.getpid()}"
    control = None if per_dial else open_session(port, base)
    for i in range(count):
        started = time.monotonic()
        session = f"{base}-{i}" if per_dial else base
        try:
            if per_dial:
                control = open_session(port, session)
            bytes_ += get_over_stream(port, session, address)
        except (RuntimeError, OSError):
            failures += 1
        finally:
            if per_dial and control is not None:
                control.close()
                control = None
        seconds.append(time.monotonic() - started)
    if control is not None:
        control.close()
    return {"seconds": seconds, "bytes": bytes_, "failures": failures}


def wippy_client(app, count, address):
    completed = subprocess.run([WIPPY, "run", "get", str(count), f"http://{address}/blob", "bench:i2p", "close"],
                               cwd=app, capture_output=True, text=True, timeout=3600)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-2000:])
    return json.loads(completed.stdout.strip().splitlines()[-1])


def wait_until_reachable(address):
    """A new lease set takes seconds to spread: retry one request."""
    deadline = time.monotonic() + 300
    while minimal_client(1, address, per_dial=False)["failures"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{address} not reachable after 300 s")
        time.sleep(3)


def summary(name, run):
    seconds = run["seconds"]
    total = sum(seconds)
    rest = seconds[1:] or seconds
    return {"name": name, "count": len(seconds), "failures": run.get("failures", 0), "first": seconds[0], "median": statistics.median(rest),
            "p90": sorted(rest)[int(len(rest) * 0.9) - 1] if len(rest) >= 10 else max(rest),
            "total": total, "rate": len(seconds) / total, "kib_per_s": run["bytes"] / 1024 / total}


def report(rows, network_seconds, count):
    reuse, per_dial = rows[0], rows[1]
    lines = ["# I2P overlay benchmark", "",
             f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores. Private network of three i2pd 2.56 routers "
             f"on loopback (zero-hop tunnels, up in {network_seconds:.0f} s); a wippy http.service on router 2 "
             "serves 16 KiB; every request opens its own stream from router 3 (Connection: close). "
             "The first request includes creating the SAM session.", "",
             "| client | requests | failed | first | median of the rest | p90 | total | req/s | KiB/s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['name']} | {row['count']} | {row['failures']} | {row['first']:.2f} s | "
                     f"{row['median'] * 1000:.0f} ms | "
                     f"{row['p90'] * 1000:.0f} ms | {row['total']:.1f} s | {row['rate']:.2f} | "
                     f"{row['kib_per_s']:.0f} |")
    lines += ["", f"Session per dial / wippy session reuse, mean time per request: "
              f"{(per_dial['total'] / per_dial['count']) / (reuse['total'] / reuse['count']):.1f}×"]
    if len(rows) > 2:
        floor = rows[2]
        lines.append(f"wippy / minimal SAM client with one session, median request: "
                     f"{reuse['median'] / floor['median']:.2f}×")
    return "\n".join(lines)


def main(work, count, per_dial_count):
    work = pathlib.Path(work)
    network = I2PNetwork()
    service_process = None
    try:
        started = time.monotonic()
        network.start()
        network_seconds = time.monotonic() - started
        service = prepare(ROOT / "bench" / "apps" / "i2p_service", work / "service", SAM_PORTS[1])
        client = prepare(ROOT / "bench" / "apps" / "overlay_client", work / "client", SAM_PORTS[2])
        service_process, address = start_service(service)
        wait_until_reachable(address)
        rows = [summary("wippy, one session reused", wippy_client(client, count, address)),
                summary("new session per dial (Go Wippy's approach)",
                        minimal_client(per_dial_count, address, per_dial=True)),
                summary("minimal client, one session", minimal_client(count, address, per_dial=False))]
        print(report(rows, network_seconds, count))
    finally:
        if service_process is not None:
            service_process.terminate()
            service_process.wait()
        network.stop()
        addresses = network.non_loopback_addresses()
        network.cleanup()
        if addresses:
            sys.exit(f"router logs name addresses outside loopback: {addresses}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
