"""Every use of pytest's private internals, in one place.

asyncgroup uses public pytest API everywhere else. Each use below says which versions it was
checked on; the end-to-end tests of the features that use them run on the pytest 8 and pytest 9
legs of CI (noxfile.py).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import os
import re
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest

PYTEST_MAJOR = int(pytest.__version__.split(".")[0])

if PYTEST_MAJOR >= 9:
    # pytest >= 9.0: subtests are built in (checked on 9.0.3 and 9.2.0).
    from _pytest.subtests import SubtestContext as _SubtestContext
    from _pytest.subtests import SubtestReport as _SubtestReport

    def subtest_context(msg: str | None, kwargs: dict[str, Any]) -> Any:
        return _SubtestContext(msg=msg, kwargs=kwargs)

    # pytest 9 fails a test that passed when one of its subtests failed; pytest-subtests does not.
    FAILED_SUBTEST_FAILS_TEST = True
else:  # pragma: no cover - exercised on the pytest 8 leg of CI
    # pytest 8 has no subtests: pytest-subtests >= 0.14 provides them (checked on 0.14.2, 0.15.0).
    try:
        from pytest_subtests.plugin import (  # type: ignore[import-not-found, no-redef]
            SubTestContext as _SubtestContext,
        )
        from pytest_subtests.plugin import (  # type: ignore[import-not-found, no-redef]
            SubTestReport as _SubtestReport,
        )
    except ImportError as exc:
        msg = (
            "asyncgroup needs subtests: on pytest 8 install pytest-subtests>=0.14 "
            "(pip install 'asyncgroup[pytest8]'), or upgrade to pytest 9"
        )
        raise ImportError(msg) from exc

    def subtest_context(msg: str | None, kwargs: dict[str, Any]) -> Any:
        return _SubtestContext(msg=msg, kwargs=kwargs)

    FAILED_SUBTEST_FAILS_TEST = False


class CaseReport(_SubtestReport):  # type: ignore[misc, valid-type]
    """A case's report: a subtest report the subtests plugin shows and serialises, whose failure
    is headed by the case's name (its location's domain, ``test_x[7]``), as its parametrized
    test's is, rather than ``test_x [7]``."""

    @property
    def head_line(self) -> str:
        return str(self.location[2])


def added_report_sections(item: pytest.Item) -> list[tuple[str, str, str]]:
    """What ``item.add_report_section(when, key, content)`` added: (when, key, content).

    pytest 8.0-9.2 keeps them in ``Item._report_sections``, which
    ``TestReport.from_item_and_call`` turns into "Captured <key> <when>" sections.
    """
    return list(getattr(item, "_report_sections", ()))


def subtest_report(msg: str, *fields: Any, case: bool = True) -> pytest.TestReport:
    """A subtest report: a case's (CaseReport), or a nested subtest's (``case=False``).

    ``fields`` are TestReport's positional arguments. Built directly rather than through
    ``pytest_runtest_makereport`` because that hook reads the parent item's own sections and
    xfail state, which are not the case's.
    """
    report = (CaseReport if case else _SubtestReport)(*fields)
    report.context = subtest_context(msg, {})
    return report


# pytest 8.0-9.2: IdMaker, a frozen dataclass, makes parametrize's ids (value-derived ids, ids=,
# the pytest_make_parametrize_id hook, duplicate suffixes).
from _pytest.python import IdMaker as _IdMaker  # noqa: E402


def make_ids(
    argnames: Sequence[str],
    parametersets: Sequence[Any],
    idfn: Callable[[Any], object | None] | None,
    ids: Sequence[object | None] | None,
    config: pytest.Config,
    nodeid: str,
) -> list[str]:
    values = {
        "argnames": argnames,
        "parametersets": parametersets,
        "idfn": idfn,
        "ids": ids,
        "config": config,
        "nodeid": nodeid,
        "func_name": nodeid.rpartition("::")[2],
    }
    # pytest 8 has a func_name field that pytest 9 dropped.
    fields = {field.name for field in dataclasses.fields(_IdMaker)}
    maker = _IdMaker(**{name: value for name, value in values.items() if name in fields})  # type: ignore[arg-type]
    # pytest >= 8.4 may return HIDDEN_PARAM for pytest.HIDDEN_PARAM ids; a case needs a name.
    return [
        value if isinstance(value, str) else f"case{index}"
        for index, value in enumerate(maker.make_unique_parameterset_ids())
    ]


def record_parametrize_calls(metafunc: pytest.Metafunc) -> list[tuple[Any, int, int]]:
    """From now on, note each ``metafunc.parametrize`` call: the parametrize mark it is made
    for (None: a fixture's params, a hook's call), and how many ids the test's id has before
    and after it.

    pytest 8.0-9.2: ``_pytest/python.py``'s ``pytest_generate_tests`` calls
    ``metafunc.parametrize(..., _param_mark=mark)`` for each parametrize mark, closest to the
    function first; each call adds one id (none for a ``pytest.HIDDEN_PARAM`` one) to every
    ``CallSpec2._idlist`` in ``metafunc._calls``, which joined with "-" is the test's id.
    """
    calls: list[tuple[Any, int, int]] = []
    parametrize = metafunc.parametrize

    def ids_now() -> int:
        return len(metafunc._calls[0]._idlist) if metafunc._calls else 0

    def noting(*args: Any, **kwargs: Any) -> None:
        before = ids_now()
        parametrize(*args, **kwargs)
        calls.append((kwargs.get("_param_mark"), before, ids_now()))

    metafunc.parametrize = noting  # type: ignore[method-assign]
    return calls


def callspec_ids(item: pytest.Item) -> tuple[str, ...]:
    """The ids the item's id is made of, in order (pytest 8.0-9.2: ``CallSpec2._idlist``)."""
    callspec = getattr(item, "callspec", None)
    return tuple(callspec._idlist) if callspec is not None else ()


# pytest 8.0-9.2: a direct-parametrization argument is a pseudo FixtureDef whose func is this.
from _pytest.python import get_direct_param_fixture_func as _direct_param_func  # noqa: E402


def is_direct_param(fixturedef: Any) -> bool:
    return fixturedef.func is _direct_param_func


from _pytest._code import getfslineno as _getfslineno  # noqa: E402
from _pytest.pathlib import bestrelpath as _bestrelpath  # noqa: E402


def scope_mismatch(
    item: pytest.Function, fixturedef: Any, argname: str, requested: Any = None
) -> str:
    """pytest's ScopeMismatch message for the wider-scoped ``fixturedef`` that requests
    ``argname``, a parametrize argname of the test (function-scoped), or the function-scoped
    fixture ``requested`` (its FixtureDef) of that name: as pytest words it in
    ``FixtureRequest._check_scope``, its lines as ``SubRequest._format_fixturedef_line`` makes
    them, with ``getfslineno`` and ``bestrelpath`` (pytest 8.0-9.2)."""

    def line(fixturedef: Any) -> str:  # as _format_fixturedef_line (of a SubRequest)
        factory = fixturedef.func
        path, lineno = _getfslineno(factory)
        if isinstance(path, Path):
            path = _bestrelpath(item.session.path, path)
        return f"{path}:{lineno + 1}:  def {factory.__name__}{inspect.signature(factory)}"

    return (
        f"ScopeMismatch: You tried to access the function scoped fixture {argname} with a "
        f"{fixturedef.scope} scoped request object. Requesting fixture stack:\n"
        f"{line(fixturedef)}\nRequested fixture:\n"
        f"{line(requested or types.SimpleNamespace(func=_direct_param_func))}"
    )


