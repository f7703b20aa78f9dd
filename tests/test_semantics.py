"""A case behaves as the parametrized test it stands for: session exits, errors, counts, misuse.

Most tests here are differential (tests/differential.py): the same test runs as
``@concurrent_cases`` and as ``@pytest.mark.parametrize``, and the parametrized run is the
right value.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from differential import Differential, _counts

from tests.conftest import PYTEST_MAJOR, summary

# --------------------------------------------------------------------------------------------
# pytest.exit() in a case


@pytest.mark.parametrize("where", ["body", "teardown"])
def test_pytest_exit_in_a_case_stops_the_session(differential: Differential, where: str) -> None:
    source = f"""
        @pytest.fixture
        def resource():
            yield
            print("resource torn down")
            if {where == "teardown"!r}:
                pytest.exit("stop from teardown")

        def test_before():
            pass

        @cases("kind", ["stopper"])
        async def test_x(kind, resource):
            if {where == "body"!r}:
                pytest.exit("stop from body")

        def test_after():
            pass
    """
    pair = differential.run(source, "-s")
    pair.assert_same(f"!!!*Exit: stop from {where} !!!*", "*resource torn down*")
    assert pair.concurrent.ret == pytest.ExitCode.INTERRUPTED
    assert "test_it.py::test_after" not in pair.concurrent_outcomes


def test_pytest_exit_cancels_the_other_cases_after_their_teardown(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.fixture
        def resource(request):
            yield
            print("torn down", request.param if hasattr(request, "param") else "")

        @concurrent_cases(["stopper", "sleeper"])
        async def test_x(kind, resource):
            if kind == "stopper":
                await asyncio.sleep(0.05)
                pytest.exit("abort")
            await asyncio.sleep(30)

        def test_after():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-v", "-s", "-rs", timeout=60)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert result.stdout.str().count("torn down") == 2
    result.stdout.fnmatch_lines(["*cancelled: pytest.exit: abort*", "!!!*Exit: abort !!!*"])
    result.stdout.no_fnmatch_line("*test_after*")


# --------------------------------------------------------------------------------------------
# Misuse in unusual places


def test_unittest_method_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import unittest
        from asyncgroup import concurrent_cases

        class TestOrders(unittest.IsolatedAsyncioTestCase):
            @concurrent_cases(range(3))
            async def test_orders(self, n):
                pass
        """
    )
    result = pytester.runpytest_subprocess(timeout=60)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting*",
            "In TestOrders.test_orders: @concurrent_cases does not work on a method of a "
            "unittest.TestCase class*put the test in a plain class*",
        ]
    )
    result.stdout.no_fnmatch_line("*request*")


def test_without_pytest_asyncio_a_parent_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from asyncgroup import concurrent_cases

        @concurrent_cases(range(3))
        def test_blocking(n):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:asyncio", timeout=60)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["In test_blocking: @concurrent_cases runs its cases in pytest-asyncio's event loop*"]
    )
    result.stdout.no_fnmatch_line("*not natively supported*")


def test_refusals_show_the_users_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        from asyncgroup import concurrent_cases

        class Config:
            url = "prod"

        @concurrent_cases(["a", "b"])
        async def test_patch(name, monkeypatch):
            monkeypatch.setattr(Config, "url", name)
            await asyncio.sleep(0.1)
        """
    )
    result = pytester.runpytest_subprocess(timeout=60)
    result.stdout.fnmatch_lines(
        ['>       monkeypatch.setattr(Config, "url", name)', "E       *Failed: asyncgroup: *"]
    )
    result.stdout.no_fnmatch_line("*asyncgroup/_builtins.py*")
    result.stdout.no_fnmatch_line("*self._claims.take*")


# --------------------------------------------------------------------------------------------
# Counts and short summary lines


OUTCOMES = """
    @cases("name", ["skipped", "xfailed", "passed", "failed", "skipped-too"])
    async def test_x(name):
        if name.startswith("skipped"):
            pytest.skip(f"not today: {name}")
        if name == "xfailed":
            pytest.xfail("known bug")
        assert name != "failed"
