"""Per-case fixtures: each case gets the fixtures it would get as a parametrized test.

Function-scoped fixtures in a case's closure (the ones it requests, their function-scoped
dependencies, and autouse ones) are taken out of the parent item's closure at collection, so
pytest never sets them up for the parent, and are set up here, once per case, in the case's own
task: plain, generator, ``async def`` and async generator fixtures alike. Fixtures of wider
scope are the parent's: pytest sets each up once and owns it, but one by one after the parent's
own setup (``defer_wider``), so that one that fails is the setup error of each case that uses
it, as of each parametrized test, not one error of the parent. For a test outside any class,
class-scoped fixtures are per case too: pytest sets one up for each such test, as if it were
function-scoped (see FixturePlan.is_per_case).

pytest's fixture machinery cannot do this itself: ``request.getfixturevalue`` runs async
fixtures through pytest-asyncio's ``Runner.run()``, which fails inside the running loop, and
pytest caches that failure on the fixture.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
import textwrap
import time
import types
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest

from asyncgroup import _compat
from asyncgroup._builtins import BUILTINS
from asyncgroup._capture import CaseOutput
from asyncgroup._declare import CASES_ATTRIBUTE, CaseTable
from asyncgroup._loopscope import (
    fixture_loop_scope,
    loop_traps,
    other_loop_hint,
    test_loop_scope,
)
from asyncgroup._outcome import case_nodeid, slot_of
from asyncgroup._paths import shown_path
from asyncgroup._timeouts import SlowestStep

if sys.version_info < (3, 11):  # pragma: no cover - Python 3.10: pytest's own dependency
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found, unused-ignore]

# On a parent: the fixtures of wider scope its cases use, set up after the parent's own setup.
# With it, the ones each test of a group uses (None: every case uses them all, see defer_wider).
_wider_key = pytest.StashKey[tuple[list[str], list[list[str]] | None]]()
# On a parent, after setup: their values, and the errors of those that failed.
_wider_results_key = pytest.StashKey[tuple[dict[str, Any], dict[str, BaseException]]]()


def wider_fixtures(item: pytest.Function, per_case: set[str]) -> list[str]:
    """The fixtures of wider scope in the parent's closure, in pytest's order."""
    defs = _compat.fixture_definitions(item)
    names = []
    for name in item.fixturenames:
        fixturedefs = defs.get(name)
        if name == "request" or name in per_case or not fixturedefs:
            continue
        fixturedef = fixturedefs[-1]
        if fixturedef.scope != "function" and not _compat.is_direct_param(fixturedef):
            names.append(name)
    return names


def defer_wider(
    item: pytest.Function, names: list[str], users: list[list[str]] | None = None
) -> None:
    """Take fixtures of wider scope out of the parent's own setup; ``set_up_wider`` sets
    them up after it. pytest-asyncio's own (the event loop's policy and factory) stay: the
    parent's loop needs them first. ``users``: for a group's parent, the ones each of its
    tests uses, in that test's order; None: every case uses every one of them (a
    ``@concurrent_cases`` parent), so the first that fails ends their setup."""
    item.stash[_wider_key] = (names, users)
    defs = _compat.fixture_definitions(item)
    _compat.remove_from_parent_closure(
        item,
        {name for name in names if not (defs.get(name) and _of_pytest_asyncio(defs[name][-1]))},
    )


def _of_pytest_asyncio(fixturedef: Any) -> bool:
    module = getattr(fixturedef.func, "__module__", "")
    return bool(module.startswith("pytest_asyncio"))


def set_up_wider(item: pytest.Item, plan: FixturePlan | None = None) -> None:
    """After the parent's own setup: its deferred fixtures, one by one, as pytest sets them up
    for a test (cached in their scope, failures too). ``plan``: the parent's, for a fixture
    that requests a case's argname (pytest's ScopeMismatch)."""
    deferred = item.stash.get(_wider_key, None)
    if deferred is None:
        return
    names, users = deferred
    assert isinstance(item, pytest.Function)
    values: dict[str, Any] = {}
    failed: dict[str, BaseException] = {}
    for name in names:
        if users is not None and not any(
            name in own and not failed.keys() & set(own[: own.index(name)]) for own in users
        ):
            continue  # pytest sets up none of a test's fixtures after the first that fails
        try:
            mismatch = plan.scope_mismatch(item, name) if plan is not None else None
            if mismatch is not None:  # as pytest fails the parametrized test's setup
                pytest.fail(mismatch, pytrace=False)
            values[name] = _compat.fixture_value(item, name)
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
            failed[name] = exc
            if users is None:
                break
    item.stash[_wider_results_key] = (values, failed)
    # pytest-asyncio 1.0 runs the test on the current event loop, and its loop fixture of an
    # async fixture's wider loop scope, set up here after the parent's, made that loop current
    # (without deferring, pytest sets wider scopes up first): give the parent's loop back.
    parent_loop = item.funcargs.get(f"_{test_loop_scope(item)}_event_loop")
    if isinstance(parent_loop, asyncio.AbstractEventLoop):
        asyncio.set_event_loop(parent_loop)


def wider_results(item: pytest.Item) -> tuple[dict[str, Any], dict[str, BaseException]]:
    """The deferred fixtures' values by name, and the errors of those that failed."""
    return item.stash.get(_wider_results_key, ({}, {}))