# pytest 8.0-9.2: where pytest's fixture messages say a fixture is defined.
from _pytest.compat import getlocation as _getlocation  # noqa: E402


def fixture_location(func: Callable[..., Any], root: Path) -> str:
    """Where a fixture is defined, as pytest's fixture messages give it: "path:line", relative
    to ``root`` (pytest 8.0-9.2 ``_pytest.compat.getlocation``: on 8 the line after the
    function's first line, on 9 that line)."""
    return str(_getlocation(func, root))


# pytest 8.0-9.2: binds a fixture function defined in a test class to the test's instance.
from _pytest.compat import num_mock_patch_args as _num_mock_patch_args  # noqa: E402


def mock_patch_args(func: Callable[..., Any]) -> int:
    """How many of ``func``'s leading parameters its ``@mock.patch`` decorators fill (each patch
    without ``new=`` passes its mock in): not fixtures, as pytest's getfuncargnames leaves them
    out (``_pytest.compat.num_mock_patch_args``, pytest 8.0-9.2; checked on 8.4.2 and 9.2.0)."""
    return _num_mock_patch_args(func) if hasattr(func, "__wrapped__") else 0


from _pytest.fixtures import resolve_fixture_function as _resolve_fixture_function  # noqa: E402


def fixture_function(fixturedef: Any, request: Any) -> tuple[Callable[..., Any], set[str] | None]:
    """The user's fixture function, and the argument names it accepts (None: all of its argnames).

    pytest-asyncio 1.0 and 1.1 replace an async fixture's ``FixtureDef.func`` at collection with a
    synchronous wrapper (functools.wraps of the original) that runs it with
    ``run_until_complete``, and add ``request`` to its argnames; 1.2+ wrap only during
    ``pytest_fixture_setup``. Inside a running loop only the original can be awaited.
    """
    func = _resolve_fixture_function(fixturedef, request)
    original = getattr(func, "__wrapped__", None)
    code = getattr(func, "__code__", None)
    # functools.wraps copied the original's __module__; the code object tells the wrapper.
    if original is None or code is None or "pytest_asyncio" not in code.co_filename:
        return func, None
    # A fixture defined in a test class: the original is bound to the instance pytest made at
    # collection; the test runs with another one, as must the fixture.
    instance = request.instance
    bound_to = getattr(original, "__self__", None)
    if instance is not None and bound_to is not None and isinstance(instance, type(bound_to)):
        original = original.__func__.__get__(instance)
    return original, set(inspect.signature(original).parameters)


def is_autouse(fixturedef: Any) -> bool:
    """Whether the fixture is autouse (pytest 8.0-9.2: ``FixtureDef._autouse``)."""
    return bool(getattr(fixturedef, "_autouse", False))


def fixture_definitions(item: pytest.Function) -> dict[str, Sequence[Any]]:
    """name -> FixtureDefs visible to the item, closest last (pytest 8.0-9.2: _fixtureinfo)."""
    return item._fixtureinfo.name2fixturedefs


def initial_fixture_names(item: pytest.Function) -> tuple[str, ...]:
    """usefixtures + autouse + argument names, in pytest's order (pytest 8.0-9.2)."""
    return item._fixtureinfo.initialnames


def argument_names(item: pytest.Function) -> tuple[str, ...]:
    """The names pytest passes the test function as arguments (pytest 8.0-9.2:
    ``_fixtureinfo.argnames``: no parameter with a default, none that ``mock.patch`` fills, and
    the first dropped as ``self`` for a class attribute not a staticmethod)."""
    return tuple(item._fixtureinfo.argnames)


def looked_up_for(error: pytest.FixtureLookupError, item: pytest.Function) -> None:
    """Make the "fixture 'x' not found" of a fixture the parent looked up for ``item`` show
    ``item``'s source and location, as when pytest sets up ``item`` itself (pytest 8.0-9.2:
    ``FixtureLookupError.formatrepr`` reads ``request._pyfuncitem``; ``Function._request`` is
    the item's own request)."""
    error.request = item._request


def requested_by(error: pytest.FixtureLookupError, fixturedef: Any) -> None:
    """Add the fixture ``fixturedef`` that requested the missing one to ``error``'s stack, as
    pytest's lookup from the SubRequest of a fixture it sets up has it (pytest 8.4.2 and 9.2.0:
    ``FixtureLookupError.fixturestack``, outermost first, whose functions ``formatrepr`` shows
    after the test's)."""
    error.fixturestack.insert(0, fixturedef)


def fixture_value(item: pytest.Function, name: str) -> Any:
    """Set up (or get) fixture ``name`` for ``item`` in its setup phase, as pytest does for
    each of the item's arguments.

    pytest 8.0-9.2: ``Function._request`` is the TopRequest whose ``_fillfixtures`` calls
    ``getfixturevalue`` for each argument in setup.
    """
    return item._request.getfixturevalue(name)


def top_request(item: pytest.Function) -> pytest.FixtureRequest:
    """The item's own request (its ``request`` fixture's value), before anything is set up.

    pytest 8.0-9.2: ``Function._request`` is the TopRequest ``_fillfixtures`` fills from.
    """
    request: pytest.FixtureRequest = item._request
    return request


@contextmanager
def no_fixtures_set_up(item: pytest.Function) -> Iterator[None]:
    """While the item is set up, pytest sets up none of its fixtures (its event loop, autouse
    and wider-scoped ones included), as for a test its skip mark skips before setup.

    pytest 8.0-9.2: ``SetupState.setup`` calls ``item.setup()``, whose ``_fillfixtures`` sets
    up the fixtures (pytest-asyncio 1.0-1.5's ``setup`` adds its loop runner to them first).
    """
    item.setup = _nothing  # type: ignore[method-assign]
    try:
        yield
    finally:
        del item.setup


def _nothing() -> None:
    pass


def remove_from_parent_closure(item: pytest.Function, names: set[str]) -> None:
    """Stop pytest from setting up ``names`` for the parent item: the cases set them up.

    pytest 8.0-9.2: ``Function.fixturenames`` is ``_fixtureinfo.names_closure``, which
    ``TopRequest._fillfixtures`` walks in setup, and ``_fixtureinfo.argnames`` is what
    ``pytest_pyfunc_call`` passes to the function. The FuncFixtureInfo is shared by all items of
    one definition, so each item gets its own copy.
    """
    info = item._fixtureinfo
    new_info = dataclasses.replace(
        info,
        argnames=tuple(n for n in info.argnames if n not in names),
        initialnames=tuple(n for n in info.initialnames if n not in names),
        names_closure=[n for n in info.names_closure if n not in names],
    )
    item._fixtureinfo = new_info
    item.fixturenames = new_info.names_closure


