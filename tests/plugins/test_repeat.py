"""pytest-repeat: ``--count N`` runs each case N times, as it runs the parametrized test; what
differs is the order in a case's id: ``test_x[1-2-a]``, where the parametrized test's reads
``test_x[a-1-2]`` (pytest-repeat parametrizes the parent, whose parameters come first)."""

from __future__ import annotations

import re

from differential import Differential

SOURCE = """
@cases("name", ["a", "fail", pytest.param("x", marks=pytest.mark.xfail(reason="no")), "skip"])
async def test_x(name):
    await asyncio.sleep(0.05)
    if name == "skip":
        pytest.skip("skipping")
    assert name not in ("fail", "x")
"""


def as_parametrized(outcomes: dict[str, list[str]], parents: set[str]) -> dict[str, list[str]]:
    """The cases' outcomes under the parametrized test's ids: test_x[1-2-a] -> test_x[a-1-2]."""
    renamed = {}
    for nodeid, found in outcomes.items():
        if nodeid not in parents:
            nodeid = re.sub(r"\[(\d+-\d+)-(.+)\]$", r"[\2-\1]", nodeid)
            renamed[nodeid] = found
    return renamed


def test_count_runs_each_case_count_times(differential: Differential) -> None:
    pair = differential.run(SOURCE, "--count", "2")
    assert len(pair.parametrized_outcomes) == 8
    assert pair.parametrized_outcomes["test_it.py::test_x[fail-2-2]"] == ["failed"]
    found = as_parametrized(pair.concurrent_outcomes, pair.parents)
    assert found == pair.parametrized_outcomes
    assert pair.concurrent.ret == pair.parametrized.ret == 1
    assert pair.parents == {"test_it.py::test_x[1-2]", "test_it.py::test_x[2-2]"}
