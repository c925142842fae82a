"""Real Tor: wippy's requests travel over circuits of a private Tor network
on loopback (SPEC section 4), seen on the Tor client's control port. The
whole network runs in a network namespace holding only `lo`."""
import json
import os
import pathlib
import shutil
import warnings

import pytest

import background
from conftest import wippy_binary

HERE = pathlib.Path(__file__).resolve().parent


def namespace_command():
    """Runs a command in a new network namespace with loopback up."""
    if os.geteuid() == 0:
        return ["unshare", "--net", "--fork"]
    return ["unshare", "--map-root-user", "--net", "--fork"]


def tor_prerequisites():
    if shutil.which("tor") is None or shutil.which("tor-gencert") is None:
        pytest.fail("tor is not installed (scripts/test installs it)")


def tor_command(work):
    script = f"ip link set lo up && exec python3 {HERE / 'tor_scenario.py'} {work}"
    return namespace_command() + ["sh", "-c", script]


BACKGROUND_SCENARIO = (tor_prerequisites, tor_command, 600)


@pytest.fixture(scope="module")
def tor_run():
    completed = background.finish(__name__, BACKGROUND_SCENARIO, wippy_binary())
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


def test_the_tor_example_fetches_through_tor(tor_run):
    """examples/tor, its port set with -o as docs/tor.md says."""
    fetch = tor_run["example"]["fetch"]
    assert fetch["code"] == 0, fetch
    assert json.loads(fetch["out"])["ip"] == "127.0.0.1", fetch
    assert len(tor_run["example"]["fetch_streams"]) == 1, tor_run["example"]


def test_the_tor_examples_isolation_depends_on_isolatesocksauth(tor_run):
    """docs/tor.md: isolate_streams gives each request its own circuit on a
    tor with IsolateSOCKSAuth (its default), and nothing on one without."""
    isolated, shared = tor_run["example"]["isolated_circuits"], tor_run["example"]["shared_circuits"]
    assert len(isolated) == 2 and len(set(isolated)) == 2, tor_run["example"]
    assert len(shared) == 2 and len(set(shared)) == 1, tor_run["example"]


def test_the_tor_example_prints_tors_extended_errors(tor_run):
    invalid, unknown = tor_run["example"]["invalid_onion"], tor_run["example"]["unknown_onion"]
    assert invalid["code"] == 1 and invalid["out"] == "", invalid
    assert "failed: invalid onion service address (reply 0xf6)" in invalid["err"], invalid
    assert unknown["code"] == 1 and unknown["out"] == "", unknown
    assert "failed: onion service descriptor not found (reply 0xf0)" in unknown["err"], unknown


def test_the_tor_example_is_served_as_an_onion_service(tor_run):
    example = tor_run["example"]
    assert "onion_error" not in example, example
    assert example["onion"].endswith(".onion") and len(example["onion"]) == 62, example
    assert example["onion_fetch"]["code"] == 0, example
    assert example["onion_fetch"]["out"] == "Hello from wippy, served as a Tor onion service.\n", example
    assert example["server_code"] == 0, example


def test_no_tor_log_names_an_address_outside_loopback(tor_run):
    assert tor_run["non_loopback_addresses"] == []
