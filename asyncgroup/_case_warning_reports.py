"""Where the warnings of a case end up: filed under its node id, and, turned errors, failing it
at the user's line.

While a parent runs, pytest records the warnings of the parent item only; the per-case show
hooks (``_case_filterwarnings``'s dispatcher, ``_case_catch_warnings``'s router) sit between a
case's ``warnings.warn`` and that record. This module files what a case shows in the case's
output, for pytest's warnings summary under the case's node id, and trims those hooks' frames
from the traceback of a warning they turned into an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from asyncgroup import _case_catch_warnings, _case_filterwarnings
from asyncgroup._capture import current_output

# The files of the show hooks that raise a warning turned error.
_HOOK_FILES = (_case_filterwarnings.__file__, _case_catch_warnings.__file__)


@contextmanager
def filed_per_case(active: bool) -> Iterator[None]:
    """While a parent runs, a warning that a case shows is kept in the case's output, to be
    filed under its node id (see CaseReporter.file_warnings), as pytest files a parametrized
    test's under its own.

    pytest records an item's warnings with ``catch_warnings(record=True)``, whose sink is the
    warnings module's ``_showwarnmsg_impl`` (Python 3.10-3.13); a case's go to its output
    instead, others on to pytest's record of the parent.
    """
    record = getattr(warnings, "_showwarnmsg_impl", None)
    if not active or record is None:
        yield
        return

    def file(message: warnings.WarningMessage) -> None:
        output = current_output.get()
        if output is None:
            record(message)
        else:
            output.buffer("warnings").append(message)

    warnings._showwarnmsg_impl = file  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if warnings._showwarnmsg_impl is file:  # type: ignore[attr-defined]
            warnings._showwarnmsg_impl = record  # type: ignore[attr-defined]


def end_at_warn(error: BaseException) -> None:
    """End the traceback of a warning turned error by a per-case show hook at the line that
    warned, where the warnings module itself raises it.

    The hook (``_case_filterwarnings``'s dispatcher, ``_case_catch_warnings``'s router) raises
    it under the warnings module's own frames: left in, they would be the last entry, with the
    error line, in the case's report.
    """
    if not isinstance(error, Warning):
        return
    ours = _HOOK_FILES
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tail = []
        entry: TracebackType | None = tb.tb_next
        while entry is not None:
            tail.append(entry.tb_frame)
            entry = entry.tb_next
        if tail[-1].f_code.co_filename in ours and all(
            frame.f_code.co_filename in ours
            or frame.f_globals.get("__name__") in ("warnings", "_py_warnings")
            for frame in tail
        ):
            tb.tb_next = None
            return
        tb = tb.tb_next
