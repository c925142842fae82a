"""The compatibility suite runs the same apps, unchanged, on wippy-c and,
when PEER_WIPPY names its binary, on Go Wippy, against the same real SOCKS5
peer (microsocks, whose outgoing side is 127.0.0.2)."""
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

RUNTIMES = {"wippy-c": os.environ.get("WIPPY", str(ROOT / "build" / "wippy"))}
if os.environ.get("PEER_WIPPY"):
    RUNTIMES["go-wippy"] = os.environ["PEER_WIPPY"]


@pytest.fixture(params=list(RUNTIMES), scope="module")
def runtime(request):
    return RUNTIMES[request.param]
