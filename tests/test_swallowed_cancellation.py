"""Cases that catch the CancelledError meant to stop them (``except CancelledError: pass``).

A polling helper that treats cancellation as "stop polling" is common. Such a case still timed
out when its timeout cancelled it, and was still cut off when a stop (fail_fast, -x, Ctrl-C)
cancelled it: its report says so, as the parametrized test's would (a timeout there is raised
where the test waits; under -x it would not have run).
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from tests.conftest import ctrl_c, subtest_line, summary

# The inner files' start, and a step (of a function body) that waits 30 s in case ``n`` and
# does ``catch`` with the CancelledError that cuts it short.
ASYNC_CASES = """
import asyncio
import pytest_asyncio
from asyncgroup import concurrent_cases
"""


def waits_when(n: str, catch: str) -> str:
    return (
        f'    if n == "{n}":\n'
        "        try:\n"
        "            await asyncio.sleep(30)\n"
        "        except asyncio.CancelledError:\n"
        f"            {catch}\n"
    )


SWALLOWS_ITS_TIMEOUT = (
    ASYNC_CASES
    + """
@pytest_asyncio.fixture
async def slow_setup(n):
"""
    + waits_when("in_setup", "pass")
    + """    yield

@concurrent_cases("n", ["ok", "swallow", "in_setup"], timeout=1)
async def test_x(n, slow_setup):
"""
    + waits_when("swallow", 'pass  # "stop polling", and return as if done')
)


def test_a_case_that_swallows_its_timeout_fails_with_its_timeout(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_inner=SWALLOWS_ITS_TIMEOUT)
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider", timeout=60)
    output = result.stdout.str()
    assert "from_exception" not in output, output
    assert "INTERNALERROR" not in output, output
    result.stdout.fnmatch_lines_random(
        [
            subtest_line("test_inner.py::test_x", "ok", "PASSED"),
            subtest_line("test_inner.py::test_x", "swallow", "FAILED"),
            # The body was not reached: the setup timed out (pytest's ERROR).
            "ERROR test_inner.py::test_x[[]in_setup[]] - asyncgroup.CaseTimeoutError*",
            "FAILED test_inner.py::test_x[[]swallow[]] - asyncgroup.CaseTimeoutError*",
            "*1 of 3 cases failed: swallow; 1 of 3 cases errored: in_setup*",
        ]
    )
    # Saying what it did, at the line where it was waiting when its time was up.
    result.stdout.fnmatch_lines(
        [
            ">*await asyncio.sleep(30)",
            "E*CaseTimeoutError: Timeout (>1s) from asyncgroup: the case's fixture setup did not "
            "finish within its timeout of 1 s; the line marked > is where it was waiting; it "
            "caught the CancelledError of its timeout and went on",
            "test_inner.py:9: CaseTimeoutError",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            ">*await asyncio.sleep(30)",
            "E*CaseTimeoutError: Timeout (>1s) from asyncgroup: the case's body did not finish*"
            "caught the CancelledError of its timeout and went on",
            "test_inner.py:18: CaseTimeoutError",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output


# An async generator fixture that waits in its setup or its teardown, past the case's timeout;
# {catch}: what it does with the CancelledError of the timeout.
FIXTURE_WAITS = (
    ASYNC_CASES
    + """
@pytest_asyncio.fixture
async def slow(n):
"""
    + waits_when("setup", "{catch}")
    + "    yield\n"
    + waits_when("teardown", "{catch}")
    + """
@concurrent_cases("n", ["setup", "teardown"], timeout=0.5)
async def test_x(n, slow):
    pass
