"""Runs inside a fresh network namespace (only `lo`): starts the private I2P
network, a wippy http.service listening on I2P (router 2) and a wippy client
on router 3, and prints what was observed as JSON for test_i2p.py."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from i2pnet import SAM_PORTS, I2PNetwork  # noqa: E402
from peers import IpService, free_port  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
WIPPY = os.environ["WIPPY"]


def prepare(source, destination, sam_port):
    shutil.copytree(source, destination)
    index = destination / "src" / "_index.yaml"
    text = index.read_text().replace("@SAM_PORT@", str(sam_port))
    text = re.sub(r"@[A-Z_]+@", lambda _: str(free_port()), text)
    index.write_text(text)
    return destination


def start_service(app):
    """Starts `wippy run`; returns the process and the b32 it announced."""
    process = subprocess.Popen([WIPPY, "run"], cwd=app, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(r"app:server listening on (\S+\.b32\.i2p) via app:i2p", line)
        if match:
            return process, match.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError("the service did not announce its I2P address")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def fetch(app, url, seconds=90, runs=3):
    """Fetches through I2P from the client app, retrying inside one runtime
    for `seconds` while the network settles (a new lease set takes seconds,
    under the sanitizers up to a minute, to spread). A
    runtime that still fails starts over with a fresh destination: on this
    young three-router network a client's first garlic session with the
    service now and then never gets an answer through, and a new identity
    does not inherit that session."""
    for run in range(runs):
        completed = subprocess.run([WIPPY, "run", "scenario", "fetch_until", url, "app:i2p", str(seconds)],
                                   cwd=app, capture_output=True, text=True, timeout=600)
        outcome = {"code": completed.returncode, "out": completed.stdout, "err": completed.stderr, "runs": run + 1}
        if not completed.stdout.startswith("error") or run == runs - 1:
            return outcome
        print(f"i2p_scenario: fetch {url}: runtime {run + 1} failed, starting over with a fresh "
              f"destination: {completed.stdout.strip()}", file=sys.stderr)
        shutil.rmtree(app / ".wippy" / "net" / "i2p", ignore_errors=True)
    return outcome


def main(work):
    work = pathlib.Path(work)
    result = {}
    network = I2PNetwork()
    target = IpService()
    try:
        started = time.monotonic()
        network.start()
        result["network_seconds"] = round(time.monotonic() - started, 1)
        service = prepare(ROOT / "tests" / "apps" / "i2p_service", work / "service", SAM_PORTS[1])
        client = prepare(ROOT / "tests" / "apps" / "network", work / "client", SAM_PORTS[2])
        client_index = client / "src" / "_index.yaml"
        client_index.write_text(client_index.read_text().replace("session_name: wippy-test",
                                                                 "session_name: wippy-client"))

        process, address = start_service(service)
        result["service_address"] = address
        result["fetch"] = fetch(client, f"http://{address}/")
        match = re.search(r"SAM session wippy-client-[0-9a-f]+ ready, destination (\S+)", result["fetch"]["err"])
        result["client_address"] = match.group(1) if match else None
        stop(process)

        process, again = start_service(service)
        result["service_address_after_restart"] = again
        # A second client (fresh keys): a client restarted at once with the
        # same keys meets i2pd still tearing down its previous destination.
        second = prepare(ROOT / "tests" / "apps" / "network", work / "second", SAM_PORTS[0])
        second_index = second / "src" / "_index.yaml"
        second_index.write_text(second_index.read_text().replace("session_name: wippy-test",
                                                                 "session_name: wippy-second"))
        result["fetch_after_restart"] = fetch(second, f"http://{again}/")
        match = re.search(r"SAM session wippy-second-[0-9a-f]+ ready, destination (\S+)",
                          result["fetch_after_restart"]["err"])
        result["second_client_address"] = match.group(1) if match else None
        stop(process)

        result["clearnet"] = fetch(second, target.url, seconds=0, runs=1)
        result["target_clients"] = list(target.clients)
    finally:
        network.stop()
        target.close()
        result["non_loopback_addresses"] = network.non_loopback_addresses()
        network.cleanup()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
