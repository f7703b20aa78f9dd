"""A case's fixtures and setup are its parametrized test's: what is set up (or not), where a
fixture's teardown error is filed, what a step's report carries, which async fixtures are
accepted. Each test runs the same source as @concurrent_cases and as @pytest.mark.parametrize
(tests/differential.py) and compares."""

from __future__ import annotations

import json
import re
import textwrap
from xml.etree import ElementTree

import pytest
from differential import SET_UP_RECORDED, Differential, section, skipped_whole

from tests.conftest import summary

# --------------------------------------------------------------------------------------------
# A test whose cases are all skipped by its marks sets nothing up


@pytest.mark.parametrize(
    "source",
    [
        *skipped_whole(", database", ", suite"),
        pytest.param(
            """
            @cases("n", [
                pytest.param(1, marks=pytest.mark.skip(reason="one")),
                pytest.param(2, marks=pytest.mark.xfail(run=False, reason="two")),
            ])
            async def test_x(n, database):
                assert False
            """,
            id="each-case",
        ),
    ],
)
def test_nothing_is_set_up_for_a_test_whose_cases_are_all_skipped(
    differential: Differential, source: str
) -> None:
    """As for its parametrized tests, skipped before setup: no fixture of any scope, no autouse
    fixture and no event loop is set up (each would leave a line in set-up.txt)."""
    pair = differential.run(SET_UP_RECORDED + textwrap.dedent(source), "-rA", "--setup-show")
    pair.assert_same()
    pair.assert_same_short_summary()
    assert len(pair.parametrized_outcomes) == 2, pair.parametrized_outcomes
    for folder in ("concurrent", "parametrized"):
        recorded = differential.pytester.path / folder / "set-up.txt"
        assert not recorded.exists(), (folder, recorded.read_text())
    for result in (pair.concurrent, pair.parametrized):
        assert not [line for line in result.outlines if "SETUP" in line], result.outlines


def test_a_test_with_one_case_to_run_is_set_up(differential: Differential) -> None:
    """The counterpart: one case not skipped, and everything it uses is set up, once."""
    source = """
    @cases("n", [pytest.param(1, marks=pytest.mark.skip(reason="one")), 2])
    async def test_x(n, database):
        pass
    """
    pair = differential.run(SET_UP_RECORDED + textwrap.dedent(source))
    pair.assert_same()
    recorded = [
        (differential.pytester.path / folder / "set-up.txt").read_text().split()
        for folder in ("concurrent", "parametrized")
    ]
    assert recorded[0] == recorded[1], recorded
    assert "module" in recorded[0], recorded


# --------------------------------------------------------------------------------------------
# A wider-scoped fixture's teardown error is the last case's, as the last parametrized test's

TEARDOWN_ERRORS = """
@pytest.fixture(scope="module")
def database():
    print("module setup")
    yield
    print("module teardown")
    raise RuntimeError("module teardown broke")


@pytest.fixture(scope="class")
def suite():
    yield
    print("class teardown")
    raise RuntimeError("class teardown broke")


class TestC:
    @cases("k", ["k1", "k2"])
    async def test_k(self, k, suite):
        print("case", k)


@cases("c", ["a", "b", "c"])
async def test_x(c, database):
    print("case", c)
    await asyncio.sleep(0.05 if c == "a" else 0)  # the last case is not the last to end
"""


# xdist: one worker per file, or the parametrized tests' module would end on each worker.
@pytest.mark.parametrize("xdist", [[], ["-n", "2", "--dist", "loadfile"]], ids=["", "xdist"])
def test_a_wider_fixtures_teardown_error_is_the_last_cases(
    differential: Differential, xdist: list[str]
) -> None:
    """Filed on the scope's last test in the long report, -r summary and JUnit XML (its
    testcase, with its teardown output), as pytest files it for parametrized tests."""
    pair = differential.run(TEARDOWN_ERRORS, "-rE", "--junitxml=junit.xml", *xdist)
    pair.assert_same(
        "ERROR test_it.py::test_x[[]c[]] - RuntimeError: module teardown broke",
        "ERROR test_it.py::TestC::test_k[[]k2[]] - RuntimeError: class teardown broke",
        "*ERROR at teardown of test_x[[]c[]]*",
        "*ERROR at teardown of TestC.test_k[[]k2[]]*",
    )
    assert pair.parametrized_outcomes["test_it.py::test_x[c]"] == ["passed", "error"]
    pair.assert_same_short_summary()
    # The error's output: the last test's own, then the module's teardown (not its setup,
    # which was the first test's).
    captured = [
        section(result, "ERROR at teardown of test_x[c]")
        .partition("\n----")[2]
        .partition(" generated xml file")[0]  # the last section runs on to the JUnit line
        for result in (pair.concurrent, pair.parametrized)
    ]
    assert captured[0] == captured[1], captured
    assert "case c" in captured[1], captured
    assert "module teardown" in captured[1], captured
    errors = []
    for folder in ("concurrent", "parametrized"):
        junit = (differential.pytester.path / folder / "junit.xml").read_text()
        errors.append(
            re.findall(r'<testcase classname="([^"]+)" name="([^"]+)"[^>]*><error', junit)
        )
        assert junit.count('name="test_x[c]"') == 1, junit
    assert errors[0] == errors[1], errors
    assert len(errors[0]) == 2, errors


@pytest.mark.parametrize("xdist", [[], ["-n", "2", "--dist", "loadfile"]], ids=["", "xdist"])
def test_the_last_cases_teardown_error_and_a_wider_fixtures_are_one_error(
    differential: Differential, xdist: list[str]
) -> None:
    """Both fail to tear down after the last test: pytest raises them as one exception group,
    one error of that test (the wider fixture's first), counted once."""
    pair = differential.run(
        """
        @pytest.fixture(scope="module")
        def database():
            yield
            raise RuntimeError("module teardown broke")

        @pytest.fixture
        def connection(c):
            yield
            raise ValueError(f"connection {c} broke")

        @cases("c", ["a", "b"])
        async def test_x(c, database, connection):
            await asyncio.sleep(0.05 if c == "b" else 0.1)  # the last case ends first
        """,
        "-rE",
        *xdist,
        env={"COLUMNS": "300"},
    )
    pair.assert_same(
        "ERROR test_it.py::test_x[[]a[]] - ValueError: connection a broke",
        # (exceptiongroup.ExceptionGroup on Python 3.10)
        "ERROR test_it.py::test_x[[]b[]] - *ExceptionGroup: errors during test teardown "
        "(2 sub-exceptions)",
        "*RuntimeError: module teardown broke",
        "*ValueError: connection b broke",
    )
    assert pair.parametrized_outcomes["test_it.py::test_x[b]"] == ["passed", "error"]
    pair.assert_same_counts()
    pair.assert_same_short_summary()