"""
)


def test_a_fixture_that_swallows_its_timeout_errors_at_its_line(
    pytester: pytest.Pytester,
) -> None:
    """A fixture that catches its case's timeout and goes on errors at the line where it waited,
    as the same fixture letting the cancellation through does: not an error with every
    traceback entry hidden."""

    def locations(catch: str) -> tuple[list[str], str]:
        pytester.makepyfile(test_inner=FIXTURE_WAITS.replace("{catch}", catch))
        result = pytester.runpytest_subprocess(
            "-rA", "--tb=short", "-p", "no:cacheprovider", timeout=60
        )
        output = result.stdout.str()
        assert result.ret == pytest.ExitCode.TESTS_FAILED, output
        assert "All traceback entries are hidden" not in output, output
        result.stdout.fnmatch_lines(
            [
                "*ERROR at setup of test_x[[]setup[]]*",
                "test_inner.py:9: in slow",
                "    await asyncio.sleep(30)",
                "E   asyncgroup.CaseTimeoutError: Timeout (>0.5s) from asyncgroup: the case's "
                "fixture setup did not finish*",
                "*ERROR at teardown of test_x[[]teardown[]]*",
                "test_inner.py:15: in slow",
                "    await asyncio.sleep(30)",
                "E   asyncgroup.CaseTimeoutError: Timeout (>0.5s) from asyncgroup: the case's "
                "fixture teardown did not finish*",
            ]
        )
        return [line for line in output.splitlines() if line.startswith("test_inner.py:")], output

    swallowed, output = locations("pass")
    assert "caught the CancelledError of its timeout and went on" in output, output
    let_through, _ = locations("raise")
    assert swallowed == let_through


# The inner files' start: a log, and a per-case fixture that logs its teardown.
LOGGING = """
import asyncio
import pathlib
import pytest
from asyncgroup import concurrent_cases

LOG = pathlib.Path(__file__).with_name("log.txt")

def log(line):
    with LOG.open("a") as f:
        f.write(line + "\\n")

@pytest.fixture
def resource(n):
    yield
    log(f"torn down {n}")
"""

SWALLOWS_A_STOP = (
    LOGGING
    + """
@concurrent_cases("n", ["fail", "swallow", "raise"]{options})
async def test_x(n, resource):
    if n == "fail":
        await asyncio.sleep(0.5)
        assert False
    log(f"started {n}")
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        log(f"cancelled {n}")
        if n == "raise":  # its cleanup fails
            raise ConnectionResetError("cleanup failed")
"""
)


@pytest.mark.parametrize(
    ("options", "args", "reason"),
    [
        (", fail_fast=True", (), "fail_fast: case 'fail' failed"),
        ("", ("-x",), "stopping after 1 failures"),
    ],
)
def test_a_case_that_swallows_a_stop_is_reported_cancelled(
    pytester: pytest.Pytester, options: str, args: tuple[str, ...], reason: str
) -> None:
    """Under -x its parametrized test would not have run: skipped "cancelled", not passed nor
    failed by what it did once cut off."""
    pytester.makepyfile(test_inner=SWALLOWS_A_STOP.replace("{options}", options))
    result = pytester.runpytest_subprocess("-v", "-rs", "-p", "no:cacheprovider", *args, timeout=60)
    output = result.stdout.str()
    result.stdout.fnmatch_lines_random(
        [
            subtest_line("test_inner.py::test_x", "fail", "FAILED"),
            subtest_line("test_inner.py::test_x", "swallow", "SKIPPED"),
            subtest_line("test_inner.py::test_x", "raise", "SKIPPED"),
            f"SKIPPED [[]2[]] test_inner.py:17: cancelled: {reason}",
        ]
    )
    assert "ConnectionResetError" not in output, output
    counts = summary(result)
    assert counts.get("skipped") == 2, output
    assert "subtests passed" not in counts, output
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output
    log = (pytester.path / "log.txt").read_text().splitlines()
    assert {"cancelled swallow", "cancelled raise"} <= set(log), log
    assert {"torn down fail", "torn down swallow", "torn down raise"} <= set(log), log


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_a_case_that_swallows_ctrl_c_is_reported_cancelled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_inner=SWALLOWS_A_STOP.replace("{options}", "").replace('n == "fail"', 'n == "never"')
    )
    output, code = _interrupt(pytester, 3)
    assert code == pytest.ExitCode.INTERRUPTED, output
    reason = "cancelled: the parent test was interrupted"
    assert f"SKIPPED [3] test_inner.py:17: {reason}" in output, output
    assert "PASSED" not in output, output
    assert "ConnectionResetError" not in output, output
    assert "KeyboardInterrupt" in output, output


IGNORES_CANCELLATION = (
    LOGGING
    + """
