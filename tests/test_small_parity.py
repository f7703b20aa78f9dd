"""Smaller differences from the parametrized test a case stands for (findings-cases3): each
test runs the same source as @concurrent_cases and as @pytest.mark.parametrize
(tests/differential.py) and compares what a user sees."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from differential import Differential, _counts, names_where, section

from tests.conftest import summary

# --------------------------------------------------------------------------------------------
# An empty case list is an empty parameter set

EMPTY = """
@cases("n", [])
async def test_x(n):
    pass
"""


@pytest.mark.parametrize(
    ("choice", "line"),
    [
        ("skip", "SKIPPED [[]1[]] test_it.py:8: got empty parameter set for (n)"),
        ("xfail", "XFAIL * - [[]NOTRUN[]] got empty parameter set for (n)"),
        ("fail_at_collect", "Empty parameter set in 'test_x' at line 8"),
    ],
)
def test_empty_case_list_follows_empty_parameter_set_mark(
    differential: Differential, choice: str, line: str
) -> None:
    differential.ini_lines.append(f"empty_parameter_set_mark = {choice}")
    pair = differential.run(EMPTY, "-rsx")
    pair.assert_same()  # under the same node id: test_x[NOTSET]
    assert _counts(pair.concurrent) == _counts(pair.parametrized), pair._both()
    for result in (pair.concurrent, pair.parametrized):
        result.stdout.fnmatch_lines([line])


@pytest.mark.parametrize(
    "selection",
    [
        ("test_it.py::test_x[NOTSET]",),
        ("test_it.py::test_x[NOTSET]", "test_it.py::test_y[1]"),
        ("-k", "test_x"),
        ("-k", "NOTSET or 2"),
        ("-m", "not slow"),
        ("--deselect", "test_it.py::test_x[NOTSET]"),
        ("--co", "-q"),
    ],
)
def test_empty_case_list_is_selected_as_its_parametrized_test(
    differential: Differential, selection: tuple[str, ...]
) -> None:
    """Its test is pytest's own test of the empty parameter set, test_x[NOTSET]: selected,
    counted and listed as the parametrized one (it was named test_x, and any -k, -m,
    --deselect or node id deselected it)."""
    pair = differential.run(
        EMPTY
        + """
@cases("n", [1, 2])
async def test_y(n):
    pass
""",
        "-rs",
        *selection,
    )
    pair.assert_same()
    if "--co" in selection:  # it lists parents, not cases (see the README): test_y alone
        for result in (pair.concurrent, pair.parametrized):
            assert "test_it.py::test_x[NOTSET]" in result.outlines, pair._both()
        return
    pair.assert_same_counts()
    skipped = "--deselect" not in selection
    assert skipped == any("short test summary" in line for line in pair.concurrent.outlines)
    if skipped:
        pair.assert_same_short_summary()


def test_empty_shard_is_skipped_at_the_tests_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it="""
        from asyncgroup import concurrent_cases

        @concurrent_cases("n", [1, 2], shards=3)
        async def test_x(n):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-rs", "-p", "no:randomly", timeout=60)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_it.py:3: shard 3 of 3 has no cases"])
    # The shards' parents only sum up their cases: the summary line counts the cases.
    assert summary(result) == {"skipped": 1, "subtests passed": 2}


# --------------------------------------------------------------------------------------------
# Bad input is a collection error naming the test


@pytest.mark.parametrize(
    "declaration",
    ['@cases("request", [1])', '@cases("n, request", [(1, 2)])'],
)
def test_request_is_a_reserved_argname(differential: Differential, declaration: str) -> None:
    pair = differential.run(
        f"""
        {declaration}
        async def test_x(n, request):
            pass
        """
    )
    pair.assert_same("*test_x*'request' is a reserved name and cannot be used in @*")
    assert pair.concurrent.ret == pytest.ExitCode.INTERRUPTED