# --------------------------------------------------------------------------------------------
# A step's report (subtests.test() in a case) carries the case's keywords

STEPS = """
@cases("n", [1, pytest.param(2, marks=pytest.mark.slow, id="two")])
async def test_steps(n, subtests):
    with subtests.test(msg="first"):
        pass
    with subtests.test(msg="second", k=n):
        assert n == 1
"""

STEP_SPY = """
import json

def pytest_runtest_logreport(report):
    msg = getattr(getattr(report, "context", None), "msg", None)
    # A case's own report is a subtest report too, with its id for a message.
    if msg is not None and msg != getattr(report, "asyncgroup_case_id", None):
        with open("keywords.jsonl", "a") as out:
            out.write(json.dumps([report.nodeid, msg, sorted(report.keywords)]) + "\\n")
"""


def test_a_steps_report_keywords_are_its_parametrized_tests(
    differential: Differential,
) -> None:
    differential.write(STEPS)
    for folder in ("concurrent", "parametrized"):
        (differential.pytester.path / folder / "stepspy.py").write_text(STEP_SPY)
    pair = differential.rerun("-p", "stepspy")
    pair.assert_same()
    found = []
    for folder in ("concurrent", "parametrized"):
        lines = (differential.pytester.path / folder / "keywords.jsonl").read_text().splitlines()
        entries = (json.loads(line) for line in lines)  # less the folder's name
        found.append(sorted((n, m, [k for k in kws if k != folder]) for n, m, kws in entries))
    assert found[0] == found[1], found
    assert len(found[0]) == 4, found
    two = [keywords for nodeid, _, keywords in found[0] if nodeid.endswith("[two]")]
    assert all({"test_steps[two]", "two", "slow", "parametrize"} <= set(k) for k in two), two


# --------------------------------------------------------------------------------------------
# An async fixture no plugin runs (plain @pytest.fixture, strict mode) is what pytest makes of it

UNHANDLED_ASYNC = {
    "coroutine": (
        """
        @pytest.fixture
        async def value():
            return 5


        @cases("n", [1, 2])
        async def test_x(n, value):
            assert value == 5
        """,
        "value",
    ),
    "autouse-async-generator": (
        """
        @pytest.fixture(autouse=True)
        async def around():
            yield


        @cases("n", [1, 2])
        async def test_x(n):
            pass
        """,
        "around' with autouse=True",
    ),
}


@pytest.mark.parametrize("kind", list(UNHANDLED_ASYNC))
def test_an_async_fixture_no_plugin_runs(differential: Differential, kind: str) -> None:
    """pytest 9 errors each test's setup ("... requested an async fixture ..., with no plugin or
    hook that handled it"); pytest 8.4 warns so and gives the test the coroutine unawaited."""
    source, named = UNHANDLED_ASYNC[kind]
    pair = differential.run(textwrap.dedent(source), "-rA")
    pair.assert_same(f"*'test_x[[]1[]]' requested an async fixture '{named}*")
    expected = (
        "error" if pytest.version_tuple >= (9,) else ("passed", "failed")[kind == "coroutine"]
    )
    assert pair.parametrized_outcomes["test_it.py::test_x[1]"] == [expected]


# --------------------------------------------------------------------------------------------
# request.fixturenames from a fixture: the test's whole closure (findings-groups4 F3)

FIXTURENAMES = """
def names(request):  # pytest-asyncio's private loop runner: a def case's parent has one
    return sorted(name for name in request.fixturenames if not name.startswith("_"))


@pytest.fixture
def db():
    return "db"


@pytest.fixture
def first(request):
    print("FIRST", names(request))


@pytest.fixture(autouse=True)
def only_for_db_tests(request):
    print("AUTOUSE", names(request))
    if "db" in request.fixturenames:
        print("DB-TEST", request.node.name)


@cases("x", [1, 2])
async def test_db(x, first, db):
    pass


@cases("y", [1])
def test_dynamic(y, request):
    request.getfixturevalue("db")
    print("BODY", names(request))
"""


def test_a_fixture_sees_the_tests_whole_fixture_closure(differential: Differential) -> None:
    """An autouse fixture (set up first) sees every fixture of the case's closure in
    ``request.fixturenames``, and the "only for tests that use db" pattern works; it saw only
    the fixtures set up so far ([])."""
    pair = differential.run(FIXTURENAMES, "-rA", "-p", "no:xdist")
    closure = "'db', 'event_loop_policy', 'first', "
    pair.assert_same(
        f"AUTOUSE [[]{closure}'only_for_db_tests', 'request', 'x']",
        f"FIRST [[]{closure}'only_for_db_tests', 'request', 'x']",
        "DB-TEST test_db[[]1]",
        "DB-TEST test_db[[]2]",
        "AUTOUSE [[]'event_loop_policy', 'only_for_db_tests', 'request', 'y']",
        "BODY [[]'db', 'event_loop_policy', 'only_for_db_tests', 'request', 'y']",
    )
    for result in (pair.concurrent, pair.parametrized):
        assert not any("DB-TEST test_dynamic" in line for line in result.outlines)


# --------------------------------------------------------------------------------------------
# A fixture is torn down before the fixtures it requested dynamically (findings-groups4 F4)

DYNAMIC_TEARDOWN = """
ORDER = []


@pytest.fixture
def x():
    yield
    ORDER.append("x torn down")


@pytest.fixture
def y():
    yield
    ORDER.append("y torn down")


@pytest.fixture
def conn(request):
    request.addfinalizer(lambda: ORDER.append("conn's finalizer"))
    request.getfixturevalue("x")
    request.getfixturevalue("y")
    yield
    ORDER.append("conn torn down")


@cases("n", [1])
async def test_x(n, conn, request):
    request.getfixturevalue("x")


def test_order():
    print("ORDER", ORDER)
"""


def test_a_fixture_is_torn_down_before_what_it_requested_dynamically(
    differential: Differential,
) -> None:
    """pytest finalizes a fixture (its finalizers too) before the fixtures it got from
    ``request.getfixturevalue``, the last got first; a case tore those down first."""
    pair = differential.run(DYNAMIC_TEARDOWN, "-s", "-p", "no:xdist")
    pair.assert_same(
        "*ORDER [[]'conn torn down', \"conn's finalizer\", 'y torn down', 'x torn down'[]]"
    )


