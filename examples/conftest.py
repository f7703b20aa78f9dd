"""Fixtures shared by the examples, and the demo's closing comparison."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
import pytest_asyncio
from service import Client, Service


@pytest_asyncio.fixture(scope="module")
async def service():
    """One running service per test module: starting it is cheap, but there is
    no reason to do it per case, and every case should hit the same server."""
    svc = Service()
    await svc.start()
    yield svc
    await svc.stop()


@pytest_asyncio.fixture
async def client(service):
    """A fresh connection for each case. Function-scoped, so asyncgroup creates
    one per case: concurrent cases never interleave requests on one socket."""
    c = await Client.connect(service.host, service.port)
    yield c
    await c.close()


# ----------------------------------------------------------------------------
# The comparison printed at the end of `python3 run.py demo`: what the cases
# would take one after another (the sum of their own durations: setup, call and
# teardown, as each case's report gives them) against the time their parents
# took running them together; in all, against the wall time of the whole run.

_started = time.perf_counter()
# test file -> case node id -> seconds; case reports carry asyncgroup's case id.
_cases: defaultdict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
# test node id -> seconds its own reports took (a parent's: the time its cases took together).
_tests: defaultdict[str, float] = defaultdict(float)
# test file -> node ids of its parents, the tests that ran cases; a test in no group and
# without cases is not one, and is left out of the comparison.
_parents: defaultdict[str, set[str]] = defaultdict(set)
# The test pytest is running: a case is reported while its parent runs (one test at a time;
# the demo runs without xdist).
_running = ""


def pytest_sessionstart(session: pytest.Session) -> None:
    global _started
    _started = time.perf_counter()


def pytest_runtest_logstart(nodeid: str) -> None:
    global _running
    _running = nodeid


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0].rpartition("/")[2]
    if getattr(report, "asyncgroup_case_id", None) is not None:
        _cases[path][report.nodeid] += report.duration
        _parents[path].add(_running)
    else:
        _tests[report.nodeid] += report.duration


def pytest_unconfigure(config: pytest.Config) -> None:
    """After pytest's own summary: the last thing the demo prints."""
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is None or hasattr(config, "workerinput") or not _cases:
        return
    wall = time.perf_counter() - _started
    writer = config.get_terminal_writer()
    writer.sep(
        "=", "asyncgroup: the cases one after another (the sum of their durations) and concurrently"
    )
    total_cases, total = 0, 0.0
    # The seed story (test_demo.py) first, then the other files in the order they ran.
    for path in sorted(_cases, key=lambda p: p != "test_demo.py"):
        durations = _cases[path].values()
        total_cases += len(durations)
        total += sum(durations)
        together = sum(_tests[parent] for parent in _parents[path])
        writer.line(
            f"{path:<26} {len(durations):>3} cases: {sum(durations):5.1f} s one after another, "
            f"{together:4.1f} s concurrently"
        )
    writer.line(
        f"{'all':<26} {total_cases:>3} cases: {total:5.1f} s one after another, "
        f"{wall:4.1f} s for the whole run: {total / wall:.1f}x faster"
    )
