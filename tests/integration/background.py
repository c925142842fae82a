"""The overlays' scenarios (a private Tor network, three i2pd routers, a
tailnet) spend minutes waiting on their peers. A suite that has one names
it in BACKGROUND_SCENARIO; conftest starts every collected suite's
scenario when collection ends, so that they wait beside the rest of the
run, and the suite's fixture takes the result with `finish`.

BACKGROUND_SCENARIO = (prerequisites, command, timeout): prerequisites()
skips or fails the test as the fixture would (then nothing starts);
command(work) is the argv run with WIPPY set; timeout counts from the
start."""
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

_running = {}


class Scenario:
    def __init__(self, name, command, timeout, wippy):
        self.work = pathlib.Path(tempfile.mkdtemp(prefix=f"wippy-{name}-"))
        self.argv = command(self.work / "run")
        (self.work / "run").mkdir()
        self.deadline = time.monotonic() + timeout
        self.stdout = open(self.work / "stdout", "w+")
        self.stderr = open(self.work / "stderr", "w+")
        # a group of its own: a run that ends before the suite takes the
        # result stops the scenario's peers with it
        self.process = subprocess.Popen(self.argv, env={**os.environ, "WIPPY": wippy},
                                        stdout=self.stdout, stderr=self.stderr, text=True,
                                        start_new_session=True)

    def finish(self):
        """Waits for the scenario (until its timeout) and gives what it printed."""
        try:
            self.process.wait(timeout=max(0.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self.stdout.seek(0)
            self.stderr.seek(0)
            out, err = self.stdout.read(), self.stderr.read()
        return subprocess.CompletedProcess(self.argv, self.process.returncode, out, err)

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.kill()
        self.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.work, ignore_errors=True)


def start(name, scenario, wippy):
    """Starts a suite's scenario unless its prerequisites are missing."""
    prerequisites, command, timeout = scenario
    try:
        prerequisites()
    except (pytest.skip.Exception, pytest.fail.Exception):  # the fixture reports them
        return
    _running[name] = Scenario(name, command, timeout, wippy)


def finish(name, scenario, wippy):
    """The suite's result; started now if it was not yet (its
    prerequisites, checked first, skip or fail as they say)."""
    prerequisites, _, _ = scenario
    prerequisites()
    if name not in _running:
        start(name, scenario, wippy)
    return _running[name].finish()


def stop_all():
    for scenario in _running.values():
        scenario.stop()
    _running.clear()