# --------------------------------------------------------------------------------------------
# A def case's sync fixtures are set up on the event loop's thread (README, Known limits)

THREAD_BOUND = """
import sqlite3


@pytest.fixture
def db():
    connection = sqlite3.connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture
def any_thread_db():
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    yield connection
    connection.close()


@cases("n", [1, 2])
def test_bound(n, db):
    assert db.execute("select ?", (n,)).fetchone() == (n,)


@cases("n", [1, 2])
def test_workaround(n, any_thread_db):
    assert any_thread_db.execute("select ?", (n,)).fetchone() == (n,)
"""


def test_a_def_cases_thread_bound_fixture_is_the_known_limit_and_its_workaround_passes(
    differential: Differential,
) -> None:
    """A plain def case's body runs in a worker thread, its sync fixtures on the event loop's:
    a sqlite3 connection made in one fails in the body (the parametrized test passes), as the
    README's Known limits say; its workaround, ``check_same_thread=False``, passes in both."""
    pair = differential.run(THREAD_BOUND, "-p", "no:xdist", "--tb=line")
    assert all(outcomes == ["passed"] for outcomes in pair.parametrized_outcomes.values()), (
        pair._both()
    )
    assert len(pair.parametrized_outcomes) == 4, pair._both()
    for n in (1, 2):
        assert pair.concurrent_outcomes[f"test_it.py::test_workaround[{n}]"] == ["passed"]
        assert pair.concurrent_outcomes[f"test_it.py::test_bound[{n}]"] == ["failed"]
    pair.concurrent.stdout.fnmatch_lines(
        ["*ProgrammingError: SQLite objects created in a thread can only be used in that same*"]
    )


# --------------------------------------------------------------------------------------------
# getfixturevalue of a parametrized fixture the test holds no parameter of (findings-cases4 H)

NO_PARAMETER = """
@pytest.fixture(params=["a", "b"])
def pf(request):
    print("pf ran")
    return request.param


@cases("x", [1])
async def test_x(x, request):
    try:
        request.getfixturevalue("pf")
    except Exception:
        print("caught as an Exception")
        raise
"""


def test_getfixturevalue_of_a_parametrized_fixture_fails_as_pytest_fails_it(
    differential: Differential,
) -> None:
    """pytest's failure, naming the case, the fixture's place and the line that asked, without
    running the fixture (it ran it, then raised a false AttributeError)."""
    pair = differential.run(NO_PARAMETER, "-p", "no:xdist", "-rA")
    pair.assert_same(
        "The requested fixture has no parameter defined for test:",
        "    test_it.py::test_x[[]1[]]",
        "Requested fixture 'pf' defined in:",
        "Requested here:",
        "test_it.py:17",
        "FAILED test_it.py::test_x[[]1[]] - Failed: The requested fixture has no parameter*",
    )

    def defined_in(result: pytest.RunResult) -> str:  # pytest 8 and 9 count lines differently
        return result.outlines[result.outlines.index("Requested fixture 'pf' defined in:") + 1]

    assert defined_in(pair.concurrent) == defined_in(pair.parametrized), pair._both()
    for result in (pair.concurrent, pair.parametrized):
        assert "pf ran" not in result.stdout.str()
        assert "caught as an Exception" not in result.stdout.str()


# --------------------------------------------------------------------------------------------
# A wider-scoped fixture that requests the case's argname (findings-cases4 G)

WIDER_REQUESTS_THE_ARGNAME = """
@pytest.fixture(scope="module")
def modx(x):
    return x * 10


@cases("x", [1, 2])
async def test_x(x, modx):
    assert modx == x * 10
"""


def test_a_wider_fixture_requesting_the_cases_argname_is_pytests_scope_mismatch(
    differential: Differential,
) -> None:
    """pytest's ScopeMismatch for each case, in its report and its -r line (it was "fixture
    'x' not found", with no message on the -r line)."""
    pair = differential.run(WIDER_REQUESTS_THE_ARGNAME, "-rE", "--tb=short")
    pair.assert_same(
        "ScopeMismatch: You tried to access the function scoped fixture x with a module scoped "
        "request object. Requesting fixture stack:",
        "test_it.py:*:  def modx(x)",
        "Requested fixture:",
        "*_pytest/python.py:*:  def get_direct_param_fixture_func(request*",
        "ERROR test_it.py::test_x[[]1[]] - Failed: ScopeMismatch: You tried to access the *",
        "ERROR test_it.py::test_x[[]2[]] - Failed: ScopeMismatch: You tried to access the *",
    )
    assert "not found" not in pair.concurrent.stdout.str()

    def stack(result: pytest.RunResult) -> str:  # the fixture's line, as pytest 8 or 9 has it
        return next(line for line in result.outlines if line.endswith(":  def modx(x)"))

    assert stack(pair.concurrent) == stack(pair.parametrized), pair._both()


# A def case stopped while its body runs in its thread (-x here): the thread cannot be cut off,
# so the case waits a bounded while for it before tearing its fixtures down.
STOPPED_DEF_BODY = """
import time


@pytest.fixture
def resource(x):
    resource = {"open": True}
    yield resource
    resource["open"] = False
    print("RESOURCE CLOSED", x)


@cases("x", ["fails", "runs_on"])
def test_def(x, resource):
    if x == "fails":
        time.sleep(0.05)
        assert False, "the stop"
    time.sleep(0.6)  # still running when -x stops the run, done well within the wait
    print("BODY SAW RESOURCE OPEN", resource["open"])
"""


def test_a_stopped_def_cases_fixtures_are_not_torn_down_under_its_running_body(
    differential: Differential,
) -> None:
    """-x stops the run while the other def case's body still runs in its thread: its fixture
    is torn down only once the body has finished (it ran on a closed resource before). Its
    parametrized test would not have started: the case is reported cancelled (skipped)."""
    pair = differential.run(STOPPED_DEF_BODY, "-x", "-s", "-p", "no:xdist")
    pair.assert_same(cancelled=True)
    assert pair.concurrent_outcomes["test_it.py::test_def[runs_on]"] == ["skipped"], pair._both()
    lines = pair.concurrent.outlines
    body = [n for n, line in enumerate(lines) if "BODY SAW RESOURCE OPEN" in line]
    closed = [n for n, line in enumerate(lines) if "RESOURCE CLOSED runs_on" in line]
    assert body, pair._both()
    assert closed, pair._both()
    assert "BODY SAW RESOURCE OPEN True" in lines[body[0]], pair._both()
    assert body[0] < closed[0], pair._both()


