"""What a case sees as its test: ``request.node`` (name, node id, marks, keywords, callspec),
marks added at run time (an xfail from ``request.applymarker``), and ``self`` in a class. Each
test runs the same source as @concurrent_cases and as @pytest.mark.parametrize (or as separate
test functions, for groups) and compares."""

from __future__ import annotations

import pytest
from differential import Differential
from test_groups import compare, junit, run, write_pair

# --------------------------------------------------------------------------------------------
# An xfail mark added in a fixture or in the body decides the case's outcome, and only its own


def test_an_xfail_applied_at_run_time_acts_on_that_case_alone(differential: Differential) -> None:
    pair = differential.run(
        """
        @pytest.fixture
        def known_bug(n, request):
            if n in ("fixture", "strict-passes"):
                request.applymarker(pytest.mark.xfail(reason="known bug", strict=True))
            if n == "not-run":
                request.node.add_marker(pytest.mark.xfail(reason="never runs", run=False))

        @cases("n", ["fixture", "strict-passes", "body", "not-run", "plain"])
        async def test_x(n, known_bug, request):
            await asyncio.sleep(0.1)
            if n == "body":
                request.node.add_marker(pytest.mark.xfail(reason="from the body"))
            if n == "not-run":
                raise RuntimeError("an xfail(run=False) case ran")
            assert n == "strict-passes"
        """,
        "-rxXf",
    )
    pair.assert_same(
        "XFAIL test_it.py::test_x[[]fixture[]] - known bug",
        "XFAIL test_it.py::test_x[[]body[]] - from the body",
        "FAILED test_it.py::test_x[[]strict-passes[]]*",
        "FAILED test_it.py::test_x[[]plain[]]*",
    )
    assert pair.parametrized_outcomes["test_it.py::test_x[not-run]"] == ["xfailed"]


def test_an_xfail_applied_at_run_time_acts_on_a_test_of_a_group(
    pytester: pytest.Pytester,
) -> None:
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        @pytest.fixture
        def known_bug(request):
            request.applymarker(pytest.mark.xfail(reason="known bug", strict=True))

        @concurrent_group("g")
        async def test_fails(known_bug):
            assert 0

        @concurrent_group("g")
        async def test_passes(known_bug):
            pass

        @concurrent_group("g")
        async def test_marks_itself(request):
            request.node.add_marker(pytest.mark.xfail(reason="in the body"))
            assert 0

        @concurrent_group("g")
        async def test_plain():
            pass
        """,
    )
    _, plain = compare(pytester, "-rxX")
    plain.stdout.fnmatch_lines(["*XPASS(strict)*known bug*"])
    plain.assert_outcomes(passed=1, failed=1, xfailed=2)


# --------------------------------------------------------------------------------------------
# request.node is the case's own test


def test_request_node_is_the_parametrized_test_a_case_stands_for(
    differential: Differential,
) -> None:
    # pytest's documented way to pass data to fixtures: a fixture reads the test's marks.
    pair = differential.run(
        """
        @pytest.fixture
        def db(request):
            marker = request.node.get_closest_marker("needs_db")
            return None if marker is None else marker.args[0]

        @pytest.mark.parametrize("p", ["p1"])
        @pytest.mark.env("outer")
        @cases("n", [1, pytest.param(2, marks=[pytest.mark.needs_db("pg"), pytest.mark.env("in")])])
        async def test_x(p, n, db, request):
            node = request.node
            assert db == ("pg" if n == 2 else None)
            assert node.name == f"test_x[{n}-{p}]"
            assert node.nodeid == f"test_it.py::test_x[{n}-{p}]"
            assert node.callspec.id == f"{n}-{p}"
            assert node.callspec.params == {"p": p, "n": n}
            envs = [mark.args[0] for mark in node.iter_markers("env")]
            assert envs == (["outer", "in"] if n == 2 else ["outer"])
            assert ("needs_db" in node.keywords) == (n == 2)
            assert ("needs_db" in request.keywords) == (n == 2)
            assert f"{n}-{p}" in request.keywords
            assert node.get_closest_marker("mine") is None, "a mark of another case leaked"
            node.add_marker("mine")
            await asyncio.sleep(0.1)
            assert node.get_closest_marker("mine") is not None
            assert node.config is request.config
        """,
        "-p",
        "no:warnings",
    )
    pair.assert_same()
    assert list(pair.parametrized_outcomes.values()) == [["passed"], ["passed"]]


# --------------------------------------------------------------------------------------------
# Each case of a test in a class has an instance of its own


def test_each_case_of_a_test_in_a_class_gets_its_own_instance(
    differential: Differential,
) -> None:
    pair = differential.run(
        """
        import pytest_asyncio

        class TestA:
            @pytest.fixture(autouse=True)
            def setup_state(self):
                self.items = []

            @pytest_asyncio.fixture
            async def tagged(self, n):
                self.items.append(f"fixture {n}")
                return self

            def setup_method(self, method):
                self.set_up = True

            @cases("n", [1, 2, 3])
            async def test_x(self, n, tagged):
                assert tagged is self
                assert self.set_up
                self.items.append(n)
                await asyncio.sleep(0.1)
                assert self.items == [f"fixture {n}", n]

            @cases("n", [1, 2])
            async def test_no_fixture(self, n):
                assert not hasattr(self, "n")
                self.n = n
                await asyncio.sleep(0.1)
                assert self.n == n
        """,
    )
    pair.assert_same()
    assert len(pair.parametrized_outcomes) == 5
    assert all(outcome == ["passed"] for outcome in pair.parametrized_outcomes.values())


def test_each_case_of_a_cases_test_in_a_grouped_class_gets_its_own_instance(
    pytester: pytest.Pytester,
) -> None:
    write_pair(
        pytester,
        """
        import asyncio
        import pytest
        from asyncgroup import concurrent_cases, concurrent_group

        @concurrent_group
        class TestA:
            @pytest.fixture(autouse=True)
            def setup_state(self):
                self.items = []

            @concurrent_cases("n", [1, 2])
            async def test_x(self, n):
                self.items.append(n)
                await asyncio.sleep(0.1)
                assert self.items == [n]

            async def test_y(self):
                self.items.append("y")
                await asyncio.sleep(0.1)
                assert self.items == ["y"]
        """,
    )
    grouped, plain = run(pytester, "test_grouped"), run(pytester, "test_plain")
    # Without the group, the @concurrent_cases test is its own parent; the cases are the same.
    assert junit(pytester.path / "test_grouped.xml") == {
        "TestA::test_x[1]": ("passed", ""),
        "TestA::test_x[2]": ("passed", ""),
        "TestA::test_y": ("passed", ""),
        "TestA::concurrent_group": ("passed", ""),
    }
    assert junit(pytester.path / "test_plain.xml") == {
        "TestA::test_x[1]": ("passed", ""),
        "TestA::test_x[2]": ("passed", ""),
        "TestA::test_x": ("passed", ""),
        "TestA::test_y": ("passed", ""),
    }
    assert grouped.ret == plain.ret == 0


# --------------------------------------------------------------------------------------------
# pytest's recipe "Making test result information available in fixtures"

REPORTS_ON_THE_ITEM = """
import pytest

