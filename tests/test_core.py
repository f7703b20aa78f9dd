"""The core: cases run concurrently, each reported as a subtest of one parent test.

Every test writes a small test file, runs pytest on it in a subprocess, and checks what a user
sees: the -v lines, the failure sections, the summary counts and the exit code.
"""

from __future__ import annotations

import re
import sys
import textwrap
import time
from importlib.metadata import version

import pytest

from tests.conftest import PYTEST_MAJOR, ctrl_c, subtest_line, summary

_PYTEST_ASYNCIO = tuple(int(part) for part in re.findall(r"\d+", version("pytest-asyncio"))[:2])

# --------------------------------------------------------------------------------------------
# Helpers


def case_ids(result: pytest.RunResult, test_name: str, outcome: str = "PASSED") -> list[str]:
    """The bracketed part of the case nodeids of ``test_name`` in the -v lines with this
    outcome, sorted: the case id, or ``p-caseid`` under a parametrized parent."""
    name = re.escape(test_name)
    if PYTEST_MAJOR >= 9:
        pattern = re.compile(rf"::{name}\[(.+?)\] SUB{outcome}\[")
    else:
        short = {"PASSED": "PASS", "FAILED": "FAIL", "SKIPPED": "SKIP"}[outcome]
        pattern = re.compile(rf"::{name}\[(.+?)\] \[.*\] SUB{short}\b")
    return sorted(m.group(1) for line in result.outlines if (m := pattern.search(line)))


def item_ids(result: pytest.RunResult, test_name: str) -> list[str]:
    """The parametrize ids of the ordinary test ``test_name`` in the -v PASSED lines, sorted."""
    pattern = re.compile(rf"::{re.escape(test_name)}\[(.+)\] PASSED")
    return sorted(m.group(1) for line in result.outlines if (m := pattern.search(line)))


def failure_section(result: pytest.RunResult, title: str) -> list[str]:
    """The lines of one entry of the FAILURES section, e.g. title ``test_out [a]``.

    A case's entry is headed as its parametrized test's, ``test_out[a]``: spaces are ignored.
    """
    header = re.compile(r"^_{2,} (.*) _{2,}$")
    lines = result.outlines
    starts = [
        i
        for i, line in enumerate(lines)
        if (m := header.match(line)) and m.group(1).replace(" ", "") == title.replace(" ", "")
    ]
    assert starts, f"no FAILURES entry {title!r} in:\n" + "\n".join(lines)
    start = starts[0]
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if header.match(lines[i]) or lines[i].startswith("=")
        ),
        len(lines),
    )
    return lines[start + 1 : end]


def call_seconds(result: pytest.RunResult, nodeid: str) -> float:
    """How long the call of ``nodeid`` took, from the run's --durations=0 table."""
    pattern = re.compile(rf"^([\d.]+)s call +{re.escape(nodeid)}$")
    found = [float(m.group(1)) for line in result.outlines if (m := pattern.match(line))]
    assert found, f"no --durations line for {nodeid}"
    return found[0]


def write_ini(pytester: pytest.Pytester, *extra: str) -> None:
    """The conftest's ini, plus extra lines."""
    lines = "\n".join(["[pytest]", "asyncio_default_fixture_loop_scope = function", *extra])
    pytester.makeini(lines)


# --------------------------------------------------------------------------------------------
# Reporting


