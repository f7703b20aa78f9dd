"""Benchmark asyncgroup's overhead against bare asyncio, on the workloads users run.

What is measured
----------------
For every workload, pytest output mode and case count N, two programs do the same work N times
concurrently, each as its own child process:

* bare:        a plain script, ``asyncio.run(main())`` where ``main`` gathers the N cases;
* asyncgroup:  a pytest file with one ``@concurrent_cases(range(N))`` test, run as
               ``python -m pytest -p no:cacheprovider <mode flags> <file>``.

Workloads (``--workload``), each case sleeping ``--sleep`` seconds:

* ``plain``:    the body is ``await asyncio.sleep(S)``, no fixtures;
* ``fixtures``: the case requests two per-case fixtures, an async generator and a sync
                generator; the bare script does the same work with an ``async with`` and a
                ``with`` (``contextlib.asynccontextmanager`` / ``contextmanager``);
* ``failing``:  a third of the cases fail with an ordinary ``assert`` after the sleep; the bare
                script gathers with ``return_exceptions=True`` and counts the AssertionErrors.

Modes (``--mode``): ``default`` (no flags), ``quiet`` (``-q``), ``verbose`` (``-v``) and
``junitxml`` (``--junitxml=<file in the temp dir>``).

For each run the script records the wall time (``time.perf_counter()`` around the whole child
process: interpreter start-up, imports, collection and reporting included; with Python's
bytecode cache on, as a user's pytest runs, warmed once before any run is measured), the peak RSS
(``ru_maxrss`` of the child, from ``os.wait4``) and the CPU seconds (user + system of the child
and its children). A small launcher process forks and execs each child and measures it, so that
its peak RSS is its own and not this script's (see LAUNCHER). On a busy machine the wall times
grow with the load and the CPU seconds much less: each row carries the 1-minute load average
when it was done. Each measurement is repeated ``--repeat`` times, bare and asyncgroup
alternating, and the median is reported.
``us/case`` is ``(asyncgroup wall - bare wall) / N`` in microseconds: asyncgroup's cost per case.

Every pytest child is checked: exit code 0 (1 for ``failing``) and a summary line with the
expected counts. Otherwise the script prints the tail of its output, then the table of the
rows measured before it (and writes them to ``--json``), and exits 2.

``--check`` enforces the goals of issue 15 (``--sleep 1`` only; only the rows that were run):

* plain, default, 10,000: ratio <= 1.5
* fixtures, default, 10,000: ratio <= 1.6; at 100,000: ratio <= 2.0 and peak memory <= 1.5 x
  the bare script's
* plain and fixtures, verbose and junitxml: ratio <= 2.0 at 10,000 and <= 3.0 at 100,000
* failing, default, 10,000: ratio <= 3.0
* per-case cost flat: for each workload and mode, us/case and CPU us/case at a larger N are at
  most 1.5 x the figures at the next smaller N, or 10 us (fixed start-up costs make them fall,
  never rise); and from 1,000 cases up, what one more case costs (CPU us, between two Ns) is at
  most 1.5 x, or 10 us, what it cost between the two Ns below (the averages can hide its growth)

If a goal is missed, the script prints it and exits 1.

Peers (``--peers``)
-------------------
The same workloads (default mode) run under the other ways of running async cases concurrently,
each in a venv of its own made with pip under ``--cache-dir`` (nothing in the repository):

* ``subtests+gather`` on pytest 9 and on pytest 8 + pytest-subtests: one async test that gathers
  the N cases by hand, each inside ``with subtests.test(n=n):``;
* ``pytest-asyncio-concurrent`` on pytest 8 (``@pytest.mark.asyncio_concurrent(group=...)`` over
  ``@pytest.mark.parametrize``), and on pytest 9, where it errors: the error is its result;
* ``pytest-xdist -n 2`` over plain parametrized async tests (pytest-asyncio), at
  ``--xdist-cases`` cases (default 20): the tests run one after another on each worker.

A peer that cannot be installed or fails is reported as such in the table, not as an error of
this script. Ratios are to the bare script at the same N.

How to run (from the repository root)
-------------------------------------
Measure asyncgroup in a venv that has only asyncgroup, pytest and pytest-asyncio: other plugins'
per-report hooks are their cost, not asyncgroup's::

    python3 -m venv /tmp/bench9 && /tmp/bench9/bin/pip install -e .
    python3 benchmarks/bench.py --python /tmp/bench9/bin/python \\
        --workload plain,fixtures,failing --mode default,verbose,junitxml \\
        --cases 1000,10000,100000 --check --peers

Only the standard library is used. Python 3.10+ is required. Peak RSS is read as KiB, which is
right on Linux (on macOS ``ru_maxrss`` is in bytes and is converted).
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# pytest flags per mode. "default" is what a user gets with no flags. (asyncgroup's summary
# then counts the cases, "10000 subtests passed"; hand-written subtests on pytest 9 are left out
# of it when they pass, "1 passed", which then means every case passed.)
MODES = {
    "default": [],
    "quiet": ["-q"],
    "verbose": ["-v"],
    "junitxml": ["--junitxml={tmpdir}/junit.xml"],
}

WORKLOADS = ("plain", "fixtures", "failing")

# The child runs in its own temp dir with this ini file. The file keeps pytest from picking up
# any surrounding config, and it silences pytest-asyncio's loop scope warning.
PYTEST_INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
"""

