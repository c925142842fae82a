"""Real Tor: wippy's requests travel over circuits of a private Tor network
on loopback (SPEC section 4), seen on the Tor client's control port. The
whole network runs in a network namespace holding only `lo`."""
import json
import os
import pathlib
import shutil
import subprocess
import warnings

import pytest

from conftest import wippy_binary

HERE = pathlib.Path(__file__).resolve().parent


def namespace_command():
    """Runs a command in a new network namespace with loopback up."""
    if os.geteuid() == 0:
        return ["unshare", "--net", "--fork"]
    return ["unshare", "--map-root-user", "--net", "--fork"]


@pytest.fixture(scope="module")
def tor_run(tmp_path_factory):
    if shutil.which("tor") is None or shutil.which("tor-gencert") is None:
        pytest.fail("tor is not installed (scripts/test installs it)")
    work = tmp_path_factory.mktemp("tor")
    script = f"ip link set lo up && exec python3 {HERE / 'tor_scenario.py'} {work}"
    completed = subprocess.run(namespace_command() + ["sh", "-c", script],
                               env={**os.environ, "WIPPY": wippy_binary()},
                               capture_output=True, text=True, timeout=400)
    assert completed.returncode == 0, completed.stderr[-4000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    for retry in result.get("retries", []):  # shown in pytest's summary, never silent
        warnings.warn(f"private Tor network: {retry['what']} needed attempt {retry['attempt'] + 1}: "
                      f"{retry['out']!r} {retry['err']!r}")
    return result


def test_requests_travel_over_tor_circuits(tor_run):
    assert tor_run["shared"]["out"] == "ok\t4\terrors\t0\n", tor_run["shared"]
    assert len(tor_run["shared_streams"]) == 4, tor_run


def test_without_isolation_streams_share_a_circuit(tor_run):
    circuits = set(tor_run["shared_streams"].values())
    assert len(circuits) == 1, tor_run["shared_streams"]


def test_isolate_streams_puts_every_dial_on_its_own_circuit(tor_run):
    assert tor_run["isolated"]["out"] == "ok\t4\terrors\t0\n", tor_run["isolated"]
    circuits = list(tor_run["isolated_streams"].values())
    assert len(circuits) == 4 and len(set(circuits)) == 4, tor_run["isolated_streams"]


def test_tor_extended_errors_are_named(tor_run):
    assert "invalid onion service address (reply 0xf6)" in tor_run["bad_onion"]["out"], tor_run["bad_onion"]


def test_the_netdemo_prints_a_routed_line(tor_run):
    assert tor_run["netdemo"]["code"] == 0, tor_run["netdemo"]
    assert tor_run["netdemo"]["out"].splitlines() == ["direct IP: 127.0.0.1", "tor IP:    127.0.0.1"]
    assert len(tor_run["netdemo_streams"]) == 1, tor_run


def test_no_tor_log_names_an_address_outside_loopback(tor_run):
    assert tor_run["non_loopback_addresses"] == []
