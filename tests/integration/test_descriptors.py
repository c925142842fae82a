"""The descriptor table is grown once at start, while the runtime has one
thread: grown later, with the pre-emption watchdog and the scheduler
threads running, each doubling of it waits for an RCU grace period (about
10 ms here) with the event loop stopped in socket() or accept()."""
import resource
import subprocess
import time

from conftest import one_command_index, wippy_binary

MAIN = r"""local io = require("io")
local time = require("time")
return {main = function()
  io.print("up")
  time.sleep("20s")
end}
"""

RESERVED = 4096  # DESCRIPTORS_RESERVED in src/util/descriptors.h


def table_size_while_running(app, files_limit=None):
    """FDSize (slots in the descriptor table) of a running `wippy run main`."""
    def limit():
        if files_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (files_limit, files_limit))
    process = subprocess.Popen([wippy_binary(), "run", "main"], cwd=app, preexec_fn=limit,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "up\n", process.stderr.read()
        with open(f"/proc/{process.pid}/status") as status:
            sizes = [line.split()[1] for line in status if line.startswith("FDSize:")]
        return int(sizes[0])
    finally:
        process.kill()
        process.wait()


def test_the_table_is_grown_to_the_reserve_at_start(make_app):
    app = make_app({"src/_index.yaml": one_command_index(["io", "time"]), "src/main.lua": MAIN})
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    expected = RESERVED if hard == resource.RLIM_INFINITY else min(RESERVED, hard)
    assert table_size_while_running(app) >= expected


def test_a_lower_limit_bounds_the_table(make_app):
    app = make_app({"src/_index.yaml": one_command_index(["io", "time"]), "src/main.lua": MAIN})
    size = table_size_while_running(app, files_limit=300)
    assert 300 <= size < RESERVED  # the kernel rounds up to a power of two