def parent_value(request: pytest.FixtureRequest, values: dict[str, Any], name: str) -> Any:
    """A value the parent has (pytest set it up once for all cases), kept in ``values``."""
    if name not in values:
        values[name] = request.getfixturevalue(name)
    return values[name]


class FixturePlan:
    """Which fixtures the cases of one parent item set up for themselves; made at collection."""

    def __init__(self, item: pytest.Function, case_argnames: tuple[str, ...]) -> None:
        self.defs = _compat.fixture_definitions(item)
        self.case_argnames = case_argnames
        self.params: dict[str, Any] = dict(getattr(getattr(item, "callspec", None), "params", {}))
        self.per_case: set[str] = set()
        # A test outside any class: pytest sets a class-scoped fixture up for each test, its
        # own item standing in for the class (FixtureRequest._getscopeitem, 8.0-9.2).
        self.classless = item.getparent(pytest.Class) is None
        # The test's whole fixture closure (the cases' argnames and fixtures included), before
        # the parent gives up the cases' own (request.fixturenames).
        self.closure = list(item.fixturenames)
        # The names no fixture defines (a typo, say): each case's "fixture 'x' not found", as
        # each parametrized test's, when it or a fixture it requests asks for one (see get).
        self.unknown = {
            name
            for name in self.closure
            if name != "request" and name not in case_argnames and not self.defs.get(name)
        }
        self._recipes_for: pytest.FixtureRequest | None = None
        self._recipes: dict[tuple[str, int], _Recipe] = {}
        self.roots = [
            name
            for name in _compat.initial_fixture_names(item)
            if name != "request" and name not in case_argnames
        ]
        for name in self.roots:
            self._visit(name, -1)
        # Class-scoped fixtures set up per case (a test outside any class): first, in the order
        # of the test's closure, as pytest sets up a fixture of wider scope before the
        # function-scoped ones whatever the order of the test's arguments.
        self.first = [
            name
            for name in self.closure
            if name in self.per_case and self.defs[name][-1].scope == "class"
        ]
        # pytest's ScopeMismatch of per-case fixtures (see _mismatches), worked out now. The
        # test's loop scope is read when the parent runs (see loop_traps), not now: a
        # conftest's pytest_collection_modifyitems may still set it (pytest-asyncio's recipe
        # for one session loop), and pytest-asyncio reads it at the test's setup.
        self._mismatched = self._mismatches(item)
        self._item = item

    @functools.cached_property
    def loop_traps(self) -> dict[str, str]:
        """Per-case fixtures each case fails to set up, with the error, by fixture name: those
        that would hang on an async fixture of another loop, and pytest's ScopeMismatch. Read
        first when a case sets its fixtures up."""
        return {**loop_traps(self._item, self.per_case, self.defs), **self._mismatched}

    @functools.cached_property
    def loop_hint(self) -> str:
        """For a fixture the test requests itself on another loop: a hint if a case times out."""
        item = self._item
        own = [name for name in inspect.signature(item.function).parameters if name in self.roots]
        return other_loop_hint(item, [n for n in own if n not in self.per_case], self.defs)

    def scope_mismatch(self, item: pytest.Function, name: str) -> str | None:
        """pytest's ScopeMismatch when the wider-scoped fixture ``name`` requests a case's
        argname, as it requests the parametrized test's (the parent has no such fixture)."""
        fixturedefs = self.defs.get(name)
        if not fixturedefs:
            return None
        arg = next((a for a in fixturedefs[-1].argnames if a in self.case_argnames), None)
        return _compat.scope_mismatch(item, fixturedefs[-1], arg) if arg is not None else None

    def recipe(self, name: str, index: int, fixturedef: Any, fixtures: CaseFixtures) -> _Recipe:
        """How to make fixture ``name`` (``index``: which override), the same for every case.

        Worked out once per parent run: resolving the function (bound to the test's instance
        for a class) and inspecting it costs more than the rest of a case's fixture setup.
        """
        parent_request = fixtures.parent_request
        if self._recipes_for is not parent_request:  # a new run of the parent: a new instance
            self._recipes_for, self._recipes = parent_request, {}
        recipe = self._recipes.get((name, index))
        if recipe is None:
            has_param = name in self.params
            recipe = _Recipe(name, fixturedef, CaseRequest(fixtures, name, has_param), has_param)
            self._recipes[(name, index)] = recipe
        return recipe

    def is_per_case(self, fixturedef: Any) -> bool:
        """Whether pytest would set ``fixturedef`` up for each of the cases' parametrized tests:
        a function-scoped fixture; a class-scoped one too for a test outside any class (but not
        pytest-asyncio's class-scoped loop, the parent's loop for all its cases)."""
        if fixturedef.scope == "function":
            return True
        return fixturedef.scope == "class" and self.classless and not _of_pytest_asyncio(fixturedef)

    def _visit(self, name: str, index: int) -> None:
        defs = self.defs.get(name)
        if not defs or name in self.case_argnames or len(defs) < -index:
            return  # unknown names: pytest reports them for the parent as usual
        fixturedef = defs[index]
        if not self.is_per_case(fixturedef) or _compat.is_direct_param(fixturedef):
            return  # the parent's: pytest sets it up once, for all cases
        if index == -1:
            if name in self.per_case:
                return
            self.per_case.add(name)
        for arg in fixturedef.argnames:
            self._visit(arg, index - 1 if arg == name else -1)

    def _mismatches(self, item: pytest.Function) -> dict[str, str]:
        """pytest's ScopeMismatch, by name, for each class-scoped per-case fixture that
        requests a function-scoped one (or a case's argname), as for the parametrized test;
        also for an async one pytest-asyncio runs on the function-scoped loop (it requests
        that loop's runner fixture)."""
        errors: dict[str, str] = {}
        for name in sorted(self.per_case):
            fixturedef = self.defs[name][-1]
            if fixturedef.scope != "class":
                continue
            for arg in fixturedef.argnames:
                defs = self.defs.get(arg)
                if arg in self.case_argnames:
                    errors[name] = _compat.scope_mismatch(item, fixturedef, arg)
                    break
                if arg not in ("request", name) and defs and defs[-1].scope == "function":
                    errors[name] = _compat.scope_mismatch(item, fixturedef, arg, defs[-1])
                    break
            else:
                if fixture_loop_scope(fixturedef, item.config) == "function":
                    # That loop's fixture: pytest-asyncio 1.3-1.5's runner, 1.0's event loop.
                    for runner in ("_function_scoped_runner", "_function_event_loop"):
                        requested = _compat.visible_fixture(item, runner)
                        if requested is not None:
                            errors[name] = _compat.scope_mismatch(
                                item, fixturedef, runner, requested
                            )
                            break
        return errors