# --------------------------------------------------------------------------------------------
# --setup-show names the fixture whose setup raised (findings-mem5 F9)

SETUP_RAISES = """
@pytest.fixture
def broken(x):
    raise RuntimeError("broken")


@pytest.fixture
def uses_it(broken):
    yield


@pytest.fixture
def asks_for_it(x, request):
    request.getfixturevalue("broken")


@cases("x", [1])
async def test_requested(x, uses_it):
    pass


@cases("x", [2])
async def test_dynamic(x, asks_for_it):
    pass
"""

# A --setup-show line of one of those fixtures, without the case's id or an outcome's letter.
_SHOWN = re.compile(
    r" *(SETUP|TEARDOWN) +F ((?:x|broken|uses_it|asks_for_it)(?:\[\d\])?"
    r"(?: \(fixtures used: [^)]*\))?)"
)


def test_setup_show_writes_the_lines_of_the_fixture_whose_setup_raised(
    differential: Differential,
) -> None:
    """pytest writes a fixture's SETUP line (and later its TEARDOWN line) once its own code
    ran, raised or not, and none for a fixture whose dependency failed first; a case wrote
    nothing for the fixture that raised, the one a user reads --setup-show to find."""
    pair = differential.run(SETUP_RAISES, "--setup-show", "-p", "no:xdist")
    pair.assert_same()

    def shown(result: pytest.RunResult) -> list[str]:
        return [" ".join(m.groups()) for m in map(_SHOWN.match, result.outlines) if m]

    assert "SETUP broken (fixtures used: x)" in shown(pair.parametrized), pair._both()
    assert shown(pair.concurrent) == shown(pair.parametrized), pair._both()


# A case that a stop cuts off, whose fixture's teardown then fails: its parametrized test (run
# first, as "slow" comes first) is not cut off by -x, and reports that teardown's error.
STOPPED_TEARDOWN_FAILS = """
import logging
import time

import pytest_asyncio


@{fixture}
{asynchronous}def resource(x):
    print("SETUP", x)
    yield
    print("TEARDOWN", x)
    logging.getLogger("td").error("TDLOG %s", x)
    if x == "slow":
        raise RuntimeError("teardown of slow broke")


@cases("x", ["slow", "fails"])
{asynchronous}def test_x(x, resource):
    {sleep}(0.6 if x == "slow" else 0.05)
    assert x != "fails"
"""

# The error at teardown of the cut-off case, with its traceback and the teardown's own output
# and log (the next case's block has "TEARDOWN fails", not "TEARDOWN slow").
TEARDOWN_ERROR_SHOWN = [
    "*ERROR at teardown of test_x[[]slow[]]*",
    '>*raise RuntimeError("teardown of slow broke")',
    "E*RuntimeError: teardown of slow broke",
    "*Captured stdout teardown*",
    "TEARDOWN slow",
    "*Captured log teardown*",
    "ERROR*TDLOG slow",
]


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("async", ["-x"]),
        ("def", ["--maxfail=1"]),
        ("async", ["-x", "-n", "2"]),
    ],
    ids=["async-x", "def-maxfail", "async-x-xdist"],
)
def test_a_cut_off_cases_failing_fixture_teardown_is_an_error_at_teardown(
    differential: Differential, kind: str, options: list[str]
) -> None:
    """-x (or --maxfail) cuts the slow case off when the other fails; its fixture is torn down
    and raises. As its parametrized test, which runs to its end, the case reports an "ERROR at
    teardown of test_x[slow]" with the finalizer's traceback and the teardown's output and log,
    counted as an error (it was only skipped "cancelled: ...", the error lost); its call stays
    skipped "cancelled: ..." (the parametrized test's passed: it was not cut off)."""
    fixture, asynchronous, sleep = (
        ("pytest_asyncio.fixture", "async ", "await asyncio.sleep")
        if kind == "async"
        else ("pytest.fixture", "", "time.sleep")
    )
    source = STOPPED_TEARDOWN_FAILS.format(fixture=fixture, asynchronous=asynchronous, sleep=sleep)
    pair = differential.run(source, "-rfEs", *options)
    slow = "test_it.py::test_x[slow]"
    assert pair.concurrent_outcomes[slow] == ["skipped", "error"], pair._both()
    assert pair.parametrized_outcomes[slow] == ["passed", "error"], pair._both()
    assert pair.concurrent.ret == pair.parametrized.ret, pair._both()
    for result in (pair.concurrent, pair.parametrized):
        result.stdout.fnmatch_lines(TEARDOWN_ERROR_SHOWN)
        result.stdout.fnmatch_lines(
            ["ERROR test_it.py::test_x[[]slow[]] - RuntimeError: teardown of slow broke"]
        )
        assert summary(result).get("error") == 1, pair._both()
    pair.concurrent.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_it.py:*: cancelled: stopping *"])


