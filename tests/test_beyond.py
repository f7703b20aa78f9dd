"""Beyond the core: eventually(), blocking (plain ``def``) bodies in threads, the blocked-loop
watchdog, tasks left running by a case, and cases on uvloop.

Every test writes a small test file, runs pytest on it in a subprocess, and checks what a user
sees: the -v lines, the failure sections, the warnings summary, the exit code. Timings are only
checked with wide margins (a serial run, or a run that waits for a hung case, is far slower).
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

import pytest
import pytest_asyncio.plugin
from differential import Differential

from tests.conftest import subtest_line, summary

# --------------------------------------------------------------------------------------------
# Helpers


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, float]:
    """Run pytest -v on the pytester project; return the result and the wall time it took."""
    started = time.monotonic()
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider", *args, timeout=120)
    return result, time.monotonic() - started


def write_ini(pytester: pytest.Pytester, *extra: str) -> None:
    """The conftest's ini, plus extra lines."""
    pytester.makeini(
        "\n".join(["[pytest]", "asyncio_default_fixture_loop_scope = function", *extra])
    )


def failure_section(result: pytest.RunResult, title: str) -> str:
    """The text of one entry of the FAILURES section, e.g. title ``test_x[case]``."""
    header = re.compile(r"^_{2,} (.*) _{2,}$")
    lines = result.outlines
    # A case is headed by its node id's name, test_x[case], as its parametrized test is.
    wanted = title.replace(" [", "[")
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if (m := header.match(line)) and m.group(1).replace(" [", "[") == wanted
        ),
        None,
    )
    assert start is not None, f"no failure section {title!r} in:\n{result.stdout.str()}"
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if header.match(lines[i]) or lines[i].startswith("=")
        ),
        len(lines),
    )
    return "\n".join(lines[start + 1 : end])


def group_warnings(result: pytest.RunResult) -> list[str]:
    """The AsyncgroupWarning lines of the warnings summary."""
    return [line.strip() for line in result.outlines if "AsyncgroupWarning: " in line]


def line_number(path: Path, text: str) -> int:
    """The 1-based number of the only line of ``path`` containing ``text``."""
    numbers = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(numbers) == 1, numbers
    return numbers[0]


def xfailed(counts: dict[str, int]) -> int:
    """Case xfails: pytest 9 counts them as "xfailed", pytest-subtests as "subtests xfailed"."""
    return counts.get("xfailed", 0) + counts.get("subtests xfailed", 0)


# --------------------------------------------------------------------------------------------
# eventually()


def test_eventually_returns_the_checks_value_sync_and_async(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_ready="""
        import pytest
        from asyncgroup import concurrent_cases, eventually

        def flaky(kind, passes_on):
            calls = []
            def check():
                calls.append(1)
                assert len(calls) >= passes_on
                return f"{kind} ready after {len(calls)}"
            async def acheck():
                return check()
            return (check if kind == "sync" else acheck), calls

        @concurrent_cases(["sync", "async"], timeout=10)
        async def test_in_case(kind):
            check, calls = flaky(kind, 3)
            assert await eventually(check, timeout=5, interval=0.01) == f"{kind} ready after 3"
            assert len(calls) == 3

        @pytest.mark.asyncio
        @pytest.mark.parametrize("kind", ["sync", "async"])
        async def test_plain(kind):
            check, calls = flaky(kind, 1)
            assert await eventually(check, timeout=5) == f"{kind} ready after 1"
            assert len(calls) == 1
        """
    )
    result, _ = run(pytester)
    assert result.ret == 0
    assert summary(result) == {"passed": 2, "subtests passed": 2}
    result.stdout.fnmatch_lines(
        [subtest_line("test_ready.py::test_in_case", "async", "PASSED")], consecutive=False
    )


def test_eventually_at_its_deadline_shows_the_attempts_and_the_last_assertion_as_cause(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_stuck="""
        import pytest
        from asyncgroup import concurrent_cases, eventually

        @concurrent_cases(["stuck"], timeout=10)
        async def test_in_case(name):
            current = 2
            def check():
                assert current == 5
            await eventually(check, timeout=0.5, interval=0.1)

        @pytest.mark.asyncio
        async def test_plain():
            async def check():
                current = 2
                assert current == 5
            await eventually(check, timeout=0.5, interval=0.1)
        """
    )
    result, _ = run(pytester)
    assert result.ret == 1
    for title, name in [
        ("test_in_case [stuck]", "test_in_case.<locals>.check"),
        ("test_plain", "test_plain.<locals>.check"),
    ]:
        section = failure_section(result, title)
        lines = section.splitlines()
        # The last failure, with pytest's rewritten message, is the direct cause.
        cause = lines.index("E       assert 2 == 5")
        chained = lines.index(
            "The above exception was the direct cause of the following exception:"
        )
        pattern = re.compile(
            rf"E       AssertionError: eventually\({re.escape(name)}\) still failing after "
            r"(\d+) attempts over ([\d.]+) s \(timeout 0.5 s\): AssertionError: assert 2 == 5$"
        )
        final = next(i for i, line in enumerate(lines) if pattern.match(line))
        assert cause < chained < final, section
        match = pattern.match(lines[final])
        assert match is not None
        attempts, elapsed = int(match.group(1)), float(match.group(2))
        assert 2 <= attempts <= 7  # every 0.1 s for 0.5 s: about 6
        assert 0.5 <= elapsed < 3.0
    assert summary(result) == {"failed": 2}