def hold_params(item: pytest.Function, sources: dict[str, pytest.Function]) -> None:
    """``item`` (a group's parent) holds each parametrized fixture of ``sources`` with the
    parameter that test holds, for its request to set the fixture up with.

    pytest 8.0-9.2: ``FixtureRequest._get_active_fixturedef`` takes a parametrized fixture's
    parameter, index and scope from ``item.callspec`` (a ``CallSpec2``: ``params``,
    ``indices``, ``_arg2scope``); without one a fixture parametrized by ``pytest_generate_tests``
    runs with no ``request.param``.
    """
    if not sources:
        return
    specs = {name: source.callspec for name, source in sources.items()}
    item.callspec = dataclasses.replace(  # type: ignore[attr-defined]
        next(iter(specs.values())),
        params={name: spec.params[name] for name, spec in specs.items()},
        indices={name: spec.indices[name] for name, spec in specs.items()},
        _arg2scope={name: spec._arg2scope[name] for name, spec in specs.items()},
        _idlist=(),
        marks=[],
    )


def forget_progress(terminalreporter: Any, report: pytest.TestReport) -> None:
    """Keep a case report from counting as a collected test in ``[ 42%]`` progress.

    pytest 9.1+ keys the progress set by ``report.id``; pytest 8.x-9.0 by ``report.nodeid``.
    """
    reported = getattr(terminalreporter, "_progress_nodeids_reported", None)
    if reported is not None:
        if _PROGRESS_BY_ID:
            # report.nodeid is str(report.id), made anew on each access: not per case report.
            reported.discard(report.id)
        else:
            reported.discard(report.nodeid)


def forget_progress_of(terminalreporter: Any, nodeid: str) -> None:
    """Keep the test ``nodeid`` from counting in the progress, as ``forget_progress``: its key
    there is its node id (pytest 8.x-9.0) or a structured id whose str is the node id
    (pytest 9.1-9.2)."""
    reported = getattr(terminalreporter, "_progress_nodeids_reported", None)
    if reported is not None:
        for key in [key for key in reported if str(key) == nodeid]:
            reported.discard(key)


_PROGRESS_BY_ID = tuple(map(int, pytest.__version__.split(".")[:2])) >= (9, 1)


def index_teardown_reports(terminalreporter: Any) -> None:
    """Make the failure summary's look-up of each failed test's teardown report a dict look-up.

    pytest 8.0-9.2: ``TerminalReporter._get_teardown_reports(nodeid)``, called once per failed or
    erroring test in the FAILURES / ERRORS sections, scans every report of the "" category
    (passed setup/teardown reports, and passed subtests at default verbosity): with thousands
    of cases and a third failing, that is minutes. The replacement returns the same reports in
    the same order, from an index rebuilt whenever that category has grown. It compares what
    the installed pytest compares: ``report.nodeid`` (parameter ``nodeid``: pytest 8.x) or
    ``report.id`` (parameter ``node_id``: pytest 9.2). Any other shape is left alone.
    """
    original = getattr(type(terminalreporter), "_get_teardown_reports", None)
    if original is None or "_get_teardown_reports" in vars(terminalreporter):
        return
    parameters = list(inspect.signature(original).parameters)
    key_attribute = {"nodeid": "nodeid", "node_id": "id"}.get(parameters[-1])
    if len(parameters) != 2 or key_attribute is None:
        return
    index: dict[Any, list[Any]] = {}
    indexed_size = -1

    def get_teardown_reports(nodeid: Any) -> list[Any]:
        nonlocal index, indexed_size
        size = len(terminalreporter.stats.get("", ()))
        if size != indexed_size:
            index = {}
            for report in terminalreporter.getreports(""):  # as the original: _pdbshown left out
                if report.when == "teardown":
                    index.setdefault(getattr(report, key_attribute), []).append(report)
            indexed_size = size
        return list(index.get(nodeid, ()))

    terminalreporter._get_teardown_reports = get_teardown_reports


@contextmanager
def passed_cases_listed(
    terminalreporter: Any, is_case: Callable[[pytest.TestReport], bool]
) -> Iterator[None]:
    """While pytest writes its summary: passed cases among the passed tests, for ``-rP``
    (the PASSES section with each one's captured output) and ``-rp`` (its PASSED line).

    pytest 8.0-9.2: ``summary_passes`` and the short summary's "p" read
    ``TerminalReporter.stats["passed"]``; a passed case is filed under "subtests passed".
    Both are put back before pytest counts them for the summary line. Merged by start time,
    which is the order pytest would have run the parametrized tests in.
    """
    stats = getattr(terminalreporter, "stats", None)
    wanted = isinstance(stats, dict) and any(terminalreporter.hasopt(c) for c in "Pp")
    subtests = stats.get("subtests passed", []) if wanted else []  # type: ignore[union-attr]
    cases = [report for report in subtests if is_case(report)]
    if not cases:
        yield
        return
    assert isinstance(stats, dict)
    passed = stats.get("passed")
    stats["subtests passed"] = [report for report in subtests if not is_case(report)]
    merged = [*(passed or []), *cases]
    stats["passed"] = sorted(merged, key=lambda report: getattr(report, "start", 0))
    try:
        yield
    finally:
        stats["subtests passed"] = subtests
        if passed is None:
            del stats["passed"]
        else:
            stats["passed"] = passed


class _UncountedReport(pytest.TestReport):  # type: ignore[misc]
    """A report the summary line leaves out (its parent's outcome, which only sums up its cases).

    pytest 8.0-9.2: the summary line counts the reports whose ``count_towards_summary`` is true
    (``TerminalReporter._get_reports_to_display``); the report stays in the terminal's stats, so
    the failure is still shown, listed by ``-r``, and colours the line.
    """

    @property
    def count_towards_summary(self) -> bool:
        return False


# pytest 8.0-9.2: ``pytest_report_to_serializable`` writes the class name as "$report_type" and
# reads back only "TestReport"; serialised (xdist, pytest-reportlog), it is read back as one.
_UncountedReport.__name__ = _UncountedReport.__qualname__ = "TestReport"


def leave_out_of_counts(report: pytest.TestReport) -> None:
    """Keep the report out of the summary line's counts, as pytest keeps out a report whose
    ``count_towards_summary`` is false (see _UncountedReport)."""
    report.__class__ = _UncountedReport


@dataclasses.dataclass(frozen=True)
class DeselectedCase:
    """A case left out by --deselect, -k or -m, where pytest keeps its deselected items."""

    nodeid: str


def count_deselected(terminalreporter: Any, nodeids: Sequence[str]) -> None:
    """Count these cases in the summary line's "N deselected", as deselected items are counted.

    pytest 8.0-9.2: ``pytest_deselected`` adds the items to ``TerminalReporter.stats
    ["deselected"]``, whose length both the "collected N items / M deselected / K selected"
    line and the summary line show. Called once the first is written: it counts parents, as
    its "collected N items" does, and "K selected" stays right.
    """
    stats = getattr(terminalreporter, "stats", None)
    if isinstance(stats, dict) and nodeids:
        stats.setdefault("deselected", []).extend(DeselectedCase(n) for n in nodeids)