@pytest.mark.parametrize(
    ("stop", "outcomes"),
    [
        ("fail_fast=True", {"failed": 1, "skipped": 1, "error": 1}),
        ("timeout=0.2", {"failed": 2, "error": 1}),  # the slow case timed out: failed
    ],
    ids=["fail_fast", "timeout"],
)
def test_a_failing_fixture_teardown_is_reported_however_the_case_was_stopped(
    pytester: pytest.Pytester, stop: str, outcomes: dict[str, int]
) -> None:
    """fail_fast, or its timeout, stops the slow case; its fixture's teardown error is still
    reported at teardown of the case, with the teardown's output and log."""
    source = STOPPED_TEARDOWN_FAILS.format(
        fixture="pytest_asyncio.fixture", asynchronous="async ", sleep="await asyncio.sleep"
    )
    header = "import asyncio\nimport pytest\nfrom asyncgroup import concurrent_cases as cases\n"
    pytester.makepyfile(
        test_it=header + source.replace('["slow", "fails"]', f'["slow", "fails"], {stop}')
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", timeout=60)
    result.stdout.fnmatch_lines(TEARDOWN_ERROR_SHOWN)
    counts = summary(result)
    assert {k: v for k, v in counts.items() if k != "warnings"} == outcomes, result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_cut_off_case_keeps_what_it_recorded(pytester: pytest.Pytester) -> None:
    """A case fail_fast cut off keeps what record_property recorded in its setup, its body and
    its fixture's teardown, in its reports and its JUnit XML <testcase>, as its parametrized
    test's (which ran to its end) has them (it lost them all)."""
    pytester.makepyfile(
        test_it="""
        import asyncio
        import pytest
        import pytest_asyncio
        from asyncgroup import concurrent_cases

        @pytest_asyncio.fixture
        async def fx(record_property, x):
            record_property("setup", x)
            yield
            record_property("teardown", x)

        @concurrent_cases("x", ["slow", "bad"], fail_fast=True)
        async def test_c(x, fx, record_property):
            record_property("body", x)
            await asyncio.sleep(0.05 if x == "bad" else 5)
            assert x != "bad"
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "--junitxml=out.xml", "-o", "junit_family=xunit1", timeout=60
    )
    assert summary(result) == {"failed": 1, "skipped": 1}, result.stdout.str()
    xml = ElementTree.parse(pytester.path / "out.xml")
    for case in ("slow", "bad"):
        testcase = xml.find(f".//testcase[@name='test_c[{case}]']")
        assert testcase is not None, result.stdout.str()
        recorded = [(p.get("name"), p.get("value")) for p in testcase.iter("property")]
        assert recorded == [("setup", case), ("body", case), ("teardown", case)], case


# A case a stop cuts off 0.3 s into its body (its fixture takes 0.2 s to set up, 0.1 s to tear
# down), and its twin: the parametrized test skipped 0.3 s into its call (first, before -x stops).
CUT_OFF_TIMED = """
import asyncio
import json
import pytest
import pytest_asyncio
from asyncgroup import concurrent_cases


@pytest_asyncio.fixture
async def fx(x):
    await asyncio.sleep(0.2)
    yield
    await asyncio.sleep(0.1)


@pytest.mark.asyncio
@pytest.mark.parametrize("x", ["slow"])
async def test_p(x, fx):
    await asyncio.sleep(0.3)
    pytest.skip("cancelled: as the case")


@concurrent_cases("x", ["slow", "bad"]{stop})
async def test_c(x, fx):
    await asyncio.sleep(0.3 if x == "bad" else 30)
    assert x != "bad"
"""

# Each report as a report consumer (--report-log, a conftest) sees it, in the order logged.
LOGGED_REPORTS = """
import json

def pytest_runtest_logreport(report):
    with open("reports.jsonl", "a") as file:
        fields = ("nodeid", "when", "outcome", "start", "stop", "duration")
        file.write(json.dumps({name: getattr(report, name) for name in fields}) + "\\n")
"""


@pytest.mark.parametrize(
    ("stop", "options"),
    [
        (", fail_fast=True", ["--durations=0", "-vv"]),
        ("", ["-x", "--junitxml=out.xml"]),
        ("", ["--maxfail=1"]),
    ],
    ids=["fail_fast-durations", "x-junitxml", "maxfail-plain"],
)
def test_a_cut_off_case_reports_its_setup_and_call_times(
    pytester: pytest.Pytester, stop: str, options: list[str]
) -> None:
    """A case cut off in its body reports, as its twin skipped 0.3 s into its call: its setup
    (passed, 0.2 s) where every phase is reported, its call skipped "cancelled: ..." from the
    body's start to the cut-off, then its teardown, in that order and with their own times, in
    --durations and the JUnit time too (it had no setup report, and a call of 0 s stamped
    after its teardown); the skip still counts once."""
    pytester.makeconftest(LOGGED_REPORTS)
    pytester.makepyfile(test_it=CUT_OFF_TIMED.format(stop=stop))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-rs", *options, timeout=60)
    output = result.stdout.str()
    assert summary(result) == {"failed": 1, "skipped": 2}, output
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_it.py:*: cancelled: *"])
    lines = (pytester.path / "reports.jsonl").read_text().splitlines()
    reports = [json.loads(line) for line in lines]
    every_phase = options != ["--maxfail=1"]  # without them, a passing setup is not reported
    for nodeid in ("test_it.py::test_c[slow]", "test_it.py::test_p[slow]"):
        told = {r["when"]: r for r in reports if r["nodeid"] == nodeid}
        order = [r["when"] for r in reports if r["nodeid"] == nodeid]
        if not every_phase and nodeid.startswith("test_it.py::test_c"):
            assert order == ["call"], (nodeid, reports)
        else:
            assert order == ["setup", "call", "teardown"], (nodeid, reports)
            setup, teardown = told["setup"], told["teardown"]
            assert setup["outcome"] == teardown["outcome"] == "passed", (nodeid, reports)
            assert 0.15 < setup["duration"] < 1.5, (nodeid, reports)
            assert setup["start"] <= setup["stop"] <= told["call"]["start"], (nodeid, reports)
            assert told["call"]["stop"] <= teardown["start"] <= teardown["stop"], (nodeid, reports)
            assert 0.05 < teardown["duration"] < 1.5, (nodeid, reports)
        call = told["call"]
        assert call["outcome"] == "skipped", (nodeid, reports)
        # 0.3 s: the case runs until its sibling failed, the twin until its skip.
        assert 0.25 < call["duration"] < 5, (nodeid, reports)
        assert call["start"] + call["duration"] == pytest.approx(call["stop"]), (nodeid, reports)
    if "--durations=0" in options:
        for when in ("setup", "call", "teardown"):
            result.stdout.re_match_lines([rf"0\.[1-9]\ds +{when} +test_it\.py::test_c\[slow\]"])
    if "--junitxml=out.xml" in options:
        xml = ElementTree.parse(pytester.path / "out.xml")
        times = {
            name: float(xml.find(f".//testcase[@name='{name}']").get("time"))  # type: ignore[union-attr]
            for name in ("test_c[slow]", "test_p[slow]")
        }
        assert times["test_c[slow]"] > 0.5, times  # 0.2 + 0.3 + 0.1, as the twin's
        assert times["test_p[slow]"] > 0.5, times


# --------------------------------------------------------------------------------------------
# --setup-plan and --setup-only list each case as its parametrized test (findings-mem5 F3)

LISTED = """
import pytest_asyncio


@pytest.fixture(scope="module")
def mod():
    yield "m"


@pytest.fixture
def sync_fix(x):
    yield x


@pytest_asyncio.fixture
async def afix(sync_fix):
    yield sync_fix


@cases("x", ["a", pytest.param("b", marks=pytest.mark.slow)])
async def test_async(x, afix, mod):
    assert False, "no test body runs"


@cases("x", [1, 2], ids=["one", "two"])
def test_def(x, sync_fix):
    assert False, "no test body runs"


class TestInClass:
    @cases("x", ["c"])
    async def test_method(self, x, afix):
        assert False, "no test body runs"


@pytest.mark.parametrize("z", [2])
@cases("x", ["d"])
@pytest.mark.parametrize("y", [1])
async def test_marks(x, y, z):  # the cases' ids between those of the marks around them
    assert False, "no test body runs"
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--setup-plan"],
        ["--setup-only"],
        ["--setup-plan", "-k", "b or two"],
        ["--setup-only", "-m", "not slow"],
        ["--setup-plan", "test_it.py::test_def[two]", "test_it.py::test_async[a]"],
        ["--setup-plan", "-p", "xdist", "-n", "2"],
    ],
    ids=["plan", "only", "plan-k", "only-m", "plan-node-ids", "plan-xdist"],
)
def test_setup_plan_and_setup_only_list_each_case_as_its_parametrized_test(
    differential: Differential, args: list[str]
) -> None:
    """pytest lists (and with --setup-only sets up) each parametrized test with its fixtures;
    a case was listed as nothing: only its parent, with none of the cases' fixtures (nor the
    module-scoped one) among its "fixtures used"."""
    differential.ini_lines.append("markers = slow")
    pair = differential.run(LISTED, *args)
    pair.assert_same()

    def listed(result: pytest.RunResult) -> list[str]:
        # pytest-asyncio's own loop fixture is left out: the twin of the plain def test has the
        # asyncio mark (differential marks every twin), for which pytest-asyncio 1.0-1.2 sets
        # its loop up too; the concurrent def test, unmarked, has none.
        return [
            re.sub(r" in [\d.]+s .*", "", line.strip()).replace("_function_event_loop, ", "")
            for line in result.outlines
            if re.match(r" *(SETUP|TEARDOWN) |.*test_it\.py::|.*(selected|items|workers)", line)
            and not re.match(r" *(SETUP|TEARDOWN) +F _function_event_loop", line)
        ]

    if "-n" not in args:  # pytest-xdist's workers list nothing: their count of items is compared
        wanted = "SETUP    F sync_fix (fixtures used: x)"
        assert any(wanted in line for line in listed(pair.parametrized)), pair._both()
    assert listed(pair.concurrent) == listed(pair.parametrized), pair._both()


