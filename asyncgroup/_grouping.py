"""Collecting and running groups: the selected tests of a ``@concurrent_group`` become one parent.

pytest collects the tests of a group as ordinary tests, so ``-k``, ``-m``, node ids, ``--lf`` and
every plugin's selection work on them with pytest's own machinery, and ``--collect-only`` and the
"N selected" counts show them as they are. Once selection is over (``pytest_collection_finish``,
before the terminal and pytest-xdist read the items), the selected tests of each group are
replaced by one parent item in the group's module or class: an ordinary ``pytest.Function``,
made by pytest's own ``pytest_pycollect_makeitem`` hook (so pytest-asyncio runs it), whose body
runs each test as a case (see ``_member``): its own function, per-case fixtures, marks, and
reports under the test's own node id. Fixtures of wider scope are set up by the parent, one by
one after its own setup, so pytest sets each up once, as it would for the tests, and one that
fails is the setup error of just the tests that use it.

Every xdist worker makes the same replacement from the same collection, so the items they
report to the controller agree, and each group runs whole on one worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import types
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

from asyncgroup import _compat
from asyncgroup._declare import CASES_ATTRIBUTE, CaseTable, generator_error
from asyncgroup._fixtures import FixturePlan, defer_wider, wider_results
from asyncgroup._group import GroupSpec, spec_of
from asyncgroup._loopscope import test_loop_scope
from asyncgroup._member import Member, MemberCase
from asyncgroup._outcome import CASES_FAILED_ATTRIBUTE
from asyncgroup._refuse import refuse_without_asyncio
from asyncgroup._select import group_parents_key, parent_marks, select
from asyncgroup._settings import RunSettings, plan_key

PARENT_ATTRIBUTE = "_asyncgroup_group_parent"
_group_stash = pytest.StashKey["_Group"]()  # on a parent: its group
_NO_CALLSPEC = types.SimpleNamespace(params={})  # what an item that is not parametrized has

# Per run: (module or class node id, group name) -> the options given so far, and by whom.
_options_key = pytest.StashKey[dict[tuple[str, str | None], dict[str, tuple[Any, str]]]]()
# Per run: (module or class node id, group name) -> the first test's loop scope, whence, test.
_loop_scopes_key = pytest.StashKey[dict[tuple[str, str | None], tuple[str, str, str]]]()


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    """Report misuse of @concurrent_group as a collection error naming the test."""
    __tracebackhide__ = True
    spec = spec_of(obj)
    if spec is not None:
        _check_declaration(collector, name, obj, spec)
    if spec is not None or class_spec(collector) is not None:
        _mark_for_listing(collector, obj)
    result = yield
    in_class_group = class_spec(collector) is not None
    if (result or spec is not None) and (spec is not None or in_class_group):
        # A generator test's body never runs when called: an async one would pass unrun.
        msg = generator_error(obj, "@concurrent_group")
        if msg is not None:
            pytest.fail(f"In {name}: {msg}", pytrace=False)
    # Not the group's parent, made at the end of collection in the class: its asyncio mark is
    # its first test's as a hook left it (a conftest's session loop, say), not as collected.
    is_parent = getattr(obj, PARENT_ATTRIBUTE, False)
    if result and (spec is not None or in_class_group) and not is_parent:
        _check_cases_options(name, obj, spec or spec_of(collector.obj, False))
        _check_loop_scope(collector.config, name, result)
    reason = _not_collected(obj, bool(result)) if spec is not None else None
    if reason is not None:
        kind = "class" if isinstance(obj, type) else "function"
        msg = (
            f"@concurrent_group on {kind} {name!r}, which pytest does not collect as a test "
            f"({reason}): decorate a test function or a test class"
        )
        pytest.fail(msg, pytrace=False)
    return result


def _mark_for_listing(collector: pytest.Module | pytest.Class, obj: object) -> None:
    """With --setup-plan, --setup-only or --fixtures-per-test (which list the tests, not the
    parent), an async test of a group is listed as the separate test, which in strict mode has
    an asyncio mark: pytest-asyncio then lists its event loop's runner for it. (In a run the
    parent has the mark: see _asyncio_mark.)"""
    if not any(collector.config.getoption(name) for name in _LISTING_OPTIONS):
        return
    if not inspect.iscoroutinefunction(obj) or collector.get_closest_marker("asyncio"):
        return
    if not any(mark.name == "asyncio" for mark in getattr(obj, "pytestmark", [])):
        pytest.mark.asyncio(obj)


def _not_collected(obj: object, collected: bool) -> str | None:
    """Why pytest does not collect the tests of ``obj`` (None: it does); ``collected``: pytest
    made a collector or item of it.

    pytest makes a collector of a class with a constructor, but warns and finds no tests in it
    (``Class.collect``), and skips an object whose ``__test__`` is false."""
    if not getattr(obj, "__test__", True):
        return "it sets __test__ = False"
    if isinstance(obj, type):
        for article, method in (("an", "__init__"), ("a", "__new__")):
            if getattr(obj, method, None) not in (None, getattr(object, method)):
                return f"it has {article} {method} constructor"
    if not collected:
        return "see the python_classes and python_functions ini options"
    return None


def _check_cases_options(name: str, obj: object, spec: GroupSpec | None) -> None:
    """A @concurrent_cases test in a group: its own options that the group cannot honour per
    test are a collection error rather than silently dropped."""
    __tracebackhide__ = True
    table = getattr(getattr(obj, "__func__", obj), CASES_ATTRIBUTE, None)
    if not isinstance(table, CaseTable) or table.error is not None:
        return
    group = "@concurrent_group" if spec is None else spec.describe()
    if table.shards is not None:
        msg = (
            f"In {name}: @concurrent_cases(shards={table.shards}) cannot be used in a "
            f"@concurrent_group: shards spread a test's cases over pytest-xdist workers, and a "
            f"group runs whole on one worker; remove shards (or take the test out of {group})"
        )
        pytest.fail(msg, pytrace=False)
    given = {"max_concurrency": table.max_concurrency, "fail_fast": table.fail_fast or None}
    for option, value in given.items():
        if value is not None:
            msg = (
                f"In {name}: @concurrent_cases({option}={value!r}) is not applied per test in a "
                f"@concurrent_group: the group's {option} acts on all its tests' cases together; "
                f"give it on the group ({group}, then with {option}={value!r}) or take the test "
                f"out of the group"
            )
            pytest.fail(msg, pytrace=False)


def _check_declaration(
    collector: pytest.Module | pytest.Class, name: str, obj: object, spec: GroupSpec
) -> None:
    __tracebackhide__ = True
    if spec.error is not None:
        pytest.fail(f"In {name}: {spec.error}", pytrace=False)
    refuse_without_asyncio(collector.config, name, "@concurrent_group", "tests")
    if isinstance(obj, type):
        return  # a class is a group of its own
    if class_spec(collector) is not None:
        msg = (
            f"In {name}: class {collector.name} already runs all its tests as one group "
            f"(@concurrent_group on it, or on a class it is nested in); remove "
            f"@concurrent_group from the method"
        )
        pytest.fail(msg, pytrace=False)
    given = collector.config.stash.setdefault(_options_key, {})
    options = given.setdefault((collector.nodeid, spec.name), {})
    for option, value in spec.options().items():
        if option in options and options[option][0] != value:
            first, by = options[option]
            msg = (
                f"In {name}: @concurrent_group({spec.name!r}) gives {option}={value!r}, but "
                f"{by} in the same group gives {option}={first!r}; give each option once, "
                f"or the same value everywhere"
            )
            pytest.fail(msg, pytrace=False)
        options.setdefault(option, (value, name))


def _check_loop_scope(config: pytest.Config, name: str, result: object) -> None:
    """The tests of a group run in one event loop: they must ask for the same loop scope, by
    their asyncio marks or by relying on pytest-asyncio's default alike."""
    __tracebackhide__ = True
    items = result if isinstance(result, list) else [result]
    scopes = config.stash.setdefault(_loop_scopes_key, {})
    for item in items:
        if not isinstance(item, pytest.Function) or not _runs_in_a_loop(item):
            continue  # a plain def test runs in a thread, not on the loop
        key = group_key(item)
        if key is None:
            continue
        scope, where = _loop_scope(item)
        first = scopes.setdefault(key, (scope, where, name))
        if first[0] != scope:
            msg = (
                f"In {name}: it runs on the {scope!r} event loop ({where}), but {first[2]} in "
                f"the same group runs on the {first[0]!r} loop ({first[1]}); the tests of a "
                f"group run in one event loop: give them the same loop scope, "
                f"e.g. @pytest.mark.asyncio(loop_scope={first[0]!r}) on {name}, or take one "
                f"out of the group"
            )
            pytest.fail(msg, pytrace=False)


