"""Measures (a) start-up to first request served, (d) 2,000 GETs through a
SOCKS5 proxy with 300 in flight and (e) wrk on the same endpoint, for
wippy-c, the peer Go Wippy when PEER_WIPPY names one, and the best peers
available here (Node, curl, nginx). Started by bench/vs-wippy.sh, which
starts nginx and microsocks; prints markdown sections."""
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
OURS = str(ROOT / "build" / "wippy")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_app(work, port):
    app = pathlib.Path(tempfile.mkdtemp(dir=work))
    shutil.copytree(ROOT / "bench" / "apps" / "web", app / "web")
    index = app / "web" / "src" / "_index.yaml"
    index.write_text(index.read_text().replace("@PORT@", str(port)))
    return app / "web"


def wait_served(url, deadline):
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.002)
    return False


def servers(work, node_dir, threads=()):
    """name -> function(port) returning (argv, cwd) of a server of the same JSON;
    threads=("--threads", "1") gives wippy-c one loop, as Node and nginx's one
    worker have (with a loop per core it shares wrk's cores)."""
    table = {"wippy-c": lambda port: ([OURS, *threads, "run"], web_app(work, port))}
    if os.environ.get("PEER_WIPPY"):
        table["Go Wippy"] = lambda port: ([os.environ["PEER_WIPPY"], "run"], web_app(work, port))
    table["Node"] = lambda port: (["node", str(node_dir / "server.mjs"), str(port)], node_dir)
    return table


def startup(work, node_dir, trials=10):
    rows = []
    for name, make in servers(work, node_dir).items():
        samples = []
        for _ in range(trials):
            port = free_port()
            argv, cwd = make(port)
            started = time.monotonic()
            process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            served = wait_served(f"http://127.0.0.1:{port}/status.json", started + 10)
            samples.append(time.monotonic() - started if served else float("nan"))
            process.terminate()
            process.wait()
        rows.append((name, statistics.median(samples)))
    lines = ["## (a) Start-up to first request served", "",
             "Median of 10: exec of the server until a GET of the endpoint answers 200 (polled every 2 ms).", "",
             "| runtime | ms |", "|---|---|"]
    lines += [f"| {name} | {seconds * 1000:.1f} |" for name, seconds in rows]
    return lines, dict(rows)


def mean_seconds(argv, cwd, runs=5):
    samples = []
    for _ in range(runs + 1):
        started = time.monotonic()
        subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.monotonic() - started)
    return statistics.mean(samples[1:])  # the first run warms caches


def socks(work, node_dir, web_port, proxy_port, count=2000, in_flight=300):
    url = f"http://127.0.0.1:{web_port}/index.json"
    app = pathlib.Path(tempfile.mkdtemp(dir=work)) / "socks"
    shutil.copytree(ROOT / "bench" / "apps" / "socks", app)
    index = app / "src" / "_index.yaml"
    index.write_text(index.read_text().replace("@PROXY_PORT@", str(proxy_port)))
    urls = pathlib.Path(work) / "curl.urls"
    urls.write_text("".join(f'url = "{url}"\n' for _ in range(count)))
    cases = {"wippy-c": ([OURS, "run", "get", str(count), url, "bench:proxy", "concurrent", str(in_flight)], app)}
    if os.environ.get("PEER_WIPPY"):
        cases["Go Wippy"] = ([os.environ["PEER_WIPPY"], "run", "get", str(count), url, "bench:proxy", "concurrent",
                              str(in_flight)], app)
    cases["Node + socks-proxy-agent"] = (["node", str(node_dir / "socks_get.mjs"), str(count), url,
                                          f"127.0.0.1:{proxy_port}", str(in_flight)], node_dir)
    cases["curl --parallel"] = (["curl", "-s", "-o", "/dev/null", "--parallel", "--parallel-max", str(in_flight),
                                 "--socks5-hostname", f"127.0.0.1:{proxy_port}", "-K", str(urls)], work)
    rows = {name: mean_seconds(argv, cwd) for name, (argv, cwd) in cases.items()}
    lines = ["## (d) 2,000 GETs through SOCKS5, 300 in flight", "",
             f"{count} GETs of a 27-byte file from nginx through microsocks, {in_flight} in flight (curl's "
             "--parallel-max cap), keep-alive; mean wall time of 5 runs, start-up included.", "",
             "| client | seconds | requests/s |", "|---|---|---|"]
    lines += [f"| {name} | {seconds:.3f} | {count / seconds:,.0f} |" for name, seconds in rows.items()]
    return lines, rows


def wrk(work, node_dir, nginx_port, duration=10, connections=50):
    rows = {}
    for name, make in servers(work, node_dir, threads=("--threads", "1")).items():
        port = free_port()
        argv, cwd = make(port)
        process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_served(f"http://127.0.0.1:{port}/status.json", time.monotonic() + 10)
        rows[name] = run_wrk(f"http://127.0.0.1:{port}/status.json", duration, connections)
        process.terminate()
        process.wait()
    rows["nginx (static file)"] = run_wrk(f"http://127.0.0.1:{nginx_port}/status.json", duration, connections)
    lines = ["## (e) wrk on the same endpoint", "",
             f"wrk -t1 -c{connections} -d{duration}s, keep-alive, the same JSON body from each; "
             "one worker each (wippy-c with --threads 1).", "",
             "| server | requests/s | p99 |", "|---|---|---|"]
    lines += [f"| {name} | {rate:,.0f} | {p99} |" for name, (rate, p99) in rows.items()]
    return lines, {name: rate for name, (rate, _) in rows.items()}


def run_wrk(url, duration, connections):
    completed = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url],
                               capture_output=True, text=True, check=True)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", completed.stdout).group(1))
    p99 = re.search(r"99%\s+(\S+)", completed.stdout).group(1)
    return rate, p99


def main(work, node_dir, web_port, proxy_port, nginx_port):
    node_dir = pathlib.Path(node_dir)
    sections = []
    a_lines, a = startup(work, node_dir)
    d_lines, d = socks(work, node_dir, web_port, proxy_port)
    e_lines, e = wrk(work, node_dir, nginx_port)
    for lines in (a_lines, d_lines, e_lines):
        sections += lines + [""]
    peer = "Go Wippy" if "Go Wippy" in a else None
    sections += ["## Ratios, ours / theirs", ""]
    if peer:
        sections.append(f"Against Go Wippy: start-up {a['wippy-c'] / a[peer]:.2f} (goal ≤ 0.25), "
                        f"SOCKS5 throughput {d[peer] / d['wippy-c']:.2f}× (goal ≥ 2), "
                        f"wrk {e['wippy-c'] / e[peer]:.2f}× (goal ≥ 2).")
    sections.append(f"Against Node: start-up {a['wippy-c'] / a['Node']:.2f}, SOCKS5 throughput "
                    f"{d['Node + socks-proxy-agent'] / d['wippy-c']:.2f}×, wrk {e['wippy-c'] / e['Node']:.2f}×; "
                    f"against curl, SOCKS5 throughput {d['curl --parallel'] / d['wippy-c']:.2f}×; "
                    f"against nginx, wrk {e['wippy-c'] / e['nginx (static file)']:.2f}×.")
    print("\n".join(sections))


if __name__ == "__main__":
    main(*sys.argv[1:3], *map(int, sys.argv[3:6]))