def test_eventually_propagates_other_exceptions_at_once_and_retries_retry_on(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_errors="""
        import asyncio
        import time

        import pytest
        from asyncgroup import concurrent_cases, eventually

        def raising(*errors, then="ok"):
            calls = []
            def check():
                calls.append(1)
                if len(calls) <= len(errors):
                    raise errors[len(calls) - 1]
                return then
            return check, calls

        @concurrent_cases(["sync", "async"], timeout=120)
        async def test_other_exception_is_not_retried(kind):
            check, calls = raising(ValueError("bad reply"))
            if kind == "async":
                sync_check = check
                async def check():
                    return sync_check()
            started = time.monotonic()
            with pytest.raises(ValueError, match="bad reply"):
                await eventually(check, timeout=600, interval=0.01)
            assert len(calls) == 1
            assert time.monotonic() - started < 60  # not eventually's 600 s

        @pytest.mark.asyncio
        async def test_retry_on_is_retried_then_the_value_returned():
            check, calls = raising(ConnectionError("refused"), AssertionError(), then="up")
            assert await eventually(
                check, timeout=30, interval=0.01, retry_on=(ConnectionError,)
            ) == "up"
            assert len(calls) == 3

        @pytest.mark.asyncio
        async def test_an_exception_outside_retry_on_propagates():
            check, calls = raising(ConnectionError("refused"), KeyError("missing"))
            with pytest.raises(KeyError, match="missing"):
                await eventually(check, timeout=30, interval=0.01, retry_on=(ConnectionError,))
            assert len(calls) == 2

        @pytest.mark.asyncio
        async def test_retry_on_failing_to_the_deadline_names_it():
            check, calls = raising(*[ConnectionError("refused")] * 1000)
            with pytest.raises(AssertionError) as info:
                await eventually(check, timeout=0.3, interval=0.05, retry_on=(ConnectionError,))
            assert "ConnectionError: refused" in str(info.value)
            assert isinstance(info.value.__cause__, ConnectionError)
            assert len(calls) >= 3
        """
    )
    result, _ = run(pytester)
    assert result.ret == 0, result.stdout.str()
    assert summary(result) == {"passed": 3, "subtests passed": 2}


def test_eventually_cuts_off_a_hanging_async_check(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_hang="""
        import asyncio
        from asyncgroup import concurrent_cases, eventually

        EVENTS = []

        @concurrent_cases(["hangs"], timeout=20)
        async def test_hanging_check(name):
            async def check():
                EVENTS.append("started")
                try:
                    await asyncio.sleep(600)
                except asyncio.CancelledError:
                    EVENTS.append("cut off")
                    raise
            await eventually(check, timeout=0.5)

        def test_the_check_was_cancelled():
            assert EVENTS == ["started", "cut off"]
        """
    )
    result, elapsed = run(pytester)
    section = failure_section(result, "test_hanging_check[hangs]")
    match = re.search(
        r"E +AssertionError: eventually\(test_hanging_check\.<locals>\.check\) still failing "
        r"after 1 attempt over ([\d.]+) s \(timeout 0\.5 s\): "
        r"AssertionError: the last attempt was still running at the deadline",
        section,
    )
    assert match is not None, section
    assert 0.5 <= float(match.group(1)) < 5
    assert "CaseTimeoutError" not in section  # eventually's deadline, not the case's
    assert summary(result) == {"failed": 1, "passed": 1}
    assert elapsed < 60  # not the check's 600 s


def test_eventually_rejects_invalid_arguments(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_invalid="""
        import math
        import pytest
        from asyncgroup import eventually

        CALLS = []
        TUPLE = "retry_on must be a tuple of exception types"

        def check():
            CALLS.append(1)

        @pytest.mark.asyncio
        @pytest.mark.parametrize(
            "kwargs, error, message",
            [
                ({"timeout": 0}, ValueError, "invalid timeout 0"),
                ({"timeout": -1}, ValueError, "invalid timeout -1"),
                ({"timeout": math.nan}, ValueError, "invalid timeout nan"),
                ({"timeout": math.inf}, ValueError, "invalid timeout inf"),
                ({"timeout": True}, ValueError, "invalid timeout True"),
                ({"timeout": "1"}, (ValueError, TypeError), "invalid timeout '1'"),
                ({"timeout": 1, "interval": 0}, ValueError, "invalid interval 0"),
                ({"timeout": 1, "interval": -0.1}, ValueError, "invalid interval -0.1"),
                ({"timeout": 1, "retry_on": ConnectionError}, TypeError, TUPLE),
                ({"timeout": 1, "retry_on": [ConnectionError]}, TypeError, TUPLE),
                ({"timeout": 1, "retry_on": (int,)}, TypeError, TUPLE),
                ({"timeout": 1, "retry_on": (OSError, "x")}, TypeError, TUPLE),
            ],
        )
        async def test_bad_argument(kwargs, error, message):
            with pytest.raises(error, match=message):
                await eventually(check, **kwargs)
            assert CALLS == []  # rejected before the first attempt

        @pytest.mark.asyncio
        @pytest.mark.parametrize("not_callable", ["check", None, 42])
        async def test_check_must_be_callable(not_callable):
            with pytest.raises(TypeError, match="eventually\\\\(\\\\) needs a callable check"):
                await eventually(not_callable, timeout=1)

        @pytest.mark.asyncio
        async def test_timeout_is_required():
            with pytest.raises(TypeError):
                await eventually(check)
            assert CALLS == []
        """
    )
    result, _ = run(pytester)
    assert result.ret == 0, result.stdout.str()
    assert summary(result) == {"passed": 12 + 3 + 1}


