"""Per-case versions of pytest's built-in fixtures whose state pytest keeps per test item.

pytest's capture fixtures register with its capture manager (one per item), its caplog reads
the item's log handler, its tmp_path cleans up by item, its subtests report under the item, and
its monkeypatch changes the whole process (recwarn and pytest.warns are made per case by
_case_catch_warnings). For overlapping cases each gets its own, or, where a process-wide change
cannot be made safe, a clear error instead of cases corrupting each other.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import warnings
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import pytest

from asyncgroup._capture import CaplogHandler, CaseOutput, FixtureCapture
from asyncgroup._case_mock import mixed, mock_holder, patch_lock
from asyncgroup._outcome import Phase

if TYPE_CHECKING:
    from asyncgroup._fixtures import CaseFixtures, CaseRequest

CaptureResult = namedtuple("CaptureResult", ["out", "err"])
_NOTSET: Any = object()  # "argument not given", as MonkeyPatch's own notset
_ANSI_ESCAPE = re.compile(r"\x1b\[[\d;]+m")  # as pytest's caplog.text drops colour codes


class CaseCapsys:
    """capsys and kin for one case: sees only that case's output (sys level), under ``-s`` too.

    pytest's own capture fixtures register with its capture manager, which allows one per
    test item: overlapping cases would collide.
    """

    def __init__(
        self, output: CaseOutput, capture: FixtureCapture, suspend: Callable[[], Any], binary: bool
    ) -> None:
        self._output = output
        self._capture = capture
        self._suspend = suspend
        self._binary = binary

    def readouterr(self) -> CaptureResult:
        out, err = self._capture.readouterr()
        if self._binary:
            return CaptureResult(out.encode(), err.encode())
        return CaptureResult(out, err)

    def disabled(self) -> Any:
        """As pytest's: the case's writes reach the terminal meanwhile (no other case's)."""
        return self._suspend()

    def close(self) -> None:
        """At the fixture's teardown: what the case did not read goes on, and it stops taking
        the case's writes."""
        self._capture.phase_ended(self._output)
        if self._output.fixture is self._capture:
            self._output.fixture = None


class LoggerLevels:
    """Logger levels that running cases set with caplog, each case's own.

    A logger's level is process-wide. While cases hold levels, each logger they set is at the
    lowest level any running case sees it at (its own, or one it inherits), so that no case
    loses a record; each case then gets only the records its own levels let through (see
    hides), as its parametrized test would. Put back when the last case that set it ends.
    """

    def __init__(self) -> None:
        # logger name -> (its level before any case set it, {case: the level it set})
        self._held: dict[str, tuple[int, dict[str, int]]] = {}

    def level_of(self, name: str, case_name: str) -> int | None:
        held = self._held.get(name)
        return held[1].get(case_name) if held is not None else None

    def set(self, name: str, level: int, case_name: str) -> None:
        logger = logging.getLogger(name)
        before, holders = self._held.get(name, (logger.level, {}))
        holders[case_name] = level
        self._held[name] = (before, holders)
        self._apply()

    def release(self, name: str, case_name: str) -> None:
        before, holders = self._held.get(name, (0, {}))
        if holders.pop(case_name, None) is None:
            return
        if not holders:
            del self._held[name]
            logging.getLogger(name).setLevel(before)
        self._apply()

    def hides(self, record: logging.LogRecord, case_name: str) -> bool:
        """Whether ``record``, which case ``case_name`` logged, is below the level that case
        sees its logger at (the loggers' own levels, and those it set itself): it got past
        only because the logger is lower for another case, and its parametrized test would
        not have logged it, so its report and caplog do not get it."""
        if not self._held:  # no case set a level: the run's usual path
            return False
        logger: Any = (
            logging.root
            if record.name == "root"
            else logging.Logger.manager.loggerDict.get(record.name)
        )
        return isinstance(logger, logging.Logger) and record.levelno < self._seen(logger, case_name)

    def _seen(self, logger: logging.Logger | None, case_name: str | None) -> int:
        """The level case ``case_name`` (None: one that set none) sees ``logger`` at, walking
        up from it as Logger.getEffectiveLevel does."""
        while logger is not None:
            held = self._held.get("" if logger is logging.root else logger.name)
            if held is None:
                level = logger.level
            else:
                before, holders = held
                level = before if case_name is None else holders.get(case_name, before)
            if level:
                return level
            logger = logger.parent
        return 0

    def _apply(self) -> None:
        """Each logger a case holds at the lowest level a running case sees it at; at its own
        level (which it may inherit) if that is the lowest."""
        cases = {None, *(case for _, holders in self._held.values() for case in holders)}
        for name, (before, _) in self._held.items():
            logger = logging.getLogger(name)
            lowest = min(self._seen(logger, case) for case in cases)
            logger.setLevel(lowest if lowest < self._seen(logger, None) else before)


def _level_number(level: int | str) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())  # a name's number, for a registered name
    if not isinstance(number, int):
        msg = f"Unknown level: {level!r}"
        raise ValueError(msg)
    return number


