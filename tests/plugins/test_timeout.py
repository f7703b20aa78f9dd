"""pytest-timeout: its timeout applies to each case as to the parametrized test it stands for
(asyncgroup/_integrations/timeout.py).

The same cases time out, with the same exit code; a concurrent case's timeout is reported as
asyncgroup's (CaseTimeoutError at the line where the case waited) instead of pytest-timeout's
"Failed: Timeout" with its stack dump. The parent is not cut off for the sum of its cases.
"""

from __future__ import annotations

import textwrap

import pytest
from differential import Differential, Pair, names_where, section

# In both versions: the first defines @group as asyncgroup's @concurrent_group, the second as
# the asyncio mark the same tests need without it.
GROUP = """
group = (
    __import__("asyncgroup").concurrent_group
    if cases.__module__ == "asyncgroup"
    else pytest.mark.asyncio
)
"""


def test_each_case_gets_the_timeout_not_the_parent_the_sum(differential: Differential) -> None:
    # Ten 0.5 s cases, two at a time: the parent runs 2.5 s, past the 2 s timeout each case has.
    differential.ini_lines += ["timeout = 2", "timeout_method = signal"]
    differential.ini_lines.append("asyncgroup_max_concurrency = 2")
    pair = differential.run(
        """
        @cases("n", range(10))
        async def test_x(n):
            await asyncio.sleep(0.5)
        """,
        "-rA",
    )
    pair.assert_same()
    assert pair.concurrent.ret == 0
    assert pair.concurrent_outcomes["test_it.py::test_x"] == ["passed"]
    assert len(pair.parametrized_outcomes) == 10


HANGS = """
@cases("name", ["quick", "hangs", pytest.param("marked", marks=pytest.mark.timeout(0.5))])
async def test_x(name, traced):
    await asyncio.sleep({"quick": 0.1, "hangs": 30, "marked": 2}[name])

@pytest.mark.timeout(0.5)
@cases("n", [1, 2])
async def test_marked(n, traced):
    await asyncio.sleep(2 if n == 2 else 0.1)

def test_after():
    pass

@pytest.fixture
def traced(request):
    yield
    with open("teardown.log", "a") as log:
        log.write(request.node.name + "\\n")
"""


@pytest.mark.parametrize("method", ["signal", "thread"])
def test_a_hung_or_marked_case_times_out_at_its_own_line(
    differential: Differential, method: str
) -> None:
    differential.ini_lines.append(f"timeout_method = {method}")
    pair = differential.run(HANGS, "--timeout", "3", "-p", "no:cacheprovider")
    concurrent = pair.concurrent
    concurrent.stdout.fnmatch_lines(
        [
            ">       await asyncio.sleep(*",
            "E       asyncgroup.CaseTimeoutError: Timeout (>3s) from asyncgroup: the case's body "
            "did not finish within its timeout of 3 s (set by pytest-timeout's --timeout)*",
        ]
    )
    concurrent.stdout.fnmatch_lines(["*Timeout (>0.5s) from asyncgroup*timeout mark*"])
    summary = [line for line in concurrent.outlines if line.startswith("FAILED ")]
    assert sorted(line.split(" - ")[0] for line in summary) == [
        "FAILED test_it.py::test_marked",
        "FAILED test_it.py::test_marked[2]",
        "FAILED test_it.py::test_x",
        "FAILED test_it.py::test_x[hangs]",
        "FAILED test_it.py::test_x[marked]",
    ]
    teardowns = (differential.pytester.path / "concurrent" / "teardown.log").read_text()
    assert len(teardowns.split()) == 5, teardowns  # every case's fixtures were torn down
    if method == "signal":
        pair.assert_same()
        pair.parametrized.stdout.fnmatch_lines(["E*Failed: Timeout*>3.0s*"])
    else:  # pytest-timeout ends the whole parametrized run at its first timeout (os._exit)
        assert pair.parametrized.ret == concurrent.ret == 1
        assert pair.concurrent_outcomes["test_it.py::test_after"] == ["passed"]
        assert "test_it.py::test_after" not in pair.parametrized_outcomes


