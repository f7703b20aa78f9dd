"""The summary line counts the cases, as the parametrized run counts its tests (issue 11, kind 9).

Differential tests (tests/differential.py): the parent's own outcome, which only sums up its
cases' (it passed, or failed because cases failed), is not one more test in the counts, nor one
more failure for --maxfail under xdist; a parent failing for a reason of its own still is.
The cases --lf and --sw leave out are counted as deselected, one each.
"""

from __future__ import annotations

import re

import pytest
from differential import Differential

from tests.conftest import summary

# A @concurrent_group in the concurrent run; separate tests in the parametrized one.
_GROUP = """
from asyncgroup import concurrent_group

group = concurrent_group("g") if cases.__module__.startswith("asyncgroup") else pytest.mark.asyncio
"""

OUTCOMES = (
    _GROUP
    + """

@pytest.fixture(scope="module")
def broken():
    raise RuntimeError("no server")


@cases("n", [pytest.param(n, marks=pytest.mark.skip("later")) for n in (1, 2)])
async def test_skipped(n):
    pass


@cases("n", range(6))
async def test_failing(n):
    assert n not in (2, 4)


@cases("n", [1, pytest.param(2, marks=pytest.mark.xfail(reason="known"))])
async def test_xfail(n):
    assert n == 1


@cases("n", [1, 2])
async def test_no_server(n, broken):
    pass


@group
async def test_first():
    pass


@group
async def test_second():
    assert False
"""
)


@pytest.mark.parametrize(
    "args",
    [["-q"], [], ["-v"], ["-n", "2"], ["-n", "2", "-v"]],
    ids=["q", "", "v", "xdist", "xdist-v"],
)
def test_summary_line_counts_the_cases_not_their_parent(
    differential: Differential, args: list[str]
) -> None:
    pair = differential.run(OUTCOMES, *args)
    pair.assert_same()
    pair.assert_same_counts()


def test_only_skipped_cases_count_as_skipped(differential: Differential) -> None:
    source = """
        @cases("n", [pytest.param(n, marks=pytest.mark.skip("later")) for n in (1, 2)])
        async def test_skipped(n):
            pass
    """
    pair = differential.run(source)
    pair.assert_same("*= 2 skipped in *")
    pair.assert_same_counts()


def test_a_group_whose_tests_all_error_counts_their_errors_only(
    differential: Differential,
) -> None:
    """A group sharing a parametrized wider fixture: each test using it is a setup ERROR of
    its own (asyncgroup's refusal, shown); the parent's failure only sums them up, uncounted."""
    source = (
        _GROUP
        + """
@pytest.fixture(scope="module", params=[1, 2])
def server(request):
    return request.param


@group
async def test_first(server):
    pass


@group
async def test_second(server):
    pass
"""
    )
    pair = differential.run(source)
    assert pair.concurrent.ret == pytest.ExitCode.TESTS_FAILED
    pair.concurrent.stdout.fnmatch_lines(["*the module-scoped fixture 'server' is parametrized*"])
    assert summary(pair.concurrent) == {"errors": 4}, pair._both()


# A test whose second case fails.
FAILS_AT_TWO = """
@cases("n", [1, 2, 3])
async def test_x(n):
    assert n != 2
"""

MAXFAIL = (
    FAILS_AT_TWO
    + """

@cases("n", [1, 2])
async def test_later(n):
    await asyncio.sleep(0.3)


@cases("n", [1, 2])
async def test_last(n):
    await asyncio.sleep(0.3)
"""
)


@pytest.mark.parametrize("args", [[], ["-n", "2"]], ids=["", "xdist"])
def test_maxfail_counts_failed_cases_not_their_parent(
    differential: Differential, args: list[str]
) -> None:
    """One failed case is one failure: --maxfail=2 does not stop the run (the parent's
    summing-up failure counted as a second one, under xdist, stopped it)."""
    pair = differential.run(MAXFAIL, "--maxfail=2", *args)
    pair.assert_same()
    pair.assert_same_counts()
    for result in (pair.concurrent, pair.parametrized):
        assert not any("stopping after" in line for line in result.outlines), pair._both()


RERUN = """
@pytest.mark.parametrize("p", [1, 2])
@cases("n", [1, 2, 3])
async def test_x(n, p):
    assert not (n == 2 and p == 1)


@cases("n", [1, 2, 3])
async def test_y(n):
    pass
"""


def test_last_failed_counts_the_cases_it_leaves_out(differential: Differential) -> None:
    """--lf on a module given as an argument deselects the passed cases of a parent that had
    failures, and every case of the parents that had none: each is one deselected test, as its
    parametrized test is. Of a module not named, pytest collects only what failed: no count."""
    differential.run(RERUN)
    pair = differential.rerun("--lf", "test_it.py")
    pair.assert_same("*= 1 failed, 8 deselected in *")
    pair.assert_same_counts()
    pair = differential.rerun("--lf")
    pair.assert_same("*= 1 failed in *")
    pair.assert_same_counts()


