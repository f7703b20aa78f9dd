"""What a case sees as its test: ``request.node`` (name, node id, marks, keywords, callspec),
marks added at run time (an xfail from ``request.applymarker``), and ``self`` in a class. Each
test runs the same source as @concurrent_cases and as @pytest.mark.parametrize (or as separate
test functions, for groups) and compares."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

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
            assert node.callspec.indices["n"] == n - 1
            assert node.location[::2] == ("test_it.py", f"test_x[{n}-{p}]")
            assert (node.funcargs["n"], node.funcargs["p"], node.funcargs["db"]) == (n, p, db)
            assert {"n", "p", "db", "request"} <= set(node.fixturenames)
            envs = [mark.args[0] for mark in node.iter_markers("env")]
            assert envs == (["outer", "in"] if n == 2 else ["outer"])
            # The case's parametrize mark in the decorator's place, closest: as given.
            second = pytest.param(2, marks=[pytest.mark.needs_db("pg"), pytest.mark.env("in")])
            assert [m.args for m in node.iter_markers("parametrize")] == [
                ("n", [1, second]),
                ("p", ["p1"]),
            ]
            assert "parametrize" in node.keywords
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


# pytest's --runslow example with the skip decided per test by a fixture (README, Known limits:
# its pytest_collection_modifyitems form sees the parent only).
_RUNSLOW_CONFTEST = """
import pytest

def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")

def pytest_configure(config):
    config.addinivalue_line("markers", "slow: mark test as slow to run")

@pytest.fixture(autouse=True)
def _skip_slow(request):
    if request.node.get_closest_marker("slow") and not request.config.getoption("--runslow"):
        pytest.skip("need --runslow option to run")
"""


def test_a_slow_case_is_skipped_per_case_by_the_fixture_form_of_runslow(
    differential: Differential, pytester: pytest.Pytester
) -> None:
    differential.write(
        """
        @cases("n", [1, 2, pytest.param(3, marks=pytest.mark.slow)])
        async def test_x(n):
            assert n != 3, "slow case ran"
        """
    )
    for folder in ("concurrent", "parametrized"):
        with open(pytester.path / folder / "conftest.py", "a") as conftest:
            conftest.write(_RUNSLOW_CONFTEST)
    pair = differential.rerun("-rs")
    pair.assert_same("SKIPPED [[]1[]] test_it.py:*: need --runslow option to run")
    assert pair.parametrized_outcomes["test_it.py::test_x[3]"] == ["skipped"]
    pair.assert_same_counts()
    pair = differential.rerun("--runslow")
    pair.assert_same("*slow case ran*")
    assert pair.parametrized_outcomes["test_it.py::test_x[3]"] == ["failed"]
    pair = differential.rerun("-m", "not slow")
    pair.assert_same()
    pair.assert_same_counts()
    assert "test_it.py::test_x[3]" not in pair.parametrized_outcomes


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


XUNIT_METHOD = """
import asyncio
import inspect

import pytest


def check(self, method, name):
    assert inspect.ismethod(method), method
    assert method.__self__ is self
    assert method.__name__ == name
    assert list(inspect.signature(method).parameters) == ["n"]


class TestA:
    def setup_method(self, method):
        check(self, method, "test_x")

    def teardown_method(self, method):
        check(self, method, "test_x")

    @pytest.fixture(autouse=True)
    def by_request(self, request):
        check(self, request.function, "test_x")

    @cases("n", [1, 2])
    async def test_x(self, n):
        await asyncio.sleep(0.1)
"""


def test_setup_method_gets_the_test_bound_to_the_cases_instance(
    differential: Differential,
) -> None:
    """pytest gives setup_method, teardown_method and a fixture's request.function the test
    method bound to the test's instance (they had the parent's function: unbound, and the
    parent's signature)."""
    pair = differential.run(XUNIT_METHOD)
    pair.assert_same()
    assert pair.parametrized_outcomes == {
        f"test_it.py::TestA::test_x[{n}]": ["passed"] for n in (1, 2)
    }, pair._both()


