"""The test the report writers' tests run (test_html, test_jsonreport, test_reportlog,
test_allure): six cases that each print a line and log a record of their own, at different
times, and end in every outcome a report tells apart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from differential import Differential

T = TypeVar("T")

SIX_CASES = """
import logging

log = logging.getLogger("cases")
DELAY = {"pass1": 0.3, "pass2": 0.5, "pass3": 0.1, "fail": 0.2, "skip": 0.1, "xfail": 0.4}

@cases("name", [
    "pass1", "pass2", "pass3", "fail", "skip",
    pytest.param("xfail", marks=pytest.mark.xfail(reason="known broken")),
])
async def test_x(name):
    print(f"stdout of {name}")
    log.warning("log record of %s", name)
    await asyncio.sleep(DELAY[name])
    if name == "skip":
        pytest.skip("skipping case skip")
    assert name != "fail", "case fail fails"
    assert name != "xfail", "case xfail fails as expected"
"""
NAMES = ["pass1", "pass2", "pass3", "fail", "skip", "xfail"]
NODEIDS = {f"test_it.py::test_x[{name}]": name for name in NAMES}


def own_output_only(name: str, text: str) -> bool:
    """Whether ``text`` has case ``name``'s line and record, and no other case's."""
    others = [other for other in NAMES if other != name]
    return (
        f"stdout of {name}" in text
        and f"log record of {name}" in text
        and not any(f"stdout of {o}" in text or f"log record of {o}" in text for o in others)
    )


def both_reports(
    differential: Differential, read: Callable[[Path], T], report: str, *args: str
) -> tuple[T, T]:
    """Run SIX_CASES both ways with ``args``, check that the outcomes are the same, and return
    the report file ``report`` of each run (concurrent, then parametrized) as ``read`` reads it."""
    differential.run(SIX_CASES, *args).assert_same()
    folder = differential.pytester.path
    return read(folder / "concurrent" / report), read(folder / "parametrized" / report)
