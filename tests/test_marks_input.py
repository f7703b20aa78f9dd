"""Marks and declarations a user got wrong, or wrote in a form pytest accepts: each case (or test
of a group) gets what its parametrized (or separate) test gets from pytest, errors included.

Differential: the same source as ``@concurrent_cases`` and as ``@pytest.mark.parametrize`` (see
``tests/differential.py``), or with and without its ``@concurrent_group`` lines (see
``tests/test_groups.py``).
"""

from __future__ import annotations

import pytest

from tests.conftest import PYTEST_MAJOR
from tests.differential import Differential
from tests.test_groups import compare, junit, run, write_pair

# --------------------------------------------------------------------------------------------
# A skipif/xfail condition that fails to evaluate


@pytest.mark.parametrize("mark", ["xfail", "skipif"])
def test_a_case_condition_that_fails_to_evaluate_errors_that_case_alone(
    differential: Differential, mark: str
) -> None:
    """One case's bad condition is that case's setup error, with pytest's message; the other
    cases run (d's failure is reported)."""
    pair = differential.run(
        f"""
        @cases("x", ["a", "b", pytest.param("c", marks=pytest.mark.{mark}("undefined_name == 1",
               reason="r")), "d"])
        async def test_x(x):
            await asyncio.sleep(0.01)
            assert x != "d"
        """,
        "-rA",
    )
    pair.assert_same(
        "*ERROR at setup of test_x[[]c[]]*",
        f"*Error evaluating '{mark}' condition*",
        "NameError: name 'undefined_name' is not defined",
        f"ERROR test_it.py::test_x[[]c[]] - Failed: Error evaluating '{mark}' condition",
    )
    assert pair.concurrent_outcomes["test_it.py::test_x[c]"] == ["error"]
    assert pair.concurrent_outcomes["test_it.py::test_x[d]"] == ["failed"]
    pair.assert_same_counts()
    pair.assert_same_short_summary()


@pytest.mark.parametrize("mark", ["xfail", "skipif"])
def test_a_test_condition_that_fails_to_evaluate_errors_each_case(
    differential: Differential, mark: str
) -> None:
    """The same condition on the whole test: one error per case, as one per parametrized test."""
    pair = differential.run(
        f"""
        @pytest.mark.{mark}("undefined_name == 1", reason="r")
        @cases("x", ["a", "b"])
        async def test_x(x):
            await asyncio.sleep(0.01)
        """,
        "-rA",
    )
    pair.assert_same(
        "*ERROR at setup of test_x[[]a[]]*",
        "*ERROR at setup of test_x[[]b[]]*",
        f"*Error evaluating '{mark}' condition*",
    )
    assert pair.concurrent_outcomes["test_it.py::test_x[a]"] == ["error"]
    pair.assert_same_counts()
    pair.assert_same_short_summary()


def test_a_group_test_condition_that_fails_to_evaluate_errors_that_test_alone(
    pytester: pytest.Pytester,
) -> None:
    """A test of a group with a bad condition errors alone; the others of its group run."""
    write_pair(
        pytester,
        """
        import asyncio
        import pytest
        from asyncgroup import concurrent_group

        @concurrent_group("g")
        @pytest.mark.xfail("undefined_name == 1", reason="r")
        async def test_a():
            await asyncio.sleep(0.01)

        @concurrent_group("g")
        async def test_b():
            await asyncio.sleep(0.01)

        @pytest.mark.skipif("undefined_name == 1", reason="r")
        @concurrent_group("h")
        async def test_c():
            await asyncio.sleep(0.01)

        @concurrent_group("h")
        @pytest.mark.parametrize("n", [1, pytest.param(2, marks=pytest.mark.skipif("nope"))])
        async def test_d(n):
            await asyncio.sleep(0.01)
        """,
    )
    grouped, plain = compare(pytester, "-rA")
    for result in (grouped, plain):
        result.stdout.fnmatch_lines(
            [
                "*ERROR at setup of test_a*",
                "*Error evaluating 'xfail' condition*",
                "*ERROR at setup of test_d[[]2[]]*",
            ],
            consecutive=False,
        )
        result.stdout.fnmatch_lines(["*PASSED*test_b*", "*PASSED*test_d[[]1[]]*"])
        result.stdout.fnmatch_lines(["ERROR *::test_c - Failed: Error evaluating 'skipif'*"])


# --------------------------------------------------------------------------------------------
# @staticmethod and @classmethod, above or below the cases