_PLAIN, _GENERATOR, _ASYNC_GENERATOR = range(3)


class _Recipe:
    """One fixture definition, resolved for one parent run: what ``CaseFixtures._create`` needs."""

    __slots__ = ("argnames", "builtin", "func", "has_param", "kind", "method", "unhandled")

    def __init__(self, name: str, fixturedef: Any, request: CaseRequest, has_param: bool) -> None:
        self.has_param = has_param
        self.builtin = _per_case_builtin(name, fixturedef)
        self.func, accepted = _compat.fixture_function(fixturedef, request)
        # A fixture defined in the test's class: bound to each case's own instance in turn.
        instance = request.instance
        self.method = instance is not None and getattr(self.func, "__self__", None) is instance
        self.argnames = tuple(
            arg for arg in fixturedef.argnames if accepted is None or arg in accepted
        )
        if inspect.isasyncgenfunction(self.func):
            self.kind = _ASYNC_GENERATOR
        elif inspect.isgeneratorfunction(self.func):
            self.kind = _GENERATOR
        else:
            self.kind = _PLAIN
        # An async fixture pytest-asyncio does not run (a plain @pytest.fixture in its strict
        # mode): no plugin handles it for the parametrized test either (see _unhandled_async).
        self.unhandled = (
            self.builtin is None
            and (inspect.iscoroutinefunction(self.func) or self.kind == _ASYNC_GENERATOR)
            and fixture_loop_scope(fixturedef, request.config) is None
        )


# What a case of a group takes from its own test rather than from the parent it runs in.
_FROM_OWN_TEST: dict[str, Callable[[pytest.Function], Any]] = {
    "cls": lambda item: item.cls,
    "module": lambda item: item.module,
    "path": lambda item: item.path,
}