def test_unknown_keyword_is_a_collection_error_naming_what_is_valid(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_it="""
        from asyncgroup import concurrent_cases

        @concurrent_cases("n", [1], indirect=True)
        async def test_x(n):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", timeout=60)
    result.stdout.fnmatch_lines(
        [
            "*In test_x: @concurrent_cases got unknown keyword argument(s) indirect; it takes "
            "ids, timeout, max_concurrency, fail_fast and shards; instead of indirect=, give a "
            "fixture the case's argname as a parameter*"
        ]
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED


# --------------------------------------------------------------------------------------------
# monkeypatch: overlapping cases may patch a target to the same value

AUTOUSE_PATCH = """
import os

SUB = os.path.join(os.path.dirname(__file__), "sub")
os.makedirs(SUB, exist_ok=True)

@pytest.fixture(autouse=True)
def test_env(monkeypatch):
    monkeypatch.setenv("ASYNCGROUP_APP_ENV", "test")
    monkeypatch.setattr("os.sep", "/")
    monkeypatch.chdir(SUB)

@cases("n", [1, 2, 3])
async def test_x(n):
    await asyncio.sleep(0.1 * n)
    assert os.environ["ASYNCGROUP_APP_ENV"] == "test"
    assert os.getcwd() == SUB
"""

RESTORED = """
import os

def test_restored():
    assert "ASYNCGROUP_APP_ENV" not in os.environ
    assert not os.getcwd().endswith("sub")
"""


def test_autouse_fixture_patching_alike_for_every_test(differential: Differential) -> None:
    differential.write(RESTORED, "test_zz.py")
    pair = differential.run(AUTOUSE_PATCH, "-rA")
    pair.assert_same()
    assert pair.concurrent.ret == pytest.ExitCode.OK, pair._both()
    assert "test_zz.py::test_restored" in pair.concurrent_outcomes


def test_patching_a_target_to_different_values_is_refused_as_a_failure(
    differential: Differential,
) -> None:
    pair = differential.run(
        """
        import os

        @cases("n", [1, 2])
        async def test_x(n, monkeypatch):
            await asyncio.sleep(0.05 * n)
            monkeypatch.setenv("ASYNCGROUP_APP_ENV", str(n))
            await asyncio.sleep(0.2)
        """,
        "-rA",
        env={"COLUMNS": "300"},
    )
    pair.concurrent.stdout.fnmatch_lines(
        [
            "FAILED test_it.py::test_x[[]2[]] - Failed: asyncgroup: cases '1' and '2' both "
            "monkeypatch environment variable 'ASYNCGROUP_APP_ENV' while they run at the same "
            "time, to different values*"
        ]
    )
    pair.concurrent.stdout.no_fnmatch_line("*UsageError*")


# --------------------------------------------------------------------------------------------
# Teardown: every failing fixture is reported


def test_two_failing_teardowns_of_one_case_are_both_reported(differential: Differential) -> None:
    pair = differential.run(
        """
        import pytest_asyncio

        @pytest_asyncio.fixture
        async def ares(n):
            yield
            raise ValueError(f"async teardown {n}")

        @pytest.fixture
        def sres(n):
            yield
            raise KeyError(f"sync teardown {n}")

        @cases("n", [1, 2])
        async def test_x(n, sres, ares):
            assert n == 2
        """,
        "-rA",
        "--tb=short",
        env={"COLUMNS": "300"},
    )
    pair.assert_same(
        "ERROR test_it.py::test_x[[]1[]] - *ExceptionGroup: errors while tearing down "
        "<Coroutine test_x[[]1[]]> (2 sub-exceptions)",
        "*KeyError: 'sync teardown 1'",
        "*ValueError: async teardown 1",
        "*KeyError: 'sync teardown 2'",
        "*ValueError: async teardown 2",
    )


# --------------------------------------------------------------------------------------------
# timeout=: the message says what was timed


def test_body_timeout_says_the_fixture_setup_took_part_of_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it="""
        import asyncio
        import pytest_asyncio
        from asyncgroup import concurrent_cases

        @pytest_asyncio.fixture
        async def slow_setup(n):
            if n == "slow":
                await asyncio.sleep(1.2)
            yield

        @concurrent_cases("n", ["slow", "quick"], timeout=2)
        async def test_x(n, slow_setup):
            await asyncio.sleep(600)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--tb=short", timeout=60)
    result.stdout.fnmatch_lines(
        [
            "E   asyncgroup.CaseTimeoutError: Timeout (>2s) from asyncgroup: the case's body "
            "(its fixture setup took 1.[2-9]? s of the same timeout) did not finish within its "
            "timeout of 2 s*"
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E   asyncgroup.CaseTimeoutError: Timeout (>2s) from asyncgroup: the case's body "
            "did not finish within its timeout of 2 s*"
        ]
    )


@pytest.mark.parametrize("kind", ["async def", "def"])
def test_a_sync_fixture_past_the_timeout_is_the_cases_setup_error(
    pytester: pytest.Pytester, kind: str
) -> None:
    # A sync fixture holds the loop, so the timeout cannot cut it off; the case passed (async)
    # or blamed its body (def). Its parametrized test, under pytest-timeout: ERROR at setup,
    # with the fixture's line in its traceback (no traceback can show it here: the error names
    # where the fixture is defined, and the line where the watchdog saw it block).
    path, result = _run_blocking(
        pytester,
        f"""
        import time
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.fixture
        def slow(n):
            if n == 2:
                time.sleep(2.5)
            yield

        @concurrent_cases("n", [1, 2, 3], timeout=1)
        {kind} test_x(n, slow):
            assert n != 2, "the body ran"
        """,
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_x[[]2[]]*",
            "E   asyncgroup.CaseTimeoutError: Timeout (>1s) from asyncgroup: the case's fixture "
            "setup did not finish within its timeout of 1 s; its sync fixture 'slow' took "
            "2.[5-9]? s and ran on the event loop's thread, where it cannot be cut off",
            "*1 error, 2 subtests passed*",
        ]
    )
    names_where(result, "setup of test_x[2]", "'slow'", path, "def slow(n):")
    result.stdout.no_fnmatch_line("*the body ran*")
    assert result.ret == 1