def test_static_and_class_methods_run_their_cases_in_either_decorator_order(
    differential: Differential,
) -> None:
    """Without an asyncio mark on the class (pytest-asyncio's strict mode), and in both orders
    pytest's parametrize accepts: the cases run, a classmethod's with the class."""
    pair = differential.run(
        """
        class TestA:
            @staticmethod
            @cases("n", [3, 4])
            async def test_static(n):
                assert n == 3

            @classmethod
            @cases("n", [4])
            async def test_class(cls, n):
                assert cls is TestA and n == 4

            @cases("n", [3, 4])
            @staticmethod
            async def test_static_below(n):
                assert n == 3

            @cases("n", [4])
            @classmethod
            async def test_class_below(cls, n):
                assert cls is TestA and n == 4
        """,
        "-v",
    )
    pair.assert_same()
    assert pair.concurrent_outcomes["test_it.py::TestA::test_static_below[3]"] == ["passed"]
    assert pair.concurrent_outcomes["test_it.py::TestA::test_class_below[4]"] == ["passed"]
    assert pair.concurrent_outcomes["test_it.py::TestA::test_static[4]"] == ["failed"]


def test_plain_def_static_and_class_methods_run_their_cases(pytester: pytest.Pytester) -> None:
    """A plain ``def`` static or class method: its cases run in threads, as the parametrized
    test runs (it said "async def functions are not natively supported")."""
    source = """
        import pytest
        from asyncgroup import concurrent_cases

        class TestA:
            @staticmethod
            @DECORATOR("n", [3, 4])
            def test_static(n):
                assert n == 3

            @DECORATOR("n", [5])
            @classmethod
            def test_class_below(cls, n):
                assert cls is TestA and n == 5
    """
    outcomes = {}
    for name, decorator in (("cc", "concurrent_cases"), ("pp", "pytest.mark.parametrize")):
        pytester.makepyfile(**{f"test_{name}": source.replace("DECORATOR", decorator)})
        result = pytester.runpytest_subprocess("-p", "no:randomly", "-rA", timeout=60)
        pytester.path.joinpath(f"test_{name}.py").unlink()
        lines = [line.replace(f"test_{name}.py", "F") for line in result.outlines]
        outcomes[name] = (result.ret, sorted(line for line in lines if "::TestA::test_" in line))
    assert "not natively supported" not in str(outcomes)
    ret, lines = outcomes["cc"]
    assert ret == outcomes["pp"][0] == 1
    parametrized = outcomes["pp"][1]
    assert set(parametrized) <= set(lines), (lines, parametrized)


# --------------------------------------------------------------------------------------------
# A quoted number in pytest 9's native TOML table


