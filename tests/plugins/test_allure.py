"""allure-pytest: a result per case (status, status details, parameters, history id, its own
output and log attached), and each case's steps and attachments in that case's result, as for
the parametrized test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from differential import Differential
from report_cases import NODEIDS, SIX_CASES, own_output_only


def _results(folder: Path) -> dict[str, dict[str, Any]]:
    """Test name (``test_x[pass1]``) -> the result allure-pytest wrote for it."""
    results = [json.loads(path.read_text()) for path in folder.glob("*-result.json")]
    return {result["name"]: result for result in results}


def _attached(folder: Path, result: dict[str, Any]) -> dict[str, str]:
    return {a["name"]: (folder / a["source"]).read_text() for a in result.get("attachments", [])}


def _told(result: dict[str, Any]) -> tuple[Any, ...]:
    details = result.get("statusDetails") or {}
    return (
        result["status"],
        (details.get("message") or "").splitlines()[:1],
        bool(details.get("trace")),
        result["fullName"].partition("#")[2],
        result["historyId"],
        [(p["name"], p["value"]) for p in result["parameters"]],
        sorted(label["name"] for label in result["labels"]),
    )


@pytest.mark.parametrize("options", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_result_per_case(differential: Differential, options: list[str]) -> None:
    pair = differential.run(SIX_CASES, "--alluredir=allure", *options)
    pair.assert_same()
    folders = [
        differential.pytester.path / name / "allure" for name in ("concurrent", "parametrized")
    ]
    concurrent, parametrized = (_results(folder) for folder in folders)
    for nodeid, name in NODEIDS.items():
        test_name = nodeid.rpartition("::")[2]
        case, test = concurrent[test_name], parametrized[test_name]
        assert _told(case) == _told(test), test_name
        attached = _attached(folders[0], case)
        assert sorted(attached) == sorted(_attached(folders[1], test)) == ["log", "stdout"]
        assert own_output_only(name, attached["stdout"] + attached["log"]), attached
    assert concurrent["test_x[fail]"]["status"] == "failed"
    assert concurrent["test_x[xfail]"]["statusDetails"]["message"].startswith("XFAIL known broken")


STEPS = """
import allure

@cases("name", ["a", "b", "c"])
async def test_steps(name):
    delay = {"a": 0.3, "b": 0.1, "c": 0.2}[name]
    with allure.step(f"outer step of {name}"):
        await asyncio.sleep(delay)
        with allure.step(f"inner step of {name}"):
            await asyncio.sleep(delay)
            allure.attach(f"attached in {name}", name="note")
    assert name != "c"
"""


def _steps(steps: list[dict[str, Any]]) -> list[Any]:
    return [
        (
            step["name"],
            step["status"],
            [a["name"] for a in step.get("attachments", [])],
            _steps(step.get("steps", [])),
        )
        for step in steps
    ]


def test_steps_of_each_case_in_its_result(differential: Differential) -> None:
    differential.run(STEPS, "--alluredir=allure").assert_same()
    folders = [
        differential.pytester.path / name / "allure" for name in ("concurrent", "parametrized")
    ]
    concurrent, parametrized = (_results(folder) for folder in folders)
    for name in "abc":
        case, test = concurrent[f"test_steps[{name}]"], parametrized[f"test_steps[{name}]"]
        assert _steps(case["steps"]) == _steps(test["steps"]), (case["steps"], test["steps"])
        [(_, _, _, [(inner, _, attachments, _)])] = _steps(case["steps"])
        assert inner == f"inner step of {name}"
        assert attachments == ["note"]
        note = case["steps"][0]["steps"][0]["attachments"][0]["source"]
        assert (folders[0] / note).read_text() == f"attached in {name}"
        assert case["status"] == test["status"]
    assert not concurrent["test_steps"].get("steps")  # the parent's result has none of them


TITLED = """
import allure

@allure.title("case {name}")
@cases("name", ["a", pytest.param("b", marks=pytest.mark.slow)])
async def test_titled(name):
    await asyncio.sleep(0.1)
"""


def test_title_and_a_case_s_marks(differential: Differential) -> None:
    """@allure.title names each case's result; a case's own mark is a tag of its result only."""
    differential.run(TITLED, "--alluredir=allure").assert_same()
    folders = [
        differential.pytester.path / name / "allure" for name in ("concurrent", "parametrized")
    ]
    concurrent, parametrized = (_results(folder) for folder in folders)
    for name in ("case a", "case b"):
        assert _told(concurrent[name]) == _told(parametrized[name]), name
    tags = {
        name: sorted(
            label["value"] for label in concurrent[name]["labels"] if label["name"] == "tag"
        )
        for name in ("case a", "case b")
    }
    assert "slow" in tags["case b"]
    assert "slow" not in tags["case a"]
