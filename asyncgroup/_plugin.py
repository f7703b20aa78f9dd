"""The pytest plugin: options, and the collection-time glue for ``@concurrent_cases`` parents.

The parent stays an ordinary ``pytest.Function``: nothing here replaces pytest's collection or
test loop. At collection the plugin adds the asyncio mark, reports misuse of the decorator,
names the cases, and takes per-case fixtures out of the parent's closure.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Generator, Sequence
from typing import Any

import pytest

from asyncgroup import _casereports, _compat, _grouping, _hooks, _integrations
from asyncgroup._case_filterwarnings import check_case_filters
from asyncgroup._declare import CASES_ATTRIBUTE, SHARD_ARGUMENT, CaseTable
from asyncgroup._fixtures import FixturePlan, defer_wider, set_up_wider, wider_fixtures
from asyncgroup._gcpause import gc_paused
from asyncgroup._interrupt import finish_interrupted
from asyncgroup._loopscope import test_loop_scope
from asyncgroup._outcome import (
    CASE_ID_ATTRIBUTE,
    CASE_NODEID_ATTRIBUTE,
    CASES_FAILED_ATTRIBUTE,
    MOVED_FROM_PARENT_ATTRIBUTE,
    SUMS_UP_CASES_ATTRIBUTE,
    CaseReporter,
    CaseSlot,
    case_slot_key,
    case_status,
)
from asyncgroup._progress import remember_terminal
from asyncgroup._refuse import refuse_patch_above, refuse_unittest, refuse_without_asyncio
from asyncgroup._runner import (
    held_teardown_key,
    last_case_key,
    last_sections_key,
    report_cases_not_run,
    runs_no_case,
)
from asyncgroup._select import (
    LastFailed,
    Selection,
    Stepwise,
    case_position_key,
    count_deselected_parents,
    definition_nodeid,
    deselected_cases_key,
    keep_made_marks,
    lists_cases_as_tests,
    only_last_failed,
    return_lent_marks,
    select,
)
from asyncgroup._settings import (
    blocked_loop_threshold,
    default_max_concurrency,
    default_timeout,
    plan_key,
)
from asyncgroup._threads import DEFAULT_THREADS

if sys.version_info < (3, 11):  # pragma: no cover - Python 3.10: pytest's own dependency
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found, unused-ignore]

# pytest >= 8.4 knows number-typed ini options (its --help then says "(float)", and it converts
# the value); before, they are strings and asyncgroup converts them.
_NUMBER_TYPES = pytest.version_tuple >= (8, 4)
_FLOAT: Any = "float" if _NUMBER_TYPES else "string"
_INT: Any = "int" if _NUMBER_TYPES else "string"
if pytest.version_tuple >= (9, 2):
    # A number, or a string holding one (a quoted "0.5" in pytest 9's native [tool.pytest]
    # TOML table), as pytest's own faulthandler_timeout (float | str): from an ini file, the
    # value is converted to the number where it is one (pytest >= 9.2 takes such unions).
    _FLOAT, _INT = float | str, int | str


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("asyncgroup", "asyncgroup: concurrent cases")
    group.addoption(
        "--asyncgroup-timeout",
        dest="asyncgroup_timeout",
        default=None,
        metavar="SECONDS",
        help="Default timeout of each @concurrent_cases case, in seconds; 0 or none: no "
        "timeout, which lifts the ini file's for this run (default: the ini option, else none).",
    )
    group.addoption(
        "--asyncgroup-max-concurrency",
        dest="asyncgroup_max_concurrency",
        default=None,
        metavar="N",
        help="Default limit on cases of one test in flight at once (default: the ini option, "
        f"else no limit for async tests, {DEFAULT_THREADS} for plain def tests).",
    )
    parser.addini(
        "asyncgroup_timeout",
        "Default timeout of each @concurrent_cases case, in seconds; 0: no timeout "
        "(default: none).",
        type=_FLOAT,
        default=None if _NUMBER_TYPES else "",
    )
    parser.addini(
        "asyncgroup_blocked_loop_threshold",
        "Warn on a case that blocks the event loop for longer than this many seconds; 0 turns "
        "the watchdog off (default: 0.5).",
        type=_FLOAT,
        default=0.5 if _NUMBER_TYPES else "0.5",
    )
    parser.addini(
        "asyncgroup_max_concurrency",
        "Default limit on cases of one test in flight at once (default: no limit for async "
        f"tests, {DEFAULT_THREADS} for plain def tests, which each take a thread).",
        type=_INT,
        default=None if _NUMBER_TYPES else "",
    )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(_hooks)


def pytest_configure(config: pytest.Config) -> None:
    remember_terminal(config)
    if getattr(config, "cache", None) is not None:
        config.pluginmanager.register(LastFailed(config, _case_slot), "asyncgroup-lastfailed")
        stepwise = ("stepwise", "stepwise_skip", "stepwise_reset")  # pytest implies the first
        if any(config.getoption(name, False) for name in stepwise):
            config.pluginmanager.register(Stepwise(config), "asyncgroup-stepwise")
    config.pluginmanager.register(_grouping, "asyncgroup-groups")
    config.pluginmanager.register(_casereports, "asyncgroup-case-reports")
    _integrations.register(config)
    # Bad defaults are a usage error of the whole run, named with where they came from.
    try:
        default_timeout(config)
        default_max_concurrency(config)
        blocked_loop_threshold(config)
    except ValueError as exc:
        raise pytest.UsageError(f"asyncgroup: {exc}") from None


def _table(obj: object) -> CaseTable | None:
    table = getattr(obj, CASES_ATTRIBUTE, None)
    return table if isinstance(table, CaseTable) else None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    """Mark parents for pytest-asyncio unless the user's own asyncio mark applies; note the
    marks each parent was made with (see _select.parent_marks).

    Misuse pytest would only meet at run time, with a message about something else, is a
    collection error here: a parent in a unittest class, or no pytest-asyncio to run it.
    """
    __tracebackhide__ = True
    # A staticmethod or classmethod: pytest collects the function in it, and reads its marks.
    func = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
    table = _table(func)
    if isinstance(obj, type):
        refuse_unittest(obj)
    if table is not None:
        refuse_without_asyncio(collector.config, name, "@concurrent_cases", "cases")
        refuse_patch_above(name, func, table)
    if table is not None and table.error is None and lists_cases_as_tests(collector.config):
        # The test pytest sees is the one the cases stand for: its own arguments (the cases'
        # among them, which pytest_generate_tests parametrizes) and, async, its asyncio mark.
        # Sharded, it is parametrized over the shard too, as in a run, so its ids have the shard.
        signature = inspect.signature(table.func)
        if table.shards is not None:
            shard = inspect.Parameter(SHARD_ARGUMENT, inspect.Parameter.KEYWORD_ONLY)
            signature = signature.replace(parameters=[*signature.parameters.values(), shard])
        func.__signature__ = signature  # type: ignore[attr-defined]
        if not table.is_async:
            return _in_own_shard(table, (yield))
    if table is not None and table.error is None:
        own_marks = [*getattr(obj, "pytestmark", []), *getattr(func, "pytestmark", [])]
        has_mark = any(m.name == "asyncio" for m in own_marks) or any(
            True for _ in collector.iter_markers("asyncio")
        )
        if not has_mark:
            added = pytest.mark.asyncio
            added(func)
            if not table.is_async:
                table.asyncio_mark = added.mark
    if table is not None and table.error is None and lists_cases_as_tests(collector.config):
        return _in_own_shard(table, (yield))
    if table is None:
        return (yield)
    items = yield
    keep_made_marks(items)  # as made: a case's own marks go before those a hook adds later
    return items


def _in_own_shard(table: CaseTable, items: Any) -> Any:
    """Of a sharded test's items listed as its parametrized test (every shard with every case),
    those a run has: each case in its own shard (every K-th case), in the run's order."""
    if table.shards is None or not table.cases or not isinstance(items, list) or not items:
        return items
    first = items[0]
    position = first.config.stash.get(case_position_key, {}).get(definition_nodeid(first))
    if position is None:
        return items
    shards = [{case.id for case in table.cases[k :: table.shards]} for k in range(table.shards)]
    return [
        item
        for item in items
        if _compat.callspec_ids(item)[position] in shards[item.callspec.params[SHARD_ARGUMENT]]
    ]


