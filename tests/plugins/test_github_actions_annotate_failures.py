"""pytest-github-actions-annotate-failures: on GitHub Actions, each failing case's annotation
reaches the run's real stderr (the CI log), as its parametrized test's does, with the same
title, file, line and message; the parent adds its own, for its own failure."""

from __future__ import annotations

import pytest
from differential import Differential

SOURCE = """
def helper(name):
    assert name != "fail_in_helper", "failed in helper"


@cases("name", ["pass", "fail_here", "fail_in_helper", "skip",
                pytest.param("xfail", marks=pytest.mark.xfail(reason="known"))])
async def test_x(name):
    await asyncio.sleep({"fail_here": 0.1}.get(name, 0.02))
    print(f"output of {name}")
    if name == "skip":
        pytest.skip("skipping")
    helper(name)
    assert name != "fail_here", "failed in the test body"
    assert name != "xfail"
"""


def annotations(lines: list[str]) -> list[str]:
    return sorted(line for line in lines if line.startswith("::error "))


@pytest.mark.parametrize("args", [[], ["-n", "2"], ["--tb=no"]], ids=["plain", "xdist", "tb-no"])
def test_each_failing_case_is_annotated_on_the_real_stderr(
    differential: Differential, args: list[str]
) -> None:
    pair = differential.run(SOURCE, *args, env={"GITHUB_ACTIONS": "true"})
    pair.assert_same()
    expected = annotations(pair.parametrized.errlines)
    titles = sorted(line.split("::")[2].split("%0A")[0] for line in expected)
    assert titles == ["test_x[fail_here]", "test_x[fail_in_helper]"]
    found = annotations(pair.concurrent.errlines)
    # The parent fails too ("2 of 5 cases failed"), and is annotated as any failed test.
    parent = [line for line in found if line.split("::")[2].startswith("test_x%0A")]
    assert len(parent) == 1, found
    assert [line for line in found if line not in parent] == expected
    assert not annotations(pair.concurrent.outlines)  # not in the parent's captured output