def test_a_sync_fixture_that_ate_the_time_is_named_when_a_later_fixture_is_cut_off(
    pytester: pytest.Pytester,
) -> None:
    # The timeout cuts the case off in the async fixture after the sync one, at a line that
    # waited 0.1 s: the error names the sync fixture that held the loop for 2.5 s of the 1 s.
    path, result = _run_blocking(
        pytester,
        """
        import asyncio
        import time
        import pytest
        import pytest_asyncio
        from asyncgroup import concurrent_cases

        @pytest.fixture
        def login(n):
            if n == 2:
                time.sleep(2.5)

        @pytest_asyncio.fixture
        async def connection(login):
            await asyncio.sleep(0.1)

        @concurrent_cases("n", [1, 2], timeout=1)
        async def test_x(n, connection):
            pass
        """,
    )
    assert summary(result) == {"error": 1, "subtests passed": 1}, result.stdout.str()
    names_where(result, "setup of test_x[2]", "'login'", path, "def login(n):")
    error = section(result, "ERROR at setup of test_x[2]")
    assert ">       await asyncio.sleep(0.1)" in error, error
    assert re.search(r"; its sync fixture 'login' took 2\.[5-9]", error), error


SLOW_FINALIZERS = """
import time
import pytest
from asyncgroup import concurrent_cases

@pytest.fixture
def slow(n):
    yield
    if n == "yield":
        time.sleep(2.5)

@pytest.fixture
def closes(request, n):
    def close():
        if n == "fixture":
            time.sleep(2.5)
    request.addfinalizer(close)

@concurrent_cases("n", ["yield", "fixture", "test", "quick"], timeout=1)
{kind} test_x(n, slow, closes, request):
    def cleanup():
        time.sleep(2.5)
    if n == "test":
        request.addfinalizer(cleanup)
"""


