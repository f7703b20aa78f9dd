"""Cancelling cases lets their libraries clean up, and every stop is bounded (stdlib only).

The inner tests use a fake client that behaves like asyncpg: a query cancelled mid-way sends
the server a cancel request from a helper task, and ``close()`` waits for that request to be
done. If the helper task is cancelled, ``close()`` hangs (as asyncpg's does). Every inner run
logs each connection's open, cancel request and close; the outer test checks that every opened
connection was closed, whatever stopped the case.
tests/test_postgres.py does the same against a real PostgreSQL server with asyncpg.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ctrl_c, subtest_line, summary

# The inner conftest's start: its connections log "open N", "cancel request N", "close N".
LOGGING = """
import asyncio
import itertools
import os
import pathlib

import pytest_asyncio

LOG = pathlib.Path(__file__).with_name("log.txt")
numbers = itertools.count()


def log(line):
    with LOG.open("a") as f:
        f.write(line + "\\n")
"""

CLIENT = (
    LOGGING
    + """


class Connection:
    def __init__(self):
        self.number = next(numbers)
        self._cancel_done = None
        log(f"open {self.number}")

    async def execute(self, sql):  # only "SELECT pg_sleep(N)"
        try:
            await asyncio.sleep(float(sql.partition("(")[2].rstrip(")")))
        except asyncio.CancelledError:
            # As asyncpg: the cancel request goes to the server from a helper task.
            self._cancel_done = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().create_task(self._cancel())
            raise

    async def _cancel(self):
        await asyncio.sleep(0.2)  # the cancel request's round trip
        log(f"cancel request {self.number}")
        self._cancel_done.set_result(None)

    async def close(self):
        if self._cancel_done is not None:
            await self._cancel_done  # hangs forever if the helper task was cancelled
        log(f"close {self.number}")


@pytest_asyncio.fixture
async def conn():
    connection = Connection()
    yield connection
    await connection.close()
"""
)


def events(path: Path, prefix: str) -> list[str]:
    log = path / "log.txt"
    text = log.read_text() if log.exists() else ""
    return sorted(line.rpartition(" ")[2] for line in text.splitlines() if line.startswith(prefix))


def assert_all_closed(path: Path, output: str) -> None:
    opened = events(path, "open")
    assert opened, output
    assert events(path, "close") == opened, output


def write(pytester: pytest.Pytester, body: str) -> None:
    pytester.makeconftest(CLIENT)
    pytester.makepyfile(test_inner=body)


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, float]:
    start = time.monotonic()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)
    return result, time.monotonic() - start


# The same inner test for the fake client and for asyncpg (tests/test_postgres.py).
CASES_IN_QUERIES = """
import asyncio
import pytest
from asyncgroup import concurrent_cases

@concurrent_cases(range(6){options})
async def test_queries(n, conn):
    if n == 0:
        await asyncio.sleep(0.5)
        {first}
    await conn.execute("SELECT pg_sleep(600)")

@pytest.mark.asyncio
async def test_later():
    pass