SHARDED = """
import pytest
from asyncgroup import concurrent_cases


@pytest.fixture
def fix():
    return 1


@concurrent_cases("n", range(4), shards=2)
async def test_s(n, fix):
    pass


@pytest.mark.parametrize("z", ["a", "b"])
@concurrent_cases("n", range(3), shards=2)
@pytest.mark.parametrize("y", ["p"])
def test_marks(n, y, z):
    pass
"""


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-k", "shard1of2"],
        ["test_it.py::test_s[shard1of2-2]", "test_it.py::test_marks[shard2of2-p-1-b]"],
        ["test_it.py::test_s[shard2of2]"],
    ],
    ids=["all", "k", "case-node-ids", "parent-node-id"],
)
@pytest.mark.parametrize("option", ["--setup-plan", "--setup-only"])
def test_setup_plan_lists_a_sharded_tests_cases_under_the_ids_a_run_gives_them(
    pytester: pytest.Pytester, option: str, args: list[str]
) -> None:
    """There is no parametrize twin of shards: a run names a sharded case with its shard
    (test_s[shard1of2-2]); --setup-plan/--setup-only list the same cases under the same node
    ids, selected by the same -k and node ids. They were listed as test_s[2] (every id of a
    run "not found", -k shard1of2 selected nothing)."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function")
    pytester.makepyfile(test_it=SHARDED)
    run = pytester.runpytest_subprocess("-p", "no:randomly", "-v", *args, timeout=60)
    ran = {
        line.split()[0]
        for line in run.outlines
        if re.match(r"test_it\.py::\S+ .*SUBPASS", line)  # pytest 8: "[0] SUBPASS"
    }
    listed = pytester.runpytest_subprocess("-p", "no:randomly", option, *args, timeout=60)
    shown = {
        line.split()[0]
        for line in listed.outlines
        if re.match(r" *test_it\.py::\S+ \(fixtures used", line)
    }
    assert ran, run.outlines
    assert shown == ran, (run.outlines, listed.outlines)
    assert listed.ret == pytest.ExitCode.OK, listed.outlines


MISSING_FIXTURE = {
    "test": """
@cases("x", [1, 2])
async def test_x(x, no_such_fixture):
    pass
""",
    "fixture": """
@pytest.fixture
def f(tmp_path, no_such_fixture):
    return 1

@cases("x", [1, 2])
async def test_x(x, f):
    pass
""",
    "module-fixture": """
@pytest.fixture(scope="module")
def m(no_such_fixture):
    return 1

@cases("x", [1, 2])
async def test_x(x, m):
    pass
""",
    "class": """
class TestC:
    @cases("x", [1, 2])
    async def test_x(self, x, no_such_fixture):
        pass
""",
}


@pytest.mark.parametrize("args", [[], ["-k", "2"]], ids=["all", "k"])
@pytest.mark.parametrize("requested_by", list(MISSING_FIXTURE))
def test_a_missing_fixture_is_each_cases_setup_error(
    differential: Differential, requested_by: str, args: list[str]
) -> None:
    """A fixture no fixture defines (a typo), requested by the test or by a fixture it
    requests: pytest's "fixture 'no_such_fixture' not found" at the setup of each case, as of
    each parametrized test, with the same source lines, counted per case; it was one error of
    the parent ("1 error" for two cases)."""
    pair = differential.run(MISSING_FIXTURE[requested_by], "-rA", *args)
    pair.assert_same(
        "E       fixture 'no_such_fixture' not found",
        ">       use 'pytest --fixtures [[]testpath[]]' for help on them.",
    )
    pair.assert_same_counts()
    pair.assert_same_short_summary()

    def sections(result: pytest.RunResult) -> list[str]:
        """The setup errors' sections, each run's folder written as <dir>."""
        errors = re.split(r"=+ (?:FAILURES|short test summary info) =+", result.stdout.str())[0]
        folder = re.escape(str(differential.pytester.path)) + r"/\w+"
        return [re.sub(folder, "<dir>", line) for line in errors.split(" ERRORS ")[1].splitlines()]

    concurrent = sections(pair.concurrent)
    assert concurrent == sections(pair.parametrized), pair._both()
    assert sum("ERROR at setup of" in line for line in concurrent) == (1 if args else 2)


# A case's own values under --setup-show when it needs no fixture (findings-t6 F3): its
# parametrized test's are "SETUP F n[1]" ... "TEARDOWN F n[1]".
NO_FIXTURE = """
@cases("n", [1, 2])
async def test_async(n):
    pass


