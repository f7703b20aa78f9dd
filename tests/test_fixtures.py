"""Fixtures per case: each case gets exactly the fixtures it would get as a parametrized test.

Every test writes a small project, runs pytest on it in a subprocess, and checks what a user
sees (the summary, the -v lines) and what the project's fixtures wrote to ``events.txt``: one
line per setup, teardown or case, such as ``setup client 2``. A fixture numbers its instances
with its own counter, so the events show how many instances were made and which case got which.
"""

from __future__ import annotations

import re
import textwrap

import pytest

from tests.conftest import PYTEST_MAJOR, subtest_line, summary

# The decorators an async fixture may have, in strict mode: pytest-asyncio's. (pytest's own,
# which no plugin runs in strict mode, errs as for the parametrized test: test_fixture_parity.)
ASYNC_DECORATORS = [
    pytest.param("pytest_asyncio.fixture", id="pytest_asyncio"),
]

PRELUDE = """
import asyncio
import collections
import itertools
import logging
import os
import sys
import time
import types

import pytest
import pytest_asyncio
from asyncgroup import concurrent_cases

COUNTERS = collections.defaultdict(lambda: itertools.count(1))


def event(text):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "events.txt"), "a") as f:
        f.write(text + "\\n")
"""


def source(*parts: str) -> str:
    """The prelude and the given parts, each dedented, as one module."""
    return "\n\n".join(textwrap.dedent(part).strip("\n") for part in (PRELUDE, *parts)) + "\n"


def write(pytester: pytest.Pytester, *parts: str, conftest: str | None = None) -> None:
    pytester.makepyfile(test_cases=source(*parts))
    if conftest is not None:
        pytester.makeconftest(source(conftest))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider", *args, timeout=60)


def events(pytester: pytest.Pytester) -> list[str]:
    path = pytester.path / "events.txt"
    return path.read_text().splitlines() if path.exists() else []


def counts(result: pytest.RunResult) -> dict[str, int]:
    """The summary counts, without warnings (pytest-asyncio warns about plain async fixtures)."""
    return {k: v for k, v in summary(result).items() if not k.startswith("warning")}


def matching(lines: list[str], pattern: str) -> list[tuple[str, ...]]:
    """The groups of every line that fully matches the regex."""
    return [m.groups() for line in lines if (m := re.fullmatch(pattern, line))]


def case_line(nodeid: str, case_id: str, outcome: str) -> str:
    """The -v line of case ``case_id`` of parent ``nodeid``, which may have brackets itself."""
    if not nodeid.endswith("]"):
        return subtest_line(nodeid, case_id, outcome)
    full = nodeid[:-1] + f"-{case_id}]"
    full = full.replace("[", "\x00").replace("]", "[]]").replace("\x00", "[[]")
    if PYTEST_MAJOR >= 9:
        return f"{full} SUB{outcome}[[]{case_id}[]]*"
    short = {"PASSED": "PASS", "FAILED": "FAIL", "SKIPPED": "SKIP"}[outcome]
    return f"{full} [[]{case_id}[]] SUB{short}*"


# ---------------------------------------------------------------------------------------------
# Fixture kinds: each one set up and torn down once per case, never for the parent.

FIXTURE_TEMPLATES = {
    "function": """
        @DECO
        def NAME(ARGSrequest):
            k = next(COUNTERS["NAME"])
            event(f"setup NAME {k}DETAIL")
            request.addfinalizer(lambda: event(f"teardown NAME {k}"))
            return k
    """,
    "generator": """
        @DECO
        def NAME(ARGS):
            k = next(COUNTERS["NAME"])
            event(f"setup NAME {k}DETAIL")
            yield k
            event(f"teardown NAME {k}")
    """,
    "coroutine": """
        @DECO
        async def NAME(ARGSrequest):
            k = next(COUNTERS["NAME"])
            await asyncio.sleep(0.01)
            event(f"setup NAME {k}DETAIL")
            request.addfinalizer(lambda: event(f"teardown NAME {k}"))
            return k
    """,
    "async_generator": """
        @DECO
        async def NAME(ARGS):
            k = next(COUNTERS["NAME"])
            await asyncio.sleep(0.01)
            event(f"setup NAME {k}DETAIL")
            yield k
            await asyncio.sleep(0.01)
            event(f"teardown NAME {k}")
    """,
}


def fixture_source(
    kind: str,
    name: str,
    deps: tuple[str, ...] = (),
    deco: str = "pytest.fixture",
    method: bool = False,
) -> str:
    """A fixture of the kind that writes ``setup NAME k`` and ``teardown NAME k`` events.

    ``deps`` are its dependencies, whose values the setup event shows; a ``method`` takes
    ``self`` and shows which instance it was bound to.
    """
    params = (["self"] if method else []) + list(deps)
    args = "".join(f"{param}, " for param in params)
    if kind in ("generator", "async_generator"):
        args = args.rstrip(", ")
    detail = "".join(f" {dep} {{{dep}}}" for dep in deps) + (" self {id(self)}" if method else "")
    return (
        textwrap.dedent(FIXTURE_TEMPLATES[kind])
        .replace("DECO", deco)
        .replace("NAME", name)
        .replace("ARGS", args)
        .replace("DETAIL", detail)
    )