# pytest 8.0-9.2: formatting a failure's traceback parses the source of each entry's module
# again (``getstatementrange_ast``, in ``_pytest._code.source``, imported by name into
# ``_pytest._code.code``), and the statement it shows too: with thousands of failing cases of one
# test, parsing the same module over and over was a third of the time their reports took.
from _pytest._code import code as _code_module  # noqa: E402
from _pytest._code import source as _source_module  # noqa: E402


@contextmanager
def source_trees_cached(size: int = 8) -> Iterator[None]:
    """While a parent runs, parse a source once for all its cases' failure tracebacks.

    The tree is looked up by the source's text, so the ranges pytest computes are the same;
    the ``size`` most recently parsed sources are kept, and dropped when the parent ends. Any
    other shape of pytest is left alone.
    """
    original = _source_module.getstatementrange_ast
    if getattr(_code_module, "getstatementrange_ast", None) is not original:
        yield
        return
    trees: dict[str, Any] = {}

    def getstatementrange_ast(
        lineno: int, source: Any, assertion: bool = False, astnode: Any = None
    ) -> Any:
        if astnode is not None:
            return original(lineno, source, assertion, astnode)
        text = str(source)
        tree = trees.get(text)
        if tree is not None:
            return original(lineno, source, assertion, tree)
        found = original(lineno, source, assertion)  # (tree, start, end)
        if len(trees) >= size:
            del trees[next(iter(trees))]
        trees[text] = found[0]
        return found

    _source_module.getstatementrange_ast = getstatementrange_ast
    _code_module.getstatementrange_ast = getstatementrange_ast  # type: ignore[attr-defined]
    try:
        yield
    finally:
        _source_module.getstatementrange_ast = original
        _code_module.getstatementrange_ast = original  # type: ignore[attr-defined]


def suspend_capture(config: pytest.Config) -> Any:
    """pytest's capture suspended: writes reach the terminal (pytest 8.0-9.2). Its own method,
    not the one that stands in for it while cases run (see capture_disabled_beside_cases)."""
    capman = config.pluginmanager.getplugin("capturemanager")
    if capman is None:
        return nullcontext()
    return type(capman).global_and_fixture_disabled(capman)


@contextmanager
def capture_disabled_beside_cases(
    config: pytest.Config, disabled: Callable[[], Any]
) -> Iterator[None]:
    """While cases run, ``disabled()`` stands in for the capture manager's
    ``global_and_fixture_disabled()``, which pytest's live logging enters around each record,
    and a plugin or a case may call to write to the terminal. pytest's own puts the real
    ``sys.stdout`` back for the moment, then pytest's capture stream, in place of asyncgroup's
    stand-in: every running case's output went to the terminal meanwhile, and to the parent's
    report after. pytest 8.0-9.2: CaptureManager is a plain class (an instance attribute
    shadows its method); _LiveLoggingStreamHandler.emit calls the method through
    ``self.capture_manager``, the same object.
    """
    capman = config.pluginmanager.getplugin("capturemanager")
    if capman is None:
        yield
        return
    capman.global_and_fixture_disabled = disabled
    try:
        yield
    finally:
        del capman.global_and_fixture_disabled


# terminal_reachable's: how many callers need the terminal now, and the redirections the first
# undid, which the last redoes (from any thread: the loop's reports, a def case's live log).
_reachable_lock = threading.Lock()
_reachable_depth = 0
_redirected: list[Any] = []


@contextmanager
def terminal_reachable(config: pytest.Config) -> Iterator[None]:
    """Let the terminal reporter write mid-test, leaving ``sys.stdout``/``sys.stderr`` alone.

    pytest's own suspension puts the real ``sys.stdout`` back for a moment, and a case's thread
    printing in that moment would print to the terminal instead of its report. The terminal
    reporter writes to the real stdout object it took at start-up, so only the file-descriptor
    redirection of ``--capture=fd`` (the default) needs undoing; with ``sys`` or ``no`` nothing
    does. Callers may overlap (nested, in several threads, in coroutines that await inside):
    the first undoes the redirection, the last to leave redoes it.
    pytest 8.0-9.2: CaptureManager._global_capturing is a MultiCapture whose out/err are
    FDCapture objects with targetfd, targetfd_save and tmpfile while capturing fds.
    """
    global _reachable_depth, _redirected
    with _reachable_lock:
        if _reachable_depth == 0:
            capman = config.pluginmanager.getplugin("capturemanager")
            capturing = getattr(capman, "_global_capturing", None)
            streams: list[Any] = [getattr(capturing, "out", None), getattr(capturing, "err", None)]
            _redirected = [
                capture
                for capture in streams
                if getattr(capture, "targetfd_save", None) is not None
                and getattr(capture, "_state", None) == "started"
            ]
            for capture in _redirected:
                capture.tmpfile.flush()
                os.dup2(capture.targetfd_save, capture.targetfd)
        _reachable_depth += 1
    try:
        yield
    finally:
        with _reachable_lock:
            _reachable_depth -= 1
            if _reachable_depth == 0:
                for capture in _redirected:
                    os.dup2(capture.tmpfile.fileno(), capture.targetfd)
                _redirected = []


def uncaptured_streams(config: pytest.Config) -> dict[str, Any]:
    """The ``sys.stdout``/``sys.stderr`` that pytest's capture stands in for, by name.

    pytest calls report hooks with its capture suspended, so what a plugin prints there (pytest-
    sugar's blank line, a GitHub Actions annotation) reaches the terminal. pytest 8.0-9.2:
    CaptureManager._global_capturing is a MultiCapture whose out/err are a SysCapture
    (``_old``: the stream it replaced) or an FDCapture whose ``syscapture`` is one; with
    ``--capture=no`` there are none (and nothing to undo).
    """
    return _sys_capture_streams(config, "_old")


def capture_streams(config: pytest.Config) -> dict[str, Any]:
    """pytest's own stand-ins for ``sys.stdout``/``sys.stderr`` while it captures, by name.

    What a test took as ``sys.stdout`` before its cases ran (at import, in a module fixture)
    is one of them, and they are ``sys.stdout`` again whenever pytest resumes its own capture
    (after the debugger). pytest 8.0-9.2:
    CaptureManager._global_capturing is a MultiCapture whose out/err are a SysCapture whose
    ``tmpfile`` it puts on ``sys`` (a CaptureIO, or a TeeCaptureIO with tee-sys), or an
    FDCapture whose ``syscapture`` is one (its ``tmpfile`` the FDCapture's EncodedFile); with
    ``--capture=no`` there are none.
    """
    return _sys_capture_streams(config, "tmpfile")


def _sys_capture_streams(config: pytest.Config, attribute: str) -> dict[str, Any]:
    """``attribute`` of pytest's SysCapture of stdout and of stderr, by name (see above)."""
    capman = config.pluginmanager.getplugin("capturemanager")
    capturing = getattr(capman, "_global_capturing", None)
    found = {}
    for name, part in (("stdout", "out"), ("stderr", "err")):
        capture = getattr(capturing, part, None)
        stream = getattr(getattr(capture, "syscapture", capture), attribute, None)
        if stream is not None:
            found[name] = stream
    return found