# Per run: for each @concurrent_cases test definition (by node id), the parametrize calls
# pytest made for it (see _compat.record_parametrize_calls).
_calls_key = pytest.StashKey[dict[str, list[tuple[Any, int, int]]]]()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Report misuse of @concurrent_cases as this test's collection error."""
    table = _table(metafunc.function)
    if table is None:
        return
    if table.error is not None:
        pytest.fail(f"In {metafunc.function.__name__}: {table.error}", pytrace=False)
    # pytest's parametrize marks come next (its python plugin's hook runs after this one): note
    # where their ids go, to place the cases' ids among them (see _case_slot).
    calls = _compat.record_parametrize_calls(metafunc)
    metafunc.config.stash.setdefault(_calls_key, {})[metafunc.definition.nodeid] = calls
    _refuse_parametrize_of_case_arguments(metafunc, table)
    if not table.ids_made:
        ids = table.ids
        idfn = ids if callable(ids) else None
        with gc_paused():
            made = _compat.make_ids(
                table.argnames,
                table.parametersets,
                idfn,
                None if callable(ids) else ids,
                metafunc.config,
                metafunc.definition.nodeid,
            )
        for case, case_id in zip(table.cases, made, strict=True):
            case.id = case_id
        table.ids_made = True
        table.parametersets = []  # only needed for the ids
    _refuse_case_loop_scopes(metafunc, table)
    if lists_cases_as_tests(metafunc.config) or not table.cases:
        # Each case is listed (and its fixtures set up) by pytest as its parametrized test: a
        # parametrize mark in the decorator's place among the test's own marks (after those
        # under it, which the function had), which pytest's own hook applies in their order.
        # Without cases, pytest makes the empty parameter set's test (``test_a[NOTSET]``),
        # with the mark or collection error its empty_parameter_set_mark option says.
        cases = [pytest.param(*case.args, marks=case.marks, id=case.id) for case in table.cases]
        below = len(getattr(table.func, "pytestmark", []))
        own = metafunc.definition.own_markers
        at = min(below, len(own))
        own.insert(at, pytest.mark.parametrize(table.argnames, cases).mark)
        if table.shards is not None and table.cases:
            # pytest applies the marks in this order, after the shard's parametrize below.
            position = 1 + sum(m.name == "parametrize" for m in own[:at])
            positions = metafunc.config.stash.setdefault(case_position_key, {})
            positions[metafunc.definition.nodeid] = position
    if table.shards is not None and table.cases:
        # Listed as its parametrized test too: the run's ids start with the shard.
        count = table.shards
        metafunc.parametrize(
            SHARD_ARGUMENT, range(count), ids=[f"shard{i + 1}of{count}" for i in range(count)]
        )