class CaseRequest:
    """The ``request`` a case (or one of its fixtures) sees.

    Its ``node`` is the case's own (see _casenode; in a group: the case's own test, with its
    function); ``instance``, ``keywords``, ``applymarker``, ``param`` and ``addfinalizer``
    are the case's own. Anything else is the parent's request.
    """

    def __init__(
        self, fixtures: CaseFixtures, fixturename: str | None = None, has_param: bool = False
    ) -> None:
        self._fixtures = fixtures
        self.fixturename = fixturename
        # Where its fixture's finalizers begin in the case's (set as the fixture is called):
        # what it sets up by getfixturevalue goes below them, torn down after it, as pytest's.
        self._first: int | None = None
        if has_param:
            self.param = fixtures.plan.params[fixturename]  # type: ignore[index]

    @property
    def scope(self) -> str:
        """As pytest's: the scope of the fixture this request is for ("class" for a
        class-scoped one set up per case, see FixturePlan.is_per_case), else "function"."""
        defs = self._fixtures.plan.defs.get(self.fixturename) if self.fixturename else None
        return "class" if defs and defs[-1].scope == "class" else "function"

    @property
    def fixturenames(self) -> list[str]:
        """As pytest's: the test's whole fixture closure, and what was requested dynamically;
        from a fixture set up before the rest too (an autouse one's "only for tests that use
        fixture X")."""
        fixtures = self._fixtures
        test = fixtures.item or fixtures.parent_request.node  # with what plugins added since
        return list(dict.fromkeys([*fixtures.plan.closure, *test.fixturenames, *fixtures.values]))

    @property
    def node(self) -> Any:
        return self._fixtures.node

    @property
    def keywords(self) -> Any:
        return self._fixtures.node.keywords

    @property
    def instance(self) -> Any:
        instance = self._fixtures.instance
        if instance is None:
            item = self._fixtures.item
            return item.instance if item is not None else self._fixtures.parent_request.instance
        return instance

    @property
    def function(self) -> Any:
        """As pytest's (its test item's ``obj``): the test function, as a method bound to the
        case's own instance in a class; the user's function, not the parent made of it."""
        # The parent's obj is pytest-asyncio's wrapper by now (it swaps it in for the call);
        # its function attributes, asyncgroup's table included, are the user's function's.
        test = self._fixtures.item or self._fixtures.parent_request.node
        table = getattr(test.function, CASES_ATTRIBUTE, None)
        func = table.func if isinstance(table, CaseTable) else test.function
        instance = self.instance
        if instance is None or isinstance(
            inspect.getattr_static(type(instance), test.originalname, None), staticmethod
        ):
            return func
        return types.MethodType(func, instance)

    def applymarker(self, marker: str | pytest.MarkDecorator) -> None:
        """As pytest's: a mark on this case alone (an xfail one decides its outcome)."""
        self._fixtures.node.add_marker(marker)

    def addfinalizer(self, finalizer: Callable[[], object]) -> None:
        # With the fixture that adds it ("": the case's test), for a timeout's message.
        self._fixtures.finalizers.append((None, finalizer, self.fixturename or ""))

    def getfixturevalue(self, argname: str) -> Any:
        """As pytest's: a function-scoped fixture is the case's own, torn down with the case.
        From a plain ``def`` case's thread, a fixture of wider scope (and a built-in one such
        as ``tmp_path``) is set up on the event loop's thread, as its other fixtures are:
        pytest's fixture machinery is not made for two threads (two cases setting one
        module-scoped fixture up at once); a function-scoped one of the case's, in its thread,
        as the body's own code, under the case's timeout."""
        __tracebackhide__ = True
        fixtures = self._fixtures
        if argname not in fixtures.values and argname not in fixtures.plan.params:
            fixturedef = _compat.visible_fixture(fixtures.parent_request.node, argname)
            if fixturedef is not None and fixturedef.params is not None:
                _no_parameter(fixtures, fixturedef, sys._getframe(1))
        finalizers = fixtures.finalizers
        before = len(finalizers)
        value = self._fixtures.get_now(argname)
        first = self._first
        if first is not None and first <= before < len(finalizers):
            # Set up for this fixture now: torn down after it (and its finalizers), as pytest
            # finalizes a fixture before one it requested dynamically.
            made = finalizers[before:]
            del finalizers[before:]
            finalizers[first:first] = made
            self._first = first + len(made)
        return value

    def __getattr__(self, name: str) -> Any:
        if name == "param":  # set in __init__ when the fixture is parametrized
            what = f"fixture {self.fixturename!r}" if self.fixturename else "the case's request"
            msg = f"{what} is not parametrized: request.param is not set"
            raise AttributeError(msg)
        item = self._fixtures.item
        if item is not None and name in _FROM_OWN_TEST:
            return _FROM_OWN_TEST[name](item)
        return getattr(self._fixtures.parent_request, name)

    def __repr__(self) -> str:
        return f"<CaseRequest for {self._fixtures.case_name!r}>"


# Helpers and plugins that check ``isinstance(request, pytest.FixtureRequest)`` accept a case's.
_compat.register_fixture_request(CaseRequest)


