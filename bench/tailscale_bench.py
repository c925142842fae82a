"""Runs inside a fresh network namespace (lo, one veth pair so that tsnet
sees a network), started by bench/tailscale.sh: headscale on loopback, one
wippy runtime serving the same endpoints on the tailnet and directly on
loopback, and a second runtime with its own tailnet node timing GETs both
ways. Prints the markdown report."""
import os
import pathlib
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
import json

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from headscale import NODE_ENV, Headscale  # noqa: E402
from peers import free_port  # noqa: E402

WIPPY = str(ROOT / "build" / "wippy")


def prepare(source, destination, control, direct_port):
    shutil.copytree(source, destination)
    index = destination / "src" / "_index.yaml"
    index.write_text(index.read_text().replace("@CONTROL_URL@", control.url)
                     .replace("@DIRECT_PORT@", str(direct_port)).replace("@SAM_PORT@", "7656"))
    return destination


def start_service(app, env):
    process = subprocess.Popen([WIPPY, "run"], cwd=app, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    while time.monotonic() - started < 90:
        line = process.stderr.readline()
        if re.search(r"bench:on_tailnet listening on 100\.", line):
            return process, time.monotonic() - started
        if not line and process.poll() is not None:
            break
    raise RuntimeError("the service did not come up on the tailnet")


def client_run(app, env, count, url, overlay, connection):
    """Runs the client; returns its timings and the CPU time it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run([WIPPY, "run", "get", str(count), url, overlay, connection], cwd=app, env=env,
                               capture_output=True, text=True, timeout=1800)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-2000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(completed.stdout.strip().splitlines()[-1]), cpu


def timed_run(app, env, count, url, overlay, connection):
    # The same run with one request measures what start-up and login cost,
    # so the CPU time of the requests alone is the difference.
    _, baseline_cpu = client_run(app, env, 1, url, overlay, connection)
    run, total_cpu = client_run(app, env, count, url, overlay, connection)
    seconds = run["seconds"][1:]  # the first request also waits for the node's login
    cpu = max(total_cpu - baseline_cpu, 0.0)
    return {"first": run["seconds"][0], "median": statistics.median(seconds),
            "p99": sorted(seconds)[max(0, int(len(seconds) * 0.99) - 1)], "total": sum(seconds),
            "bytes": run["bytes"] * len(seconds) / len(run["seconds"]), "count": len(seconds),
            "client_cpu": cpu}


def path_of(log):
    text = log.read_text(errors="replace") if log.exists() else ""
    direct = re.findall(r"now using (\S+)", text)
    return f"direct UDP ({direct[-1]})" if direct else "DERP relay (headscale's, over loopback)"


def main(work, small_count, close_count, big_count):
    work = pathlib.Path(work)
    control = Headscale(work / "headscale")
    service_process = None
    try:
        control.start()
        env = {**os.environ, **NODE_ENV, "WIPPY_BENCH_TS_AUTHKEY": control.auth_key()}
        direct_port = free_port()
        service = prepare(ROOT / "bench" / "apps" / "tailnet_service", work / "service", control, direct_port)
        client = prepare(ROOT / "bench" / "apps" / "overlay_client", work / "client", control, direct_port)
        service_process, login = start_service(service, env)
        cases = [("small body, keep-alive", small_count, "/small", "keep"),
                 ("small body, new connection each", close_count, "/small", "close"),
                 ("1 MiB body, keep-alive", big_count, "/big", "keep")]
        rows = []
        for name, count, path, connection in cases:
            tailnet = timed_run(client, env, count + 1, f"http://bench-service:8080{path}", "bench:tailnet",
                                connection)
            direct = timed_run(client, env, count + 1, f"http://127.0.0.1:{direct_port}{path}", "direct",
                               connection)
            rows.append((name, tailnet, direct))
        route = path_of(work / "client" / ".wippy" / "net" / "tailscale" / "bench-client" / "node.log")
        print(report(rows, login, route))
    finally:
        if service_process is not None:
            service_process.terminate()
            service_process.wait()
        control.stop()


def report(rows, login, route):
    lines = ["# Tailscale overlay benchmark", "",
             f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores. Two wippy runtimes, each with its own "
             "embedded tailnet node, against headscale on loopback, in a network namespace; the service "
             "runtime serves the same endpoints on the tailnet and directly on 127.0.0.1, and the client "
             "runtime times sequential GETs both ways (the first request, which waits for the client "
             f"node's login, is left out; client CPU excludes start-up and login, measured by a one-request "
             f"run). Service node up in {login:.1f} s. Peer path: {route}.", "",
             "| case | requests | tailnet median | direct median | ratio | tailnet p99 | direct p99 | "
             "tailnet MiB/s | direct MiB/s | client CPU per request, tailnet / direct |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, tailnet, direct in rows:
        t_rate = tailnet["bytes"] / tailnet["total"] / 2**20
        d_rate = direct["bytes"] / direct["total"] / 2**20
        lines.append(f"| {name} | {tailnet['count']} | {tailnet['median'] * 1e3:.2f} ms | "
                     f"{direct['median'] * 1e3:.2f} ms | {tailnet['median'] / direct['median']:.1f}× | "
                     f"{tailnet['p99'] * 1e3:.2f} ms | {direct['p99'] * 1e3:.2f} ms | {t_rate:.1f} | {d_rate:.1f} | "
                     f"{tailnet['client_cpu'] / tailnet['count'] * 1e3:.2f} / "
                     f"{direct['client_cpu'] / direct['count'] * 1e3:.2f} ms |")
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