"""


@pytest.mark.parametrize("verbosity", ["-q", "", "-v"])
def test_every_case_is_counted_at_every_verbosity(
    differential: Differential, verbosity: str
) -> None:
    pair = differential.run(OUTCOMES, "-rA", *[verbosity] * bool(verbosity))
    pair.assert_same()
    concurrent, parametrized = pair.concurrent, pair.parametrized
    counts = summary(concurrent)
    # "subtests passed" counts the passing case; the parent, whose failure only sums up its
    # cases', is not counted.
    assert counts == {"failed": 1, "skipped": 2, "xfailed": 1, "subtests passed": 1}
    assert summary(parametrized) == {"failed": 1, "passed": 1, "skipped": 2, "xfailed": 1}
    # The -r lines of the cases read as the parametrized test's.
    for line in [
        "SKIPPED [[]1[]] test_it.py:*: not today: skipped",
        "SKIPPED [[]1[]] test_it.py:*: not today: skipped-too",
        "FAILED test_it.py::test_x[[]failed[]] - AssertionError: assert 'failed' != 'failed'",
        "XFAIL test_it.py::test_x[[]xfailed[]] - known bug",
    ]:
        concurrent.stdout.fnmatch_lines([line])
        parametrized.stdout.fnmatch_lines([line])


def test_cancelled_cases_are_counted_and_labelled_at_default_verbosity(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases(["fails", "slow1", "slow2"])
        async def test_x(kind):
            if kind == "fails":
                await asyncio.sleep(0.1)
                assert False
            await asyncio.sleep(30)
        """
    )
    result = pytester.runpytest_subprocess("-x", "-rs", timeout=60)
    assert summary(result) == {"failed": 1, "skipped": 2}
    result.stdout.fnmatch_lines(["SKIPPED [[]2[]] *: cancelled: stopping after 1 failures"])


# --------------------------------------------------------------------------------------------
# The parent's summing-up failure, the debugger and warnings as errors

FAILING = """
    @cases("n", [0, 1, 2, 3])
    async def test_x(n):
        await asyncio.sleep(0.01)
        assert n % 2 == 0
"""


def test_tb_line_points_at_the_cases_and_the_test(differential: Differential) -> None:
    pair = differential.run(FAILING, "--tb=line")
    pair.assert_same("*test_it.py:*: assert (1 % 2) == 0")
    pair.concurrent.stdout.fnmatch_lines(["*test_it.py:*: Failed: 2 of 4 cases failed: 1, 3"])
    assert "base_events" not in pair.concurrent.stdout.str()


@pytest.mark.parametrize("mode", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_failing_case_is_headed_by_its_name(differential: Differential, mode: list[str]) -> None:
    differential.run(FAILING, *mode).assert_same("*_ test_x[[]1[]] _*", ">*assert n % 2 == 0")


def test_pdb_opens_once_per_failing_case_and_not_for_the_parent(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_dbg="""
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases(range(4))
        async def test_dbg(n):
            await asyncio.sleep(0.01)
            assert n % 2 == 0
        """
    )
    result = pytester.run(
        sys.executable,
        "-m",
        "pytest",
        "--pdb",
        "-p",
        "no:cacheprovider",
        "test_dbg.py",
        stdin=b"p n\nc\np n\nc\nc\nc\n",
        timeout=60,
    )
    output = result.stdout.str()
    assert output.count("entering PDB") == 2, output
    result.stdout.fnmatch_lines(["-> assert n % 2 == 0", "(Pdb) 1", "*", "(Pdb) 3"])
    assert "base_events" not in output
    result.stdout.fnmatch_lines(["*FAILED test_dbg.py::test_dbg - Failed: 2 of 4 cases failed*"])


def test_warning_as_error_fails_the_case_that_blocked_the_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_w="""
        import asyncio
        import time
        from asyncgroup import concurrent_cases

        @concurrent_cases(["order-1", "order-2"])
        async def test_blocking(order):
            await asyncio.sleep(0.05)
            if order == "order-2":
                time.sleep(0.8)
        """
    )
    result = pytester.runpytest_subprocess("-W", "error::asyncgroup.AsyncgroupWarning", timeout=60)
    result.stdout.fnmatch_lines(
        [
            "E *AsyncgroupWarning: case 'order-2': the case blocked the event loop for at least "
            "* s at *test_w.py:9: "
            "time.sleep(0.8)",
            "FAILED *::test_blocking[[]order-2[]] - asyncgroup.AsyncgroupWarning: *",
            "FAILED *::test_blocking - Failed: 1 of 2 cases failed: order-2",
        ]
    )


