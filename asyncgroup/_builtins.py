"""Per-case versions of pytest's built-in fixtures whose state pytest keeps per test item.

pytest's capture fixtures register with its capture manager (one per item), its caplog reads
the item's log handler, its tmp_path cleans up by item, and its monkeypatch and recwarn change
the whole process. For overlapping cases each gets its own, or, where a process-wide change
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


class CaseCaplog:
    """caplog for one case: sees only the records that case emitted."""

    def __init__(self, output: CaseOutput, formatter: Any) -> None:
        self._output = output
        self._formatter = formatter
        self._restore: list[Callable[[], None]] = []

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
        """Process-wide, as with pytest's caplog; undone when the case ends."""
        target = logging.getLogger(logger)
        old = target.level
        self._restore.append(lambda: target.setLevel(old))
        target.setLevel(level)

    @contextmanager
    def at_level(self, level: int | str, logger: str | None = None) -> Iterator[None]:
        target = logging.getLogger(logger)
        old = target.level
        target.setLevel(level)
        try:
            yield
        finally:
            target.setLevel(old)

    def undo(self) -> None:
        while self._restore:
            self._restore.pop()()


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
    """Process-wide things (a patched attribute, recwarn), and the running case holding each."""

    def __init__(self) -> None:
        self._owners: dict[tuple[object, ...], str] = {}

    def take(self, key: tuple[object, ...], case_name: str, doing: str) -> None:
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
        self._claims.take(key, self._case_name, f"monkeypatch {what}")
        self._mine.append(key)

    def setattr(
        self, target: Any, name: Any = _NOTSET, value: Any = _NOTSET, raising: bool = True
    ) -> None:
        if value is _NOTSET:  # setattr("package.module.attr", value)
            self._claim(("attr", str(target)), repr(target))
            self._patch.setattr(target, name, raising=raising)
        else:
            self._claim(("attr", id(target), name), f"{name!r} of {target!r}")
            self._patch.setattr(target, name, value, raising=raising)

    def delattr(self, target: Any, name: Any = _NOTSET, raising: bool = True) -> None:
        key = ("attr", str(target)) if name is _NOTSET else ("attr", id(target), name)
        self._claim(key, repr(target) if name is _NOTSET else f"{name!r} of {target!r}")
        if name is _NOTSET:
            self._patch.delattr(target, raising=raising)
        else:
            self._patch.delattr(target, name, raising=raising)

    def setitem(self, dic: Any, name: Any, value: Any) -> None:
        self._claim(("item", id(dic), name), f"item {name!r}")
        self._patch.setitem(dic, name, value)

    def delitem(self, dic: Any, name: Any, raising: bool = True) -> None:
        self._claim(("item", id(dic), name), f"item {name!r}")
        self._patch.delitem(dic, name, raising=raising)

    def setenv(self, name: str, value: str, prepend: str | None = None) -> None:
        self._claim(("env", name), f"environment variable {name!r}")
        self._patch.setenv(name, value, prepend)

    def delenv(self, name: str, raising: bool = True) -> None:
        self._claim(("env", name), f"environment variable {name!r}")
        self._patch.delenv(name, raising=raising)

    def chdir(self, path: Any) -> None:
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
    caplog = CaseCaplog(fixtures.output, fixtures.services.log_formatter)
    fixtures.finalizers.append(caplog.undo)
    return caplog


# pytest's own fixtures that record process-wide state (recwarn: the warnings module's
# catch_warnings): one case may use them at a time.
ONE_CASE_AT_A_TIME = frozenset({"recwarn"})

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
}