def test_the_cases_own_timeout_wins_over_a_longer_eventually(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_wins="""
        from asyncgroup import concurrent_cases, eventually

        @concurrent_cases(["quick", "waits"], timeout=0.5)
        async def test_case_timeout(name):
            def never():
                assert name == "quick"
            await eventually(never, timeout=600, interval=0.05)
        """
    )
    result, elapsed = run(pytester)
    section = failure_section(result, "test_case_timeout[waits]")
    assert (
        "asyncgroup.CaseTimeoutError: Timeout (>0.5s) from asyncgroup: the case's body did not "
        "finish within its timeout of 0.5 s" in section
    ), section
    assert ">       await eventually(never, timeout=600, interval=0.05)" in section
    assert "still failing after" not in result.stdout.str()
    # Why the check kept failing is kept: its last failure, then the attempts, then the timeout.
    assert re.search(
        r">\s+assert name == \"quick\"\nE\s+AssertionError: assert 'waits' == 'quick'.*"
        r"AssertionError: eventually\(test_case_timeout\.<locals>\.never\) was cut off after "
        r"\d+ attempts that failed over 0\.\d\d s \(its own timeout: 600 s\); the last failure "
        r"is shown above.*asyncgroup\.CaseTimeoutError",
        section,
        re.DOTALL,
    ), section
    assert summary(result) == {"failed": 1, "subtests passed": 1}
    assert elapsed < 60  # not eventually's 600 s


def test_eventually_reports_a_retried_timeout_error_as_the_last_failure(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_timeouterror="""
        import pytest
        from asyncgroup import eventually

        @pytest.mark.asyncio
        async def test_service_keeps_timing_out():
            def status():
                raise TimeoutError("status request timed out")
            await eventually(status, timeout=0.3, interval=0.1, retry_on=(TimeoutError,))
        """
    )
    result, _ = run(pytester)
    result.stdout.fnmatch_lines(
        [
            "*still failing after * attempts over * s (timeout 0.3 s): "
            "TimeoutError: status request timed out"
        ]
    )
    assert "still running at the deadline" not in result.stdout.str()


def test_eventually_propagates_a_timeout_error_raised_at_the_deadline(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_late_timeouterror="""
        import asyncio
        import pytest
        from asyncgroup import eventually

        @pytest.mark.asyncio
        async def test_late_timeout():
            start = asyncio.get_running_loop().time()
            def check():
                # Failing until the deadline (its last attempt comes at or after it), however
                # late the machine wakes the attempts before.
                assert asyncio.get_running_loop().time() - start >= 0.29, "not processed yet"
                raise TimeoutError("the service stopped answering")
            with pytest.raises(TimeoutError, match="stopped answering"):
                await eventually(check, timeout=0.3, interval=0.1)
        """
    )
    result, _ = run(pytester)
    assert summary(result) == {"passed": 1}


# --------------------------------------------------------------------------------------------
# Blocking (plain def) bodies, in threads


def test_blocking_cases_run_concurrently_each_in_its_own_thread(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_blocking="""
        import json
        import pathlib
        import threading
        import time
        from asyncgroup import concurrent_cases

        OUT = pathlib.Path(__file__).with_name("runs")
        OUT.mkdir(exist_ok=True)

        @concurrent_cases(range(20), timeout=5)
        def test_legacy(n):
            started = time.time()
            time.sleep(1)
            thread = threading.current_thread()
            (OUT / f"{n}.json").write_text(json.dumps({
                "thread": thread.name,
                "main": thread is threading.main_thread(),
                "start": started,
                "end": time.time(),
            }))
        """
    )
    result, _ = run(pytester)
    assert result.ret == 0
    assert summary(result) == {"subtests passed": 20}
    runs = [json.loads(path.read_text()) for path in (pytester.path / "runs").glob("*.json")]
    assert len(runs) == 20
    assert not any(r["main"] for r in runs)
    assert len({r["thread"] for r in runs}) == 20
    # One after another, 20 x 1 s would take 20 s.
    assert max(r["end"] for r in runs) - min(r["start"] for r in runs) < 10
    # A sleeping thread does not block the event loop: no watchdog warning.
    assert group_warnings(result) == []


def test_blocking_cases_output_is_captured_per_case(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_output="""
        import sys
        import time
        from asyncgroup import concurrent_cases

        @concurrent_cases(range(6), timeout=10)
        def test_prints(n):
            print(f"first line of case {n}")
            time.sleep(0.2)  # all six are printing at the same time
            print(f"second line of case {n}")
            print(f"an error of case {n}", file=sys.stderr)
            assert n != 3
        """
    )
    result, _ = run(pytester)
    section = failure_section(result, "test_prints[3]")
    assert "Captured stdout call" in section
    assert "first line of case 3\nsecond line of case 3" in section
    assert "an error of case 3" in section
    assert re.findall(r"(?:line|error) of case (\d)", section) == ["3", "3", "3"], section
    assert summary(result) == {"failed": 1, "subtests passed": 5}


