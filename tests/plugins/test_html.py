"""pytest-html: a row per case, with its outcome, duration, traceback and own output, as for the
parametrized test, whatever other options the run has."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from differential import Differential
from report_cases import NODEIDS, both_reports, own_output_only


def _rows(report: Path) -> dict[str, dict[str, str]]:
    """node id -> the row pytest-html 4 wrote (its data-jsonblob): result, duration, log."""
    found = re.search(r'data-jsonblob="([^"]*)"', report.read_text())
    assert found is not None
    rows = json.loads(html.unescape(found.group(1)))["tests"]
    return {
        nodeid: {
            "result": row["result"],
            "duration": row["duration"],
            "log": html.unescape("".join(row.get("log", ""))),
        }
        for nodeid, [row] in ((k, v) for k, v in rows.items())
    }


@pytest.mark.parametrize(
    "options",
    [["--self-contained-html"], ["--self-contained-html", "--junitxml=junit.xml"], ["-n", "2"]],
    ids=["self-contained", "with-junitxml", "xdist"],
)
def test_a_row_per_case(differential: Differential, options: list[str]) -> None:
    concurrent, parametrized = both_reports(
        differential, _rows, "report.html", "--html=report.html", *options
    )
    for nodeid, name in NODEIDS.items():
        case, test = concurrent[nodeid], parametrized[nodeid]
        assert case["result"] == test["result"], nodeid
        assert own_output_only(name, case["log"]), (nodeid, case["log"])
        traceback = f"AssertionError: case {name} fails"
        assert (traceback in case["log"]) == (traceback in test["log"]), (nodeid, case["log"])
        assert case["duration"].endswith(" ms"), case
    assert concurrent["test_it.py::test_x[fail]"]["result"] == "Failed"
    assert concurrent["test_it.py::test_x[xfail]"]["result"] == "XFailed"