"""

PARENT = "[t for t in asyncio.all_tasks() if 'test_queries' in repr(t.get_coro())][0]"
# Each way a case is cancelled: its timeout, fail_fast, -x, --maxfail, the parent cancelled.
CAUSES = pytest.mark.parametrize(
    ("cause", "options", "first", "args"),
    [
        ("timeout", ", timeout=2", 'await conn.execute("SELECT pg_sleep(600)")', ()),
        ("fail_fast", ", fail_fast=True", "assert False", ()),
        ("-x", "", "assert False", ("-x",)),
        ("--maxfail", "", "assert False", ("--maxfail=1",)),
        ("parent cancelled", "", f"{PARENT}.cancel()", ()),
    ],
)


@CAUSES
def test_a_cancelled_cases_library_cleans_up_before_its_teardown(
    pytester: pytest.Pytester, cause: str, options: str, first: str, args: tuple[str, ...]
) -> None:
    """Each cause cancels cases inside a query: the client's cancel request (a helper task)
    finishes, every connection is closed by its fixture's teardown, and the run stops soon,
    without any timeout configured (but for the timeout cause)."""
    write(pytester, CASES_IN_QUERIES.format(options=options, first=first))
    result, elapsed = run(pytester, "-v", *args)
    output = result.stdout.str()
    assert_all_closed(pytester.path, output)
    assert len(events(pytester.path, "open")) == 6
    cancelled = events(pytester.path, "cancel request")
    assert len(cancelled) >= (5 if cause != "parent cancelled" else 6), output
    assert "asyncgroup cancelled it before the case's fixture teardown" not in output
    assert "Task was destroyed but it is pending" not in output
    assert elapsed < 60, output  # not the 600 s query, nor a hang
    if cause == "timeout":
        assert summary(result)["failed"] == 6, output  # the 6 cases (not their parent)
        assert output.count("CaseTimeoutError: Timeout (>2s) from asyncgroup") >= 6, output
    elif cause == "parent cancelled":
        assert result.ret != 0
    else:
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        assert "cancelled: " in output
    if cause in ("-x", "--maxfail"):
        assert "test_later" not in output.split("short test summary")[0]


def test_the_same_cleanup_as_plain_pytest_asyncio(pytester: pytest.Pytester) -> None:
    """Differential: -x over the same cases as @pytest.mark.parametrize + pytest-asyncio and as
    @concurrent_cases: both close every connection they opened, and both exit 1."""
    write(
        pytester,
        """
        import asyncio
        import pytest
        from asyncgroup import concurrent_cases

        async def body(n, conn):
            if n == 0:
                await asyncio.sleep(0.3)
                assert False
            await conn.execute("SELECT pg_sleep(20)")

        @pytest.mark.asyncio
        @pytest.mark.parametrize("n", range(3))
        async def test_plain(n, conn):
            await body(n, conn)

        @concurrent_cases(range(3))
        async def test_concurrent(n, conn):
            await body(n, conn)
        """,
    )
    plain, _ = run(pytester, "-x", "-k", "test_plain")
    assert plain.ret == pytest.ExitCode.TESTS_FAILED
    assert_all_closed(pytester.path, plain.stdout.str())
    (pytester.path / "log.txt").unlink()
    concurrent, _ = run(pytester, "-x", "-k", "test_concurrent")
    assert concurrent.ret == pytest.ExitCode.TESTS_FAILED
    assert_all_closed(pytester.path, concurrent.stdout.str())


def test_a_case_that_times_out_its_own_query_lets_the_library_clean_up(
    pytester: pytest.Pytester,
) -> None:
    """Differential: a case cuts its own query short (a library timeout, handled by the case) and
    returns while the library's cancel request is still in flight in a helper task. As with
    @pytest.mark.parametrize + pytest-asyncio, that task finishes, the teardown closes the
    connection at once, every case passes, and no leftover is reported."""
    write(
        pytester,
        """
        import asyncio
        import pytest
        from asyncgroup import concurrent_cases

        async def body(n, conn):
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(conn.execute("SELECT pg_sleep(20)"), 0.2)

        @pytest.mark.asyncio
        @pytest.mark.parametrize("n", range(3))
        async def test_plain(n, conn):
            await body(n, conn)

        @concurrent_cases(range(3), timeout=600)
        async def test_concurrent(n, conn):
            await body(n, conn)
        """,
    )
    plain, _ = run(pytester, "-k", "test_plain")
    assert plain.ret == pytest.ExitCode.OK, plain.stdout.str()
    assert_all_closed(pytester.path, plain.stdout.str())
    (pytester.path / "log.txt").unlink()
    concurrent, elapsed = run(pytester, "-k", "test_concurrent")
    output = concurrent.stdout.str()
    assert concurrent.ret == pytest.ExitCode.OK, output
    assert_all_closed(pytester.path, output)
    assert len(events(pytester.path, "cancel request")) == 3, output
    assert "left 1 task running" not in output
    assert elapsed < 60, output  # not the case timeout's 600 s


def test_a_task_the_case_left_behind_is_still_named_and_cancelled_when_cancelled(
    pytester: pytest.Pytester,
) -> None:
    """A cancelled case's own leftover (not cleanup) is cancelled after the grace, with the
    warning; its connection is still closed."""
    write(
        pytester,
        """
        import asyncio
        from asyncgroup import concurrent_cases

        async def poller():
            await asyncio.sleep(3600)

        @concurrent_cases(["a"], timeout=0.5)
        async def test_leaves(name, conn):
            asyncio.get_running_loop().create_task(poller())
            await conn.execute("SELECT pg_sleep(20)")
        """,
    )
    result, _ = run(pytester, "-v")
    output = result.stdout.str()
    assert_all_closed(pytester.path, output)
    assert "the case left 1 task running when it finished: " in output
    assert "(poller() at " in output
    assert events(pytester.path, "cancel request") == ["0"]


HANGING_TEARDOWN = """
import asyncio
import pathlib
import pytest
import pytest_asyncio
from asyncgroup import concurrent_cases

