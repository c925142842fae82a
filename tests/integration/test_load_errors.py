"""Every error a user can cause while loading is one line naming the file,
line, entry id and field; the process exits non-zero and nothing starts."""
import signal
import subprocess

import pytest

from conftest import run_wippy, wippy_binary

SERVICE = """
  - name: processes
    kind: process.host
  - name: loud
    kind: process.lua
    source: file://loud.lua
    method: main
    modules: [io]
  - name: loud_service
    kind: process.service
    process: loud
    host: processes
    lifecycle: {auto_start: true}
"""

CASES = {
    "bad yaml": ("  - name: x\n    kind: [unclosed\n", "src/_index.yaml:", "invalid YAML"),
    "unknown kind": ("  - name: x\n    kind: process.magic\n",
                     'src/_index.yaml:17: entry app:x: field "kind": unknown kind "process.magic"', None),
    "missing field": ("  - name: tor\n    kind: network.socks5\n    host: 127.0.0.1\n",
                      'src/_index.yaml:16: entry app:tor: field "port": is required', None),
    "bad field type": ("  - name: tor\n    kind: network.socks5\n    host: 127.0.0.1\n    port: nine\n",
                       'src/_index.yaml:19: entry app:tor: field "port": expected a port number', None),
    "bad duration": ("  - name: web\n    kind: http.service\n    addr: ':8080'\n"
                     "    timeouts: {read: soon}\n",
                     'src/_index.yaml:19: entry app:web: field "timeouts.read": invalid duration "soon"', None),
    "duplicate id": ("  - name: loud\n    kind: process.host\n",
                     "src/_index.yaml:16: entry app:loud: duplicate id (first defined at src/_index.yaml:6)",
                     None),
    "dangling reference": ("  - name: other\n    kind: process.service\n    process: ghost\n"
                           "    host: processes\n",
                           'src/_index.yaml:18: entry app:other: field "process": no entry named app:ghost',
                           None),
    "socks5 listener": ("  - name: tor\n    kind: network.socks5\n    host: h\n    port: 1\n"
                        "  - name: web\n    kind: http.service\n    addr: ':8080'\n    network: tor\n",
                        'src/_index.yaml:23: entry app:web: field "network": app:tor is a SOCKS5 overlay',
                        None),
    "unknown module": ("  - name: p\n    kind: process.lua\n    source: file://loud.lua\n"
                       "    method: main\n    modules: [sql]\n",
                       'src/_index.yaml:20: entry app:p: field "modules": unknown module "sql"', None),
    "missing source": ("  - name: p\n    kind: process.lua\n    source: file://nowhere.lua\n"
                       "    method: main\n",
                       'src/_index.yaml:18: entry app:p: field "source": cannot read src/nowhere.lua', None),
    # a misspelt field fails closed: isolation off without a word was the old outcome
    "misspelt field": ("  - name: tor\n    kind: network.socks5\n    host: h\n    port: 1\n"
                       "    isolate_stream: true\n",
                       'src/_index.yaml:20: entry app:tor: field "isolate_stream": unknown field for kind '
                       'network.socks5 (did you mean "isolate_streams"?)', None),
    "misspelt nested field": ("  - name: web\n    kind: http.service\n    addr: ':8080'\n"
                              "    timeouts: {reed: 1s}\n",
                              'src/_index.yaml:19: entry app:web: field "timeouts.reed": unknown field for '
                              'kind http.service (did you mean "read"?)', None),
    "misspelt lifecycle": ("  - name: h\n    kind: process.host\n    lifecycle: {auto_strat: true}\n",
                           'src/_index.yaml:18: entry app:h: field "lifecycle.auto_strat": unknown field',
                           '(did you mean "auto_start"?)'),
    "misspelt pool field": ("  - name: f\n    kind: function.lua\n    source: file://loud.lua\n"
                            "    method: main\n    pool: {size: 4, wrokers: 2}\n",
                            'src/_index.yaml:20: entry app:f: field "pool.wrokers": unknown field',
                            '(did you mean "workers"?)'),
    "unimplemented Wippy field": ("  - name: web\n    kind: http.service\n    addr: ':8080'\n"
                                  "    tls: {mode: auto}\n",
                                  'src/_index.yaml:19: entry app:web: field "tls": Wippy defines it, but this '
                                  'runtime does not implement it', None),
    "unimplemented router middleware": ("  - name: web\n    kind: http.service\n    addr: ':8080'\n"
                                        "  - name: api\n    kind: http.router\n    meta: {server: web}\n"
                                        "    middleware: [cors]\n",
                                        'src/_index.yaml:22: entry app:api: field "middleware": Wippy defines '
                                        'it, but this runtime does not implement it', None),
    "a dotted key": ("  - name: p\n    kind: security.policy\n    policy: {actions: '*', resources: '*', "
                     "effect: allow}\n    \"policy.conditions\": []\n",
                     'src/_index.yaml:19: entry app:p: field "policy.conditions": a field name cannot contain',
                     None),
    "misspelt condition key": ("  - name: p\n    kind: security.policy\n    policy:\n      actions: '*'\n"
                               "      resources: '*'\n      effect: allow\n      conditions:\n"
                               "        - {field: actor.id, operator: eq, valeu: x}\n",
                               'src/_index.yaml:23: entry app:p: field "policy.conditions": condition 1: unknown key "valeu" (did you mean "value"?)',
                               None),
    "lua syntax error": ("  - name: p\n    kind: process.lua\n    source: file://broken.lua\n"
                         "    method: main\n",
                         "src/broken.lua:2: unexpected symbol near ')' (entry app:p)", None),
}


