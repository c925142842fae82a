"""Runs inside a fresh network namespace (only `lo`): starts the private Tor
network and a target, drives the real wippy binary through the Tor client
(the test apps, the netdemo and examples/tor, whose site is also hosted as
an onion service), and prints what was observed as JSON for test_tor.py to
judge."""
import concurrent.futures
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from peers import IpService  # noqa: E402
from tornet import EXTENDED_SOCKS_PORT, NO_ISOLATION_SOCKS_PORT, SOCKS_PORT, TorNetwork  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


def wippy(app, *args):
    completed = subprocess.run([os.environ["WIPPY"], *args], cwd=app, capture_output=True,
                               text=True, timeout=120)
    return {"code": completed.returncode, "out": completed.stdout, "err": completed.stderr}


def retried(what, attempt, run):
    """Every retry is logged (stderr, which the test shows when it fails) and
    counted in the result, so that flakiness stays visible."""
    print(f"tor_scenario: {what}: attempt {attempt + 1} failed: {run}", file=sys.stderr)
    RETRIES.append({"what": what, "attempt": attempt + 1, "out": run.get("out"),
                    "err": (run.get("err") or "")[-500:]})


RETRIES = []

# A well-formed v3 address (its checksum holds) that nobody publishes on the
# private network, and one whose checksum is wrong.
UNKNOWN_ONION = "e64dr34bq2agotsgzlo4f6l5xijasetfy6yvt2lgknb33g7ypxnpyeid.onion"
INVALID_ONION = "a" * 56 + ".onion"
SITE_PORT = 8080  # the example's http.service, app:site


def tor_example(work, network, target):
    """examples/tor as docs/tor.md tells people to use it, with -o pointing
    its tor entry at the private network's SOCKS ports: a fetch through Tor,
    Tor's extended errors for onion addresses, and its http.service hosted
    as an onion service by another tor and fetched by its .onion name."""
    example = work / "tor_example"
    shutil.copytree(ROOT / "examples" / "tor", example, ignore=shutil.ignore_patterns("wippy.lock", ".wippy"))
    plain = ("-q", "-o", f"app:tor:port={SOCKS_PORT}")
    extended = ("-q", "-o", f"app:tor:port={EXTENDED_SOCKS_PORT}")
    found = {}

    for attempt in range(3):  # a fresh circuit on a young network may fail (reply 1)
        network.events.clear()
        found["fetch"] = wippy(example, *plain, "run", "fetch", target.url)
        found["fetch_streams"] = network.wait_for_streams(target.port, 1)
        if found["fetch"]["code"] == 0:
            break
        retried("example fetch", attempt, found["fetch"])
        if attempt < 2:
            time.sleep(2)  # give the young network a moment, as measured() below does
    network.events.clear()

    # isolate_streams against tor's IsolateSOCKSAuth (on by default) and
    # against a SocksPort with NoIsolateSOCKSAuth: two fetches at once each
    # (the site left off: the two runtimes cannot both listen on its port).
    # With IsolateSOCKSAuth they can never share a circuit. Without it they
    # may: tor is then free to pick any circuit, and it does not always pick
    # one circuit for both (a new clean one may be ready), so sharing once
    # in up to three tries shows that the credentials no longer separate.
    for port, name in ((SOCKS_PORT, "isolated_circuits"), (NO_ISOLATION_SOCKS_PORT, "shared_circuits")):
        for attempt in range(3):
            network.events.clear()
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                runs = list(pool.map(lambda _: wippy(example, "-q", "-o", f"app:tor:port={port}", "-o",
                                                     "app:site:lifecycle.auto_start=false", "run", "fetch",
                                                     target.url), range(2)))
            streams = network.wait_for_streams(target.port, 2)
            done = all(run["code"] == 0 for run in runs) and len(streams) == 2
            if done and (port == SOCKS_PORT or len(set(streams.values())) == 1):
                break
            retried(f"example fetches via port {port}", attempt,
                    {**runs[0], "err": f"the two streams went on circuits {sorted(streams.values())}"}
                    if done else runs[0])
        found[name] = list(streams.values())
    network.events.clear()

    found["invalid_onion"] = wippy(example, *extended, "run", "fetch", f"http://{INVALID_ONION}/")
    found["unknown_onion"] = wippy(example, *extended, "run", "fetch", f"http://{UNKNOWN_ONION}/")

    # Hosting: `wippy run` serves app:site on 127.0.0.1:8080; another tor
    # publishes it (HiddenServiceDir, HiddenServicePort 80 127.0.0.1:8080).
    log_path = work / "tor_example_server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([os.environ["WIPPY"], "-o", f"app:tor:port={SOCKS_PORT}", "run"], cwd=example,
                                  stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while f"listening on 127.0.0.1:{SITE_PORT}" not in log_path.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                found["onion_error"] = f"the example's site did not start: {log_path.read_text()}"
                return found
            time.sleep(0.1)
        started = time.monotonic()
        try:
            onion = network.start_onion_service(SITE_PORT, log=lambda line: print(f"tor_scenario: {line}",
                                                                                  file=sys.stderr))
        except RuntimeError as error:  # the hosting test says so; the others still judge their part
            found["onion_error"] = str(error)
            return found
        found["onion_publish_seconds"] = round(time.monotonic() - started, 1)
        found["onion"] = onion
        # The descriptor is on one HSDir; the client may ask another first
        # (reply 0xf0), or a young circuit may fail, or a rendezvous outlast
        # the client's SocksTimeout of 30 s (reply 0x06, once in CI, where
        # two such tries used up a 60 s budget): retried, within 150 s.
        deadline = time.monotonic() + 150
        for attempt in range(30):
            found["onion_fetch"] = wippy(example, *extended, "-o", "app:site:lifecycle.auto_start=false",
                                         "run", "fetch", f"http://{onion}/")
            if found["onion_fetch"]["code"] == 0 or time.monotonic() > deadline:
                break
            retried("example onion fetch", attempt, found["onion_fetch"])
            time.sleep(2)
        found["onion_fetch_attempts"] = attempt + 1
        found["onion_fetch_seconds"] = round(time.monotonic() - started - found["onion_publish_seconds"], 1)
    finally:
        server.terminate()
        try:
            found["server_code"] = server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            found["server_code"] = server.wait()
    return found


