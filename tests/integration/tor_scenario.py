"""Runs inside a fresh network namespace (only `lo`): starts the private Tor
network and a target, drives the real wippy binary through the Tor client,
and prints what was observed as JSON for test_tor.py to judge."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from peers import IpService  # noqa: E402
from tornet import EXTENDED_SOCKS_PORT, SOCKS_PORT, TorNetwork  # noqa: E402

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
            fails a circuit (reply 1), so up to three tries."""
            for attempt in range(3):
                network.events.clear()
                run = wippy(app, "run", "scenario", "concurrent", target.url, overlay, "4")
                streams = network.wait_for_streams(target.port, 4)
                if run["out"] == "ok\t4\terrors\t0\n":
                    break
                retried(f"concurrent via {overlay}", attempt, run)
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
    finally:
        network.stop()
        target.close()
        result["non_loopback_addresses"] = network.non_loopback_addresses()
        result["retries"] = RETRIES
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
