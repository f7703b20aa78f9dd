"""pytest-instafail: a failing case's traceback is shown as soon as the case fails, before the
cases still running end, as the parametrized test's is before the tests after it run."""

from __future__ import annotations

from differential import Differential


def test_a_failing_case_is_shown_when_it_fails(differential: Differential) -> None:
    pair = differential.run(
        """
        @cases("name", ["fail", "slow", "pass"])
        async def test_x(name):
            await asyncio.sleep(1.0 if name == "slow" else 0.05)
            assert name != "fail", "case fail fails"
        """,
        "--instafail",
        "-v",
    )
    pair.assert_same("*AssertionError: case fail fails")
    for result in (pair.concurrent, pair.parametrized):
        lines = result.outlines
        shown = next(i for i, line in enumerate(lines) if "AssertionError: case fail" in line)
        slow = next(i for i, line in enumerate(lines) if "test_x[slow]" in line and "PASS" in line)
        summary = next(i for i, line in enumerate(lines) if "short test summary" in line)
        assert shown < slow < summary, result.stdout.str()
