"""A build without Go (TAILSCALE=0, as on a machine without a Go toolchain)
is a working wippy whose tailscale entries fail with one line: the Go side
is a shared object beside the binary, loaded on first use."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import APPS
from peers import IpService, Microsocks, free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wippy_without_go(tmp_path_factory):
    if os.environ.get("SANITIZE", "0") != "0":
        pytest.skip("built once, in the plain run")
    build = tmp_path_factory.mktemp("build-without-go")
    completed = subprocess.run(["make", "-C", str(ROOT), f"-j{os.cpu_count()}", f"BUILD={build}", "TAILSCALE=0",
                                f"{build}/wippy"], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert not (build / "wippy-tailnode.so").exists()
    return build / "wippy"


def test_socks_still_works_and_a_tailscale_entry_says_why_it_cannot(tmp_path, wippy_without_go):
    app = tmp_path / "app"
    shutil.copytree(APPS / "tailnet_service", app)
    index = app / "src" / "_index.yaml"
    index.write_text(index.read_text().replace("@CONTROL_URL@", "http://127.0.0.1:1"))
    completed = subprocess.run([str(wippy_without_go), "run"], cwd=app, capture_output=True, text=True,
                               timeout=30, env={**os.environ, "WIPPY_TEST_TS_AUTHKEY": "unused"})
    assert completed.returncode != 0
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert ("tailnet node service did not come up: this wippy has no Tailscale support: wippy-tailnode.so is "
            f"neither in {wippy_without_go.parent} nor in") in lines[0], completed.stderr
    assert "install Go and run make again" in lines[0]
    target, proxy = IpService(), Microsocks()
    try:
        network = tmp_path / "network"
        shutil.copytree(APPS / "network", network)
        index = network / "src" / "_index.yaml"
        text = index.read_text().replace("@PROXY_PORT@", str(proxy.port))
        index.write_text(re.sub(r"@[A-Z_]+@", lambda _: str(free_port()), text))
        fetched = subprocess.run([str(wippy_without_go), "run", "scenario", "fetch", target.url, "app:proxy"],
                                 cwd=network, capture_output=True, text=True, timeout=30)
        assert fetched.stdout == "127.0.0.2\n", fetched.stderr
    finally:
        target.close()
        proxy.close()