@pytest.mark.parametrize("guarded", [False, True], ids=["always", "unless-marked"])
def test_a_cases_own_timeout_mark_wins_over_one_a_conftest_adds(
    differential: Differential, guarded: bool
) -> None:
    """A suite-wide timeout(30) a collection hook adds to every test comes after a case's own
    timeout(0.5), as pytest appends it after a parametrized test's: the case times out. (The
    guarded hook adds it to a test without one: the parent has none, the parametrized test
    whose case has one keeps it alone.)"""
    differential.write(
        """
        @cases("n", [1, pytest.param(2, marks=pytest.mark.timeout(0.5))])
        async def test_x(n):
            await asyncio.sleep(3 if n == 2 else 0.1)
        """
    )
    condition = 'if item.get_closest_marker("timeout") is None:' if guarded else "if True:"
    differential.add_to_conftest(
        "import pytest\n\ndef pytest_collection_modifyitems(items):\n"
        f"    for item in items:\n        {condition}\n"
        "            item.add_marker(pytest.mark.timeout(30))\n"
    )
    pair = differential.rerun("--tb=line")
    pair.assert_same("*Timeout (>0.5s)*")
    assert pair.parametrized_outcomes == {
        "test_it.py::test_x[1]": ["passed"],
        "test_it.py::test_x[2]": ["failed"],
    }


def test_asyncgroups_own_timeout_wins(differential: Differential) -> None:
    pair = differential.run(
        """
        own = {"timeout": 3} if cases.__module__ == "asyncgroup" else {}

        @cases("n", [pytest.param(1, marks=pytest.mark.timeout(0.3))], **own)
        async def test_own(n):
            await asyncio.sleep(1)

        @cases("n", [pytest.param(1, marks=pytest.mark.timeout(0.3))])
        async def test_marked(n):
            await asyncio.sleep(1)
        """,
        "--timeout",
        "5",
    )
    outcomes = pair.concurrent_outcomes
    assert outcomes["test_it.py::test_own[1]"] == ["passed"]
    assert outcomes["test_it.py::test_marked[1]"] == ["failed"]
    # The ini option and --asyncgroup-timeout win over pytest-timeout's mark too.
    pair = differential.rerun("--timeout", "5", "--asyncgroup-timeout", "3")
    assert pair.concurrent_outcomes["test_it.py::test_marked[1]"] == ["passed"]


def test_each_test_of_a_group_gets_its_own_timeout(differential: Differential) -> None:
    differential.ini_lines += ["timeout = 2", "timeout_method = signal"]
    pair = differential.run(
        GROUP
        + textwrap.dedent(
            """
        @group
        class TestMembers:
            @pytest.mark.timeout(0.5)
            async def test_marked(self):
                await asyncio.sleep(1)

            async def test_hangs(self):
                await asyncio.sleep(30)

            async def test_quick(self):
                await asyncio.sleep(0.1)

            async def test_slow_but_in_time(self):
                await asyncio.sleep(1.5)
        """
        ),
        "-p",
        "no:cacheprovider",
    )
    pair.assert_same()
    assert pair.concurrent_outcomes["test_it.py::TestMembers::test_marked"] == ["failed"]
    assert pair.concurrent_outcomes["test_it.py::TestMembers::test_hangs"] == ["failed"]
    assert pair.concurrent_outcomes["test_it.py::TestMembers::test_slow_but_in_time"] == ["passed"]
    pair.concurrent.stdout.fnmatch_lines(["*CaseTimeoutError: Timeout (>0.5s) from asyncgroup*"])


