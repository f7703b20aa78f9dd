"""pytest-rerunfailures: only the failed cases are rerun, each as its parametrized test would be;
the parent runs once.

Each test source counts the runs of each case body in ``runs-<name>.txt`` (in the run's folder), so
that the bodies run as often under ``@concurrent_cases`` as under ``@pytest.mark.parametrize``.
"""

from __future__ import annotations

import json

import pytest
from differential import Differential, Pair

# A case body's runs so far, this one included, from runs.txt in the working directory.
_RUNS = """
        import pathlib

        def run(name):
            runs = pathlib.Path(f"runs-{name}.txt")  # a file per name: xdist workers apart
            count = (int(runs.read_text()) if runs.exists() else 0) + 1
            runs.write_text(str(count))
            return count
"""


def _runs(pair: Pair, differential: Differential) -> tuple[list[str], list[str]]:
    """The case bodies that ran, sorted, in the concurrent and the parametrized folder."""
    found = []
    for name in ("concurrent", "parametrized"):
        files = (differential.pytester.path / name).glob("runs-*.txt")
        runs = [file.stem[len("runs-") :] for file in files for _ in range(int(file.read_text()))]
        found.append(sorted(runs))
    return found[0], found[1]


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["", "xdist"])
def test_only_the_failed_cases_rerun(differential: Differential, xdist: list[str]) -> None:
    pair = differential.run(
        _RUNS
        + """
        XFAIL = pytest.param("xfail", marks=pytest.mark.xfail)

        @cases("name", ["pass", "flaky", "fail", "skip", XFAIL])
        async def test_x(name):
            n = run(name)
            await asyncio.sleep(0.1)
            if name == "skip":
                pytest.skip("skips")
            assert not (name == "flaky" and n == 1), "flaky fails on its first run"
            assert name not in ("fail", "xfail")
        """,
        "--reruns",
        "2",
        "-rR",
        *xdist,
    )
    pair.assert_same(
        "*3 rerun*",
        "RERUN test_it.py::test_x[[]flaky[]]",
        "PASSED test_it.py::test_x[[]flaky[]]",
        "FAILED test_it.py::test_x[[]fail[]]",
    )
    assert pair.concurrent.ret == 1
    concurrent, parametrized = _runs(pair, differential)
    expected = ["pass", "flaky", "flaky", *["fail"] * 3, "skip", "xfail"]
    assert concurrent == parametrized == sorted(expected)
    lines = pair.concurrent.outlines
    rerun_summary = lines[lines.index(next(x for x in lines if "rerun test summary" in x)) :]
    assert sum(line.startswith("RERUN test_it.py::test_x[fail]") for line in rerun_summary) == 2


def test_a_case_that_passes_on_its_rerun_passes(differential: Differential) -> None:
    pair = differential.run(
        _RUNS
        + """
        @cases("name", ["a", "flaky", "b"])
        async def test_x(name):
            n = run(name)
            await asyncio.sleep(0.1)
            assert not (name == "flaky" and n == 1)
        """,
        "--reruns",
        "1",
    )
    pair.assert_same("*1 rerun*")
    assert pair.concurrent.ret == 0
    assert "R" in pair.concurrent.stdout.str().splitlines()[-3]  # the progress line has the R


@pytest.mark.parametrize("kind", ["cases", "group"])
def test_request_node_execution_count_is_the_attempt(differential: Differential, kind: str) -> None:
    """The plugin's ``item.execution_count`` (1, 2, ...), read by a fixture on each attempt."""
    test = (
        """
        @cases("name", ["a", "flaky"])
        async def test_x(name, attempt):
        """
        if kind == "cases"
        else """
        from asyncgroup import concurrent_group

        concurrent = cases.__module__.startswith("asyncgroup")
        group = concurrent_group("g") if concurrent else pytest.mark.asyncio

        @group
        async def test_a(attempt):
            run(f"a@{attempt}")

        @group
        async def test_flaky(attempt):
            name = "flaky"
        """
    )
    pair = differential.run(
        _RUNS
        + """
        @pytest.fixture
        def attempt(request):
            return request.node.execution_count
        """
        + test
        + """
            n = run(name)
            run(f"{name}@{attempt}")
            await asyncio.sleep(0.1)
            assert not (name == "flaky" and n == 1)
        """,
        "--reruns",
        "2",
    )
    pair.assert_same("*1 rerun*")
    assert pair.concurrent.ret == 0
    concurrent, parametrized = _runs(pair, differential)
    a = ["a", "a@1"] if kind == "cases" else ["a@1"]
    assert concurrent == parametrized == sorted([*a, "flaky", "flaky", "flaky@1", "flaky@2"])