@concurrent_cases("n", ["fail", "forever"]{options})
async def test_x(n, resource):
    if n == "fail":
        await asyncio.sleep(0.5)
        assert False
    log(f"started {n}")
    try:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                log(f"swallowed {n}")
    finally:
        log(f"finally {n}")

def test_after():
    log("session went on")
"""
)


@pytest.mark.parametrize(
    ("options", "args", "why", "cancels"),
    [
        (", timeout=1", (), "by its timeout of 1 s", 2),
        (", fail_fast=True", (), "the run stopped: fail_fast: case 'fail' failed", 2),
        ("", ("-x",), "the run stopped: stopping after 1 failures", 2),
        # Its timeout comes during the stop's grace: one more cancellation, the same grace.
        (", fail_fast=True, timeout=4", (), "the run stopped: fail_fast: case 'fail' failed", 3),
    ],
)
def test_a_case_that_ignores_cancellation_is_given_up_and_the_session_goes_on(
    pytester: pytest.Pytester, options: str, args: tuple[str, ...], why: str, cancels: int
) -> None:
    """It would run for ever: after the grace, cancelled again, then closed, failed with what
    to fix, torn down; its parent reports and the session goes on (-x stops it after the
    parent, as it would). A timeout that comes after the stop does not start the grace again
    (the case ran 6 s longer, and its error named the timeout)."""
    pytester.makepyfile(test_inner=IGNORES_CANCELLATION.replace("{options}", options))
    # Ends in seconds; the generous timeout only stops a hang.
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider", *args, timeout=120)
    output = result.stdout.str()
    result.stdout.fnmatch_lines_random(
        [
            subtest_line("test_inner.py::test_x", "fail", "FAILED"),
            subtest_line("test_inner.py::test_x", "forever", "FAILED"),
            f"E*asyncgroup.CancellationIgnoredError: case 'forever' ignored its cancellation "
            f"({why}): its body went on for 6 s after asyncgroup cancelled it twice, so "
            "asyncgroup closed it at the line marked > and tore its fixtures down. A coroutine "
            "that catches CancelledError must re-raise it once it has cleaned up.",
            "*2 of 2 cases failed: fail, forever*",
        ]
    )
    result.stdout.fnmatch_lines([">*await asyncio.sleep(3600)", "E*CancellationIgnoredError*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output
    log = (pytester.path / "log.txt").read_text().splitlines()
    assert log.count("swallowed forever") == cancels, log
    assert {"finally forever", "torn down fail", "torn down forever"} <= set(log), log
    assert ("session went on" in log) == (args != ("-x",)), log


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_a_case_that_ignores_ctrl_c_is_given_up_and_the_run_stops(
    pytester: pytest.Pytester,
) -> None:
    output = _ctrl_c_two_that_ignore_it(pytester, IGNORES_CANCELLATION)
    assert "CancellationIgnoredError: case 'forever' ignored its cancellation (the run " in output
    assert "stopped: the parent test was interrupted)" in output, output
    lines = (pytester.path / "log.txt").read_text().splitlines()
    # Both cases ignore it ("fail" no longer fails first).
    assert {"finally fail", "finally forever", "torn down fail", "torn down forever"} <= set(
        lines
    ), lines


def _ctrl_c_two_that_ignore_it(pytester: pytest.Pytester, source: str) -> str:
    """Run ``source`` (IGNORES_CANCELLATION or FIXTURE_IGNORES_CANCELLATION, no options) with its
    "fail" case made a second one that ignores its cancellation; Ctrl-C once both started. Its
    output, after asserting that the run was interrupted (exit code 2)."""
    pytester.makepyfile(
        test_inner=source.replace("{options}", "").replace('n == "fail"', 'n == "never"')
    )
    output, code = _interrupt(pytester, 2)
    assert code == pytest.ExitCode.INTERRUPTED, output
    return output


def _interrupt(pytester: pytest.Pytester, started: int, report: str = "s") -> tuple[str, int]:
    """Run test_inner.py; Ctrl-C once ``started`` cases have logged "started"; its output and
    exit code. ``report``: pytest's -r characters."""
    log = pytester.path / "log.txt"

    def ready() -> bool:
        return log.exists() and log.read_text().count("started") >= started

    command = ["-m", "pytest", "-v", f"-r{report}", "-p", "no:cacheprovider", "test_inner.py"]
    output, code, _ = ctrl_c(pytester, command, ready, settle=0)
    return output, code


