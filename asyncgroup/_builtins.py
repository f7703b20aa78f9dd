"""Per-case versions of pytest's built-in fixtures whose state pytest keeps per test item.

pytest's capture fixtures register with its capture manager (one per item), its caplog reads
the item's log handler, its tmp_path cleans up by item, its subtests report under the item, and
its monkeypatch changes the whole process (recwarn and pytest.warns are made per case by
_case_catch_warnings). For overlapping cases each gets its own, or, where a process-wide change
cannot be made safe, a clear error instead of cases corrupting each other.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from asyncgroup._capture import CaseOutput, current_output
from asyncgroup._outcome import Phase

if TYPE_CHECKING:
    from asyncgroup._fixtures import CaseFixtures, CaseRequest

CaptureResult = namedtuple("CaptureResult", ["out", "err"])
_NOTSET: Any = object()  # "argument not given", as MonkeyPatch's own notset


class CaseCapsys:
    """capsys and kin for one case: sees only that case's output (sys level).

    pytest's own capture fixtures register with its capture manager, which allows one per
    test item: overlapping cases would collide.
    """

    def __init__(self, output: CaseOutput, suspend: Callable[[], Any], binary: bool) -> None:
        self._output = output
        self._suspend = suspend
        self._binary = binary

    def readouterr(self) -> CaptureResult:
        out, err = self._output.readouterr()
        if self._binary:
            return CaptureResult(out.encode(), err.encode())
        return CaptureResult(out, err)

    @contextmanager
    def disabled(self) -> Iterator[None]:
        token = current_output.set(None)
        try:
            with self._suspend():
                yield
        finally:
            current_output.reset(token)


class LoggerLevels:
    """Logger levels that running cases set with caplog: process-wide, as loggers are.

    Overlapping cases may set a logger to the same level; it is put back when the last of them
    ends. A different level for a logger that another running case has set is refused: one of
    the two would lose records.
    """

    def __init__(self) -> None:
        # logger name -> (its level before any case set it, {case: the level it set})
        self._held: dict[str, tuple[int, dict[str, int]]] = {}

    def level_of(self, name: str, case_name: str) -> int | None:
        held = self._held.get(name)
        return held[1].get(case_name) if held is not None else None

    def set(self, name: str, level: int, case_name: str) -> None:
        __tracebackhide__ = True
        logger = logging.getLogger(name)
        before, holders = self._held.get(name, (logger.level, {}))
        other = next((c for c, lv in holders.items() if c != case_name and lv != level), None)
        if other is not None:
            msg = (
                f"asyncgroup: case {case_name!r} sets logger {name or 'root'!r} to level "
                f"{logging.getLevelName(level)} while case {other!r} runs with it at "
                f"{logging.getLevelName(holders[other])}; logger levels are process-wide, so "
                "one would lose the other's records: use the same level, or max_concurrency=1"
            )
            raise pytest.UsageError(msg)
        holders[case_name] = level
        self._held[name] = (before, holders)
        logger.setLevel(level)

    def release(self, name: str, case_name: str) -> None:
        before, holders = self._held.get(name, (0, {}))
        if holders.pop(case_name, None) is not None and not holders:
            del self._held[name]
            logging.getLogger(name).setLevel(before)


def _level_number(level: int | str) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())  # a name's number, for a registered name
    if not isinstance(number, int):
        msg = f"Unknown level: {level!r}"
        raise ValueError(msg)
    return number


class CaseCaplog:
    """caplog for one case: sees only the records that case emitted."""

    def __init__(
        self, output: CaseOutput, formatter: Any, levels: LoggerLevels, case_name: str
    ) -> None:
        self._output = output
        self._formatter = formatter
        self._levels = levels
        self._case_name = case_name
        self._loggers: set[str] = set()  # the loggers whose level this case set

    @property
    def records(self) -> list[Any]:
        return self._output.records

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self._output.records]

    @property
    def record_tuples(self) -> list[tuple[str, int, str]]:
        return [(r.name, r.levelno, r.getMessage()) for r in self._output.records]

    @property
    def text(self) -> str:
        return "".join(self._formatter.format(r) + "\n" for r in self._output.records)

    def clear(self) -> None:
        self._output.records.clear()

    def set_level(self, level: int | str, logger: str | None = None) -> None:
        """Process-wide, as with pytest's caplog; undone when the case ends (see LoggerLevels)."""
        __tracebackhide__ = True
        name = logger or ""
        self._levels.set(name, _level_number(level), self._case_name)
        self._loggers.add(name)

    @contextmanager
    def at_level(self, level: int | str, logger: str | None = None) -> Iterator[None]:
        __tracebackhide__ = True
        name = logger or ""
        previous = self._levels.level_of(name, self._case_name)
        self.set_level(level, logger)
        try:
            yield
        finally:
            if previous is None:
                self._levels.release(name, self._case_name)
                self._loggers.discard(name)
            else:
                self._levels.set(name, previous, self._case_name)

    def undo(self) -> None:
        for name in self._loggers:
            self._levels.release(name, self._case_name)
        self._loggers.clear()