KINDS = [
    pytest.param("function", "pytest.fixture", id="function"),
    pytest.param("generator", "pytest.fixture", id="generator"),
    pytest.param("coroutine", "pytest_asyncio.fixture", id="async-def"),
    pytest.param("async_generator", "pytest_asyncio.fixture", id="async-generator"),
]


def assert_one_instance_per_case(ev: list[str], names: list[str], cases: int) -> None:
    """Each fixture in names: ``cases`` instances, each set up once and torn down once."""
    expected = [str(k) for k in range(1, cases + 1)]
    for name in names:
        setups = [g[0] for g in matching(ev, rf"setup {name} (\d+).*")]
        teardowns = [g[0] for g in matching(ev, rf"teardown {name} (\d+)")]
        assert sorted(setups) == expected, (name, ev)
        assert sorted(teardowns) == expected, (name, ev)


@pytest.mark.parametrize(("kind", "deco"), KINDS)
def test_function_fixture_and_its_dependency_are_set_up_and_torn_down_once_per_case(
    pytester: pytest.Pytester, kind: str, deco: str
) -> None:
    write(
        pytester,
        fixture_source(kind, "dep", deco=deco),
        fixture_source(kind, "client", ("dep",), deco=deco),
        """
        @concurrent_cases([1, 2, 3])
        async def test_x(n, client, dep):
            event(f"case {n} start client {client} dep {dep}")
            await asyncio.sleep(0.05)
            event(f"case {n} end")
        """,
    )
    result = run(pytester)
    for case in ("1", "2", "3"):
        result.stdout.fnmatch_lines([subtest_line("test_cases.py::test_x", case, "PASSED")])
    assert counts(result) == {"subtests passed": 3}
    ev = events(pytester)
    # Three of each, not four: none for the parent.
    assert_one_instance_per_case(ev, ["dep", "client"], 3)
    starts = matching(ev, r"case (\d) start client (\d) dep (\d)")
    assert sorted(n for n, _, _ in starts) == ["1", "2", "3"]
    assert len({c for _, c, _ in starts}) == 3
    assert len({d for _, _, d in starts}) == 3
    for n, client, dep in starts:
        # The client the case got was built on the dep the case got.
        assert f"setup client {client} dep {dep}" in ev
        # Set up before the case, torn down after it, client (the dependent) first.
        assert ev.index(f"setup dep {dep}") < ev.index(f"setup client {client} dep {dep}")
        assert ev.index(f"setup client {client} dep {dep}") < ev.index(
            f"case {n} start client {client} dep {dep}"
        )
        assert ev.index(f"case {n} end") < ev.index(f"teardown client {client}")
        assert ev.index(f"teardown client {client}") < ev.index(f"teardown dep {dep}")


def test_autouse_and_usefixtures_fixtures_are_per_case_and_not_for_the_parent(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        fixture_source("generator", "module_autouse", deco="pytest.fixture(autouse=True)"),
        fixture_source("generator", "used"),
        """
        @pytest.mark.usefixtures("used")
        @concurrent_cases([1, 2])
        async def test_x(n):
            event(f"case {n}")

        def test_plain():
            event("plain test")
        """,
        conftest=fixture_source(
            "generator", "conftest_autouse", deco="pytest.fixture(autouse=True)"
        ),
    )
    result = run(pytester)
    assert counts(result) == {"passed": 1, "subtests passed": 2}
    ev = events(pytester)
    case_events = ev[: ev.index("plain test") - 2]  # the plain test's autouse setups come last
    assert_one_instance_per_case(case_events, ["conftest_autouse", "module_autouse", "used"], 2)
    # The plain test gets the autouse ones once, as usual.
    assert ev[-5:] == [
        "setup conftest_autouse 3",
        "setup module_autouse 3",
        "plain test",
        "teardown module_autouse 3",
        "teardown conftest_autouse 3",
    ]


# ---------------------------------------------------------------------------------------------
# Overrides, params, request.param, addfinalizer.


def test_module_fixture_overrides_conftest_fixture_per_case(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        @pytest.fixture
        def client():
            k = next(COUNTERS["module client"])
            event(f"setup module client {k}")
            yield f"module {k}"
            event(f"teardown module client {k}")

        @concurrent_cases([1, 2])
        async def test_x(n, client):
            event(f"case {n} got {client}")
        """,
        conftest="""
        @pytest.fixture
        def client():
            event("setup conftest client")
            yield "conftest"
            event("teardown conftest client")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 2}
    ev = events(pytester)
    assert not [line for line in ev if "conftest" in line]
    assert sorted(matching(ev, r"case (\d) got module (\d)")) in (
        [("1", "1"), ("2", "2")],
        [("1", "2"), ("2", "1")],
    )
    assert sorted(ev) == sorted(
        [
            "setup module client 1",
            "setup module client 2",
            *[line for line in ev if line.startswith("case ")],
            "teardown module client 1",
            "teardown module client 2",
        ]
    )


