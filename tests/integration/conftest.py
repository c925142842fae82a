"""Fixtures for running the real `wippy` binary against Lua apps."""
import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
APPS = ROOT / "tests" / "apps"


def real_wippy_binary():
    return os.environ.get("WIPPY", str(ROOT / "build" / "wippy"))


_WRAPPER = []


def pytest_collection_finish(session):
    """Starts the scenario of every collected suite that has one (background.py)."""
    import background
    for module in {item.module for item in session.items if getattr(item, "module", None)}:
        if hasattr(module, "BACKGROUND_SCENARIO"):
            background.start(module.__name__, module.BACKGROUND_SCENARIO, wippy_binary())


def pytest_sessionfinish(session):
    import background
    background.stop_all()


def wippy_binary():
    """The binary, or with WIPPY_SET=section.key=value (scripts/test runs the
    suite again with scheduler.heap_size=1) a script that runs it with that
    setting, so every test runs under it."""
    setting = os.environ.get("WIPPY_SET")
    if not setting:
        return real_wippy_binary()
    if not _WRAPPER:
        import atexit
        import shlex
        import shutil
        import tempfile
        directory = tempfile.mkdtemp(prefix="wippy-set-")
        atexit.register(shutil.rmtree, directory, True)  # it was left in /tmp by every run
        path = pathlib.Path(directory) / "wippy"
        path.write_text(f"#!/bin/sh\nexec {shlex.quote(real_wippy_binary())} --set {shlex.quote(setting)} \"$@\"\n")
        path.chmod(0o755)
        _WRAPPER.append(str(path))
    return _WRAPPER[0]


class Result:
    def __init__(self, completed):
        self.code = completed.returncode
        self.out = completed.stdout
        self.err = completed.stderr
        self.lines = completed.stdout.splitlines()

    def __repr__(self):
        return f"<exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}>"


def run_wippy(cwd, *args, stdin=None, timeout=60, env=None):
    """Runs wippy with args in cwd and returns its exit code and output."""
    completed = subprocess.run(
        [wippy_binary(), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    return Result(completed)


@pytest.fixture
def core():
    return lambda *args, **kw: run_wippy(APPS / "core", *args, **kw)


@pytest.fixture
def secure():
    return lambda *args, **kw: run_wippy(APPS / "security", *args, **kw)


@pytest.fixture
def make_app(tmp_path):
    """Writes {relative path: text} into a fresh project and returns its path."""
    def make(files):
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return tmp_path
    return make


def one_command_index(modules, name="main"):
    """An _index.yaml with one command process.lua entry (main.lua's main)."""
    return f"""version: '1.0'
namespace: app
entries:
  - name: {name}
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [{', '.join(modules)}]
    meta: {{command: {{name: {name}}}}}
"""


# ThreadSanitizer runs a signal handler only when the thread next enters a
# function it intercepts; Lua code spinning in `while true do end` enters
# none, so the pre-emption signal (and SIGINT/SIGTERM) never reaches it under
# TSan. These tests run in the plain and ASan builds; under TSan they would
# only hang.
# a test of how --config and --set compose cannot run under WIPPY_SET's own --set
own_settings = pytest.mark.skipif(
    bool(os.environ.get("WIPPY_SET")), reason="checks how settings compose; WIPPY_SET adds one")

needs_prompt_signals = pytest.mark.skipif(
    os.environ.get("SANITIZE") == "thread",
    reason="ThreadSanitizer delays signal handlers until an intercepted call; a Lua spin makes none")


class ServedApp:
    """A project (an _index.yaml whose @PORT@ becomes a free port, and
    src/h.lua) served by `wippy OPTIONS run` until stop()."""

    def __init__(self, directory, index, handlers, *options):
        import subprocess
        from peers import free_port, wait_for_port
        self.port = free_port()
        (directory / "src").mkdir(parents=True, exist_ok=True)
        (directory / "src" / "_index.yaml").write_text(index.replace("@PORT@", str(self.port)))
        (directory / "src" / "h.lua").write_text(handlers)
        self.process = subprocess.Popen([wippy_binary(), *options, "run"], cwd=directory,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_port(self.port)

    def get(self, path, timeout=30):
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as response:
            return response.read().decode()

    def wait_for(self, path, expected, timeout=30):
        """Asks `path` until it answers `expected` (or an answer `expected`
        accepts, when it is a function) and returns that answer: a
        process.service starts beside the HTTP service, not before it, so a
        handler may run before the name it sends to is registered."""
        accepts = expected if callable(expected) else (lambda answer: answer == expected)
        deadline = time.monotonic() + timeout
        while not accepts(got := self.get(path)):
            assert time.monotonic() < deadline, f"{path} answered {got!r}, not {expected!r}"
            time.sleep(0.05)
        return got

    def stop(self, timeout=30):
        import signal
        self.process.send_signal(signal.SIGTERM)
        try:
            out, err = self.process.communicate(timeout=timeout)
        finally:
            self.process.kill()
        return self.process.returncode, out, err


@pytest.fixture
def serve(tmp_path):
    """serve(index, handlers, *options) -> a ServedApp, killed at the end."""
    started = []

    def start(index, handlers, *options):
        started.append(ServedApp(tmp_path / f"served{len(started)}", index, handlers, *options))
        return started[-1]
    yield start
    for each in started:
        each.process.kill()
        each.process.wait()