@pytest.mark.parametrize("kind", ["async def", "def"])
def test_a_sync_finalizer_past_the_timeout_is_the_cases_teardown_error(
    pytester: pytest.Pytester, kind: str
) -> None:
    # Named with where it is defined and where it blocked: a generator fixture's code after its
    # yield, a request.addfinalizer finalizer with the fixture (or the test) that added it.
    path, result = _run_blocking(pytester, SLOW_FINALIZERS.format(kind=kind))
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_x[[]yield[]]*",
            "E   asyncgroup.CaseTimeoutError: Timeout (>1s) from asyncgroup: the case's fixture "
            "teardown did not finish within its timeout of 1 s; its sync fixture 'slow' took "
            "2.[5-9]? s and ran on the event loop's thread, where it cannot be cut off",
        ]
    )
    assert summary(result) == {"errors": 3, "subtests passed": 4}, result.stdout.str()
    names_where(result, "teardown of test_x[yield]", "'slow'", path, "def slow(n):")
    finalizers = {"fixture": ("close", "fixture 'closes'"), "test": ("cleanup", "the test")}
    for case, (name, by) in finalizers.items():
        names_where(result, f"teardown of test_x[{case}]", f"'{name}'", path, f"def {name}(")
        error = section(result, f"ERROR at teardown of test_x[{case}]")
        assert re.search(rf"its finalizer '{name}' \(added by {by}\) took 2\.[5-9]", error), error
    assert result.ret == 1


def test_an_async_body_that_holds_the_loop_past_its_timeout_fails(
    pytester: pytest.Pytester,
) -> None:
    # A time.sleep in an async body cannot be cut off: the body returns after its time was up.
    # Its parametrized test, under pytest-timeout, FAILS at the time.sleep line; the case failed
    # too (it passed before), naming the line the watchdog saw block. The cases that only
    # waited pass: the time the others held the loop does not count against their timeouts.
    path, result = _run_blocking(
        pytester,
        """
        import asyncio
        import time
        from asyncgroup import concurrent_cases

        @concurrent_cases("n", ["blocks", "then_awaits", "waits", "quick"], timeout=1)
        async def test_x(n):
            if n == "blocks":
                time.sleep(1.5)
            elif n == "then_awaits":
                time.sleep(1.2)
                await asyncio.sleep(0.1)
            elif n == "waits":
                await asyncio.sleep(0.3)
        """,
    )
    failure = section(result, "test_x[blocks]")
    assert (
        "E   asyncgroup.CaseTimeoutError: Timeout (>1s) from asyncgroup: the case's body did not "
        "finish within its timeout of 1 s; it held the event loop's thread past it, where a "
        "timeout cannot cut it off\n"
    ) in failure, failure
    lines = path.read_text().splitlines()
    sleeps = next(i for i, line in enumerate(lines, 1) if "time.sleep(1.5)" in line)
    watchdog = f"  the watchdog saw it block the event loop at test_it.py:{sleeps}: "
    assert watchdog + "time.sleep(1.5)" in failure, failure
    assert "All traceback entries are hidden" not in failure, failure
    # Cut off at the await after its block: the traceback shows that await (pytest-timeout's
    # shows the time.sleep), and the message the line where the time went.
    failure = section(result, "test_x[then_awaits]")
    assert ">           await asyncio.sleep(0.1)" in failure, failure
    sleeps = next(i for i, line in enumerate(lines, 1) if "time.sleep(1.2)" in line)
    assert (
        f"E             the watchdog saw it block the event loop at test_it.py:{sleeps}: "
        "time.sleep(1.2)"
    ) in failure, failure
    assert summary(result) == {"failed": 2, "subtests passed": 2}, result.stdout.str()
    result.stdout.fnmatch_lines(["*2 of 4 cases failed: blocks, then_awaits*"])
    assert result.ret == 1


