"""The examples are real: the demo passes, concurrently, and the showcase fails as it says."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import subtest_line, summary

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
    started = time.monotonic()
    result = pytester.runpytest_subprocess(str(examples / "test_demo.py"), "-v", timeout=120)
    elapsed = time.monotonic() - started
    assert summary(result) == {"passed": 1, "subtests passed": 36}
    result.stdout.fnmatch_lines(
        [subtest_line("*test_demo.py::test_every_order_is_processed", "order-36", "PASSED")]
    )
    # 36 cases of 0.2-1.5 s would take ~30 s one after another.
    assert elapsed < 15


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
            "*asyncgroup.CaseTimeoutError: Timeout (>0.5s) from asyncgroup*",
            "*1 of 4 cases failed: stuck*",
        ]
    )
    assert summary(result) == {"failed": 2, "subtests passed": 3}


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