# pytest 8.4-9.2: the unraisable and thread exception warnings (_pytest.unraisableexception,
# _pytest.threadexception) end with _pytest.tracemalloc.tracemalloc_message of the object; a
# pytest 8 without that import in those modules writes no such ending.
import _pytest.threadexception as _threadexception  # noqa: E402

_tracemalloc_message: Callable[[object], str] | None = getattr(
    _threadexception, "tracemalloc_message", None
)


def tracemalloc_ending(source: object) -> str:
    """The ending pytest gives an unraisable or thread exception's warning about ``source`` (the
    object, or the thread): tracemalloc's traceback of it, or the hint to enable tracemalloc."""
    return "" if _tracemalloc_message is None else "\n" + _tracemalloc_message(source)


def log_file_handler(logging_plugin: Any) -> logging.StreamHandler[Any] | None:
    """The logging plugin's handler of ``log_file`` records, whose stream ``set_log_path()``
    replaces (pytest 8.0-9.2: ``LoggingPlugin.log_file_handler``, a ``logging.FileHandler``
    on the root logger for the whole session; ``set_log_path()`` opens the file and hands it to
    the handler's ``setStream()``, closing the stream that returns); None without the logging
    plugin."""
    handler = getattr(logging_plugin, "log_file_handler", None)
    return handler if isinstance(handler, logging.StreamHandler) else None


@contextmanager
def hide_case_records_from_parent(
    config: pytest.Config, belongs_to_case: Callable[[], bool]
) -> Iterator[Any]:
    """Keep case log records out of the parent's "Captured log" and caplog (pytest 8.0-9.2).

    Yields the logging plugin's formatter (None without the logging plugin).
    """
    plugin = config.pluginmanager.getplugin("logging-plugin")
    if plugin is None:
        yield None
        return
    handlers = [plugin.report_handler, plugin.caplog_handler]

    def parent_only(record: object) -> bool:
        return not belongs_to_case()

    for handler in handlers:
        handler.addFilter(parent_only)
    try:
        yield plugin.formatter
    finally:
        for handler in handlers:
            handler.removeFilter(parent_only)


# pytest 8.0-9.2: how the skipping plugin evaluates skip, skipif and xfail marks, and where it
# keeps an item's xfail (evaluated at setup, read again after the call and by makereport).
from _pytest.skipping import evaluate_skip_marks as _evaluate_skip_marks  # noqa: E402
from _pytest.skipping import evaluate_xfail_marks as _evaluate_xfail_marks  # noqa: E402
from _pytest.skipping import xfailed_key as _xfailed_key  # noqa: E402


class _MarksView:
    """An item as seen with other marks: what pytest's mark evaluation reads of a case."""

    def __init__(self, item: pytest.Item, marks: Sequence[pytest.Mark]) -> None:
        self._item = item
        self._marks = marks

    def iter_markers(self, name: str | None = None) -> Iterator[pytest.Mark]:
        return (mark for mark in self._marks if name is None or mark.name == name)

    @property
    def obj(self) -> Any:
        # A condition string gets the globals of ``obj`` (pytest 8.0-9.2: evaluate_condition):
        # the test function's, where the parent's item has asyncgroup's function, wrapped in
        # pytest-asyncio's while it runs (both with __wrapped__).
        return inspect.unwrap(self._item.obj)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._item, name)


def evaluate_skip_and_xfail(
    item: pytest.Item, marks: Sequence[pytest.Mark]
) -> tuple[str | None, Any]:
    """The skip reason, or else the xfail (reason, run, strict, raises), that ``marks`` give a
    test of ``item``'s module, exactly as pytest evaluates them (``xfail_strict``/
    ``strict_xfail``, conditions as strings with the module's globals, ``--runxfail``)."""
    __tracebackhide__ = True
    view: Any = _MarksView(item, marks)
    skipped = _evaluate_skip_marks(view)
    if skipped is not None:
        return skipped.reason, None
    if item.config.option.runxfail:
        return None, None
    return None, _evaluate_xfail_marks(view)


def evaluate_xfail(item: pytest.Item, marks: Sequence[pytest.Mark]) -> Any:
    """The xfail (reason, run, strict, raises) that ``marks`` give a test of ``item``'s module,
    or None; as pytest re-evaluates a test's xfail marks at its call, for marks added during
    its setup or call (pytest 8.0-9.2: ``evaluate_xfail_marks`` in pytest_runtest_call)."""
    if item.config.option.runxfail:
        return None
    view: Any = _MarksView(item, marks)
    return _evaluate_xfail_marks(view)


class _XfailPerCase:
    """Stands in for the parent's xfail: false, so the skipping plugin leaves the parent alone
    (it re-evaluates only None), while its cases carry the parent's xfail marks themselves."""

    def __bool__(self) -> bool:
        return False


def leave_xfail_to_cases(item: pytest.Item) -> None:
    """Keep pytest from turning the parent's outcome into XFAIL/XPASS: its cases xfail."""
    stash: Any = item.stash
    stash[_xfailed_key] = _XfailPerCase()


def _left_to_cases(mark: pytest.Mark) -> bool:
    # xfail with run=True too: its condition is the cases' to evaluate, and to fail to
    # evaluate (each case's setup error); the parent's xfail is left to its cases anyway.
    return mark.name in ("skip", "skipif", "xfail")


@contextmanager
def skip_marks_left_to_cases(item: pytest.Item) -> Iterator[None]:
    """While the parent is set up, keep pytest's skipping plugin (its pytest_runtest_setup reads
    ``item.iter_markers``, pytest 8.0-9.2) from evaluating its skip, skipif and xfail marks
    as a whole: each case evaluates them (see RunSettings.case_marks) and gets the report of
    its parametrized test, one per case (a condition that fails to evaluate included). Then,
    the parent set up, its xfail is left to its cases, or the call phase would evaluate it."""
    iter_markers = item.iter_markers

    def without_skips(name: str | None = None) -> Iterator[pytest.Mark]:
        return (mark for mark in iter_markers(name) if not _left_to_cases(mark))

    item.iter_markers = without_skips  # type: ignore[method-assign]
    try:
        yield
    finally:
        del item.iter_markers
    stash: Any = item.stash
    if stash.get(_xfailed_key, None) is None:
        leave_xfail_to_cases(item)


# pytest 8.0-9.2: Node.add_marker reads and writes only the node's ``keywords`` and
# ``own_markers`` (pytest 8 keeps the MarkDecorator in keywords, 9 its Mark).
def add_marker(node: Any, marker: str | pytest.MarkDecorator, append: bool) -> None:
    """pytest's own add_marker on a case's node: its checks, and its warning for an unknown
    mark's name at its own line, as for a test."""
    pytest.Item.add_marker(node, marker, append)


# pytest 8.0-9.2: parses a "action:message:category:module:lineno" filter as the
# filterwarnings mark and -W do.
from _pytest.config import parse_warning_filter as _parse_warning_filter  # noqa: E402


def parse_warning_filter(arg: str) -> tuple[Any, ...]:
    """The arguments of ``warnings.filterwarnings`` for one filterwarnings mark argument."""
    return tuple(_parse_warning_filter(arg, escape=False))