def test_setup_method_gets_the_group_test_bound_to_its_instance(
    pytester: pytest.Pytester,
) -> None:
    """The same for the tests of a class @concurrent_group (they had the unbound function)."""
    write_pair(
        pytester,
        """
        import inspect
        import pytest
        from asyncgroup import concurrent_group

        @concurrent_group
        class TestA:
            def setup_method(self, method):
                assert inspect.ismethod(method) and method.__self__ is self, method
                self.name = method.__name__

            def teardown_method(self, method):
                assert inspect.ismethod(method) and method.__self__ is self, method

            def test_sync(self):
                assert self.name == "test_sync"

            async def test_async(self):
                assert self.name == "test_async"
        """,
    )
    grouped, plain = compare(pytester)
    assert plain.ret == pytest.ExitCode.OK, plain.stdout.str()
    for name in ("test_sync", "test_async"):  # in the order they end
        grouped.stdout.fnmatch_lines([f"*::TestA::{name} PASSED*"])


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
# pytest's recipe "Making test result information available in fixtures": a makereport wrapper
# keeps each phase's report on the item, a fixture reads them in its teardown. Its form in
# pytest's docs today (item.stash), and the older one (item.rep_setup, item.rep_call) with a
# new-style and an old-style wrapper. Each conftest below defines reports(node), the reports
# its wrapper kept for a test's node, by phase, and a fixture `seen` that writes them down.

_KEPT_AS_ATTRIBUTES = """
def reports(node):
    names = {when: "rep_" + when for when in ("setup", "call", "teardown")}
    return {when: getattr(node, name) for when, name in names.items() if hasattr(node, name)}
"""

RECIPES = {
    "stash": """
phase_report_key = pytest.StashKey[dict]()

@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    item.stash.setdefault(phase_report_key, {})[rep.when] = rep
    return rep

def reports(node):
    return node.stash[phase_report_key]
""",
    "rep_wrapper": """
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep
"""
    + _KEPT_AS_ATTRIBUTES,
    "rep_hookwrapper": """
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
"""
    + _KEPT_AS_ATTRIBUTES,
}

_SEEN = """
import pathlib

@pytest.fixture
def seen(request):
    yield
    found = reports(request.node)
    call = found["call"].outcome if "call" in found else "no-call"
    line = [request.node.nodeid, found["setup"].outcome, call, *sorted(found)]
    with pathlib.Path(request.path.stem + ".txt").open("a") as file:
        print(*line, file=file)
"""


def _conftest(recipe: str) -> str:
    return "import pytest\n" + RECIPES[recipe] + _SEEN


def _seen(folder: Path, stem: str) -> list[str]:
    return sorted((folder / f"{stem}.txt").read_text().splitlines())