class CaseFixtures:
    """The fixtures of one case: set up on demand, torn down in reverse order."""

    # Slots: one of these lives per running case (100,000 at once, say).
    __slots__ = (
        "_node",
        "_overridden",
        "_slowest",
        "_slowest_seconds",
        "_user_properties",
        "case",
        "ended",
        "failed_steps",
        "finalizers",
        "instance",
        "member",
        "output",
        "passed",
        "services",
        "step",
        "step_name",
        "stopped",
        "values",
    )

    def __init__(
        self,
        case: Any,
        member: Any,
        case_values: dict[str, Any],
        output: CaseOutput,
        services: Any,
        instance: Any = None,
    ) -> None:
        self.instance = instance  # the case's own instance of the test's class, if any
        self.case, self.member = case, member  # what services.case_node makes the node of
        self._node: Any = None
        self.values = case_values  # its own: the fixtures' values are added to it
        # An overridden fixture's values, by (name, index), made when one is asked for.
        self._overridden: dict[tuple[str, int], Any] | None = None
        # Callables, a generator fixture's (generator, function, name) to finish, and
        # request.addfinalizer's (None, finalizer, name of the fixture that added it): a tuple
        # is the smallest thing one running case can hold per fixture (see teardown).
        self.finalizers: list[Callable[[], object] | tuple[Any, Any, str]] = []
        self.output = output
        self.services = services  # the run's: parent_request, parent_values, show...
        self.passed = False  # whether the case's call passed, set before its teardown
        # Why the case was stopped while its def body ran on in its thread (see get_now).
        self.stopped: str | None = None
        self.failed_steps = 0  # subtests.test() blocks that failed
        self._user_properties: list[tuple[str, object]] | None = None  # see user_properties
        # The fixture code running now, that a stop may have to give up on (see
        # _runner._give_up): an async fixture's coroutine or an async generator fixture's
        # __anext__(), and the fixture's name; None between them.
        self.step: Any = None
        self.step_name = ""
        # The sync fixture whose setup ran longest (see slowest): its FixtureDef, or in the
        # teardown its finalizers' entry; None: none ran yet.
        self._slowest_seconds = 0.0
        self._slowest: Any = None

    # What every case of the test shares, from its member and the run, rather than a field
    # in each of 100,000 running cases.
    @property
    def plan(self) -> FixturePlan:
        plan: FixturePlan = self.member.plan
        return plan

    @property
    def item(self) -> pytest.Function | None:
        """The test a case of a group stands for (None: the parent's case)."""
        item: pytest.Function | None = self.member.item
        return item

    @property
    def parent_request(self) -> pytest.FixtureRequest:
        request: pytest.FixtureRequest = self.services.parent_request
        return request

    @property
    def parent_values(self) -> dict[str, Any]:
        values: dict[str, Any] = self.services.parent_values
        return values

    @property
    def show(self) -> Callable[[str], None] | None:
        """--setup-show: writes the case's SETUP/TEARDOWN lines as they happen; else None."""
        show: Callable[[str], None] = self.services.show
        return show if self.services.setup_show else None

    @property
    def case_name(self) -> str:
        """The case's id."""
        return str(self.case.id)

    @property
    def node(self) -> Any:
        """The case's ``request.node``, made when first asked for (see _casenode)."""
        if self._node is None:
            self._node = self.services.case_node(self.case, self.member, self)
        return self._node

    @property
    def user_properties(self) -> list[tuple[str, object]]:
        """What ``record_property`` recorded for the case, after what was recorded for its
        test before it ran (see CaseReporter.collected): its node's and reports' list, made
        when first asked for (most cases record nothing, and ask only once they report)."""
        if self._user_properties is None:
            self._user_properties = list(self.member.reporter.collected)
        return self._user_properties

    def slowest(self) -> SlowestStep | None:
        """The sync fixture whose setup ran longest, for a timeout's message: it holds the
        event loop, so the timeout cannot cut it off (see _runner._setup); once the teardown
        has begun, the sync fixture teardown or finalizer that ran longest (_runner._teardown).
        """
        ran = self._slowest
        if ran is None:
            return None
        if not isinstance(ran, tuple):  # a fixture's setup: its FixtureDef
            name, func, what = ran.argname, ran.func, f"sync fixture {ran.argname!r}"
        elif ran[0] is not None:  # a generator fixture's teardown
            name, func, what = ran[2], ran[1], f"sync fixture {ran[2]!r}"
        else:  # a finalizer request.addfinalizer added
            func = ran[1]
            name = getattr(func, "__name__", None) or repr(func)
            by = f"fixture {ran[2]!r}" if ran[2] else "the test"
            what = f"finalizer {name!r} (added by {by})"
        root = str(self.parent_request.config.rootpath)
        return SlowestStep(self._slowest_seconds, what, name, defined_at(func, root))

    @property
    def made_node(self) -> Any:
        """The case's node if it was asked for, else None."""
        return self._node

    def mark_names(self) -> tuple[str, ...]:
        """The names of the case's own marks (its pytest.param's)."""
        return tuple(mark.name for mark in self.case.marks) if self.case is not None else ()

    def parent_value(self, name: str) -> Any:
        try:
            return parent_value(self.parent_request, self.parent_values, name)
        except pytest.FixtureLookupError as error:
            if self.item is not None:  # a test of a group: its own source, not the parent's
                _compat.looked_up_for(error, self.item)
            raise

    async def setup(self, argnames: list[str]) -> dict[str, Any]:
        """Set up the case's fixtures; return the arguments for the test function."""
        __tracebackhide__ = True
        values = self.values  # what the case has already: no coroutine to get it
        for name in self.plan.first:
            if name not in values:
                await self.get(name)
        if self.show is not None:  # the values next, as pytest's pseudo-fixtures of them
            self._show_params()
        for name in self.plan.roots:
            if name not in values:
                await self.get(name)
        return {name: values[name] if name in values else await self.get(name) for name in argnames}

    async def get(self, name: str, index: int = -1) -> Any:
        __tracebackhide__ = True
        if index == -1 and name in self.values:
            return self.values[name]
        if self._overridden is not None and (name, index) in self._overridden:
            return self._overridden[(name, index)]
        if name == "request":
            return CaseRequest(self)
        if index == -1 and name not in self.plan.per_case:
            return self.parent_value(name)
        if index == -1 and name in self.plan.loop_traps:
            # As pytest reports a fixture it cannot set up (its ScopeMismatch, say): an error
            # of the test's setup, shown as its message alone.
            _setup_error(self.plan.loop_traps[name])
        fixturedef = self.plan.defs[name][index]
        if not self.plan.is_per_case(fixturedef):
            msg = (
                f"asyncgroup: function-scoped fixture {name!r} overrides a "
                f"{fixturedef.scope}-scoped fixture of the same name and requests it; "
                "asyncgroup cannot serve that per case: rename one of them"
            )
            raise pytest.UsageError(msg)
        value = await self._create(name, index, fixturedef)
        if index == -1:
            self.values[name] = value
        else:
            if self._overridden is None:
                self._overridden = {}
            self._overridden[(name, index)] = value
        return value

    def get_now(self, name: str) -> Any:
        """A fixture's value for ``request.getfixturevalue``: a synchronous call in the case.

        A function-scoped fixture the case does not have yet is set up for it now (and torn
        down with it); an async one cannot be, from inside the running event loop.
        """
        __tracebackhide__ = True
        if name in self.values:
            return self.values[name]
        if name == "request":
            return CaseRequest(self)
        if self.stopped is not None:  # its fixtures are torn down, or about to be
            raise self._stopped_error(name)
        in_loop_thread = self.services.in_loop_thread
        fixturedef = _compat.visible_fixture(self.parent_request.node, name)
        if fixturedef is None or not self.plan.is_per_case(fixturedef):
            # pytest's: set up once, or its FixtureLookupError
            return in_loop_thread(functools.partial(self.parent_value, name))
        request = CaseRequest(self, name)
        value, func, accepted = self._builtin_or_function(name, fixturedef, request)
        if func is not None:
            if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
                where = (
                    "while the case runs in the event loop"
                    if self.services.on_loop_thread()
                    else "from the thread a plain def case runs in"
                )
                msg = (
                    f"asyncgroup: case {self.case_name!r}: request.getfixturevalue({name!r}) "
                    f"cannot set up the async fixture {name!r} {where}; request {name!r} as an "
                    "argument of the test or of one of its fixtures"
                )
                raise pytest.UsageError(msg)
            kwargs = {
                arg: request if arg == "request" else self.get_now(arg)
                for arg in fixturedef.argnames
                if (accepted is None or arg in accepted) and arg != name
            }
            request._first = len(self.finalizers)
            # What is set up before (the case's teardown takes entries away meanwhile).
            before = list(self.finalizers)
            try:  # as in _create: its SETUP line once its own code has run, raised or not
                value, _ = self._run_sync(name, func, kwargs, inspect.isgeneratorfunction(func))
                if self.stopped is not None:  # stopped meanwhile
                    self._finish_late([e for e in self.finalizers if not _among(e, before)])
                    raise self._stopped_error(name)
            except pytest.skip.Exception as skip:
                _compat.place_skip_at_test(skip)  # as pytest: the test that skipped, not where
                raise
            finally:
                self._show_setup(name, fixturedef)
        else:
            self._show_setup(name, fixturedef)
        self.values[name] = value
        return value

    def _stopped_error(self, name: str) -> RuntimeError:
        return RuntimeError(
            f"asyncgroup: case {self.case_name!r} was stopped ({self.stopped}): "
            f"request.getfixturevalue({name!r}) in its thread sets nothing up"
        )

    def _finish_late(self, entries: list[Any]) -> None:
        """Tear down, in a def case's thread, what a fixture its body set up added to the
        finalizers after the case was stopped: each one the case's teardown has not taken
        yet (both take entries one at a time), so that none is left set up."""
        __tracebackhide__ = True
        for entry in reversed(entries):
            try:
                self.finalizers.remove(entry)
            except ValueError:
                continue  # the case's teardown has it
            if not isinstance(entry, tuple):
                entry()
            elif entry[0] is None:  # request.addfinalizer's
                entry[1]()
            else:
                _finish_sync(entry[0], entry[1])

    def _builtin_or_function(
        self, name: str, fixturedef: Any, request: CaseRequest
    ) -> tuple[Any, Callable[..., Any] | None, set[str] | None]:
        """(value, None, None) for a per-case built-in; else (None, the function, its args)."""
        __tracebackhide__ = True
        builtin = _per_case_builtin(name, fixturedef)
        if builtin is not None:  # pytest's own objects (tmp_path's factory): on its thread
            return (
                self.services.in_loop_thread(functools.partial(builtin, self, request)),
                None,
                None,
            )
        func, accepted = _compat.fixture_function(fixturedef, request)
        return None, func, accepted

    async def _create(self, name: str, index: int, fixturedef: Any) -> Any:
        __tracebackhide__ = True
        recipe = self.plan.recipe(name, index, fixturedef, self)
        kwargs = {}
        request = None
        for arg in recipe.argnames if recipe.builtin is None else ():
            if arg == "request":
                request = request or CaseRequest(self, name, has_param=recipe.has_param)
                kwargs[arg] = request
            elif arg != name and arg in self.values:
                kwargs[arg] = self.values[arg]
            else:
                try:
                    kwargs[arg] = await self.get(arg, index - 1 if arg == name else -1)
                except pytest.FixtureLookupError as error:
                    # As pytest's: the error shows this fixture among those that requested it.
                    _compat.requested_by(error, fixturedef)
                    raise
        if request is not None:
            request._first = len(self.finalizers)
        # --setup-show: pytest writes a fixture's SETUP line (and so its TEARDOWN line) once its
        # own code has run, raised or not, and none when a fixture it requests failed first
        # (_pytest/setuponly.py, pytest_fixture_setup's wrapper).
        try:
            if recipe.builtin is not None:
                return recipe.builtin(self, CaseRequest(self, name, has_param=recipe.has_param))
            func = recipe.func
            if recipe.method and self.instance is not None:
                func = func.__func__.__get__(self.instance)  # type: ignore[attr-defined]
            if recipe.unhandled:
                return self._unhandled_async(name, fixturedef, func, kwargs)
            if recipe.kind == _ASYNC_GENERATOR:
                agen = func(**kwargs)
                value = await self._step(name, agen.__anext__())
                self.finalizers.append((agen, func, name))
                return value
            value, seconds = self._run_sync(name, func, kwargs, recipe.kind == _GENERATOR)
            if recipe.kind != _GENERATOR and inspect.isawaitable(value):
                return await self._step(name, value)
            self._ran(fixturedef, seconds)
            return value
        finally:
            self._show_setup(name, fixturedef)

    def _run_sync(
        self, name: str, func: Callable[..., Any], kwargs: dict[str, Any], generator: bool
    ) -> tuple[Any, float]:
        """Run fixture ``name``'s sync code up to its value (a generator fixture's up to its
        yield, its teardown noted); the value, and the seconds it held the loop (see _held)."""
        __tracebackhide__ = True
        started = time.monotonic()
        try:
            if generator:
                gen = func(**kwargs)
                value = next(gen)
                self.finalizers.append((gen, func, name))
            else:
                value = func(**kwargs)
        finally:
            seconds = self._held(started)
        return value, seconds

    def _held(self, started: float) -> float:
        """The seconds since ``started`` that the case's sync fixture code held the loop, noted
        (when the run has timeouts) so that the other cases' timeouts do not count them."""
        now = time.monotonic()
        holds = self.services.holds
        if holds is not None:
            try:
                task = asyncio.current_task()
            except RuntimeError:  # in a def case's thread (getfixturevalue): no loop held
                return now - started
            holds.add(task, started, now)
        return now - started

    def _ran(self, what: Any, seconds: float) -> None:
        """Note that a sync fixture's setup (``what``: its FixtureDef) or teardown (its
        finalizers' entry) held the loop ``seconds``, if the longest yet."""
        if self._slowest is None or seconds > self._slowest_seconds:
            self._slowest_seconds, self._slowest = seconds, what

    async def _step(self, name: str, step: Any) -> Any:
        """Await a step of fixture ``name``'s own code, known meanwhile as the case's step."""
        __tracebackhide__ = True
        self.step, self.step_name = step, name
        try:
            return await step
        except RuntimeError as exc:
            # A stop gave up on the step (see _runner._give_up): an __anext__() it closed says
            # it "cannot reuse already awaited" as the task is woken, cancelled.
            if self.step is None and "cannot reuse already awaited" in str(exc):
                raise asyncio.CancelledError from None
            raise
        finally:
            self.step = None

    def _unhandled_async(
        self, name: str, fixturedef: Any, func: Callable[..., Any], kwargs: dict[str, Any]
    ) -> Any:
        """What pytest does with an async fixture no plugin handles, for the case's
        parametrized test: pytest 9 fails its setup; pytest 8.4 warns and, as pytest 8.0-8.3,
        gives it the coroutine (or async generator) the function returns, never run."""
        # No __tracebackhide__: pytest shows a pytrace=False failure as its message alone only
        # when a frame of its traceback is left to show.
        if self.item is not None:
            test = self.item.name  # a test of a group
        else:
            parent = self.parent_request.node
            test = case_nodeid(parent.name, self.case_name, slot_of(parent))
        autouse = " with autouse=True" if _compat.is_autouse(fixturedef) else ""
        # pytest's messages (_pytest/fixtures.py pytest_fixture_setup, 8.4 and 9.0-9.2).
        see = "See: https://docs.pytest.org/en/stable/deprecations.html#sync-test-depending-on-async-fixture"
        if _compat.PYTEST_MAJOR >= 9:
            pytest.fail(
                f"{test!r} requested an async fixture {name!r}{autouse}, with no plugin or hook "
                f"that handled it. This is an error, as pytest does not natively support it.\n"
                f"{see}",
                pytrace=False,
            )
        if pytest.version_tuple >= (8, 4):
            warnings.warn(
                pytest.PytestRemovedIn9Warning(  # type: ignore[attr-defined]
                    f"{test!r} requested an async fixture {name!r}{autouse}, with no plugin or "
                    "hook that handled it. This is usually an error, as pytest does not "
                    "natively support it. This will turn into an error in pytest 9.\n"
                    f"{see}"
                ),
                stacklevel=1,
            )
        return func(**kwargs)

    def _show_params(self) -> None:
        """--setup-show: the case's values, as pytest shows a parametrized test's (``x['a']``),
        set up first and torn down last."""
        show = self.show
        assert show is not None
        # A group's test has no case argnames: its values are its own parametrize arguments.
        names = self.plan.case_argnames or [
            name for name in self.plan.params if name in self.values
        ]
        for name in names:
            if name in self.values:
                value = _compat.setup_show_param(self.values[name])
                line = f"F {name}[{value}] (case {self.case_name})"
                show(f"        SETUP    {line}")
                self.finalizers.append(functools.partial(show, f"        TEARDOWN {line}"))

    def _show_setup(self, name: str, fixturedef: Any) -> None:
        """--setup-show: the case's SETUP line now, its TEARDOWN line with its teardown."""
        show = self.show
        if show is not None:
            deps = sorted(arg for arg in fixturedef.argnames if arg != "request")
            used = f" (fixtures used: {', '.join(deps)})" if deps else ""
            # pytest's scope letter and indent, two spaces a scope (_pytest/setuponly.py): a
            # class-scoped fixture set up per case is shown as pytest shows it, "C".
            indent, letter = ("      ", "C") if fixturedef.scope == "class" else ("        ", "F")
            shown = f"{letter} {name}"
            show(f"{indent}SETUP    {shown}{used} (case {self.case_name})")
            self.finalizers.append(
                lambda: show(f"{indent}TEARDOWN {shown} (case {self.case_name})")
            )

    async def teardown(self, node: str) -> None:
        """Run finalizers in reverse order; once all have run, raise the error, or pytest's
        group of them, "errors while tearing down <node>", when several failed.

        Whatever a finalizer raises (a cancellation by the case's timeout or Ctrl-C, SystemExit,
        pytest.skip) ends only that finalizer: the others still run, so no fixture of a
        started case is left set up. A KeyboardInterrupt or pytest.exit() is raised in
        preference to the rest.
        """
        __tracebackhide__ = True
        errors: list[BaseException] = []
        interrupt: BaseException | None = None
        self._slowest = None  # from now on: the sync teardown or finalizer that ran longest
        while self.finalizers:
            try:
                finalizer = self.finalizers.pop()
                if not isinstance(finalizer, tuple):  # a built-in fixture's, --setup-show's
                    started = time.monotonic()
                    try:
                        result = finalizer()
                    finally:
                        self._held(started)
                    if inspect.isawaitable(result):
                        await result
                    continue
                gen, func, name = finalizer
                if inspect.isasyncgen(gen):
                    await _finish_async(func, self._step(name, gen.__anext__()))
                    continue
                started = time.monotonic()
                try:
                    if gen is not None:
                        _finish_sync(gen, func)
                        result = None
                    else:  # request.addfinalizer's
                        result = func()
                finally:
                    seconds = self._held(started)
                if inspect.isawaitable(result):
                    await result
                    continue
                self._ran(finalizer, seconds)
            except (KeyboardInterrupt, pytest.exit.Exception) as exc:
                interrupt = exc
            except BaseException as exc:
                errors.append(exc)
        if interrupt is not None:
            raise interrupt
        if len(errors) > 1 and all(isinstance(e, _TEST_OUTCOME) for e in errors):
            _raise_group(f"errors while tearing down {node}", errors)
        if errors:
            raise errors[0]