# pytest 8.0-9.2: -k and -m expressions and their matchers (_pytest.mark).
from _pytest.mark import KeywordMatcher as _KeywordMatcher  # noqa: E402
from _pytest.mark import MarkMatcher as _MarkMatcher  # noqa: E402
from _pytest.mark.expression import Expression as _Expression  # noqa: E402


def compile_expression(text: str | None) -> Any:
    """A compiled -k or -m expression, or None when there is none or it is invalid (pytest
    reports an invalid one itself). ``.evaluate(matcher)`` calls ``matcher(name, **kwargs)``."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return _Expression.compile(text)
    except SyntaxError:
        return None


def keyword_matcher(item: pytest.Item) -> Callable[..., bool]:
    """What -k matches an item's names with."""
    return _KeywordMatcher.from_item(item)


def hide_from_keywords(func: Any, names: Iterable[str]) -> dict[str, Any]:
    """Take ``names`` out of a test function's ``__dict__`` while -k is matched; return them.

    pytest 8.0-8.4: ``KeywordMatcher.from_item`` matches every name in the test function's
    ``__dict__``; pytest 9.0-9.2 leaves out those starting with "_", so there is nothing to hide.
    """
    if PYTEST_MAJOR >= 9:
        return {}
    return {name: func.__dict__.pop(name) for name in names if name in func.__dict__}


def mark_matcher(marks: Iterable[pytest.Mark]) -> Callable[..., bool]:
    """What -m matches an item's marks with (names, and on pytest >= 8.3 keyword arguments)."""
    return _MarkMatcher.from_markers(marks)


@dataclasses.dataclass(frozen=True)
class NodeIdArgument:
    """A command-line argument naming a parametrized test (or a case): ``f.py::test_x[c]``."""

    text: str
    path: Path
    parts: tuple[str, ...]  # names after the file; the last one without the brackets
    brackets: str  # "[c]"

    @property
    def name(self) -> str:
        """The test name it asks for, as pytest prints it: ``test_x[c]``."""
        return self.parts[-1] + self.brackets

    @property
    def where(self) -> str:
        """How pytest names the argument in "not found": pytest 8 keeps the brackets."""
        names = [*self.parts[:-1], self.name if PYTEST_MAJOR < 9 else self.parts[-1]]
        return "::".join((str(self.path), *names))

    def not_found(self, collector: object) -> str:
        """pytest's own message for an argument that matches nothing."""
        return f"not found: {self.where}\n(no match in any of {[collector]!r})"


def _argument(config: pytest.Config, text: str) -> tuple[Path, tuple[str, ...], str]:
    """Split an argument as pytest 8.0-9.2's resolve_collection_argument does."""
    base, bracket, rest = text.partition("[")
    path, *parts = base.split("::")
    return Path(os.path.abspath(config.invocation_params.dir / path)), tuple(parts), bracket + rest


def stepwise_last_failed(cache: pytest.Cache) -> str | None:
    """The node id ``--sw`` goes on from (pytest 8.4-9.2: "cache/stepwise" holds a dict with
    "last_failed"; earlier pytest 8 the node id itself)."""
    value = cache.get("cache/stepwise", None)
    if isinstance(value, dict):
        value = value.get("last_failed")
    return value if isinstance(value, str) else None


def stepwise_goes_on_from(config: pytest.Config) -> str | None:
    """The node id the stepwise plugin goes on from this run, once it has looked at the items
    (None: it starts over). pytest 8.4-9.2: ``cached_info.last_failed`` (9.2: a NodeId, whose
    str() is the node id); 8.2-8.3: ``lastfailed``."""
    plugin = config.pluginmanager.get_plugin("stepwiseplugin")
    info = getattr(plugin, "cached_info", None)
    value = getattr(info, "last_failed", None) if info else getattr(plugin, "lastfailed", None)
    return None if value is None else str(value)


def set_stepwise_goes_on_from(config: pytest.Config, nodeid: str) -> None:
    """Make the stepwise plugin, before it looks at the items, go on from ``nodeid`` (same
    attributes as above; pytest 9.2 compares NodeIds, made by the class's own ``parse``)."""
    plugin = config.pluginmanager.get_plugin("stepwiseplugin")
    info = getattr(plugin, "cached_info", None)
    holder, name = (info, "last_failed") if info is not None else (plugin, "lastfailed")
    current = getattr(holder, name, None)
    parse = getattr(type(current), "parse", None)
    if current is not None:
        setattr(holder, name, parse(nodeid) if callable(parse) else nodeid)


def stepwise_passes_over_next_failure(config: pytest.Config) -> None:
    """Make pytest's stepwise plugin (``--sw``) pass over the next failed report, as
    ``--sw-skip`` makes it pass over the first.

    pytest 8.4-9.2: the plugin is registered as "stepwiseplugin" (with --sw or --sw-skip); while
    its ``skip`` is True it passes over a failed report and sets ``skip`` to False.
    """
    plugin = config.pluginmanager.get_plugin("stepwiseplugin")
    if plugin is not None and isinstance(getattr(plugin, "skip", None), bool):
        plugin.skip = True


def stepwise_skips_next_failure(config: pytest.Config) -> bool:
    """Whether pytest's stepwise plugin will pass over the next failed report (``--sw-skip``,
    not yet used; same plugin attribute as above, pytest 8.4-9.2)."""
    plugin = config.pluginmanager.get_plugin("stepwiseplugin")
    return getattr(plugin, "skip", None) is True


def stepwise_count_passed_over(config: pytest.Config, cases: int) -> None:
    """Count ``cases`` more in the stepwise plugin's "skipping N already passed items" line:
    it counts the items it left out, and a parent's cases that passed are left out later, by
    asyncgroup, as the parametrized tests it counts.

    pytest 8.4-9.2: the plugin keeps the lines of its collection report in ``report_status``, a
    list of str, written after collection (``pytest_report_collectionfinish``).
    """
    plugin = config.pluginmanager.get_plugin("stepwiseplugin")
    status = getattr(plugin, "report_status", None)
    if not isinstance(status, list):
        return
    for index, line in enumerate(status):
        found = (
            re.match(r"skipping (\d+) already passed items", line)
            if isinstance(line, str)
            else None
        )
        if found is not None:
            status[index] = f"skipping {int(found[1]) + cases}{line[found.end(1) :]}"


# pytest 8.4-9.2: the stepwise plugin keeps ``cached_info.last_test_count`` (int or None), the
# number of items collected last time, which its pytest_collection_modifyitems compares with
# ``len(items)`` (starting over, with the report_status line below, when they differ) and then
# sets to ``len(items)``; pytest_sessionfinish writes it to the cache.
_COUNT_CHANGED = "test count changed, not skipping (now {} tests, previously {})."


def stepwise_compare_test_counts(config: pytest.Config, items: int, tests: int) -> int | None:
    """Make the stepwise plugin, about to compare its record with ``items`` (the parents and
    other items), find a change exactly when ``tests`` (cases counted as tests) differs from
    the number of tests it recorded. Returns that record (None: none, or no plugin)."""
    info = getattr(config.pluginmanager.get_plugin("stepwiseplugin"), "cached_info", None)
    recorded = getattr(info, "last_test_count", None)
    if not isinstance(recorded, int):
        return None
    info.last_test_count = items if recorded == tests else items + 1  # type: ignore[union-attr]
    return recorded