def test_fixture_requesting_its_own_name_extends_the_overridden_one_per_case(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        """
        @pytest.fixture
        def client(client):
            k = next(COUNTERS["module"])
            event(f"setup module {k} over {client}")
            yield f"module {k} over {client}"
            event(f"teardown module {k}")

        @concurrent_cases([1, 2, 3])
        async def test_x(n, client):
            event(f"case {n} got {client}")
        """,
        conftest="""
        @pytest.fixture
        def client():
            k = next(COUNTERS["conftest"])
            event(f"setup conftest {k}")
            yield f"conftest {k}"
            event(f"teardown conftest {k}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 3}
    ev = events(pytester)
    assert_one_instance_per_case(ev, ["conftest", "module"], 3)
    got = matching(ev, r"case (\d) got module (\d) over conftest (\d)")
    assert sorted(n for n, _, _ in got) == ["1", "2", "3"]
    assert len({m for _, m, _ in got}) == 3
    assert len({c for _, _, c in got}) == 3
    for n, module, conftest in got:
        assert ev.index(f"setup conftest {conftest}") < ev.index(
            f"setup module {module} over conftest {conftest}"
        )
        assert ev.index(f"case {n} got module {module} over conftest {conftest}") < ev.index(
            f"teardown module {module}"
        )
        assert ev.index(f"teardown module {module}") < ev.index(f"teardown conftest {conftest}")


def test_fixture_with_params_splits_the_parent_and_each_case_gets_request_param(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        """
        @pytest.fixture(params=["red", "blue"])
        def color(request):
            k = next(COUNTERS["color"])
            event(f"setup color {k} {request.param}")
            yield request.param
            event(f"teardown color {k}")

        @concurrent_cases([1, 2])
        async def test_x(n, color):
            event(f"case {n} color {color}")
        """,
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            case_line("test_cases.py::test_x[red]", "1", "PASSED"),
            case_line("test_cases.py::test_x[red]", "2", "PASSED"),
            "test_cases.py::test_x[[]red[]] PASSED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            case_line("test_cases.py::test_x[blue]", "1", "PASSED"),
            case_line("test_cases.py::test_x[blue]", "2", "PASSED"),
            "test_cases.py::test_x[[]blue[]] PASSED*",
        ]
    )
    assert counts(result) == {"subtests passed": 4}
    ev = events(pytester)
    assert_one_instance_per_case(ev, ["color"], 4)
    assert sorted(matching(ev, r"setup color \d (\w+)")) == [("blue",)] * 2 + [("red",)] * 2
    assert sorted(matching(ev, r"case (\d) color (\w+)")) == [
        ("1", "blue"),
        ("1", "red"),
        ("2", "blue"),
        ("2", "red"),
    ]


def test_indirect_parametrize_gives_request_param_to_the_per_case_fixture(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        """
        @pytest.fixture
        def server(request):
            k = next(COUNTERS["server"])
            event(f"setup server {k} {request.param}")
            yield f"server {request.param}"
            event(f"teardown server {k}")

        @pytest.mark.parametrize("server", ["alpha", "beta"], indirect=True)
        @concurrent_cases([1, 2])
        async def test_x(n, server):
            event(f"case {n} {server}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 4}
    ev = events(pytester)
    assert_one_instance_per_case(ev, ["server"], 4)
    assert sorted(matching(ev, r"case (\d) server (\w+)")) == [
        ("1", "alpha"),
        ("1", "beta"),
        ("2", "alpha"),
        ("2", "beta"),
    ]


def test_request_param_of_an_unparametrized_fixture_is_an_error_of_each_case(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        """
        @pytest.fixture
        def plain(request):
            return request.param

        @concurrent_cases([1, 2])
        async def test_x(n, plain):
            pass
        """,
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            "*return request.param",
            "E*AttributeError: fixture 'plain' is not parametrized: request.param is not set",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "ERROR test_cases.py::test_x[[]1[]] - AttributeError*",
            "ERROR test_cases.py::test_x[[]2[]] - AttributeError*",
        ]
    )
    assert counts(result) == {"errors": 2}


def test_request_addfinalizer_runs_at_the_end_of_its_case(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        @pytest.fixture
        def resource(request):
            k = next(COUNTERS["resource"])
            event(f"setup resource {k}")
            request.addfinalizer(lambda: event(f"finalizer A {k}"))
            yield k
            event(f"teardown resource {k}")

        @pytest.fixture
        def other(resource, request):
            request.addfinalizer(lambda: event(f"finalizer B {resource}"))
            return resource

        @concurrent_cases([1, 2])
        async def test_x(n, other, request):
            request.addfinalizer(lambda: event(f"test finalizer {other}"))
            event(f"case {n} got {other}")
            if n == 2:
                await asyncio.sleep(0.3)
            event(f"case {n} done")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 2}
    ev = events(pytester)
    k1 = matching(ev, r"case 1 got (\d)")[0][0]
    k2 = matching(ev, r"case 2 got (\d)")[0][0]
    # Reverse order of registration, and case 1's all before case 2 is done.
    assert ev.index("case 1 done") < ev.index(f"test finalizer {k1}")
    assert ev[ev.index(f"test finalizer {k1}") :][:4] == [
        f"test finalizer {k1}",
        f"finalizer B {k1}",
        f"teardown resource {k1}",
        f"finalizer A {k1}",
    ]
    assert ev[-5:] == [
        "case 2 done",
        f"test finalizer {k2}",
        f"finalizer B {k2}",
        f"teardown resource {k2}",
        f"finalizer A {k2}",
    ]


# ---------------------------------------------------------------------------------------------
# Setups of different cases overlap.


@pytest.mark.parametrize("deco", ASYNC_DECORATORS)
def test_per_case_setups_run_concurrently(pytester: pytest.Pytester, deco: str) -> None:
    write(
        pytester,
        f"""
        @{deco}
        async def slow():
            event(f"setup start {{time.monotonic()}}")
            await asyncio.sleep(2)
            event(f"setup end {{time.monotonic()}}")
            yield
        """,
        """
        @concurrent_cases([1, 2, 3])
        async def test_x(n, slow):
            event(f"case {n} {time.monotonic()}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 3}
    ev = events(pytester)
    starts = [float(t) for (t,) in matching(ev, r"setup start ([\d.]+)")]
    ends = [float(t) for (t,) in matching(ev, r"setup end ([\d.]+)")]
    cases = [float(t) for _, t in matching(ev, r"case (\d) ([\d.]+)")]
    assert len(starts) == len(ends) == len(cases) == 3
    # All three setups started before the first one ended: they overlap.
    assert max(starts) < min(ends)
    # Sequential setups would take 6 s; concurrent ones 2 s.
    assert max(cases) - min(starts) < 4


# ---------------------------------------------------------------------------------------------
# Teardown: reverse order, whatever the case's outcome.

CHAIN = """
@pytest.fixture
def first():
    k = next(COUNTERS["first"])
    event(f"setup first {k}")
    yield k
    event(f"teardown first {k}")

@DECO
async def second(first):
    k = next(COUNTERS["second"])
    await asyncio.sleep(0)
    event(f"setup second {k}")
    yield k
    await asyncio.sleep(0)
    event(f"teardown second {k}")

@pytest.fixture
def third(second, request):
    k = next(COUNTERS["third"])
    event(f"setup third {k}")
    request.addfinalizer(lambda: event(f"teardown third {k}"))
    return k
"""

OUTCOMES = {
    "pass": (
        """
        @concurrent_cases([1, 2])
        async def test_x(n, third):
            event(f"case {n}")
        """,
        {"subtests passed": 2},
    ),
    "fail": (
        """
        @concurrent_cases([1, 2])
        async def test_x(n, third):
            event(f"case {n}")
            assert n == 1
        """,
        {"failed": 1, "subtests passed": 1},
    ),
    "timeout": (
        """
        @concurrent_cases([1, 2], timeout=0.2)
        async def test_x(n, third):
            event(f"case {n}")
            if n == 2:
                await asyncio.sleep(10)
        """,
        {"failed": 1, "subtests passed": 1},
    ),
    "fail_fast": (
        """
        @concurrent_cases([1, 2], fail_fast=True)
        async def test_x(n, third):
            event(f"case {n}")
            if n == 1:
                await asyncio.sleep(0.1)
                assert False
            await asyncio.sleep(10)
        """,
        {"failed": 1, "skipped": 1},
    ),
}


@pytest.mark.parametrize("deco", ASYNC_DECORATORS)
@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_teardown_runs_in_reverse_order_of_setup_whatever_the_outcome(
    pytester: pytest.Pytester, outcome: str, deco: str
) -> None:
    body, expected = OUTCOMES[outcome]
    write(pytester, CHAIN.replace("DECO", deco), body)
    result = run(pytester, "-rs")
    assert counts(result) == expected
    if outcome == "timeout":
        result.stdout.fnmatch_lines(
            [
                ">*await asyncio.sleep(10)",
                "E*asyncgroup.CaseTimeoutError: Timeout (>0.2s) from asyncgroup: the case's "
                "body did not finish within its timeout of 0.2 s*",
            ]
        )
    if outcome == "fail_fast":
        result.stdout.fnmatch_lines(["*cancelled: fail_fast: case '1' failed*"])
    ev = events(pytester)
    assert_one_instance_per_case(ev, ["first", "second", "third"], 2)
    # Each case's events, in order: setups, the body, teardowns in reverse. Cases start in
    # order, so case n's fixtures are the n-th instances: their events all end in " n".
    for n in ("1", "2"):
        assert [line for line in ev if line.endswith(f" {n}")] == [
            f"setup first {n}",
            f"setup second {n}",
            f"setup third {n}",
            f"case {n}",
            f"teardown third {n}",
            f"teardown second {n}",
            f"teardown first {n}",
        ], ev


def test_teardown_runs_when_setup_fails_and_the_error_is_the_cases(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        fixture_source("generator", "dep"),
        """
        @pytest.fixture
        def flaky(dep):
            if dep == 2:
                raise RuntimeError("setup boom")
            return dep

        @concurrent_cases([1, 2, 3])
        async def test_x(n, flaky):
            event(f"case {n} got {flaky}")
        """,
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            subtest_line("test_cases.py::test_x", "1", "PASSED"),
            subtest_line("test_cases.py::test_x", "3", "PASSED"),
        ]
    )
    result.stdout.fnmatch_lines(["test_cases.py::test_x[[]2[]] ERROR*"])
    # Headed by the case's name, as pytest heads a parametrized test's setup error.
    result.stdout.fnmatch_lines(["*ERROR at setup of test_x[[]2[]]*", "*RuntimeError: setup boom"])
    result.stdout.fnmatch_lines(["FAILED test_cases.py::test_x - Failed: 1 of 3 cases errored: 2"])
    result.stdout.fnmatch_lines(["ERROR test_cases.py::test_x[[]2[]] - RuntimeError: setup boom"])
    assert counts(result) == {"error": 1, "subtests passed": 2}
    ev = events(pytester)
    # The case that failed set up dep 2 and tore it down; the others ran.
    assert_one_instance_per_case(ev, ["dep"], 3)
    assert sorted(line for line in ev if line.startswith("case")) == [
        "case 1 got 1",
        "case 3 got 3",
    ]


def test_teardown_error_is_reported_as_an_error_of_its_case(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        @pytest.fixture
        def fragile():
            k = next(COUNTERS["fragile"])
            yield k
            event(f"teardown fragile {k}")
            if k == 2:
                raise RuntimeError("teardown boom")

        @concurrent_cases([1, 2, 3])
        async def test_x(n, fragile):
            event(f"case {n} got {fragile}")
        """,
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            subtest_line("test_cases.py::test_x", "2", "PASSED"),
            "test_cases.py::test_x[[]2[]] ERROR*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_x[[]2[]]*", "*RuntimeError: teardown boom"]
    )
    result.stdout.fnmatch_lines(
        ["ERROR test_cases.py::test_x[[]2[]] - RuntimeError: teardown boom"]
    )
    result.stdout.no_fnmatch_line("ERROR test_cases.py::test_x[[]1[]]*")
    result.stdout.no_fnmatch_line("ERROR test_cases.py::test_x[[]3[]]*")
    assert counts(result) == {"error": 1, "subtests passed": 3}
    assert sorted(matching(events(pytester), r"teardown fragile (\d)")) == [("1",), ("2",), ("3",)]


