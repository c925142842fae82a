"""funcs: calls, errors, immutable executors, context inheritance."""


def test_function_calls_executors_and_context_inheritance(core):
    result = core("run", "funcs")
    assert result.code == 0, result
    assert result.lines == [
        "add\t42\tnil",
        "error\tnil\tsrc/explode.lua:1: function failed on purpose",
        'missing\tnil\tfunction "core:nope" not found',
        "immutable\ttrue",
        "base sees\tnone\tnil",
        "executor sees\tt-1\tnil",
        "deep\tt-1\tnil",
        "caller unchanged\tnil\tctx.get: no context value \"trace\"",  # NOT_FOUND, as Go Wippy
    ]
