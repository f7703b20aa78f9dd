"""Unraisable exceptions (an exception in ``__del__``, say) and exceptions in threads, filed on
the case they happen in.

pytest's unraisableexception and threadexception plugins file them on the running test, the
parent, at the end of its phase. While cases run, one that happens in a case's context (its
task, or its ``def`` body's thread), or in a thread the case started (or one those threads
started), is kept for that case instead and warned as pytest warns it
(``pytest.PytestUnraisableExceptionWarning``,
``pytest.PytestUnhandledThreadExceptionWarning``) at the end of the case's phase: in the case's
report, and under ``-W error::...`` failing that case. Those outside any case go on to pytest's
hooks, filed on the parent as before.
"""

from __future__ import annotations

import sys
import threading
import traceback
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from asyncgroup import _compat
from asyncgroup._capture import CaseOutput, current_output, run_in_case


@contextmanager
def unraisable_per_case(unraisable: bool = True, threads: bool = True) -> Iterator[None]:
    """Files unraisable exceptions (``unraisable``) and exceptions in threads (``threads``) on
    the case they happen in; each only while pytest's plugin for it is on (a run with
    ``-p no:unraisableexception`` or ``-p no:threadexception`` warns of neither, for its
    parametrized tests or its cases)."""
    previous_hook, previous_excepthook = sys.unraisablehook, threading.excepthook
    previous_start = threading.Thread.start
    # Threads started by a case (a thread does not inherit its starter's context).
    started_by: weakref.WeakKeyDictionary[threading.Thread, CaseOutput] = (
        weakref.WeakKeyDictionary()
    )

    kept: list[CaseOutput] = []  # the cases that got one

    def keep(
        output: CaseOutput, category: type[Warning], summary: str, exc: Any, source: object
    ) -> None:
        # The message as pytest words it, made now: the object may change later.
        details = "".join(
            traceback.format_exception(exc.exc_type, exc.exc_value, exc.exc_traceback)
        )
        ending = _compat.tracemalloc_ending(source)
        message = f"{summary}\n\n{details}{ending}"
        output.buffer("unraisable").append((category, message, summary + ending, exc.exc_value))
        kept.append(output)

    def hook(unraisable: Any) -> None:
        output = current_output.get()
        if output is None:
            previous_hook(unraisable)
            return
        err_msg = unraisable.err_msg or "Exception ignored in"
        summary = f"{err_msg}: {unraisable.object!r}"
        warning = pytest.PytestUnraisableExceptionWarning
        keep(output, warning, summary, unraisable, unraisable.object)

    def excepthook(args: Any) -> None:
        output = started_by.get(args.thread) if args.thread is not None else None
        output = output or current_output.get()
        if output is None:
            previous_excepthook(args)
            return
        name = "<unknown>" if args.thread is None else args.thread.name
        summary = f"Exception in thread {name}"
        keep(output, pytest.PytestUnhandledThreadExceptionWarning, summary, args, args.thread)

    def start(thread: threading.Thread) -> None:
        # A thread started by a thread of the case's is the case's too.
        output = current_output.get() or started_by.get(threading.current_thread())
        if output is not None:
            started_by[thread] = output
            run_in_case(thread, output)  # what it prints and logs is the case's too
        previous_start(thread)

    if unraisable:
        sys.unraisablehook = hook
    if threads:
        threading.excepthook = excepthook
    threading.Thread.start = start  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        # What came after its case ended (a thread that outlived it) is the parent's, as before.
        late = [warn_unraisable(output) for output in kept]
        if threading.Thread.start is start:
            threading.Thread.start = previous_start  # type: ignore[method-assign]
        if threading.excepthook is excepthook:
            threading.excepthook = previous_excepthook
        if sys.unraisablehook is hook:
            sys.unraisablehook = previous_hook
    error = next((error for error in late if error is not None), None)
    if error is not None:
        raise error


def warn_unraisable(output: CaseOutput) -> BaseException | None:
    """Warn what was unraisable in the case so far; the warning that was raised as an error
    (``-W error``), if any, with the exception as its cause, as pytest raises it."""
    raised: BaseException | None = None
    while output.unraisable:
        category, msg, summary, exc_value = output.unraisable.pop(0)
        try:
            warnings.warn(category(msg), stacklevel=1)
        except (
            pytest.PytestUnraisableExceptionWarning,
            pytest.PytestUnhandledThreadExceptionWarning,
        ) as error:
            if exc_value is not None:
                error.args = (summary,)
                error.__cause__ = exc_value
            raised = raised or error
    return raised
