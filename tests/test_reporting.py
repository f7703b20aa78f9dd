"""Reports: what JUnit XML, pytest-xdist, --lf/--ff, -k, --durations and the terminal show of
each case.

Every test writes a small test file, runs pytest on it in a subprocess (most of them both
without and with ``-n 2``), and checks what a user sees: the -v case lines, the summary counts,
the JUnit XML file, the terminal output.
"""

from __future__ import annotations

import importlib.util
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import PYTEST_MAJOR, subtest_line, summary
from tests.differential import Differential

# Each reporting test runs once as a plain run and once distributed over two xdist workers.
_NO_XDIST = importlib.util.find_spec("xdist") is None
XDIST = pytest.mark.skipif(_NO_XDIST, reason="pytest-xdist is not installed")
MODES = [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist", marks=XDIST)]


# --------------------------------------------------------------------------------------------
# Helpers


def run(pytester: pytest.Pytester, mode: list[str], *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*args, *mode, timeout=60)


_OUTCOMES = {"PASS": "PASSED", "FAIL": "FAILED", "SKIP": "SKIPPED", "XFAIL": "XFAIL"}
_WORD = r"(PASSED|FAILED|SKIPPED|XFAIL|PASS|FAIL|SKIP)"
# The -v line of a case, in its four spellings: pytest 9 / pytest 8 + pytest-subtests, each
# without and with xdist. Groups: the case's node id, its outcome.
_CASE_LINE_PATTERNS = [
    # test_x.py::test_x[c1] SUBPASSED[c1]          [ 50%]
    (re.compile(rf"^(\S+::\S+) SUB{_WORD}\["), 1, 2),
    # test_x.py::test_x[c1] [c1] SUBPASS            [ 50%]
    (re.compile(rf"^(\S+::\S+) \[[^\]]*\] SUB{_WORD}\b"), 1, 2),
    # [gw0] [ 50%] SUBPASSED[c1] test_x.py::test_x[c1]
    (re.compile(rf"^\[gw\d+\] \[\s*\d+%\] SUB{_WORD}\[[^\]]*\] (\S+::\S+)"), 2, 1),
    # [gw0] [ 50%] [c1] SUBPASS test_x.py::test_x[c1]
    (re.compile(rf"^\[gw\d+\] \[\s*\d+%\] \[[^\]]*\] SUB{_WORD} (\S+::\S+)"), 2, 1),
]


def case_lines(result: pytest.RunResult) -> list[tuple[str, str]]:
    """(case node id, outcome) of every -v case line, in output order; outcome is PASSED,
    FAILED, SKIPPED or XFAIL on either pytest, with or without xdist."""
    found = []
    for line in result.outlines:
        for pattern, nodeid_group, outcome_group in _CASE_LINE_PATTERNS:
            match = pattern.match(line)
            if match:
                word = match.group(outcome_group)
                found.append((match.group(nodeid_group), _OUTCOMES.get(word, word)))
                break
    return found


def case_outcomes(result: pytest.RunResult) -> dict[str, str]:
    lines = case_lines(result)
    outcomes = dict(lines)
    assert len(outcomes) == len(lines), f"a case was reported twice: {lines}"
    return outcomes


def counts(result: pytest.RunResult) -> dict[str, int]:
    """The summary counts, without "deselected": xdist's controller does not report it."""
    return {k: v for k, v in summary(result).items() if k != "deselected"}


def junit(path: Path) -> dict[str, ET.Element]:
    """name -> <testcase> element; every name must appear once."""
    elements: dict[str, ET.Element] = {}
    for testcase in ET.parse(path).iter("testcase"):
        name = testcase.get("name")
        assert name is not None
        assert name not in elements, f"two <testcase> elements named {name}"
        elements[name] = testcase
    return elements


def junit_outcome(testcase: ET.Element) -> str:
    """passed, failure, error, skipped or xfailed."""
    for child in testcase:
        if child.tag in ("failure", "error"):
            return child.tag
        if child.tag == "skipped":
            return "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
    return "passed"


def junit_outcomes(path: Path) -> dict[str, str]:
    return {name: junit_outcome(element) for name, element in junit(path).items()}


def system_out(testcase: ET.Element) -> str:
    return "".join(element.text or "" for element in testcase.iter("system-out"))


def system_err(testcase: ET.Element) -> str:
    return "".join(element.text or "" for element in testcase.iter("system-err"))


def xdist_line(case_nodeid: str, case_id: str, outcome: str) -> str:
    """The fnmatch pattern of a case line under xdist (the outcome comes before the node id)."""
    nodeid = _escape(case_nodeid)
    case = _escape(case_id)
    if PYTEST_MAJOR >= 9:
        return f"[[]gw?[]] [[]*[]] SUB{outcome}[[]{case}[]] {nodeid}*"
    short = {v: k for k, v in _OUTCOMES.items()}[outcome]
    return f"[[]gw?[]] [[]*[]] [[]{case}[]] SUB{short} {nodeid}*"


def _escape(text: str) -> str:
    return "".join({"[": "[[]", "]": "[]]", "*": "[*]", "?": "[?]"}.get(c, c) for c in text)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(
    pytester: pytest.Pytester, *args: str, timeout: float = 60
) -> tuple[str, list[str]]:
    """Run pytest with its stdout on a pseudo-terminal: (everything written, with escape
    sequences removed, and the screen lines as a terminal shows them after \\b and \\r)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "PYTEST_ADDOPTS")}
    env["TERM"] = "xterm"
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=pytester.path,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                proc.send_signal(signal.SIGKILL)
                pytest.fail(f"pytest on a terminal did not finish within {timeout} s")
            ready, _, _ = select.select([master], [], [], remaining)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=10)
    finally:
        os.close(master)
    raw = _ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
    return raw, _render(raw)


def _render(text: str) -> list[str]:
    """What a terminal shows: \\b moves back, \\r to the line's start, characters overwrite."""
    screen = []
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        line: list[str] = []
        column = 0
        for char in raw_line:
            if char == "\b":
                column = max(0, column - 1)
            elif char == "\r":
                column = 0
            else:
                if column < len(line):
                    line[column] = char
                else:
                    line.append(char)
                column += 1
        screen.append("".join(line).rstrip())
    return screen


# --------------------------------------------------------------------------------------------
# JUnit XML


@pytest.mark.parametrize("mode", MODES)
def test_junit_has_a_testcase_per_case_with_its_own_time_and_outcome(
    pytester: pytest.Pytester, mode: list[str]
) -> None:
    pytester.makepyfile(
        test_junit="""
        import asyncio
        import pytest
        from asyncgroup import concurrent_cases

        @concurrent_cases(
            "name, delay",
            [
                ("slow", 3.0),
                ("fast", 0.0),
                ("bad", 0.0),
                ("skip", 0.0),
                pytest.param("xf", 0.0, marks=pytest.mark.xfail(reason="known bug")),
                pytest.param("notrun", 0.0, marks=pytest.mark.skip(reason="later")),
            ],
            ids=["slow", "fast", "bad", "skip", "xf", "notrun"],
        )
        async def test_x(name, delay):
            await asyncio.sleep(delay)
            if name == "bad":
                assert name == "good"
            if name == "skip":
                pytest.skip("not today")
            if name == "xf":
                raise ValueError("known")

        def test_plain():
            pass
        """
    )
    result = run(pytester, mode, "-v", "--junitxml=out.xml")
    assert counts(result) == {
        "failed": 1,
        "passed": 1,
        "skipped": 2,
        "xfailed": 1,
        "subtests passed": 2,
    }
    elements = junit(pytester.path / "out.xml")
    assert {name: junit_outcome(e) for name, e in elements.items()} == {
        "test_x": "failure",
        "test_x[slow]": "passed",
        "test_x[fast]": "passed",
        "test_x[bad]": "failure",
        "test_x[skip]": "skipped",
        "test_x[xf]": "xfailed",
        "test_x[notrun]": "skipped",
        "test_plain": "passed",
    }
    # Each case has its own duration; the parent's spans the slowest case (3 s: the quick
    # cases' 1.5 s bound leaves a loaded machine room and still tells them from the parent).
    assert float(elements["test_x[slow]"].get("time", "0")) >= 2.9
    assert float(elements["test_x[fast]"].get("time", "9")) < 1.5
    assert float(elements["test_x[bad]"].get("time", "9")) < 1.5
    assert float(elements["test_x"].get("time", "0")) >= 2.9
    # Each its own failure / skip message; the parent keeps the summary of its cases.
    bad = elements["test_x[bad]"].find("failure")
    assert bad is not None
    assert "assert 'bad' == 'good'" in (bad.get("message") or "")
    assert "test_junit.py:" in (bad.text or "")
    parent = elements["test_x"].find("failure")
    assert parent is not None
    assert "1 of 6 cases failed: bad" in (parent.get("message") or "")
    skipped = elements["test_x[skip]"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "not today"
    notrun = elements["test_x[notrun]"].find("skipped")
    assert notrun is not None
    assert notrun.get("message") == "later"
    xfailed = elements["test_x[xf]"].find("skipped")
    assert xfailed is not None
    assert "known bug" in (xfailed.get("message") or "")
    suite = next(ET.parse(pytester.path / "out.xml").iter("testsuite"))
    assert (suite.get("tests"), suite.get("failures")) == ("8", "2")


_CASE_OUTPUT_FILE = """
    import asyncio
    import logging
    import sys
    import pytest
    from asyncgroup import concurrent_cases

    @pytest.fixture
    def resource():
        yield "resource"

    @concurrent_cases(["alpha", "beta", "gamma"])
    async def test_out(name{fixture}):
        # The cases interleave: each writes before and after the others do.
        print(f"start-of-{{name}}")
        print(f"stderr-of-{{name}}", file=sys.stderr)
        logging.getLogger("cases").warning("log-of-%s", name)
        await asyncio.sleep({{"alpha": 0.2, "beta": 0.1, "gamma": 0.0}}[name])
        print(f"end-of-{{name}}")
        assert name != "beta"
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "fixture",
    [
        pytest.param(", resource", id="with-fixture"),
        pytest.param("", id="no-fixture"),
    ],
)
def test_junit_testcase_has_only_its_own_case_output(
    pytester: pytest.Pytester, mode: list[str], fixture: str
) -> None:
    pytester.makepyfile(test_out=_CASE_OUTPUT_FILE.format(fixture=fixture))
    result = run(pytester, mode, "--junitxml=out.xml", "-o", "junit_logging=all")
    assert counts(result)["failed"] == 1
    elements = junit(pytester.path / "out.xml")
    names = ["alpha", "beta", "gamma"]
    for name in names:
        element = elements[f"test_out[{name}]"]
        out, err = system_out(element), system_err(element)
        for text in (f"start-of-{name}", f"end-of-{name}", f"log-of-{name}"):
            assert text in out, f"{text!r} missing from the system-out of {name}: {out!r}"
        assert f"stderr-of-{name}" in err, f"stderr missing from {name}: {err!r}"
        for other in names:
            if other != name:
                assert other not in out + err, f"output of {other} in the case {name}"
    parent_output = system_out(elements["test_out"]) + system_err(elements["test_out"])
    for name in names:
        assert name not in parent_output


def test_junit_xml_of_cases_without_fixtures_is_their_parametrized_tests(
    differential: Differential,
) -> None:
    """A case without per-case fixtures has no setup report under --junitxml alone (JUnit XML
    reads nothing in a passing setup that took no time): each case's <testcase> is still its
    parametrized test's, with the same outcome element and the same captured output."""
    pair = differential.run(
        """
        @cases("c", ["ok", "bad", "skipped", "loud"])
        async def test_x(c):
            print(f"out of {c}")
            assert c != "bad"
            if c == "skipped":
                pytest.skip("not today")
        """,
        "--junitxml=out.xml",
        "-o",
        "junit_logging=all",
    )
    pair.assert_same()

    def testcases(folder: str) -> dict[str, tuple[str | None, list[tuple[str, str | None, str]]]]:
        path = differential.pytester.path / folder
        root = ET.parse(path / "out.xml").getroot()
        found = {}
        for element in root.iter("testcase"):
            name = element.get("name", "")
            if "[" not in name:  # the parent, which the parametrized run has not
                continue
            # A failure's text is its traceback (asyncgroup's frames hidden): its message here.
            # A skip's text names the project's folder, which differs.
            children = sorted(
                (
                    child.tag,
                    child.get("message"),
                    "" if child.tag == "failure" else (child.text or "").replace(str(path), ""),
                )
                for child in element
            )
            found[name] = (element.get("classname"), children)
        return found

    concurrent = testcases("concurrent")
    assert sorted(concurrent) == ["test_x[bad]", "test_x[loud]", "test_x[ok]", "test_x[skipped]"]
    assert concurrent == testcases("parametrized")


# --------------------------------------------------------------------------------------------
# pytest-xdist


@XDIST
def test_xdist_reports_the_same_as_a_plain_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mixed="""
        import asyncio
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.fixture
        def conn(request):
            if request.getfixturevalue("name") == "err":
                raise ConnectionError("no connection")
            yield

        @pytest.mark.parametrize("p", ["p1", "p2"])
        @concurrent_cases(
            "name",
            [
                "ok",
                "bad",
                "err",
                pytest.param("xf", marks=pytest.mark.xfail(reason="known")),
                pytest.param("sk", marks=pytest.mark.skip(reason="later")),
                "dyn",
            ],
        )
        async def test_mixed(p, name, conn):
            await asyncio.sleep(0.01)
            if name in ("bad", "xf"):
                assert name == p
            if name == "dyn":
                pytest.skip("dynamic")

        @concurrent_cases(range(7), shards=2)
        async def test_sharded(n):
            assert n != 5

        @concurrent_cases(["a", "b"])
        async def test_passing(v):
            pass

        def test_plain():
            pass

        @pytest.mark.parametrize("n", [1, 2])
        def test_plain_param(n):
            assert n == 1
        """
    )
    serial = pytester.runpytest_subprocess("-v", "--junitxml=serial.xml", timeout=60)
    distributed = pytester.runpytest_subprocess("-v", "-n", "2", "--junitxml=xdist.xml", timeout=60)
    assert "2 workers [8 items]" in distributed.stdout.str()
    expected_counts = {
        "failed": 4,  # 2 bad cases, shard 5, test_plain_param[2]
        "passed": 2,  # test_plain, test_plain_param[1]
        "skipped": 4,
        "xfailed": 2,
        "errors": 2,
        "subtests passed": 2 + 6 + 2,
    }
    assert counts(serial) == expected_counts
    assert counts(distributed) == expected_counts
    # The same case lines (-v), the same JUnit test cases with the same outcomes.
    # No SUB line for the 2 errors, nor for the 2 cases a mark skips: pytest reports those
    # at their setup, as their tests ("SKIPPED").
    assert len(case_lines(serial)) == 8 + 7 + 2
    assert case_outcomes(distributed) == case_outcomes(serial)
    serial_junit = junit_outcomes(pytester.path / "serial.xml")
    assert junit_outcomes(pytester.path / "xdist.xml") == serial_junit
    assert serial_junit["test_mixed[err-p2]"] == "error"
    assert serial_junit["test_sharded[shard2of2-5]"] == "failure"
    assert len(serial_junit) == (2 + 12) + (2 + 7) + (1 + 2) + 1 + 2  # every case's too
    # Every case line under xdist names the worker and the case.
    distributed.stdout.fnmatch_lines_random(
        [
            xdist_line("test_mixed.py::test_mixed[ok-p1]", "ok", "PASSED"),
            xdist_line("test_mixed.py::test_mixed[bad-p2]", "bad", "FAILED"),
            xdist_line("test_mixed.py::test_mixed[xf-p1]", "xf", "XFAIL"),
            xdist_line("test_mixed.py::test_mixed[dyn-p2]", "dyn", "SKIPPED"),
            xdist_line("test_mixed.py::test_sharded[shard1of2-6]", "6", "PASSED"),
            "*ERROR test_mixed.py::test_mixed[[]err-p1[]]*",
            "[[]gw?[]] [[]*%[]] SKIPPED test_mixed.py::test_mixed[[]sk-p2[]]*",
        ]
    )
    serial.stdout.fnmatch_lines(["test_mixed.py::test_mixed[[]sk-p1[]] SKIPPED (later)*"])


@pytest.mark.parametrize("mode", MODES)
def test_case_values_that_cannot_be_pickled_do_not_break_the_run(
    pytester: pytest.Pytester, mode: list[str]
) -> None:
    pytester.makepyfile(
        test_values="""
        import asyncio
        import socket
        import threading
        import pytest
        from asyncgroup import concurrent_cases

        class Unpicklable:
            def __reduce__(self):
                raise TypeError("Unpicklable cannot be pickled")
            def __repr__(self):
                return "Unpicklable()"

        SOCK = socket.socket()

        @concurrent_cases(
            "value",
            [
                lambda: 1,
                SOCK,
                threading.Lock(),
                Unpicklable(),
                pytest.param(lambda: 2, id="bad-lambda"),
                pytest.param(SOCK, id="same-socket"),
            ],
        )
        async def test_values(value):
            await asyncio.sleep(0)
            if getattr(value, "__name__", "") == "<lambda>":
                assert value() == 1
        """
    )
    # A case raising an exception that holds a socket.
    pytester.makepyfile(
        test_raises="""
        import socket
        import pytest
        from asyncgroup import concurrent_cases

        class CarriesASocket(Exception):
            def __init__(self, sock):
                super().__init__("an exception that holds a socket")
                self.sock = sock

        @concurrent_cases([socket.socket(), 1])
        async def test_raises(value):
            if isinstance(value, socket.socket):
                raise CarriesASocket(value)
        """
    )
    result = run(pytester, mode, "-v", "-l", "--junitxml=out.xml")
    # bad-lambda fails, test_raises[value0] fails; both parents fail.
    assert counts(result) == {"failed": 2, "subtests passed": 6}
    assert case_outcomes(result) == {
        "test_values.py::test_values[<lambda>]": "PASSED",
        "test_values.py::test_values[value1]": "PASSED",
        "test_values.py::test_values[value2]": "PASSED",
        "test_values.py::test_values[value3]": "PASSED",
        "test_values.py::test_values[bad-lambda]": "FAILED",
        "test_values.py::test_values[same-socket]": "PASSED",
        "test_raises.py::test_raises[value0]": "FAILED",
        "test_raises.py::test_raises[1]": "PASSED",
    }
    result.stdout.fnmatch_lines(["*CarriesASocket: an exception that holds a socket*"])
    result.stdout.fnmatch_lines(["*assert 2 == 1*"])
    outcomes = junit_outcomes(pytester.path / "out.xml")
    assert outcomes["test_values[bad-lambda]"] == "failure"
    assert outcomes["test_raises[value0]"] == "failure"
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stderr.str()


@pytest.mark.parametrize("mode", MODES)
def test_shards_split_the_cases_over_parents(pytester: pytest.Pytester, mode: list[str]) -> None:
    pytester.makepyfile(
        test_shards="""
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases(range(10), shards=3)
        async def test_x(n):
            await asyncio.sleep(0)
            assert n != 4
        """
    )
    result = run(pytester, mode, "-v", "--junitxml=out.xml")
    assert counts(result) == {"failed": 1, "subtests passed": 9}
    expected = {
        f"test_shards.py::test_x[shard{n % 3 + 1}of3-{n}]": "FAILED" if n == 4 else "PASSED"
        for n in range(10)
    }
    assert case_outcomes(result) == expected
    outcomes = junit_outcomes(pytester.path / "out.xml")
    assert outcomes == {
        "test_x[shard1of3]": "passed",
        "test_x[shard2of3]": "failure",
        "test_x[shard3of3]": "passed",
        **{
            name.split("::")[1]: "failure" if outcome == "FAILED" else "passed"
            for name, outcome in expected.items()
        },
    }
    result.stdout.fnmatch_lines(
        ["FAILED test_shards.py::test_x[[]shard2of3[]] - Failed: 1 of 3 cases failed: 4"]
    )


# --------------------------------------------------------------------------------------------
# --lf, --ff


_FAILING_FROM_FILE = """
    import asyncio
    import pathlib
    from asyncgroup import concurrent_cases

    FAILING = pathlib.Path(__file__).with_name("failing.txt").read_text().split()

    @concurrent_cases([f"c{i}" for i in range(6)], max_concurrency=1)
    async def test_x(name):
        await asyncio.sleep(0)
        assert name not in FAILING

    def test_other():
        pass
"""


@pytest.mark.parametrize("mode", MODES)
def test_last_failed_reruns_only_the_failed_cases(
    pytester: pytest.Pytester, mode: list[str]
) -> None:
    pytester.makepyfile(test_lf=_FAILING_FROM_FILE)
    failing = pytester.path / "failing.txt"
    failing.write_text("c2 c4")
    first = run(pytester, mode, "-v")
    assert counts(first) == {"failed": 2, "passed": 1, "subtests passed": 4}

    again = run(pytester, mode, "-v", "--lf")
    assert case_outcomes(again) == {
        "test_lf.py::test_x[c2]": "FAILED",
        "test_lf.py::test_x[c4]": "FAILED",
    }
    assert counts(again) == {"failed": 2}
    again.stdout.fnmatch_lines(["FAILED test_lf.py::test_x - Failed: 2 of 2 cases failed: c2, c4"])
    assert "test_other" not in again.stdout.str()

    failing.write_text("c4")  # c2 fixed: it reruns and passes
    fixed = run(pytester, mode, "-v", "--lf")
    assert case_outcomes(fixed) == {
        "test_lf.py::test_x[c2]": "PASSED",
        "test_lf.py::test_x[c4]": "FAILED",
    }
    assert counts(fixed) == {"failed": 1, "subtests passed": 1}

    last = run(pytester, mode, "-v", "--lf")  # only c4 is left failing
    assert case_outcomes(last) == {"test_lf.py::test_x[c4]": "FAILED"}
    assert counts(last) == {"failed": 1}


@pytest.mark.parametrize("mode", MODES)
def test_failed_first_runs_the_failed_cases_first(
    pytester: pytest.Pytester, mode: list[str]
) -> None:
    pytester.makepyfile(test_ff=_FAILING_FROM_FILE)
    (pytester.path / "failing.txt").write_text("c2 c4")
    first = run(pytester, mode, "-v")
    assert [nodeid for nodeid, _ in case_lines(first)] == [
        f"test_ff.py::test_x[c{i}]" for i in range(6)
    ]

    (pytester.path / "failing.txt").write_text("")
    result = run(pytester, mode, "-v", "--ff")
    order = [nodeid.rpartition("[")[2].rstrip("]") for nodeid, _ in case_lines(result)]
    assert order == ["c2", "c4", "c0", "c1", "c3", "c5"]
    assert counts(result) == {"passed": 1, "subtests passed": 6}


# --------------------------------------------------------------------------------------------
# -k


_KEYWORD_FILE = """
    import asyncio
    import pytest
    from asyncgroup import concurrent_cases

    @concurrent_cases([f"order-{i}" for i in range(10)])
    async def test_orders(order):
        await asyncio.sleep(0)

    @pytest.mark.parametrize("p", ["p1", "p2"])
    @concurrent_cases("item", ["item-0", "item-1", "item-2"])
    async def test_items(p, item):
        pass

    @concurrent_cases(["m0", pytest.param("m1", marks=pytest.mark.nightly)])
    async def test_marked(m):
        pass

    def test_other():
        pass
"""

ORDERS = {f"test_kw.py::test_orders[order-{i}]" for i in range(10)}
ITEMS = {f"test_kw.py::test_items[item-{i}-{p}]" for p in ("p1", "p2") for i in range(3)}
MARKED = {"test_kw.py::test_marked[m0]", "test_kw.py::test_marked[m1]"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("expression", "cases", "other_runs"),
    [
        pytest.param("order-7", {"test_kw.py::test_orders[order-7]"}, False, id="case-id"),
        pytest.param("test_orders", ORDERS, False, id="test-name"),
        pytest.param(
            "not order-7",
            (ORDERS | ITEMS | MARKED) - {"test_kw.py::test_orders[order-7]"},
            True,
            id="not",
        ),
        pytest.param(
            "nightly",
            {"test_kw.py::test_marked[m1]"},
            False,
            id="case-mark",
        ),
        pytest.param(
            "(order-3 and not order-5) or (order-5 and not order-3)",
            {"test_kw.py::test_orders[order-3]", "test_kw.py::test_orders[order-5]"},
            False,
            id="exclusive-or",
        ),
        pytest.param(
            "order-3 or order-7",
            {"test_kw.py::test_orders[order-3]", "test_kw.py::test_orders[order-7]"},
            False,
            id="or",
        ),
        pytest.param(
            "p1 and item-2", {"test_kw.py::test_items[item-2-p1]"}, False, id="parametrized"
        ),
    ],
)
def test_keyword_selects_cases(
    pytester: pytest.Pytester,
    mode: list[str],
    expression: str,
    cases: set[str],
    other_runs: bool,
) -> None:
    pytester.makepyfile(test_kw=_KEYWORD_FILE)
    pytester.makeconftest(
        "def pytest_configure(config):\n"
        "    config.addinivalue_line('markers', 'nightly: a case mark')\n"
    )
    result = run(pytester, mode, "-v", "-k", expression)
    assert set(case_outcomes(result)) == cases
    assert set(case_outcomes(result).values()) == {"PASSED"}
    assert counts(result)["subtests passed"] == len(cases)
    assert ("test_kw.py::test_other" in result.stdout.str()) == other_runs


# --------------------------------------------------------------------------------------------
# Terminal output


@pytest.mark.parametrize("mode", MODES)
def test_default_output_of_many_passing_cases_is_short(
    pytester: pytest.Pytester, mode: list[str]
) -> None:
    pytester.makepyfile(
        test_many="""
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases(range(200))
        async def test_many(n):
            await asyncio.sleep(0.001 * (n % 20))
        """
    )
    result = run(pytester, mode)
    assert result.ret == 0
    assert len(result.outlines) < 30, result.stdout.str()
    marks = "".join(
        m.group(1)
        for line in result.outlines
        if (m := re.match(r"^(?:\S+\.py )?([.,uFsxX-]+)\s+\[\s*\d+%\]$", line))
    )
    if PYTEST_MAJOR >= 9:
        assert marks == "."  # the parent's; no letter for a passing case
    else:
        assert marks.count(".") == 1
        assert len(marks) <= 201  # at most one mark per case
    assert "cases, " not in result.stdout.str()  # no live status on a pipe
    # -v: one line per case.
    verbose = run(pytester, mode, "-v")
    assert len(case_lines(verbose)) == 200
    assert set(case_outcomes(verbose).values()) == {"PASSED"}


_STATUS = re.compile(r"\[\d+/200 cases, \d+ failed\]")

_STATUS_FILE = """
    import asyncio
    from asyncgroup import concurrent_cases

    @concurrent_cases(range(200))
    async def test_many(n):
        await asyncio.sleep(0.002 * (n % 100))
        assert n not in (13, 14)
"""


def test_live_status_appears_on_a_terminal_and_is_erased(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_status=_STATUS_FILE)
    raw, screen = run_on_terminal(pytester)
    assert _STATUS.search(raw), raw
    if PYTEST_MAJOR >= 9:  # no case letters to fill the line: the last count is shown too
        assert "[200/200 cases, 2 failed]" in raw
    # Erased in place: the terminal shows pytest's own progress line, without the status.
    assert not any(_STATUS.search(line) for line in screen), screen
    progress = [line for line in screen if line.startswith("test_status.py ")]
    assert len(progress) == 1, screen
    assert progress[0].endswith("[100%]"), screen
    assert "2 failed" in "\n".join(screen[-3:])


def test_live_status_is_not_shown_with_verbose_on_a_terminal(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_status=_STATUS_FILE)
    raw, _ = run_on_terminal(pytester, "-v")
    assert "test_status.py::test_many[199]" in raw  # it did run, verbosely
    assert "cases, " not in raw


@pytest.mark.parametrize("mode", MODES)
def test_live_status_is_not_written_to_a_pipe(pytester: pytest.Pytester, mode: list[str]) -> None:
    pytester.makepyfile(test_status=_STATUS_FILE)
    result = run(pytester, mode)
    assert counts(result)["failed"] == 2
    assert "cases, " not in result.stdout.str() + result.stderr.str()


# --------------------------------------------------------------------------------------------
# Fixture errors, --durations, -x


_FIXTURE_ERROR_FILE = """
    import asyncio
    import pytest
    from asyncgroup import concurrent_cases

    @pytest.fixture
    def conn(request):
        if {phase!r} == "setup" and request.getfixturevalue("name") == "b":
            raise ConnectionError("cannot connect for b")
        yield
        if {phase!r} == "teardown" and request.getfixturevalue("name") == "b":
            raise ConnectionError("cannot connect for b")

    @concurrent_cases(["a", "b", "c"])
    async def test_x(name, conn):
        await asyncio.sleep(0)
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("phase", ["setup", "teardown"])
def test_fixture_error_of_a_case_is_an_error_of_that_case(
    pytester: pytest.Pytester, mode: list[str], phase: str
) -> None:
    pytester.makepyfile(test_err=_FIXTURE_ERROR_FILE.format(phase=phase))
    result = run(pytester, mode, "-v", "--junitxml=out.xml")
    assert counts(result) == {
        "error": 1,
        "subtests passed": 2 if phase == "setup" else 3,
    }
    expected = {"test_err.py::test_x[a]": "PASSED", "test_err.py::test_x[c]": "PASSED"}
    if phase == "teardown":  # as pytest does: the body passed, then its teardown errored
        expected["test_err.py::test_x[b]"] = "PASSED"
    assert case_outcomes(result) == expected
    if mode:
        result.stdout.fnmatch_lines(["[[]gw?[]] [[]*[]] ERROR test_err.py::test_x[[]b[]]*"])
    else:
        result.stdout.fnmatch_lines(["test_err.py::test_x[[]b[]] ERROR*"])
    result.stdout.fnmatch_lines(
        [
            "*= ERRORS =*",
            f"*_ ERROR at {phase} of test_x[[]b[]] _*",  # the case's name heads its error
            "E * ConnectionError: cannot connect for b",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            # As pytest counts it: an error, not a failure, of the case.
            "FAILED test_err.py::test_x - Failed: 1 of 3 cases errored: b",
            "ERROR test_err.py::test_x[[]b[]] - ConnectionError: cannot connect for b",
        ]
    )
    assert "FAILED test_err.py::test_x[b]" not in result.stdout.str()
    assert "SUBFAIL" not in result.stdout.str()
    elements = junit(pytester.path / "out.xml")
    assert junit_outcome(elements["test_x[b]"]) == "error"
    error = elements["test_x[b]"].find("error")
    assert error is not None
    assert f"failed on {phase}" in (error.get("message") or "")
    assert junit_outcome(elements["test_x[a]"]) == "passed"
    assert junit_outcome(elements["test_x"]) == "failure"


@pytest.mark.parametrize("mode", MODES)
def test_durations_list_slow_cases_by_id(pytester: pytest.Pytester, mode: list[str]) -> None:
    pytester.makepyfile(
        test_slow="""
        import asyncio
        import time
        from asyncgroup import concurrent_cases

        @concurrent_cases(["slow", "quick", "instant"])
        async def test_x(name):
            await asyncio.sleep({"slow": 0.4, "quick": 0.0, "instant": 0.0}[name])

        def test_plain_slow():
            time.sleep(0.25)
        """
    )
    result = run(pytester, mode, "--durations=5", "--durations-min=0.1")
    assert result.ret == 0
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if "slowest 5 durations" in line)
    section = []
    for line in lines[start + 1 :]:
        if not re.match(r"^\d+\.\d+s ", line):
            break
        section.append(line)
    calls = [line.split()[-1] for line in section if line.split()[1] == "call"]
    assert "test_slow.py::test_x[slow]" in calls
    assert "test_slow.py::test_plain_slow" in calls
    assert "test_slow.py::test_x" in calls  # the parent, as long as its slowest case
    assert calls.index("test_slow.py::test_x[slow]") < calls.index("test_slow.py::test_plain_slow")
    assert not any("quick" in line or "instant" in line for line in section)
    duration = float(next(line for line in section if "test_x[slow]" in line).split("s")[0])
    assert 0.35 <= duration < 2


@pytest.mark.parametrize("mode", MODES)
def test_exitfirst_cancels_the_running_cases(pytester: pytest.Pytester, mode: list[str]) -> None:
    pytester.makepyfile(
        test_stop="""
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases(["boom", "slow1", "slow2"])
        async def test_x(name):
            if name == "boom":
                await asyncio.sleep(0.1)
                assert False, "boom"
            await asyncio.sleep(600)
        """
    )
    started = time.monotonic()
    result = run(pytester, mode, "-v", "-x", "-rs")
    assert time.monotonic() - started < 45  # not the slow cases' 600 s
    assert case_outcomes(result) == {
        "test_stop.py::test_x[boom]": "FAILED",
        "test_stop.py::test_x[slow1]": "SKIPPED",
        "test_stop.py::test_x[slow2]": "SKIPPED",
    }
    assert counts(result) == {"failed": 1, "skipped": 2}
    result.stdout.fnmatch_lines(["*cancelled: stopping after 1 failures*"])


def test_subtest_line_helper_matches_a_plain_run(pytester: pytest.Pytester) -> None:
    """The conftest's subtest_line and this file's case_lines read the same -v output."""
    pytester.makepyfile(
        test_line="""
        from asyncgroup import concurrent_cases

        @concurrent_cases(["good", "bad"])
        async def test_x(name):
            assert name == "good"
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    result.stdout.fnmatch_lines_random(
        [
            subtest_line("test_line.py::test_x", "good", "PASSED"),
            subtest_line("test_line.py::test_x", "bad", "FAILED"),
        ]
    )
    assert case_outcomes(result) == {
        "test_line.py::test_x[good]": "PASSED",
        "test_line.py::test_x[bad]": "FAILED",
    }


# --------------------------------------------------------------------------------------------
# The failure summary with many case reports


_TEARDOWN_OUTPUT = """
import pytest
{imports}

@pytest.fixture
def resource(n):
    yield n
    print(f"teardown-of-{{n}}")

{decorator}
async def test_t(n, resource):
    assert n % 3 != 1
"""


@pytest.mark.parametrize("verbosity", [[], ["-v"]])
def test_failure_summary_shows_each_failed_case_teardown_output_as_parametrize_does(
    pytester: pytest.Pytester, verbosity: list[str]
) -> None:
    # With --junitxml every phase of a case is reported, so the FAILURES section shows each
    # failed case's "Captured stdout teardown", looked up among thousands of reports.
    n = 300
    variants = {
        "concurrent": ("from asyncgroup import concurrent_cases", f"@concurrent_cases(range({n}))"),
        "parametrized": (
            "",
            f"@pytest.mark.asyncio\n@pytest.mark.parametrize('n', range({n}))",
        ),
    }
    shown = {}
    for name, (imports, decorator) in variants.items():
        pytester.makepyfile(
            **{f"test_{name}": _TEARDOWN_OUTPUT.format(imports=imports, decorator=decorator)}
        )
        result = run(pytester, [], f"test_{name}.py", "--junitxml=out.xml", *verbosity)
        assert result.ret == 1
        lines = result.outlines
        shown[name] = [
            lines[i + 1] for i, line in enumerate(lines) if "Captured stdout teardown" in line
        ]
    expected = [f"teardown-of-{i}" for i in range(n) if i % 3 == 1]
    assert sorted(shown["parametrized"]) == sorted(expected)
    assert sorted(shown["concurrent"]) == sorted(expected)
