"""A case's own ``filterwarnings`` marks, for that case only.

pytest applies an item's ``filterwarnings`` marks around its run, so the parent's (function,
class, module) hold for all its cases. A case's own marks (``pytest.param(...,
marks=pytest.mark.filterwarnings(...))``) must hold for that case alone while others run at the
same time, and the warnings filters are process-wide. So while such a parent runs, one "always"
filter in front hands every warning to a dispatcher, which applies the filters of the case whose
task (or thread) issued it, as the warnings module would have, or outside cases the parent's.
"""

from __future__ import annotations

import contextvars
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from asyncgroup import _compat


class Filters:
    """A warnings filter list, and what its "default", "module" and "once" actions have shown
    (as the registries of a fresh ``catch_warnings``, one per test in pytest)."""

    __slots__ = ("filters", "shown")

    def __init__(self, filters: list[Any]) -> None:
        self.filters = filters
        self.shown: set[tuple[Any, ...]] = set()


_current: contextvars.ContextVar[Filters | None] = contextvars.ContextVar(
    "asyncgroup_case_filters", default=None
)


def case_filters(
    case_marks: Sequence[pytest.Mark], outer_marks: Sequence[pytest.Mark]
) -> Filters | None:
    """The filters in force for a case with these marks of its own, or None if it has none.

    pytest applies an item's marks closest first, each filter in front of the others: for a
    parametrized test, the function's, then the case's, then the class's and the module's. In
    force now are the parent's (function, class, module) in front of the ini and -W filters;
    applying the case's and then the class's and module's again gives the same list.
    """
    if not any(mark.name == "filterwarnings" for mark in case_marks):
        return None
    with warnings.catch_warnings():
        for mark in [*case_marks, *outer_marks]:
            if mark.name == "filterwarnings":
                for arg in mark.args:
                    warnings.filterwarnings(*_compat.parse_warning_filter(arg))
        return Filters(list(warnings.filters))


def enter_case(filters: Filters | None) -> None:
    """In a case's task: its warnings go through ``filters`` (None: the parent's)."""
    if filters is not None:
        _current.set(filters)


@contextmanager
def dispatching(active: bool) -> Iterator[None]:
    """While a parent runs cases that have filters of their own, apply them per case."""
    if not active:
        yield
        return
    parent = Filters(list(warnings.filters))
    with warnings.catch_warnings():
        show = warnings.showwarning

        def dispatch(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: Any = None,
            line: str | None = None,
        ) -> None:
            __tracebackhide__ = True
            filters = _current.get() or parent
            text = str(message)
            module = _module_of(filename, lineno)
            action = filter_action(filters.filters, text, category, module, lineno)
            if action == "error":
                raise message if isinstance(message, Warning) else category(message)
            if action == "ignore":
                return
            if action in ("default", "module", "once"):
                key = {
                    "default": (text, category, module, lineno),
                    "module": (text, category, module),
                    "once": (text, category),
                }[action]
                if key in filters.shown:
                    return
                filters.shown.add(key)
            show(message, category, filename, lineno, file, line)

        warnings.simplefilter("always")
        warnings.showwarning = dispatch
        yield


def filter_action(
    filters: list[Any], text: str, category: type[Warning], module: str, lineno: int
) -> str:
    """The first matching filter's action, as ``warnings.warn_explicit`` finds it (``module``:
    the name a filter's module pattern is matched against)."""
    for action, message, kind, module_re, line in filters:
        if (
            _matched(message, text)
            and issubclass(category, kind)
            and _matched(module_re, module)
            and (line == 0 or lineno == line)
        ):
            return str(action)
    return str(warnings.defaultaction)  # type: ignore[attr-defined]


def _matched(pattern: Any, text: str) -> bool:
    """Whether a filter's message or module ``pattern`` matches, as ``warn_explicit`` matches
    it (CPython's ``check_matched``): None matches anything; a plain str, which Python's own
    default filters hold (``'__main__'``), matches exactly; anything else is a compiled regex."""
    if pattern is None:
        return True
    if isinstance(pattern, str):
        return pattern == text
    return bool(pattern.match(text))


def _module_of(filename: str, lineno: int) -> str:
    """The module name ``warnings.warn`` matched filters against: the warning's frame's
    ``__name__``; failing that, the file name without ``.py``, as ``warn_explicit`` does."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == filename and frame.f_lineno == lineno:
            return str(frame.f_globals.get("__name__", filename))
        frame = frame.f_back  # type: ignore[assignment]
    module = filename or "<unknown>"
    return module[:-3] if module[-3:].lower() == ".py" else module