@pytest.mark.parametrize(
    ("recipe", "args"),
    [(recipe, ()) for recipe in sorted(RECIPES)] + [("stash", ("-n", "2"))],
)
def test_a_teardown_fixture_reads_each_cases_own_reports_from_request_node(
    differential: Differential, recipe: str, args: tuple[str, ...]
) -> None:
    differential.write(
        """
        @pytest.fixture
        def broken(n):
            if n == 4:
                raise RuntimeError("setup fails")

        @cases("n", [1, 2, pytest.param(3, marks=pytest.mark.xfail(reason="bug")), 4])
        async def test_x(n, seen, broken):
            await asyncio.sleep(0.1)
            assert n == 2

        class TestC:
            @cases("n", [1, 2])
            async def test_y(self, n, seen):
                await asyncio.sleep(0.1)
                assert n == 1
        """
    )
    for folder in ("concurrent", "parametrized"):
        with (differential.pytester.path / folder / "conftest.py").open("a") as conftest:
            conftest.write(_conftest(recipe))
    pair = differential.rerun(*args)
    pair.assert_same()
    concurrent, parametrized = (
        _seen(differential.pytester.path / folder, "test_it")
        for folder in ("concurrent", "parametrized")
    )
    assert concurrent == parametrized
    assert parametrized == [
        "test_it.py::TestC::test_y[1] passed passed call setup",
        "test_it.py::TestC::test_y[2] passed failed call setup",
        "test_it.py::test_x[1] passed failed call setup",
        "test_it.py::test_x[2] passed passed call setup",
        "test_it.py::test_x[3] passed skipped call setup",
        "test_it.py::test_x[4] failed no-call setup",
    ]


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_a_teardown_fixture_reads_the_reports_of_a_test_of_a_group(
    pytester: pytest.Pytester, recipe: str
) -> None:
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_cases, concurrent_group

        @pytest.fixture
        def broken():
            raise RuntimeError("setup fails")

        @concurrent_group("g")
        async def test_fails(seen):
            assert 0

        @concurrent_group("g")
        async def test_passes(seen):
            pass

        @pytest.mark.xfail(reason="bug")
        @concurrent_group("g")
        async def test_xfails(seen):
            assert 0

        @concurrent_group("g")
        async def test_setup_error(seen, broken):
            pass

        @concurrent_group
        class TestG:
            async def test_a(self, seen):
                pass

            @concurrent_cases("n", [1, 2])
            async def test_b(self, n, seen):
                assert n == 1
        """,
    )
    pytester.makeconftest(_conftest(recipe))
    grouped_run, plain_run = run(pytester, "test_grouped"), run(pytester, "test_plain")
    # Without the group, the @concurrent_cases test is its own parent; the rest is the same.
    outcomes = junit(pytester.path / "test_grouped.xml")
    assert outcomes.pop("TestG::concurrent_group")[0] == "failure"
    assert outcomes.pop("concurrent_group[g]")[0] == "failure"
    without = junit(pytester.path / "test_plain.xml")
    assert without.pop("TestG::test_b") == ("failure", "Failed: 1 of 2 cases failed: 2")
    assert outcomes == without
    assert grouped_run.ret == plain_run.ret == 1
    grouped, plain = (_seen(pytester.path, stem) for stem in ("test_grouped", "test_plain"))
    assert [line.split("::", 1)[1] for line in grouped] == [
        line.split("::", 1)[1] for line in plain
    ]
    assert [line.split("::", 1)[1] for line in plain] == [
        "TestG::test_a passed passed call setup",
        "TestG::test_b[1] passed passed call setup",
        "TestG::test_b[2] passed failed call setup",
        "test_fails passed failed call setup",
        "test_passes passed passed call setup",
        "test_setup_error failed no-call setup",
        "test_xfails passed skipped call setup",
    ]


# A wrapper that adds to each report: user properties, and a section to a failure's.
_WRAPPER = """
import pathlib
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    with pathlib.Path("calls.txt").open("a") as file:
        print(item.nodeid, call.when, rep.when, rep.outcome, call.excinfo is not None, file=file)
    rep.user_properties.append(("made_" + rep.when, item.name))
    if rep.failed:
        rep.sections.append(("hooked", "SEEN BY THE WRAPPER " + item.name))
    return rep
"""


def test_the_report_a_projects_wrapper_returns_is_the_cases(
    differential: Differential,
) -> None:
    """What a makereport wrapper adds to a report (a section, user properties) is in the
    case's report, as in its parametrized test's: on the terminal and in JUnit XML."""
    differential.write(
        """
        @cases("n", [1, 2])
        async def test_x(n, record_property):
            record_property("recorded", n)
            await asyncio.sleep(0.1)
            assert n == 1
        """
    )
    for folder in ("concurrent", "parametrized"):
        with (differential.pytester.path / folder / "conftest.py").open("a") as conftest:
            conftest.write(_WRAPPER)
    pair = differential.rerun("-rA", "--junitxml=out.xml")
    pair.assert_same("*- hooked -*", "SEEN BY THE WRAPPER test_x[[]2]")
    concurrent, parametrized = (
        _properties(differential.pytester.path / folder / "out.xml")
        for folder in ("concurrent", "parametrized")
    )
    assert {name: concurrent[name] for name in parametrized} == parametrized
    # JUnit XML writes the teardown report's: the item's, and what the wrapper added to it.
    assert parametrized["test_x[2]"] == [("made_teardown", "test_x[2]"), ("recorded", "2")]
    # The hook ran once per phase of each case, as for each parametrized test (the parent's
    # own phases aside), pytest's own implementations not again.
    concurrent_calls, parametrized_calls = (
        sorted((differential.pytester.path / folder / "calls.txt").read_text().splitlines())
        for folder in ("concurrent", "parametrized")
    )
    assert [line for line in concurrent_calls if "[" in line] == parametrized_calls
    assert parametrized_calls == [
        "test_it.py::test_x[1] call call passed False",
        "test_it.py::test_x[1] setup setup passed False",
        "test_it.py::test_x[1] teardown teardown passed False",
        "test_it.py::test_x[2] call call failed True",
        "test_it.py::test_x[2] setup setup passed False",
        "test_it.py::test_x[2] teardown teardown passed False",
    ]


def test_the_report_a_projects_wrapper_returns_is_a_grouped_tests(
    pytester: pytest.Pytester,
) -> None:
    write_pair(
        pytester,
        """
        from asyncgroup import concurrent_group

        @concurrent_group("g")
        async def test_a(request, record_property):
            record_property("recorded", "a")
            request.node.user_properties.append(("on_node", "a"))
            assert 0

        @concurrent_group("g")
        async def test_b():
            pass
        """,
    )
    pytester.makeconftest(_WRAPPER)
    grouped, plain = compare(pytester, "-rA", "-o", "junit_family=xunit1")
    for result in (grouped, plain):
        result.stdout.fnmatch_lines(["*- hooked -*", "SEEN BY THE WRAPPER test_a"])
    for module in ("test_grouped", "test_plain"):
        found = _properties(pytester.path / f"{module}.xml")
        assert {name: found[name] for name in ("test_a", "test_b")} == {
            "test_a": [("made_teardown", "test_a"), ("on_node", "a"), ("recorded", "a")],
            "test_b": [("made_teardown", "test_b")],
        }, module


def _properties(path: Path) -> dict[str, list[tuple[str, str]]]:
    """JUnit XML: each testcase's properties (sorted) by its name."""
    return {
        testcase.get("name", ""): sorted(
            (p.get("name", ""), p.get("value", "")) for p in testcase.iter("property")
        )
        for testcase in ET.parse(path).iter("testcase")
    }


