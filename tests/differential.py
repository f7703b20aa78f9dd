"""Differential tests: the same test as ``@concurrent_cases`` and as a parametrized test.

A case is the test it stands for, so the right value of every outcome is what pytest does with
``@pytest.mark.asyncio`` + ``@pytest.mark.parametrize`` (on a plain ``def`` test, the latter
alone). ``Differential`` writes one test source twice, in two project folders that differ only
in what ``@cases(argnames, argvalues, ...)`` means, runs pytest in each with the same
arguments, and compares what a user would compare: the outcome of every node id (each
report's, in pytest's words: passed, failed, error, skipped, xfailed, xpassed; a case's
SUBPASSED is "passed"), the exit code, and any lines the test names. The parent of the cases
is the only node id the parametrized run lacks, and is left out.

    def test_x(differential):
        pair = differential.run('''
            @cases("order", ["a", "b"])
            async def test_x(order):
                assert order != "b"
        ''', "-k", "b")
        pair.assert_same()
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

# The two meanings of @cases; both headers have the same number of lines, so that line numbers
# in reports agree.
_CONCURRENT = """\
import asyncio
import pytest
from asyncgroup import concurrent_cases as cases



"""
_PARAMETRIZED = """\
import asyncio, inspect, pytest
def cases(argnames, argvalues, **kwargs):  # a plain def test (or static method): no asyncio mark
    def parametrized(f, is_async=lambda f: inspect.iscoroutinefunction(getattr(f, "__func__", f))):
        f = pytest.mark.parametrize(argnames, argvalues, **kwargs)(f)
        return pytest.mark.asyncio(f) if is_async(f) else f
    return parametrized
"""
assert _CONCURRENT.count("\n") == _PARAMETRIZED.count("\n")

# Records, per node id, what each report says, in the words of pytest's terminal.
_RECORDER = """
import json

_outcomes = {}


def _category(report):
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when != "call":
        return {"failed": "error", "skipped": "skipped"}.get(report.outcome)
    return report.outcome


def pytest_runtest_logreport(report):
    category = _category(report)
    if category:
        entry = _outcomes.setdefault(report.nodeid, {"case": False, "outcomes": []})
        entry["outcomes"].append(category)
        entry["case"] = entry["case"] or hasattr(report, "asyncgroup_case_id")


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):
        with open("outcomes.json", "w") as file:
            json.dump(_outcomes, file)
"""


@dataclass
class Pair:
    concurrent: pytest.RunResult
    parametrized: pytest.RunResult
    concurrent_outcomes: dict[str, list[str]]
    parametrized_outcomes: dict[str, list[str]]
    parents: set[str]

    def assert_same(self, *patterns: str, cancelled: bool = False) -> None:
        """Same outcome per node id, same exit code, and each fnmatch pattern in both outputs.

        ``cancelled``: the run stops at a failure (-x, --sw); cases that had started at the same
        time may be cancelled (skipped) where the parametrized test after it never started.
        """
        cases = {k: v for k, v in self.concurrent_outcomes.items() if k not in self.parents}
        if cancelled:
            extra = {k: v for k, v in cases.items() if k not in self.parametrized_outcomes}
            assert all(v == ["skipped"] for v in extra.values()), self._both()
            cases = {k: v for k, v in cases.items() if k not in extra}
        assert cases == self.parametrized_outcomes, self._both()
        assert self.concurrent.ret == self.parametrized.ret, self._both()
        for pattern in patterns:
            for result in (self.concurrent, self.parametrized):
                assert _in(result.outlines + result.errlines, pattern), (pattern, self._both())

    def assert_same_counts(self) -> None:
        """The summary line counts the cases as the parametrized run counts its tests.

        A case passing is "subtests passed" (pytest's word for it; the parametrized run says
        "passed"); everything else must be equal: a parent is counted only when it fails for a
        reason of its own, which the parametrized run has no test for.
        """
        counts = _counts(self.concurrent)
        if "subtests passed" in counts:
            counts["passed"] = counts.get("passed", 0) + counts.pop("subtests passed")
        assert counts == _counts(self.parametrized), self._both()

    def assert_same_short_summary(self) -> None:
        """The same lines in the short test summary (-r), in any order, but the parents'."""
        parents = {nodeid.rpartition("::")[2] for nodeid in self.parents}

        def lines(result: pytest.RunResult) -> list[str]:
            found = _short_summary(result)
            return sorted(line for line in found if not _names_any(line, parents))

        assert lines(self.concurrent) == lines(self.parametrized), self._both()

    def _both(self) -> str:
        return (
            f"concurrent: {self.concurrent_outcomes}\nparametrized: {self.parametrized_outcomes}"
            f"\nexit codes: {self.concurrent.ret} / {self.parametrized.ret}"
            f"\n--- concurrent output\n{self.concurrent.stdout.str()}"
            f"\n{self.concurrent.stderr.str()}"
            f"\n--- parametrized output\n{self.parametrized.stdout.str()}"
            f"\n{self.parametrized.stderr.str()}"
        )