class CaseCaplog:
    """caplog for one case, as pytest's ``LogCaptureFixture`` for a test: sees only the records
    that case emitted, of the phase running (``records``) or of any (``get_records``)."""

    def __init__(self, handler: CaplogHandler, levels: LoggerLevels, case_name: str) -> None:
        self._handler = handler
        self._levels = levels
        self._case_name = case_name
        self._loggers: set[str] = set()  # the loggers whose level this case set
        self._handler_level: int | None = None  # the handler's level before set_level

    @property
    def handler(self) -> logging.Handler:
        """The case's own handler (its ``records`` and ``stream`` are the phase's)."""
        return self._handler

    def get_records(self, when: Literal["setup", "call", "teardown"]) -> list[logging.LogRecord]:
        """The records the case logged in its phase ``when``; [] before that phase."""
        return self._handler.phases.get(when, [])

    @property
    def records(self) -> list[logging.LogRecord]:
        return self._handler.records

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]

    @property
    def record_tuples(self) -> list[tuple[str, int, str]]:
        return [(r.name, r.levelno, r.getMessage()) for r in self.records]

    @property
    def text(self) -> str:
        return _ANSI_ESCAPE.sub("", self._handler.stream.getvalue())

    def clear(self) -> None:
        self._handler.clear()

    def set_level(self, level: int | str, logger: str | None = None) -> None:
        """The logger's level (process-wide, as with pytest's caplog; see LoggerLevels) and the
        handler's, both put back when the case ends."""
        __tracebackhide__ = True
        name = logger or ""
        number = _level_number(level)
        self._levels.set(name, number, self._case_name)
        self._loggers.add(name)
        if self._handler_level is None:
            self._handler_level = self._handler.level
        self._handler.setLevel(number)

    @contextmanager
    def at_level(self, level: int | str, logger: str | None = None) -> Iterator[None]:
        __tracebackhide__ = True
        name = logger or ""
        previous = self._levels.level_of(name, self._case_name)
        handler_level, set_before = self._handler.level, self._handler_level
        self.set_level(level, logger)
        try:
            yield
        finally:
            self._handler.setLevel(handler_level)
            self._handler_level = set_before
            if previous is None:
                self._levels.release(name, self._case_name)
                self._loggers.discard(name)
            else:
                self._levels.set(name, previous, self._case_name)

    @contextmanager
    def filtering(self, filter_: logging.Filter) -> Iterator[None]:
        """``filter_`` on the case's handler for the ``with`` block."""
        self._handler.addFilter(filter_)
        try:
            yield
        finally:
            self._handler.removeFilter(filter_)

    def undo(self) -> None:
        for name in self._loggers:
            self._levels.release(name, self._case_name)
        self._loggers.clear()
        if self._handler_level is not None:
            self._handler.setLevel(self._handler_level)
            self._handler_level = None