def test_a_quoted_number_in_the_toml_config_is_taken_as_pytest_takes_its_own(
    pytester: pytest.Pytester,
) -> None:
    """``asyncgroup_timeout = "0.5"`` is accepted where pytest's own ``faulthandler_timeout =
    "5"`` is: in pytest 9's ``[tool.pytest]`` (and ``[tool.pytest.ini_options]`` on pytest 8);
    it was refused with "invalid timeout '0.5' ... expected a positive number"."""
    table = "tool.pytest" if PYTEST_MAJOR >= 9 else "tool.pytest.ini_options"
    (pytester.path / "tox.ini").unlink()  # the conftest's ini would be read first
    pytester.makefile(
        ".toml",
        pyproject=f"""
        [{table}]
        asyncio_default_fixture_loop_scope = "function"
        faulthandler_timeout = "5"
        asyncgroup_timeout = "0.5"
        asyncgroup_max_concurrency = "1"
        """,
    )
    pytester.makepyfile(
        """
        import asyncio
        from asyncgroup import concurrent_cases

        RUNNING = []

        @concurrent_cases("x", [0.01, 0.02, 30])
        async def test_x(x):
            RUNNING.append(x)
            assert len(RUNNING) == 1, "max_concurrency 1 not applied"
            try:
                await asyncio.sleep(x)
            finally:
                RUNNING.remove(x)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-rA", timeout=60)
    assert "invalid" not in result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(
        ["E  * Timeout (>0.5s) from asyncgroup*", "FAILED test_*::test_x[[]30[]]*"]
    )
    result.stdout.fnmatch_lines(
        ["PASSED test_*::test_x[[]0.01[]]", "PASSED test_*::test_x[[]0.02[]]"]
    )


@pytest.mark.skipif(PYTEST_MAJOR < 9, reason="pytest 8 has no native TOML table")
def test_a_quoted_word_in_the_toml_config_is_refused_naming_it(pytester: pytest.Pytester) -> None:
    """What is no number is still refused, named, as from an ini file."""
    (pytester.path / "tox.ini").unlink()  # the conftest's ini would be read first
    pytester.makefile(
        ".toml",
        pyproject="""
        [tool.pytest]
        asyncio_default_fixture_loop_scope = "function"
        asyncgroup_timeout = "none"
        """,
    )
    pytester.makepyfile("from asyncgroup import concurrent_cases")
    result = pytester.runpytest_subprocess(timeout=60)
    result.stderr.fnmatch_lines(
        ["ERROR: asyncgroup: invalid timeout 'none' from ini option asyncgroup_timeout: *"]
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR


# --------------------------------------------------------------------------------------------
# A case argname with a default value


def test_an_argname_with_a_default_value_is_refused_as_parametrize_refuses_it(
    differential: Differential,
) -> None:
    """pytest's words: the argument has a default value (not "is not a parameter ... (none)")."""
    pair = differential.run(
        """
        @cases("x", [1])
        async def test_x(x=3):
            pass
        """
    )
    pair.assert_same(
        "*In *test_x: function already takes an argument 'x' with a default value*",
        "*1 error*",
    )
    assert pair.concurrent.ret == pytest.ExitCode.INTERRUPTED


# --------------------------------------------------------------------------------------------
# A test of a group that asks for a fixture pytest would not give it


@pytest.mark.parametrize("requested_by", ["test", "fixture"])
def test_a_missing_fixture_of_a_group_test_shows_the_tests_own_source(
    pytester: pytest.Pytester, requested_by: str
) -> None:
    """A typo in a fixture name: pytest's "fixture 'x' not found" shows the test's own lines
    and location, as without the group (it showed asyncgroup's internal function), then those
    of the fixture that requested it, if one did (they were missing)."""
    argument = "no_such_fixture" if requested_by == "test" else "f"
    write_pair(
        pytester,
        f"""
        from asyncgroup import concurrent_group

        @concurrent_group("g")
        async def test_a({argument}):
            pass

        @concurrent_group("g")
        async def test_b():
            pass

        import pytest

        @pytest.fixture
        def f(no_such_fixture):
            return 1
        """,
    )
    # (Not compare(): pytest's message names the file, test_grouped.py or test_plain.py.)
    grouped, plain = run(pytester, "test_grouped"), run(pytester, "test_plain")
    outcomes = [
        {test: outcome for test, (outcome, _) in junit(pytester.path / f"{name}.xml").items()}
        for name in ("test_grouped", "test_plain")
    ]
    assert outcomes[0] == {**outcomes[1], "concurrent_group[g]": "failure"}
    assert outcomes[1] == {"test_a": "error", "test_b": "passed"}
    assert grouped.ret == plain.ret
    fixture = ["file */test_*.py, line *", "  @pytest.fixture", "  def f(no_such_fixture):"]
    for result in (grouped, plain):
        result.stdout.fnmatch_lines(
            [
                "*ERROR at setup of test_a*",
                "file */test_*.py, line 3",
                f"  async def test_a({argument}):",
                "      pass",
                *(fixture if requested_by == "fixture" else []),
                "E  *fixture 'no_such_fixture' not found",
            ]
        )
    assert "concurrent_group(*args" not in grouped.stdout.str()


def test_a_partial_member_gets_the_arguments_pytest_gives_it(pytester: pytest.Pytester) -> None:
    """A functools.partial class attribute whose first parameter is left open: pytest drops
    that parameter as ``self`` and passes it nothing, so the test fails with a TypeError; the
    group injected a fixture of that name (the test passed), or errored with "fixture 'first'
    not found" in asyncgroup's source."""
    write_pair(
        pytester,
        """
        import functools
        from asyncgroup import concurrent_group

        async def _check(tmp_path, kind, mode="r"):
            assert tmp_path.exists() and mode == "w"

        def _sync_check(tmp_path, kind):
            assert tmp_path.exists()

        async def _first(first, kind):
            pass

        @concurrent_group
        class TestP:
            test_a = functools.partial(_check, kind="a", mode="w")
            test_s = functools.partial(_sync_check, kind="s")
            test_first = functools.partial(_first, kind="f")
        """,
    )
    grouped, plain = compare(pytester, "-rA")
    for result in (grouped, plain):
        for line in (  # (in the order they end: the group's plain def test in its thread last)
            "FAILED *::TestP::test_a - TypeError: _check() missing*",
            "FAILED *::TestP::test_s - TypeError: _sync_check() *",
            "FAILED *::TestP::test_first - TypeError: _first() *",
        ):
            result.stdout.fnmatch_lines([line])
    assert "not found" not in grouped.stdout.str()


# --------------------------------------------------------------------------------------------
# xfail(raises=...) that is not an exception type


def test_an_xfail_raises_that_is_no_exception_type_fails_the_case_as_pytest(
    differential: Differential,
) -> None:
    """``raises="ValueError"`` (a string) matches nothing: the case fails with its error, as its
    parametrized test; the other cases are reported as usual (it failed the whole parent with an
    internal AttributeError, its cases unreported)."""
    pair = differential.run(
        """
        @cases("x", [1, pytest.param(2, marks=pytest.mark.xfail(raises="ValueError")), 3])
        async def test_x(x):
            await asyncio.sleep(0.01)
            if x == 2:
                raise ValueError(x)
        """,
        "-rA",
    )
    pair.assert_same("FAILED test_it.py::test_x[[]2[]] - ValueError: 2")
    assert pair.concurrent_outcomes["test_it.py::test_x[1]"] == ["passed"]
    assert pair.concurrent_outcomes["test_it.py::test_x[2]"] == ["failed"]
    assert pair.concurrent_outcomes["test_it.py::test_x[3]"] == ["passed"]
    pair.assert_same_counts()
    pair.assert_same_short_summary()
