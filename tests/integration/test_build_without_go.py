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
    assert ("tailnet node service did not come up: this wippy has no Tailscale support: "
            f"{wippy_without_go.parent}/wippy-tailnode.so is missing") in lines[0], completed.stderr
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


def tailnet_failure(tmp_path, binary):
    """Runs the tailnet app with binary; returns its one line of failure."""
    app = tmp_path / "app"
    shutil.copytree(APPS / "tailnet_service", app)
    index = app / "src" / "_index.yaml"
    index.write_text(index.read_text().replace("@CONTROL_URL@", "http://127.0.0.1:1"))
    completed = subprocess.run([str(binary), "run"], cwd=app, capture_output=True, text=True, timeout=30,
                               env={**os.environ, "WIPPY_TEST_TS_AUTHKEY": "unused"})
    assert completed.returncode != 0
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    return lines[0]


def test_the_tailnet_library_is_loaded_only_from_beside_the_binary_and_only_when_trusted(tmp_path):
    """Code another user could write must never be loaded: not from
    ../lib/wippy-c, not from a directory others may write to, not a library
    built from other sources (a stale one would crash at its first call)."""
    from conftest import real_wippy_binary
    real = pathlib.Path(real_wippy_binary())
    library = real.parent / "wippy-tailnode.so"
    if not library.exists():
        pytest.skip("this build has no Tailscale library")
    planted = tmp_path / "planted"
    (planted / "bin").mkdir(parents=True)
    (planted / "lib" / "wippy-c").mkdir(parents=True)
    shutil.copy(real, planted / "bin" / "wippy")
    shutil.copy(library, planted / "lib" / "wippy-c" / "wippy-tailnode.so")
    line = tailnet_failure(tmp_path / "one", planted / "bin" / "wippy")
    assert f"{planted}/bin/wippy-tailnode.so is missing" in line, line

    shared = tmp_path / "shared"
    shared.mkdir()
    shutil.copy(real, shared / "wippy")
    shutil.copy(library, shared / "wippy-tailnode.so")
    shared.chmod(0o777)
    line = tailnet_failure(tmp_path / "two", shared / "wippy")
    assert "refusing to load" in line and "writable by no one else" in line, line
    shared.chmod(0o755)
    (shared / "wippy-tailnode.so").chmod(0o666)
    line = tailnet_failure(tmp_path / "three", shared / "wippy")
    assert "refusing to load" in line, line

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    shutil.copy(real, foreign / "wippy")
    libz = subprocess.run(["sh", "-c", "ldconfig -p | awk '/libz.so.1 / {print $NF; exit}'"],
                          capture_output=True, text=True).stdout.strip()
    shutil.copy(libz, foreign / "wippy-tailnode.so")
    line = tailnet_failure(tmp_path / "four", foreign / "wippy")
    assert "was built from other sources than this wippy" in line, line
