"""The env module as Go Wippy's: variables and storages the registry
declares (memory, os, static, router), defaults, read-only variables and
storages; an undeclared name is not found, even in the process
environment; get_all lists every storage's names."""
import os

from conftest import run_wippy

INDEX = """version: '1.0'
namespace: app
entries:
  - {name: memory, kind: env.storage.memory}
  - {name: os, kind: env.storage.os}
  - {name: fixed, kind: env.storage.static, values: {REGION: eu, EMPTY: ''}}
  - {name: router, kind: env.storage.router, storages: [memory, os]}
  - {name: home, kind: env.variable, variable: WIPPY_TEST_HOME, storage: app:os}
  - {name: counter, kind: env.variable, variable: COUNTER, storage: app:memory, default: '0'}
  - {name: region, kind: env.variable, variable: REGION, storage: app:fixed}
  - {name: empty, kind: env.variable, variable: EMPTY, storage: app:fixed, default: fallback}
  - {name: locked, kind: env.variable, variable: LOCKED, storage: app:memory, default: 'no', readonly: true}
  - {name: ROUTED, kind: env.variable, storage: app:router}
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, env]
    meta: {command: {name: main}}
"""

MAIN = """return {main = function()
  io.print(env.get("WIPPY_TEST_HOME"), env.get("app:home"), env.get("home"))
  io.print(env.get("COUNTER"), env.set("COUNTER", "5"), env.get("COUNTER"))
  io.print(env.get("REGION"), env.get("EMPTY"))
  local _, err = env.get("WIPPY_TEST_UNDECLARED")
  io.print(tostring(err), err:kind())
  _, err = env.get("")
  io.print(tostring(err), err:kind())
  _, err = env.set("LOCKED", "yes")
  io.print(tostring(err), err:kind())
  _, err = env.set("WIPPY_TEST_HOME", "x")
  io.print(tostring(err), err:kind())
  _, err = env.set("REGION", "us")
  io.print(tostring(err))
  io.print(env.get("ROUTED"), env.set("ROUTED", "via memory"), env.get("ROUTED"))
  local all = env.get_all()
  io.print(all.WIPPY_TEST_HOME, all.COUNTER, all.REGION, all.ROUTED, all.EMPTY, all.WIPPY_TEST_UNDECLARED)
  io.print(pcall(env.get, 42) and "number taken as text" or "raised")
end}
"""


def test_env_over_declared_variables_and_storages(make_app):
    app = make_app({"src/_index.yaml": INDEX, "src/main.lua": MAIN})
    env = {**os.environ, "WIPPY_TEST_HOME": "/home/test", "WIPPY_TEST_UNDECLARED": "secret", "ROUTED": "from os"}
    result = run_wippy(app, "run", "main", env=env)
    assert result.code == 0, result
    assert result.lines == [
        "/home/test\t/home/test\t/home/test\tnil",
        "0\ttrue\t5\tnil",
        "eu\tfallback\tnil",
        "environment variable not found\tNotFound",
        "empty key\tInvalid",
        "environment variable is read-only\tPermissionDenied",
        "storage is read-only\tPermissionDenied",
        "storage is read-only",
        "from os\ttrue\tvia memory\tnil",
        "/home/test\t5\teu\tvia memory\tnil\tsecret",
        "number taken as text",
    ], result


def test_env_storage_file_is_refused_at_load(make_app):
    app = make_app({"src/_index.yaml": "version: '1.0'\nnamespace: app\nentries:\n"
                                       "  - {name: f, kind: env.storage.file, file_path: .env}\n",
                    "src/main.lua": ""})
    result = run_wippy(app, "run", "x")
    assert result.code == 1 and "env.storage.file is not supported by this runtime" in result.err, result