@cases("n", [3])
def test_def(n):
    pass


from asyncgroup import concurrent_group

group = concurrent_group("g") if cases.__module__.startswith("asyncgroup") else pytest.mark.asyncio


@group
@pytest.mark.parametrize("n", [4, 5])
async def test_group_async(n):
    pass


@group
@pytest.mark.parametrize("n", [6])
def test_group_def(n):
    pass
"""

_PARAM_SHOWN = re.compile(r" *(SETUP|TEARDOWN) +F (n\[\d\])")


def test_setup_show_writes_the_values_of_cases_that_need_no_fixture(
    differential: Differential,
) -> None:
    pair = differential.run(NO_FIXTURE, "--setup-show", "-p", "no:xdist")
    pair.assert_same()

    def shown(result: pytest.RunResult) -> list[str]:
        return [" ".join(m.groups()) for m in map(_PARAM_SHOWN.match, result.outlines) if m]

    assert {"SETUP n[3]", "SETUP n[6]"} <= set(shown(pair.parametrized)), pair._both()
    # The cases run at the same time: their lines interleave, each case's in its order.
    assert sorted(shown(pair.concurrent)) == sorted(shown(pair.parametrized)), pair._both()
    for value in range(1, 7):
        own = [line for line in shown(pair.concurrent) if line.endswith(f"n[{value}]")]
        assert own == [f"SETUP n[{value}]", f"TEARDOWN n[{value}]"], pair._both()


# A class-scoped fixture used by a test outside any class (findings-t7 F1): pytest sets it up
# for each test (its item stands in for the class), so each case gets its own, as each
# parametrized test; what it requests of wider scope stays shared. In a class, one for all.
CLASS_SCOPED = """
import pathlib

import pytest_asyncio

from asyncgroup import concurrent_group

group = concurrent_group("g") if cases.__module__.startswith("asyncgroup") else pytest.mark.asyncio


def record(line):
    with pathlib.Path("events.txt").open("a") as file:
        file.write(line + "\\n")


@pytest.fixture(scope="module")
def shared():
    record("shared setup")
    return []


@pytest.fixture(scope="class")
def bucket(shared, request):
    record(f"bucket setup {request.node.name} {request.scope}")
    shared.append(request.node.name)
    yield []
    record(f"bucket teardown {request.node.name}")


@pytest_asyncio.fixture(scope="class", loop_scope="class")
async def abucket(request):
    record(f"abucket setup {request.node.name}")
    yield []
    await asyncio.sleep(0)
    record(f"abucket teardown {request.node.name}")


@cases("n", [1, 2, 3])
async def test_x(n, bucket, abucket, shared):
    bucket.append(n)
    abucket.append(n)
    await asyncio.sleep(0.1)
    assert (bucket, abucket) == ([n], [n])


@cases("n", [1, 2])
def test_def(n, bucket):
    bucket.append(n)
    assert bucket == [n]


@group
async def test_a(bucket):
    bucket.append("a")
    await asyncio.sleep(0.1)
    assert bucket == ["a"]


@group
async def test_b(bucket):
    bucket.append("b")
    await asyncio.sleep(0.1)
    assert bucket == ["b"]


class TestK:
    @cases("n", [1, 2])
    async def test_k(self, n, bucket):
        bucket.append(n)
        await asyncio.sleep(0.1)
        assert n in bucket
"""

# An autouse one from conftest.py ("fresh test data" for each test), recording what it serves.
CLASS_SCOPED_AUTOUSE = """

import pathlib


@pytest.fixture(autouse=True, scope="class")
def fresh_data(request):
    with pathlib.Path("events.txt").open("a") as file:
        file.write(f"fresh_data setup {request.node.name}\\n")
    yield
    with pathlib.Path("events.txt").open("a") as file:
        file.write(f"fresh_data teardown {request.node.name}\\n")
"""

_CLASS_SHOWN = re.compile(r"^      (SETUP|TEARDOWN) +C (bucket|abucket|fresh_data)\b")


def test_a_class_scoped_fixture_of_a_test_outside_any_class_is_each_cases_own(
    differential: Differential,
) -> None:
    """Sync, async and autouse (from conftest.py) class-scoped fixtures, in @concurrent_cases
    (async and def) and in a @concurrent_group: set up and torn down for each case, as for each
    parametrized test, with pytest's scope letter under --setup-show; the module-scoped one
    they request is set up once; in a class, one for the class, as pytest's."""
    differential.write(CLASS_SCOPED)
    for folder in ("concurrent", "parametrized"):
        conftest = differential.pytester.path / folder / "conftest.py"
        conftest.write_text(conftest.read_text() + "import pytest\n" + CLASS_SCOPED_AUTOUSE)
    pair = differential.rerun("--setup-show", "-p", "no:xdist")
    pair.assert_same()
    assert pair.parametrized.ret == 0, pair._both()
    assert len(pair.parametrized_outcomes) == 9, pair.parametrized_outcomes

    def events(folder: str) -> list[str]:
        path = differential.pytester.path / folder / "events.txt"
        return sorted(path.read_text().splitlines())

    assert events("concurrent") == events("parametrized"), pair._both()
    assert events("concurrent").count("shared setup") == 1
    assert "bucket setup test_x[2] class" in events("concurrent")
    assert "fresh_data setup test_a" in events("concurrent")

    def shown(result: pytest.RunResult) -> list[str]:
        return sorted(" ".join(m.groups()) for m in map(_CLASS_SHOWN.match, result.outlines) if m)

    assert shown(pair.concurrent) == shown(pair.parametrized), pair._both()


# pytest's ScopeMismatch for a class-scoped fixture that requests a function-scoped one, or an
# async one on pytest-asyncio's function-scoped loop (the ini's default here).
CLASS_SCOPE_MISMATCH = """
import pytest_asyncio


@pytest.fixture
def per_test():
    return 1


@pytest.fixture(scope="class")
def needs_function(per_test):
    return per_test


@pytest_asyncio.fixture(scope="class")
async def on_function_loop():
    return 1


@cases("n", [1, 2])
async def test_y(n, needs_function):
    pass


@cases("n", [1, 2])
async def test_z(n, on_function_loop):
    pass
"""