def defined_at(func: Any, root: str) -> str:
    """Where ``func`` is defined, "path:line" from ``root`` (the line of its ``def``, or of its
    first decorator, as pytest 9 gives a fixture's location; pytest 8 gives the line after);
    "" for a callable with no code of its own."""
    while isinstance(func, functools.partial):
        func = func.func
    func = inspect.unwrap(getattr(func, "__func__", func))
    code = getattr(func, "__code__", None)
    if code is None:
        return ""
    return f"{shown_path(code.co_filename, root)}:{code.co_firstlineno}"


def _no_parameter(fixtures: CaseFixtures, fixturedef: Any, frame: types.FrameType) -> NoReturn:
    """pytest's failure for ``getfixturevalue`` of a parametrized fixture whose parameter the
    test does not hold (``FixtureRequest._check_fixturedef_without_param``, 8.0-9.2), for the
    case: its node id, the fixture's location, and the line that asked."""
    __tracebackhide__ = True
    root = fixtures.parent_request.config.rootpath
    path = Path(frame.f_code.co_filename).absolute()
    here = f"{path.relative_to(root) if path.is_relative_to(root) else path}:{frame.f_lineno}"
    nodeid = fixtures.member.reporter.nodeid(fixtures.case.id)
    msg = (
        f"The requested fixture has no parameter defined for test:\n    {nodeid}\n\n"
        f"Requested fixture '{fixturedef.argname}' defined in:\n"
        f"{_compat.fixture_location(fixturedef.func, root)}\n\nRequested here:\n{here}"
    )
    pytest.fail(msg, pytrace=False)