def test_func_only_times_the_body_alone(differential: Differential) -> None:
    differential.ini_lines += ["timeout = 1", "timeout_method = signal", "timeout_func_only = true"]
    pair = differential.run(
        """
        import pytest_asyncio

        @pytest_asyncio.fixture
        async def slow_setup():
            await asyncio.sleep(1.5)

        @cases("name", ["slow_setup", "hangs"])
        async def test_x(name, slow_setup):
            await asyncio.sleep(30 if name == "hangs" else 0)
        """,
        "-p",
        "no:cacheprovider",
    )
    pair.assert_same()
    assert pair.concurrent_outcomes["test_it.py::test_x[slow_setup]"] == ["passed"]
    assert pair.concurrent_outcomes["test_it.py::test_x[hangs]"] == ["failed"]


def _run_with_a_blocked_loop(differential: Differential, seconds: float, then: str) -> Pair:
    """Both versions of cases ``quick`` and ``blocks`` (then a plain test) under ``--timeout 1``
    (signal method), with the same outcomes: ``blocks`` holds the event loop ``seconds`` in
    time.sleep(), then each case runs the line ``then``."""
    pair = differential.run(
        f"""
        import time

        @cases("name", ["quick", "blocks"])
        async def test_x(name):
            if name == "blocks":
                time.sleep({seconds})
            {then}

        def test_after():
            pass
        """,
        "--timeout",
        "1",
        "-o",
        "timeout_method=signal",
        "-p",
        "no:cacheprovider",
    )
    pair.assert_same()
    return pair


def test_a_case_blocking_the_loop_is_still_cut_off_by_the_parents_timer(
    differential: Differential,
) -> None:
    # No asyncio timeout stops time.sleep() on the loop; pytest-timeout's timer on the parent,
    # set to the longest the cases may take (1 s + 1 wave x (2 x 1 s + the grace of 7 s)), does.
    pair = _run_with_a_blocked_loop(differential, 60, "pass")
    pair.concurrent.stdout.fnmatch_lines([">*time.sleep(60)", "E*Failed: Timeout*>10.0s*"])


def test_the_time_another_case_blocks_the_loop_does_not_count_against_a_cases_timeout(
    differential: Differential,
) -> None:
    # blocks holds the loop for 3 s while quick awaits 0.1 s: quick's 1 s timeout passes during
    # the block, yet quick ran 0.1 s of its own and passes, as its parametrized test does.
    pair = _run_with_a_blocked_loop(differential, 3, "await asyncio.sleep(0.1)")
    assert pair.parametrized_outcomes["test_it.py::test_x[quick]"] == ["passed"]
    pair.concurrent.stdout.fnmatch_lines(["E*CaseTimeoutError: Timeout (>1s) from asyncgroup*"])


def test_a_sync_fixture_step_past_the_timeout_is_named_where_the_twin_shows_it(
    differential: Differential,
) -> None:
    # A sync fixture's setup or teardown, or a finalizer, holds the event loop: no timeout can
    # cut it off, and once it returns no traceback shows where it was. pytest-timeout's signal
    # interrupts the parametrized test's fixture at that line; the case's error names the
    # fixture (or finalizer, and who added it), where it is defined, and the same line.
    differential.ini_lines.append("timeout_method = signal")
    pair = differential.run(
        """
        import time

        @pytest.fixture
        def opens(n):
            if n == "setup":
                time.sleep(2)  # setup
            yield
            if n == "teardown":
                time.sleep(2)  # teardown

        @pytest.fixture
        def closes(request, n):
            def close():
                if n == "fixture":
                    time.sleep(2)
            request.addfinalizer(close)

        @cases("n", ["setup", "teardown", "fixture", "test"])
        async def test_x(n, opens, closes, request):
            def cleanup():
                time.sleep(2)
            if n == "test":
                request.addfinalizer(cleanup)
        """,
        "--timeout",
        "1",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::asyncgroup.AsyncgroupWarning",
    )
    pair.assert_same()
    path = differential.pytester.path / "concurrent" / "test_it.py"
    steps = {
        "setup of test_x[setup]": ("'opens'", "def opens(", "# setup"),
        "teardown of test_x[teardown]": ("'opens'", "def opens(", "# teardown"),
        "teardown of test_x[fixture]": ("'close'", "def close(", "time.sleep"),
        "teardown of test_x[test]": ("'cleanup'", "def cleanup(", "time.sleep"),
    }
    for title, (name, defined, blocks) in steps.items():
        sleeps = names_where(pair.concurrent, title, name, path, defined, blocks)
        twin = section(pair.parametrized, f"ERROR at {title}")
        assert f"test_it.py:{sleeps}: " in twin, twin


