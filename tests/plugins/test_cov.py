"""pytest-cov: plain ``--cov`` measures the cases' lines as it measures the parametrized tests';
with ``--cov-context=test`` each line a case runs (in its fixtures' setup and teardown and in
its body, across its awaits) is attributed to that case's node id, as to its parametrized
test's."""

from __future__ import annotations

from pathlib import Path

from coverage import CoverageData
from differential import Differential

LIB = """\
import asyncio
import time


async def work(name):
    await asyncio.sleep({"a": 0.05, "b": 0.01}.get(name, 0.03))
    if name == "a":
        await asyncio.sleep(0.01)
        return "a"
    if name == "b":
        return "b"
    if name == "fail":
        return "fail"
    return "other"


def prepare(name):
    if name == "a":
        return "prepared a"
    return "prepared"


def clean(name):
    if name == "b":
        return "cleaned b"
    return "cleaned"


def blocking(name):
    time.sleep(0.02)
    if name == "a":
        return "a"
    return "other"


def never_called():
    return None
"""

SOURCE = """
import lib


@pytest.fixture
def prepared(name):
    lib.prepare(name)
    yield
    lib.clean(name)


@cases("name", ["a", "b", "fail", pytest.param("x", marks=pytest.mark.xfail(reason="no"))])
async def test_x(name, prepared):
    result = await lib.work(name)
    assert name not in ("fail", "x"), result
"""


def run(differential: Differential, source: str, *args: str) -> tuple[Path, Path]:
    differential.write(source)
    root = differential.pytester.path
    for folder in ("concurrent", "parametrized"):
        (root / folder / "lib.py").write_text(LIB)
    differential.rerun("--cov=lib", "--cov-report=", *args).assert_same()
    return root / "concurrent", root / "parametrized"


def contexts(folder: Path) -> dict[int, list[str]]:
    """The contexts of each line of lib.py, as coverage recorded them."""
    data = CoverageData(basename=str(folder / ".coverage"))
    data.read()
    found = data.contexts_by_lineno(str(folder / "lib.py"))
    return {line: sorted(names) for line, names in found.items()}


def lines(folder: Path) -> list[int]:
    data = CoverageData(basename=str(folder / ".coverage"))
    data.read()
    return sorted(data.lines(str(folder / "lib.py")) or [])


def test_plain_cov_measures_the_cases_lines(differential: Differential) -> None:
    differential.write(SOURCE)
    root = differential.pytester.path
    for folder in ("concurrent", "parametrized"):
        (root / folder / "lib.py").write_text(LIB)
    pair = differential.rerun("--cov=lib", "--cov-report=term-missing")
    pair.assert_same()
    assert lines(root / "concurrent") == lines(root / "parametrized")
    # The report's line for lib.py (statements, missed, cover, missing lines) is the same.
    report = [line for line in pair.parametrized.outlines if line.startswith("lib.py ")]
    assert len(report) == 1, pair.parametrized.outlines
    assert "30-33, 37" in report[0]
    assert report[0] in pair.concurrent.outlines


def test_cov_context_attributes_each_line_to_the_case_that_ran_it(
    differential: Differential,
) -> None:
    concurrent, parametrized = run(differential, SOURCE, "--cov-context=test")
    expected = contexts(parametrized)
    assert expected[9] == ["test_it.py::test_x[a]|run"]  # only case a gets there
    assert expected[19] == ["test_it.py::test_x[a]|setup"]
    assert expected[25] == ["test_it.py::test_x[b]|teardown"]
    assert contexts(concurrent) == expected


def test_cov_context_leaves_plain_def_cases_to_the_parent(differential: Differential) -> None:
    # Threads running at the same time cannot be told apart (the README says so): the lines of
    # a plain def case's body stay the parent's, as pytest-cov alone attributes them.
    concurrent, parametrized = run(
        differential,
        """
        import lib


        @cases("name", ["a", "b"])
        def test_x(name):
            lib.blocking(name)
        """,
        "--cov-context=test",
    )
    assert contexts(parametrized)[32] == ["test_it.py::test_x[a]|run"]
    assert contexts(concurrent)[32] == ["test_it.py::test_x|run"]