LOG = pathlib.Path(__file__).with_name("log.txt")

def log(line):
    with LOG.open("a") as f:
        f.write(line + "\\n")

@pytest_asyncio.fixture
async def stuck():
    state = {}
    yield state
    log("teardown started")
    if not state:  # the failing case's teardown is quick: it reports, and the run stops
        await asyncio.sleep(3600)  # a finalizer that never returns by itself

@pytest_asyncio.fixture
async def tidy():
    yield
    log("tidy torn down")

@concurrent_cases(range(3){options})
async def test_stuck(n, tidy, stuck):
    if n == 0:
        stuck["fails"] = True
        await asyncio.sleep(0.2)
        assert False
    await asyncio.sleep(3600)
"""


@pytest.mark.parametrize(("options", "args"), [(", fail_fast=True", ()), ("", ("-x",))])
def test_a_stop_is_bounded_even_when_a_teardown_hangs(
    pytester: pytest.Pytester, options: str, args: tuple[str, ...]
) -> None:
    pytester.makepyfile(test_inner=HANGING_TEARDOWN.replace("{options}", options))
    result, elapsed = run(pytester, *args)
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output
    assert elapsed < 60, output  # not the hanging teardown's 3600 s
    log = (pytester.path / "log.txt").read_text()
    # Every finalizer ran: the ones after a hanging one too.
    assert log.count("tidy torn down") == 3, log


def _interrupt(
    pytester: pytest.Pytester, started: int, signals: int = 1, *args: str
) -> tuple[str, int, float]:
    """Run the inner file, SIGINT it once ``started`` connections are open (and ``signals - 1``
    more times, 0.3 s apart); output, exit code, seconds from the first SIGINT to the exit."""

    def opened() -> bool:
        return len(events(pytester.path, "open")) >= started

    command = ["-m", "pytest", "-v", "-p", "no:cacheprovider", *args, "test_inner.py"]
    return ctrl_c(pytester, command, opened, *[lambda: True] * (signals - 1), settle=0.3)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
@pytest.mark.parametrize("options", ["", ", timeout=300"])
def test_ctrl_c_lets_libraries_clean_up_and_exits_2_soon(
    pytester: pytest.Pytester, options: str
) -> None:
    write(
        pytester,
        f"""
        from asyncgroup import concurrent_cases

        @concurrent_cases(range(6){options})
        async def test_queries(n, conn):
            await conn.execute("SELECT pg_sleep(600)")
        """,
    )
    output, code, elapsed = _interrupt(pytester, 6)
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert elapsed < 60, (elapsed, output)  # not the 600 s queries (nor the 300 s timeout)
    assert_all_closed(pytester.path, output)
    assert events(pytester.path, "cancel request") == [str(n) for n in range(6)], output


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_with_a_hanging_teardown_is_bounded_and_a_second_one_is_at_once(
    pytester: pytest.Pytester,
) -> None:
    """One Ctrl-C: the hanging finalizer is cut off after the stop grace, and every other
    finalizer runs. Two: the run ends without waiting for that grace."""
    pytester.makepyfile(
        test_inner=HANGING_TEARDOWN.replace("{options}", "").replace(
            "    yield state\n", "    log('open 0')\n    yield state\n"
        )
    )
    output, code, once = _interrupt(pytester, 3)
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert once < 60, (once, output)  # not the hanging finalizer's 3600 s
    log = (pytester.path / "log.txt").read_text()
    assert log.count("tidy torn down") == 3, log
    (pytester.path / "log.txt").unlink()
    output, code, twice = _interrupt(pytester, 3, signals=2)
    assert code == pytest.ExitCode.INTERRUPTED, output
    # The grace (3 s) is not waited for; measured against the same run, so that a loaded
    # machine slows both alike.
    assert twice < once - 1.5, (once, twice, output)


def test_tasks_and_task_factories_in_a_case_are_as_without_asyncgroup(
    pytester: pytest.Pytester,
) -> None:
    """Task names (Python 3.13.0 names tasks None while a loop has a task factory) and a task
    factory installed by someone else: a case sees what a plain pytest-asyncio test sees."""
    pytester.makepyfile(
        test_inner="""
        import asyncio
        import pytest
        import pytest_asyncio
        from asyncgroup import concurrent_cases

        def tagging(loop, coro, **kwargs):
            task = asyncio.Task(coro, loop=loop, **kwargs)
            task.tagged = True
            return task

        @pytest_asyncio.fixture(scope="module", loop_scope="module")
        async def factory(request):
            if request.param:
                asyncio.get_running_loop().set_task_factory(tagging)
            yield request.param

        async def body(factory):
            named = asyncio.create_task(asyncio.sleep(0), name="mine")
            unnamed = asyncio.create_task(asyncio.sleep(0))
            await asyncio.gather(named, unnamed)
            assert named.get_name() == "mine"
            if factory:
                assert named.tagged and unnamed.tagged
            else:  # with a factory, Python 3.13.0 itself names it None
                assert unnamed.get_name().startswith("Task-"), unnamed.get_name()

        pytestmark = [
            pytest.mark.asyncio(loop_scope="module"),
            pytest.mark.parametrize("factory", [False, True], indirect=True, scope="module"),
        ]

        @pytest.mark.parametrize("n", range(2))
        async def test_plain(n, factory):
            await body(factory)

        @concurrent_cases(range(2))
        async def test_concurrent(n, factory):
            await body(factory)

        async def test_factory_still_installed(factory):
            expected = tagging if factory else None
            assert asyncio.get_running_loop().get_task_factory() is expected
        """
    )
    result, _ = run(pytester, "-v", "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()
    assert summary(result) == {"passed": 6, "subtests passed": 4}


def test_a_storm_of_failures_does_not_starve_running_cases(pytester: pytest.Pytester) -> None:
    """50 failing cases whose reports take 0.1 s each to build (5 s in all) beside
    healthy cases that sleep 1 s with timeout=3: the healthy cases pass, as they would alone.
    One report that alone holds the loop past the watchdog's threshold while the healthy cases
    run is asyncgroup's doing, and the watchdog says so. benchmarks/storm.py measures the
    full-size storm."""
    pytester.makeini(
        """
        [pytest]
        asyncio_default_fixture_loop_scope = function
        asyncgroup_blocked_loop_threshold = 0.3
        """
    )
    pytester.makepyfile(
        test_inner="""
        import asyncio
        import time
        from asyncgroup import concurrent_cases

        class SlowToFormat(Exception):
            def __str__(self):  # as a deep traceback is: pytest formats it for the report
                time.sleep(0.5 if self.args[0] == "huge" else 0.05)
                return f"{self.args[0]} failed"

        CASES = [f"fails-{n}" for n in range(50)] + ["huge"] + [f"healthy-{n}" for n in range(5)]

        @concurrent_cases(CASES, timeout=3)
        async def test_storm(name):
            if not name.startswith("healthy"):
                await asyncio.sleep(0.1 if name == "huge" else 0.2)  # huge: built first
                raise SlowToFormat(name)
            await asyncio.sleep(1)
        """
    )
    result, _ = run(pytester, "-v", "-W", "always::asyncgroup.AsyncgroupWarning")
    output = result.stdout.str()
    for n in range(5):
        result.stdout.fnmatch_lines(
            [subtest_line("test_inner.py::test_storm", f"healthy-{n}", "PASSED")]
        )
    assert "CaseTimeoutError" not in output
    assert re.search(
        r"AsyncgroupWarning: asyncgroup itself blocked the event loop for \d+\.\d\d s "
        r"building the report of case 'huge'",
        output,
    ), output
    assert "blocked the event loop for 0.0" not in output  # the other reports stay short