def test_blocking_cases_get_their_own_sync_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fixtures="""
        import itertools
        import pathlib
        import threading
        import time
        import pytest
        from asyncgroup import concurrent_cases

        LOG = pathlib.Path(__file__).with_name("log.txt")
        COUNTER = itertools.count()
        LOCK = threading.Lock()

        def log(line):
            with LOCK, LOG.open("a") as f:
                f.write(line + "\\n")

        @pytest.fixture
        def session():
            number = next(COUNTER)
            log(f"setup {number} on {threading.current_thread().name}")
            yield number
            log(f"teardown {number}")

        @concurrent_cases(range(5), timeout=10)
        def test_uses_session(n, session, tmp_path):
            log(f"body {session} case {n}")
            (tmp_path / "mine").write_text(str(n))
            time.sleep(0.2)
            assert (tmp_path / "mine").read_text() == str(n)  # nobody else's directory
        """
    )
    result, _ = run(pytester)
    assert result.ret == 0, result.stdout.str()
    assert summary(result) == {"subtests passed": 5}
    lines = (pytester.path / "log.txt").read_text().splitlines()
    setups = [line for line in lines if line.startswith("setup")]
    # Set up once per case, on the event loop's thread (README: sync fixtures are).
    assert sorted(setups) == [f"setup {i} on MainThread" for i in range(5)]
    bodies = {line.split()[1]: line for line in lines if line.startswith("body")}
    assert len(bodies) == 5  # every case got a different fixture value
    for number in bodies:
        assert lines.index(f"setup {number} on MainThread") < lines.index(bodies[number])
        assert lines.index(bodies[number]) < lines.index(f"teardown {number}")


def test_blocking_cases_skip_and_xfail(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_marks="""
        import time
        import pytest
        from asyncgroup import concurrent_cases

        @concurrent_cases(
            [
                "passes",
                pytest.param("marked_skip", marks=pytest.mark.skip(reason="not today")),
                pytest.param("marked_xfail", marks=pytest.mark.xfail(reason="known bug")),
                pytest.param("strict_xpass", marks=pytest.mark.xfail(strict=True, reason="b")),
                "calls_skip",
                "calls_xfail",
            ],
            timeout=10,
        )
        def test_marks(name):
            time.sleep(0.1)
            if name == "calls_skip":
                pytest.skip("skipped from the thread")
            if name == "calls_xfail":
                pytest.xfail("xfailed from the thread")
            assert name in ("passes", "strict_xpass")
        """
    )
    result, _ = run(pytester, "-rsx")
    assert result.ret == 1
    counts = summary(result)
    assert counts["skipped"] == 2
    assert xfailed(counts) == 2
    assert counts["subtests passed"] == 1
    assert counts["failed"] == 1  # strict_xpass
    result.stdout.fnmatch_lines(["*not today*", "*skipped from the thread*"], consecutive=False)
    result.stdout.fnmatch_lines(
        [subtest_line("test_marks.py::test_marks", "strict_xpass", "FAILED")], consecutive=False
    )
    assert "[XPASS(strict)] b" in failure_section(result, "test_marks[strict_xpass]")


def test_max_concurrency_bounds_the_threads_in_flight(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_limit="""
        import threading
        import time
        from asyncgroup import concurrent_cases

        LOCK = threading.Lock()
        STATE = {"two": [0, 0], "default": [0, 0]}  # in flight, peak

        def hold(key, seconds):
            with LOCK:
                STATE[key][0] += 1
                STATE[key][1] = max(STATE[key][1], STATE[key][0])
            time.sleep(seconds)
            with LOCK:
                STATE[key][0] -= 1

        @concurrent_cases(range(8), max_concurrency=2, timeout=10)
        def test_two_at_a_time(n):
            hold("two", 0.2)

        @concurrent_cases(range(40), timeout=20)
        def test_default_limit(n):
            hold("default", 1.0)

        def test_peaks():
            # The limit is never passed, and it is reached (a limit never reached proves
            # nothing). Without max_concurrency a blocking test holds 32 threads at most.
            assert STATE["two"][1] == 2
            assert STATE["default"][1] == 32
        """
    )
    result, _ = run(pytester)
    assert result.ret == 0, result.stdout.str()
    assert summary(result) == {"passed": 1, "subtests passed": 48}


def test_a_hung_blocking_case_is_reported_with_its_stack_and_pytest_exits(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_hung="""
        import time
        from asyncgroup import concurrent_cases

        def wait_for_reply():
            time.sleep(600)

        @concurrent_cases(["quick", "hung"], timeout=0.5)
        def test_legacy(name):
            if name == "hung":
                wait_for_reply()

        def test_after():
            pass
        """
    )
    result, elapsed = run(pytester)
    section = failure_section(result, "test_legacy[hung]")
    assert ">           wait_for_reply()" in section, section
    assert ">       time.sleep(600)" in section
    assert (
        "E       asyncgroup.CaseTimeoutError: Timeout (>0.5s) from asyncgroup: the case's body "
        "(in its thread) did not finish within its timeout of 0.5 s; the line marked > is where "
        "it was waiting" in section
    )
    result.stdout.fnmatch_lines(["*test_hung.py::test_after PASSED*"])
    assert summary(result) == {"failed": 1, "passed": 1, "subtests passed": 1}
    # The abandoned thread is a daemon: pytest does not wait the 600 s for it.
    assert elapsed < 60


# --------------------------------------------------------------------------------------------
# The blocked-loop watchdog