def test_a_sync_step_past_a_group_tests_timeout_is_named_where_it_is(
    pytester: pytest.Pytester,
) -> None:
    # As for a case: a @concurrent_group test's slow sync fixture, and its fixture's finalizer
    # (a lambda, named as Python names it).
    path, result = _run_blocking(
        pytester,
        """
        import time
        import pytest
        from asyncgroup import concurrent_group

        @pytest.fixture
        def slow():
            time.sleep(2.5)

        @pytest.fixture
        def closes(request):
            request.addfinalizer(lambda: time.sleep(2.5))

        @concurrent_group("g", timeout=1)
        async def test_a(slow):
            pass

        @concurrent_group("g")
        def test_b(closes):
            pass
        """,
    )
    assert summary(result).get("errors") == 2, result.stdout.str()
    names_where(result, "setup of test_a", "'slow'", path, "def slow():")
    names_where(result, "teardown of test_b", "'<lambda>'", path, "lambda:")
    error = section(result, "ERROR at teardown of test_b")
    assert re.search(
        r"its finalizer '<lambda>' \(added by fixture 'closes'\) took 2\.[5-9]", error
    ), error


def _run_blocking(pytester: pytest.Pytester, source: str) -> tuple[Path, pytest.RunResult]:
    """test_it.py written from ``source`` and run with -rA, the blocked-loop warnings (which
    its sync fixtures get) ignored."""
    path = pytester.makepyfile(test_it=source)
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-rA", "-W", "ignore::asyncgroup.AsyncgroupWarning", timeout=60
    )
    return path, result


@pytest.mark.parametrize("threshold", ["0.5", "0", "2"])
@pytest.mark.parametrize("kind", ["async def", "def"])
def test_the_other_cases_sync_fixtures_do_not_count_against_a_cases_timeout(
    differential: Differential, kind: str, threshold: str
) -> None:
    # Eight cases whose sync fixture holds the loop 0.15 s each, one case after another (a
    # blocking login, below every watchdog threshold here, or with the watchdog off): the
    # last setup ends 1.2 s after the first began. Each case takes 0.2 s of its own, within
    # its 0.6 s, and passes as its parametrized test does (findings-t6 F7; 5 of 8 timed out
    # at their own 0.05 s wait).
    differential.ini_lines += [
        "asyncgroup_timeout = 0.6",
        f"asyncgroup_blocked_loop_threshold = {threshold}",
    ]
    wait = "await asyncio.sleep(0.05)" if kind == "async def" else "time.sleep(0.05)"
    pair = differential.run(
        f"""
        import time

        @pytest.fixture
        def login(n):
            time.sleep(0.15)

        @cases("n", range(8))
        {kind} test_x(n, login):
            {wait}
        """,
        "-p",
        "no:cacheprovider",
    )
    pair.assert_same()
    assert pair.concurrent.ret == 0, pair._both()
    assert len(pair.parametrized_outcomes) == 8, pair._both()


# --------------------------------------------------------------------------------------------
# record_property under junit_family xunit2: pytest's warning, per case


@pytest.mark.parametrize("family", ["xunit2", "xunit1"])
def test_record_property_warns_under_xunit2(differential: Differential, family: str) -> None:
    differential.ini_lines.append(f"junit_family = {family}")
    pair = differential.run(
        """
        @cases("n", [1, 2])
        async def test_x(n, record_property):
            record_property("case", n)
        """,
        "--junitxml=out.xml",
        "-rA",
    )
    pair.assert_same()
    warned = [
        "test_it.py::test_x[[]1[]]",
        "test_it.py::test_x[[]2[]]",
        "  test_it.py:8: PytestWarning: record_property is incompatible with junit_family "
        "'xunit2' (use 'legacy' or 'xunit1')",
    ]
    for result in (pair.concurrent, pair.parametrized):
        if family == "xunit2":
            result.stdout.fnmatch_lines(warned)
        else:
            result.stdout.no_fnmatch_line("*record_property is incompatible*")
    assert _counts(pair.concurrent).get("warnings") == _counts(pair.parametrized).get("warnings")


