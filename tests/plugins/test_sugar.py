"""pytest-sugar: each case gets its mark in the progress line, as each parametrized test does,
and a failed case is shown and listed under its own name."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from differential import Differential

# pytest-sugar on (tests/plugins/conftest.py turns it off), drawing as it would in a terminal.
SUGAR = {"PYTEST_ADDOPTS": "-p no:hypothesispytest"}

FAILED = "\u2a2f"  # pytest-sugar's mark of a failed test

SOURCE = """
@cases("name", ["pass1", "fail", "pass2", "skip",
                pytest.param("xfail", marks=pytest.mark.xfail(reason="known")), "pass3"])
async def test_x(name):
    await asyncio.sleep({"fail": 0.1, "pass2": 0.3, "pass3": 0.3}.get(name, 0.02))
    print(f"output of {name}")
    if name == "skip":
        pytest.skip("skipping")
    assert name != "fail", "case fail fails"
    assert name != "xfail"
"""


def marks(output: str) -> Counter[str]:
    """The marks of every progress line as pytest-sugar last drew it.

    pytest-sugar draws a file's line again (after a carriage return) as it grows; a failure
    shown in between starts a new line.
    """
    output = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", output)
    found: Counter[str] = Counter()
    line, current = "", ""
    for segment in re.split(r"[\r\n]", output):
        # " test_it.py <marks> ..." or, with -v, " test_it.py::test_x[a] <mark> ..."
        drawn = re.match(r" (test_it\.py\S*) (\S*) ", segment)
        if drawn is None:
            continue
        if drawn.group(1) != line or not drawn.group(2).startswith(current):  # a new line
            found.update(current)
        line, current = drawn.groups()
    found.update(current)
    return found


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["default", "verbose"])
def test_a_mark_per_case_and_failures_by_case(
    differential: Differential, verbose: list[str]
) -> None:
    pair = differential.run(SOURCE, "--force-sugar", *verbose, env=SUGAR)
    pair.assert_same("*- test_it.py:* test_x[[]fail[]]")
    expected = marks(pair.parametrized.stdout.str())
    assert sum(expected.values()) == 6, pair.parametrized.stdout.str()
    # The parent has a mark of its own, for its own outcome, as in pytest's own progress.
    found = marks(pair.concurrent.stdout.str())
    assert found - Counter(FAILED) == expected, pair.concurrent.stdout.str()
    # The failure is shown under the case's name, and the parent's output has nothing of it.
    pair.concurrent.stdout.fnmatch_lines(["*― test_x[[]fail[]] ―*"])
    assert "Captured stdout call" not in pair.concurrent.stdout.str().split("― test_x ―")[-1]