def stepwise_record_test_count(
    config: pytest.Config, items: int, tests: int, recorded: int | None
) -> None:
    """After the stepwise plugin compared: record ``tests`` for next time, and name the tests,
    not the items, in its "test count changed" line (``recorded``: what the compare above
    returned)."""
    plugin = config.pluginmanager.get_plugin("stepwiseplugin")
    info = getattr(plugin, "cached_info", None)
    if not isinstance(getattr(info, "last_test_count", None), int):
        return
    info.last_test_count = tests  # type: ignore[union-attr]
    status = getattr(plugin, "report_status", None)
    changed = _COUNT_CHANGED.format(items, items + 1)
    if recorded is not None and isinstance(status, list) and changed in status:
        status[status.index(changed)] = _COUNT_CHANGED.format(tests, recorded)


def set_stepwise_last_failed(cache: pytest.Cache, nodeid: str) -> None:
    """Make ``--sw`` go on from ``nodeid`` next time (the record read above)."""
    value = cache.get("cache/stepwise", None)
    cache.set(
        "cache/stepwise", {**value, "last_failed": nodeid} if isinstance(value, dict) else nodeid
    )


# pytest 8.0-9.2: the cache plugin ("lfplugin") decides what --lf/--ff rerun from its
# ``lastfailed`` dict (keys: node ids, pytest 9.2 NodeId objects whose str() is the node id),
# and puts what it says in ``_report_status``, which its ``pytest_report_collectionfinish``
# prints later. It counts a parent as one test.
def hide_from_last_failed(config: pytest.Config, nodeids: set[str]) -> dict[Any, bool]:
    """Take these node ids off the cache plugin's record; what was taken, to give back."""
    record = getattr(config.pluginmanager.get_plugin("lfplugin"), "lastfailed", None)
    if not isinstance(record, dict) or not nodeids:
        return {}
    return {key: record.pop(key) for key in list(record) if str(key) in nodeids}


def give_back_to_last_failed(config: pytest.Config, hidden: dict[Any, bool]) -> None:
    record = getattr(config.pluginmanager.get_plugin("lfplugin"), "lastfailed", None)
    if isinstance(record, dict):
        record.update(hidden)


def recount_last_failures(config: pytest.Config, rerun: int, known: int) -> None:
    """Make "rerun previous N failures" and "N known failures not in selected tests" count
    cases as pytest counts parametrized tests."""
    plugin = config.pluginmanager.get_plugin("lfplugin")
    status = getattr(plugin, "_report_status", None)
    if isinstance(status, str):
        noun = "failure" if rerun == 1 else "failures"
        status = re.sub(r"^rerun previous \d+ failures?", f"rerun previous {rerun} {noun}", status)
        status = re.sub(r"^\d+ known failures", f"{known} known failures", status)
        plugin._report_status = status  # type: ignore[union-attr]


@dataclasses.dataclass(frozen=True)
class GroupArgument:
    """A command-line argument naming a group's parent, as pytest prints it in FAILED lines:
    ``f.py::concurrent_group[inventory]`` or, for a class, ``f.py::TestA::concurrent_group``."""

    text: str
    path: Path
    parts: tuple[str, ...]  # the names of the group's module or class after the file
    name: str | None  # the group's name; None: the class form

    def not_found(self) -> str:
        where = f"group {self.name!r}" if self.name is not None else "@concurrent_group class"
        return f"not found: {self.text}\n(no {where} there)"


GROUP_PARENT_NAME = "concurrent_group"  # a group parent's name, before its brackets


@dataclasses.dataclass
class Arguments:
    """The command-line arguments: those with brackets, those naming a group's parent, and the
    others as (path, names)."""

    named: list[NodeIdArgument] = dataclasses.field(default_factory=list)
    plain: list[tuple[Path, tuple[str, ...]]] = dataclasses.field(default_factory=list)
    groups: list[GroupArgument] = dataclasses.field(default_factory=list)


@contextmanager
def bracketed_arguments_as_tests(config: pytest.Config) -> Iterator[Arguments]:
    """While pytest collects, name ``f.py::test_x[c]`` arguments by their test, ``f.py::test_x``.

    pytest matches an argument's brackets against collected items' names (pytest 8.0-9.2:
    ``Session.collect`` compares ``node.name``), and a case is not an item: ``test_x[c]`` would
    be "not found". So the test is collected whole, and the caller keeps, after collection,
    what pytest would have selected (``_select.Selection``). A group's parent is no collected
    item either: its module or class is collected, and the caller keeps the group's tests.
    ``config.args`` is the user's again afterwards.
    """
    original = list(config.args)
    arguments = Arguments()
    if config.option.pyargs:  # module names, not paths: left to pytest
        yield arguments
        return
    rewritten: list[str] = []
    for text in original:
        path, parts, brackets = _argument(config, text)
        if parts and parts[-1] == GROUP_PARENT_NAME:
            name = brackets[1:-1] if brackets.endswith("]") else None
            arguments.groups.append(GroupArgument(text, path, parts[:-1], name))
            collector = "::".join([text.partition("::")[0], *parts[:-1]])
            if collector not in rewritten:
                rewritten.append(collector)
            continue
        if not brackets or not parts:
            arguments.plain.append((path, parts))
            rewritten.append(text)
            continue
        arguments.named.append(NodeIdArgument(text, path, parts, brackets))
        base = text.partition("[")[0]
        if base not in rewritten:
            rewritten.append(base)
    # pytest 8 collects a test twice when given its module and its class: the module of a
    # group's parent is collected whole, and arguments within it are left out.
    collectors = {"::".join([a.text.partition("::")[0], *a.parts]) for a in arguments.groups}
    config.args[:] = [
        text for text in rewritten if not any(text.startswith(f"{c}::") for c in collectors)
    ]
    try:
        yield arguments
    except pytest.UsageError as error:
        if PYTEST_MAJOR >= 9:  # pytest 9 names the test without brackets anyway
            raise
        # pytest 8 names the argument as given: put the brackets back.
        messages: list[object] = []
        for message in error.args:
            named = [a for a in arguments.named if _not_found_of(a, str(message))]
            if named:
                rest = str(message).partition("\n")[2]
                messages.extend(f"not found: {a.where}\n{rest}" for a in named)
            else:
                messages.append(message)
        raise pytest.UsageError(*messages) from None
    finally:
        config.args[:] = original


def _not_found_of(argument: NodeIdArgument, message: str) -> bool:
    base = "::".join((str(argument.path), *argument.parts))
    return message == f"not found: {base}" or message.startswith(f"not found: {base}\n")


def call_info(error: BaseException | None, report: pytest.TestReport) -> pytest.CallInfo[None]:
    """A CallInfo of the phase ``report`` tells, ended by ``error`` (None: passed), for
    pytest_exception_interact and pytest_runtest_makereport (pytest 8.0-9.2: the constructor
    is private)."""
    return pytest.CallInfo(
        None,
        pytest.ExceptionInfo.from_exception(error) if error is not None else None,
        start=report.start,
        stop=report.stop,
        duration=report.duration,
        when=report.when,
        _ispytest=True,
    )