def _counts(result: pytest.RunResult) -> dict[str, int]:
    """The counts of pytest's last summary line: {"failed": 2, "subtests passed": 1, ...}."""
    line = next(line for line in reversed(result.outlines) if re.search(r" in [\d.]+s", line))
    found = re.findall(r"(\d+) ((?:subtests )?[a-z]+)", line)
    singular = {"errors": "error", "warnings": "warning"}
    return {singular.get(name, name): int(count) for count, name in found}


def _short_summary(result: pytest.RunResult) -> list[str]:
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if "short test summary info" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("="))
    return lines[start + 1 : end]


def _names_any(line: str, names: set[str]) -> bool:
    """Whether a short summary line is about one of these tests (by name, no brackets)."""
    return any(re.search(rf"::{re.escape(name)}( |$)", line) for name in names)


def _in(lines: list[str], pattern: str) -> bool:
    import fnmatch

    return any(fnmatch.fnmatch(line, pattern) for line in lines)


# Every fixture leaves a line in set-up.txt when it is set up: session, module, class, an
# autouse one, and the event loop pytest-asyncio would run the test on (its policy fixture).
# A test using ``database`` and ``suite`` sets up all of them; wants ``asyncio`` and ``pytest``.
SET_UP_RECORDED = """
import pathlib


def record(name):
    with pathlib.Path("set-up.txt").open("a") as file:
        file.write(name + "\\n")


@pytest.fixture(scope="session")
def event_loop_policy():
    record("event loop")
    return asyncio.DefaultEventLoopPolicy()


@pytest.fixture(scope="session")
def server():
    record("session")


@pytest.fixture(scope="module")
def database(server):
    record("module")
    yield
    record("module teardown")


@pytest.fixture(autouse=True)
def each_test():
    record("autouse")


@pytest.fixture(scope="class")
def suite():
    record("class")

"""


def skipped_whole(arguments: str = "", class_arguments: str = "") -> list[object]:
    """Sources of a two-case test skipped (or xfailed without running) as a whole by a mark on
    it, its class or its module, each case then reported as its parametrized test; as
    ``pytest.param`` sets with ids. ``arguments``: more arguments of the test (", database");
    ``class_arguments``: more for the test in the class (", suite")."""
    body = f"async def test_x(n{arguments}):\n    assert False\n"
    on_test = {
        "skip": '@pytest.mark.skip(reason="whole")',
        "skipif": '@pytest.mark.skipif(True, reason="not here")',
        "skipif-condition": '@pytest.mark.skipif("sys.platform != \'nope\'", reason="not here")',
        "xfail-run-false": '@pytest.mark.xfail(run=False, reason="hangs")',
    }
    sources = [
        pytest.param(f'{mark}\n@cases("n", [1, 2])\n{body}', id=name)
        for name, mark in on_test.items()
    ]
    in_class = (
        '@pytest.mark.skip(reason="the class")\nclass TestC:\n    @cases("n", [1, 2])\n'
        f"    async def test_x(self, n{arguments}{class_arguments}):\n        assert False\n"
    )
    sources.append(pytest.param(in_class, id="class"))
    for name, mark in (
        ("module", 'pytest.mark.skipif("sys.platform != \'nope\'", reason="the module")'),
        ("module-skip", 'pytest.mark.skip(reason="the module")'),
    ):
        sources.append(pytest.param(f'pytestmark = {mark}\n\n@cases("n", [1, 2])\n{body}', id=name))
    return sources


