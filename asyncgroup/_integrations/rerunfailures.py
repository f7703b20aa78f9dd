"""pytest-rerunfailures: a failed case is rerun, as its parametrized test would be; its parent
runs once.

With ``--reruns N`` (or the ``reruns`` ini option) or ``@pytest.mark.flaky`` on the test, its
class, its module or a case's ``pytest.param``, the plugin reruns a failed test up to N times.
Rerunning the parent would run every case again, so the parent runs once, by pytest's own
protocol, and each case that fails runs again in its own task (asyncgroup._attempts), with
fresh per-case fixtures, while the other cases go on. Each failed attempt is reported as the
plugin reports one (outcome "rerun", ``report.rerun`` = the attempt, from 0), and the last
attempt's outcome is the case's. The plugin's own functions decide, on the case seen as its
test (the parent with the case's marks): the count, delay and backoff of the flaky mark or the
options, its ``condition``, ``--only-rerun``/``--rerun-except``, ``--max-suite-reruns``.

Checked on pytest-rerunfailures 14.0 and 16.7; its private functions (the error filters, the
excluded paths) are used where they exist, with the arguments each version takes.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from asyncgroup import _compat
from asyncgroup._outcome import CASE_ID_ATTRIBUTE
from asyncgroup._settings import plan_key

PLUGIN = "rerunfailures"

# Whether a case passed or failed after a rerun in this session (for --fail-on-flaky).
_rerun_key = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """A parent (of @concurrent_cases or a group) runs once: its failed cases are rerun."""
    if plan_key not in item.stash:
        return None
    return _compat.run_test_protocol(item, nextitem)


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """A case's attempt that is rerun: "R", "RERUN" and counted, as the plugin shows a test's
    (asked before the subtests plugin, which leaves a subtest's report out when quiet)."""
    if str(report.outcome) == "rerun" and hasattr(report, CASE_ID_ATTRIBUTE):
        plugin: Any = config.pluginmanager.get_plugin(PLUGIN)
        return plugin.pytest_report_teststatus(report)
    return None


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """--fail-on-flaky: exit code 7 when a case was rerun and the run otherwise passed."""
    config = session.config
    if (
        exitstatus == 0
        and config.getoption("fail_on_flaky", False)
        and config.stash.get(_rerun_key, False)
    ):
        session.exitstatus = 7


class _CaseTest:
    """The test a case stands for, as the plugin's functions read a test: ``item`` (the parent,
    or a group's test) with ``marks``, the case's marks closest first."""

    def __init__(self, item: pytest.Item, marks: Sequence[pytest.Mark]) -> None:
        self._item = item
        self._marks = marks

    def iter_markers(self, name: str | None = None) -> Iterator[pytest.Mark]:
        return (mark for mark in self._marks if name is None or mark.name == name)

    def get_closest_marker(self, name: str, default: Any = None) -> Any:
        return next(self.iter_markers(name), default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._item, name)


def pytest_asyncgroup_case_reruns(
    item: pytest.Item, marks: Sequence[pytest.Mark]
) -> _Reruns | None:
    """The case's reruns, as the plugin's protocol would decide them for its test; None where
    the plugin leaves that test alone (no flaky mark and no --reruns, or an excluded path)."""
    plugin: Any = item.config.pluginmanager.get_plugin(PLUGIN)
    # --rerun-exclude-path, and the delay's backoff factor: not in 14.0.
    excluded = getattr(plugin, "_is_rerun_path_excluded", None)
    if excluded is not None and excluded(item):
        return None
    test = _CaseTest(item, marks)
    count = plugin.get_reruns_count(test)
    if count is None:
        return None
    backoff = getattr(plugin, "get_reruns_delay_backoff_factor", None)
    factor = backoff(test) if backoff is not None else 1.0
    return _Reruns(plugin, test, count, plugin.get_reruns_delay(test), factor)


class _Reruns:
    """One case's reruns (asyncgroup._attempts.CaseReruns)."""

    def __init__(self, plugin: Any, test: _CaseTest, count: int, delay: float, factor: float):
        self._plugin = plugin
        self._test = test
        self._count = count
        self._delay = delay
        self._factor = factor

    def most(self) -> tuple[int, float]:
        waits = sum(self._delay * self._factor**attempt for attempt in range(self._count))
        return self._count, float(waits)

    def last(self, attempt: int, reports: list[pytest.TestReport]) -> None:
        for report in reports:
            report.rerun = attempt  # type: ignore[attr-defined]

    def again(
        self, attempt: int, reports: list[pytest.TestReport], errors: dict[str, BaseException]
    ) -> float | None:
        self.last(attempt, reports)
        failed = [report for report in reports if report.failed]
        if attempt >= self._count or not failed or any(hasattr(r, "wasxfail") for r in reports):
            return None
        excinfos = {
            when: pytest.ExceptionInfo.from_exception(error) for when, error in errors.items()
        }
        if any(self._terminal(report, excinfos.get(report.when)) for report in failed):
            return None  # --only-rerun / --rerun-except rule the error out
        if not self._condition([(report.when, 0, excinfos.get(report.when)) for report in failed]):
            return None
        config = self._test.config
        most = getattr(config.option, "max_suite_reruns", None)  # not in 14.0
        if most is not None and not config.failures_db.try_increment_suite_reruns(most):
            return None
        for report in failed:
            report.outcome = "rerun"  # type: ignore[assignment]
        config.stash[_rerun_key] = True
        return float(self._delay * self._factor**attempt)

    def _terminal(self, report: pytest.TestReport, excinfo: Any) -> bool:
        """Whether the plugin's error filters keep this failure from a rerun."""
        check = self._plugin._should_hard_fail_on_error
        if len(inspect.signature(check).parameters) == 2:  # < 16: matched on the report alone
            return bool(check(self._test, report))
        return bool(check(self._test, report, excinfo))

    def _condition(self, failures: list[tuple[str, int, Any]]) -> bool:
        """The flaky mark's ``condition``, given the attempt's errors where the plugin takes
        them (a callable condition is called with the error)."""
        condition = self._plugin.get_reruns_condition
        self._test._rerun_condition_results = {}  # type: ignore[attr-defined]  # its cache
        if len(inspect.signature(condition).parameters) == 1:
            return bool(condition(self._test))
        return bool(condition(self._test, failures))