def test_a_flaky_mark_on_a_case_reruns_that_case(differential: Differential) -> None:
    pair = differential.run(
        _RUNS
        + """
        @cases("name", ["a", pytest.param("flaky", marks=pytest.mark.flaky(reruns=2)), "fail"])
        async def test_x(name):
            n = run(name)
            await asyncio.sleep(0.1)
            assert not (name == "flaky" and n < 3)
            assert name != "fail"
        """,
        "-v",
    )
    pair.assert_same("*2 rerun*", "test_it.py::test_x[[]flaky[]] RERUN*")
    concurrent, parametrized = _runs(pair, differential)
    assert concurrent == parametrized == ["a", "fail", "flaky", "flaky", "flaky"]


def test_a_cases_own_flaky_mark_wins_over_one_a_conftest_adds(
    differential: Differential,
) -> None:
    """flaky(reruns=1) a collection hook adds to every test comes after a case's own
    flaky(reruns=2), as pytest appends it after a parametrized test's: the case gets its 2."""
    differential.write(
        _RUNS
        + """
        @cases("name", ["a", pytest.param("flaky", marks=pytest.mark.flaky(reruns=2))])
        async def test_x(name):
            n = run(name)
            await asyncio.sleep(0.1)
            assert not (name == "flaky" and n < 3)
        """
    )
    differential.add_to_conftest(
        "import pytest\n\ndef pytest_collection_modifyitems(items):\n"
        "    for item in items:\n        item.add_marker(pytest.mark.flaky(reruns=1))\n"
    )
    pair = differential.rerun("-v")
    pair.assert_same("*2 rerun*")
    concurrent, parametrized = _runs(pair, differential)
    assert concurrent == parametrized == ["a", "flaky", "flaky", "flaky"]


def test_a_flaky_mark_on_the_test_with_a_condition(differential: Differential) -> None:
    pair = differential.run(
        _RUNS
        + """
        @pytest.mark.flaky(reruns=1, condition=lambda error: isinstance(error, ValueError))
        @cases("name", ["value", "assert"])
        async def test_x(name):
            run(name)
            if name == "value":
                raise ValueError(name)
            assert False
        """,
    )
    pair.assert_same("*1 rerun*")
    concurrent, parametrized = _runs(pair, differential)
    assert concurrent == parametrized == ["assert", "value", "value"]


@pytest.mark.parametrize(
    ("option", "rerun"), [("--only-rerun=ValueError", "value"), ("--rerun-except=Value", "key")]
)
def test_only_rerun_and_rerun_except(differential: Differential, option: str, rerun: str) -> None:
    pair = differential.run(
        _RUNS
        + """
        @cases("name", ["value", "key"])
        async def test_x(name):
            run(name)
            raise {"value": ValueError, "key": KeyError}[name](name)
        """,
        "--reruns",
        "1",
        option,
    )
    pair.assert_same("*1 rerun*")
    concurrent, parametrized = _runs(pair, differential)
    assert concurrent == parametrized == sorted(["value", "key", rerun])


def test_a_fixture_setup_error_is_rerun_with_a_fresh_fixture(differential: Differential) -> None:
    pair = differential.run(
        _RUNS
        + """
        @pytest.fixture
        def resource(name):
            if run("setup-" + name) == 1 and name == "b":
                raise ConnectionError("the server was not up yet")
            yield name
            run("teardown-" + name)

        @cases("name", ["a", "b"])
        async def test_x(name, resource):
            run(resource)
        """,
        "--reruns",
        "1",
    )
    pair.assert_same("*1 rerun*")
    assert pair.concurrent.ret == 0
    concurrent, parametrized = _runs(pair, differential)
    expected = ["a", "b", "setup-a", "setup-b", "setup-b", "teardown-a", "teardown-b"]
    assert concurrent == parametrized == expected