# Per workload: the fixtures (pytest) / context managers (bare), and the case body after them.
FIXTURES = """\
@pytest_asyncio.fixture
async def connection():
    yield {{"open": True}}


@pytest.fixture
def record():
    data = []
    yield data
    data.clear()
"""

CONTEXT_MANAGERS = """\
@contextlib.asynccontextmanager
async def connection():
    yield {{"open": True}}


@contextlib.contextmanager
def record():
    data = []
    yield data
    data.clear()
"""

# A third of the cases fail: those with n % 3 == 1.
FAILING_ASSERT = "assert n % 3 != 1, f'case {{n}} failed'"

ASYNCGROUP_TESTS = {
    "plain": """\
import asyncio

from asyncgroup import concurrent_cases


@concurrent_cases(range({n}))
async def test_case(n):
    await asyncio.sleep({sleep})
""",
    "fixtures": f"""\
import asyncio

import pytest
import pytest_asyncio

from asyncgroup import concurrent_cases


{FIXTURES}

@concurrent_cases(range({{n}}))
async def test_case(n, connection, record):
    record.append(n)
    await asyncio.sleep({{sleep}})
""",
    "failing": f"""\
import asyncio

from asyncgroup import concurrent_cases


@concurrent_cases(range({{n}}))
async def test_case(n):
    await asyncio.sleep({{sleep}})
    {FAILING_ASSERT}
""",
}

BARE_SCRIPTS = {
    "plain": """\
import asyncio


async def case(n):
    await asyncio.sleep({sleep})


async def main():
    await asyncio.gather(*(case(i) for i in range({n})))


asyncio.run(main())
""",
    "fixtures": f"""\
import asyncio
import contextlib


{CONTEXT_MANAGERS}

async def case(n):
    async with connection():
        with record() as data:
            data.append(n)
            await asyncio.sleep({{sleep}})


async def main():
    await asyncio.gather(*(case(i) for i in range({{n}})))


asyncio.run(main())
""",
    "failing": f"""\
import asyncio
import sys


async def case(n):
    await asyncio.sleep({{sleep}})
    {FAILING_ASSERT}


async def main():
    results = await asyncio.gather(*(case(i) for i in range({{n}})), return_exceptions=True)
    failed = sum(isinstance(result, AssertionError) for result in results)
    print(f"{{{{failed}}}} failed, {{{{len(results) - failed}}}} passed")
    return failed


sys.exit(1 if asyncio.run(main()) else 0)
""",
}

# The seed's solution 3: one async test gathering its cases by hand, each in a subtest.
SUBTESTS_GATHER_TESTS = {
    "plain": """\
import asyncio

import pytest


@pytest.mark.asyncio
async def test_case(subtests):
    async def case(n):
        with subtests.test(n=n):
            await asyncio.sleep({sleep})

    await asyncio.gather(*(case(i) for i in range({n})))
""",
    "fixtures": f"""\
import asyncio
import contextlib

import pytest


{CONTEXT_MANAGERS}

@pytest.mark.asyncio
async def test_case(subtests):
    async def case(n):
        with subtests.test(n=n):
            async with connection():
                with record() as data:
                    data.append(n)
                    await asyncio.sleep({{sleep}})

    await asyncio.gather(*(case(i) for i in range({{n}})))
""",
    "failing": f"""\
import asyncio

import pytest


@pytest.mark.asyncio
async def test_case(subtests):
    async def case(n):
        with subtests.test(n=n):
            await asyncio.sleep({{sleep}})
            {FAILING_ASSERT}

    await asyncio.gather(*(case(i) for i in range({{n}})))
""",
}


# pytest's own floor: the same pytest command (mode flags included) on one plain
# pytest-asyncio test that sleeps as a case does. No run of N cases under pytest can take less:
# it is pytest's start-up, collection and reporting of a single test, with the sleep.
FLOOR_TEST = """\
import asyncio

import pytest


@pytest.mark.asyncio
async def test_case():
    await asyncio.sleep({sleep})
"""


def parametrized_tests(marker: str) -> dict[str, str]:
    """Plain parametrized async tests, each marked with ``marker``."""
    return {
        "plain": f"""\
import asyncio

import pytest


{marker}
@pytest.mark.parametrize("n", range({{n}}))
async def test_case(n):
    await asyncio.sleep({{sleep}})
""",
        "fixtures": f"""\
import asyncio

import pytest
import pytest_asyncio


{FIXTURES}

{marker}
@pytest.mark.parametrize("n", range({{n}}))
async def test_case(n, connection, record):
    record.append(n)
    await asyncio.sleep({{sleep}})
""",
        "failing": f"""\
import asyncio

import pytest


{marker}
@pytest.mark.parametrize("n", range({{n}}))
async def test_case(n):
    await asyncio.sleep({{sleep}})
    {FAILING_ASSERT}
""",
    }