def _setup_error(msg: str) -> NoReturn:
    """Fail the case's setup with ``msg`` alone. No __tracebackhide__: pytest shows a
    pytrace=False failure as its message alone only when a frame is left to show (else it adds
    "All traceback entries are hidden")."""
    pytest.fail(msg, pytrace=False)


def _raise_group(msg: str, errors: list[BaseException]) -> NoReturn:
    """As pytest's SetupState.teardown_exact: the group in the order the fixtures were set up,
    raised from a frame of its own (a traceback of hidden frames only breaks pytest 8's
    repr_failure of the group)."""
    raise BaseExceptionGroup(msg, errors[::-1])


# What pytest's teardown collects from each finalizer (its runner.TEST_OUTCOME); anything else
# (a cancellation, SystemExit) is raised alone.
_TEST_OUTCOME = (Exception, pytest.skip.Exception, pytest.fail.Exception)


def _per_case_builtin(name: str, fixturedef: Any) -> Callable[..., Any] | None:
    """asyncgroup's per-case version of a built-in fixture, if ``fixturedef`` is one."""
    # pytest's own, or pytest-subtests' (the subtests fixture on pytest 8).
    from_pytest = fixturedef.func.__module__.startswith(("_pytest", "pytest_subtests"))
    return BUILTINS.get(name) if from_pytest else None


