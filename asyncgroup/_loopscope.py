"""The pytest-asyncio loop trap: a per-case fixture using an async fixture of another event loop.

pytest-asyncio runs each test and each async fixture on the event loop of its *loop scope*
(one loop per scope: function, class, module, package, session). A module-scoped async fixture
that starts a server on the module's loop, used by a test on the default function-scoped loop,
serves nobody while the test runs: the module's loop is not running then. Every case that talks
to it waits forever (on ``readline``, say). asyncgroup sets up per-case fixtures on the parent's
loop, so it can tell at once, and fails each case that would hang with the fix, instead of
letting it wait for its timeout (or forever).

Read from pytest-asyncio (checked on 1.0.0 and 1.5.0): the ``asyncio`` mark's ``loop_scope`` (or its
older spelling ``scope``), the ini options ``asyncio_default_test_loop_scope`` and
``asyncio_default_fixture_loop_scope``, and the ``_loop_scope`` attribute that
``@pytest_asyncio.fixture(loop_scope=...)`` sets on the fixture function (private, but the only
record of that argument; ``_force_asyncio_fixture`` likewise marks its async fixtures).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

_MATCH_FIXTURE_SCOPE = "fixture-scope"  # pytest-asyncio's ini value: loop scope = fixture scope


def test_loop_scope(item: pytest.Item) -> str:
    """The loop scope pytest-asyncio runs the test on (as its ``_loop_scope`` property says).

    Final only after collection: a conftest's ``pytest_collection_modifyitems`` may add the
    closest ``asyncio`` mark or change its ``loop_scope``, and pytest-asyncio reads it at the
    test's setup (checked: 1.0 in ``pytest_runtest_setup``, 1.3 and 1.5 in the item's ``setup``).
    """
    mark = item.get_closest_marker("asyncio")
    scope = mark.kwargs.get("loop_scope") or mark.kwargs.get("scope") if mark else None
    return str(scope or _ini(item.config, "asyncio_default_test_loop_scope") or "function")


def fixture_loop_scope(fixturedef: Any, config: pytest.Config) -> str | None:
    """The loop scope an async fixture runs on; None for a fixture pytest-asyncio does not run."""
    func = getattr(fixturedef.func, "__func__", fixturedef.func)
    if not getattr(func, "_force_asyncio_fixture", False):
        auto = str(config.getoption("asyncio_mode", None) or _ini(config, "asyncio_mode"))
        if auto != "auto" or not (
            inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)
        ):
            return None
    default = _ini(config, "asyncio_default_fixture_loop_scope")
    if default == _MATCH_FIXTURE_SCOPE:
        default = None
    return str(getattr(func, "_loop_scope", None) or default or fixturedef.scope)


def loop_traps(item: pytest.Function, per_case: set[str], defs: dict[str, Any]) -> dict[str, str]:
    """Per-case fixtures that use a wider-scoped async fixture of another loop: the error each
    case gets when it sets one up, by fixture name."""
    config = item.config
    test_scope = test_loop_scope(item)
    traps: dict[str, str] = {}
    for name in sorted(per_case):
        fixturedefs = defs.get(name)
        if not fixturedefs:
            continue
        for arg in fixturedefs[-1].argnames:
            used = defs.get(arg)
            if arg in per_case or not used or used[-1].scope == "function":
                continue
            scope = fixture_loop_scope(used[-1], config)
            if scope is not None and scope != test_scope:
                own = fixture_loop_scope(fixturedefs[-1], config)
                traps[name] = _message(name, arg, used[-1].scope, scope, test_scope, own)
                break
    return traps


def other_loop_hint(item: pytest.Function, names: list[str], defs: dict[str, Any]) -> str:
    """For a case that times out: the wider-scoped async fixtures the test requests directly
    that run on another loop. Not an error at setup: such a fixture may well give a plain
    value; but a case that waited on something it started (a server) hangs, and this says why.
    """
    config = item.config
    test_scope = test_loop_scope(item)
    for name in names:
        used = defs.get(name)
        if not used or used[-1].scope == "function":
            continue
        scope = fixture_loop_scope(used[-1], config)
        if scope is not None and scope != test_scope:
            return (
                f". The test uses {name!r}, an async fixture on the {scope}-scoped event loop, "
                f"which does not run while the cases do (they run on the {test_scope}-scoped "
                f"one): if the case waited on something {name!r} started (a server, a "
                "connection), run the test on that loop: "
                f'@pytest.mark.asyncio(loop_scope="{scope}")'
            )
    return ""


def _message(
    name: str, used: str, used_scope: str, used_loop: str, test_loop: str, own_loop: str | None
) -> str:
    # A fixture asking for the used fixture's loop runs on it for the test, not for a case.
    asked = (
        f" (it asks for the {own_loop}-scoped loop, but a case's fixtures run on the loop its "
        "cases run on)"
        if own_loop == used_loop
        else ""
    )
    return (
        f"asyncgroup: fixture {name!r}, set up for each case on the test's {test_loop}-scoped "
        f"event loop{asked}, uses the {used_scope}-scoped async fixture {used!r}, which runs "
        f"on the {used_loop}-scoped event loop. That loop does not run while the cases do: "
        f"whatever {used!r} started on it (a server, a connection) would never answer, and the "
        f"case would hang. Run the test on the fixture's loop: "
        f'@pytest.mark.asyncio(loop_scope="{used_loop}") on the test (or '
        f"asyncio_default_test_loop_scope = {used_loop} in the ini file)."
    )


def _ini(config: pytest.Config, name: str) -> Any:
    try:
        return config.getini(name)
    except ValueError:  # an older pytest-asyncio without this option
        return None