def test_a_class_scoped_fixture_of_a_test_outside_any_class_has_pytests_scope_mismatch(
    differential: Differential,
) -> None:
    pair = differential.run(CLASS_SCOPE_MISMATCH, "-rE", "--tb=short")
    pair.concurrent_outcomes.pop("test_it.py::test_z[2]")  # see below
    pair.parametrized_outcomes.pop("test_it.py::test_z[2]")
    pair.assert_same(
        "ScopeMismatch: You tried to access the function scoped fixture per_test with a class "
        "scoped request object. Requesting fixture stack:",
        "test_it.py:*:  def needs_function(per_test)",
        "test_it.py:*:  def per_test()",
        # pytest-asyncio's fixture of the function-scoped loop: 1.3-1.5 _function_scoped_runner,
        # 1.0 _function_event_loop.
        "ScopeMismatch: You tried to access the function scoped fixture _function_* "
        "with a class scoped request object. Requesting fixture stack:",
        "ERROR test_it.py::test_y[[]1[]] - Failed: ScopeMismatch: You tried to access the *",
        # (pytest-asyncio 1.5's own setup of the twin's next test then fails an assertion.)
        "ERROR test_it.py::test_z[[]1[]] - Failed: ScopeMismatch: You tried to access the *",
    )
    assert len(pair.parametrized_outcomes) == 3, pair.parametrized_outcomes
    assert "hidden" not in pair.concurrent.stdout.str(), pair._both()


# A class-scoped fixture set up per case (a test outside any class) is set up before the
# function-scoped ones and torn down after them, whatever the order of the test's arguments
# (findings-t8 F2), as pytest orders fixtures by scope.
CLASS_FIRST = """
LOG = []


@pytest.fixture
def fn():
    LOG.append("fn up")
    yield
    LOG.append("fn down")


@pytest.fixture(scope="class")
def cres():
    LOG.append("cls up")
    yield
    LOG.append("cls down")


@cases("n", [0])
async def test_o(n, fn, cres):
    LOG.append("body")


def test_check():
    assert LOG == ["cls up", "fn up", "body", "fn down", "cls down"], LOG
"""

_SCOPED = re.compile(r" *(SETUP|TEARDOWN) +([CF] (?:fn|cres|n\[0\]))")


def test_a_class_scoped_fixture_set_up_per_case_comes_first(differential: Differential) -> None:
    pair = differential.run(CLASS_FIRST, "--setup-show", "-p", "no:xdist")
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::test_check"] == ["passed"], pair._both()

    def shown(result: pytest.RunResult) -> list[str]:
        return [" ".join(m.groups()) for m in map(_SCOPED.match, result.outlines) if m]

    assert shown(pair.concurrent) == shown(pair.parametrized), pair._both()


# --------------------------------------------------------------------------------------------
# getfixturevalue in plain def cases, which run in threads side by side (trial of 2026-12-02)


def test_getfixturevalue_in_def_cases_at_once_is_as_in_their_tests(
    differential: Differential,
) -> None:
    # Four threads ask for one module fixture at the same time: it is set up once, as for the
    # parametrized tests (pytest's fixture machinery, in two threads at once, failed cases
    # with its own AssertionError, or on pytest 8 set the fixture up once per case); tmp_path
    # is made for each (two threads making theirs at once failed); a fixture's skip is placed
    # at the test.
    pair = differential.run(
        """
        import pathlib, time

        @pytest.fixture(scope="module")
        def server():
            with pathlib.Path("set-up.txt").open("a") as file:
                file.write("server\\n")
            time.sleep(0.3)  # the other cases ask for it meanwhile
            return "up"

        @pytest.fixture
        def device():
            pytest.skip("no device")

        @cases("n", [1, 2, 3, 4, 5, 6])
        def test_x(n, request):
            assert request.getfixturevalue("server") == "up"
            assert request.getfixturevalue("tmp_path").is_dir()
            if n == 6:
                request.getfixturevalue("device")
        """,
        "-rs",
    )
    pair.assert_same()
    pair.assert_same_short_summary()
    assert pair.concurrent_outcomes["test_it.py::test_x[1]"] == ["passed"]
    for folder in ("concurrent", "parametrized"):
        assert (differential.pytester.path / folder / "set-up.txt").read_text() == "server\n"


def test_a_def_cases_getfixturevalue_is_under_its_timeout_and_none_is_left_set_up(
    pytester: pytest.Pytester,
) -> None:
    # The case's own fixture is set up in its thread, as its body's code: the case's timeout
    # cuts it off (set up on the loop's thread, it held the loop and the case passed). The
    # fixture ends its setup after the case was stopped and torn down: it is torn down then,
    # in the thread, and the body gets no more fixtures.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import pathlib, time
        import pytest
        from asyncgroup import concurrent_cases

        def note(line):
            with pathlib.Path("log.txt").open("a") as file:
                file.write(line + "\\n")

        @pytest.fixture
        def device():
            time.sleep(2.5)  # past the timeout and the grace the thread then gets
            yield
            note("device torn down")

        @pytest.fixture
        def other():
            note("other set up")

        @concurrent_cases("n", [1], timeout=0.5)
        def test_x(n, request):
            request.getfixturevalue("tmp_path")  # torn down before device has ended its setup
            request.getfixturevalue("device")
            request.getfixturevalue("other")

        @concurrent_cases("n", [1], timeout=30)
        def test_y(n, request, tmp_path):
            assert request.getfixturevalue("tmp_path") == tmp_path  # on the loop's thread
            request.getfixturevalue("other")  # in the case's thread (it raised: no loop there)

        def test_after():
            deadline = time.monotonic() + 30
            while "torn down" not in pathlib.Path("log.txt").read_text():
                assert time.monotonic() < deadline, "the late fixture was never torn down"
                time.sleep(0.05)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-rf", timeout=60)
    result.stdout.fnmatch_lines(
        [
            ">       time.sleep(2.5)*",
            "E       asyncgroup.CaseTimeoutError: Timeout (>0.5s)*",
            "FAILED test_*.py::test_x[[]1[]]*",
            "*= 1 failed, 1 passed, 1 subtests passed in *",
        ]
    )
    lines = (pytester.path / "log.txt").read_text().splitlines()
    assert sorted(lines) == ["device torn down", "other set up"]  # test_x's "other": not set up
