"""A case's own ``filterwarnings`` marks, for that case only, and its own "once per location".

pytest applies an item's ``filterwarnings`` marks around its run, so the parent's (function,
class, module) hold for all its cases. A case's own marks (``pytest.param(...,
marks=pytest.mark.filterwarnings(...))``) must hold for that case alone while others run at the
same time, and the warnings filters are process-wide. And pytest's ``catch_warnings`` around
each test resets the registries of the "default", "module" and "once" actions, so a warning a
parametrized test repeats is shown once *per test*; the parent's one ``catch_warnings`` would
show it for its first case only. So while a parent runs, one "always" filter in front hands
every warning to a dispatcher, which applies the filters of the case whose task (or thread)
issued it, as the warnings module would have, or outside cases the parent's, and shows a
warning again only to a case that has not shown it yet.
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
from asyncgroup._capture import current_output

# The filter in front that hands every warning to a show hook, which applies the filters
# behind it (_case_catch_warnings' frames copy the filters without it).
ALWAYS = ("always", None, Warning, None, 0)


class Filters:
    """A warnings filter list, and what its "default", "module" and "once" actions have shown
    outside cases (as the registries of a fresh ``catch_warnings``, one per test in pytest)."""

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


def check_case_filters(cases: Sequence[Any]) -> None:
    """Parse the cases' own filterwarnings marks: a malformed one raises pytest's UsageError,
    which stops the session (exit code 4), as pytest's warnings plugin stops it on the mark
    of a parametrized test before that test runs."""
    for case in cases:
        for mark in case.marks:
            if mark.name == "filterwarnings":
                for arg in mark.args:
                    _compat.parse_warning_filter(arg)


def enter_case(filters: Filters | None) -> None:
    """In a case's task: its warnings go through ``filters`` (None: the parent's)."""
    if filters is not None:
        _current.set(filters)


@contextmanager
def dispatching(active: bool) -> Iterator[None]:
    """While a parent runs, apply the filters of the case that warns, and its "once"."""
    if not active:
        yield
        return
    parent = Filters(list(warnings.filters))
    with warnings.catch_warnings():
        # The show hook that gets the whole WarningMessage: a ResourceWarning's source (for
        # pytest's "Object allocated at" under tracemalloc) is lost on showwarning's.
        showwarning = warnings.showwarning
        show = warnings._showwarnmsg_impl  # type: ignore[attr-defined]

        def dispatch(message: warnings.WarningMessage) -> None:
            __tracebackhide__ = True
            filters = _current.get() or parent
            text = str(message.message)
            category, filename, lineno = message.category, message.filename, message.lineno
            module = _module_of(filename, lineno)
            action = filter_action(filters.filters, text, category, module, lineno)
            if action == "error":
                warning = message.message
                raise warning if isinstance(warning, Warning) else category(warning)
            if action == "ignore":
                return
            if action in ("default", "module", "once") and _repeated(
                filters, action, text, category, module, filename, lineno
            ):
                return
            if showwarning is not warnings._showwarning_orig:  # type: ignore[attr-defined]
                showwarning(message.message, category, filename, lineno, message.file, message.line)
            else:
                show(message)

        warnings.filters.insert(0, ALWAYS)  # type: ignore[attr-defined]
        warnings._filters_mutated()  # type: ignore[attr-defined]
        warnings.showwarning = warnings._showwarning_orig  # type: ignore[attr-defined]
        warnings._showwarnmsg_impl = dispatch  # type: ignore[attr-defined]
        yield


def _repeated(
    filters: Filters,
    action: str,
    text: str,
    category: type[Warning],
    module: str,
    filename: str,
    lineno: int,
) -> bool:
    """Whether a warning with the "default", "module" or "once" action was shown before in
    this test: in the case that issues it, what it warned so far in its attempt (pytest files
    each attempt as a test of its own); outside cases, what ``filters`` showed.

    A case's warnings are read back from its output (few, as the repeats are dropped), so a
    case that warns nothing keeps nothing more."""
    output = current_output.get()
    if output is None:
        key = {
            "default": (text, category, module, lineno),
            "module": (text, category, module),
            "once": (text, category),
        }[action]
        if key in filters.shown:
            return True
        filters.shown.add(key)
        return False
    return any(
        shown.category is category
        and str(shown.message) == text
        and (action == "once" or shown.filename == filename)
        and (action != "default" or shown.lineno == lineno)
        for shown in output.warnings or ()
    )


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