@pytest.mark.parametrize("deco", ASYNC_DECORATORS)
def test_hung_async_generator_teardown_is_bounded_by_the_case_timeout(
    pytester: pytest.Pytester, deco: str
) -> None:
    write(
        pytester,
        f"""
        @{deco}
        async def stuck():
            k = next(COUNTERS["stuck"])
            yield k
            event(f"teardown stuck {{k}} begins")
            if k == 2:
                await asyncio.sleep(600)
            event(f"teardown stuck {{k}} ends")
        """,
        """
        @concurrent_cases([1, 2, 3], timeout=0.3)
        async def test_x(n, stuck):
            event(f"case {n} got {stuck}")

        def test_after():
            event("test_after ran")
        """,
    )
    result = run(pytester)
    for case in ("1", "2", "3"):
        result.stdout.fnmatch_lines([subtest_line("test_cases.py::test_x", case, "PASSED")])
    result.stdout.fnmatch_lines(
        [
            "test_cases.py::test_x[[]2[]] ERROR*",
            "test_cases.py::test_x FAILED*",
            "test_cases.py::test_after PASSED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_x[[]2[]]*",
            "*await asyncio.sleep(600)",
            "E*asyncgroup.CaseTimeoutError: Timeout (>0.3s) from asyncgroup: the case's fixture "
            "teardown did not finish within its timeout of 0.3 s*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["ERROR test_cases.py::test_x[[]2[]] - asyncgroup.CaseTimeoutError*"]
    )
    assert counts(result) == {"passed": 1, "error": 1, "subtests passed": 3}
    ev = events(pytester)
    assert sorted(line for line in ev if "ends" in line) == [
        "teardown stuck 1 ends",
        "teardown stuck 3 ends",
    ]
    assert "teardown stuck 2 begins" in ev
    assert ev[-1] == "test_after ran"
    # Bounded: the hung teardown was given the case's 0.3 s, not its 600.
    duration = float(re.search(r" in ([\d.]+)s", result.outlines[-1]).group(1))  # type: ignore[union-attr]
    assert duration < 30


def test_after_a_hung_teardown_times_out_the_other_fixtures_are_still_torn_down(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        fixture_source("generator", "outer"),
        """
        @pytest_asyncio.fixture
        async def stuck(outer):
            yield
            event("teardown stuck begins")
            await asyncio.sleep(30)

        @concurrent_cases([1], timeout=0.3)
        async def test_x(n, stuck):
            event(f"case {n}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"error": 1, "subtests passed": 1}
    assert events(pytester) == [
        "setup outer 1",
        "case 1",
        "teardown stuck begins",
        "teardown outer 1",
    ]


def test_fail_fast_cancelling_a_case_in_teardown_still_tears_down_and_reports_it(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        fixture_source("generator", "outer"),
        """
        @pytest_asyncio.fixture
        async def slow_down(outer):
            yield
            if outer == 2:
                event("teardown slow_down 2 begins")
                try:
                    await asyncio.sleep(5)
                except asyncio.CancelledError:
                    event("teardown slow_down 2 cancelled")
                    raise
                event("teardown slow_down 2 ran to its end")

        @concurrent_cases([1, 2], fail_fast=True)
        async def test_x(n, slow_down):
            if n == 1:
                await asyncio.sleep(0.2)
                assert False
            event(f"case {n} done")
        """,
    )
    result = run(pytester)
    # Case 2 had passed when the cancellation reached its teardown: it is reported as passed.
    result.stdout.fnmatch_lines(
        [
            subtest_line("test_cases.py::test_x", "1", "FAILED"),
            subtest_line("test_cases.py::test_x", "2", "PASSED"),
        ]
    )
    assert counts(result) == {"failed": 1, "subtests passed": 1}
    ev = events(pytester)
    assert_one_instance_per_case(ev, ["outer"], 2)
    # Case 1's failure cancelled case 2 in its teardown, which went on with the next fixture.
    assert "teardown slow_down 2 ran to its end" not in ev
    assert (
        ev.index("teardown slow_down 2 begins")
        < ev.index("teardown slow_down 2 cancelled")
        < ev.index("teardown outer 2")
    ), ev


# ---------------------------------------------------------------------------------------------
# Wider scopes: set up once by pytest, shared by every case.


def test_module_and_session_fixtures_are_set_up_once_and_shared_by_all_cases(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        """
        @pytest.fixture(scope="session")
        def sess():
            event("setup sess")
            yield object()
            event("teardown sess")

        @pytest.fixture(scope="module")
        def mod():
            event("setup mod")
            yield object()
            event("teardown mod")

        @pytest_asyncio.fixture(scope="module", loop_scope="module")
        async def amod():
            event("setup amod")
            await asyncio.sleep(0)
            yield asyncio.get_running_loop()
            await asyncio.sleep(0)
            event("teardown amod")

        @pytest.fixture
        def per_case(mod, amod):
            k = next(COUNTERS["per_case"])
            event(f"setup per_case {k}")
            yield (mod, amod)
            event(f"teardown per_case {k}")

        @pytest.mark.asyncio(loop_scope="module")
        @concurrent_cases([1, 2, 3])
        async def test_a(n, sess, mod, amod, per_case):
            assert per_case == (mod, amod)
            assert amod is asyncio.get_running_loop()
            event(f"a {n} {id(sess)} {id(mod)} {id(amod)}")

        @pytest.mark.asyncio(loop_scope="module")
        @concurrent_cases([1, 2])
        async def test_b(n, sess, mod, amod):
            assert amod is asyncio.get_running_loop()
            event(f"b {n} {id(sess)} {id(mod)} {id(amod)}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 5}
    ev = events(pytester)
    for name in ("sess", "mod", "amod"):
        assert ev.count(f"setup {name}") == 1, ev
        assert ev.count(f"teardown {name}") == 1, ev
    assert_one_instance_per_case(ev, ["per_case"], 3)
    ids = matching(ev, r"[ab] \d (\d+ \d+ \d+)")
    assert len(ids) == 5
    assert len(set(ids)) == 1
    # Set up before every case, torn down after the last.
    assert ev.index("setup amod") < ev.index("setup per_case 1")
    assert ev.index("teardown mod") > max(i for i, line in enumerate(ev) if line.startswith("b "))


# ---------------------------------------------------------------------------------------------
# pytest's built-in fixtures, per case.


def test_tmp_path_is_a_distinct_existing_directory_per_case(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        @concurrent_cases([1, 2, 3])
        async def test_x(n, tmp_path):
            assert tmp_path.is_dir()
            (tmp_path / f"case{n}.txt").write_text(str(n))
            await asyncio.sleep(0.05)
            assert tmp_path.is_dir()
            assert [p.name for p in tmp_path.iterdir()] == [f"case{n}.txt"]
            event(f"case {n} {tmp_path}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 3}
    paths = matching(events(pytester), r"case \d (.+)")
    assert len(paths) == 3
    assert len(set(paths)) == 3


def test_request_node_in_a_case_is_the_cases_own(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        @concurrent_cases([1, 2])
        async def test_x(n, request):
            event(f"case {n} {request.node.name} {request.node.nodeid} {request.function.__name__}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 2}
    assert sorted(events(pytester)) == [
        "case 1 test_x[1] test_cases.py::test_x[1] test_x",
        "case 2 test_x[2] test_cases.py::test_x[2] test_x",
    ]


def test_capsys_in_a_case_sees_only_that_cases_output(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        @concurrent_cases([1, 2, 3])
        async def test_x(n, capsys):
            print(f"first {n}")
            await asyncio.sleep(0.01)
            print(f"err {n}", file=sys.stderr)
            await asyncio.sleep(0.02 * (4 - n))
            print(f"second {n}")
            out, err = capsys.readouterr()
            event(f"case {n} out={out!r} err={err!r}")
            print(f"third {n}")
            await asyncio.sleep(0.01)
            event(f"case {n} again={capsys.readouterr().out!r}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 3}
    assert sorted(events(pytester)) == [
        f"case {n} {what}"
        for n in (1, 2, 3)
        for what in (f"again='third {n}\\n'", f"out='first {n}\\nsecond {n}\\n' err='err {n}\\n'")
    ]


def test_caplog_in_a_case_sees_only_that_cases_records(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        log = logging.getLogger("app")

        @concurrent_cases([1, 2, 3])
        async def test_x(n, caplog):
            log.warning("first %s", n)
            await asyncio.sleep(0.02 * (4 - n))
            log.error("second %s", n)
            event(f"case {n} messages={caplog.messages}")
            records = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
            event(f"case {n} records={records}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 3}
    assert sorted(events(pytester)) == sorted(
        line
        for n in (1, 2, 3)
        for line in (
            f"case {n} messages=['first {n}', 'second {n}']",
            f"case {n} records=[('app', 'WARNING', 'first {n}'), ('app', 'ERROR', 'second {n}')]",
        )
    )


def test_monkeypatch_in_a_case_is_undone_when_that_case_ends(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        CONFIG = types.SimpleNamespace(mode="original")

        def state():
            return f"{CONFIG.mode} {os.environ.get('ASYNCGROUP_TEST_VAR')}"

        @concurrent_cases([1, 2])
        async def test_x(n, monkeypatch):
            if n == 1:
                monkeypatch.setattr(CONFIG, "mode", "patched")
                monkeypatch.setenv("ASYNCGROUP_TEST_VAR", "set")
                event(f"case 1 sees {state()}")
            else:
                await asyncio.sleep(0.3)
                event(f"case 2 sees {state()}")

        def test_after():
            event(f"after {state()}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"passed": 1, "subtests passed": 2}
    assert events(pytester) == [
        "case 1 sees patched set",
        "case 2 sees original None",
        "after original None",
    ]


# ---------------------------------------------------------------------------------------------
# pytest-asyncio's auto mode.


@pytest.mark.parametrize(
    ("dep_kind", "client_kind"),
    [
        pytest.param("async_generator", "coroutine", id="async"),
        pytest.param("generator", "function", id="sync"),
    ],
)
def test_auto_mode_fixtures_are_per_case(
    pytester: pytest.Pytester, dep_kind: str, client_kind: str
) -> None:
    pytester.makeini(
        """
        [pytest]
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = function
        """
    )
    write(
        pytester,
        fixture_source(dep_kind, "dep"),
        fixture_source(client_kind, "client", ("dep",)),
        """
        @concurrent_cases([1, 2, 3])
        async def test_x(n, client):
            assert asyncio.get_running_loop() is not None
            event(f"case {n} client {client}")
        """,
    )
    result = run(pytester)
    result.stdout.re_match_lines([r"asyncio: mode=(Mode\.AUTO|auto)\b.*"])
    assert counts(result) == {"subtests passed": 3}
    ev = events(pytester)
    assert_one_instance_per_case(ev, ["dep", "client"], 3)
    assert sorted(c for _, c in matching(ev, r"case (\d) client (\d)")) == ["1", "2", "3"]


# ---------------------------------------------------------------------------------------------
# Case arguments and fixtures, as parametrize has them.


def test_a_fixture_may_request_the_case_argument(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        @pytest.fixture
        def client(n):
            event(f"setup client for {n}")
            return n * 10

        @concurrent_cases([1, 2])
        async def test_x(n, client):
            assert client == n * 10
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 2}
    assert sorted(events(pytester)) == ["setup client for 1", "setup client for 2"]


def test_a_case_argument_shadowing_a_fixture_is_never_set_up(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        @pytest.fixture
        def client():
            event("setup client fixture")
            return "fixture"

        @pytest.fixture
        def session(client):
            event(f"setup session {client}")
            return client

        @concurrent_cases("client", [1, 2])
        async def test_x(client, session):
            assert session == client
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 2}
    assert sorted(events(pytester)) == ["setup session 1", "setup session 2"]


# ---------------------------------------------------------------------------------------------
# More of the rule: fixtures of a test class, a hung setup, and the rest of pytest's built-ins.


@pytest.mark.parametrize(
    ("kind", "deco"),
    [
        pytest.param("function", "pytest.fixture", id="function"),
        pytest.param("generator", "pytest.fixture", id="generator"),
        pytest.param(
            "coroutine",
            "pytest_asyncio.fixture",
            id="async-def",
        ),
        pytest.param(
            "async_generator",
            "pytest_asyncio.fixture",
            id="async-generator",
        ),
    ],
)
def test_fixture_methods_of_a_test_class_are_per_case_and_bound_to_the_tests_instance(
    pytester: pytest.Pytester, kind: str, deco: str
) -> None:
    method = fixture_source(kind, "client", deco=deco, method=True)
    test = """
        @concurrent_cases([1, 2, 3])
        async def test_x(self, n, client):
            event(f"case {n} client {client} self {id(self)}")
    """
    body = textwrap.indent(method + textwrap.dedent(test), "    ")
    write(pytester, "class TestThing:\n" + body)
    result = run(pytester)
    assert counts(result) == {"subtests passed": 3}
    ev = events(pytester)
    assert_one_instance_per_case(ev, ["client"], 3)
    cases = matching(ev, r"case (\d) client (\d) self (\d+)")
    assert sorted(n for n, _, _ in cases) == ["1", "2", "3"]
    for _, client, self_id in cases:
        assert f"setup client {client} self {self_id}" in ev, ev


def test_a_hung_fixture_setup_is_a_timeout_error_of_its_case(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        fixture_source("generator", "outer"),
        """
        @pytest_asyncio.fixture
        async def connect(outer):
            if outer == 2:
                event("setup connect 2 hangs")
                await asyncio.sleep(30)
            return outer

        @concurrent_cases([1, 2, 3], timeout=0.3)
        async def test_x(n, connect):
            event(f"case {n} got {connect}")
        """,
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(["test_cases.py::test_x[[]2[]] ERROR*"])
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_x[[]2[]]*",
            "*await asyncio.sleep(30)",
            "E*asyncgroup.CaseTimeoutError: Timeout (>0.3s) from asyncgroup: the case's fixture "
            "setup did not finish within its timeout of 0.3 s*",
        ]
    )
    assert counts(result) == {"error": 1, "subtests passed": 2}
    ev = events(pytester)
    # The hung case's outer fixture is torn down too; the others ran.
    assert_one_instance_per_case(ev, ["outer"], 3)
    assert sorted(line for line in ev if line.startswith("case")) == [
        "case 1 got 1",
        "case 3 got 3",
    ]


def test_monkeypatch_context_works_in_a_case(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        """
        CONFIG = types.SimpleNamespace(mode="original")

        @concurrent_cases([1])
        async def test_x(n, monkeypatch):
            with monkeypatch.context() as patch:
                patch.setattr(CONFIG, "mode", "patched")
                event(f"inside {CONFIG.mode}")
            event(f"outside {CONFIG.mode}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 1}
    assert events(pytester) == ["inside patched", "outside original"]


@pytest.mark.parametrize(
    ("patch", "limit"),
    [
        pytest.param('monkeypatch.setattr(CONFIG, "mode", f"case {n}")', None, id="attribute"),
        pytest.param('monkeypatch.setenv("ASYNCGROUP_MODE", f"case {n}")', None, id="env"),
        pytest.param('monkeypatch.setitem(TABLE, "mode", f"case {n}")', None, id="item"),
        pytest.param('monkeypatch.setattr(CONFIG, "mode", f"case {n}")', 1, id="serial"),
    ],
)
def test_overlapping_cases_patching_the_same_target_are_refused(
    pytester: pytest.Pytester, patch: str, limit: int | None
) -> None:
    """Patches are process-wide: the second overlapping case to patch a target fails, saying
    why; with max_concurrency=1 each case patches and sees its own value."""
    write(
        pytester,
        f"""
        import os

        CONFIG = types.SimpleNamespace(mode="original")
        TABLE = {{"mode": "original"}}

        @concurrent_cases([1, 2], max_concurrency={limit})
        async def test_x(n, monkeypatch):
            {patch}
            await asyncio.sleep(0.1)
            seen = (CONFIG.mode, TABLE["mode"], os.environ.get("ASYNCGROUP_MODE"))
            event(f"case {{n}} sees {{seen}}")

        def test_restored():
            assert CONFIG.mode == TABLE["mode"] == "original"
            assert "ASYNCGROUP_MODE" not in os.environ
        """,
    )
    result = run(pytester)
    if limit == 1:
        assert counts(result) == {"passed": 1, "subtests passed": 2}
        assert len(events(pytester)) == 2
        return
    assert counts(result) == {"failed": 1, "passed": 1, "subtests passed": 1}
    result.stdout.fnmatch_lines(
        ["*Failed: asyncgroup: cases '1' and '2' both monkeypatch * while they run at the*"]
    )
    # The first case kept its own value to the end; the refused one never patched.
    [line] = events(pytester)
    assert line.startswith("case 1 sees ")
    assert "case 1" in line.removeprefix("case 1 sees ")


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        pytest.param("capfd", "'{text}'", id="capfd"),
        pytest.param("capsysbinary", "b'{text}'", id="capsysbinary"),
        pytest.param("capfdbinary", "b'{text}'", id="capfdbinary"),
        pytest.param("capteesys", "'{text}'", id="capteesys"),
    ],
)
def test_other_capture_fixtures_in_a_case_see_only_that_cases_output(
    pytester: pytest.Pytester, fixture: str, expected: str
) -> None:
    write(
        pytester,
        f"""
        @concurrent_cases([1, 2, 3])
        async def test_x(n, {fixture}):
            print(f"first {{n}}")
            await asyncio.sleep(0.02 * (4 - n))
            print(f"second {{n}}")
            event(f"case {{n}} out={{{fixture}.readouterr().out!r}}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 3}
    assert sorted(events(pytester)) == [
        f"case {n} out=" + expected.format(text=f"first {n}\\nsecond {n}\\n") for n in (1, 2, 3)
    ]


@pytest.mark.parametrize("limit", [None, 1])
def test_recwarn_is_per_case(pytester: pytest.Pytester, limit: int | None) -> None:
    """recwarn records each case's own warnings, whether the cases overlap or not."""
    write(
        pytester,
        f"""
        import warnings

        @concurrent_cases([1, 2, 3], max_concurrency={limit})
        async def test_x(n, recwarn):
            await asyncio.sleep(0.02 * (4 - n))
            warnings.warn(f"warning {{n}}", UserWarning)
            await asyncio.sleep(0.02 * (4 - n))
            event(f"case {{n}} saw {{[str(w.message) for w in recwarn]}}")
        """,
    )
    result = run(pytester)
    assert counts(result) == {"subtests passed": 3}
    assert sorted(events(pytester)) == [f"case {n} saw ['warning {n}']" for n in (1, 2, 3)]


def test_setup_show_tells_which_case_set_up_what(pytester: pytest.Pytester) -> None:
    """--setup-show lists each case's own fixture setups and teardowns, with its case id, and
    none for the parent."""
    write(
        pytester,
        fixture_source("generator", "dep"),
        fixture_source("async_generator", "client", ("dep",), deco="pytest_asyncio.fixture"),
        """
        @concurrent_cases(["a", "b"])
        async def test_x(name, client):
            pass
        """,
    )
    result = run(pytester, "--setup-show")
    lines = result.stdout.lines
    for case in ("a", "b"):
        for line in (
            f"        SETUP    F dep (case {case})",
            f"        SETUP    F client (fixtures used: dep) (case {case})",
            f"        TEARDOWN F client (case {case})",
            f"        TEARDOWN F dep (case {case})",
        ):
            assert any(text.startswith(line) for text in lines), (line, result.stdout.str())
    # The parent sets up none of them.
    assert not [text for text in lines if re.match(r" *SETUP +F (dep|client)$", text)]