async def _finish_async(func: Any, step: Awaitable[Any]) -> None:
    """Run an async generator fixture's code after its yield: ``step``, its ``__anext__()``."""
    __tracebackhide__ = True
    try:
        await step
    except StopAsyncIteration:
        return
    _more_than_one_yield(func)


def _among(entry: object, entries: list[Any]) -> bool:
    """Whether ``entry`` itself is one of ``entries`` (not one equal to it)."""
    return any(entry is other for other in entries)


def _finish_sync(gen: Any, func: Any) -> None:
    """Run a generator fixture's code after its yield."""
    __tracebackhide__ = True
    try:
        next(gen)
    except StopIteration:
        return
    _more_than_one_yield(func)


def _more_than_one_yield(func: Any) -> NoReturn:
    """The error pytest reports for a generator fixture that yields again: its message, the
    fixture's source and location (``_pytest.fixtures._teardown_yield_fixture``)."""
    __tracebackhide__ = True
    msg = "fixture function has more than one 'yield'"
    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError):  # no source to show (a fixture made at run time)
        pytest.fail(f"{msg}: {func!r}", pytrace=False)
    source = textwrap.indent(textwrap.dedent("".join(lines)).rstrip(), "    ")
    pytest.fail(f"{msg}:\n\n{source}\n{inspect.getsourcefile(func)}:{first}", pytrace=False)