def _case_slot(item: pytest.Function, table: CaseTable) -> CaseSlot | None:
    """Where the cases' ids go among the parent's: where the ids of a parametrize mark in the
    place of @concurrent_cases would go. pytest parametrizes by the marks closest to the
    function first: after those below the decorator, or before the first of those above it
    (and of the class and module); without parametrize marks, after every other id."""
    definition = item.nodeid[: len(item.nodeid) - len(item.name)] + item.originalname
    calls = item.config.stash.get(_calls_key, {}).get(definition)
    ids = _compat.callspec_ids(item)
    if not calls or not ids:
        return None
    below = [m for m in getattr(table.func, "pytestmark", []) if m.name == "parametrize"]
    by_marks = [(mark, before, after) for mark, before, after in calls if mark is not None]
    after_below = [after for mark, _, after in by_marks if any(mark is m for m in below)]
    if after_below:
        index = after_below[-1]
    elif by_marks:
        index = by_marks[0][1]
    else:
        return None
    return (ids, index) if index < len(ids) else None


def _refuse_case_loop_scopes(metafunc: pytest.Metafunc, table: CaseTable) -> None:
    """A case marked to run on another event loop than its parent's: every case runs in its
    parent's loop, so say so rather than ignore the mark."""
    __tracebackhide__ = True
    scope = test_loop_scope(metafunc.definition)
    for case in table.cases:
        for mark in case.marks:
            wanted = mark.kwargs.get("loop_scope") or mark.kwargs.get("scope")
            if mark.name == "asyncio" and wanted and wanted != scope:
                msg = (
                    f"In {metafunc.function.__name__}: case {case.id!r} is marked "
                    f'@pytest.mark.asyncio(loop_scope="{wanted}"), but every case runs in its '
                    f"parent test's event loop, here the {scope!r} one: put "
                    f'@pytest.mark.asyncio(loop_scope="{wanted}") on the test for all its '
                    f"cases, or make this case a test of its own"
                )
                pytest.fail(msg, pytrace=False)