def test_a_case_that_blocks_the_loop_gets_a_warning_naming_the_line(
    pytester: pytest.Pytester,
) -> None:
    path = pytester.makepyfile(
        test_loop="""
        import asyncio
        import threading
        import time
        from asyncgroup import concurrent_cases

        # The blocker starts last: nothing else of this iteration runs after its step.
        @concurrent_cases(["polite", "via_library", "blocker"], timeout=10)
        async def test_loop(name):
            if name == "blocker":
                time.sleep(0.8)
                assert name == "failing, so that its report is shown"
            elif name == "via_library":
                await asyncio.sleep(1.5)
                threading.Event().wait(0.8)
            else:
                await asyncio.sleep(1.0)
        """
    )
    result, _ = run(pytester)
    sleep_line = line_number(path, "time.sleep(0.8)")
    wait_line = line_number(path, "threading.Event().wait(0.8)")
    found = group_warnings(result)
    assert len(found) == 2, result.stdout.str()
    blocker = next(w for w in found if "case 'blocker'" in w)
    match = re.fullmatch(
        rf".*test_loop\.py:\d+: AsyncgroupWarning: case 'blocker': the case blocked the event "
        rf"loop for at least ([\d.]+) s at .*test_loop\.py:{sleep_line}: time\.sleep\(0\.8\)",
        blocker,
    )
    assert match is not None, blocker
    # Sampled a few times per threshold (0.5 s): a lower bound, within a sample of the truth.
    assert 0.5 <= float(match.group(1)) < 2.0
    # A blocking call inside the standard library is reported at the test's own line.
    library = next(w for w in found if "case 'via_library'" in w)
    assert library.endswith(f"test_loop.py:{wait_line}: threading.Event().wait(0.8)"), library
    assert "case 'polite'" not in result.stdout.str()
    # The case's own report has the warning too.
    section = failure_section(result, "test_loop[blocker]")
    assert re.search(
        r"-+ asyncgroup warnings -+\n"
        rf"the case blocked the event loop for at least [\d.]+ s at .*test_loop\.py:{sleep_line}: "
        r"time\.sleep\(0\.8\)",
        section,
    ), section
    assert summary(result) == {"failed": 1, "subtests passed": 2, "warnings": 2}


@pytest.mark.parametrize(
    ("ini", "warned"),
    [
        pytest.param([], True, id="default-0.5"),
        pytest.param(["asyncgroup_blocked_loop_threshold = 0.3"], True, id="0.3"),
        pytest.param(["asyncgroup_blocked_loop_threshold = 0"], False, id="off"),
        pytest.param(["asyncgroup_blocked_loop_threshold = 2"], False, id="2-above-the-block"),
    ],
)
def test_blocked_loop_threshold_ini(
    pytester: pytest.Pytester, ini: list[str], warned: bool
) -> None:
    write_ini(pytester, *ini)
    pytester.makepyfile(
        test_threshold="""
        import time
        from asyncgroup import concurrent_cases

        @concurrent_cases(["blocks"], timeout=10)
        async def test_blocks(name):
            time.sleep(0.8)
        """
    )
    result, _ = run(pytester)
    assert result.ret == 0
    found = group_warnings(result)
    if warned:
        assert len(found) == 1, result.stdout.str()
        assert "case 'blocks': the case blocked the event loop" in found[0]
    else:
        assert found == [], result.stdout.str()


def test_writing_reports_after_every_case_ended_is_not_a_blocked_loop(
    differential: Differential,
) -> None:
    """A report hook that takes 0.2 s per case report, three cases that end at once: writing
    their reports holds the loop for 0.6 s, past a 0.3 s threshold, but no case is running any
    more to be hurt, so there is no "asyncgroup itself blocked the event loop" warning (an
    error under -W error), as at the final flush of 100,000 reports. The warning while cases
    still run: test_a_storm_of_failures_does_not_starve_running_cases."""
    differential.ini_lines.append("asyncgroup_blocked_loop_threshold = 0.3")
    slow_hook = (
        "import time\n\n"
        "def pytest_runtest_logreport(report):\n"
        "    if '[' in report.nodeid and report.when == 'call':\n"
        "        time.sleep(0.2)\n"
    )
    for folder in ("concurrent", "parametrized"):
        (differential.pytester.path / folder).mkdir()
        (differential.pytester.path / folder / "slow_reports.py").write_text(slow_hook)
    pair = differential.run(
        """
        @cases("n", range(3))
        async def test_x(n):
            await asyncio.sleep(0)
        """,
        "-p",
        "slow_reports",
        "-W",
        "error::asyncgroup.AsyncgroupWarning",
    )
    pair.assert_same()
    assert pair.concurrent.ret == 0, pair.concurrent.stdout.str()
    assert "blocked the event loop" not in pair.concurrent.stdout.str()


def test_cases_blocking_the_loop_back_to_back_each_get_their_own_warning(
    pytester: pytest.Pytester,
) -> None:
    """Case a blocks, then case b in the same loop iteration: each is warned about, for its own
    block (not a blamed for both, b forgotten); the third case, which never blocks, is not."""
    pytester.makepyfile(
        test_two="""
        import asyncio
        import time
        from asyncgroup import concurrent_cases

        @concurrent_cases(["a", "b", "c"], timeout=10)
        async def test_two(order):
            if order in ("a", "b"):
                time.sleep(0.8)
            await asyncio.sleep(0.1)
        """
    )
    result, _ = run(pytester)
    assert result.ret == 0, result.stdout.str()
    found = group_warnings(result)
    blamed = sorted(re.search(r"case '(\w)'", warning).group(1) for warning in found)  # type: ignore[union-attr]
    assert blamed == ["a", "b"], result.stdout.str()
    for warning in found:
        seconds = float(re.search(r"for at least ([\d.]+) s", warning).group(1))  # type: ignore[union-attr]
        assert 0.5 < seconds < 1.2, warning  # its own 0.8 s, not both blocks'


