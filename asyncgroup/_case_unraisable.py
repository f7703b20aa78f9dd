"""Unraisable exceptions (an exception in ``__del__``, say) filed on the case they happen in.

pytest's unraisableexception plugin files them on the running test, the parent, at the end of
its phase. While cases run, one that happens in a case's context (its task, or its ``def``
body's thread) is kept for that case instead and warned, as pytest warns it, as
``pytest.PytestUnraisableExceptionWarning`` at the end of the case's body: in the case's
report, and under ``-W error::pytest.PytestUnraisableExceptionWarning`` failing that case.
Those outside any case go on to pytest's hook, filed on the parent as before.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from asyncgroup._capture import CaseOutput, current_output


@contextmanager
def unraisable_per_case() -> Iterator[None]:
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        output = current_output.get()
        if output is None:
            previous(unraisable)
            return
        # The message as pytest words it, made now: the object may change later.
        err_msg = unraisable.err_msg or "Exception ignored in"
        summary = f"{err_msg}: {unraisable.object!r}"
        details = "".join(
            traceback.format_exception(
                unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback
            )
        )
        output.unraisable.append((f"{summary}\n\n{details}", summary, unraisable.exc_value))

    sys.unraisablehook = hook
    try:
        yield
    finally:
        if sys.unraisablehook is hook:
            sys.unraisablehook = previous


def warn_unraisable(output: CaseOutput) -> BaseException | None:
    """Warn what was unraisable in the case so far; the warning that was raised as an error
    (``-W error``), if any, with the exception as its cause, as pytest raises it."""
    raised: BaseException | None = None
    while output.unraisable:
        msg, summary, exc_value = output.unraisable.pop(0)
        try:
            warnings.warn(pytest.PytestUnraisableExceptionWarning(msg), stacklevel=1)
        except pytest.PytestUnraisableExceptionWarning as error:
            if exc_value is not None:
                error.args = (summary,)
                error.__cause__ = exc_value
            raised = raised or error
    return raised
