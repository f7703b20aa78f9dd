"""The examples are real: the demo passes, concurrently, and the showcase fails as it says."""

from __future__ import annotations

import importlib.util
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import subtest_line, summary
from tests.test_core import call_seconds

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def examples(pytester: pytest.Pytester) -> Path:
    """A copy of examples/ (with its own pytest.ini) to run pytest in."""
    target = pytester.path / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_demo_passes_in_about_the_time_of_its_slowest_case(
    pytester: pytest.Pytester, examples: Path
) -> None:
    result = pytester.runpytest_subprocess(
        str(examples / "test_demo.py"), "-v", "--durations=0", timeout=120
    )
    assert summary(result) == {"subtests passed": 36}
    result.stdout.fnmatch_lines(
        [subtest_line("*test_demo.py::test_every_order_is_processed", "order-36", "PASSED")]
    )
    # 36 cases of 0.2-1.5 s would take ~30 s one after another (the test's call alone: pytest's
    # start, slow on a loaded machine, does not count).
    assert call_seconds(result, "test_demo.py::test_every_order_is_processed") < 15


def test_all_green_examples_pass(pytester: pytest.Pytester, examples: Path) -> None:
    result = pytester.runpytest_subprocess(str(examples), "-v", timeout=120)
    assert result.ret == 0
    counts = summary(result)
    # pytest 9 counts a case's xfail as "xfailed", pytest-subtests as "subtests xfailed".
    assert counts.get("xfailed", 0) + counts.get("subtests xfailed", 0) == 1
    assert counts["subtests passed"] >= 36 + 9 + 3


def test_timeout_showcase_fails_only_its_stuck_case(
    pytester: pytest.Pytester, examples: Path
) -> None:
    result = pytester.runpytest_subprocess(
        str(examples / "showcase_timeouts.py"), "-v", timeout=120
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*asyncgroup.CaseTimeoutError: Timeout (>1s) from asyncgroup*",
            "*1 of 4 cases failed: stuck*",
        ]
    )
    assert summary(result) == {"failed": 1, "subtests passed": 3}


def test_warnings_showcase_warns_about_the_blocking_and_the_leaking_case(
    pytester: pytest.Pytester, examples: Path
) -> None:
    result = pytester.runpytest_subprocess(str(examples / "showcase_warnings.py"), timeout=120)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*AsyncgroupWarning: case 'sync-client': the case blocked the event loop for at least"
            "*time.sleep(0.8)*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*AsyncgroupWarning: case 'fire-and-forget': the case left 1 task running*poll_forever*"]
    )
    assert "case 'polite'" not in result.stdout.str()
    assert "case 'patient'" not in result.stdout.str()


# --------------------------------------------------------------------------------------------
# `python3 run.py demo`: the seed story first, and a closing comparison the README quotes

COMPARISON = re.compile(
    r"^(?P<name>\S+) +(?P<cases>\d+) cases: +(?P<serial>[\d.]+) s one after another"
)


def comparison(lines: list[str]) -> dict[str, tuple[int, float]]:
    """{file or "all": (cases, seconds one after another)} from the demo's closing lines."""
    return {
        m["name"]: (int(m["cases"]), float(m["serial"]))
        for line in lines
        if (m := COMPARISON.match(line.strip()))
    }


def test_the_demo_ends_with_an_honest_comparison_that_the_readme_quotes(
    pytester: pytest.Pytester, examples: Path
) -> None:
    run_py = _load_run_py()
    started = time.monotonic()
    # What `python3 run.py demo` runs, in a copy of the project.
    paths = [str(examples.parent / path) for path in run_py.DEMO_PATHS]
    result = pytester.runpytest_subprocess(*paths, "-v", timeout=120)
    elapsed = time.monotonic() - started
    assert result.ret == 0, result.stdout.str()
    lines = result.outlines
    # The seed story runs first, and the comparison is the last thing printed.
    first_case = next(line for line in lines if "::" in line and "[" in line)
    assert "test_demo.py::test_every_order_is_processed" in first_case
    banner = next(i for i, line in enumerate(lines) if "the cases one after another" in line)
    assert all(not line.startswith("=") for line in lines[banner + 1 :])
    numbers = comparison(lines[banner:])
    assert next(iter(numbers)) == "test_demo.py"
    assert numbers["test_demo.py"][0] == 36
    counted = summary(result)
    all_cases, serial = numbers["all"]
    assert all_cases == counted["subtests passed"] + 1  # and the xfailed case
    assert serial == pytest.approx(
        sum(s for name, (_, s) in numbers.items() if name != "all"), 0.01
    )
    speedup = re.search(r"([\d.]+) s for the whole run: ([\d.]+)x faster", lines[-1])
    assert speedup is not None, lines[-1]
    assert float(speedup.group(1)) <= elapsed  # the wall time is this run's
    assert float(speedup.group(2)) > 3  # concurrent, not one after another (a wide margin)
    # A file's line compares its cases with the parents that ran them, like with like: the two
    # grouped tests of test_groups.py (1 s each) take about 1 s together; its test in no group
    # is not counted (the line said "2.0 s vs 2.0 s" when it was).
    groups = re.search(
        r"^test_groups\.py +2 cases: +([\d.]+) s one after another, +([\d.]+) s concurrently$",
        "\n".join(lines[banner:]),
        re.MULTILINE,
    )
    assert groups is not None, lines[banner:]
    assert float(groups[2]) < 0.75 * float(groups[1]), groups[0]

    # The README shows the same comparison: same files, same cases, each sum here at most 15 %
    # below the README's and at most half again above it (plus 0.5 s): on a loaded machine each
    # case's duration gains its share of every stall.
    readme = (EXAMPLES.parent / "README.md").read_text()
    quoted = comparison(
        readme[readme.index("## Quickstart") : readme.index("## Install")].splitlines()
    )
    assert {name: cases for name, (cases, _) in quoted.items()} == {
        name: cases for name, (cases, _) in numbers.items()
    }
    for name, (_, seconds) in quoted.items():
        assert 0.85 * seconds <= numbers[name][1] <= 1.5 * seconds + 0.5, (name, numbers[name])


def _load_run_py() -> Any:
    spec = importlib.util.spec_from_file_location("run_py", EXAMPLES.parent / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_test_command_shows_progress_and_the_readme_says_what_it_costs() -> None:
    run_py = _load_run_py()
    command = run_py.suite_command(Path("python"), ["-k", "x"])
    assert command[:7] == ["python", "-m", "pytest", "-o", "testpaths=tests", "-n", "2"]
    assert "--durations=10" in command
    assert "console_output_style=count" in command
    assert command[-2:] == ["-k", "x"]
    readme = " ".join((EXAMPLES.parent / "README.md").read_text().split())
    assert run_py.SUITE_COST in readme
    assert run_py.SUITE in readme
