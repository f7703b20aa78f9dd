"""The core: cases run concurrently, each reported as a subtest of one parent test."""

from __future__ import annotations

import pytest

from tests.conftest import subtest_line, summary


def test_cases_are_reported_as_subtests_and_parent_fails_when_one_fails(
    pytester: pytest.Pytester,
) -> None:
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
            subtest_line("test_cases_are_reported_as_subtests_and_parent_fails_when_one_fails.py::test_numbers", "1", "PASSED"),
        ]
    )
    result.stdout.fnmatch_lines(["*test_numbers FAILED*", "*1 of 3 cases failed: 2*"])
    assert summary(result) == {"failed": 2, "subtests passed": 2}