@pytest.mark.parametrize("value", ["abc", "-1", "nan"])
def test_an_invalid_blocked_loop_threshold_is_a_usage_error(
    pytester: pytest.Pytester, value: str
) -> None:
    write_ini(pytester, f"asyncgroup_blocked_loop_threshold = {value}")
    pytester.makepyfile(
        test_any="""
        from asyncgroup import concurrent_cases

        @concurrent_cases([1])
        async def test_one(n):
            pass
        """
    )
    result, _ = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: asyncgroup: invalid *{value}* from ini option asyncgroup_blocked_loop_threshold*"]
    )


def test_a_short_block_right_after_a_long_one_is_not_blamed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_after_block="""
        import time
        from asyncgroup import concurrent_cases

        @concurrent_cases(["blocker", "short"], timeout=10)
        async def test_blocks(name):
            time.sleep(0.8 if name == "blocker" else 0.3)  # short: below the threshold
        """
    )
    result, _ = run(pytester)
    found = group_warnings(result)
    assert any("case 'blocker'" in w for w in found)
    assert not any("case 'short'" in w for w in found), found


# --------------------------------------------------------------------------------------------
# Tasks a case leaves running

LEAKS = """
import asyncio
import pathlib
import pytest
from asyncgroup import concurrent_cases

LOG = pathlib.Path(__file__).with_name("log.txt")

def log(line):
    with LOG.open("a") as f:
        f.write(line + "\\n")

async def forever(name):
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        log(f"{name}: cancelled")
        raise

async def parent_of(name):
    asyncio.get_running_loop().create_task(forever(name + "/grandchild"))
    await forever(name + "/child")

@pytest.fixture
def holder():
    state = {}
    yield state
    log(f"{state['name']}: teardown sees done={state['task'].done()}")

@concurrent_cases(["leaky", "tidy", "awaits", "nested", "leaky_and_fails"], timeout=10)
async def test_tasks(name, holder):
    holder["name"] = name
    loop = asyncio.get_running_loop()
    if name == "awaits":
        holder["task"] = task = loop.create_task(asyncio.sleep(0.1, "finished"))
        assert await task == "finished"
        return
    if name == "nested":
        holder["task"] = loop.create_task(parent_of(name))
        await asyncio.sleep(0.05)  # the child runs, and starts a grandchild
        return
    holder["task"] = task = loop.create_task(forever(name))
    await asyncio.sleep(0)
    if name == "tidy":
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert name != "leaky_and_fails"
"""


def test_tasks_left_running_are_named_and_cancelled_after_the_fixture_teardown(
    pytester: pytest.Pytester,
) -> None:
    """As pytest-asyncio with the parametrized test: a case's tasks still running when its body
    ends run on while its fixtures are torn down, and are cancelled right after (pytest-asyncio
    cancels them when it closes the test's loop), here also named in a warning."""
    pytester.makepyfile(test_tasks=LEAKS)
    result, _ = run(pytester)
    found = group_warnings(result)
    assert len(found) == 3, result.stdout.str()
    leaky = next(w for w in found if "case 'leaky'" in w)
    assert re.search(
        r"AsyncgroupWarning: case 'leaky': the case left 1 task running when it finished: "
        r"\S+ \(forever\(\) at .*test_tasks\.py:\d+\); asyncgroup cancelled it after the "
        r"case's fixture teardown$",
        leaky,
    ), leaky
    nested = next(w for w in found if "case 'nested'" in w)
    assert "the case left 2 tasks running when it finished: " in nested
    assert "parent_of()" in nested
    assert "forever()" in nested
    assert "asyncgroup cancelled them after the case's fixture teardown" in nested
    assert any("case 'leaky_and_fails'" in w for w in found)
    out = result.stdout.str()
    assert "case 'tidy'" not in out
    assert "case 'awaits'" not in out
    section = failure_section(result, "test_tasks[leaky_and_fails]")
    assert re.search(
        r"-+ asyncgroup warnings -+\nthe case left 1 task running when it finished: ", section
    ), section

    log = (pytester.path / "log.txt").read_text().splitlines()
    for name in ("tidy", "awaits"):
        assert f"{name}: teardown sees done=True" in log, log
    # Running through the case's fixture teardown, cancelled (and its cancellation handled) after.
    for task, case in [
        ("leaky", "leaky"),
        ("leaky_and_fails", "leaky_and_fails"),
        ("nested/child", "nested"),
        ("nested/grandchild", "nested"),
    ]:
        assert log.index(f"{case}: teardown sees done=False") < log.index(f"{task}: cancelled")
    assert summary(result) == {"failed": 1, "subtests passed": 4, "warnings": 3}


def test_a_task_a_case_left_running_never_runs_beside_the_next_case(
    differential: Differential,
) -> None:
    """Differential: a case returns while a task it started still sleeps; as pytest-asyncio
    cancels that task when it closes the parametrized test's loop (right after the test's
    teardown), asyncgroup cancels it after the case's teardown, at once: it never runs on beside
    the other cases (it ran for up to 1 s, and a case that relies on it not running failed)."""
    pair = differential.run(
        """
        import pytest_asyncio

        FLAG = []

        async def background():
            await asyncio.sleep(1)  # cancelled after 0.06 s: time to spare on a slow machine
            FLAG.append("ran")
            raise RuntimeError("background boom")

        @pytest_asyncio.fixture
        async def slow_teardown():
            yield
            await asyncio.sleep(0.05)  # the task runs on through the teardown, as it would there

        @cases("role", ["starts", "checks"])
        async def test_x(role, slow_teardown):
            if role == "starts":
                asyncio.get_running_loop().create_task(background())
                await asyncio.sleep(0.01)
            else:
                await asyncio.sleep(1.3)
                assert FLAG == [], FLAG
        """,
        "-v",
        "-rA",
    )
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::test_x[checks]"] == ["passed"]
    for result in (pair.concurrent, pair.parametrized):
        assert "background boom" not in result.stdout.str(), result.stdout.str()
    # The concurrent run names the task, as its README says, and says when it was cancelled.
    pair.concurrent.stdout.fnmatch_lines(
        [
            "*AsyncgroupWarning: case 'starts': the case left 1 task running when it finished: "
            "* (background() at *); asyncgroup cancelled it after the case's fixture teardown"
        ]
    )