def _runs_in_a_loop(item: pytest.Function) -> bool:
    table = getattr(item.obj, CASES_ATTRIBUTE, None)
    if isinstance(table, CaseTable):
        return table.is_async
    return inspect.iscoroutinefunction(item.function)


def _loop_scope(item: pytest.Function) -> tuple[str, str]:
    """The loop scope pytest-asyncio would run the test on, and where it comes from."""
    scope = test_loop_scope(item)
    mark = item.get_closest_marker("asyncio")
    if mark is not None and (mark.kwargs.get("loop_scope") or mark.kwargs.get("scope")):
        return scope, "its asyncio mark"
    return scope, "pytest-asyncio's default, asyncio_default_test_loop_scope"


@pytest.hookimpl(specname="pytest_pycollect_makeitem", tryfirst=True)
def pytest_pycollect_makeitem_group_parent(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> list[pytest.Function] | None:
    """Make a group's parent item (only ever asked for by pytest_collection_finish below)."""
    if getattr(obj, PARENT_ATTRIBUTE, None) is None:
        return None
    return [pytest.Function.from_parent(collector, name=name, callobj=obj)]


# --collect-only, --setup-only and --setup-plan (which sets setuponly), --fixtures-per-test.
_LISTING_OPTIONS = ("collectonly", "setuponly", "show_fixtures_per_test")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Replace the selected tests of each group by the group's parent, in place."""
    config = session.config
    if any(config.getoption(name) for name in _LISTING_OPTIONS):
        return  # they list (and set up) the tests themselves and run no test body
    groups: dict[tuple[str, str | None], list[pytest.Function]] = {}
    order: list[pytest.Item | tuple[str, str | None]] = []
    for item in session.items:
        key = group_key(item)
        if key is None:
            order.append(item)
            continue
        if key not in groups:
            groups[key] = []
            order.append(key)  # the parent runs where the group's first test would have
        groups[key].append(item)  # type: ignore[arg-type]
    if groups:
        session.items[:] = [
            entry if isinstance(entry, pytest.Item) else _make_parent(groups[entry], entry[1])
            for entry in order
        ]
        xdist = session.config.pluginmanager.get_plugin("asyncgroup-xdist")
        parents = session.config.stash.setdefault(group_parents_key, {})
        for item in session.items:
            group = item.stash.get(_group_stash, None)
            if group is None:
                continue
            if xdist is not None:
                xdist.name_parent(item, [member for member, *_ in group.members])
            parents.update((member.nodeid, item.nodeid) for member, *_ in group.members)


def class_spec(node: object) -> GroupSpec | None:
    """The group of a class (``node``) or of a class it is nested in, the nearest: a decorated
    class's nested classes are groups of their own, as a class mark reaches their tests."""
    while isinstance(node, pytest.Class):
        spec = spec_of(node.obj, own=False)
        if spec is not None:
            return spec
        node = node.parent
    return None


def group_key(item: pytest.Item) -> tuple[str, str | None] | None:
    if not isinstance(item, pytest.Function) or item.parent is None:
        return None
    spec = class_spec(item.parent)
    if spec is None:
        spec = spec_of(item.function)
    if spec is None or spec.error is not None:
        return None
    return item.parent.nodeid, spec.name


@dataclass
class _Group:
    """A group's parent: its tests, options and what their cases need."""

    title: str
    table: CaseTable
    members: list[tuple[pytest.Function, Member, dict[str, Any], CaseTable | None]] = field(
        default_factory=list
    )
    # Tests that cannot run in the group (by node id): the setup error each reports instead.
    refused: dict[str, str] = field(default_factory=dict)

    def cases(self, failed: dict[str, BaseException]) -> list[MemberCase]:
        """The cases to run now: one per test, or the selected cases of a @concurrent_cases test.
        ``failed``: the shared fixtures that failed to set up, each the setup error of its tests.
        """
        cases: list[MemberCase] = []
        for item, member, direct, table in self.members:
            # A case's marks are its test's own (with its parameter set's), then its
            # pytest.param marks, then those a hook added to the test; the runner adds those of
            # the class and module.
            before, after, _ = parent_marks(item)
            marks = (*before, *after)
            error = next((failed[name] for name in item.fixturenames if name in failed), None)
            if item.nodeid in self.refused:
                error = _refusal(self.refused[item.nodeid])
            if error is not None:  # its marks still act: a skip mark skips, an xfail xfails
                alone = dataclasses.replace(member, case_is_item=True)
                cases.append(MemberCase(len(cases), (), (), marks, item.name, alone, error))
                continue
            if table is None:
                cases.append(
                    MemberCase(
                        len(cases), tuple(direct), tuple(direct.values()), marks, item.name, member
                    )
                )
                continue
            if not table.cases:  # skipped under its own node id, as without the group
                alone = dataclasses.replace(member, case_is_item=True)
                skip = (table.empty_mark(item.config).mark,)
                cases.append(MemberCase(len(cases), (), (), skip, item.name, alone))
                continue
            for case in select(item, table.cases):
                values = {**direct, **case.values}
                own = (*before, *case.marks, *after)
                cases.append(
                    MemberCase(
                        len(cases), tuple(values), tuple(values.values()), own, case.id, member
                    )
                )
        return cases


def _same_param(a: object, b: object) -> bool:
    """Whether pytest's fixture cache would serve both parameters with one value (its cache
    key compares them with ==)."""
    try:
        return a is b or bool(a == b)
    except Exception:  # a parameter whose == raises: pytest compares it by identity
        return False


def _refusal(msg: str) -> BaseException:
    """A setup error with ``msg`` and no traceback, as ``pytest.fail(msg, pytrace=False)``."""
    try:
        pytest.fail(msg, pytrace=False)
    except pytest.fail.Exception as exc:
        return exc


def _make_parent(items: list[pytest.Function], name: str | None) -> pytest.Item:
    collector = items[0].parent
    assert isinstance(collector, (pytest.Module, pytest.Class))
    title = f"group {name!r}" if name is not None else f"class {collector.name}"
    options = _group_options(collector, name)
    group = _Group(
        title,
        CaseTable(
            func=items[0].function,
            timeout=options.get("timeout"),
            max_concurrency=options.get("max_concurrency"),
            fail_fast=bool(options.get("fail_fast", False)),
        ),
    )
    shared: dict[str, None] = {}  # fixtures of wider scope the tests need, in order
    # Parametrized ones among them: the tests that hold each, with their parameter.
    held: dict[str, list[tuple[pytest.Function, Any]]] = {}
    per_case: set[str] = set()
    for item in items:
        table = getattr(item.obj, CASES_ATTRIBUTE, None)
        table = table if isinstance(table, CaseTable) else None
        member, direct = _member(item, table)
        group.members.append((item, member, direct, table))
        group.table.is_async = group.table.is_async and member.is_async
        per_case |= member.plan.per_case
        defs = _compat.fixture_definitions(item)
        for fixture in item.fixturenames:
            fixturedefs = defs.get(fixture)
            if fixture == "request" or fixture in direct or not fixturedefs:
                continue
            if fixturedefs[-1].scope == "function" or fixture in member.plan.per_case:
                continue
            params = getattr(item, "callspec", _NO_CALLSPEC).params
            if fixture in params:  # set up with its test's parameter (see below)
                held.setdefault(fixture, []).append((item, params[fixture]))
                continue
            shared[fixture] = None
    # pytest holds one parameter of a parametrized fixture of wider scope at a time, and the
    # tests of a group run at once: those that agree on it (one value for all, as with the
    # "one backend from the command line" recipe) share it, set up with that parameter;
    # otherwise each is refused, as its setup error, and the other tests of the group run.
    via: dict[str, pytest.Function] = {}
    for fixture, holders in held.items():
        values = [value for _, value in holders]
        if all(_same_param(value, values[0]) for value in values):
            shared[fixture] = None
            via[fixture] = holders[0][0]
            continue
        scope = _compat.fixture_definitions(holders[0][0])[fixture][-1].scope
        shown = ", ".join(dict.fromkeys(f"{item.name} {value!r}" for item, value in holders))
        for item, _ in holders:
            msg = (
                f"In {item.name}: the {scope}-scoped fixture {fixture!r} is parametrized, and "
                f"the tests of this group hold different parameters of it ({shown}): pytest "
                "sets it up with one parameter at a time, and the tests of a @concurrent_group "
                f"run at the same time; put the tests of each parameter in a group of their "
                f"own, or take {item.originalname} out of the group"
            )
            group.refused.setdefault(item.nodeid, msg)
    function = _parent_function(group, items, isinstance(collector, pytest.Class))
    if isinstance(collector, pytest.Class):
        # As pytest does for a test method: bound to a fresh instance of the class.
        function = types.MethodType(function, collector.newinstance())  # type: ignore[no-untyped-call]
    parent_name = _compat.GROUP_PARENT_NAME + ("" if name is None else f"[{name}]")
    made = collector.ihook.pytest_pycollect_makeitem(
        collector=collector, name=parent_name, obj=function
    )
    (parent,) = made
    # Set up after the parent's own setup, not as its arguments (see _fixtures.defer_wider).
    _compat.hold_params(parent, via)  # the parametrized ones its tests agree on
    users = [[name for name in item.fixturenames if name in shared] for item in items]
    defer_wider(parent, list(shared), users)
    _compat.reparse_node_id(parent)
    parent.stash[_group_stash] = group
    plan = FixturePlan(parent, ())
    parent.stash[plan_key] = plan
    # Function-scoped fixtures (autouse ones included) are the cases' own, made per case.
    _compat.remove_from_parent_closure(parent, plan.per_case | per_case)
    return parent  # type: ignore[no-any-return]


def _group_options(collector: pytest.Module | pytest.Class, name: str | None) -> dict[str, Any]:
    spec = class_spec(collector)
    if spec is not None:  # the class form: the class's options
        return spec.options()
    given = collector.config.stash.get(_options_key, {}).get((collector.nodeid, name), {})
    return {option: value for option, (value, _) in given.items()}


def _member(item: pytest.Function, table: CaseTable | None) -> tuple[Member, dict[str, Any]]:
    """What the cases of one test run, and its parametrize values (its callspec's direct ones)."""
    defs = _compat.fixture_definitions(item)
    params = getattr(item, "callspec", _NO_CALLSPEC).params
    direct = {
        name: value
        for name, value in params.items()
        if name in defs and _compat.is_direct_param(defs[name][-1])
    }
    # Called as pytest calls it: a method bound to the test's instance (a classmethod to the
    # class), a staticmethod or other class attribute (a functools.partial) unbound.
    bound_args = (item.obj.__self__,) if inspect.ismethod(item.obj) else ()
    if table is not None:  # a @concurrent_cases test: its cases are the group's
        plan = item.stash[plan_key]
        member = Member(item, table.func, bound_args, table.parameters, table.is_async, plan)
        member.timeout = table.timeout  # its own timeout is its cases'
        return member, direct
    func = item.function
    is_async = inspect.iscoroutinefunction(func)
    # pytest's own argument names: for a class attribute that is no method (a
    # functools.partial), pytest drops the first parameter as ``self`` and passes it nothing.
    arguments = list(_compat.argument_names(item))
    member = Member(item, func, bound_args, arguments, is_async, FixturePlan(item, ()), True)
    return member, direct


def _parent_function(group: _Group, items: list[pytest.Function], in_class: bool) -> Any:
    async def concurrent_group(*args: Any, request: pytest.FixtureRequest, **kwargs: Any) -> None:
        __tracebackhide__ = True
        await _run(group, request, kwargs)

    # pytest passes the parent the shared fixtures; the positional-only parameter keeps pytest
    # from taking the first of them for ``self`` (pytest 8 does for a function in a class).
    kinds = inspect.Parameter
    parameters = [kinds("self", kinds.POSITIONAL_ONLY)] if in_class else []
    parameters.append(kinds("_", kinds.POSITIONAL_ONLY, default=None))
    parameters.append(kinds("request", kinds.KEYWORD_ONLY))
    concurrent_group.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    setattr(concurrent_group, PARENT_ATTRIBUTE, True)
    _compat.place_at(concurrent_group, items[0].function)
    concurrent_group.pytestmark = _asyncio_mark(items)  # type: ignore[attr-defined]
    return concurrent_group


def _asyncio_mark(items: list[pytest.Function]) -> list[pytest.Mark]:
    """The parent's asyncio mark for pytest-asyncio: the tests' own, or none where their class
    or module has one (its loop scope, say, is then the parent's), else a plain one."""
    # Their loop scopes agree (see _check_loop_scope).
    asyncio_marks = [m for item in items for m in item.own_markers if m.name == "asyncio"]
    if asyncio_marks:
        return asyncio_marks[:1]
    if items[0].parent.get_closest_marker("asyncio") is None:  # type: ignore[union-attr]
        return [pytest.mark.asyncio.mark]
    return []


def runs_no_test(item: pytest.Item) -> bool:
    """Whether ``item`` is a group's parent each of whose tests is skipped, or xfailed without
    running, by its marks: then none of them would be set up without the group, nor is the
    parent (as for a ``@concurrent_cases`` parent, see _runner.runs_no_case)."""
    group = item.stash.get(_group_stash, None)
    if group is None:
        return False
    settings = RunSettings.for_item(item, group.table)
    for case in group.cases({}):
        if not settings.skips(case, case.member.item if case.member is not None else None):
            return False
    return True


def report_tests_not_run(item: pytest.Function) -> None:
    """The call of a group's parent none of whose tests runs (see ``runs_no_test``): each
    test's report, in an event loop of its own for asyncgroup's reporting (pytest skipped the
    parent's setup, its loop's too)."""
    __tracebackhide__ = True
    loop = asyncio.new_event_loop()  # not made current: a wider-scoped loop may be
    try:
        loop.run_until_complete(
            _run(item.stash[_group_stash], _compat.top_request(item), {}, set_up=False)
        )
    finally:
        loop.close()


async def _run(
    group: _Group,
    request: pytest.FixtureRequest,
    parent_values: dict[str, Any],
    set_up: bool = True,
) -> None:
    """The body of a group's parent: run its tests' cases, fail if any failed. ``set_up``:
    False for a parent none of whose tests runs (see ``runs_no_test``)."""
    __tracebackhide__ = True
    # The runner imports pytest plugins: load it lazily.
    from asyncgroup._runner import ParentRun, cases_failed, last_case_key

    settings = RunSettings.for_item(request.node, group.table)
    values, failed = wider_results(request.node)
    parent_values.update(values)
    cases = group.cases(failed)
    request.node.stash[last_case_key] = cases[-1] if cases else None  # see _plugin
    _compat.leave_xfail_to_cases(request.node)  # the class's or module's xfail acts per test
    run = ParentRun(group.table, request, settings, (), parent_values, set_up=set_up)
    await run.run(list(cases))
    if run.failed:
        msg = cases_failed(run, len(cases), f"tests of {group.title}")
        failure = pytest.fail.Exception(msg, pytrace=False)
        setattr(failure, CASES_FAILED_ATTRIBUTE, True)  # see _plugin.pytest_runtest_makereport
        raise failure