# --------------------------------------------------------------------------------------------
# What a conftest hook adds to the test at collection: its marks come after a case's own, as
# pytest appends them to each parametrized test after its parameter set's; its user_properties
# are each case's

_ADDS_TO_EVERY_TEST = {
    "modifyitems": """
def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.env("suite"))
        item.add_marker(pytest.mark.xfail(reason="suite-wide"))
        item.user_properties.append(("added", "at collection"))
""",
    "itemcollected": """
def pytest_itemcollected(item):
    item.add_marker(pytest.mark.env("suite"))
    item.add_marker(pytest.mark.xfail(reason="suite-wide"))
    item.user_properties.append(("added", "at collection"))
""",
}


@pytest.mark.parametrize("hook", sorted(_ADDS_TO_EVERY_TEST))
def test_a_mark_a_collection_hook_adds_comes_after_a_cases_own(
    differential: Differential, hook: str
) -> None:
    """A case's own ``pytest.param`` marks are closest: its env mark is the one a fixture reads,
    its strict xfail is the one that decides (XPASS(strict), where the hook's would xpass);
    what the hook recorded is in each case's request.node.user_properties and JUnit XML, and
    what a case records stays its own."""
    differential.ini_lines.append("markers = env: the environment a test runs in")
    differential.write(
        """
        @pytest.fixture
        def env(request):
            found = [mark.args[0] for mark in request.node.iter_markers("env")]
            return ",".join(found) + " " + str(request.node.user_properties)

        @cases("n", [
            1,
            pytest.param(2, marks=[pytest.mark.env("own"), pytest.mark.xfail(strict=True)]),
        ])
        async def test_x(n, env, record_property):
            record_property("env", env)
            await asyncio.sleep(0.1)
        """
    )
    differential.add_to_conftest("import pytest\n" + _ADDS_TO_EVERY_TEST[hook])
    pair = differential.rerun("-rA", "--junitxml=out.xml")
    pair.assert_same("*XPASS(strict)*")
    assert pair.parametrized_outcomes == {
        "test_it.py::test_x[1]": ["xpassed"],
        "test_it.py::test_x[2]": ["failed"],
    }
    concurrent, parametrized = (
        _properties(differential.pytester.path / folder / "out.xml")
        for folder in ("concurrent", "parametrized")
    )
    assert {name: concurrent[name] for name in parametrized} == parametrized
    added = ("added", "at collection")
    assert parametrized == {
        "test_x[1]": [added, ("env", f"suite {[added]}")],
        "test_x[2]": [added, ("env", f"own,suite {[added]}")],
    }