def _tmp_path(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    """pytest's tmp_path, one directory per case (pytest's own keys its cleanup by node)."""
    factory = fixtures.parent_value("tmp_path_factory")
    # As pytest's _mk_tmp names it, from the case's name as its parametrized test's.
    nodeid = fixtures.member.reporter.nodeid(fixtures.case.id)
    name = re.sub(r"\W", "_", nodeid.rpartition("::")[2])[:30]
    path = factory.mktemp(name, numbered=True)
    policy = fixtures.parent_request.config.getini("tmp_path_retention_policy")

    def remove_if_passed() -> None:
        if policy == "failed" and fixtures.passed:
            shutil.rmtree(path, ignore_errors=True)

    fixtures.finalizers.append(remove_if_passed)
    return path


def _capsys(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    name = request.fixturename or ""
    capture = FixtureCapture(fixtures.services.streams, tee=name == "capteesys")
    fixtures.output.fixture = capture
    capsys = CaseCapsys(
        fixtures.output, capture, fixtures.services.suspend_capture, name.endswith("binary")
    )
    fixtures.finalizers.append(capsys.close)
    return capsys


class _Held:
    """One process-wide target patched by running cases: the patch that changed it (undone when
    the last of them ends), the value it has now, and who relies on that value (each case's
    monkeypatch, or a context() of it, by id, with its case's name)."""

    def __init__(self, value: object, existed: bool) -> None:
        self.patch = pytest.MonkeyPatch()
        self.value = value
        self.holders: dict[int, str] = {}
        self.existed = existed  # for a deletion: whether there was something to delete
        self.doing = ""  # its first patch, as an error names it


# The value of a patch whose result depends on what it changes (a prepend to sys.path or to an
# environment variable): never the same as another case's.
def _unshared() -> object:
    return object()


_DELETED = object()  # the "value" of a delattr, delitem or delenv


def _has_dotted(path: str) -> bool:
    """Whether "package.module.attr" names an attribute that is there."""
    import importlib

    module_name, _, attr = path.rpartition(".")
    parts = module_name.split(".")
    for end in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        for part in [*parts[end:], attr]:
            if not hasattr(obj, part):
                return False
            obj = getattr(obj, part)
        return True
    return False


def _same(a: object, b: object) -> bool:
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # a value whose __eq__ raises is not the same
        return False


class Claims:
    """Process-wide things patched by running cases, and the cases holding each.

    As caplog's logger levels (see LoggerLevels): overlapping cases may patch a target to the
    same value, as an autouse fixture does for every test (nothing either sees differs); it is
    put back when the last of them ends. A different value for a target another running case
    patched is refused: one of the two would see the other's.
    """

    def __init__(self) -> None:
        self._held: dict[tuple[object, ...], _Held] = {}

    def take(
        self,
        key: tuple[object, ...],
        holder: int,
        case_name: str,
        doing: str,
        value: object,
        present: Callable[[], bool],
    ) -> pytest.MonkeyPatch | None:
        """Let ``case_name`` patch ``key`` to ``value``: the MonkeyPatch to patch it with (the
        target's own, undone when its last holder lets go), or None when another running case
        gave it that value already. ``present``: whether the target is there (before it is
        patched)."""
        __tracebackhide__ = True  # the refusal is shown at the user's line
        held = self._held.get(key)
        if held is None:
            held = self._held[key] = _Held(value, present())
            held.doing = doing
            held.holders[holder] = case_name
            return held.patch
        if not self._others(held, case_name, doing, value):
            held.value = value
            held.holders[holder] = case_name
            return held.patch
        held.holders[holder] = case_name
        return None

    def check(self, key: tuple[object, ...], case_name: str, doing: str, value: object) -> bool:
        """For a patch undone before this case lets go of ``key`` (in a context() inside the
        one that took it): whether it is to be made (False: another case holds that value)."""
        __tracebackhide__ = True
        held = self._held.get(key)
        if held is None or not self._others(held, case_name, doing, value):
            if held is not None and not _same(held.value, value):
                held.value = _unshared()  # back to another value soon: nobody may join
            return True
        return False

    def _others(self, held: _Held, case_name: str, doing: str, value: object) -> bool:
        """Whether other running cases hold the target (with this value; a different one is
        refused)."""
        __tracebackhide__ = True
        others = sorted({name for name in held.holders.values() if name != case_name})
        if others and not _same(held.value, value):
            msg = (
                f"asyncgroup: cases {others[0]!r} and {case_name!r} both {doing} while they "
                "run at the same time, to different values; that is process-wide, so each "
                "would see the other's: use max_concurrency=1 or a lock"
            )
            pytest.fail(msg)
        return bool(others)

    def holder(
        self, match: Callable[[tuple[object, ...]], bool], case_name: str
    ) -> tuple[str, str] | None:
        """Another running case holding a target whose key ``match`` accepts (for mock
        patches, see _case_mock): (its name, what it did); None if none."""
        for key, held in self._held.items():  # under patch_lock (_case_mock._Holds.take)
            others = sorted({name for name in held.holders.values() if name != case_name})
            if others and match(key):
                return others[0], held.doing
        return None

    def existed(self, key: tuple[object, ...]) -> bool:
        """Whether the target was there before the running cases patched it."""
        held = self._held.get(key)
        return held is None or held.existed

    def release(self, key: tuple[object, ...], holder: int) -> None:
        with patch_lock:  # as it is taken (CaseMonkeyPatch._patch): undone before it is free
            held = self._held.get(key)
            if held is None or held.holders.pop(holder, None) is None or held.holders:
                return
            del self._held[key]
            held.patch.undo()


class CaseMonkeyPatch:
    """monkeypatch for one case, undone at its end (pytest.MonkeyPatch underneath).

    Patches are process-wide: overlapping cases may patch the same attribute, item or
    environment variable to the same value; a different value fails with a clear error.
    """

    def __init__(
        self, case_name: str, claims: Claims, outer: CaseMonkeyPatch | None = None
    ) -> None:
        self._case_name = case_name
        self._claims = claims
        self._outer = outer  # a context() inside it leaves the outer's claims alone
        self._mine: list[tuple[object, ...]] = []
        # Patches of targets an outer context holds: undone with this one, as pytest's.
        self._own = pytest.MonkeyPatch()

    def _patch(
        self,
        key: tuple[object, ...],
        what: str,
        value: object,
        do: Callable[[Any], None],
        present: Callable[[], bool] = lambda: True,
    ) -> None:
        __tracebackhide__ = True
        doing = f"monkeypatch {what}"
        # Checked, taken and patched in one step: plain def cases patch from threads.
        with patch_lock:
            mock = mock_holder(key, self._case_name)
            if mock is not None:  # the same target, patched by another running case with mock
                pytest.fail(mixed(mock[0], mock[1], self._case_name, doing))
            outer_keys = self._outer._all_keys() if self._outer is not None else []
            if key in outer_keys:
                if self._claims.check(key, self._case_name, doing, value):
                    do(self._own)
                return
            first = key not in self._mine
            patch = self._claims.take(key, id(self), self._case_name, doing, value, present)
            if first:
                self._mine.append(key)
            if patch is None:
                if self._claims.existed(key):
                    return
                # Deleting what was never there: pytest's error with raising=True (a patch
                # that changes nothing otherwise).
                patch = pytest.MonkeyPatch()
            try:
                do(patch)
            except BaseException:  # raising=True on a missing target, say: nothing was patched
                if first:
                    self._mine.remove(key)
                    self._claims.release(key, id(self))
                raise

    def _all_keys(self) -> list[tuple[object, ...]]:
        return self._mine + (self._outer._all_keys() if self._outer is not None else [])

    def setattr(
        self, target: Any, name: Any = _NOTSET, value: Any = _NOTSET, raising: bool = True
    ) -> None:
        __tracebackhide__ = True
        if value is _NOTSET:  # setattr("package.module.attr", value)
            self._patch(
                ("attr", str(target)),
                repr(target),
                name,
                lambda p: p.setattr(target, name, raising=raising),
            )
        else:
            self._patch(
                ("attr", id(target), name),
                f"{name!r} of {target!r}",
                value,
                lambda p: p.setattr(target, name, value, raising=raising),
            )

    def delattr(self, target: Any, name: Any = _NOTSET, raising: bool = True) -> None:
        __tracebackhide__ = True
        if name is _NOTSET:
            self._patch(
                ("attr", str(target)),
                repr(target),
                _DELETED,
                lambda p: p.delattr(target, raising=raising),
                lambda: _has_dotted(str(target)),
            )
        else:
            self._patch(
                ("attr", id(target), name),
                f"{name!r} of {target!r}",
                _DELETED,
                lambda p: p.delattr(target, name, raising=raising),
                lambda: hasattr(target, name),
            )

    def setitem(self, dic: Any, name: Any, value: Any) -> None:
        __tracebackhide__ = True
        key = ("item", id(dic), name)
        self._patch(key, f"item {name!r}", value, lambda p: p.setitem(dic, name, value))

    def delitem(self, dic: Any, name: Any, raising: bool = True) -> None:
        __tracebackhide__ = True
        key = ("item", id(dic), name)
        self._patch(
            key,
            f"item {name!r}",
            _DELETED,
            lambda p: p.delitem(dic, name, raising=raising),
            lambda: name in dic,
        )

    def setenv(self, name: str, value: str, prepend: str | None = None) -> None:
        __tracebackhide__ = True
        seen = str(value) if prepend is None else _unshared()
        self._patch(
            ("env", name),
            f"environment variable {name!r}",
            seen,
            lambda p: p.setenv(name, value, prepend),
        )

    def delenv(self, name: str, raising: bool = True) -> None:
        __tracebackhide__ = True
        self._patch(
            ("env", name),
            f"environment variable {name!r}",
            _DELETED,
            lambda p: p.delenv(name, raising=raising),
            lambda: name in os.environ,
        )

    def chdir(self, path: Any) -> None:
        __tracebackhide__ = True
        where = os.path.abspath(os.fspath(path))
        self._patch(("cwd",), "the working directory", where, lambda p: p.chdir(path))

    def syspath_prepend(self, path: Any) -> None:
        # MonkeyPatch restores the whole of sys.path as it found it: one case at a time.
        __tracebackhide__ = True
        self._patch(("syspath",), "sys.path", _unshared(), lambda p: p.syspath_prepend(path))

    @contextmanager
    def context(self) -> Iterator[CaseMonkeyPatch]:
        """A nested monkeypatch undone at the end of the ``with`` block, as pytest's."""
        inner = CaseMonkeyPatch(self._case_name, self._claims, outer=self)
        try:
            yield inner
        finally:
            inner.undo()

    def undo(self) -> None:
        self._own.undo()
        for key in reversed(self._mine):
            self._claims.release(key, id(self))
        self._mine.clear()


def _monkeypatch(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    patch = CaseMonkeyPatch(fixtures.case_name, fixtures.services.claims)
    fixtures.finalizers.append(patch.undo)
    return patch


def _caplog(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    services, output = fixtures.services, fixtures.output
    if output.caplog is None:
        output.caplog = CaplogHandler(services.log_level, services.log_formatter, output)
    caplog = CaseCaplog(output.caplog, services.levels, fixtures.case_name)
    fixtures.finalizers.append(caplog.undo)
    return caplog


# What a subtests.test() block reports and goes on after; anything else (a cancellation,
# KeyboardInterrupt, pytest.exit) passes through it, as through pytest's.
_STEP_OUTCOMES = (Exception, pytest.skip.Exception, pytest.xfail.Exception, pytest.fail.Exception)


class CaseSubtests:
    """``subtests`` for one case: each ``subtests.test()`` block is a subtest of the case.

    Its report carries the case's node id (``test_x[n2] SUBFAILED[send]``) and only what the
    block wrote; a failed block fails the case where pytest fails a test for it (pytest 9).
    """

    def __init__(self, fixtures: CaseFixtures) -> None:
        self._fixtures = fixtures

    def test(self, msg: str | None = None, **kwargs: Any) -> _Step:
        return _Step(self._fixtures, msg, kwargs)


class _Step:
    def __init__(self, fixtures: CaseFixtures, msg: str | None, kwargs: dict[str, Any]) -> None:
        self._fixtures = fixtures
        self._msg = msg
        self._kwargs = kwargs

    def __enter__(self) -> None:
        output = self._fixtures.output
        self._before = output.readouterr()  # what the case wrote before the block is not its
        self._records_before, output.records = output.records or [], None
        self._phase = Phase("call")
        self._phase.begin()

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> bool:
        __tracebackhide__ = True
        fixtures, output = self._fixtures, self._fixtures.output
        handled = exc is None or (
            isinstance(exc, _STEP_OUTCOMES) and not isinstance(exc, pytest.exit.Exception)
        )
        if handled:
            self._phase.end(exc, output)  # takes what the block wrote
            report = fixtures.services.report_step(
                fixtures.case_name, self._msg, self._kwargs, self._phase, fixtures.mark_names()
            )
            fixtures.failed_steps += report.failed
        out, err = self._before
        output.buffer("out").insert(0, out)
        output.buffer("err").insert(0, err)
        output.buffer("records")[:0] = self._records_before
        return handled


def _record_property(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    """Properties go on the case's reports (and its JUnit testcase), not the parent's."""
    config = fixtures.parent_request.config
    family = config.getini("junit_family")
    if config.getoption("xmlpath", None) and family not in ("xunit1", "legacy"):
        # pytest's warning (junitxml._warn_incompatibility_with_xunit2), issued in the case, so
        # filed under it, at the test's line as pytest's node.warn places it.
        node = fixtures.item or fixtures.parent_request.node
        path, line = node.location[:2]
        warnings.warn_explicit(
            pytest.PytestWarning(
                f"record_property is incompatible with junit_family '{family}' "
                "(use 'legacy' or 'xunit1')"
            ),
            category=None,
            filename=path,
            lineno=(line or 0) + 1,
        )

    def append_property(name: str, value: object) -> None:
        fixtures.user_properties.append((name, value))

    return append_property


def _subtests(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    return CaseSubtests(fixtures)


# pytest's own fixtures whose state is kept per test item, replaced by per-case versions.
# A user's fixture of the same name (not from _pytest) is used as written.
BUILTINS: dict[str, Callable[[CaseFixtures, CaseRequest], Any]] = {
    "tmp_path": _tmp_path,
    # fd-level capture cannot tell cases apart: capfd sees the case's sys-level output.
    "capsys": _capsys,
    "capfd": _capsys,
    "capsysbinary": _capsys,
    "capfdbinary": _capsys,
    "capteesys": _capsys,
    "caplog": _caplog,
    "monkeypatch": _monkeypatch,
    "subtests": _subtests,
    "record_property": _record_property,
}