def test_stepwise_counts_the_cases_it_leaves_out(differential: Differential) -> None:
    """--sw goes on from the failed case: the case that passed before it is one deselected
    test. (The cases after it run at the same time as it, so they pass or are cancelled where
    the parametrized run stopped before them: those are not compared.)"""
    source = (
        FAILS_AT_TWO
        + """

@cases("n", [1, 2])
async def test_z(n):
    pass
"""
    )
    differential.run(source, "--sw")
    pair = differential.rerun("--sw")
    assert pair.concurrent.ret == pair.parametrized.ret, pair._both()
    for outcomes in (pair.concurrent_outcomes, pair.parametrized_outcomes):
        assert outcomes["test_it.py::test_x[2]"] == ["failed"], pair._both()
        assert "test_it.py::test_x[1]" not in outcomes, pair._both()
    counts = [
        re.findall(r"(\d+) deselected", result.outlines[-1])
        for result in (pair.concurrent, pair.parametrized)
    ]
    assert counts[0] == counts[1] == ["1"], pair._both()
    skipping = [
        [line for line in result.outlines if line.startswith("stepwise: skipping")]
        for result in (pair.concurrent, pair.parametrized)
    ]
    assert [lines[0].split(" (")[0] for lines in skipping if lines] == [
        "stepwise: skipping 1 already passed items"
    ] * 2, pair._both()


KNOWN_FAILURES = (
    _GROUP
    + """

@cases("c", ["a", "b"])
async def test_x(c):
    assert c != "b"


@group
async def test_a():
    pass


@group
async def test_b():
    assert False
"""
)


def test_last_failed_counts_known_failures_as_the_tests(differential: Differential) -> None:
    """A parent whose failure only sums up its cases' (or its group's tests') is no known
    failure of its own: the failed tests are test_x[b] and test_b, as in the parametrized run
    (the group's parent was on the cache's record too: "3 known failures")."""
    differential.run(KNOWN_FAILURES)
    pair = differential.rerun("--lf", "-k", "test_a")
    pair.assert_same("run-last-failure: 2 known failures not in selected tests*")
    pair = differential.rerun("--lf")
    pair.assert_same("run-last-failure: rerun previous 2 failures*")
    assert set(pair.parametrized_outcomes) == {"test_it.py::test_x[b]", "test_it.py::test_b"}


TWO_FAIL = """
import os


@cases("x", ["alpha", "beta", "gamma", "delta", "epsilon"])
async def test_x(x):
    assert x not in os.environ.get("FAIL", "").split(",")


def test_z():
    pass
"""


@pytest.mark.parametrize("module", [(), ("test_it.py",)], ids=["all", "module given"])
@pytest.mark.parametrize("expression", ["alpha", "not beta and not delta", "beta or gamma"])
def test_last_failed_with_k_keeps_to_the_failed_cases(
    differential: Differential, expression: str, module: tuple[str, ...]
) -> None:
    """--lf collects only the failed tests of a module not given as an argument: a -k that
    leaves none of them runs nothing (exit 5) rather than the cases that never failed (they
    ran, exit 0), and the cases it never collected are not counted as deselected."""
    differential.run(TWO_FAIL, env={"FAIL": "beta,delta"})
    pair = differential.rerun("--lf", "-k", expression, *module)
    pair.assert_same()
    pair.assert_same_counts()


SHARDS = """
shards = {"shards": 3} if cases.__module__.startswith("asyncgroup") else {}


@cases("x", list(range(6)), **shards)
async def test_x(x):
    assert x != 4
"""


@pytest.mark.parametrize("args", [["-k", "not 4"], ["-k", "test_x and 5"], ["--lf", "test_it.py"]])
def test_shards_count_each_case_left_out_once(differential: Differential, args: list[str]) -> None:
    """Each shard counted the left-out cases of every shard (-k "test_x and 5": 15 deselected),
    and a shard left with no case ran and passed: it is deselected, as a parent with no case
    left is."""
    differential.run(SHARDS)
    pair = differential.rerun(*args)
    pair.assert_same_counts()
    assert pair.concurrent.ret == pair.parametrized.ret, pair._both()
    for parent in pair.parents:  # each shard that ran had cases
        assert any(nodeid.startswith(parent[:-1] + "-") for nodeid in pair.concurrent_outcomes)


def test_fail_fast_counts_the_cases_it_never_started(pytester: pytest.Pytester) -> None:
    """The cases fail_fast never starts are skipped "cancelled: ...", as those it cancels,
    so that the counts and -rs show them (they were not reported at all)."""
    pytester.makepyfile(
        test_ff="""
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases("x", list(range(8)), fail_fast=True, max_concurrency=2)
        async def test_x(x):
            await asyncio.sleep(1 if x == 3 else 0.05)
            assert x != 2
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-rs", "--tb=no", timeout=60)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]5] test_ff.py:*: cancelled: fail_fast: case '2' failed",
            "*= 1 failed, 5 skipped, 2 subtests passed in *",
        ]
    )