def test_a_mark_a_collection_hook_adds_comes_after_a_cases_own_in_a_group(
    pytester: pytest.Pytester,
) -> None:
    """The same for the cases of a @concurrent_cases test in a group: the case's strict xfail
    decides (XPASS(strict)), not the hook's; a plain grouped test has the hook's."""
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_cases, concurrent_group

        @concurrent_group("g")
        @concurrent_cases("n", [1, pytest.param(2, marks=pytest.mark.xfail(strict=True))])
        async def test_x(n):
            pass

        @concurrent_group("g")
        async def test_plain():
            pass
        """,
    )
    pytester.makeconftest(
        "import pytest\n\ndef pytest_collection_modifyitems(items):\n    for item in items:\n"
        '        item.add_marker(pytest.mark.xfail(reason="suite-wide"))\n'
    )
    # As the parametrized test and plain test without the group: test_x[1] and test_plain xpass
    # by the hook's mark, test_x[2] fails strict by its own.
    grouped = run(pytester, "test_grouped", "-rfxX")
    grouped.stdout.fnmatch_lines(["*_ test_x?2? _*", "?XPASS(strict)? "])
    grouped.stdout.fnmatch_lines(["XPASS *::test_x?1? - suite-wide"])
    grouped.stdout.fnmatch_lines(["XPASS *::test_plain - suite-wide"])


def test_a_filterwarnings_mark_a_collection_hook_adds_applies_after_a_cases_own(
    differential: Differential,
) -> None:
    """pytest applies a hook's filterwarnings("error") after a case's own "ignore", so the
    error wins on the parametrized test, the case's too: both fail."""
    differential.write(
        """
        import warnings

        @cases("n", [1, pytest.param(2, marks=pytest.mark.filterwarnings("ignore::UserWarning"))])
        async def test_x(n):
            warnings.warn("from the test", UserWarning)
        """
    )
    differential.add_to_conftest(
        "import pytest\n\ndef pytest_collection_modifyitems(items):\n"
        "    for item in items:\n"
        '        item.add_marker(pytest.mark.filterwarnings("error::UserWarning"))\n'
    )
    pair = differential.rerun()
    pair.assert_same()
    assert pair.parametrized_outcomes == {
        "test_it.py::test_x[1]": ["failed"],
        "test_it.py::test_x[2]": ["failed"],
    }


# --------------------------------------------------------------------------------------------
# Each case's request.node.stash is its own; what was stored on the test before it ran is seen


def test_each_case_has_its_own_stash_over_what_the_test_had_before(
    differential: Differential,
) -> None:
    differential.write(
        """
        import conftest

        key = pytest.StashKey[int]()

        @pytest.fixture
        def remember(n, request):
            request.node.stash[key] = n
            yield
            assert request.node.stash[key] == n
            del request.node.stash[key]
            assert key not in request.node.stash

        @cases("n", [1, 2, 3])
        async def test_x(n, remember, request):
            await asyncio.sleep(0.05 * (4 - n))
            stash = request.node.stash
            assert (stash[key], stash.get(key, None), key in stash) == (n, n, True)
            assert stash.setdefault(key, 0) == n
            assert stash[conftest.set_up] == "by pytest_runtest_setup"
            assert stash.get(pytest.StashKey[str](), "absent") == "absent"
        """
    )
    hook = """
import pytest

set_up = pytest.StashKey[str]()

def pytest_runtest_setup(item):
    item.stash[set_up] = "by pytest_runtest_setup"
"""
    for folder in ("concurrent", "parametrized"):
        with (differential.pytester.path / folder / "conftest.py").open("a") as conftest:
            conftest.write(hook)
    pair = differential.rerun()
    pair.assert_same()
    assert list(pair.parametrized_outcomes.values()) == [["passed"]] * 3


# --------------------------------------------------------------------------------------------
# request.node.instance is the case's self: a fixture injecting into it reaches the case

_INJECT = """
@pytest.fixture(autouse=True)
def inject(request):
    if request.node.instance is not None:
        request.node.instance.client = "client-for-" + request.node.name
"""

# The cases of a class's test check that their request.node.instance is their self, the one
# _INJECT gave its client.
_CASES_OF_A_CLASS = """
    @cases("n", [1, 2])
    async def test_x(self, n, request):
        await asyncio.sleep(0.05)
        assert request.node.instance is self
        assert self.client == f"client-for-test_x[{n}]"
"""


def test_request_node_instance_is_the_cases_self(differential: Differential) -> None:
    differential.write(
        _INJECT
        + "\nclass TestA:"
        + _CASES_OF_A_CLASS
        + """
    @cases("n", [1, 2])
    def test_def(self, n, request):
        assert request.node.instance is self
        assert self.client == f"client-for-test_def[{n}]"

@cases("n", [1])
async def test_module_level(n, request):
    assert request.node.instance is None
"""
    )
    pair = differential.rerun()
    pair.assert_same()
    assert list(pair.parametrized_outcomes.values()) == [["passed"]] * 5