def _tmp_path(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    """pytest's tmp_path, one directory per case (pytest's own keys its cleanup by node)."""
    factory = fixtures.parent_value("tmp_path_factory")
    name = re.sub(r"\W", "_", f"{fixtures.parent_request.node.name}_{fixtures.case_name}")[:30]
    path = factory.mktemp(name, numbered=True)
    policy = fixtures.parent_request.config.getini("tmp_path_retention_policy")

    def remove_if_passed() -> None:
        if policy == "failed" and fixtures.passed:
            shutil.rmtree(path, ignore_errors=True)

    fixtures.finalizers.append(remove_if_passed)
    return path


def _capsys(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    binary = request.fixturename in ("capsysbinary", "capfdbinary")
    return CaseCapsys(fixtures.output, fixtures.services.suspend_capture, binary)


class Claims:
    """Process-wide things patched by running cases, and the case holding each."""

    def __init__(self) -> None:
        self._owners: dict[tuple[object, ...], str] = {}

    def take(self, key: tuple[object, ...], case_name: str, doing: str) -> None:
        __tracebackhide__ = True  # the refusal is shown at the user's line
        owner = self._owners.get(key)
        if owner is not None and owner != case_name:
            msg = (
                f"asyncgroup: cases {owner!r} and {case_name!r} both {doing} while they run at "
                "the same time; that is process-wide, so each would see the other's: use "
                "max_concurrency=1 or a lock"
            )
            raise pytest.UsageError(msg)
        self._owners[key] = case_name

    def release(self, key: tuple[object, ...], case_name: str) -> None:
        if self._owners.get(key) == case_name:
            del self._owners[key]


class CaseMonkeyPatch:
    """monkeypatch for one case, undone at its end; a pytest.MonkeyPatch underneath.

    Patches are process-wide, so two overlapping cases patching the same attribute, item or
    environment variable would corrupt each other: the second one fails with a clear error.
    """

    def __init__(
        self, case_name: str, claims: Claims, outer: CaseMonkeyPatch | None = None
    ) -> None:
        self._patch = pytest.MonkeyPatch()
        self._case_name = case_name
        self._claims = claims
        self._outer = outer  # a context() inside it leaves the outer's claims alone
        self._mine: list[tuple[object, ...]] = []

    def _claim(self, key: tuple[object, ...], what: str) -> None:
        __tracebackhide__ = True
        self._claims.take(key, self._case_name, f"monkeypatch {what}")
        self._mine.append(key)

    def setattr(
        self, target: Any, name: Any = _NOTSET, value: Any = _NOTSET, raising: bool = True
    ) -> None:
        __tracebackhide__ = True
        if value is _NOTSET:  # setattr("package.module.attr", value)
            self._claim(("attr", str(target)), repr(target))
            self._patch.setattr(target, name, raising=raising)
        else:
            self._claim(("attr", id(target), name), f"{name!r} of {target!r}")
            self._patch.setattr(target, name, value, raising=raising)

    def delattr(self, target: Any, name: Any = _NOTSET, raising: bool = True) -> None:
        __tracebackhide__ = True
        key = ("attr", str(target)) if name is _NOTSET else ("attr", id(target), name)
        self._claim(key, repr(target) if name is _NOTSET else f"{name!r} of {target!r}")
        if name is _NOTSET:
            self._patch.delattr(target, raising=raising)
        else:
            self._patch.delattr(target, name, raising=raising)

    def setitem(self, dic: Any, name: Any, value: Any) -> None:
        __tracebackhide__ = True
        self._claim(("item", id(dic), name), f"item {name!r}")
        self._patch.setitem(dic, name, value)

    def delitem(self, dic: Any, name: Any, raising: bool = True) -> None:
        __tracebackhide__ = True
        self._claim(("item", id(dic), name), f"item {name!r}")
        self._patch.delitem(dic, name, raising=raising)

    def setenv(self, name: str, value: str, prepend: str | None = None) -> None:
        __tracebackhide__ = True
        self._claim(("env", name), f"environment variable {name!r}")
        self._patch.setenv(name, value, prepend)

    def delenv(self, name: str, raising: bool = True) -> None:
        __tracebackhide__ = True
        self._claim(("env", name), f"environment variable {name!r}")
        self._patch.delenv(name, raising=raising)

    def chdir(self, path: Any) -> None:
        __tracebackhide__ = True
        self._claim(("cwd",), "the working directory")
        self._patch.chdir(path)

    def syspath_prepend(self, path: Any) -> None:
        # MonkeyPatch restores the whole of sys.path as it found it: one case at a time.
        self._claim(("syspath",), "sys.path")
        self._patch.syspath_prepend(path)

    @contextmanager
    def context(self) -> Iterator[CaseMonkeyPatch]:
        """A nested monkeypatch undone at the end of the ``with`` block, as pytest's."""
        inner = CaseMonkeyPatch(self._case_name, self._claims, outer=self)
        try:
            yield inner
        finally:
            inner.undo()

    def undo(self) -> None:
        self._patch.undo()
        outer_keys = self._outer._mine if self._outer is not None else []
        for key in self._mine:
            if key not in outer_keys:
                self._claims.release(key, self._case_name)
        self._mine.clear()


def _monkeypatch(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    patch = CaseMonkeyPatch(fixtures.case_name, fixtures.services.claims)
    fixtures.finalizers.append(patch.undo)
    return patch


def _caplog(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    services = fixtures.services
    caplog = CaseCaplog(
        fixtures.output, services.log_formatter, services.levels, fixtures.case_name
    )
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
        self._records_before, output.records = output.records, []
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
                fixtures.case_name, self._msg, self._kwargs, self._phase
            )
            fixtures.failed_steps += report.failed
        out, err = self._before
        output.out.insert(0, out)
        output.err.insert(0, err)
        output.records[:0] = self._records_before
        return handled


def _record_property(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    """Properties go on the case's reports (and its JUnit testcase), not the parent's."""

    def append_property(name: str, value: object) -> None:
        fixtures.user_properties.append((name, value))

    return append_property


def _subtests(fixtures: CaseFixtures, request: CaseRequest) -> Any:
    return CaseSubtests(fixtures)


# pytest's own fixtures whose state is kept per test item, replaced by per-case versions.
# A user's fixture of the same name (not from _pytest) is used as written.
BUILTINS: dict[str, Callable[[CaseFixtures, CaseRequest], Any]] = {
    "tmp_path": _tmp_path,
    # fd-level capture cannot tell cases apart: capfd sees the case's sys-level output, and
    # capteesys captures without the tee.
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
