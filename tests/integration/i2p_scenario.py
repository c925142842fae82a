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
# A part that failed starts over only before this: with I2P itself broken
# the retries would otherwise outlast test_i2p.py's timeout (1,500 s), and
# the tests would see a bare timeout instead of what failed.
RETRIES_UNTIL = time.monotonic() + 600


def prepare(source, destination, sam_port, fresh=False):
    """A copy of a test app with its ports filled in; fresh=True starts it
    over (a client's keys included) when it was copied before."""
    if fresh:
        shutil.rmtree(destination, ignore_errors=True)
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


def fetch(app, url, seconds=90):
    """Fetches through I2P from the client app, retrying inside one runtime
    for `seconds` while the network settles (a new lease set takes seconds,
    under the sanitizers up to a minute, to spread). A runtime that still
    fails is started over by on_private_network, on a fresh network: on
    this young three-router network a client's first garlic session with
    the service now and then never gets an answer through."""
    completed = subprocess.run([WIPPY, "run", "scenario", "fetch_until", url, "app:i2p", str(seconds)],
                               cwd=app, capture_output=True, text=True, timeout=600)
    return {"code": completed.returncode, "out": completed.stdout, "err": completed.stderr}


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


def one_line(text, keep=400):
    """The end of a runtime's stderr on one line: test_i2p.py shows only the
    lines that start with "i2p_scenario: " as warnings."""
    return " | ".join(text.strip()[-keep:].splitlines())


def i2p_example(work, found):
    """examples/i2p as docs/i2p.md tells people to use it: `wippy run`
    serves its site on I2P; a second copy runs `fetch` through another
    router (its own site left off with -o); the service's keys, backed up,
    give a fresh copy the same address on a third router. Each attempt
    (a fresh network) copies the example afresh under `work`."""
    found.clear()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    service = copy_example(work / "i2p_example_service")
    try:
        process, address = start_service(service, "-o", f"app:i2p:port={SAM_PORTS[1]}", service="app:site")
    except RuntimeError as error:  # the example's tests say so; the driver's part still counts
        found["error"] = str(error)
        return found
    found["address"] = address
    client = copy_example(work / "i2p_example_client")
    client_flags = ["-o", f"app:i2p:port={SAM_PORTS[2]}", "-o", "app:site:lifecycle.auto_start=false"]
    try:
        for run in range(2):  # as fetch() above: a runtime that still fails starts over with fresh keys
            completed = subprocess.run([WIPPY, *client_flags, "run", "fetch", f"http://{address}/", "90"],
                                       cwd=client, capture_output=True, text=True, timeout=600)
            found["fetch"] = {"code": completed.returncode, "out": completed.stdout,
                              "err": completed.stderr[-3000:], "runs": run + 1}
            if completed.returncode == 0:
                break
            print(f"i2p_scenario: example fetch {address}: runtime {run + 1} failed, starting over with a fresh "
                  f"destination: {one_line(completed.stderr)}", file=sys.stderr)
            shutil.rmtree(client / ".wippy" / "net" / "i2p", ignore_errors=True)
    finally:
        stop(process)
    match = re.search(r"SAM session wippy-example-[0-9a-f]+ ready, destination (\S+)", found["fetch"]["err"])
    found["client_address"] = match.group(1) if match else None

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


def first_fetch(work, service, result):
    """The service on router 1, a client on router 2."""
    process, address = start_service(service)
    try:
        result["service_address"] = address
        client = prepare(ROOT / "tests" / "apps" / "network", work / "client", SAM_PORTS[2], fresh=True)
        client_index = client / "src" / "_index.yaml"
        client_index.write_text(client_index.read_text().replace("session_name: wippy-test",
                                                                 "session_name: wippy-client"))
        result["fetch"] = fetch(client, f"http://{address}/")
        match = re.search(r"SAM session wippy-client-[0-9a-f]+ ready, destination (\S+)", result["fetch"]["err"])
        result["client_address"] = match.group(1) if match else None
    finally:
        stop(process)
    return result["fetch"]


