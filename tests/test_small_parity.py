"""Smaller differences from the parametrized test a case stands for (findings-cases3): each
test runs the same source as @concurrent_cases and as @pytest.mark.parametrize
(tests/differential.py) and compares what a user sees."""

from __future__ import annotations

import pytest
from differential import Differential, _counts

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
    assert pair.concurrent.ret == pair.parametrized.ret, pair._both()
    assert _counts(pair.concurrent) == _counts(pair.parametrized), pair._both()
    for result in (pair.concurrent, pair.parametrized):
        result.stdout.fnmatch_lines([line])


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
    result.assert_outcomes(passed=2, skipped=1)


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