@dataclass
class Runner:
    """A way of running the workloads under pytest: asyncgroup or a peer."""

    name: str
    tests: dict[str, str]
    requirements: list[str] = field(default_factory=list)  # for a peer's own venv
    flags: list[str] = field(default_factory=list)
    small_n: bool = False  # runs at --xdist-cases instead of --cases
    python: str = ""  # set once its venv exists


def peers() -> list[Runner]:
    asyncio_req = "pytest-asyncio>=1.0"
    return [
        Runner(
            "subtests+gather, pytest 9",
            SUBTESTS_GATHER_TESTS,
            ["pytest>=9,<10", asyncio_req],
        ),
        Runner(
            "subtests+gather, pytest 8",
            SUBTESTS_GATHER_TESTS,
            ["pytest>=8,<9", "pytest-subtests>=0.14", asyncio_req],
        ),
        Runner(
            "pytest-asyncio-concurrent, pytest 8",
            parametrized_tests('@pytest.mark.asyncio_concurrent(group="cases")'),
            ["pytest>=8,<9", "pytest-asyncio-concurrent", asyncio_req],
        ),
        Runner(
            "pytest-asyncio-concurrent, pytest 9",
            parametrized_tests('@pytest.mark.asyncio_concurrent(group="cases")'),
            ["pytest>=9,<10", "pytest-asyncio-concurrent", asyncio_req],
        ),
        Runner(
            "pytest-xdist -n 2, pytest 9",
            parametrized_tests("@pytest.mark.asyncio"),
            ["pytest>=9,<10", "pytest-xdist", asyncio_req],
            flags=["-n", "2"],
            small_n=True,
        ),
    ]