def _refuse_parametrize_of_case_arguments(metafunc: pytest.Metafunc, table: CaseTable) -> None:
    """A parametrize mark naming a case argument: say which decorator holds it, and the fix,
    instead of pytest's "function uses no argument" about a parameter the function has."""
    __tracebackhide__ = True
    for mark in metafunc.definition.iter_markers("parametrize"):
        argnames = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(argnames, str):
            argnames = [name.strip() for name in argnames.split(",")]
        marked = [name for name in argnames if isinstance(name, str)]
        taken = [name for name in marked if name in table.argnames]
        if not taken:
            continue
        name = taken[0]
        # As pytest names the test in its own parametrize errors (pytest 9: by node id).
        test = (
            metafunc.definition.nodeid
            if pytest.version_tuple >= (9,)
            else metafunc.function.__name__
        )
        if table.short_form:
            others = [p for p in table.parameters if p not in marked]
            suggested = others[0] if others else "<argument>"
            msg = (
                f"In {test}: @pytest.mark.parametrize and @concurrent_cases both give values "
                f"to {name!r}: @concurrent_cases with only the case values gives them to the "
                f"function's first parameter, {name!r}. Name the cases' argument: "
                f'@concurrent_cases("{suggested}", [...])'
            )
        else:
            msg = (
                f"In {test}: @pytest.mark.parametrize and @concurrent_cases both give values "
                f"to {name!r}: give each argument its values in one of them"
            )
        pytest.fail(msg, pytrace=False)


def pytest_itemcollected(item: pytest.Item) -> None:
    table = _table(getattr(item, "obj", None))
    if table is None or not isinstance(item, pytest.Function) or lists_cases_as_tests(item.config):
        return
    slot = _case_slot(item, table)
    if slot is not None:
        item.stash[case_slot_key] = slot
    plan = FixturePlan(item, table.argnames)
    item.stash[plan_key] = plan
    empty = _empty_mark(item, table)
    if empty is not None:
        item.add_marker(empty)
    # A fixture may request a case argument, as it may a parametrize argname: the parent has
    # none, and a fixture of that name is shadowed by the case value. A name no fixture
    # defines is each case's setup error, not one error of the parent (see FixturePlan.unknown).
    _compat.remove_from_parent_closure(item, plan.per_case | set(table.argnames) | plan.unknown)
    defer_wider(item, wider_fixtures(item, plan.per_case))


