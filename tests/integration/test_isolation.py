"""Each process is isolated (SPEC section 3) and only listed modules load."""
from conftest import run_wippy


def test_processes_cannot_see_or_change_each_other(core):
    result = core("run", "isolation")
    assert result.code == 0, result
    assert result.lines == [
        "child saw secret\tnil",
        "child saw n\t1",
        "child changed its copy\t100\tours\t2",
        "child string.upper works\tX",
        "child could patch string\tfalse",
        "child could rawset table\tfalse",
        "child could reach string metatable\tfalse",
        "our string.upper\tOK",
        "os\ttable\tdebug\tnil\tdofile\tnil\tloadfile\tnil",  # os: the time subset only (test_os.py)
        "package\tnil\tstring.dump\tnil",
        "load env is ours\tmine",
        "binary chunks\trefused",
        "_G is ours\tmine",
    ]


def test_require_of_an_unlisted_module_fails_with_the_spec_message(core):
    result = core("run", "modules")
    assert result.code == 0, result
    assert result.lines == ["module 'json' is not enabled for entry core:modules"]


def test_library_entries_load_through_imports(core):
    result = core("run", "library")
    assert result.code == 0, result
    assert result.lines == ["hello, library"]


CHANNEL_APP = """version: '1.0'
namespace: app
entries:
  - name: processes
    kind: process.host
  - name: sink
    kind: process.lua
    source: file://sink.lua
    method: main
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io]
    meta:
      command: {name: main}
"""


def test_a_channel_holding_a_function_cannot_cross_and_stays_usable(make_app):
    """A value that cannot leave its process never leaves it disguised: the
    channel that buffers it is refused at the edge (it used to cross with the
    function silently turned into nil), and it still works where it is."""
    app = make_app({
        "src/_index.yaml": CHANNEL_APP,
        "src/sink.lua": "return {main = function() process.inbox():receive() end}\n",
        "src/main.lua": """local io = require("io")
return {main = function()
  local ch = channel.new(1)
  ch:send(function() return "only here" end)
  local child = process.spawn("app:sink", "app:processes")
  io.print(process.send(child, "take", {ch}))
  local fn = ch:receive()
  io.print(type(fn), fn())
  process.terminate(child)
end}
""",
    })
    result = run_wippy(app, "run", "main", timeout=10)
    assert result.code == 0, result
    assert result.lines == [
        "nil\tcannot pass a channel holding a value that cannot leave its process "
        "(cannot pass a function between processes)",
        "function\tonly here",
    ], result