# --------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare asyncgroup (and its peers) with bare asyncio.gather scripts.",
    )
    parser.add_argument(
        "--cases",
        action="append",
        metavar="N",
        help="number of cases; repeatable or comma-separated (default 10000)",
    )
    parser.add_argument(
        "--workload",
        action="append",
        metavar="W",
        help=f"{', '.join(WORKLOADS)}; repeatable or comma-separated (default plain)",
    )
    parser.add_argument(
        "--mode",
        action="append",
        metavar="MODE",
        help=f"pytest output mode(s): {', '.join(MODES)}; "
        "repeatable or comma-separated (default: default)",
    )
    parser.add_argument(
        "--sleep",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds each case sleeps; 0 means asyncio.sleep(0) (default 1.0)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        metavar="R",
        help="runs per measurement; the median is reported (default 3)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        metavar="PATH",
        help="interpreter for the bare and asyncgroup children (default: this one)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a goal of issue 15 is missed"
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also measure the peers (default mode), each in a venv of its own",
    )
    parser.add_argument(
        "--xdist-cases",
        type=int,
        default=20,
        metavar="N",
        help="case count for pytest-xdist, which runs them one after another (default 20)",
    )
    parser.add_argument(
        "--cache-dir",
        default=os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "asyncgroup-bench"
        ),
        metavar="DIR",
        help="where the peers' venvs are made (default ~/.cache/asyncgroup-bench)",
    )
    parser.add_argument("--json", metavar="FILE", help="write the results to FILE as JSON")
    args = parser.parse_args(argv)

    args.cases = case_counts(parser, split_list(args.cases or ["10000"]))
    args.mode = split_list(args.mode or ["default"])
    args.workload = split_list(args.workload or ["plain"])
    if not args.mode or not args.workload:
        parser.error("--mode and --workload need at least one value")
    for mode in args.mode:
        if mode not in MODES:
            parser.error(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    for workload in args.workload:
        if workload not in WORKLOADS:
            parser.error(f"unknown workload {workload!r}; choose from {', '.join(WORKLOADS)}")
    if args.xdist_cases < 1:
        parser.error(f"--xdist-cases must be a positive whole number, not {args.xdist_cases}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not math.isfinite(args.sleep) or args.sleep < 0:
        parser.error(f"--sleep must be a finite number of seconds >= 0, not {args.sleep}")
    args.python = interpreter(parser, args.python)
    if args.json and not Path(args.json).resolve().parent.is_dir():
        # Found out now, not after every run is measured.
        parser.error(f"--json {args.json}: no such directory {Path(args.json).parent}")
    return args


def case_counts(parser: argparse.ArgumentParser, values: list[str]) -> list[int]:
    """The case counts as positive ints, each once (10 and 010 are one count)."""
    counts = []
    for value in values:
        if not re.fullmatch("[0-9]+", value) or int(value) < 1:
            parser.error(
                f"--cases: {value!r} is not a positive whole number (write 100000, not 100,000: "
                "a comma separates counts)"
            )
        counts.append(int(value))
    if not counts:
        parser.error("--cases needs at least one count")
    return list(dict.fromkeys(counts))


def interpreter(parser: argparse.ArgumentParser, python: str) -> str:
    """--python as an absolute path (a name with no slash is looked up on PATH, as a shell
    does): the children run in a temporary directory, where a relative path would name another
    file, or none."""
    found = shutil.which(python) if os.sep not in python else python
    if found is None or not os.access(found, os.X_OK) or os.path.isdir(found):
        parser.error(f"--python {python}: no such executable")
    return os.path.abspath(found)


def split_list(values: list[str]) -> list[str]:
    """Flatten ['1000,10000', '100000'] into ['1000', '10000', '100000'], each once."""
    items = [item.strip() for value in values for item in value.split(",")]
    return list(dict.fromkeys(item for item in items if item))  # dedupe, keep order


# --------------------------------------------------------------------------
# Running one child process


# The children run as a user's pytest does: with Python's bytecode cache. pytest rewrites the
# asserts of every module of a pytest11 plugin (asyncgroup's 30-odd modules) and caches the result
# in __pycache__; with PYTHONDONTWRITEBYTECODE set (some shells and CI images set it) it rewrites
# them again on every run, 0.1-0.15 s of CPU here that has nothing to do with the cases.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def warm_up(python: str) -> None:
    """Load pytest's plugins once, so that their rewritten modules are cached before any run
    is measured (the first run after an install writes them)."""
    with tempfile.TemporaryDirectory(prefix="asyncgroup-bench-") as tmp:
        subprocess.run(
            [python, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", tmp],
            env=CHILD_ENV,
            capture_output=True,
            check=False,
            timeout=120,
        )


# Each measured child is started by this small launcher, itself a child of the benchmark: it
# forks and execs the command and writes the child's exit code, wall seconds and resource usage
# (from os.wait4) to the file named by its first argument.
#
# Why: on Linux a process's ru_maxrss starts from the high-water RSS of the memory it was
# spawned from. At exec the kernel folds the old address space's peak into the new program's
# maxrss, and subprocess starts children with vfork/posix_spawn, which share the benchmark's own
# address space until the exec. The benchmark's own peak grows as it reads the children's output
# (the output of 100,000 verbose or failing cases is read whole: 46, then 79, then 106 MiB), and
# every child started from it read at least that: 45.8 MiB for a bare 1,000-case script whose
# own peak is 21 MiB. Started from the launcher, a child's floor is the launcher's own RSS, about
# 5 MiB (/bin/true reads 5.2 MiB), below any Python program (python -c pass: 8.4 MiB), so the
# figure is the child's own peak. The launcher forks rather than posix_spawn: a forked copy holds
# only the launcher's written pages, a vfork shares its whole RSS (/bin/true reads 8.2 MiB).
# Running with -I -S keeps the launcher small (no site-packages, no PYTHON* variables read); the
# child gets the launcher's environment, which is CHILD_ENV.
LAUNCHER = """\
import os, sys, time
result, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(result, "w") as f:
    cpu = usage.ru_utime + usage.ru_stime
    f.write(f"{os.waitstatus_to_exitcode(status)} {wall!r} {usage.ru_maxrss} {cpu!r}\\n")
"""


def run_child(cmd: list[str], cwd: Path, log: Path) -> tuple[int, float, float, float]:
    """Run cmd through LAUNCHER; return (exit code, wall seconds, peak RSS in MiB, CPU seconds).

    The figures are the child's own, measured by the launcher: wall seconds from its fork to
    its reaping (the launcher's own start-up is not in them), peak RSS and CPU seconds from
    ``os.wait4``. CPU seconds (user + system, of the child and of the children it waited for,
    as xdist's workers) say how much work a run took whatever else the machine was doing; wall
    seconds do not. The launcher's own CPU is not counted.

    The output goes to a file rather than a pipe, so that nothing has to drain it while the
    child runs.
    """
    result = log.with_name("rusage.txt")
    result.unlink(missing_ok=True)
    with open(log, "wb") as out:
        subprocess.run(
            [sys.executable, "-I", "-S", "-c", LAUNCHER, str(result), *cmd],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=CHILD_ENV,
            check=True,
        )
    code, wall, maxrss, cpu = result.read_text().split()
    return int(code), float(wall), maxrss_mib(int(maxrss)), float(cpu)


def maxrss_mib(maxrss: int) -> float:
    if sys.platform == "darwin":  # bytes on macOS
        return maxrss / (1024 * 1024)
    return maxrss / 1024  # KiB on Linux


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


class ChildFailed(Exception):
    """A bare script, asyncgroup or the floor did not give the expected result: the run
    stops, keeping the rows measured before (see main)."""


def fail(what: str, cmd: list[str], log: Path, detail: str) -> None:
    """Print the tail of a failed child's output; raise ChildFailed."""
    print(f"\nFAILED: {what}: {detail}", file=sys.stderr)
    print(f"command: {' '.join(cmd)}", file=sys.stderr)
    print("--- last 40 lines of output ---", file=sys.stderr)
    print(tail(log), file=sys.stderr)
    raise ChildFailed(f"{what}: {detail}")


def summary_line(log: Path) -> str:
    """Return pytest's final summary line, e.g. '1 passed, 10000 subtests passed in 2.1s'."""
    pattern = re.compile(r"\d+ (passed|failed|errors?|skipped|subtests? \w+).* in [\d.]+s")
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if pattern.search(line):
            return line.strip("= ")
    return ""


def first_error(log: Path) -> str:
    """The first error message in pytest's output: an ``E`` line or an INTERNALERROR."""
    pattern = re.compile(r"^(E\s+\S.*|INTERNALERROR> \w*(Error|Exception)\b.*)$")
    for line in log.read_text(errors="replace").splitlines():
        if pattern.match(line):
            return re.sub(r"\s+", " ", line.strip())
    return ""


def failing_count(workload: str, n: int) -> int:
    return sum(1 for i in range(n) if i % 3 == 1) if workload == "failing" else 0


def outcome_problem(workload: str, n: int, code: int, summary: str) -> str | None:
    """Why a pytest child's result is not the expected one (None: it is).

    Every case must have run: N cases passed, or for ``failing`` the expected number failed
    and the rest passed. pytest 9 (and pytest-subtests >= 0.14) count cases as subtests; at
    default verbosity pytest 9 leaves hand-written passed subtests out ("1 passed" means all
    passed).
    Parametrized peers count them as tests.
    """
    failed = failing_count(workload, n)
    want_code = 1 if failed else 0
    if code != want_code:
        return f"exit code {code}, expected {want_code}"
    if not failed:
        if re.search(r"\b\d+ (subtests? )?(failed|errors?)\b", summary):
            return f"something failed: {summary!r}"
        if re.search(rf"\b{n} (subtests? )?passed\b", summary) or re.fullmatch(
            r"1 passed in [\d.]+s( \([\d:]+\))?", summary
        ):
            return None
        return f"summary does not report {n} passed cases: {summary!r}"
    # pytest 9 at default verbosity counts failed subtests as failed tests, the parent too.
    if re.search(rf"\b({failed}|{failed + 1}) (subtests? )?failed\b", summary):
        return None
    return f"summary does not report {failed} failed cases: {summary!r}"


# --------------------------------------------------------------------------
# Measurements


def write_files(tmpdir: Path, workload: str, tests: dict[str, str], n: int, sleep: float) -> None:
    sleep_src = "0" if sleep == 0 else repr(sleep)
    (tmpdir / "pytest.ini").write_text(PYTEST_INI)
    (tmpdir / "test_bench.py").write_text(tests[workload].format(n=n, sleep=sleep_src))
    (tmpdir / "bare.py").write_text(BARE_SCRIPTS[workload].format(n=n, sleep=sleep_src))
    (tmpdir / "test_floor.py").write_text(FLOOR_TEST.format(sleep=sleep_src))


def measure(
    runner: Runner, python: str, workload: str, mode: str, n: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Run bare and the runner `repeat` times each, alternating; return medians.

    A peer that fails, or could not be installed, gets an ``error`` entry instead of figures;
    asyncgroup failing raises ChildFailed.
    """
    row: dict[str, Any] = {"runner": runner.name, "workload": workload, "mode": mode, "n": n}
    if not runner.python:  # a peer pip could not install
        row["error"] = "could not be installed: " + " ".join(runner.requirements)
        return row
    with tempfile.TemporaryDirectory(prefix="asyncgroup-bench-") as tmp:
        tmpdir = Path(tmp)
        write_files(tmpdir, workload, runner.tests, n, args.sleep)
        log = tmpdir / "output.log"
        mode_flags = [flag.format(tmpdir=tmpdir) for flag in MODES[mode]]
        bare_cmd = [python, "bare.py"]
        pytest_cmd = [
            runner.python or python,
            *("-m", "pytest", "-p", "no:cacheprovider"),
            *runner.flags,
            *mode_flags,
            "test_bench.py",
        ]
        # For asyncgroup, pytest's floor too (see FLOOR_TEST): what part of its wall time any
        # pytest run would take. Not for the peers: the floor is the same.
        floor_cmd = None if runner.requirements else [*pytest_cmd[:-1], "test_floor.py"]
        floor_runs: list[dict[str, float]] = []
        bare_runs: list[dict[str, float]] = []
        runs: list[dict[str, float]] = []
        for i in range(1, args.repeat + 1):
            code, wall, rss, cpu = run_child(bare_cmd, tmpdir, log)
            if code != (1 if failing_count(workload, n) else 0):
                fail(f"bare {workload} N={n}", bare_cmd, log, f"exit code {code}")
            bare_runs.append({"wall_s": wall, "peak_mib": rss, "cpu_s": cpu})

            code, wall, rss, cpu = run_child(pytest_cmd, tmpdir, log)
            summary = summary_line(log)
            problem = outcome_problem(workload, n, code, summary)
            what = f"{runner.name} {workload} N={n} mode={mode}"
            if problem is not None:
                if not runner.requirements:  # asyncgroup itself
                    fail(what, pytest_cmd, log, problem)
                row["error"] = f"{problem}; {first_error(log) or summary or tail(log, 1)}"[:240]
                print(f"  {what}: {row['error']}", file=sys.stderr, flush=True)
                return row
            runs.append({"wall_s": wall, "peak_mib": rss, "cpu_s": cpu})
            if floor_cmd is not None:
                code, floor, _, floor_cpu = run_child(floor_cmd, tmpdir, log)
                if code != 0:
                    fail(f"pytest floor {workload} mode={mode}", floor_cmd, log, f"exit {code}")
                floor_runs.append({"wall_s": floor, "cpu_s": floor_cpu})
            print(
                f"  {what} run {i}/{args.repeat}: "
                f"bare {bare_runs[-1]['wall_s']:.2f}s {bare_runs[-1]['peak_mib']:.1f}MiB, "
                f"pytest {wall:.2f}s {rss:.1f}MiB {cpu:.2f}s CPU  [{summary}]"
                + (f", floor {floor_runs[-1]['wall_s']:.2f}s" if floor_runs else "")
                + f" load {load()}",
                file=sys.stderr,
                flush=True,
            )

    bare_wall = statistics.median(r["wall_s"] for r in bare_runs)
    wall = statistics.median(r["wall_s"] for r in runs)
    bare_mib = statistics.median(r["peak_mib"] for r in bare_runs)
    mib = statistics.median(r["peak_mib"] for r in runs)
    bare_cpu = statistics.median(r["cpu_s"] for r in bare_runs)
    cpu = statistics.median(r["cpu_s"] for r in runs)
    floor_wall = statistics.median(r["wall_s"] for r in floor_runs) if floor_runs else None
    floor_cpu = statistics.median(r["cpu_s"] for r in floor_runs) if floor_runs else None
    row.update(
        bare_wall_s=bare_wall,
        wall_s=wall,
        ratio=wall / bare_wall,
        # pytest's floor, and the ratio it alone would give: no ratio of a pytest run is below.
        floor_wall_s=floor_wall,
        floor_ratio=None if floor_wall is None else floor_wall / bare_wall,
        floor_cpu_s=floor_cpu,
        # The floor's ratio on an idle machine, as est_ratio.
        floor_est_ratio=None
        if floor_cpu is None
        else (floor_cpu + args.sleep) / (bare_cpu + args.sleep),
        bare_peak_mib=bare_mib,
        peak_mib=mib,
        mib_ratio=mib / bare_mib,
        us_per_case=(wall - bare_wall) / n * 1e6,
        # The same from CPU seconds, which the machine's load barely moves.
        cpu_us_per_case=(cpu - bare_cpu) / n * 1e6,
        bare_cpu_s=bare_cpu,
        cpu_s=cpu,
        load=f"{os.getloadavg()[0]:.1f}",  # 1-minute load average when the row was done
        # On an idle machine a run takes about its CPU seconds plus the sleep (the cases' CPU
        # work and their sleep barely overlap): the ratio the wall times would show there.
        # Not for runs whose work is spread over processes (xdist).
        est_ratio=None if runner.small_n else (cpu + args.sleep) / (bare_cpu + args.sleep),
        summary=summary,
        bare_runs=bare_runs,
        runs=runs,
        floor_runs=floor_runs,
    )
    return row


def peer_python(runner: Runner, cache_dir: Path) -> str | None:
    """The python of the runner's own venv, made (once) under cache_dir; None if pip failed."""
    folder = cache_dir / re.sub(r"[^a-z0-9]+", "-", runner.name.lower()).strip("-")
    python = folder / "bin" / "python"
    stamp = folder / "requirements.txt"
    wanted = "\n".join(runner.requirements) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return str(python)
    print(f"  making a venv for {runner.name} in {folder} ...", file=sys.stderr, flush=True)
    venv.create(folder, with_pip=True, clear=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    result = subprocess.run([*pip, *runner.requirements], capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
        return None
    stamp.write_text(wanted)
    return str(python)


def versions(python: str, modules: tuple[str, ...]) -> str:
    """'pytest 9.2.0, pytest-asyncio 1.5.0, ...' as the child interpreter sees them."""
    code = (
        "import importlib.metadata as m, sys\n"
        "out = []\n"
        "for name in sys.argv[1:]:\n"
        "    try: out.append(f'{name} {m.version(name)}')\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(', '.join(out))\n"
    )
    result = subprocess.run([python, "-c", code, *modules], capture_output=True, text=True)
    return result.stdout.strip() or result.stderr.strip()[-200:]


# --------------------------------------------------------------------------
# Reporting

COLUMNS = [
    # header, result key, format
    ("runner", "runner", "{:<36}"),
    ("workload", "workload", "{:<8}"),
    ("mode", "mode", "{:<8}"),
    ("N", "n", "{:>7}"),
    ("bare s", "bare_wall_s", "{:>7.2f}"),
    ("pytest s", "wall_s", "{:>8.2f}"),
    ("ratio", "ratio", "{:>6.2f}"),
    ("floor s", "floor_wall_s", "{:>7.2f}"),
    ("floor ratio", "floor_ratio", "{:>11.2f}"),
    ("bare MiB", "bare_peak_mib", "{:>8.1f}"),
    ("MiB", "peak_mib", "{:>7.1f}"),
    ("MiB ratio", "mib_ratio", "{:>9.2f}"),
    ("us/case", "us_per_case", "{:>8.1f}"),
    ("CPU us/case", "cpu_us_per_case", "{:>11.1f}"),
    ("bare CPU s", "bare_cpu_s", "{:>10.2f}"),
    ("CPU s", "cpu_s", "{:>6.2f}"),
    ("est. ratio", "est_ratio", "{:>10.2f}"),
    ("load", "load", "{:<5}"),
]
TEXT_KEYS = ("runner", "workload", "mode", "load")


def print_table(results: list[dict[str, Any]]) -> None:
    """One line per row; a failed peer shows its error instead of figures."""
    widths = [len(fmt.format("" if key in TEXT_KEYS else 0)) for _, key, fmt in COLUMNS]
    header = "  ".join(
        h.ljust(w) if key in TEXT_KEYS else h.rjust(w)
        for (h, key, _), w in zip(COLUMNS, widths, strict=True)
    )
    print(header)
    print("-" * len(header))
    for row in results:
        if "error" in row:
            cells = [fmt.format(row[key]) for _, key, fmt in COLUMNS[:4]]
            print("  ".join([*cells, f"error: {row['error']}"]))
        else:
            print("  ".join(cell(row[key], fmt) for _, key, fmt in COLUMNS))


def cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-".rjust(len(fmt.format(0)))
    return fmt.format(value)


def goals(row: dict[str, Any]) -> tuple[float | None, float | None]:
    """(max ratio, max peak-memory ratio) that issue 15 sets for an asyncgroup row."""
    workload, mode, n = row["workload"], row["mode"], row["n"]
    if mode == "default":
        if workload == "plain" and n == 10_000:
            return 1.5, None
        if workload == "fixtures" and n == 10_000:
            return 1.6, None
        if workload == "fixtures" and n == 100_000:
            return 2.0, 1.5
        if workload == "failing" and n == 10_000:
            return 3.0, None
    if mode in ("verbose", "junitxml") and workload in ("plain", "fixtures"):
        return {10_000: 2.0, 100_000: 3.0}.get(n), None
    return None, None


def check_goals(results: list[dict[str, Any]]) -> tuple[list[str], int]:
    """(one message per missed goal, number of goals checked), asyncgroup rows only."""
    rows = [r for r in results if r["runner"] == "asyncgroup"]
    missed, checked = [], 0
    for r in rows:
        max_ratio, max_mib_ratio = goals(r)
        where = f"{r['workload']} {r['mode']} N={r['n']}"
        if max_ratio is not None:
            checked += 1
            if r["ratio"] > max_ratio:
                missed.append(
                    f"{where}: ratio {r['ratio']:.2f} > {max_ratio} "
                    f"(idle-machine estimate from CPU seconds: {r['est_ratio']:.2f}; "
                    f"pytest's floor alone: {r['floor_ratio']:.2f}, estimated "
                    f"{r['floor_est_ratio']:.2f})"
                )
        if max_mib_ratio is not None:
            checked += 1
            if r["mib_ratio"] > max_mib_ratio:
                missed.append(
                    f"{where}: peak memory {r['peak_mib']:.0f} MiB = {r['mib_ratio']:.2f} x "
                    f"bare's {r['bare_peak_mib']:.0f} MiB > {max_mib_ratio} x"
                )
    # Per-case cost flat in N: never more than 1.5 x the figure at the next smaller N, by the
    # wall times and by the CPU seconds.
    for (workload, mode), group in _series(rows).items():
        for smaller, larger in itertools.pairwise(group):
            for key, what in (("us_per_case", "us/case"), ("cpu_us_per_case", "CPU us/case")):
                checked += 1
                limit = max(1.5 * smaller[key], 10.0)  # 10 us: below that, it is noise
                if larger[key] > limit:
                    missed.append(
                        f"{workload} {mode}: {larger[key]:.1f} {what} at N={larger['n']} "
                        f"> 1.5 x {smaller[key]:.1f} at N={smaller['n']}"
                    )
        # The averages above fall as start-up is spread over more cases, which can hide a
        # per-case cost that grows with N: what one more case costs must not grow either
        # (from 1,000 cases up, where start-up's noise is under a few us per case).
        steps = [(a, b) for a, b in itertools.pairwise(group) if a["n"] >= 1000]
        for (a, b), (_, c) in itertools.pairwise(steps):
            checked += 1
            before, after = _one_more(a, b), _one_more(b, c)
            if after > max(1.5 * before, 10.0):
                missed.append(
                    f"{workload} {mode}: one more case costs {after:.1f} CPU us from "
                    f"N={b['n']} to {c['n']} > 1.5 x {before:.1f} from N={a['n']} to {b['n']}"
                )
    return missed, checked


def _series(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The rows of each workload and mode, by case count."""
    series: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if "error" not in r:
            series.setdefault((r["workload"], r["mode"]), []).append(r)
    for group in series.values():
        group.sort(key=lambda r: r["n"])
    return series


def _over_bare(row: dict[str, Any]) -> float:
    """CPU seconds of the pytest run over the bare script's."""
    return float(row["cpu_s"] - row["bare_cpu_s"])


def _one_more(smaller: dict[str, Any], larger: dict[str, Any]) -> float:
    """What one more case costs between two rows, in CPU microseconds over the bare script."""
    return (_over_bare(larger) - _over_bare(smaller)) / int(larger["n"] - smaller["n"]) * 1e6


def print_per_case(results: list[dict[str, Any]]) -> None:
    """asyncgroup's cost per case over the bare script at each N, and what one more case costs
    between two Ns (CPU seconds): flat means the per-case figure does not grow with N."""
    rows = [r for r in results if r["runner"] == "asyncgroup"]
    series = {key: group for key, group in _series(rows).items() if len(group) > 1}
    if not series:
        return
    print("\nper-case cost over bare (wall us/case, CPU us/case; one more case, CPU us):")
    for (workload, mode), group in series.items():
        figures = ", ".join(
            f"N={r['n']:,}: {r['us_per_case']:.0f} / {r['cpu_us_per_case']:.0f}" for r in group
        )
        marginal = ", ".join(
            f"{a['n']:,}->{b['n']:,}: {_one_more(a, b):.1f}" for a, b in itertools.pairwise(group)
        )
        print(f"  {workload} {mode}: {figures}; one more case: {marginal}")


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    asyncgroup = Runner("asyncgroup", ASYNCGROUP_TESTS, python=args.python)
    runners = [asyncgroup]
    print(f"asyncgroup child interpreter: {args.python}")
    installed = {
        "asyncgroup": versions(
            args.python, ("asyncgroup", "pytest", "pytest-asyncio", "pytest-subtests")
        )
    }
    print(f"  {installed['asyncgroup']}")
    if args.peers:
        cache_dir = Path(args.cache_dir)
        for peer in peers():
            python = peer_python(peer, cache_dir)
            runners.append(peer)
            if python is None:  # a row of its own that says so, as a peer that fails
                print(f"{peer.name}: could not be installed (pip's output above)", file=sys.stderr)
                continue
            peer.python = python
            modules = ("pytest", "pytest-asyncio", "pytest-subtests", "pytest-xdist")
            installed[peer.name] = versions(python, (*modules, "pytest-asyncio-concurrent"))
            print(f"{peer.name}: {installed[peer.name]}")
    for runner in runners:
        if runner.python:  # not a peer pip could not install
            warm_up(runner.python)
    print(
        f"sleep {args.sleep}s, repeat {args.repeat} (median reported), "
        f"{os.cpu_count()} CPUs, load average at start {load()}\n",
        flush=True,
    )

    planned = [
        (asyncgroup, workload, mode, n)
        for workload in args.workload
        for mode in args.mode
        for n in args.cases
    ]
    for peer in runners[1:]:
        counts = [args.xdist_cases] if peer.small_n else args.cases
        planned.extend((peer, workload, "default", n) for workload in args.workload for n in counts)
    results: list[dict[str, Any]] = []
    failed = None
    for runner, workload, mode, n in planned:
        try:
            results.append(measure(runner, args.python, workload, mode, n, args))
        except ChildFailed as error:  # the rows before it are still worth their table
            failed = error
            break

    print(f"\nload average at the end {load()}\n")
    print_table(results)
    print_per_case(results)

    if args.json:
        data = {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": f"{platform.node()} {platform.machine()} {platform.system()} "
            f"{platform.release()}, {os.cpu_count()} CPUs",
            "python": args.python,
            "sleep_s": args.sleep,
            "repeat": args.repeat,
            "argv": sys.argv[1:] if argv is None else argv,
            "versions": installed,  # per runner, as its interpreter sees them
            "results": results,
        }
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n")
        print(f"\nresults written to {args.json}")

    if failed is not None:
        print(f"\nSTOPPED: {failed} (the rows above were measured before it)")
        return 2
    if args.check:
        if args.sleep != 1.0:
            print("\n--check: the goals are defined for --sleep 1 only; nothing checked.")
            return 0
        missed, checked = check_goals(results)
        if missed:
            print("\nGOALS MISSED:")
            for message in missed:
                print(f"  {message}")
            return 1
        if checked:
            print(f"\n--check: all {checked} applicable goals met.")
        else:
            print("\n--check: no goal applies to the rows run; nothing checked.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
