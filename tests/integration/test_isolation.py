"""Each process is isolated (SPEC section 3) and only listed modules load."""


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
        "os\tnil\tdebug\tnil\tdofile\tnil\tloadfile\tnil",
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
