"""Behaviour both runtimes must share (docs/compat.md lists what differs)."""
import pathlib
import re
import shutil
import subprocess

from peers import IpService, Microsocks, free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]

NETWORK_LUA = ["scenario.lua", "probe.lua", "fetch_fn.lua", "fetch_proc.lua", "denied_edges.lua"]


def run(binary, app, *arguments):
    completed = subprocess.run([binary, *arguments], cwd=app, capture_output=True, text=True, timeout=60)
    return completed.returncode, completed.stdout.splitlines(), completed.stderr


def matrix_app(tmp_path, proxy):
    app = tmp_path / "matrix"
    shutil.copytree(ROOT / "tests" / "compat" / "apps" / "matrix", app)
    for name in NETWORK_LUA:
        shutil.copy(ROOT / "tests" / "apps" / "network" / "src" / name, app / "src" / name)
    index = app / "src" / "_index.yaml"
    index.write_text(index.read_text().replace("@PROXY_PORT@", str(proxy.port))
                     .replace("@DEAD_PORT@", str(free_port())))
    return app


def test_the_netdemo_routes_through_the_proxy(tmp_path, runtime):
    target, proxy = IpService(), Microsocks()
    try:
        app = tmp_path / "netdemo"
        shutil.copytree(ROOT / "examples" / "netdemo", app, ignore=shutil.ignore_patterns("whatismyip"))
        # the seed's files, pointed at this test's peers instead of 8099 and 9050
        probe = app / "src" / "probe.lua"
        probe.write_text(probe.read_text().replace("http://127.0.0.1:8099/", target.url))
        index = app / "src" / "_index.yaml"
        index.write_text(index.read_text().replace("port: 9050", f"port: {proxy.port}"))
        code, lines, err = run(runtime, app, "run", "probe")
        assert (code, lines) == (0, ["direct IP: 127.0.0.1", "tor IP:    127.0.0.2"]), err
    finally:
        target.close()
        proxy.close()


def test_the_selection_matrix(tmp_path, runtime):
    target, proxy = IpService(), Microsocks()
    try:
        app = matrix_app(tmp_path, proxy)
        expected = {
            "funcs": ["callee\t127.0.0.2", "caller\t127.0.0.1"],
            "spawn": ["child grandchild greatgrandchild\t127.0.0.2 127.0.0.2 127.0.0.2", "parent\t127.0.0.1"],
            "chain": ["funcs process funcs\t127.0.0.2"],
            "override": ["override\t127.0.0.1 / self 127.0.0.2"],
        }
        for scenario, lines in expected.items():
            code, out, err = run(runtime, app, "run", "scenario", scenario, target.url)
            assert (scenario, out) == (scenario, lines), err
        code, out, err = run(runtime, app, "--set", "network_service.default_network=app:proxy",
                             "run", "scenario", "default", target.url)
        assert out == ["root\t127.0.0.2", "explicit false below\t127.0.0.1"], err
    finally:
        target.close()
        proxy.close()


def test_denials_and_failures_never_go_direct(tmp_path, runtime):
    target, proxy = IpService(), Microsocks()
    try:
        app = matrix_app(tmp_path, proxy)
        code, out, err = run(runtime, app, "run", "scenario", "denied", target.url)
        assert out[:4] == ["http: not allowed: network app:proxy", "http false: not allowed: network direct",
                           "funcs: not allowed: network app:proxy", "spawn: not allowed: network app:proxy"], err
        target.clients.clear()
        code, out, err = run(runtime, app, "run", "scenario", "fetch", target.url, "app:dead")
        assert re.match(r"error: .*127\.0\.0\.1:\d+", out[0]), (out, err)
        code, out, err = run(runtime, app, "run", "scenario", "fetch", target.url, "app:nope")
        assert out == ['error: overlay network "app:nope": not found'], err
        assert target.clients == []
    finally:
        target.close()
        proxy.close()
