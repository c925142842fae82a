"""Policies and the network.select permission (SPEC section 6)."""


def test_policy_evaluation_table(secure):
    result = secure("run", "evaluate")
    assert result.code == 0, result
    assert result.lines == [
        "net tor\tallow",
        "net direct\tallow",
        "net other\tundefined",
        "locked tor\tdeny",
        "deny wins\tdeny",
        "reader read\tallow",
        "reader write\tundefined",
        "admin as admin\tallow",
        "admin as user\tundefined",
        "policy direct\tallow",
        "can without actor\tfalse",  # as Go Wippy's security.can, whatever strict_mode
        'missing policy\tnil\tpolicy "sec:nope" not found',
        'missing group\tnil\tpolicy group "nope" not found',
        "contains\ttrue\tfalse",
    ]


def test_network_select_at_every_edge(secure):
    result = secure("run", "select")
    assert result.code == 0, result
    assert result.lines == [
        "root funcs tor\tok\tnil",
        "root spawn tor\tok\tnil",
        "locked\tfuncs:not allowed: network sec:tor spawn:not allowed: network sec:tor "
        "direct:not allowed: network direct\tnil",
        "net\tfuncs:nil spawn:nil direct:nil\tnil",
        "whoami\tuser:1\tnil",
        "whoami root\tnobody\tnil",
        "inherited\tnobody\tnil",
        'unknown call\tnil\toverlay network "sec:nope": not found',
        'not a network\tnil\toverlay network "sec:allow_tor": not found',
        'unknown spawn\tnil\toverlay network "sec:nope": not found',
        "wrong type raises\tfalse\ttrue",
    ]


def test_strict_mode_denies_without_actor_and_scope(secure):
    result = secure("--set", "security.strict_mode=true", "run", "select")
    assert result.lines[:2] == [
        "root funcs tor\tnil\tnot allowed: network sec:tor",
        # as in Go Wippy, options on a spawner are process.context first
        "root spawn tor\tnil\tnot allowed to spawn processes with custom options",
    ]
    # without an actor and a scope, strict mode refuses even reading policies
    strict_read = secure("--set", "security.strict_mode=true", "run", "evaluate")
    assert strict_read.code == 1 and "permission denied: access policy group" in strict_read.err, strict_read
