"""Real I2P (SPEC section 4): a Lua process in one wippy runtime fetches,
through a private network of three unmodified i2pd routers, from an
http.service listening on I2P in another runtime. Runs in a network
namespace holding only `lo`."""
import json
import os
import pathlib
import warnings

import pytest

import background
from conftest import wippy_binary
from i2pnet import TREE

HERE = pathlib.Path(__file__).resolve().parent


def i2p_prerequisites():
    if os.environ.get("WIPPY_REAL_I2P") == "0":
        pytest.skip("WIPPY_REAL_I2P=0 leaves out the real I2P network")
    if os.geteuid() != 0:
        pytest.skip("the I2P network runs i2pd with chroot in a network namespace: run the tests as root (CI does)")
    if not (TREE / "usr" / "bin" / "i2pd").exists():
        pytest.fail(f"no i2pd tree at {TREE}: scripts/prepare-i2p builds it (scripts/test does)")


def i2p_command(work):
    script = f"ip link set lo up && exec python3 {HERE / 'i2p_scenario.py'} {work}"
    return ["unshare", "--net", "--fork", "sh", "-c", script]


BACKGROUND_SCENARIO = (i2p_prerequisites, i2p_command, 1500)


@pytest.fixture(scope="module")
def i2p_run():
    completed = background.finish(__name__, BACKGROUND_SCENARIO, wippy_binary())
    assert completed.returncode == 0, completed.stderr[-4000:]
    for line in completed.stderr.splitlines():  # every retry shows in pytest's summary
        if line.startswith("i2p_scenario: "):
            warnings.warn(line)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_a_process_fetches_from_a_service_listening_on_i2p(i2p_run):
    assert i2p_run["fetch"]["out"].endswith(".b32.i2p\n"), i2p_run["fetch"]


def test_the_service_sees_the_callers_b32_address(i2p_run):
    assert i2p_run["client_address"] is not None, i2p_run["fetch"]
    assert i2p_run["fetch"]["out"] == i2p_run["client_address"] + "\n"


def test_the_service_keeps_its_address_across_restarts(i2p_run):
    assert i2p_run["service_address_after_restart"] == i2p_run["service_address"]
    assert i2p_run["second_client_address"] is not None, i2p_run["fetch_after_restart"]
    assert i2p_run["fetch_after_restart"]["out"] == i2p_run["second_client_address"] + "\n", i2p_run


def test_a_clearnet_host_through_i2p_fails_and_nothing_goes_direct(i2p_run):
    assert "is not an I2P destination" in i2p_run["clearnet"]["out"], i2p_run["clearnet"]
    assert i2p_run["target_clients"] == []


def test_the_i2p_example_serves_its_site_on_i2p(i2p_run):
    """examples/i2p, its SAM port set with -o as docs/i2p.md says."""
    example = i2p_run["example"]
    assert "error" not in example, example
    assert example["fetch"]["code"] == 0, example["fetch"]["err"][-1000:]  # pytest cuts a long dict short
    assert example["client_address"] is not None, example
    assert example["fetch"]["out"] == f"Hello from wippy over I2P. You are {example['client_address']}\n", example


def test_the_i2p_examples_keys_keep_its_address_when_restored(i2p_run):
    example = i2p_run["example"]
    assert "error" not in example, example
    assert example["keys_mode"] == "0o600", example
    assert example["restored_address"] == example["address"], example


def test_no_router_log_names_an_address_outside_loopback(i2p_run):
    assert i2p_run["non_loopback_addresses"] == []