@pytest.mark.parametrize("threshold", ["0", "2"])
@pytest.mark.parametrize("kind", ["async def", "def"])
def test_the_time_another_cases_sync_fixture_holds_the_loop_does_not_count_whatever_the_watchdog(
    differential: Differential, kind: str, threshold: str
) -> None:
    # While a and b wait 0.1 s, three cases' sync fixture code holds the loop 1.2 s each (in
    # setup, after its yield, in a request.addfinalizer finalizer): with the watchdog off, or
    # its threshold above the blocks, a and b still pass, as their parametrized tests do, and
    # each blocking case errors for its own fixture (findings-t6 F5).
    differential.ini_lines += [
        "timeout = 0.6",  # 0.5 s to spare for a and b, on a loaded machine too
        "timeout_method = signal",
        f"asyncgroup_blocked_loop_threshold = {threshold}",
    ]
    wait = "await asyncio.sleep(0.1)" if kind == "async def" else "time.sleep(0.1)"
    pair = differential.run(
        f"""
        import time

        @pytest.fixture
        def held(request, name):
            if name == "setup":
                time.sleep(1.2)
            if name == "finalizer":
                request.addfinalizer(lambda: time.sleep(1.2))
            yield
            if name == "teardown":
                time.sleep(1.2)

        @cases("name", ["a", "b", "setup", "teardown", "finalizer"])
        {kind} test_x(name, held):
            if name in ("a", "b"):
                {wait}
        """,
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::asyncgroup.AsyncgroupWarning",
    )
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::test_x[a]"] == ["passed"], pair._both()
    assert pair.parametrized_outcomes["test_it.py::test_x[setup]"] == ["error"], pair._both()
    pair.concurrent.stdout.fnmatch_lines(
        [
            "E   asyncgroup.CaseTimeoutError: Timeout (>0.6s) from asyncgroup: the case's fixture "
            "setup did not finish within its timeout of 0.6 s (set by pytest-timeout's ini option "
            "timeout); its sync fixture 'held' took 1.[2-9]? s and ran on the event loop's thread, "
            "where it cannot be cut off",
        ]
    )


def test_the_timeout_spans_setup_call_and_teardown_as_the_twins_timer(
    differential: Differential,
) -> None:
    """pytest-timeout's timer spans its test's setup, call and teardown (timeout_func_only
    false): a body of 0.5 s and a teardown of 0.7 s are past a timeout of 1 s, an ERROR at
    teardown, with a sync generator fixture, a finalizer or an async fixture (findings-t8 F3);
    a case whose teardown is quick passes."""
    pair = differential.run(
        """
        import time

        import pytest_asyncio

        @pytest.fixture
        def sync_teardown(name):
            yield
            if name == "sync":
                time.sleep(0.7)

        @pytest.fixture
        def finalizer(name, request):
            if name == "finalizer":
                request.addfinalizer(lambda: time.sleep(0.7))

        @pytest_asyncio.fixture
        async def async_teardown(name):
            yield
            if name == "async":
                await asyncio.sleep(0.7)

        @cases("name", ["sync", "finalizer", "async", "quick"])
        async def test_x(name, sync_teardown, finalizer, async_teardown):
            await asyncio.sleep(0.5)
        """,
        "--timeout",
        "1",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::asyncgroup.AsyncgroupWarning",
    )
    pair.assert_same()
    for name in ("sync", "finalizer", "async"):
        assert pair.parametrized_outcomes[f"test_it.py::test_x[{name}]"] == ["passed", "error"]
    assert pair.parametrized_outcomes["test_it.py::test_x[quick]"] == ["passed"]