def test_request_node_instance_is_the_self_of_a_case_in_a_grouped_class(
    pytester: pytest.Pytester,
) -> None:
    write_pair(
        pytester,
        "import asyncio\nimport pytest\n"
        "from asyncgroup import concurrent_cases as cases, concurrent_group\n"
        + _INJECT
        + "\n@concurrent_group\nclass TestA:"
        + _CASES_OF_A_CLASS
        + """
    async def test_y(self, request):
        assert request.node.instance is self
        assert self.client == "client-for-test_y"
""",
    )
    grouped, plain = run(pytester, "test_grouped"), run(pytester, "test_plain")
    passed = ("passed", "")
    assert junit(pytester.path / "test_grouped.xml") == {
        "TestA::test_x[1]": passed,
        "TestA::test_x[2]": passed,
        "TestA::test_y": passed,
        "TestA::concurrent_group": passed,
    }
    assert junit(pytester.path / "test_plain.xml") == {
        "TestA::test_x[1]": passed,
        "TestA::test_x[2]": passed,
        "TestA::test_x": passed,
        "TestA::test_y": passed,
    }
    assert grouped.ret == plain.ret == 0


def test_a_makereport_hook_reads_a_fixture_from_item_funcargs(pytester: pytest.Pytester) -> None:
    """The Selenium way to take a screenshot on failure: a makereport wrapper gets the test's
    driver from ``item.funcargs``; for a case and for a test of a group, as without them."""
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_cases, concurrent_group

        @pytest.fixture
        def driver(request):
            return "driver-" + request.node.name

        @concurrent_group("g")
        async def test_a(driver):
            assert 0

        @concurrent_group("g")
        async def test_b(driver):
            assert driver == "driver-test_b"

        @concurrent_cases("n", [1, 2])
        async def test_c(n, driver):
            assert n == 1
        """,
    )
    pytester.makeconftest(
        """
        import pytest

        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_makereport(item, call):
            rep = yield
            # A parent (of cases, of a group) has no driver: its failure sums up its cases'.
            driver = item.funcargs.get("driver")
            if rep.when == "call" and rep.failed and driver is not None:
                rep.sections.append(("screenshot", "SCREENSHOT OF " + driver))
            return rep
        """
    )
    grouped, plain = compare(pytester, "-rA")
    for result in (grouped, plain):
        result.stdout.fnmatch_lines(["*- screenshot -*", "SCREENSHOT OF driver-test_a"])
        result.stdout.fnmatch_lines(["*- screenshot -*", "SCREENSHOT OF driver-test_c[[]2]"])
        assert "SCREENSHOT OF driver-test_b" not in result.stdout.str()
    assert grouped.ret == plain.ret == 1


# --------------------------------------------------------------------------------------------
# pytest's own recipe "Custom marker and command line option to control test runs"
# (example/markers.html): a conftest's pytest_runtest_setup skips a test by its `env` mark. It
# runs for each case (and test of a group) with its request.node; pytest_runtest_teardown too.
# The teardown hook here writes down the tests it saw, and fails the teardown of a test marked
# `broken_teardown`.

_ENV_CONFTEST = """
import pathlib
import pytest

def pytest_addoption(parser):
    parser.addoption(
        "-E", action="store", metavar="NAME", help="only run tests matching the environment NAME."
    )

def pytest_configure(config):
    config.addinivalue_line("markers", "env(name): mark test to run only on named environment")
    config.addinivalue_line("markers", "broken_teardown: its teardown hook fails")

def pytest_runtest_setup(item):
    envnames = [mark.args[0] for mark in item.iter_markers(name="env")]
    if envnames:
        if item.config.getoption("-E") not in envnames:
            pytest.skip(f"test requires env in {envnames!r}")

def pytest_runtest_teardown(item, nextitem):
    with pathlib.Path("torn_down.txt").open("a") as file:
        print(item.nodeid, file=file)
    if item.get_closest_marker("broken_teardown"):
        raise RuntimeError("teardown hook of " + item.name)