@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep
"""


def test_a_teardown_fixture_reads_the_cases_reports_from_request_node(
    differential: Differential,
) -> None:
    differential.write(
        """
        import pathlib

        @pytest.fixture
        def on_failure(request):
            yield
            setup, call = request.node.rep_setup, request.node.rep_call
            with pathlib.Path("seen.txt").open("a") as file:
                print(request.node.nodeid, setup.outcome, call.outcome, call.failed, file=file)

        @cases("n", [1, 2, pytest.param(3, marks=pytest.mark.xfail(reason="bug"))])
        async def test_x(n, on_failure):
            await asyncio.sleep(0.1)
            assert n == 2
        """
    )
    for folder in ("concurrent", "parametrized"):
        with (differential.pytester.path / folder / "conftest.py").open("a") as conftest:
            conftest.write(REPORTS_ON_THE_ITEM)
    pair = differential.rerun()
    pair.assert_same()
    seen = [
        sorted((differential.pytester.path / folder / "seen.txt").read_text().splitlines())
        for folder in ("concurrent", "parametrized")
    ]
    assert (
        seen[0]
        == seen[1]
        == [
            "test_it.py::test_x[1] passed failed True",
            "test_it.py::test_x[2] passed passed False",
            "test_it.py::test_x[3] passed skipped False",
        ]
    )


def test_a_teardown_fixture_reads_the_reports_of_a_test_of_a_group(
    pytester: pytest.Pytester,
) -> None:
    write_pair(
        pytester,
        """
        import pathlib
        import pytest
        from asyncgroup import concurrent_group

        @pytest.fixture
        def on_failure(request):
            yield
            setup, call = request.node.rep_setup, request.node.rep_call
            with pathlib.Path(request.path.stem + ".txt").open("a") as file:
                print(request.node.name, setup.outcome, call.outcome, file=file)

        @concurrent_group("g")
        async def test_fails(on_failure):
            assert 0

        @concurrent_group("g")
        async def test_passes(on_failure):
            pass

        @pytest.mark.xfail(reason="bug")
        @concurrent_group("g")
        async def test_xfails(on_failure):
            assert 0
        """,
    )
    pytester.makeconftest(REPORTS_ON_THE_ITEM)
    compare(pytester)
    seen = [
        sorted((pytester.path / f"{name}.txt").read_text().splitlines())
        for name in ("test_grouped", "test_plain")
    ]
    assert (
        seen[0]
        == seen[1]
        == [
            "test_fails passed failed",
            "test_passes passed passed",
            "test_xfails passed skipped",
        ]
    )