def test_cases_are_reported_as_subtests_and_parent_fails_when_one_fails(
    pytester: pytest.Pytester,
) -> None:
    """Each case is a subtest; one failing case fails the parent with "N of M cases failed"."""
    pytester.makepyfile(
        """
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases([1, 2, 3])
        async def test_numbers(n):
            await asyncio.sleep(0.01 * n)
            assert n != 2
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    result.stdout.fnmatch_lines(
        [
            subtest_line(
                "test_cases_are_reported_as_subtests_and_parent_fails_when_one_fails.py::test_numbers",
                "1",
                "PASSED",
            ),
        ]
    )
    result.stdout.fnmatch_lines(["*test_numbers FAILED*", "*1 of 3 cases failed: 2*"])
    assert summary(result) == {"failed": 1, "subtests passed": 2}


def test_each_case_has_its_own_nodeid_and_failure_report(pytester: pytest.Pytester) -> None:
    """Each case is a -v line with its own nodeid; a failing case has its own FAILURES entry."""
    pytester.makepyfile(
        test_mod="""
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases([1, 2, 3])
        async def test_x(n):
            await asyncio.sleep(0.01)
            assert n != 2, f"case {n} is broken"
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    result.stdout.fnmatch_lines([subtest_line("test_mod.py::test_x", "2", "FAILED")])
    assert case_ids(result, "test_x") == ["1", "3"]
    assert case_ids(result, "test_x", "FAILED") == ["2"]
    result.stdout.fnmatch_lines(["test_mod.py::test_x FAILED*"])
    section = failure_section(result, "test_x[2]")
    assert any("case 2 is broken" in line for line in section)
    assert failure_section(result, "test_x") == ["1 of 3 cases failed: 2"]
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_all_cases_passing_make_the_parent_pass(pytester: pytest.Pytester) -> None:
    """When no case fails, the parent passes and the run exits 0."""
    pytester.makepyfile(
        test_mod="""
        from asyncgroup import concurrent_cases

        @concurrent_cases(["a", "b"])
        async def test_x(s):
            assert s in "ab"
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    result.stdout.fnmatch_lines(["test_mod.py::test_x PASSED*"])
    assert summary(result) == {"subtests passed": 2}
    assert result.ret == pytest.ExitCode.OK


def test_twenty_one_second_cases_run_concurrently(pytester: pytest.Pytester) -> None:
    """20 cases of 1 s each finish far sooner than the 20 s they would take one after another
    (half of it: a wide margin for a loaded machine)."""
    pytester.makepyfile(
        test_mod="""
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases(range(20))
        async def test_x(n):
            await asyncio.sleep(1)
        """
    )
    result = pytester.runpytest_subprocess("-v", "--durations=0", timeout=60)
    elapsed = call_seconds(result, "test_mod.py::test_x")
    assert summary(result) == {"subtests passed": 20}
    assert elapsed < 10, f"20 x 1 s took {elapsed:.1f} s: not concurrent"


def test_plain_def_cases_run_concurrently_too(pytester: pytest.Pytester) -> None:
    """A plain (blocking) def test's cases run concurrently as well, each reported as a subtest:
    12 cases of 1 s each in less than half the 12 s they would take one after another."""
    pytester.makepyfile(
        test_mod="""
        import time
        from asyncgroup import concurrent_cases

        @concurrent_cases(range(12))
        def test_x(n):
            time.sleep(1)
            assert n != 3
        """
    )
    result = pytester.runpytest_subprocess("-v", "--durations=0", timeout=60)
    elapsed = call_seconds(result, "test_mod.py::test_x")
    assert case_ids(result, "test_x") == sorted(str(n) for n in range(12) if n != 3)
    assert case_ids(result, "test_x", "FAILED") == ["3"]
    assert failure_section(result, "test_x") == ["1 of 12 cases failed: 3"]
    assert elapsed < 6, f"12 x 1 s took {elapsed:.1f} s: not concurrent"


# --------------------------------------------------------------------------------------------
# Case ids: exactly as pytest.mark.parametrize makes them


IDS_SETUP = """
import enum

class Color(enum.Enum):
    RED = 1

VALUES = [
    1, 2, 1, "a", "a", None, 1.5, (1, 2), b"raw", True, "with space", "\\u00e9", Color.RED, int,
]
PAIRS = [(1, "x"), (2, "y"), (1, "x"), ("a", None), (Color.RED, 2.5)]

def idfn(value):
    return None if isinstance(value, (int, float)) else f"v-{value}"
"""


@pytest.mark.parametrize(
    ("parametrize_args", "concurrent_args", "signature"),
    [
        pytest.param('"x", VALUES', "VALUES", "x", id="values-to-first-parameter"),
        pytest.param('"x", VALUES', '"x", VALUES', "x", id="argnames-string"),
        pytest.param(
            '"x", VALUES, ids=[f"i{i % 3}" if i % 4 else None for i in range(len(VALUES))]',
            'VALUES, ids=[f"i{i % 3}" if i % 4 else None for i in range(len(VALUES))]',
            "x",
            id="ids-list-with-duplicates-and-none",
        ),
        pytest.param('"x", VALUES, ids=idfn', "VALUES, ids=idfn", "x", id="ids-callable"),
        pytest.param(
            '"x", [pytest.param(7, id="seven"), 8, pytest.param(9, id="seven"), 8]',
            '[pytest.param(7, id="seven"), 8, pytest.param(9, id="seven"), 8]',
            "x",
            id="pytest-param-id",
        ),
        pytest.param('"a, b", PAIRS', '"a, b", PAIRS', "a, b", id="two-argnames-string"),
        pytest.param('["a", "b"], PAIRS', '["a", "b"], PAIRS', "a, b", id="two-argnames-list"),
        pytest.param(
            '("a", "b"), PAIRS, ids=str',
            '("a", "b"), PAIRS, ids=str',
            "a, b",
            id="argnames-tuple-ids-str",
        ),
    ],
)
def test_case_ids_are_the_ids_parametrize_would_make(
    pytester: pytest.Pytester, parametrize_args: str, concurrent_args: str, signature: str
) -> None:
    """The same values (and ids=) give the same ids as pytest.mark.parametrize, in one run."""
    pytester.makepyfile(
        test_mod=IDS_SETUP
        + textwrap.dedent(
            f"""
            import pytest
            from asyncgroup import concurrent_cases

            @pytest.mark.parametrize({parametrize_args})
            def test_p({signature}):
                pass

            @concurrent_cases({concurrent_args})
            async def test_c({signature}):
                pass
            """
        )
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    expected = item_ids(result, "test_p")
    assert expected, "the parametrized twin reported no ids"
    assert case_ids(result, "test_c") == expected
    assert summary(result) == {"passed": len(expected), "subtests passed": len(expected)}


def test_duplicate_values_get_unique_ids_as_with_parametrize(pytester: pytest.Pytester) -> None:
    """Equal values get the suffixed ids parametrize gives them, so every case nodeid is unique."""
    pytester.makepyfile(
        test_mod="""
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.mark.parametrize("x", [1, 2, 1, 1])
        def test_p(x):
            pass

        @concurrent_cases([1, 2, 1, 1])
        async def test_c(x):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    ids = case_ids(result, "test_c")
    assert len(ids) == 4
    assert len(set(ids)) == 4
    assert ids == item_ids(result, "test_p")


def test_make_parametrize_id_hook_names_cases_too(pytester: pytest.Pytester) -> None:
    """A conftest's pytest_make_parametrize_id hook names cases as it names parametrized tests."""
    pytester.makeconftest(
        """
        def pytest_make_parametrize_id(config, val, argname):
            return f"{argname}-is-{val}" if isinstance(val, int) else None
        """
    )
    pytester.makepyfile(
        test_mod="""
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.mark.parametrize("n", [1, 2, "s"])
        def test_p(n):
            pass

        @concurrent_cases([1, 2, "s"])
        async def test_c(n):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    expected = item_ids(result, "test_p")
    assert "n-is-1" in expected
    assert case_ids(result, "test_c") == expected


# --------------------------------------------------------------------------------------------
# Stacking with parametrize, classes and other marks


@pytest.mark.parametrize("order", ["parametrize-above", "parametrize-below"])
def test_stacked_parametrize_makes_one_parent_per_param(
    pytester: pytest.Pytester, order: str
) -> None:
    """Each parametrized parent runs all cases; a case's node id is its stacked parametrized
    test's: the ids of the decorator closest to the function first."""
    parametrize = '@pytest.mark.parametrize("p", ["x", "y"])'
    cases = "@concurrent_cases([1, 2])"
    decorators = [parametrize, cases] if order == "parametrize-above" else [cases, parametrize]
    pytester.makepyfile(
        test_mod=f"""
import pytest
from asyncgroup import concurrent_cases

{decorators[0]}
{decorators[1]}
async def test_x(n, p):
    assert (p, n) != ("y", 2)
"""
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    if order == "parametrize-above":  # the cases' decorator is closest: their ids first
        assert case_ids(result, "test_x") == ["1-x", "1-y", "2-x"]
        assert case_ids(result, "test_x", "FAILED") == ["2-y"]
    else:
        assert case_ids(result, "test_x") == ["x-1", "x-2", "y-1"]
        assert case_ids(result, "test_x", "FAILED") == ["y-2"]
    result.stdout.fnmatch_lines(["test_mod.py::test_x[[]x[]] PASSED*"])
    result.stdout.fnmatch_lines(["test_mod.py::test_x[[]y[]] FAILED*"])
    assert failure_section(result, "test_x[y]") == ["1 of 2 cases failed: 2"]
    assert summary(result) == {"failed": 1, "subtests passed": 3}


def test_method_of_a_test_class_gets_self_and_class_nodeids(pytester: pytest.Pytester) -> None:
    """A method's cases run with the class instance as self and are named Class::test[case]."""
    pytester.makepyfile(
        test_mod="""
        from asyncgroup import concurrent_cases

        class TestGroup:
            factor = 10

            @concurrent_cases("n, expected", [(1, 10), (2, 20), (3, 31)])
            async def test_scaled(self, n, expected):
                assert isinstance(self, TestGroup)
                assert n * self.factor == expected
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    result.stdout.fnmatch_lines(
        [subtest_line("test_mod.py::TestGroup::test_scaled", "3-31", "FAILED")]
    )
    assert case_ids(result, "TestGroup::test_scaled") == ["1-10", "2-20"]
    assert failure_section(result, "TestGroup.test_scaled") == ["1 of 3 cases failed: 3-31"]
    assert summary(result) == {"failed": 1, "subtests passed": 2}


def test_custom_mark_on_parent_selects_it_with_dash_m(pytester: pytest.Pytester) -> None:
    """A mark stacked on a parent is its mark: -m selects the parent and all its cases run;
    the cases of the other are counted as deselected, as parametrized tests are."""
    write_ini(pytester, "markers = slow: a slow test")
    pytester.makepyfile(
        test_mod="""
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.mark.slow
        @concurrent_cases([1, 2])
        async def test_marked(n):
            pass

        @concurrent_cases([1, 2])
        async def test_unmarked(n):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-v", "-m", "slow", timeout=60)
    assert case_ids(result, "test_marked") == ["1", "2"]
    result.stdout.no_fnmatch_line("*test_unmarked*")
    assert summary(result) == {"deselected": 2, "subtests passed": 2}


def test_skip_mark_on_parent_skips_all_cases(pytester: pytest.Pytester) -> None:
    """@pytest.mark.skip on the parent skips each case, as the parametrized test's each; no
    case runs (the parent passes, as with a skip mark on every case)."""
    pytester.makepyfile(
        test_mod="""
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.mark.skip(reason="not today")
        @concurrent_cases([1, 2])
        async def test_x(n):
            raise AssertionError("a case ran")
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    result.stdout.fnmatch_lines(
        [
            "test_mod.py::test_x[[]1[]] SKIPPED (not today)*",
            "test_mod.py::test_x[[]2[]] SKIPPED (not today)*",
        ]
    )
    result.stdout.no_fnmatch_line("*a case ran*")
    assert summary(result) == {"skipped": 2}


def test_usefixtures_mark_sets_the_fixture_up_per_case(pytester: pytest.Pytester) -> None:
    """@pytest.mark.usefixtures on the parent sets a function fixture up for each case."""
    pytester.makepyfile(
        test_mod="""
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.fixture
        def announce():
            print("announce-setup")
            yield
            print("announce-teardown")

        @pytest.mark.usefixtures("announce")
        @concurrent_cases([1, 2])
        async def test_x(n):
            assert n == 1
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    section = failure_section(result, "test_x[2]")
    assert "announce-setup" in section
    assert summary(result) == {"failed": 1, "subtests passed": 1}


# --------------------------------------------------------------------------------------------
# The event loop: the user's own asyncio mark wins

LOOP_FIXTURE = """
import asyncio
import pytest
import pytest_asyncio
from asyncgroup import concurrent_cases

@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_loop():
    return asyncio.get_running_loop()
"""


@pytest.mark.parametrize(
    "declaration",
    [
        pytest.param(
            '@pytest.mark.asyncio(loop_scope="module")\n@concurrent_cases([1, 2])',
            id="mark-above",
        ),
        pytest.param(
            '@concurrent_cases([1, 2])\n@pytest.mark.asyncio(loop_scope="module")',
            id="mark-below",
        ),
        pytest.param(
            'pytestmark = pytest.mark.asyncio(loop_scope="module")\n\n@concurrent_cases([1, 2])',
            id="module-pytestmark",
        ),
    ],
)
def test_users_asyncio_mark_with_module_loop_is_respected(
    pytester: pytest.Pytester, declaration: str
) -> None:
    """With the user's asyncio(loop_scope="module") mark, cases run in the module's loop."""
    pytester.makepyfile(
        test_mod=LOOP_FIXTURE
        + f"""
{declaration}
async def test_x(n, module_loop):
    assert asyncio.get_running_loop() is module_loop
"""
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    assert case_ids(result, "test_x") == ["1", "2"]
    assert summary(result) == {"subtests passed": 2}


def test_without_users_mark_cases_run_in_a_function_loop(pytester: pytest.Pytester) -> None:
    """Without a mark of the user's, the parent gets its own (function-scoped) loop."""
    pytester.makepyfile(
        test_mod=LOOP_FIXTURE
        + """
@concurrent_cases([1, 2])
async def test_x(n, module_loop):
    assert asyncio.get_running_loop() is not module_loop
"""
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    assert case_ids(result, "test_x") == ["1", "2"]
    assert summary(result) == {"subtests passed": 2}


# --------------------------------------------------------------------------------------------
# Case outcomes: skip, skipif, xfail (strict), pytest.skip() and pytest.xfail() inside a case

OUTCOMES_FILE = """
import pytest
from asyncgroup import concurrent_cases

@concurrent_cases(["plain", {case}])
async def test_x(kind):
    if kind == "fails":
        assert False, "the case failed"
    if kind == "skips":
        pytest.skip("skipped inside")
    if kind == "xfails":
        pytest.xfail("xfailed inside")
"""


@pytest.mark.parametrize(
    ("case", "case_id", "line", "counts"),
    [
        pytest.param(
            'pytest.param("fails", marks=pytest.mark.skip(reason="not today"))',
            "fails",
            ("SKIPPED", "(not today)"),
            {"skipped": 1},
            id="skip-mark",
        ),
        pytest.param(
            'pytest.param("fails", marks=pytest.mark.skipif(True, reason="cond holds"))',
            "fails",
            ("SKIPPED", "(cond holds)"),
            {"skipped": 1},
            id="skipif-true",
        ),
        pytest.param(
            'pytest.param("fails", marks=pytest.mark.skipif("1 + 1 == 3", reason="never"))',
            "fails",
            ("FAILED", ""),
            {"failed": 1},
            id="skipif-false-runs-the-case",
        ),
        pytest.param(
            'pytest.param("fails", marks=pytest.mark.xfail(reason="known bug"))',
            "fails",
            ("XFAIL", "(known bug)"),
            {"xfailed": 1},
            id="xfail-mark-fails",
        ),
        pytest.param(
            'pytest.param("fails", marks=pytest.mark.xfail(raises=ValueError))',
            "fails",
            ("FAILED", ""),
            {"failed": 1},
            id="xfail-mark-other-exception",
        ),
        pytest.param(
            'pytest.param("passes", marks=pytest.mark.xfail(reason="maybe"))',
            "passes",
            ("XPASS", "(maybe)"),
            {"xpassed": 1},
            id="xfail-mark-passes-non-strict",
        ),
        pytest.param(
            'pytest.param("passes", marks=pytest.mark.xfail(strict=True, reason="must fail"))',
            "passes",
            ("FAILED", ""),
            {"failed": 1},
            id="xfail-strict-passes",
        ),
        pytest.param(
            '"skips"',
            "skips",
            ("SKIPPED", "(skipped inside)"),
            {"skipped": 1},
            id="pytest-skip-inside",
        ),
        pytest.param(
            '"xfails"',
            "xfails",
            ("XFAIL", "(xfailed inside)"),
            {"xfailed": 1},
            id="pytest-xfail-inside",
        ),
    ],
)
def test_case_marks_and_outcomes(
    pytester: pytest.Pytester,
    case: str,
    case_id: str,
    line: tuple[str, str],
    counts: dict[str, int],
) -> None:
    """pytest.param marks and pytest.skip()/xfail() inside a case act on that case alone."""
    pytester.makepyfile(test_mod=OUTCOMES_FILE.format(case=case))
    result = pytester.runpytest_subprocess("-v", timeout=60)
    outcome, reason = line
    if outcome == "XPASS":  # pytest 9 shows it as a plain XPASS, pytest-subtests as SUBXPASS
        pattern = f"test_mod.py::test_x[[]{case_id}[]] *XPASS*{reason}*"
    elif outcome == "SKIPPED" and "marks=pytest.mark.skip" in case:  # at setup, as its test
        pattern = f"test_mod.py::test_x[[]{case_id}[]] SKIPPED {reason}*"
    else:
        pattern = subtest_line("test_mod.py::test_x", case_id, outcome) + reason + "*"
    result.stdout.fnmatch_lines([pattern])
    assert case_ids(result, "test_x") == ["plain"]
    assert summary(result) == {**counts, "subtests passed": 1}
    if "failed" in counts:
        result.stdout.fnmatch_lines([f"*1 of 2 cases failed: {case_id}*"])
        assert result.ret == pytest.ExitCode.TESTS_FAILED
    else:
        result.stdout.fnmatch_lines(["test_mod.py::test_x PASSED*"])
        assert result.ret == pytest.ExitCode.OK


def test_strict_xpass_reports_the_reason(pytester: pytest.Pytester) -> None:
    """A strict xfail case that passes fails with [XPASS(strict)] and its reason."""
    pytester.makepyfile(
        test_mod=OUTCOMES_FILE.format(
            case='pytest.param("passes", marks=pytest.mark.xfail(strict=True, reason="must fail"))'
        )
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    assert failure_section(result, "test_x[passes]") == ["[XPASS(strict)] must fail"]


def test_xfail_strict_ini_applies_to_cases(pytester: pytest.Pytester) -> None:
    """xfail_strict = true in the ini makes a passing xfail case fail, as for any test."""
    write_ini(pytester, "xfail_strict = true")
    pytester.makepyfile(
        test_mod=OUTCOMES_FILE.format(
            case='pytest.param("passes", marks=pytest.mark.xfail(reason="must fail"))'
        )
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    result.stdout.fnmatch_lines([subtest_line("test_mod.py::test_x", "passes", "FAILED")])
    assert summary(result) == {"failed": 1, "subtests passed": 1}


# --------------------------------------------------------------------------------------------
# Timeouts

TIMEOUT_FILE = """
import asyncio
from asyncgroup import concurrent_cases

@concurrent_cases(["quick", "hangs"]{options})
async def test_x(kind):
    await asyncio.sleep(0.01)
    if kind == "hangs":
        await asyncio.Event().wait()
    await asyncio.sleep(0.01)
"""


def test_timeout_fails_the_case_and_points_at_the_awaited_line(pytester: pytest.Pytester) -> None:
    """A case past its timeout is cancelled and fails with CaseTimeoutError; > marks its await."""
    pytester.makepyfile(test_mod=TIMEOUT_FILE.format(options=", timeout=0.3"))
    start = time.monotonic()
    result = pytester.runpytest_subprocess("-v", timeout=60)
    elapsed = time.monotonic() - start
    result.stdout.fnmatch_lines([subtest_line("test_mod.py::test_x", "hangs", "FAILED")])
    assert case_ids(result, "test_x") == ["quick"]
    section = failure_section(result, "test_x[hangs]")
    pointed = [line for line in section if line.startswith(">")]
    assert pointed == [">           await asyncio.Event().wait()"]
    errors = [line[1:].strip() for line in section if line.startswith("E ")]
    assert errors[0].startswith("asyncgroup.CaseTimeoutError: Timeout (>0.3s) from asyncgroup: "), (
        errors
    )
    assert not any("asyncio/" in line or "asyncgroup/" in line for line in section), section
    assert failure_section(result, "test_x") == ["1 of 2 cases failed: hangs"]
    assert summary(result) == {"failed": 1, "subtests passed": 1}
    assert elapsed < 30


@pytest.mark.parametrize(
    ("ini", "args", "options", "seconds"),
    [
        pytest.param("asyncgroup_timeout = 0.3", [], "", "0.3", id="ini"),
        pytest.param("", ["--asyncgroup-timeout=0.4"], "", "0.4", id="cli"),
        pytest.param(
            "asyncgroup_timeout = 20", ["--asyncgroup-timeout=0.35"], "", "0.35", id="cli-over-ini"
        ),
        pytest.param(
            "asyncgroup_timeout = 20",
            ["--asyncgroup-timeout=20"],
            ", timeout=0.25",
            "0.25",
            id="decorator-over-cli-and-ini",
        ),
    ],
)
def test_timeout_defaults_from_ini_and_command_line(
    pytester: pytest.Pytester, ini: str, args: list[str], options: str, seconds: str
) -> None:
    """The timeout comes from the decorator, else --asyncgroup-timeout, else the ini option."""
    write_ini(pytester, ini)
    pytester.makepyfile(test_mod=TIMEOUT_FILE.format(options=options))
    result = pytester.runpytest_subprocess("-v", *args, timeout=60)
    result.stdout.fnmatch_lines(
        [f"E *asyncgroup.CaseTimeoutError: Timeout (>{seconds}s) from asyncgroup: *"]
    )
    assert case_ids(result, "test_x", "FAILED") == ["hangs"]
    assert summary(result) == {"failed": 1, "subtests passed": 1}


def test_no_timeout_by_default(pytester: pytest.Pytester) -> None:
    """Without any timeout setting a slow case is left to finish."""
    pytester.makepyfile(
        test_mod="""
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases([0.01, 1.5])
        async def test_x(seconds):
            await asyncio.sleep(seconds)
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    assert summary(result) == {"subtests passed": 2}


# --------------------------------------------------------------------------------------------
# max_concurrency

LIMIT_FILE = """
import asyncio
import pytest
from asyncgroup import concurrent_cases

in_flight = {{"now": 0, "peak": 0}}

@concurrent_cases(range(12){options})
async def test_x(n):
    in_flight["now"] += 1
    in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
    assert in_flight["now"] <= 3, f"{{in_flight['now']}} cases in flight"
    await asyncio.sleep(0.05)
    in_flight["now"] -= 1

@pytest.mark.asyncio
async def test_limit_was_reached():
    assert in_flight["peak"] == 3
"""


@pytest.mark.parametrize(
    ("ini", "args", "options"),
    [
        pytest.param("", [], ", max_concurrency=3", id="decorator"),
        pytest.param("asyncgroup_max_concurrency = 3", [], "", id="ini"),
        pytest.param("", ["--asyncgroup-max-concurrency=3"], "", id="cli"),
        pytest.param(
            "asyncgroup_max_concurrency = 1",
            ["--asyncgroup-max-concurrency=3"],
            "",
            id="cli-over-ini",
        ),
        pytest.param(
            "asyncgroup_max_concurrency = 1",
            ["--asyncgroup-max-concurrency=6"],
            ", max_concurrency=3",
            id="decorator-over-cli-and-ini",
        ),
    ],
)
def test_max_concurrency_bounds_cases_in_flight(
    pytester: pytest.Pytester, ini: str, args: list[str], options: str
) -> None:
    """Never more than max_concurrency cases in flight, and the limit is reached."""
    write_ini(pytester, ini)
    pytester.makepyfile(test_mod=LIMIT_FILE.format(options=options))
    result = pytester.runpytest_subprocess("-v", *args, timeout=60)
    assert summary(result) == {"passed": 1, "subtests passed": 12}


def test_without_limit_all_cases_are_in_flight_at_once(pytester: pytest.Pytester) -> None:
    """With no max_concurrency, every case has started before the first one finishes."""
    pytester.makepyfile(
        test_mod="""
        import asyncio
        import pytest
        from asyncgroup import concurrent_cases

        in_flight = {"now": 0, "peak": 0}

        @concurrent_cases(range(12))
        async def test_x(n):
            in_flight["now"] += 1
            in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
            await asyncio.sleep(0.1)
            in_flight["now"] -= 1

        @pytest.mark.asyncio
        async def test_peak():
            assert in_flight["peak"] == 12
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    assert summary(result) == {"passed": 1, "subtests passed": 12}


# --------------------------------------------------------------------------------------------
# Stopping early: fail_fast, -x, --maxfail


def test_fail_fast_cancels_running_cases_and_starts_no_more(pytester: pytest.Pytester) -> None:
    """fail_fast: after a failure, running cases are cancelled, unstarted never start; both are
    skipped "cancelled: ...", so that the counts show them."""
    pytester.makepyfile(
        test_mod="""
        import asyncio
        import pathlib
        from asyncgroup import concurrent_cases

        STARTED = pathlib.Path(__file__).with_name("started.txt")

        @concurrent_cases(
            ["fails", "slow1", "slow2", "later1", "later2"], fail_fast=True, max_concurrency=3
        )
        async def test_x(kind):
            with STARTED.open("a") as f:
                f.write(kind + "\\n")
            if kind == "fails":
                await asyncio.sleep(0.1)
                assert False, "first failure"
            await asyncio.sleep(600)
        """
    )
    start = time.monotonic()
    result = pytester.runpytest_subprocess("-v", "-rs", timeout=120)
    elapsed = time.monotonic() - start
    started = sorted((pytester.path / "started.txt").read_text().split())
    assert started == ["fails", "slow1", "slow2"]
    assert case_ids(result, "test_x", "FAILED") == ["fails"]
    assert case_ids(result, "test_x", "SKIPPED") == ["later1", "later2", "slow1", "slow2"]
    result.stdout.fnmatch_lines(["*: cancelled: fail_fast: case 'fails' failed"])
    result.stdout.fnmatch_lines(["*test_x FAILED*", "*1 of 5 cases failed: fails*"])
    assert summary(result) == {"failed": 1, "skipped": 4}
    assert elapsed < 60  # not the slow cases' 600 s


STOP_FILE = """
import asyncio
import pytest
from asyncgroup import concurrent_cases

@concurrent_cases(["fail1", "fail2", "slow1", "slow2"])
async def test_first(kind):
    if kind == "fail1":
        await asyncio.sleep(0.1)
        assert False
    if kind == "fail2":
        await asyncio.sleep(0.6)
        assert False
    await asyncio.sleep(600)

@pytest.mark.asyncio
async def test_later():
    pass
"""


@pytest.mark.parametrize(
    ("option", "failed_cases", "cancelled_cases"),
    [
        pytest.param("-x", ["fail1"], ["fail2", "slow1", "slow2"], id="x"),
        pytest.param("--maxfail=2", ["fail1", "fail2"], ["slow1", "slow2"], id="maxfail-2"),
    ],
)
def test_x_and_maxfail_stop_the_run_inside_a_parent(
    pytester: pytest.Pytester, option: str, failed_cases: list[str], cancelled_cases: list[str]
) -> None:
    """-x / --maxfail: once pytest must stop, running cases are cancelled, later tests not run."""
    pytester.makepyfile(test_mod=STOP_FILE)
    start = time.monotonic()
    result = pytester.runpytest_subprocess("-v", "-rs", option, timeout=120)
    elapsed = time.monotonic() - start
    assert case_ids(result, "test_first", "FAILED") == failed_cases
    assert case_ids(result, "test_first", "SKIPPED") == cancelled_cases
    result.stdout.fnmatch_lines([f"*: cancelled: stopping after {len(failed_cases)} failures"])
    result.stdout.fnmatch_lines(
        [
            "*test_first FAILED*",
            f"*{len(failed_cases)} of 4 cases failed: {', '.join(failed_cases)}*",
        ]
    )
    result.stdout.no_fnmatch_line("*test_later*")
    assert summary(result) == {"failed": len(failed_cases), "skipped": len(cancelled_cases)}
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert elapsed < 60  # not the slow cases' 600 s


def test_without_maxfail_the_slow_cases_finish(pytester: pytest.Pytester) -> None:
    """Control: with --maxfail=3 nothing is cancelled, so the slow cases pass."""
    pytester.makepyfile(
        test_mod=STOP_FILE.replace("await asyncio.sleep(600)", "await asyncio.sleep(1)")
    )
    result = pytester.runpytest_subprocess("-v", "--maxfail=3", timeout=60)
    assert case_ids(result, "test_first") == ["slow1", "slow2"]
    assert case_ids(result, "test_first", "FAILED") == ["fail1", "fail2"]


# --------------------------------------------------------------------------------------------
# BaseException in a case


@pytest.mark.parametrize(
    ("statement", "error_line"),
    [
        pytest.param("raise SystemExit(3)", "SystemExit: 3", id="SystemExit"),
        pytest.param(
            'raise MyBaseError("boom")', "test_mod.MyBaseError: boom", id="custom-BaseException"
        ),
        pytest.param("raise GeneratorExit()", "GeneratorExit", id="GeneratorExit"),
        pytest.param(
            "raise asyncio.CancelledError()",
            "asyncio.exceptions.CancelledError",
            id="CancelledError",
        ),
    ],
)
def test_base_exception_in_a_case_fails_only_that_case(
    pytester: pytest.Pytester, statement: str, error_line: str
) -> None:
    """A case raising SystemExit or another BaseException fails; other cases and tests go on."""
    pytester.makepyfile(
        test_mod=f"""
import asyncio
import pytest
from asyncgroup import concurrent_cases

class MyBaseError(BaseException):
    pass

@concurrent_cases([1, 2, 3])
async def test_x(n):
    await asyncio.sleep(0.01 * n)
    if n == 2:
        {statement}

@pytest.mark.asyncio
async def test_later():
    pass
"""
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    result.stdout.fnmatch_lines([subtest_line("test_mod.py::test_x", "2", "FAILED")])
    assert case_ids(result, "test_x") == ["1", "3"]
    errors = [line[1:].strip() for line in failure_section(result, "test_x[2]") if line[:1] == "E"]
    assert errors == [error_line]
    assert failure_section(result, "test_x") == ["1 of 3 cases failed: 2"]
    result.stdout.fnmatch_lines(["test_mod.py::test_later PASSED*"])
    assert summary(result) == {"failed": 1, "passed": 1, "subtests passed": 2}
    assert result.ret == pytest.ExitCode.TESTS_FAILED


# --------------------------------------------------------------------------------------------
# Ctrl-C

SIGINT_FILE = """
import asyncio
import itertools
import pathlib
import pytest
from asyncgroup import concurrent_cases

EVENTS = pathlib.Path(__file__).with_name("events.txt")
numbers = itertools.count()

def log(event):
    with EVENTS.open("a") as f:
        f.write(event + "\\n")

@pytest.fixture
def resource():
    number = next(numbers)
    log(f"setup {number}")
    yield number
    log(f"teardown {number}")

@concurrent_cases(range(5))
async def test_hangs(n, resource):
    await asyncio.sleep(600)

@pytest.mark.asyncio
async def test_later():
    log("later ran")
"""


# The same Ctrl-C delivered again while asyncgroup handles it, as coreutils `timeout` and CI
# runners send it (to the process, then to its group): deterministic here, as the handler
# starts its watching thread.
SIGINT_TWICE_CONFTEST = """
import os
import signal
import threading
import time

_start = threading.Thread.start


def start(self):
    if self.name == "asyncgroup-ctrl-c":
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the second SIGINT's handler runs here, inside the first's
    _start(self)


threading.Thread.start = start

# What the user sees depends on timing (teardowns skipped under load): record the cause, a
# KeyboardInterrupt raised at once by asyncgroup's handler, as for a second Ctrl-C.
_signal = signal.signal


def spying_signal(signum, handler):
    if signum == signal.SIGINT and getattr(handler, "__module__", "") == "asyncgroup._interrupt":
        inner = handler

        def handler(number, frame):
            try:
                inner(number, frame)
            except KeyboardInterrupt:
                with open("events.txt", "a") as f:
                    f.write("stopped at once\\n")
                raise

    return _signal(signum, handler)


signal.signal = spying_signal
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
@pytest.mark.parametrize(
    ("dev", "twice"),
    [([], False), (["-X", "dev"], False), ([], True)],
    ids=["plain", "dev-mode", "delivered-twice"],
)
def test_ctrl_c_cancels_cases_runs_their_teardowns_and_exits_2(
    pytester: pytest.Pytester, dev: list[str], twice: bool
) -> None:
    """SIGINT: every started case is cancelled, its fixture teardown runs, pytest exits 2 soon.
    Under Python's dev mode, nothing of asyncgroup's is reported at exit ("Exception ignored").
    One Ctrl-C delivered twice at once is one Ctrl-C, not a second that stops at once."""
    pytester.makepyfile(test_mod=SIGINT_FILE)
    if twice:
        pytester.makeconftest(SIGINT_TWICE_CONFTEST)
    events = pytester.path / "events.txt"

    def lines(prefix: str) -> list[str]:
        text = events.read_text() if events.exists() else ""
        return sorted(line.split()[1] for line in text.splitlines() if line.startswith(prefix))

    output, code, elapsed = ctrl_c(
        pytester,
        [*dev, "-m", "pytest", "-v", "-p", "no:cacheprovider", "test_mod.py"],
        lambda: len(lines("setup")) >= 5,
    )
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert elapsed < 60  # not the cases' 600 s
    assert "KeyboardInterrupt" in output
    assert lines("setup") == ["0", "1", "2", "3", "4"]
    assert lines("teardown") == lines("setup"), output
    assert "later ran" not in events.read_text()
    assert "Task was destroyed but it is pending" not in output
    assert "Exception ignored" not in output, output
    assert "stopped at once" not in events.read_text(), output


SWALLOWING_FILE = """
import asyncio
import pathlib
import pytest
import pytest_asyncio
from asyncgroup import concurrent_cases

EVENTS = pathlib.Path(__file__).with_name("events.txt")

def log(event):
    with EVENTS.open("a") as f:
        f.write(event + "\\n")

@pytest.fixture
def resource(case):
    log(f"setup {case}")
    yield
    log(f"teardown {case}")

@pytest_asyncio.fixture
async def lingering(case):
    yield
    if case == "plain":  # torn down after the first Ctrl-C, and slow about it
        try:
            log("lingering")
            await asyncio.sleep(600)
        finally:
            log("lingering closed")

@concurrent_cases(["swallows", "plain"])
async def test_stop(case, resource, lingering):
    try:
        while True:
            try:
                await asyncio.sleep(600)
            except asyncio.CancelledError:
                if case == "plain":
                    raise
                log("swallowed")
    finally:
        log(f"closed {case}")
"""


def _interrupted(pytester: pytest.Pytester, signals: int) -> tuple[str, int, float, list[str]]:
    """Run SWALLOWING_FILE, Ctrl-C it ``signals`` (1 or 2) times, the second once the
    swallowing case has caught the first cancellation and the other's teardown waits; output,
    exit code, seconds from the first Ctrl-C to the exit, and the events logged."""
    events = pytester.path / "events.txt"
    if events.exists():
        events.unlink()

    def logged() -> list[str]:
        return events.read_text().splitlines() if events.exists() else []

    ready = [lambda: len([event for event in logged() if event.startswith("setup")]) >= 2]
    if signals == 2:
        ready.append(lambda: {"swallowed", "lingering"} <= set(logged()))
    output, code, elapsed = ctrl_c(
        pytester, ["-m", "pytest", "-v", "-rs", "-p", "no:cacheprovider", "test_mod.py"], *ready
    )
    return output, code, elapsed, logged()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_a_second_ctrl_c_closes_a_case_that_ignores_the_first_at_once(
    pytester: pytest.Pytester,
) -> None:
    """One Ctrl-C: a case that catches the cancellation and goes on is given up on after the
    stop's grace, and fails for it. Two: the second closes it at once (its finally blocks
    run), and the other case's slow async fixture teardown too; both are reported cancelled,
    and every fixture is torn down."""
    pytester.makepyfile(test_mod=SWALLOWING_FILE)
    output, code, once, logged = _interrupted(pytester, 1)
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert "CancellationIgnoredError: case 'swallows' ignored its cancellation" in output, output
    ends = ["closed plain", "closed swallows", "teardown plain", "teardown swallows"]
    assert sorted(e for e in logged if e.startswith(("closed", "teardown"))) == ends, logged
    output, code, twice, logged = _interrupted(pytester, 2)
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert "CancellationIgnoredError" not in output, output
    # pytest-asyncio < 1.2 runs the loop a few more steps only, to shut its async generators
    # down: the cases are closed and torn down then, but the parent may not get to report them.
    reported = "2" if _PYTEST_ASYNCIO >= (1, 2) else "12"
    pattern = (
        rf"SKIPPED \[[{reported}]\] test_mod.py:\d+: cancelled: the parent test was interrupted"
    )
    assert re.search(pattern, output), output
    assert sorted(e for e in logged if e.startswith(("closed", "teardown"))) == ends, logged
    assert "lingering closed" in logged, logged
    assert "ERROR" not in output, output  # nothing of closing the fixture's step is an error
    # The grace (3 s, twice) is not waited for: measured against the run with one Ctrl-C, so
    # that a loaded machine slows both alike.
    assert twice < once - 3, (once, twice, output)


# --------------------------------------------------------------------------------------------
# Captured output: each case's own


def test_each_case_report_has_only_its_own_output_and_logs(pytester: pytest.Pytester) -> None:
    """Interleaving cases: each report's stdout, stderr and log sections hold only its lines.

    Case a writes before and after an await; case b writes while a is waiting in between.
    """
    pytester.makepyfile(
        test_mod="""
        import asyncio
        import logging
        import sys
        from asyncgroup import concurrent_cases

        log = logging.getLogger("app")
        a_waiting = asyncio.Event()
        b_done = asyncio.Event()

        @concurrent_cases(["a", "b"])
        async def test_x(who):
            if who == "a":
                print("a-out-before")
                print("a-err-before", file=sys.stderr)
                log.warning("a-log-before")
                a_waiting.set()
                await b_done.wait()
                print("a-out-after")
                log.warning("a-log-after")
            else:
                await a_waiting.wait()
                print("b-out-between")
                print("b-err-between", file=sys.stderr)
                log.warning("b-log-between")
                b_done.set()
                await asyncio.sleep(0.05)
            assert False, f"case {who} fails"
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    assert summary(result) == {"failed": 2}

    def written(section: list[str]) -> list[str]:
        """What the section shows the case wrote: its output lines and its log messages."""
        return [
            line.rsplit(" ", 1)[-1]
            for line in section
            if re.match(r"^[ab]-", line) or re.match(r"^WARNING +app:", line)
        ]

    a_section = failure_section(result, "test_x[a]")
    b_section = failure_section(result, "test_x[b]")
    for section in (a_section, b_section):
        for title in ("Captured stdout call", "Captured stderr call", "Captured log call"):
            assert any(title in line for line in section), (title, section)
    assert sorted(written(a_section)) == sorted(
        ["a-out-before", "a-out-after", "a-err-before", "a-log-before", "a-log-after"]
    )
    assert sorted(written(b_section)) == sorted(["b-out-between", "b-err-between", "b-log-between"])
    # The parent's own report shows none of it.
    (parent,) = failure_section(result, "test_x")
    assert re.fullmatch(r"2 of 2 cases failed: (a, b|b, a)", parent)


def test_passing_case_output_stays_out_of_a_failing_case(pytester: pytest.Pytester) -> None:
    """A passing case's prints never show up in a failing case's report."""
    pytester.makepyfile(
        test_mod="""
        import asyncio
        from asyncgroup import concurrent_cases

        @concurrent_cases(range(6))
        async def test_x(n):
            for step in range(3):
                print(f"case{n}-step{step}")
                await asyncio.sleep(0.01)
            assert n != 3
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    section = failure_section(result, "test_x[3]")
    printed = [line for line in section if line.startswith("case")]
    assert printed == ["case3-step0", "case3-step1", "case3-step2"]


# --------------------------------------------------------------------------------------------
# Options in --help


def test_help_lists_the_options(pytester: pytest.Pytester) -> None:
    """pytest --help lists --asyncgroup-timeout, --asyncgroup-max-concurrency and the ini names."""
    result = pytester.runpytest_subprocess("--help", timeout=60)
    result.stdout.fnmatch_lines(
        [
            "*--asyncgroup-timeout=SECONDS*",
            "*--asyncgroup-max-concurrency=N*",
        ]
    )
    result.stdout.fnmatch_lines(["*asyncgroup_timeout (*):*", "*asyncgroup_max_concurrency (*):*"])
    assert result.ret == pytest.ExitCode.OK


# --------------------------------------------------------------------------------------------
# Fixtures


def test_per_case_fixture_may_request_the_case_value(pytester: pytest.Pytester) -> None:
    """As with parametrize, a function fixture can take the case's value by its argname."""
    pytester.makepyfile(
        test_mod="""
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.fixture
        def doubled(n):
            return n * 2

        @concurrent_cases([1, 2, 3])
        async def test_x(n, doubled):
            assert doubled == n * 2
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    assert summary(result) == {"subtests passed": 3}


# ---------------------------------------------------------------------------------------------
# --pdb


def test_pdb_runs_cases_one_at_a_time_without_timeouts_and_stops_at_the_failing_case(
    pytester: pytest.Pytester,
) -> None:
    """--pdb: one case at a time (the prompt is usable), timeouts off, the debugger opens at
    the failing case's own line with its own locals."""
    pytester.makepyfile(
        test_dbg="""
        import asyncio
        from asyncgroup import concurrent_cases

        running = 0

        @concurrent_cases([1, 2, 3], timeout=0.01)
        async def test_dbg(n):
            global running
            running += 1
            assert running == 1, "cases overlapped"
            await asyncio.sleep(0.05)  # longer than the timeout: it must not fire
            running -= 1
            assert n != 2
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
        stdin=b"p n\nc\nc\n",
        timeout=60,
    )
    output = result.stdout.str()
    result.stdout.fnmatch_lines(["*>*test_dbg.py(*)test_dbg()", "-> assert n != 2", "(Pdb) 2"])
    assert "AssertionError: cases overlapped" not in output
    assert "CaseTimeoutError" not in output


@pytest.mark.parametrize("stop", [["-x"], ["--maxfail=1"], []], ids=["x", "maxfail", "fail_fast"])
def test_a_def_case_stopped_before_its_timeout_is_cancelled_not_timed_out(
    pytester: pytest.Pytester, stop: list[str]
) -> None:
    """A stop cancels a plain def case blocking in its thread; its timeout expiring while the
    stop waits for the thread is not what ended it: skipped "cancelled", not failed with a
    CaseTimeoutError (trial finding). The parametrized run stops before it."""
    fail_fast = "" if stop else ", fail_fast=True"
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        f"""
        import time
        from asyncgroup import concurrent_cases

        @concurrent_cases(["fails", "blocks"], timeout=1{fail_fast})
        def test_x(n):
            if n == "blocks":
                time.sleep(5)
            time.sleep(0.5)
            assert False
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA", *stop, timeout=60)
    text = result.stdout.str()
    assert "CaseTimeoutError" not in text, text
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] *: cancelled: *", "FAILED *test_x[[]fails[]]*"])
    assert summary(result) == {"failed": 1, "skipped": 1}, text
