"""Tailscale (SPEC section 4): two wippy runtimes, each with its own embedded
tailnet node, against a real control server (headscale with its embedded
DERP relay), in a network namespace the test creates. One runtime serves
HTTP on the tailnet; Lua processes in the other fetch from it."""
import json
import os
import pathlib

import pytest

import background
from conftest import wippy_binary
from headscale import BINARY

HERE = pathlib.Path(__file__).resolve().parent
NAMESPACE = ("ip link set lo up && ip link add wippy0 type veth peer name wippy1 && "
             "ip addr add 10.200.0.1/24 dev wippy0 && ip link set wippy0 up && ip link set wippy1 up")


def tailnet_prerequisites():
    if os.geteuid() != 0:
        pytest.skip("the tailnet runs in a network namespace with a veth pair: run the tests as root (CI does)")
    if not BINARY.exists():
        pytest.fail(f"no headscale at {BINARY}: scripts/prepare-headscale builds it (scripts/test does)")


def tailnet_command(work):
    script = f"{NAMESPACE} && exec python3 {HERE / 'tailscale_scenario.py'} {work}"
    return ["unshare", "--net", "--fork", "sh", "-c", script]


BACKGROUND_SCENARIO = (tailnet_prerequisites, tailnet_command, 900)


@pytest.fixture(scope="module")
def tailnet():
    completed = background.finish(__name__, BACKGROUND_SCENARIO, wippy_binary())
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_every_runtime_exited_cleanly(tailnet):
    for name in ("by_name", "by_address", "clearnet_address", "clearnet_name", "unknown_tailnet_address",
                 "after_restart", "ephemeral_fetch", "control_down"):
        assert tailnet[name]["code"] == 0, (name, tailnet[name]["err"])


def test_a_process_fetches_from_a_tailnet_service_by_name(tailnet):
    assert tailnet["by_name"]["out"] == tailnet["by_name"]["own_address"] + "\n", tailnet["by_name"]


def test_a_process_fetches_from_a_tailnet_service_by_its_100_address(tailnet):
    assert tailnet["service_address"].startswith("100.")
    assert tailnet["by_address"]["out"] == tailnet["by_address"]["own_address"] + "\n", tailnet["by_address"]


def test_the_service_sees_the_callers_tailnet_address(tailnet):
    seen = tailnet["by_name"]["out"].strip()  # what the service answered: the caller's address
    assert seen.startswith("100."), tailnet["by_name"]
    assert seen != tailnet["service_address"]
    # the control server's own record of the client node, not the client's log
    assert seen in tailnet["client_node_addresses"], tailnet["client_node_addresses"]


def test_the_service_is_not_reachable_on_the_hosts_own_addresses(tailnet):
    assert tailnet["host_reachable"] == {"127.0.0.1": False, "10.200.0.1": False}


def test_a_restarted_node_keeps_its_identity_and_address(tailnet):
    restart = tailnet["restart"]
    assert restart["address"] == tailnet["service_address"]
    assert len(restart["nodes_before"]) == 1
    assert restart["nodes_after"] == restart["nodes_before"]
    assert tailnet["after_restart"]["out"].startswith("100."), tailnet["after_restart"]


def test_an_ephemeral_node_leaves_the_control_server_when_it_stops(tailnet):
    fetched = tailnet["ephemeral_fetch"]
    assert fetched["out"].startswith("100."), fetched
    # present (under the name the test waits for) while it ran...
    assert len(fetched["nodes_while_running"]) == 1, fetched
    assert fetched["out"].strip() in fetched["nodes_while_running"][0], fetched
    # ...and gone once it stopped
    assert tailnet["ephemeral_left"], tailnet["ephemeral_gone_seconds"]


def test_a_clearnet_address_through_the_tailnet_fails_and_nothing_goes_direct(tailnet):
    out = tailnet["clearnet_address"]["out"]
    assert out.startswith("error: ") and "is not a tailnet address (nothing was sent)" in out, out
    out = tailnet["clearnet_name"]["out"]
    assert "localhost is not a peer on this tailnet (nothing was sent)" in out, out
    assert tailnet["target_clients"] == []


def test_a_tailnet_address_of_no_peer_is_refused_not_dialed_from_the_host(tailnet):
    # tsnet would dial it from the host's own network (here: no route to it)
    out = tailnet["unknown_tailnet_address"]["out"]
    assert "100.64.0.99 is not a peer on this tailnet (nothing was sent)" in out, out


def test_the_control_server_down_at_start_is_a_clear_error(tailnet):
    outcome = tailnet["control_down"]
    assert "tailnet node wippy-late did not come up: not logged in after 20s" in outcome["out"], outcome
    assert tailnet["target_clients_at_end"] == []


def test_the_guides_example_serves_and_fetches_through_headscale(tailnet):
    """examples/tailscale run as docs/tailscale.md says: TS_AUTHKEY and
    -o app:tailnet:control_url; another copy fetches it by name."""
    example = tailnet["example"]
    assert example["address"].startswith("100."), example
    assert example["code"] == 0, example
    status, body = example["out"].rstrip("\n").split("\t", 1)
    answer = json.loads(body)
    assert status == "200" and answer["hello"] == "from wippy on the tailnet", example
    assert answer["you"] in example["client_addresses"], example


def test_no_log_names_an_address_outside_the_namespace_or_tailscale_servers(tailnet):
    assert tailnet["node_logs"] >= 4
    assert tailnet["non_loopback_addresses"] == []
    assert tailnet["logs_naming_tailscale_servers"] == []