def test_a_fixtures_own_background_task_is_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fixture_task="""
        import asyncio
        import pytest_asyncio
        from asyncgroup import concurrent_cases

        async def heartbeat(beats):
            while True:
                beats.append(1)
                await asyncio.sleep(0.01)

        @pytest_asyncio.fixture
        async def monitor():
            beats = []
            task = asyncio.get_running_loop().create_task(heartbeat(beats))
            yield beats
            # The fixture's task, started in its setup, is the fixture's to stop.
            assert not task.done(), "asyncgroup cancelled a task the fixture owns"
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        @concurrent_cases(range(3), timeout=10)
        async def test_uses_monitor(n, monitor):
            await asyncio.sleep(0.1)
            assert monitor
        """
    )
    result, _ = run(pytester)
    assert result.ret == 0, result.stdout.str()
    assert group_warnings(result) == []
    assert summary(result) == {"subtests passed": 3}


def test_a_cases_warning_reaches_its_junit_xml_element(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_tasks=LEAKS)
    run(pytester, "--junitxml=out.xml", "-o", "junit_logging=all")
    root = ET.parse(pytester.path / "out.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    for name in ("test_tasks[leaky]", "test_tasks[leaky_and_fails]"):
        text = ET.tostring(cases[name], encoding="unicode")
        assert "left 1 task running" in text, text


@pytest.mark.parametrize("noise", ["leaves_a_task", "blocks_the_loop"])
def test_a_warning_made_an_error_is_not_lost(pytester: pytest.Pytester, noise: str) -> None:
    write_ini(pytester, "filterwarnings = error")
    pytester.makepyfile(
        test_noisy=f"""
        import asyncio
        import time
        from asyncgroup import concurrent_cases

        @concurrent_cases(["noisy", "quiet"], timeout=10)
        async def test_noise(name):
            if name == "noisy":
                if {noise!r} == "leaves_a_task":
                    asyncio.get_running_loop().create_task(asyncio.sleep(3600))
                else:
                    time.sleep(0.8)
            await asyncio.sleep(0.1)
        """
    )
    result, _ = run(pytester)
    # The noisy case's warning, an error, fails that case (as it would its parametrized test),
    # and says why; the quiet case passes.
    result.stdout.fnmatch_lines([subtest_line("test_noisy.py::test_noise", "noisy", "FAILED")])
    result.stdout.fnmatch_lines([subtest_line("test_noisy.py::test_noise", "quiet", "PASSED")])
    result.stdout.fnmatch_lines(["test_noisy.py::test_noise FAILED*"])
    effect = {"leaves_a_task": "left 1 task running", "blocks_the_loop": "blocked the event loop"}
    result.stdout.fnmatch_lines(
        [f"E*asyncgroup.AsyncgroupWarning: case 'noisy': the case {effect[noise]}*"]
    )
    assert not any("case 'quiet'" in line for line in result.outlines), result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED


# --------------------------------------------------------------------------------------------
# uvloop, through pytest-asyncio's loop factories hook

HAS_LOOP_FACTORIES = hasattr(
    getattr(pytest_asyncio.plugin, "PytestAsyncioSpecs", None), "pytest_asyncio_loop_factories"
)


@pytest.mark.skipif(
    not HAS_LOOP_FACTORIES,
    reason="this pytest-asyncio has no pytest_asyncio_loop_factories hook",
)
def test_cases_on_uvloop(pytester: pytest.Pytester) -> None:
    pytest.importorskip("uvloop")
    pytester.makeconftest(
        """
        import uvloop

        def pytest_asyncio_loop_factories(config, item):
            return {"uvloop": uvloop.new_event_loop}
        """
    )
    pytester.makepyfile(
        test_uvloop="""
        import asyncio
        import pathlib
        import time
        import pytest_asyncio
        from asyncgroup import concurrent_cases, eventually

        LOG = pathlib.Path(__file__).with_name("log.txt")

        def log(line):
            with LOG.open("a") as f:
                f.write(line + "\\n")

        def on_uvloop():
            return type(asyncio.get_running_loop()).__module__.startswith("uvloop")

        @pytest_asyncio.fixture
        async def conn():
            token = object()
            log(f"setup {id(token)} uvloop={on_uvloop()}")
            yield token
            log(f"teardown {id(token)}")

        @concurrent_cases(range(10), timeout=1)
        async def test_on_uvloop(n, conn):
            assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
            loop = asyncio.get_running_loop()
            ready_at = loop.time() + 0.2
            def ready():
                assert loop.time() >= ready_at
                return n
            assert await eventually(ready, timeout=5, interval=0.05) == n
            if n == 3:
                await asyncio.sleep(600)
            assert n != 4

        async def forever():
            await asyncio.sleep(3600)

        @concurrent_cases(["leaks", "blocks"], timeout=10)
        async def test_warnings_on_uvloop(name):
            assert on_uvloop()
            if name == "leaks":
                asyncio.get_running_loop().create_task(forever())
            else:
                time.sleep(0.8)
        """
    )
    result, elapsed = run(pytester)
    timed_out = failure_section(result, "test_on_uvloop[3]")
    assert "asyncgroup.CaseTimeoutError: Timeout (>1s) from asyncgroup" in timed_out
    assert ">           await asyncio.sleep(600)" in timed_out
    assert "E       assert 4 != 4" in failure_section(result, "test_on_uvloop[4]")
    result.stdout.fnmatch_lines(
        [
            subtest_line("test_uvloop.py::test_on_uvloop", "9", "PASSED"),
            subtest_line("test_uvloop.py::test_warnings_on_uvloop", "leaks", "PASSED"),
        ],
        consecutive=False,
    )
    found = group_warnings(result)
    assert any(
        "case 'leaks': the case left 1 task running when it finished: " in w
        and "(forever() at " in w
        for w in found
    ), found
    assert any(
        "case 'blocks': the case blocked the event loop for " in w and "time.sleep(0.8)" in w
        for w in found
    ), found
    assert summary(result) == {
        "failed": 2,
        "subtests passed": 8 + 2,
        "warnings": len(found),
    }
    # A fixture per case, each set up on uvloop and torn down (the timed-out case's too).
    log = (pytester.path / "log.txt").read_text().splitlines()
    setups = {line.split()[1] for line in log if line.startswith("setup")}
    assert len(setups) == 10
    assert all(line.endswith("uvloop=True") for line in log if line.startswith("setup"))
    assert {line.split()[1] for line in log if line.startswith("teardown")} == setups
    assert elapsed < 60  # not the timed-out case's 600 s


RUN_ON = """
HEARTBEATS = []


async def heartbeat(name):
    while True:
        HEARTBEATS.append(name)
        await asyncio.sleep(0.02)


@cases("n", [1, 2])
{mark}
async def test_bg(n):
    asyncio.get_running_loop().create_task(heartbeat(f"hb{{n}}"))
    await asyncio.sleep(0.1)


{mark}
async def test_later():
    before = len(HEARTBEATS)
    await asyncio.sleep(0.2)
    assert len(HEARTBEATS) > before, "the tasks test_bg left running are gone"
"""

# pytest-asyncio's how-to "Run all tests in the session in the same event loop".
_PYTEST_ASYNCIO = tuple(int(part) for part in re.findall(r"\d+", version("pytest-asyncio"))[:2])

SESSION_LOOP_HOOK = """

from pytest_asyncio import is_async_test


def pytest_collection_modifyitems(items):
    session_scope_marker = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if is_async_test(item):
            item.add_marker(session_scope_marker, append=False)
"""


@pytest.mark.parametrize("given_by", ["session mark", "module mark", "ini", "conftest hook"])
def test_tasks_a_case_left_running_on_a_wider_loop_run_on_as_its_twins(
    differential: Differential, given_by: str
) -> None:
    """Differential: on a loop of wider scope than function, pytest-asyncio leaves the tasks a
    test left running on that loop, and says nothing: under -W error the cases pass, unwarned,
    and a later test on the loop sees their tasks still running, as with the parametrized test."""
    if given_by == "conftest hook" and _PYTEST_ASYNCIO < (1, 1):
        # Seen with 1.0.0: the parametrized test's tasks are gone too (each test on its loop).
        pytest.skip("pytest-asyncio 1.0 does not honour a loop scope a collection hook sets")
    scope = "module" if given_by == "module mark" else "session"
    loop_scope = f'(loop_scope="{scope}")' if "mark" in given_by else ""
    mark = f"@pytest.mark.asyncio{loop_scope}"
    if given_by == "ini":
        differential.ini_lines.append("asyncio_default_test_loop_scope = session")
    differential.write(RUN_ON.format(mark=mark))
    if given_by == "conftest hook":
        for folder in ("concurrent", "parametrized"):
            conftest = differential.pytester.path / folder / "conftest.py"
            conftest.write_text("import pytest\n" + conftest.read_text() + SESSION_LOOP_HOOK)
    pair = differential.rerun("-W", "error", "-rA")
    pair.assert_same()
    assert pair.parametrized_outcomes == {
        "test_it.py::test_bg[1]": ["passed"],
        "test_it.py::test_bg[2]": ["passed"],
        "test_it.py::test_later": ["passed"],
    }, pair.parametrized.stdout.str()
    assert "AsyncgroupWarning" not in pair.concurrent.stdout.str(), pair.concurrent.stdout.str()
    pair.assert_same_counts()


def test_x_stops_a_run_bounded_while_cases_tasks_run_on_a_wider_loop(
    differential: Differential,
) -> None:
    """Differential: -x on the session loop. The tasks the cases left running (one by the case
    that failed, one by the case -x cut off) run on, and nothing waits for them: the run stops
    at once, and pytest-asyncio cancels them when it closes the loop, as the parametrized
    test's."""
    pair = differential.run(
        """
        async def heartbeat():
            while True:
                await asyncio.sleep(0.02)

        @cases("n", ["fails", "cut_off"])
        @pytest.mark.asyncio(loop_scope="session")
        async def test_x(n):
            asyncio.get_running_loop().create_task(heartbeat())
            await asyncio.sleep(0.1)
            assert n != "fails"
            await asyncio.sleep(30)
        """,
        "-x",
        "-W",
        "error",
    )
    pair.assert_same(cancelled=True)
    assert pair.concurrent_outcomes["test_it.py::test_x[cut_off]"] == ["skipped"]
    out = pair.concurrent.stdout.str()
    assert "task running" not in out, out  # no warning, in the failed case's report either
    assert pair.concurrent.duration < 10, pair.concurrent.duration  # not the 30 s sleep