def _empty_mark(item: pytest.Function, table: CaseTable) -> pytest.MarkDecorator | None:
    """For a shard without cases, the mark pytest's skipping plugin acts on at its setup, as
    on a parametrized test with an empty parameter set: its report then names the test's line
    (a skip raised in the parent's call would name asyncio's). A parent without any case has
    pytest's own mark for its empty parameter set (see pytest_generate_tests)."""
    if not table.cases:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    shard = params.get(SHARD_ARGUMENT)
    if shard is not None and not table.cases[shard :: table.shards]:
        return pytest.mark.skip(reason=f"shard {shard + 1} of {table.shards} has no cases")
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """A case's malformed filterwarnings mark stops the session before its parent runs, with
    pytest's usage error, as pytest's warnings plugin stops it before the parametrized test
    runs (its parent failed for it, exit code 1, where pytest exits with 4)."""
    table = _table(getattr(item, "obj", None))
    if table is not None and item.config.pluginmanager.has_plugin("warnings"):
        marked = [c for c in table.cases if any(m.name == "filterwarnings" for m in c.marks)]
        if marked:
            check_case_filters(select(item, marked))
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """A parent's fixtures of wider scope, after its own setup (see _fixtures.defer_wider).
    A skip mark on a parent skips each of its cases, not the parent as a whole; a parent none
    of whose cases runs is not set up at all (see _runner.runs_no_case)."""
    __tracebackhide__ = True
    table = _table(getattr(item, "obj", None))
    if item.stash.get(plan_key, None) is None:
        yield
    elif (
        isinstance(item, pytest.Function)
        and table is not None
        and (not table.cases or _empty_mark(item, table))
    ):
        yield  # pytest skips it, or xfails it without running it, by its mark
    elif isinstance(item, pytest.Function) and table is not None and runs_no_case(item, table):
        # Every case is skipped by its marks: as for their parametrized tests, nothing is set
        # up, no fixture (wider-scoped, autouse, the event loop's) and no loop for the test.
        with _compat.skip_marks_left_to_cases(item), _compat.no_fixtures_set_up(item):
            yield
        item.runtest = functools.partial(report_cases_not_run, item, table)  # type: ignore[method-assign]
        return
    elif isinstance(item, pytest.Function) and _grouping.runs_no_test(item):
        # The same for a group's parent whose every test is skipped by its marks.
        with _compat.skip_marks_left_to_cases(item), _compat.no_fixtures_set_up(item):
            yield
        item.runtest = functools.partial(_grouping.report_tests_not_run, item)  # type: ignore[method-assign]
        return
    else:
        with _compat.skip_marks_left_to_cases(item):
            yield
    if "runtest" in item.__dict__:  # set up this time (a rerun of the parent, say)
        del item.runtest
    set_up_wider(item, item.stash.get(plan_key, None))


_arguments_key = pytest.StashKey[_compat.Arguments]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection(session: pytest.Session) -> Generator[None, Any, Any]:
    """Let a case's node id on the command line select it (see _select.Selection)."""
    with _compat.bracketed_arguments_as_tests(session.config) as arguments:
        session.config.stash[_arguments_key] = arguments
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, None, None]:
    """Select cases before pytest's -k and -m look at the parents; then take back what was
    lent to or hidden from them (see _select.Selection). (pytest registers only hooks named
    pytest_*: a separate trylast function for this was never called.)"""
    arguments = config.stash.get(_arguments_key, None) or _compat.Arguments()
    tables = _table if not lists_cases_as_tests(config) else lambda obj: None
    Selection(config, arguments).apply(items, tables, _grouping.group_key)
    only_last_failed(config, items)
    try:
        return (yield)
    finally:
        return_lent_marks(config, items)


def pytest_deselected(items: Sequence[pytest.Item]) -> None:
    count_deselected_parents(items)


@pytest.hookimpl(trylast=True)  # after the terminal reporter's "collected N items" line
def pytest_collection_finish(session: pytest.Session) -> None:
    """The summary line counts the cases -k, -m, --deselect, --lf and --sw left out, as
    deselected parametrized tests (not with --collect-only, whose counts are the collected
    line's)."""
    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    left_out = session.config.stash.get(deselected_cases_key, [])
    if terminal is not None and not session.config.option.collectonly:
        _compat.count_deselected(terminal, left_out)


