"""pytest-json-report: each case's entry has its parametrized test's outcome (at every
verbosity), stages, traceback, and its own stdout and log records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from differential import Differential
from report_cases import NODEIDS, both_reports


def _report(report: Path) -> dict[str, Any]:
    data = json.loads(report.read_text())
    return {"summary": data["summary"], "tests": {t["nodeid"]: t for t in data["tests"]}}


def _stages(test: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        when: (test[when]["outcome"], "traceback" in test[when], "longrepr" in test[when])
        for when in ("setup", "call", "teardown")
        if when in test
    }


@pytest.mark.parametrize("options", [[], ["-v"], ["-n", "2"]], ids=["default", "verbose", "xdist"])
def test_each_case_entry_as_its_parametrized_test(
    differential: Differential, options: list[str]
) -> None:
    concurrent, parametrized = both_reports(
        differential,
        _report,
        "report.json",
        "--json-report",
        "--json-report-file=report.json",
        *options,
    )
    for nodeid, name in NODEIDS.items():
        case, test = concurrent["tests"][nodeid], parametrized["tests"][nodeid]
        assert case["outcome"] == test["outcome"], (nodeid, case["outcome"], test["outcome"])
        assert _stages(case) == _stages(test), nodeid
        call = case["call"]
        assert call["stdout"] == f"stdout of {name}\n"
        assert [record["msg"] for record in call["log"]] == [f"log record of {name}"]
    # The parent adds its own entry (one more failed test); every other count is the same.
    summary = dict(concurrent["summary"])
    assert summary.pop("failed") == parametrized["summary"]["failed"] + 1
    for key in ("passed", "skipped", "xfailed"):
        assert summary[key] == parametrized["summary"][key], key
    assert "subtests passed" not in summary


def test_omitted_fields_stay_out(differential: Differential) -> None:
    """--json-report-omit streams log: no case entry has them, as no parametrized test's has."""
    concurrent, parametrized = (
        report["tests"]
        for report in both_reports(
            differential,
            _report,
            "report.json",
            "--json-report",
            "--json-report-file=report.json",
            "--json-report-omit",
            "streams",
            "log",
        )
    )
    for nodeid in NODEIDS:
        keys = {when: sorted(concurrent[nodeid][when]) for when in ("setup", "call", "teardown")}
        assert keys == {when: sorted(parametrized[nodeid][when]) for when in keys}, nodeid