"""


def test_a_conftests_runtest_setup_skips_by_the_mark_of_one_case(
    differential: Differential,
) -> None:
    """pytest's env-marker recipe skips the one case marked for another environment (the
    parent, unmarked, runs its other cases); with -E naming it, it runs. The teardown hook runs
    for each case, and a failure there is the case's teardown error."""
    differential.write(
        """
        @cases("n", [
            1,
            pytest.param(2, marks=pytest.mark.env("stage1")),
            pytest.param(3, marks=pytest.mark.broken_teardown),
        ])
        async def test_x(n):
            await asyncio.sleep(0.05)
            assert n != 2, "stage1 case ran"

        class TestC:
            @cases("n", [pytest.param(1, marks=pytest.mark.env("stage2")), 2])
            async def test_y(self, n):
                pass
        """
    )
    folders = [differential.pytester.path / folder for folder in ("concurrent", "parametrized")]
    for folder in folders:
        with (folder / "conftest.py").open("a") as conftest:
            conftest.write(_ENV_CONFTEST)

    def torn_down() -> list[list[str]]:
        seen = [sorted((folder / "torn_down.txt").read_text().splitlines()) for folder in folders]
        for folder in folders:
            (folder / "torn_down.txt").unlink()
        return seen

    pair = differential.rerun("-rs")
    pair.assert_same(
        "SKIPPED [[]1[]] conftest.py:*: test requires env in [[]'stage1'[]]",
        "SKIPPED [[]1[]] conftest.py:*: test requires env in [[]'stage2'[]]",
        "E *RuntimeError: teardown hook of test_x[[]3[]]",
    )
    pair.assert_same_counts()
    assert pair.parametrized_outcomes == {
        "test_it.py::test_x[1]": ["passed"],
        "test_it.py::test_x[2]": ["skipped"],
        "test_it.py::test_x[3]": ["passed", "error"],
        "test_it.py::TestC::test_y[1]": ["skipped"],
        "test_it.py::TestC::test_y[2]": ["passed"],
    }
    concurrent, parametrized = torn_down()
    # The parents' own teardowns (pytest's calls with the parent items) come on top.
    parents = ["test_it.py::TestC::test_y", "test_it.py::test_x"]
    assert concurrent == sorted([*parametrized, *parents])
    assert len(parametrized) == 5
    pair = differential.rerun("-E", "stage1")
    pair.assert_same("*stage1 case ran*")
    pair.assert_same_counts()
    assert pair.parametrized_outcomes["test_it.py::test_x[2]"] == ["failed"]
    concurrent, parametrized = torn_down()
    assert concurrent == sorted([*parametrized, *parents])


def test_a_conftests_runtest_setup_skips_a_test_of_a_group_by_its_mark(
    pytester: pytest.Pytester,
) -> None:
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        @concurrent_group("g")
        async def test_a():
            pass

        @pytest.mark.env("stage1")
        @concurrent_group("g")
        async def test_b():
            assert 0, "stage1 test ran"
        """,
    )
    pytester.makeconftest(_ENV_CONFTEST)
    grouped, plain = compare(pytester, "-rs")
    outcomes = junit(pytester.path / "test_plain.xml")
    assert outcomes == {
        "test_a": ("passed", ""),
        "test_b": ("skipped", "test requires env in ['stage1']"),
    }
    for result in (grouped, plain):
        result.stdout.fnmatch_lines(["SKIPPED [[]1[]] conftest.py:*: test requires env in*"])
    grouped, plain = compare(pytester, "-E", "stage1")
    for result in (grouped, plain):
        result.stdout.fnmatch_lines(["*stage1 test ran*"])


_CALL_CONFTEST = """
import pytest

def pytest_configure(config):
    config.addinivalue_line("markers", "skip_at_call: its call hook skips it")
    config.addinivalue_line("markers", "fail_at_call: its call hook fails it")

def pytest_runtest_call(item):
    if item.get_closest_marker("skip_at_call"):
        pytest.skip("skipped by the call hook of " + item.name)
    if item.get_closest_marker("fail_at_call"):
        raise RuntimeError("call hook of " + item.name)