def main(work):
    work = pathlib.Path(work)
    result = {}
    network = TorNetwork(work / "tor")
    target = IpService()
    try:
        started = time.monotonic()
        network.start()
        result["bootstrap_seconds"] = round(time.monotonic() - started, 1)
        network.watch_streams()

        app = work / "app"
        shutil.copytree(ROOT / "tests" / "apps" / "network", app)
        index = app / "src" / "_index.yaml"
        text = index.read_text()
        for name in ("PROXY_PORT", "AUTH_PORT", "RECORDER_PORT", "SILENT_PORT", "DEAD_PORT", "SAM_PORT"):
            text = text.replace(f"@{name}@", "1")
        text = text.replace("@TOR_PORT@", str(SOCKS_PORT))
        text = text.replace("@TOR_EXTENDED_PORT@", str(EXTENDED_SOCKS_PORT))
        index.write_text(text)

        # Circuits may still be building right after bootstrap: wait until one
        # request goes through before measuring anything.
        for attempt in range(30):
            warmup = wippy(app, "run", "scenario", "fetch", target.url, "app:tor")
            if warmup["out"] == "127.0.0.1\n":
                break
            retried("warm-up", attempt, warmup)
            time.sleep(1)  # give the young network a moment before trying again
        result["warmup_attempts"] = attempt + 1
        network.wait_for_streams(target.port, 1)  # the warm-up's own event, then a clean slate
        network.events.clear()

        def measured(overlay):
            """Four concurrent requests; a young private network sometimes
            fails a circuit (reply 1), once in CI on four tries in a row
            made at once: up to six, two seconds apart."""
            for attempt in range(6):
                network.events.clear()
                run = wippy(app, "run", "scenario", "concurrent", target.url, overlay, "4")
                streams = network.wait_for_streams(target.port, 4)
                if run["out"] == "ok\t4\terrors\t0\n":
                    break
                retried(f"concurrent via {overlay}", attempt, run)
                time.sleep(2)
            network.events.clear()
            return run, streams

        result["shared"], result["shared_streams"] = measured("app:tor")
        result["isolated"], result["isolated_streams"] = measured("app:tor_isolated")

        onion = "http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion/"
        result["bad_onion"] = wippy(app, "run", "scenario", "fetch", onion, "app:tor_extended")
        network.events.clear()

        netdemo = work / "netdemo"
        shutil.copytree(ROOT / "examples" / "netdemo", netdemo,
                        ignore=shutil.ignore_patterns("wippy.lock", ".wippy"))
        index = netdemo / "src" / "_index.yaml"
        index.write_text(index.read_text().replace("port: 9050", f"port: {SOCKS_PORT}"))
        result["netdemo_init"] = wippy(netdemo, "init")
        for attempt in range(3):  # a fresh circuit on a young network may fail (reply 1)
            network.events.clear()
            result["netdemo"] = wippy(netdemo, "run", "probe")
            result["netdemo_streams"] = network.wait_for_streams(8099, 1)  # its own http.service
            if "tor IP:" in result["netdemo"]["out"]:
                break
            retried("netdemo", attempt, result["netdemo"])
            if attempt < 2:
                time.sleep(2)

        started = time.monotonic()
        result["example"] = tor_example(work, network, target)
        result["example_seconds"] = round(time.monotonic() - started, 1)
    finally:
        network.stop()
        target.close()
        result["non_loopback_addresses"] = network.non_loopback_addresses()
        result["retries"] = RETRIES
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