def test_reruns_delay_is_waited_for_each_case_and_cases_rerun_together(
    differential: Differential,
) -> None:
    """Four cases each fail once; with --reruns-delay 1 their reruns overlap (a wide margin:
    one after another they take 4 s at least)."""
    pair = differential.run(
        """
        import json, pathlib, time

        @cases("name", ["a", "b", "c", "d"])
        async def test_x(name):
            log = pathlib.Path("times.json")
            times = json.loads(log.read_text()) if log.exists() else {}
            times.setdefault(name, []).append(time.time())
            log.write_text(json.dumps(times))
            assert len(times[name]) > 1
        """,
        "--reruns",
        "1",
        "--reruns-delay",
        "1",
    )
    pair.assert_same("*4 rerun*")
    assert pair.concurrent.ret == 0
    times = json.loads((differential.pytester.path / "concurrent" / "times.json").read_text())
    assert all(second - first >= 1 for first, second in times.values()), times
    starts = [start for runs in times.values() for start in runs]
    assert max(starts) - min(starts) < 3, times


def test_exitfirst_stops_at_a_case_that_fails_after_its_reruns(differential: Differential) -> None:
    pair = differential.run(
        _RUNS
        + """
        @cases("name", ["flaky", "fail", "late"])
        async def test_x(name):
            n = run(name)
            await asyncio.sleep({"flaky": 0.1, "fail": 0.3, "late": 5}[name])
            assert not (name == "flaky" and n == 1)
            assert name != "fail"
        """,
        "--reruns",
        "1",
        "-x",
    )
    # The flaky case's rerun is no failure: -x stops only at "fail", once its rerun failed.
    pair.assert_same("*2 rerun*", cancelled=True)
    assert pair.concurrent_outcomes["test_it.py::test_x[fail]"] == ["rerun", "failed"]
    assert pair.concurrent_outcomes["test_it.py::test_x[flaky]"] == ["rerun", "passed"]


def test_fail_on_flaky(differential: Differential) -> None:
    pair = differential.run(
        _RUNS
        + """
        @cases("name", ["a", "flaky"])
        async def test_x(name):
            assert not (name == "flaky" and run(name) == 1)
        """,
        "--reruns",
        "1",
        "--fail-on-flaky",
    )
    pair.assert_same()
    assert pair.concurrent.ret == 7


def test_a_group_reruns_only_its_failed_test(differential: Differential) -> None:
    pair = differential.run(
        _RUNS
        + """
        from asyncgroup import concurrent_group

        concurrent = cases.__module__.startswith("asyncgroup")
        group = concurrent_group("g") if concurrent else pytest.mark.asyncio

        @group
        async def test_a():
            run("a")

        @group
        async def test_flaky():
            await asyncio.sleep(0.1)
            assert run("flaky") > 1
        """,
        "--reruns",
        "2",
    )
    pair.assert_same("*1 rerun*")
    assert pair.concurrent.ret == 0
    concurrent, parametrized = _runs(pair, differential)
    assert concurrent == parametrized == ["a", "flaky", "flaky"]


def test_with_pytest_timeout_the_parents_timer_covers_the_reruns(
    differential: Differential,
) -> None:
    """pytest-timeout's timer on the parent is bounded by its cases' timeouts: without counting
    reruns (10 s: 1 s + 2 x 1 s + 7 s of grace), it would cut off a case passing on its third
    attempt after two 5 s waits (about 11.5 s), which its parametrized test passes."""
    pair = differential.run(
        _RUNS
        + """
        @cases("name", ["ok", "flaky"])
        async def test_x(name):
            count = run(name)
            await asyncio.sleep(0.5)
            assert name == "ok" or count == 3
        """,
        "--reruns",
        "2",
        "--reruns-delay",
        "5",
        "--timeout",
        "1",
        "-o",
        "timeout_method=signal",
    )
    pair.assert_same("*2 rerun*")
    assert pair.concurrent.ret == 0
    assert _runs(pair, differential) == (["flaky"] * 3 + ["ok"],) * 2
