"""Running a failed case again: the hook point for a plugin that reruns failed tests.

Such a plugin (pytest-rerunfailures) reruns the test a case stands for, not its parent. Its
integration implements the hook ``pytest_asyncgroup_case_reruns`` (asyncgroup/_hooks.py); the
runner calls it once per case for that case's ``CaseReruns``, and after each attempt of the
case (its reports built, not yet logged) asks that whether to run the case again, and after
how many seconds.
A rerun is a fresh attempt in the case's own task: new per-case fixtures, new output, while
the other cases go on.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Protocol

import pytest

from asyncgroup._outcome import Phase

# The attempt the case's task runs, as the plugin's ``item.execution_count`` (1: the first):
# set in that task only for a case the plugin can rerun, so that a case without one keeps
# nothing more (the node of a case, or a group's test, carries it: _Services.case_node).
execution_count: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "asyncgroup_execution_count", default=None
)


class CaseReruns(Protocol):
    """What a rerun plugin says about one case."""

    def again(
        self, attempt: int, reports: list[pytest.TestReport], errors: dict[str, BaseException]
    ) -> float | None:
        """After attempt ``attempt`` (0: the first) of the case, before its reports are logged.

        ``errors``: each phase's exception by ``when`` ("setup", "call", "teardown"). Returns
        None to keep the reports as the case's outcome, or else the seconds (>= 0) to wait
        before the case runs again; the plugin has then marked the reports as an attempt's
        that is superseded, which the runner no longer counts as the case's failure.
        """

    def most(self) -> tuple[int, float]:
        """The most reruns the case can get, and the seconds of all the waits before them
        (for a bound on how long the case can run)."""

    def last(self, attempt: int, reports: list[pytest.TestReport]) -> None:
        """The reports of an attempt the case cannot follow with another (it was skipped, or
        the run stopped): for the plugin to mark as its final attempt's."""


class Attempt:
    """One attempt of a case: which (0: the first), and what its rerun plugin decides after it.

    ``decided``: set by the case's task when it can run again (it ran to its end, and the run
    goes on); resolved, when its reports are built, with the seconds to wait before the next
    attempt, or None.
    """

    __slots__ = ("decided", "index", "reruns")

    def __init__(self, reruns: CaseReruns | None, index: int) -> None:
        self.reruns = reruns
        self.index = index
        self.decided: asyncio.Future[float | None] | None = None

    def decide(self, reports: list[pytest.TestReport], phases: list[Phase]) -> float | None:
        """Ask the plugin about the attempt's reports: the seconds before the next, or None."""
        assert self.reruns is not None
        if self.decided is None or self.decided.cancelled():
            self.reruns.last(self.index, reports)
            return None
        errors: dict[str, BaseException] = {
            phase.when: phase.error for phase in phases if phase.error is not None
        }
        again = self.reruns.again(self.index, reports, errors)
        if not self.decided.done():
            self.decided.set_result(again)
        return again