FIXTURE_IGNORES_CANCELLATION = (
    LOGGING
    + """
import pytest_asyncio

@pytest_asyncio.fixture
async def forever(n, resource):
    if n == "setup":
        log(f"started {n}")
        try:
            while True:
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    log(f"swallowed {n}")
        finally:
            log(f"finally {n}")
    yield
    if n == "teardown":
        log(f"started {n}")
        try:
            while True:
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    log(f"swallowed {n}")
        finally:
            log(f"finally {n}")

@concurrent_cases("n", ["fail", "setup", "teardown"]{options})
async def test_x(n, forever):
    if n == "fail":
        await asyncio.sleep(0.5)
        assert False

def test_after():
    log("session went on")
"""
)


@pytest.mark.parametrize(
    ("options", "why"),
    [
        (", timeout=1", "by its timeout of 1 s"),
        (", fail_fast=True", "the run stopped: fail_fast: case 'fail' failed"),
    ],
)
def test_a_fixture_that_ignores_cancellation_is_given_up_and_the_session_goes_on(
    pytester: pytest.Pytester, options: str, why: str
) -> None:
    """A fixture that catches every CancelledError in its setup or its teardown would keep the
    session running for ever (its parametrized test too): after the grace, cancelled again,
    then closed, errored with the case, the fixture and what to fix; the case's other fixtures
    are torn down, and the session goes on."""
    pytester.makepyfile(test_inner=FIXTURE_IGNORES_CANCELLATION.replace("{options}", options))
    # Ends in seconds; the generous timeout only stops a hang.
    result = pytester.runpytest_subprocess(
        "-rA", "--tb=short", "-p", "no:cacheprovider", timeout=120
    )
    output = result.stdout.str()
    message = (
        "E   asyncgroup.CancellationIgnoredError: case '{n}': fixture 'forever' ignored its "
        f"cancellation ({why}): its {{n}} went on for 6 s after asyncgroup cancelled it, and "
        "after it cancelled it again, so asyncgroup closed it at the line marked > and tore "
        "the case's other fixtures down. A fixture that catches CancelledError must re-raise "
        "it once it has cleaned up."
    )
    for n, line in (("setup", 26), ("teardown", 37)):
        result.stdout.fnmatch_lines(
            [
                f"*ERROR at {n} of test_x[[]{n}[]]*",
                f"test_inner.py:{line}: in forever",
                "    await asyncio.sleep(3600)",
                message.format(n=n),
            ]
        )
    result.stdout.fnmatch_lines_random(
        [
            "PASSED test_inner.py::test_x[[]teardown[]]",
            "PASSED test_inner.py::test_after",
            "ERROR test_inner.py::test_x[[]setup[]] - asyncgroup.CancellationIgnoredError*",
            "ERROR test_inner.py::test_x[[]teardown[]] - asyncgroup.CancellationIgnoredError*",
            "FAILED test_inner.py::test_x[[]fail[]] - assert False",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output
    log = (pytester.path / "log.txt").read_text().splitlines()
    assert {"swallowed setup", "swallowed teardown"} <= set(log), log
    for n in ("setup", "teardown"):  # its finally blocks ran, its other fixture was torn down
        assert log.index(f"finally {n}") < log.index(f"torn down {n}"), log
    assert "session went on" in log, log


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_a_fixture_that_ignores_ctrl_c_is_given_up_and_the_run_stops(
    pytester: pytest.Pytester,
) -> None:
    output = _ctrl_c_two_that_ignore_it(pytester, FIXTURE_IGNORES_CANCELLATION)
    for n in ("setup", "teardown"):
        assert (
            f"CancellationIgnoredError: case '{n}': fixture 'forever' ignored its cancellation "
            f"(the run stopped: the parent test was interrupted): its {n} went on" in output
        ), output
    assert "KeyboardInterrupt" in output, output
    log = (pytester.path / "log.txt").read_text().splitlines()
    for n in ("setup", "teardown"):
        assert log.index(f"finally {n}") < log.index(f"torn down {n}"), log
    assert "session went on" not in log, log


# A plain fixture whose teardown blocks the event loop's thread (as it blocks a parametrized
# test's): no cancellation can reach it, only a signal.
TEARDOWN_BLOCKS = (
    LOGGING
    + """
import time

@pytest.fixture
def blocks(n):
    yield
    if n == "blocks":
        log(f"started {n}")
        time.sleep(3600)
"""
)
FIXTURE_BLOCKS = (
    TEARDOWN_BLOCKS
    + """
{decorators}
async def test_x(n, resource, blocks):
    pass
"""
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_one_ctrl_c_stops_a_fixture_that_blocks_the_loop_as_it_stops_its_parametrized_test(
    pytester: pytest.Pytester,
) -> None:
    """The first Ctrl-C cannot cancel anything while the loop is blocked: once it has not run
    for the grace, it raises KeyboardInterrupt where the loop blocks, as Ctrl-C does in the
    parametrized test at once; the case's other fixtures are torn down (pytest stops tearing
    down there). Both cases' calls passed and are counted: the interrupted teardown is not
    reported, as pytest reports no phase that Ctrl-C cut short."""
    outcomes = {}
    for side, decorators in (
        ("cases", '@concurrent_cases("n", ["ok", "blocks"], timeout=1)'),
        ("parametrize", '@pytest.mark.asyncio\n@pytest.mark.parametrize("n", ["ok", "blocks"])'),
    ):
        (pytester.path / "log.txt").unlink(missing_ok=True)
        pytester.makepyfile(test_inner=FIXTURE_BLOCKS.replace("{decorators}", decorators))
        output, code = _interrupt(pytester, 1)
        log = (pytester.path / "log.txt").read_text().splitlines()
        passed = re.findall(r"(\d+) (?:subtests )?passed", output.splitlines()[-1])
        outcomes[side] = (code, "KeyboardInterrupt" in output, "torn down ok" in log, passed)
        assert outcomes[side] == (pytest.ExitCode.INTERRUPTED, True, True, ["2"]), output
        if side == "cases":
            assert "torn down blocks" in log, log
    assert outcomes["cases"] == outcomes["parametrize"]


# Plain def cases: "blocks" tears down blocking the loop's thread; "fails" ends its body (in its
# thread) while the loop is blocked, before the loop can take its outcome.
DEF_BODY_ENDS_WHILE_THE_LOOP_IS_BLOCKED = (
    TEARDOWN_BLOCKS
    + """
{decorators}
def test_x(n, resource, blocks):
    if n == "fails":
        while "started" not in (LOG.read_text() if LOG.exists() else ""):
            time.sleep(0.01)
        assert n == "passes"
"""
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_while_the_loop_is_blocked_reports_a_def_body_that_ended_by_its_outcome(
    pytester: pytest.Pytester,
) -> None:
    """Ctrl-C stops the run while a teardown blocks the loop. A plain def case whose body had
    ended in its thread meanwhile is reported by how it ended (its AssertionError), not failed
    with the CancelledError that reached it before the loop took that outcome; the cases the
    parametrized run reports have the same outcomes there."""
    outcomes = {}
    for side, decorators in (
        ("cases", '@concurrent_cases("n", ["ok", "blocks", "fails"])'),
        ("parametrize", '@pytest.mark.parametrize("n", ["ok", "blocks", "fails"])'),
    ):
        (pytester.path / "log.txt").unlink(missing_ok=True)
        source = DEF_BODY_ENDS_WHILE_THE_LOOP_IS_BLOCKED.replace("{decorators}", decorators)
        pytester.makepyfile(test_inner=source)
        output, code = _interrupt(pytester, 1, "A")
        assert code == pytest.ExitCode.INTERRUPTED, output
        assert "CancelledError" not in output, output
        outcomes[side] = {
            n: outcome
            for outcome, n in re.findall(
                r"^(PASSED|FAILED) test_inner\.py::test_x\[(\w+)\]", output, re.M
            )
        }
        if side == "cases":
            assert re.search(
                r"^FAILED test_inner.py::test_x\[fails\] - .*assert 'fails' == 'passes'",
                output,
                re.M,
            ), output
    assert outcomes["parametrize"] == {"ok": "PASSED", "blocks": "PASSED"}
    assert outcomes["cases"] == {**outcomes["parametrize"], "fails": "FAILED"}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_on_a_blocked_loop_reports_the_cases_before_the_session_ends(
    pytester: pytest.Pytester,
) -> None:
    """The Ctrl-C that raises KeyboardInterrupt where the loop blocks leaves the loop at once:
    the parent still tears its cases down and reports them before the KeyboardInterrupt goes on,
    so JUnit XML and the last-failed cache have them, as the parametrized run's tests (trial
    finding: they were reported only as pytest-asyncio closed the loop, after both were
    written)."""
    found = {}
    log = pytester.path / "log.txt"
    cache = pytester.path / ".pytest_cache/v/cache/lastfailed"

    def started() -> bool:
        return log.exists() and "started" in log.read_text()

    for side, decorators in (
        ("cases", '@concurrent_cases("n", ["ok", "blocks", "fails"])'),
        ("parametrize", '@pytest.mark.parametrize("n", ["ok", "blocks", "fails"])'),
    ):
        log.unlink(missing_ok=True)
        source = DEF_BODY_ENDS_WHILE_THE_LOOP_IS_BLOCKED.replace("{decorators}", decorators)
        pytester.makepyfile(test_inner=source)
        command = ["-m", "pytest", "-v", "--junitxml=out.xml", "test_inner.py"]
        output, code, _ = ctrl_c(pytester, command, started, settle=0)
        assert code == pytest.ExitCode.INTERRUPTED, output
        xml = (pytester.path / "out.xml").read_text()
        names = re.findall(r'<testcase classname="test_inner" name="(test_x\[\w+\])"', xml)
        last_failed = json.loads(cache.read_text()) if cache.exists() else {}
        found[side] = (sorted(names), sorted(k for k in last_failed if "[" in k))
        (pytester.path / ".pytest_cache").rename(pytester.path / f"cache-{side}")
    # The parametrized run never starts test_x[fails]; the cases run it at once.
    assert found["parametrize"] == (["test_x[blocks]", "test_x[ok]"], [])
    assert found["cases"] == (
        ["test_x[blocks]", "test_x[fails]", "test_x[ok]"],
        ["test_inner.py::test_x[fails]"],
    )