"""


def test_a_conftests_plain_runtest_call_acts_on_one_case_before_its_body(
    differential: Differential,
) -> None:
    """A conftest's plain pytest_runtest_call runs for each case before its body: a skip or a
    failure there is that case's call outcome, its body not run, as for its parametrized test."""
    differential.write(
        """
        MARKED = [
            1,
            pytest.param(2, marks=pytest.mark.skip_at_call),
            pytest.param(3, marks=pytest.mark.fail_at_call),
        ]

        @cases("n", MARKED)
        async def test_x(n):
            assert n == 1, "body ran"

        @cases("n", MARKED)
        def test_def(n):
            assert n == 1, "body ran"
        """
    )
    for folder in ("concurrent", "parametrized"):
        with (differential.pytester.path / folder / "conftest.py").open("a") as conftest:
            conftest.write(_CALL_CONFTEST)
    pair = differential.rerun("-rs")
    pair.assert_same(
        "SKIPPED [[]1[]] conftest.py:*: skipped by the call hook of test_def[[]2[]]",
        "E *RuntimeError: call hook of test_x[[]3[]]",
        "E *RuntimeError: call hook of test_def[[]3[]]",
    )
    assert "body ran" not in pair.concurrent.stdout.str()
    assert pair.parametrized_outcomes == {
        f"test_it.py::{name}[{n}]": [outcome]
        for name in ("test_x", "test_def")
        for n, outcome in ((1, "passed"), (2, "skipped"), (3, "failed"))
    }


# pytest's recipe "Incremental testing - test steps" (example/simple.html): a step that fails
# makes the later steps of its class xfail. The tests of a group start together; run one at a
# time (max_concurrency=1), they are steps again, and the recipe acts as without the group.
_INCREMENTAL_CONFTEST = """
import pytest

def pytest_configure(config):
    config.addinivalue_line("markers", "incremental: the tests of the class are steps")

def pytest_runtest_makereport(item, call):
    if "incremental" in item.keywords:
        if call.excinfo is not None:
            parent = item.parent
            parent._previousfailed = item

def pytest_runtest_setup(item):
    if "incremental" in item.keywords:
        previousfailed = getattr(item.parent, "_previousfailed", None)
        if previousfailed is not None:
            pytest.xfail(f"previous test failed ({previousfailed.name})")
"""


def test_the_incremental_recipe_xfails_the_steps_after_a_failed_one_of_a_grouped_class(
    pytester: pytest.Pytester,
) -> None:
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        @pytest.mark.incremental
        @concurrent_group(max_concurrency=1)
        class TestUserHandling:
            async def test_login(self):
                pass

            async def test_modification(self):
                assert 0

            async def test_deletion(self):
                pass

            async def test_more(self):
                pass
        """,
    )
    pytester.makeconftest(_INCREMENTAL_CONFTEST)
    grouped, plain = compare(pytester, "-rx")
    assert junit(pytester.path / "test_plain.xml") == {
        "TestUserHandling::test_login": ("passed", ""),
        "TestUserHandling::test_modification": ("failure", "assert 0"),
        "TestUserHandling::test_deletion": ("xfailed", "previous test failed (test_modification)"),
        # The xfail of test_deletion's setup is a failed call (excinfo) to the recipe too.
        "TestUserHandling::test_more": ("xfailed", "previous test failed (test_deletion)"),
    }
    for result in (grouped, plain):
        result.stdout.fnmatch_lines(["XFAIL *test_deletion - previous test failed*"])


def test_a_conftests_runtest_setup_sees_the_fixtures_each_case_uses(
    differential: Differential,
) -> None:
    """pytest's "skip the tests that use fixture X" hook (``"db" in item.fixturenames`` in
    ``pytest_runtest_setup``) skips each case using it, as its parametrized tests: the case's
    ``request.node.fixturenames`` is the test's whole closure from the start of its setup (it
    held only the fixtures set up so far, and the cases ran)."""
    differential.write(
        """
        @pytest.fixture
        def db():
            raise AssertionError("db set up although its tests are skipped")

        @cases("n", [1, 2])
        async def test_uses_db(n, db):
            pass

        @cases("n", [1, 2])
        async def test_no_db(n):
            await asyncio.sleep(0.01)
        """
    )
    for folder in ("concurrent", "parametrized"):
        with (differential.pytester.path / folder / "conftest.py").open("a") as conftest:
            conftest.write(
                "\n\nimport pytest\n\n\ndef pytest_runtest_setup(item):\n"
                "    if 'db' in item.fixturenames:\n"
                "        pytest.skip('no database here')\n"
            )
    pair = differential.rerun("-rs")
    pair.assert_same("SKIPPED [[]2[]] conftest.py:*: no database here")
    pair.assert_same_counts()
    assert pair.concurrent_outcomes["test_it.py::test_uses_db[1]"] == ["skipped"]
    assert pair.concurrent_outcomes["test_it.py::test_no_db[2]"] == ["passed"]