@pytest.hookimpl(wrapper=True)
def pytest_report_from_serializable(
    config: pytest.Config, data: dict[str, Any]
) -> Generator[None, Any, Any]:
    """On the xdist controller: give a case report back its own node id and class."""
    report = yield
    case_nodeid = getattr(report, CASE_NODEID_ATTRIBUTE, None)
    if isinstance(case_nodeid, str):
        report.nodeid = case_nodeid
    if hasattr(report, CASE_ID_ATTRIBUTE) and report.when == "call":
        report.__class__ = _compat.CaseReport  # the subtests plugin made it a plain subtest's
    if getattr(report, SUMS_UP_CASES_ATTRIBUTE, False):
        _compat.leave_out_of_counts(report)
    return report


_in_summary = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
    """A parent that Ctrl-C interrupted out of its event loop reports its cases before the
    KeyboardInterrupt goes on (see _interrupt.finish_interrupted)."""
    try:
        return (yield)
    except KeyboardInterrupt as exc:
        interrupted = exc
    # Not in the except block: the cases' errors raised meanwhile would have it as context.
    finish_interrupted(pyfuncitem)
    raise interrupted


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """The parent's outcome that sums up its cases' is no outcome of its own code.

    Each case was reported (and, with --pdb, debugged) on its own and is counted as its
    parametrized test: the parent's passing, or its failure that sums up its failed cases, is
    not counted in the summary line. The summing-up failure points at the test, not inside
    asyncio where the parent's coroutine ended, opens no second debugger prompt, and is not
    one more failure for -x and --maxfail. A parent failing for its own reasons (a refusal, a
    fixture of its own) is counted, as a test failing there is.
    """
    report = yield
    if report.when == "teardown":
        _teardown_of_last_case(item, report, call)
    error = call.excinfo.value if call.excinfo is not None else None
    sums_up = getattr(error, CASES_FAILED_ATTRIBUTE, False)
    if call.when == "call" and (report.passed or sums_up) and plan_key in item.stash:
        setattr(report, SUMS_UP_CASES_ATTRIBUTE, True)
        _compat.leave_out_of_counts(report)
    if sums_up:
        path, line, _ = item.reportinfo()
        _compat.point_crash_at(report, os.fspath(path), (line or 0) + 1)
        # The session counts every failed report it is given, this one next; each failed case
        # was counted already. So "stopping after N failures" counts the failed tests, as
        # with parametrize, and --maxfail=2 is not reached by one failed case and its parent.
        item.session.testsfailed -= 1
        # Nor is it one for --sw: with --sw-skip the failed case was passed over, and the run
        # goes on, unless a case is left that is not known to pass (cancelled by fail_fast):
        # then --sw stops, to go on from that case next time (see _select.Stepwise).
        stepwise = item.config.pluginmanager.get_plugin("asyncgroup-stepwise")
        stops = stepwise is not None and stepwise.stops_at(item)
        if not item.session.shouldstop and not stops:
            _compat.stepwise_passes_over_next_failure(item.config)
        if item.config.getoption("usepdb", False):
            call.excinfo = None  # pytest opens the debugger only for a call with an exception
    return report


