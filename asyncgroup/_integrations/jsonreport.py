"""pytest-json-report (checked on 1.5.0): each case's entry as its parametrized test's.

pytest-json-report takes a test's output and log records from the item, which for a case is
the parent: here each case's report carries its own, per phase, in the attribute where
pytest-json-report keeps them (``_json_report_extra``, which it also relays from xdist
workers). A passing case's category is pytest's "subtests passed" (so the terminal counts it
without a progress letter; on pytest 8 pytest-subtests also words others so, "subtests
xfailed"); in the JSON report it is "passed", as its parametrized test's.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from asyncgroup._outcome import (
    CASE_ID_ATTRIBUTE,
    CASE_REPORT_LISTENERS,
    EVERY_PHASE,
    CaseTold,
)

# Every integration module is imported (see _integrations.register); this one is registered, and
# its code run, only where pytest-json-report is installed.
with contextlib.suppress(ImportError):  # without pytest-json-report, never registered
    from pytest_jsonreport.plugin import LoggingHandler  # type: ignore[import-not-found, unused-ignore]

PLUGIN = "pytest_jsonreport"


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("json_report", False):
        return
    config.stash[EVERY_PHASE] = True  # a setup and a teardown stage per case
    omit = config.getoption("json_report_omit", None) or []
    streams, log = "streams" not in omit, "log" not in omit

    def own_output(case: CaseTold) -> None:
        for report, phase in case.reports:
            stage: dict[str, Any] = {}
            if streams and phase.out:
                stage["stdout"] = phase.out
            if streams and phase.err:
                stage["stderr"] = phase.err
            if log:
                # pytest-json-report's own handler makes its records (message formatted, no args).
                handler = LoggingHandler()
                for record in phase.records:
                    handler.emit(record)
                stage["log"] = handler.records
            report._json_report_extra = {phase.when: stage}  # type: ignore[attr-defined]

    config.stash.setdefault(CASE_REPORT_LISTENERS, []).append(own_output)
    config.pluginmanager.register(_CaseOutcomes(), "asyncgroup-jsonreport-outcomes")


class _CaseOutcomes:
    """Writes a case's outcome as its parametrized test's, in its entry and in the summary."""

    def __init__(self) -> None:
        self.cases: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and hasattr(report, CASE_ID_ATTRIBUTE):
            self.cases.add(report.nodeid)

    def pytest_json_modifyreport(self, json_report: dict[str, Any]) -> None:
        summary = json_report["summary"]
        for test in json_report.get("tests", []):
            outcome = test["outcome"]
            if outcome.startswith("subtests ") and test["nodeid"] in self.cases:
                test["outcome"] = plain = outcome.removeprefix("subtests ")
                summary[plain] = summary.get(plain, 0) + 1
                summary[outcome] -= 1
                if not summary[outcome]:
                    del summary[outcome]