def fetch_after_restart(work, service, result, target):
    """The same service keys again (router 1 of a fresh network), a second
    client with keys of its own on router 0, then a clearnet host through it."""
    process, again = start_service(service)
    try:
        result["service_address_after_restart"] = again
        second = prepare(ROOT / "tests" / "apps" / "network", work / "second", SAM_PORTS[0], fresh=True)
        second_index = second / "src" / "_index.yaml"
        second_index.write_text(second_index.read_text().replace("session_name: wippy-test",
                                                                 "session_name: wippy-second"))
        result["fetch_after_restart"] = fetch(second, f"http://{again}/")
        match = re.search(r"SAM session wippy-second-[0-9a-f]+ ready, destination (\S+)",
                          result["fetch_after_restart"]["err"])
        result["second_client_address"] = match.group(1) if match else None
    finally:
        stop(process)
    result["clearnet"] = fetch(second, target.url, seconds=0)
    result["target_clients"] = list(target.clients)
    return result["fetch_after_restart"]


def fetched_an_address(outcome):
    return outcome["out"].endswith(".b32.i2p\n")


def on_private_network(part, name, result, succeeded=fetched_an_address, attempts=3):
    """Runs part() on a private network of its own, every router serving at
    most one session before the part's checks are done: i2pd 2.56 now and
    then aborts ("pure virtual method called") some seconds after a SAM
    session on it has closed (seen on routers 0 and 2), and the network
    left cannot always carry a new lease set in time; and on a healthy young
    network a client's lookups of a service's lease set now and then fail
    for minutes (CI saw three client runtimes in a row fail on one network).
    A part that has not succeeded(outcome) starts over on a fresh network
    (the driver's service keeps its keys, clients get new ones)."""
    for attempt in range(attempts):
        network = I2PNetwork()
        try:
            started = time.monotonic()
            network.start()
            result.setdefault("network_seconds", []).append(round(time.monotonic() - started, 1))
            outcome = part()
        finally:
            network.stop()
            result["non_loopback_addresses"] = sorted(set(result.get("non_loopback_addresses", [])) |
                                                      set(network.non_loopback_addresses()))
            report_crashes(network, name)
            network.cleanup()
        if succeeded(outcome) or attempt == attempts - 1:
            return
        if time.monotonic() > RETRIES_UNTIL:
            print(f"i2p_scenario: {name}: attempt {attempt + 1} failed, and the time for retries is spent: "
                  f"{what_failed(outcome)}", file=sys.stderr)
            return
        print(f"i2p_scenario: {name}: attempt {attempt + 1} failed, starting over on a fresh network: "
              f"{what_failed(outcome)}", file=sys.stderr)


def what_failed(outcome):
    """A failed part's outcome: a fetch's output, or the example's error or
    its last fetch's stderr."""
    if "fetch" in outcome:
        return one_line(outcome["fetch"]["err"])
    return one_line(outcome.get("out") or outcome.get("err") or outcome.get("error", ""))


def example_served(found):
    return "error" not in found and found["fetch"]["code"] == 0


def main(work):
    work = pathlib.Path(work)
    result = {}
    target = IpService()
    service = prepare(ROOT / "tests" / "apps" / "i2p_service", work / "service", SAM_PORTS[1])
    try:
        on_private_network(lambda: first_fetch(work, service, result), "the driver's first fetch", result)
        on_private_network(lambda: fetch_after_restart(work, service, result, target),
                           "the fetch after a restart", result)
    finally:
        target.close()

    # The example gets networks of its own too (its three copies use one
    # router each).
    started = time.monotonic()
    found = result["example"] = {}
    on_private_network(lambda: i2p_example(work / "example", found), "the example's part", result,
                       succeeded=example_served)
    result["example_seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


def report_crashes(network, part):
    """A router that died before the end is logged (test_i2p.py shows the
    line as a warning), whether or not what ran needed it any more."""
    for crash in network.crashes():
        print(f"i2p_scenario: {part}: i2pd router {crash['router']} died ({crash['code']}): "
              f"{crash['stderr'].strip()[-300:]}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