def _teardown_of_last_case(
    item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None]
) -> None:
    """The parent's teardown is its last case's: a fixture of wider scope that fails to tear
    down (a module's, when the module's last test is the parent) is that case's error, as
    pytest files it on the last parametrized test ("ERROR at teardown of test_x[c]")."""
    last = item.stash.get(last_case_key, None)
    if last is None or not isinstance(item, pytest.Function):
        return
    # The case's own teardown report, and its error.
    held, held_error = item.stash.get(held_teardown_key, None) or (None, None)
    item.stash[held_teardown_key] = item.stash[last_case_key] = None  # used once, by this run
    terminal = item.config.pluginmanager.get_plugin("terminalreporter")
    if report.passed:
        if held is not None:
            item.ihook.pytest_runtest_logreport(report=held)
            if terminal is not None:
                _compat.forget_progress(terminal, held)
        return
    if terminal is not None:
        # The parent's own reports counted in the [ NN%] progress: the case's counts instead.
        _compat.forget_progress(terminal, report)
    # The same on the xdist controller, where this report arrives (see _CaseProgress).
    setattr(report, MOVED_FROM_PARENT_ATTRIBUTE, item.nodeid)
    member = getattr(last, "member", None)  # a test of a group: it reports under its own id
    if member is not None and member.item is not None:
        reporter = CaseReporter(
            member.item, False, None, running=item, case_is_item=member.case_is_item
        )
    else:
        reporter = CaseReporter(item, False, None)
    reporter.file_under_case(report, last)
    if held_error is not None and call.excinfo is not None and report.failed:
        # Both failed: one error, as pytest raises it when several teardowns fail (the
        # wider fixture's first, SetupState.teardown_exact), from pytest's teardown (its
        # traceback is the wider fixture's error's: pytest 8 shows a group's frames).
        errors = [call.excinfo.value, held_error]
        group = BaseExceptionGroup("errors during test teardown", errors)
        report.longrepr = reporter.teardown_longrepr(group.with_traceback(call.excinfo.tb))
    # One teardown report for the case, as its parametrized test's: its own output (of every
    # phase), then the parent's teardown's (its wider fixtures' finalizers). The parent's setup
    # output is not the case's: that test's own setup would not have set those fixtures up.
    teardown = [section for section in report.sections if section[0].endswith(" teardown")]
    sections: list[tuple[str, str]] = []
    for title, text in [*item.stash.get(last_sections_key, []), *teardown]:
        if sections and title.endswith(" teardown") and sections[-1][0] == title:
            # pytest captures the test's teardown as one phase: one section per stream.
            sections[-1] = (title, sections[-1][1] + text)
        else:
            sections.append((title, text))
    report.sections[:] = sections
    item.stash[last_sections_key] = []


@pytest.hookimpl(wrapper=True)
def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> Generator[None, Any, Any]:
    """A case is counted, and named in the short summary, as its parametrized test."""
    status = yield
    if report.when != "call" or not hasattr(report, CASE_ID_ATTRIBUTE):
        return status
    return case_status(report, status, config.stash.get(_in_summary, False))


@pytest.hookimpl(tryfirst=True)
def pytest_terminal_summary(config: pytest.Config) -> None:
    # The terminal reporter writes the short summary (-r) after this hook; plugins write theirs
    # (pytest-rerunfailures' reruns) in it.
    config.stash[_in_summary] = True


@pytest.hookimpl(wrapper=True, tryfirst=True, specname="pytest_terminal_summary")
def pytest_terminal_summary_passed_cases(terminalreporter: Any) -> Generator[None, Any, Any]:
    """``-rP`` shows a passed case's output, ``-rp`` its PASSED line, as a parametrized test's."""
    with _compat.passed_cases_listed(
        terminalreporter, lambda report: hasattr(report, CASE_ID_ATTRIBUTE)
    ):
        return (yield)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # On the xdist controller case reports arrive through the hook, from the workers; without
    # xdist the runner does this itself, sparing every report a hook wrapper.
    if session.config.pluginmanager.has_plugin("dsession"):
        session.config.pluginmanager.register(_CaseProgress(session.config))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # Before pytest's terminal summary: with thousands of case reports, its look-up of each
    # failure's teardown report is quadratic (see _compat).
    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        _compat.index_teardown_reports(terminal)


class _CaseProgress:
    """Keeps case reports out of the ``[ NN%]`` progress count: a case is not a collected item."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Generator[None, None, None]:
        terminal = self._config.pluginmanager.get_plugin("terminalreporter")
        parent = getattr(report, MOVED_FROM_PARENT_ATTRIBUTE, None)
        if isinstance(parent, str) and terminal is not None:
            # The parent's teardown filed under its last case, after the parent's call report
            # counted: the case takes the parent's place ([100%], not [200%]), as without xdist.
            _compat.forget_progress_of(terminal, parent)
            yield
            return
        yield
        if hasattr(report, CASE_ID_ATTRIBUTE) and terminal is not None:
            _compat.forget_progress(terminal, report)