# --------------------------------------------------------------------------------------------
# request.getfixturevalue() inside a case


def test_getfixturevalue_gives_each_case_its_own_function_fixture(
    differential: Differential,
) -> None:
    source = """
        MADE = []

        @pytest.fixture
        def conn(tmp_path):
            MADE.append(tmp_path)
            yield tmp_path
            print(f"conn torn down: {tmp_path.name}")

        @cases("name", ["a", "b", "c"])
        async def test_x(name, request):
            conn = request.getfixturevalue("conn")
            await asyncio.sleep(0.05)
            assert conn is request.getfixturevalue("conn")
            assert MADE.count(conn) == 1

        def test_each_case_had_its_own():
            assert len(set(MADE)) == 3
    """
    pair = differential.run(source, "-s")
    pair.assert_same()
    assert pair.concurrent_outcomes["test_it.py::test_each_case_had_its_own"] == ["passed"]
    assert pair.concurrent.stdout.str().count("conn torn down") == 3


@pytest.mark.parametrize(
    ("kind", "where"),
    [
        ("async def", "while the case runs in the event loop"),
        ("def", "from the thread a plain def case runs in"),
    ],
)
def test_getfixturevalue_of_an_async_fixture_is_a_clear_error(
    pytester: pytest.Pytester, kind: str, where: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest_asyncio
        from asyncgroup import concurrent_cases

        @pytest_asyncio.fixture
        async def session():
            return "session"

        @concurrent_cases(["a"])
        {kind} test_case(name, request):
            request.getfixturevalue("session")
        """
    )
    result = pytester.runpytest_subprocess(timeout=60)
    result.stdout.fnmatch_lines(
        [
            '>       request.getfixturevalue("session")',
            "E       *UsageError: asyncgroup: case 'a': request.getfixturevalue('session') "
            f"cannot set up the async fixture 'session' {where}; "
            "request 'session' as an argument*",
        ]
    )
    result.stdout.no_fnmatch_line("*Runner.run()*")


# --------------------------------------------------------------------------------------------
# Nested subtests inside a case


def test_subtests_in_a_case_belong_to_the_case(differential: Differential) -> None:
    source = """
        @cases("name", ["n1", "n2"])
        async def test_steps(name, subtests):
            print(f"before the steps of {name}")
            for step in ("connect", "send"):
                with subtests.test(msg=step, name=name):
                    print(f"in step {step} of {name}")
                    await asyncio.sleep(0.01 if name == "n1" else 0.02)
                    assert not (name == "n2" and step == "send"), "send failed"
            assert name != "n1", "n1 fails after its steps"
    """
    pair = differential.run(source, "-v", "-rA", "--junitxml=out.xml")
    pair.assert_same()
    # Steps, then the case: on pytest 9 the case with a failed step fails, as its parametrized
    # test; pytest 8 with pytest-subtests lets it pass.
    assert pair.concurrent_outcomes["test_it.py::test_steps[n2]"] == [
        "passed",
        "failed",
        "failed" if PYTEST_MAJOR >= 9 else "passed",
    ]
    for run in (pair.concurrent, pair.parametrized):
        run.stdout.fnmatch_lines(
            ["*_ test_steps[[]n2[]] [[]send[]] (name='n2') _*", "*AssertionError: send failed"]
        )
        # Each step's report has what the step wrote, and only that.
        run.stdout.fnmatch_lines(["*- Captured stdout call -*", "in step send of n2"])
        run.stdout.fnmatch_lines(["before the steps of n1"])
        run.stdout.no_fnmatch_line("in step connect of n1")
    junit = (differential.pytester.path / "concurrent" / "out.xml").read_text()
    assert 'name="test_steps[n2]"' in junit


def test_subtests_in_a_plain_def_case(differential: Differential) -> None:
    source = """
        import time

        @cases("name", ["n1", "n2"])
        def test_steps(name, subtests):
            for step in ("connect", "send"):
                with subtests.test(msg=step):
                    time.sleep(0.01)
                    assert not (name == "n2" and step == "send"), "send failed"
    """
    pair = differential.run(source)
    pair.assert_same()
    assert pair.concurrent_outcomes["test_it.py::test_steps[n2]"][:2] == ["passed", "failed"]


# --------------------------------------------------------------------------------------------
# Warnings: pytest.warns, recwarn and catch_warnings in overlapping cases

WARNS = """
    import time
    import warnings

    def old_api(name):
        warnings.warn(f"{name} api is deprecated", DeprecationWarning, stacklevel=2)

    @cases("kind", ["first", "second"])
    async def test_async(kind):
        if kind == "second":
            await asyncio.sleep(0.05)  # enters pytest.warns after "first", leaves after it
        with pytest.warns(DeprecationWarning, match=kind):
            await asyncio.sleep(0.1 if kind == "first" else 0.2)
            old_api(kind)

    @cases("kind", ["first", "second"])
    def test_threads(kind):
        if kind == "second":
            time.sleep(0.05)
        with pytest.deprecated_call(match=kind):
            time.sleep(0.1 if kind == "first" else 0.2)
            old_api(kind)

    @cases("kind", ["first", "second", "third"])
    async def test_recwarn(kind, recwarn):
        await asyncio.sleep(0.01 * len(kind))
        warnings.warn(kind, UserWarning)
        await asyncio.sleep(0.05)
        assert [str(w.message) for w in recwarn] == [kind]

    @cases("kind", ["records", "ignores", "plain"])
    async def test_filters(kind):
        if kind == "records":
            with pytest.warns(UserWarning, match="records") as record:
                await asyncio.sleep(0.1)
                warnings.warn("records", UserWarning)
            assert len(record) == 1
        elif kind == "ignores":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                await asyncio.sleep(0.05)
                warnings.warn("ignored", UserWarning)
                await asyncio.sleep(0.1)
        else:
            await asyncio.sleep(0.05)
            warnings.warn("plain", UserWarning)  # an error under -W error:plain:UserWarning
"""


@pytest.mark.parametrize(
    "option", [[], ["-W", "error:plain:UserWarning"]], ids=["default", "Werror"]
)
def test_warnings_are_recorded_per_case(differential: Differential, option: list[str]) -> None:
    pair = differential.run(WARNS, "-v", *option)
    pair.assert_same()
    outcomes = pair.concurrent_outcomes
    assert outcomes["test_it.py::test_async[second]"] == ["passed"]
    assert outcomes["test_it.py::test_threads[second]"] == ["passed"]
    assert outcomes["test_it.py::test_filters[plain]"] == ["failed" if option else "passed"]
    assert outcomes["test_it.py::test_filters[ignores]"] == ["passed"]


REPEATS = """
    import warnings

    def legacy_api():
        warnings.warn("legacy_api is deprecated", UserWarning)  # the "default" action

    @pytest.fixture
    def warny():
        warnings.warn("from fixture", UserWarning)

    @pytest.mark.filterwarnings("module::FutureWarning", "once::RuntimeWarning")
    @cases("n", [1, 2, pytest.param(3, marks=pytest.mark.filterwarnings("ignore:from fixture"))])
    async def test_w(n, warny):
        await asyncio.sleep(0.01 * n)
        legacy_api()
        legacy_api()  # a repeat at the same line: shown once per test
        warnings.warn("module-wide", FutureWarning)
        warnings.warn("module-wide", FutureWarning)  # "module": once per module, per test
        warnings.warn("process-wide", RuntimeWarning)
        warnings.warn("process-wide", RuntimeWarning)  # "once": once per test
        await asyncio.sleep(0.05)
        legacy_api()
"""


def warnings_summary(result: pytest.RunResult) -> list[tuple[str, list[str]]]:
    """Each warning of pytest's warnings summary (its lines, without the project folder) with
    the node ids listed above it, sorted."""
    text = result.stdout.str()
    start = text.index("warnings summary ===")
    lines = text[start:].splitlines()[1:]
    found, nodeids, message = [], [], []
    for line in lines:
        if line.startswith(("-- Docs", "=")) or not line.strip():
            if message:
                found.append(("\n".join(message), sorted(nodeids)))
                nodeids, message = [], []
            if not line.strip():
                continue
            break
        if line.startswith(" "):
            message.append(re.sub(r"/(concurrent|parametrized)/", "/", line.strip()))
        else:
            nodeids.append(line)
    return sorted(found)


@pytest.mark.parametrize("option", [[], ["-n", "2"]], ids=["", "xdist"])
def test_a_warning_repeated_by_each_case_is_filed_for_each(
    differential: Differential, option: list[str]
) -> None:
    """The "default", "module" and "once" actions show a warning once per test (pytest's
    catch_warnings per test resets the registries): each case's first is filed for it, its
    repeats are not, as for the parametrized tests (findings-t7 F2)."""
    pair = differential.run(REPEATS, *option)
    pair.assert_same()
    pair.assert_same_counts()
    assert _counts(pair.parametrized)["warning"] == 11
    summary_ = warnings_summary(pair.concurrent)
    assert summary_ == warnings_summary(pair.parametrized), pair._both()
    listed = {message.splitlines()[0].split(": ", 1)[1]: nodeids for message, nodeids in summary_}
    every = [f"test_it.py::test_w[{n}]" for n in (1, 2, 3)]
    assert listed["UserWarning: legacy_api is deprecated"] == every
    assert listed["UserWarning: from fixture"] == every[:2]


def test_an_unknown_mark_added_in_a_case_warns_as_for_its_test(differential: Differential) -> None:
    """``request.node.add_marker("name")`` of an unregistered mark: pytest's warning, filed for
    each case, at the line pytest's own add_marker gives it (findings-t7 F2)."""
    source = """
        @pytest.fixture
        def tagged(request):
            request.node.add_marker("unknown_tag")

        @cases("n", [1, 2])
        async def test_x(n, tagged):
            await asyncio.sleep(0.01)
    """
    pair = differential.run(source)
    pair.assert_same()
    pair.assert_same_counts()
    summary_ = warnings_summary(pair.concurrent)
    assert summary_ == warnings_summary(pair.parametrized), pair._both()
    assert [nodeids for _, nodeids in summary_] == [
        ["test_it.py::test_x[1]", "test_it.py::test_x[2]"]
    ]
    assert "PytestUnknownMarkWarning: Unknown pytest.mark.unknown_tag" in summary_[0][0]


RETURNS = """
    import time

    @cases("n", [1, 2, 0])
    def test_x(n):
        time.sleep(0.05)
        return n or None  # case 0 returns None

    @cases("n", [1])
    async def test_async(n):  # pytest-asyncio gives an async test that returns no warning
        return n
"""


@pytest.mark.parametrize(
    "option",
    [[], ["-n", "2"], ["-W", "error::pytest.PytestReturnNotNoneWarning"]],
    ids=["", "xdist", "Werror"],
)
def test_a_plain_def_case_that_returns_a_value_warns_as_its_test(
    differential: Differential, option: list[str]
) -> None:
    """pytest's PytestReturnNotNoneWarning for a test that returns a value, with the case's
    node id, filed under the case; under -W error it fails the case. A plain def case got
    none: its thread's return value was dropped (found by a user trial)."""
    # The parametrized header marks every test asyncio, which pytest-asyncio warns of on a def.
    differential.ini_lines.append(
        "filterwarnings = ignore:The test <Function test_x.* is not an async function"
    )
    pair = differential.run(RETURNS, "-rA", *option)
    pair.assert_same(
        "*Test functions should return None, but test_it.py::test_x[[]1[]] returned <class 'int'>.",
        "*Did you mean to use `assert` instead of `return`?",
    )
    pair.assert_same_counts()
    outcomes = pair.parametrized_outcomes
    strict = "-W" in option
    assert outcomes["test_it.py::test_x[2]"] == ["failed" if strict else "passed"]
    assert outcomes["test_it.py::test_x[0]"] == outcomes["test_it.py::test_async[1]"] == ["passed"]
    if strict:
        pair.assert_same_short_summary()
        return
    # Under the case's node id (the location differs: pytest's own line, the test's here).
    for result in (pair.concurrent, pair.parametrized):
        listed = [
            (nodeids, message.splitlines()[0].split(": ", 1)[1])
            for message, nodeids in warnings_summary(result)
        ]
        assert listed == [
            (
                [f"test_it.py::test_x[{n}]"],
                "PytestReturnNotNoneWarning: Test functions should return None, but "
                f"test_it.py::test_x[{n}] returned <class 'int'>.",
            )
            for n in (1, 2)
        ], pair._both()


def test_a_cases_malformed_filterwarnings_mark_is_pytests_usage_error(
    differential: Differential,
) -> None:
    """As pytest stops the session on a parametrized test's malformed filterwarnings mark
    before that test runs (exit code 4, its message), not failing a test; the parent failed
    (exit code 1). The parent stops before any of its cases runs, where pytest runs the
    parametrized tests before that one (here test_x[1])."""
    source = """
        bad = pytest.mark.filterwarnings("error::NoSuchWarning")

        @cases("n", [1, pytest.param(2, marks=bad), 3])
        async def test_x(n):
            await asyncio.sleep(0.01)
    """
    pair = differential.run(source)
    for result in (pair.concurrent, pair.parametrized):
        assert result.ret == pytest.ExitCode.USAGE_ERROR, pair._both()
        result.stderr.fnmatch_lines(
            [
                "ERROR: while parsing the following warning configuration:",
                "  error::NoSuchWarning",
                "*AttributeError: module 'builtins' has no attribute 'NoSuchWarning'",
            ]
        )
    assert "test_it.py::test_x[3]" not in pair.parametrized_outcomes
    assert not pair.concurrent_outcomes, pair._both()


def test_record_property_goes_to_the_cases_testcase(differential: Differential) -> None:
    source = """
        @cases("kind", ["a", "b"])
        async def test_x(kind, record_property):
            record_property("kind", kind)
            await asyncio.sleep(0.01)
    """
    differential.run(source, "--junitxml=out.xml").assert_same()
    for folder in ("concurrent", "parametrized"):
        root = ET.parse(differential.pytester.path / folder / "out.xml").getroot()
        properties = {
            case.get("name"): [(p.get("name"), p.get("value")) for p in case.iter("property")]
            for case in root.iter("testcase")
        }
        assert properties["test_x[a]"] == [("kind", "a")]
        assert properties["test_x[b]"] == [("kind", "b")]


# --------------------------------------------------------------------------------------------
# Errors reported as pytest reports them


def junit_results(path: Path) -> dict[str, tuple[str, str]]:
    """testcase name -> (failure/error/skipped, its message attribute), or ("passed", "")."""
    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        children = [c for c in case if c.tag in ("failure", "error", "skipped")]
        tag, message = (children[0].tag, children[0].get("message", "")) if children else ("", "")
        results[str(case.get("name"))] = (tag or "passed", message)
    return results


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is Python 3.11+")
def test_exception_groups_are_reported_as_for_the_parametrized_test(
    differential: Differential,
) -> None:
    source = """
        import sys
        if sys.version_info < (3, 11):
            from exceptiongroup import ExceptionGroup
            pytest.skip("asyncio.TaskGroup is Python 3.11+", allow_module_level=True)

        async def check_stock(item):
            await asyncio.sleep(0.01)
            assert item != "widget", f"no stock for {item}"

        async def skip_child():
            await asyncio.sleep(0.01)
            pytest.skip("backend offline")

        @cases("kind", ["taskgroup-fail", "taskgroup-skip", "raised-from", "ok", "plain"])
        async def test_groups(kind):
            if kind == "taskgroup-fail":
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(check_stock("gadget"))
                    tg.create_task(check_stock("widget"))
            elif kind == "taskgroup-skip":
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(skip_child())
            elif kind == "raised-from":
                try:
                    raise RuntimeError("original cause")
                except RuntimeError as exc:
                    raise ExceptionGroup("group", [ValueError("inner")]) from exc
            elif kind == "plain":
                raise KeyError("plain")
    """
    pair = differential.run(source, "-rA", "--junitxml=out.xml")
    pair.assert_same(
        "FAILED test_it.py::test_groups[[]taskgroup-fail[]] - AssertionError(*",
        "FAILED test_it.py::test_groups[[]raised-from[]] - ValueError('inner')*",
        "FAILED test_it.py::test_groups[[]plain[]] - KeyError: 'plain'",
    )
    # pytest 9 reports a group of nothing but skips as a skip; pytest 8 as a failure.
    assert pair.concurrent_outcomes["test_it.py::test_groups[taskgroup-skip]"] == [
        "skipped" if PYTEST_MAJOR >= 9 else "failed"
    ]
    concurrent_junit = junit_results(differential.pytester.path / "concurrent" / "out.xml")
    parametrized_junit = junit_results(differential.pytester.path / "parametrized" / "out.xml")
    for name, result in parametrized_junit.items():
        assert concurrent_junit[name] == result, name


# --------------------------------------------------------------------------------------------
# caplog levels: process-wide loggers shared by overlapping cases

CAPLOG_LEVELS = """
    import logging

    log = logging.getLogger("app")

    @cases("name", ["a", "b", "c"])
    async def test_levels(name, caplog):
        caplog.set_level(logging.DEBUG, logger="app")
        await asyncio.sleep(0.02 * len(name) if name != "a" else 0.01)
        with caplog.at_level(logging.DEBUG, logger="app"):
            await asyncio.sleep(0.02)
        log.debug("debug from %s", name)  # DEBUG: the level stays while any case holds it
        assert caplog.messages == [f"debug from {name}"]

    def test_level_is_restored():
        assert logging.getLogger("app").level == logging.NOTSET
"""


def test_caplog_levels_are_shared_while_equal(differential: Differential) -> None:
    pair = differential.run(CAPLOG_LEVELS)
    pair.assert_same()
    assert {o for outcomes in pair.concurrent_outcomes.values() for o in outcomes} == {"passed"}


# One case lowers a level with caplog; the others, which set none, log meanwhile (findings-mem5
# F6): each case's report and caplog have what its parametrized test would have logged.
CAPLOG_LOWERED_BY_ANOTHER = """
    import logging

    log = logging.getLogger("app.db")

    def log_all(name, caplog):
        log.debug("debug from %s", name)
        log.info("info from %s", name)
        log.warning("warning from %s", name)
        print("MESSAGES", name, caplog.messages)

    @cases("name", ["lowers", "root", "quiet"])
    async def test_levels(name, caplog):
        if name == "lowers":  # the "app" logger at DEBUG for all of its time
            caplog.set_level(logging.DEBUG, logger="app")
            await asyncio.sleep(0.4)
            log_all(name, caplog)
        elif name == "root":  # the root logger at INFO meanwhile
            with caplog.at_level(logging.INFO):
                await asyncio.sleep(0.4)
                log_all(name, caplog)
        else:  # while both hold theirs
            await asyncio.sleep(0.2)
            log_all(name, caplog)
"""


def test_a_level_another_case_lowered_does_not_reach_a_cases_records(
    differential: Differential,
) -> None:
    pair = differential.run(
        CAPLOG_LOWERED_BY_ANOTHER, "-rA", "-p", "no:xdist", "--log-file=run.log"
    )
    messages = [
        "MESSAGES lowers ['debug from lowers', 'info from lowers', 'warning from lowers']",
        "MESSAGES root ['info from root', 'warning from root']",
        "MESSAGES quiet ['warning from quiet']",
    ]
    pair.assert_same(*(line.replace("[", "[[]") for line in messages))  # fnmatch's [
    for result in (pair.concurrent, pair.parametrized):  # nor in its report's captured log
        assert not any(
            "debug from quiet" in line or "info from quiet" in line for line in result.outlines
        ), pair._both()
    logged = [
        (differential.pytester.path / folder / "run.log").read_text().splitlines()
        for folder in ("concurrent", "parametrized")
    ]
    assert any("warning from quiet" in line for line in logged[0]), logged
    assert sorted(line.split()[-3:] for line in logged[0]) == sorted(
        line.split()[-3:] for line in logged[1]
    ), logged  # pytest's log file: the same records ("info from root", ...), in any order


# The "no ERROR logged" fixture (get_records in its teardown), and the rest of pytest's
# LogCaptureFixture API, per case while the cases overlap (findings-cases4 N).
CAPLOG_API = """
    import logging

    app = logging.getLogger("app")

    @pytest.fixture(autouse=True)
    def no_errors(caplog):
        app.info("setup rec")
        yield
        app.info("teardown rec")
        phases = [caplog.get_records(when) for when in ("setup", "call", "teardown")]
        print("PHASES", [[r.getMessage() for r in records] for records in phases])
        errors = [r.getMessage() for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
        assert not errors, errors

    @cases("n", [1, 2, 3])
    async def test_x(n, caplog):
        await asyncio.sleep(0.02 * (3 - n))
        app.warning("w%s", n)
        if n == 2:
            app.error("bad%s", n)
        await asyncio.sleep(0.01)
        assert isinstance(caplog.handler, logging.Handler)
        assert caplog.handler.records is caplog.records is caplog.get_records("call")
        with caplog.filtering(logging.Filter("other")):
            app.warning("filtered from caplog, not from the report %s", n)
        app.debug("below log_level %s", n)
        caplog.set_level(logging.DEBUG, logger="app")
        app.debug("debug for caplog only %s", n)
        with caplog.at_level(logging.ERROR):
            app.warning("below at_level %s", n)
        app.info("after at_level %s", n)
        print("CALL", n, caplog.messages, caplog.record_tuples[0], caplog.text.splitlines()[0])
        if n != 2:  # its ERROR stays for the teardown to find
            caplog.clear()
            await asyncio.sleep(0.01)
            app.info("after clear %s", n)
            print("CLEARED", n, caplog.messages, caplog.text.splitlines())
"""


def test_a_cases_caplog_has_pytests_whole_api(differential: Differential) -> None:
    """get_records(when), handler, filtering, and levels and clear() that act on the case's
    caplog only, not on its report, as pytest's; the case whose call logged an ERROR errors at
    teardown, the others pass."""
    pair = differential.run(CAPLOG_API, "-rA", "-o", "log_level=INFO", "-p", "no:xdist")
    calls = [
        f"CALL {n} {messages} ('app', 30, 'w{n}') WARNING  app:test_it.py:* w{n}"
        for n, messages in (
            (1, ["w1", "debug for caplog only 1", "after at_level 1"]),
            (2, ["w2", "bad2", "debug for caplog only 2", "after at_level 2"]),
            (3, ["w3", "debug for caplog only 3", "after at_level 3"]),
        )
    ]
    cleared = [
        f"CLEARED {n} ['after clear {n}'] ['INFO     app:test_it.py:* after clear {n}']"
        for n in (1, 3)
    ]
    phases = [
        "PHASES [['setup rec'], ['w2', 'bad2', 'debug for caplog only 2', 'after at_level 2'], "
        "['teardown rec']]",
        "PHASES [['setup rec'], ['after clear 3'], ['teardown rec']]",
    ]
    pair.assert_same(
        *(line.replace("[", "[[]") for line in [*calls, *cleared, *phases]),  # fnmatch's [
        "E   *AssertionError: [[]'bad2']",
        "WARNING  app:test_it.py:* filtered from caplog, not from the report 2",
        "WARNING  app:test_it.py:* below at_level 3",
    )
    assert pair.parametrized_outcomes["test_it.py::test_x[2]"] == ["passed", "error"]
    for result in (pair.concurrent, pair.parametrized):  # the report keeps to log_level
        assert not any(line.startswith("DEBUG") for line in result.outlines), pair._both()


# Overlapping cases each set their own level, on a logger and on its ancestor.
CAPLOG_OWN_LEVELS = """
    import logging

    log = logging.getLogger("app.db")

    @cases("name", ["root-debug", "app-info", "app-error", "none"])
    async def test_levels(name, caplog):
        if name == "root-debug":
            caplog.set_level(logging.DEBUG)
        elif name == "app-info":
            caplog.set_level(logging.INFO, logger="app")
        elif name == "app-error":
            caplog.set_level(logging.ERROR, logger="app")
        await asyncio.sleep(0.2)  # all four hold theirs now
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
            log.log(level, "%s at %s", name, logging.getLevelName(level))
        print("MESSAGES", name, [message.split()[-1] for message in caplog.messages])

    def test_levels_are_restored():
        assert logging.getLogger("app").level == logging.NOTSET
        assert logging.getLogger().level == logging.WARNING
"""


def test_overlapping_cases_each_get_the_records_of_their_own_caplog_levels(
    differential: Differential,
) -> None:
    """Each case's caplog and report have what its own levels let through, whatever level
    another running case set on the same logger or its ancestor (these were refused)."""
    pair = differential.run(CAPLOG_OWN_LEVELS, "-rA", "-p", "no:xdist")
    messages = [
        "MESSAGES root-debug ['DEBUG', 'INFO', 'WARNING', 'ERROR']",
        "MESSAGES app-info ['INFO', 'WARNING', 'ERROR']",
        "MESSAGES app-error ['ERROR']",
        "MESSAGES none ['WARNING', 'ERROR']",
    ]
    pair.assert_same(*(line.replace("[", "[[]") for line in messages))  # fnmatch's [
    assert set(pair.concurrent_outcomes["test_it.py::test_levels_are_restored"]) == {"passed"}
    for result in (pair.concurrent, pair.parametrized):  # nor in the reports' captured logs
        assert not any(
            re.search(r"(none|app-error) at (DEBUG|INFO)|app-info at DEBUG", line)
            for line in result.outlines
        ), pair._both()