class Differential:
    """Writes a test source as both versions; runs pytest on each with the same arguments."""

    def __init__(self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pytester = pytester
        self.monkeypatch = monkeypatch
        self.ini_lines: list[str] = ["asyncio_default_fixture_loop_scope = function"]

    def write(self, source: str, name: str = "test_it.py") -> None:
        body = textwrap.dedent(source)
        for folder, header in (("concurrent", _CONCURRENT), ("parametrized", _PARAMETRIZED)):
            path = self.pytester.path / folder
            path.mkdir(exist_ok=True)
            (path / "pytest.ini").write_text("[pytest]\n" + "\n".join(self.ini_lines) + "\n")
            (path / "conftest.py").write_text(_RECORDER)
            (path / name).write_text(header + body)

    def add_to_conftest(self, text: str) -> None:
        """Append ``text`` (hooks, fixtures) to both folders' conftest.py, after write."""
        for folder in ("concurrent", "parametrized"):
            with (self.pytester.path / folder / "conftest.py").open("a") as conftest:
                conftest.write(text)

    def rerun(self, *args: str, env: dict[str, str] | None = None) -> Pair:
        """Run pytest again in both folders (the cache of the runs before stays)."""
        results, outcomes = [], []
        for folder in ("concurrent", "parametrized"):
            path: Path = self.pytester.path / folder
            (path / "outcomes.json").unlink(missing_ok=True)
            with self.monkeypatch.context() as patch:
                patch.chdir(path)
                for key, value in (env or {}).items():
                    patch.setenv(key, value)
                result = self.pytester.runpytest_subprocess("-p", "no:randomly", *args, timeout=60)
            results.append(result)
            recorded = path / "outcomes.json"
            outcomes.append(json.loads(recorded.read_text()) if recorded.exists() else {})
        concurrent, parametrized = outcomes
        parents = {
            nodeid
            for nodeid, entry in concurrent.items()
            if nodeid not in parametrized and not entry["case"]
        }
        return Pair(
            results[0],
            results[1],
            {k: v["outcomes"] for k, v in concurrent.items()},
            {k: v["outcomes"] for k, v in parametrized.items()},
            parents,
        )

    def run(self, source: str, *args: str, env: dict[str, str] | None = None) -> Pair:
        self.write(source)
        return self.rerun(*args, env=env)


def section(result: pytest.RunResult, title: str) -> str:
    """The text of one ``____ title ____`` section of pytest's report (failures, errors, or -rA
    passes): "ERROR at setup of test_x[1]", say."""
    text = result.stdout.str()
    match = re.search(rf"\n_+ {re.escape(title)} _+\n(.*?)(?=\n[_=]{{3,}} )", text, re.DOTALL)
    assert match, text
    return match.group(1)


def names_where(
    result: pytest.RunResult,
    title: str,
    name: str,
    path: Path,
    defined: str,
    blocks: str = "time.sleep",
) -> int:
    """Check the ERROR section ``title`` ("setup of test_x[2]") of a case whose sync fixture
    step ran past its timeout: it gives where ``name`` (the fixture or finalizer) is defined,
    the line of ``path`` that has ``defined`` (its first line: a fixture's decorator's, as
    pytest 9 gives a fixture's location), and where the watchdog saw it block: the first line
    from there that has ``blocks``, as the parametrized test's traceback under pytest-timeout
    shows that line. Returns the blocking line's number."""
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines, 1) if defined in line)
    first = at - 1 if lines[at - 2].lstrip().startswith("@") else at
    sleeps = next(i for i, line in enumerate(lines, 1) if i >= at and blocks in line)
    error = section(result, f"ERROR at {title}")
    assert f"  {name} is defined at test_it.py:{first}\n" in error, error
    assert "All traceback entries are hidden" not in error, error  # none of them is the user's
    watchdog = f"  the watchdog saw it block the event loop at test_it.py:{sleeps}: "
    assert watchdog + lines[sleeps - 1].strip() in error, error
    return sleeps


@pytest.fixture
def differential(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Differential:
    return Differential(pytester, monkeypatch)