# --------------------------------------------------------------------------------------------
# tmp_path: named as pytest names the parametrized test's


def test_tmp_path_directory_names(differential: Differential) -> None:
    pair = differential.run(
        """
        @cases("n", ["ok", "a b", "bad"])
        async def test_x(n, tmp_path):
            (tmp_path / "mark").write_text(n)
            assert n != "bad"
        """,
        "--basetemp=bt",
    )
    pair.assert_same()
    names = [
        sorted(p.name for p in (differential.pytester.path / folder / "bt").iterdir())
        for folder in ("concurrent", "parametrized")
    ]
    assert names[0] == names[1], names
    assert {"test_x_a_b_0", "test_x_bad_0", "test_x_ok_0"} <= set(names[0]), names


# --------------------------------------------------------------------------------------------
# --durations: a case's setup and teardown too


def _durations(result: pytest.RunResult, parents: set[str]) -> set[tuple[str, str]]:
    found = (re.match(r"[\d.]+s (setup|call|teardown) +(\S+)$", line) for line in result.outlines)
    return {(m[1], m[2]) for m in found if m and m[2] not in parents}


def test_durations_list_a_cases_setup_and_teardown(differential: Differential) -> None:
    pair = differential.run(
        """
        import pytest_asyncio

        @pytest_asyncio.fixture
        async def slow(n):
            await asyncio.sleep(0.3)
            yield
            await asyncio.sleep(0.2)

        @cases("n", [1, 2])
        async def test_x(n, slow):
            await asyncio.sleep(0.2)
        """,
        "--durations=0",
        "--durations-min=0.1",
    )
    pair.assert_same()
    listed = _durations(pair.concurrent, pair.parents)
    assert listed == _durations(pair.parametrized, set()), pair._both()
    assert ("teardown", "test_it.py::test_x[2]") in listed, pair._both()


# --------------------------------------------------------------------------------------------
# A fixture's pytest.skip() is placed at the test


def test_skip_in_a_fixture_is_located_at_the_test(differential: Differential) -> None:
    pair = differential.run(
        """
        @pytest.fixture
        def fx(n):
            if n == "fxskip":
                pytest.skip("fixture skip")
            yield

        @cases("n", ["fxskip", "bodyskip", "ok"])
        async def test_x(n, fx):
            if n == "bodyskip":
                pytest.skip("body skip")
        """,
        "-rs",
    )
    pair.assert_same(
        "SKIPPED [[]1[]] test_it.py:14: fixture skip",
        "SKIPPED [[]1[]] test_it.py:17: body skip",
    )


def test_a_condition_that_fails_to_evaluate_is_reported_as_pytest_reports_it(
    differential: Differential,
) -> None:
    """The case's setup error is pytest's, with its "All traceback entries are hidden" line
    (missing: asyncgroup's own frames were left in its traceback)."""
    pair = differential.run(
        """
        @cases("n", [1, pytest.param(2, marks=pytest.mark.skipif("undefined_name", reason="r"))])
        async def test_x(n):
            pass
        """
    )
    pair.assert_same(
        "Error evaluating 'skipif' condition",
        "NameError: name 'undefined_name' is not defined",
        "All traceback entries are hidden. Pass `--full-trace` to see hidden and internal frames.",
    )
    assert section(pair.concurrent, "ERROR at setup of test_x[2]") == section(
        pair.parametrized, "ERROR at setup of test_x[2]"
    )