def point_crash_at(report: pytest.TestReport, path: str, lineno: int) -> None:
    """Make the one-line form of a failure (``--tb=line``) point at ``path:lineno`` (1-based).

    pytest 8.0-9.2: a failure's longrepr is an ExceptionChainRepr whose ``reprcrash`` is a
    ReprFileLocation (path, lineno, message); ``--tb=line`` prints it.
    """
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and hasattr(crash, "lineno"):
        crash.path, crash.lineno = path, lineno


def crash_where_hidden(longrepr: Any, error: BaseException, path: str, lineno: int) -> None:
    """Give an error whose traceback entries are all hidden a one-line form at ``path:lineno``.

    pytest 8.0-9.2: an ExceptionChainRepr's ``reprcrash`` is None when every entry is hidden
    (``__tracebackhide__``), and the short summary line then shows no reason; a
    ``_pytest._code.code.ReprFileLocation`` (path, lineno, message) is what it reads.
    """
    if getattr(longrepr, "reprcrash", False) is None:
        from _pytest._code.code import ReprFileLocation

        message = pytest.ExceptionInfo.from_exception(error).exconly()
        longrepr.reprcrash = ReprFileLocation(path, lineno, message)


def drop_hidden_entries_line(longrepr: Any) -> None:
    """Leave out of an error's report pytest's line "All traceback entries are hidden. Pass
    `--full-trace` to see hidden and internal frames.": for an error asyncgroup made with no
    line of the user's (a sync fixture's timeout), the hidden frames are asyncgroup's own.

    pytest 8.0-9.2: an ExceptionChainRepr's ``chain`` holds (ReprTraceback, crash, description)
    per exception, the error's own last; a ReprTraceback's ``extraline`` is that line.
    """
    chain = getattr(longrepr, "chain", None)
    if chain:
        reprtraceback = chain[-1][0]
        if (getattr(reprtraceback, "extraline", None) or "").startswith("All traceback entries"):
            reprtraceback.extraline = None


def setup_show_param(value: object) -> str:
    """A parameter's value as ``--setup-show`` writes it: ``x['a']``.

    pytest 8.0-9.2: ``_pytest/setuponly.py`` writes ``saferepr(cached_param, maxsize=42)``.
    """
    from _pytest._io.saferepr import saferepr

    return saferepr(value, maxsize=42)


def visible_fixture(item: pytest.Function, name: str) -> Any:
    """The closest FixtureDef named ``name`` visible to ``item``, or None.

    pytest 8.1-9.2: ``FixtureManager.getfixturedefs(argname, node)``, the lookup behind
    ``request.getfixturevalue`` for a fixture the test does not request.
    """
    defs = item.session._fixturemanager.getfixturedefs(name, item)
    return defs[-1] if defs else None


if sys.version_info < (3, 11):  # pragma: no cover - Python 3.10: pytest's own dependency
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found, unused-ignore]


def skips_only(error: BaseException | None) -> bool:
    """An exception group of nothing but pytest.skip(): pytest 9 reports the test skipped.

    pytest 9.0-9.2 (``TestReport.from_item_and_call``); pytest 8 reports it failed.
    """
    return (
        PYTEST_MAJOR >= 9
        and isinstance(error, BaseExceptionGroup)
        and error.split(pytest.skip.Exception)[1] is None
    )


def place_skip_at_test(error: BaseException) -> None:
    """A fixture's ``pytest.skip()``, reported at the test that requested the fixture, as
    pytest's ``pytest_fixture_setup`` marks it (``Skipped._use_item_location``, 8.0-9.2)."""
    error._use_item_location = True  # type: ignore[attr-defined]


def skip_placed_at_test(error: BaseException) -> bool:
    """Whether a ``pytest.skip()`` is reported at the test (see place_skip_at_test)."""
    return bool(getattr(error, "_use_item_location", False))


def leaves(group: Any) -> Iterator[BaseException]:
    """The exceptions of a (nested) exception group."""
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            yield from leaves(error)
        else:
            yield error


def place_at(func: Callable[..., Any], original: Callable[..., Any]) -> None:
    """Make pytest locate ``func`` (file, line) where ``original`` is.

    pytest 8.0-9.2: ``_pytest._code.getfslineno``, which ``reportinfo`` and so ``item.location``
    use, follows an object's ``place_as`` attribute. A group's parent is defined in asyncgroup but
    reported in the test module, as its first test: no ``<- asyncgroup/...`` in its -v line.
    """
    # A functools.partial test (a class attribute) has no code of its own: pytest locates it
    # at the function it wraps, but does not unwrap a place_as.
    while isinstance(original, functools.partial):
        original = original.func
    func.place_as = original  # type: ignore[attr-defined]


def run_test_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool:
    """pytest's own run of one test (setup, call, teardown, each logged), as the runner plugin
    does it when no other plugin takes the test over (pytest 8.0-9.2: its
    ``pytest_runtest_protocol``, registered as "runner")."""
    runner: Any = item.config.pluginmanager.get_plugin("runner")
    return bool(runner.pytest_runtest_protocol(item=item, nextitem=nextitem))


def reparse_node_id(item: pytest.Item) -> None:
    """Give an item named ``concurrent_group[g]`` the structured id its node id parses to.

    pytest 9.2 keys ``--lf``'s and ``--sw``'s records by ``NodeId`` (path, names, params): the
    cache reads ``f.py::concurrent_group[g]`` back as the name ``concurrent_group`` with the
    params ``g``, while a Function made without a callspec has the name ``concurrent_group[g]``
    and no params, so the parent's record never matched its next report and stayed for ever.
    Earlier pytest keys records by the node id string, and items have no ``_id``.
    """
    node_id = getattr(item, "_id", None)
    parse = getattr(type(node_id), "parse", None)
    if parse is not None:
        item._id = parse(str(node_id))  # type: ignore[attr-defined]


def name_xdist_group(item: pytest.Item, name: str) -> None:
    """Append ``@name`` to the item's node id as pytest-xdist 3.x does for ``--dist loadgroup``.

    pytest-xdist (checked on 3.8.0) sets the private ``_nodeid``: on pytest 8 the node id
    itself; pytest 9.2 reads node ids from ``_id``, so there the name is lost, for every marked
    item alike, and the parent is treated as pytest-xdist treats them.
    """
    item._nodeid = f"{item.nodeid}@{name}"  # type: ignore[attr-defined]


def register_fixture_request(cls: type) -> None:
    """Make ``isinstance(request, pytest.FixtureRequest)`` true for ``cls``.

    pytest >= 8.0 declares FixtureRequest an abstract base class (TopRequest and SubRequest are
    its private subclasses), so ``register`` makes a virtual subclass without inheriting its
    internals (checked on 8.4.2 and 9.2.0).
    """
    import abc

    if isinstance(pytest.FixtureRequest, abc.ABCMeta):
        pytest.FixtureRequest.register(cls)
