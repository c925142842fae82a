"""Runs inside a fresh network namespace (only `lo`): starts the private I2P
network, a wippy http.service listening on I2P (router 2) and a wippy client
on router 3; then, on a second private network, examples/i2p run as
docs/i2p.md says; and prints what was observed as JSON for test_i2p.py."""
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


def start_service(app, *flags, service="app:server"):
    """Starts `wippy [flags] run`; returns the process and the b32 it announced."""
    process = subprocess.Popen([WIPPY, *flags, "run"], cwd=app, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(re.escape(service) + r" listening on (\S+\.b32\.i2p) via app:i2p", line)
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


def copy_example(destination):
    """examples/i2p as a user would copy it, with its tunnels made zero-hop
    (the private network has three routers; a real one never uses 0). The
    lengths are edited in the copy: -o splits its field path at every dot,
    so it cannot name the SAM option "inbound.length"."""
    shutil.copytree(ROOT / "examples" / "i2p", destination, ignore=shutil.ignore_patterns("wippy.lock", ".wippy"))
    index = destination / "src" / "_index.yaml"
    text = index.read_text()
    for option in ("inbound.length", "outbound.length"):
        if text.count(f"{option}: 3\n") != 1:
            raise RuntimeError(f"examples/i2p no longer sets {option}: 3")
        text = text.replace(f"{option}: 3\n", f"{option}: 0\n")
    index.write_text(text)
    return destination


def i2p_example(work):
    """examples/i2p as docs/i2p.md tells people to use it: `wippy run`
    serves its site on I2P; a second copy runs `fetch` through another
    router (its own site left off with -o); the service's keys, backed up,
    give a fresh copy the same address on a third router."""
    found = {}
    service = copy_example(work / "i2p_example_service")
    try:
        process, address = start_service(service, "-o", f"app:i2p:port={SAM_PORTS[1]}", service="app:site")
    except RuntimeError as error:  # the example's tests say so; the driver's part still counts
        found["error"] = str(error)
        return found
    found["address"] = address
    client = copy_example(work / "i2p_example_client")
    client_flags = ["-o", f"app:i2p:port={SAM_PORTS[2]}", "-o", "app:site:lifecycle.auto_start=false"]
    for run in range(3):  # as fetch() above: a runtime that still fails starts over with fresh keys
        completed = subprocess.run([WIPPY, *client_flags, "run", "fetch", f"http://{address}/", "90"],
                                   cwd=client, capture_output=True, text=True, timeout=600)
        found["fetch"] = {"code": completed.returncode, "out": completed.stdout, "err": completed.stderr[-3000:],
                          "runs": run + 1}
        if completed.returncode == 0:
            break
        print(f"i2p_scenario: example fetch {address}: runtime {run + 1} failed, starting over with a fresh "
              f"destination: {completed.stderr.strip()[-300:]}", file=sys.stderr)
        shutil.rmtree(client / ".wippy" / "net" / "i2p", ignore_errors=True)
    match = re.search(r"SAM session wippy-example-[0-9a-f]+ ready, destination (\S+)", found["fetch"]["err"])
    found["client_address"] = match.group(1) if match else None
    stop(process)

    # docs/i2p.md's backup and restore: the keys file, copied into a fresh
    # copy of the project (here on another router), keeps the address.
    keys = service / ".wippy" / "net" / "i2p" / "i2p.keys"
    found["keys_mode"] = oct(keys.stat().st_mode & 0o777) if keys.exists() else None
    restored = copy_example(work / "i2p_example_restored")
    (restored / ".wippy" / "net" / "i2p").mkdir(parents=True)
    shutil.copy2(keys, restored / ".wippy" / "net" / "i2p" / "i2p.keys")
    try:
        process, found["restored_address"] = start_service(restored, "-o", f"app:i2p:port={SAM_PORTS[0]}",
                                                           service="app:site")
        stop(process)
    except RuntimeError as error:
        found["restored_address"] = str(error)
    return found


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
        report_crashes(network, "the driver's part")
        network.cleanup()

    # The example gets a network of its own, each router serving at most one
    # session before the example's checks are done: i2pd 2.56 now and then
    # aborts ("pure virtual method called") some seconds after a SAM
    # session on it has closed (seen on routers 0 and 2 after the part
    # above), and a router that did so cannot serve what comes next.
    network = I2PNetwork()
    try:
        started = time.monotonic()
        network.start()
        result["example"] = i2p_example(work)
        result["example_seconds"] = round(time.monotonic() - started, 1)
    finally:
        network.stop()
        result["non_loopback_addresses"] = sorted(set(result["non_loopback_addresses"]) |
                                                  set(network.non_loopback_addresses()))
        report_crashes(network, "the example's part")
        network.cleanup()
    print(json.dumps(result))


def report_crashes(network, part):
    """A router that died before the end is logged (test_i2p.py shows the
    line as a warning), whether or not what ran needed it any more."""
    for crash in network.crashes():
        print(f"i2p_scenario: {part}: i2pd router {crash['router']} died ({crash['code']}): "
              f"{crash['stderr'].strip()[-300:]}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
