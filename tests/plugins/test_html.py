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


def _extras(report: Path) -> dict[str, list[str]]:
    """node id -> the content of each extra of its row."""
    found = re.search(r'data-jsonblob="([^"]*)"', report.read_text())
    assert found is not None
    rows = json.loads(html.unescape(found.group(1)))["tests"]
    return {
        nodeid: [extra["content"] for extra in row.get("extras", [])]
        for nodeid, [row] in rows.items()
    }


def test_extras_a_projects_makereport_wrapper_adds_are_in_the_cases_row(
    differential: Differential,
) -> None:
    """pytest-html's way to add a link to a test's row (a pytest_runtest_makereport wrapper in
    a conftest adding to ``report.extras``) adds it to each case's row."""
    differential.write(
        """
        @cases("n", [1, 2])
        async def test_x(n):
            await asyncio.sleep(0.1)
            assert n == 1
        """
    )
    wrapper = """
import pytest
import pytest_html

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        extras = getattr(report, "extras", [])
        extras.append(pytest_html.extras.url("https://example.invalid/" + item.name, name="link"))
        report.extras = extras
"""
    folder = differential.pytester.path
    for run in ("concurrent", "parametrized"):
        with (folder / run / "conftest.py").open("a") as conftest:
            conftest.write(wrapper)
    differential.rerun("--html=report.html", "--self-contained-html").assert_same()
    concurrent, parametrized = (
        _extras(folder / run / "report.html") for run in ("concurrent", "parametrized")
    )
    assert parametrized == {
        "test_it.py::test_x[1]": ["https://example.invalid/test_x[1]"],
        "test_it.py::test_x[2]": ["https://example.invalid/test_x[2]"],
    }
    assert {nodeid: concurrent[nodeid] for nodeid in parametrized} == parametrized