def test_an_alias_bomb_in_an_index_is_one_line(make_app):
    bomb = "version: '1.0'\nnamespace: app\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{n}: &a{n} [{', '.join(['*a' + str(n - 1)] * 10)}]\n" for n in range(1, 9))
    app = make_app({"src/_index.yaml": bomb + "entries: []\n"})
    result = run_wippy(app, "run", timeout=20)
    assert result.code == 1, result
    assert result.err.startswith("wippy: src/_index.yaml:") and "aliases" in result.err, result
    assert len(result.err.splitlines()) == 1, result


def test_an_unknown_key_of_an_index_is_refused(make_app):
    app = make_app({"src/_index.yaml": "version: '1.0'\nnamespace: app\nentrys:\n  - name: x\n    kind: process.host\n"})
    result = run_wippy(app, "run", timeout=10)
    assert (result.code, result.err.strip()) == (
        1, 'wippy: src/_index.yaml:4: field "entrys": unknown (an index has version, namespace, meta and '
           'entries); did you mean "entries"?'), result


@pytest.mark.parametrize("case", sorted(CASES))
def test_load_error_is_one_line_and_nothing_starts(make_app, case):
    extra, expected, also = CASES[case]
    app = make_app({
        "src/_index.yaml": "version: '1.0'\nnamespace: app\nentries:" + SERVICE + extra,
        "src/loud.lua": "return {main = function() require('io').print('STARTED') end}\n",
        "src/broken.lua": "local x = 1\nlocal y = )\n",
    })
    result = run_wippy(app, "run", timeout=10)
    assert result.code == 1, result
    assert result.out == "", "something started: " + result.out
    lines = result.err.splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("wippy: " + expected.split(":")[0]), result
    assert expected in lines[0], result
    if also:
        assert also in lines[0], result


def test_valid_project_starts_the_service(make_app):
    """The same project without the error: `wippy run` starts the
    auto_start service (which prints, then ends itself) and serves until
    SIGTERM."""
    app = make_app({
        "src/_index.yaml": "version: '1.0'\nnamespace: app\nentries:" + SERVICE,
        "src/loud.lua": "return {main = function() require('io').print('STARTED') end}\n",
    })
    process = subprocess.Popen([wippy_binary(), "run"], cwd=app, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "STARTED\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stderr.read() == ""
    finally:
        process.kill()
        process.wait()
