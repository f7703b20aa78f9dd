"""The failure storm: many cases fail with deep tracebacks while healthy cases run beside them.

200 cases fail with a traceback 20 frames deep in a 2,000-line module (pytest parses the module
again for each frame it shows: about 0.1 s per report, as for a failing asyncpg connect) while
50 healthy cases sleep 1 s, all with ``timeout=5``. asyncgroup builds and writes the reports in
slices, so the healthy cases keep the event loop: all 50 must pass, and the run take about the
slowest case plus the formatting work.

    .venv/bin/python benchmarks/storm.py [--failing 200] [--healthy 50] [--depth 20] [--lines 2000]

Prints the healthy cases passed, their durations, the parent test's duration, asyncgroup's own
blocked-loop warnings, and the wall time of the pytest run.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TEST_FILE = """
import asyncio
import time
from asyncgroup import concurrent_cases

CASES = [f"fails-{{n}}" for n in range({failing})] + [f"healthy-{{n}}" for n in range({healthy})]


def deep(depth):
    if depth == 0:
        raise ConnectionError("database 'missing' does not exist")
    return deep(depth - 1)

{filler}


@concurrent_cases(CASES, timeout=5)
async def test_storm(name):
    if name.startswith("fails"):
        await asyncio.sleep(0.5)
        deep({depth})
    await asyncio.sleep(1)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--failing", type=int, default=200)
    parser.add_argument("--healthy", type=int, default=50)
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--lines", type=int, default=2000, help="of the test module")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        (path / "test_storm.py").write_text(
            textwrap.dedent(TEST_FILE).format(
                filler="\n".join(f"def filler_{n}(): return {n}" for n in range(args.lines)),
                **vars(args),
            )
        )
        (path / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--durations=0",
            "test_storm.py",
        ]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=path, capture_output=True, text=True, timeout=900)
        wall = time.perf_counter() - start
    out = done.stdout
    healthy_passed = len(re.findall(r"test_storm\[healthy-\d+\] SUB(?:PASSED|PASS)", out))
    healthy_failed = len(re.findall(r"test_storm\[healthy-\d+\] SUB(?:FAILED|FAIL)", out))
    durations = [
        float(seconds)
        for seconds in re.findall(r"([\d.]+)s call\s+test_storm\.py::test_storm\[healthy-", out)
    ]
    parent = re.findall(r"([\d.]+)s call\s+test_storm\.py::test_storm\n", out)
    asyncgroup_warnings = out.count("asyncgroup itself blocked the event loop")
    print(f"failing cases: {args.failing} (traceback depth {args.depth}), healthy: {args.healthy}")
    print(f"healthy cases passed: {healthy_passed}/{args.healthy} (failed: {healthy_failed})")
    if durations:
        print(f"healthy case durations: {min(durations):.2f}-{max(durations):.2f} s")
    if parent:
        print(f"parent test (all cases, reports built and written): {float(parent[0]):.1f} s")
    print(f"asyncgroup blocked-loop warnings: {asyncgroup_warnings}")
    print(f"wall time: {wall:.1f} s")
    return 0 if healthy_passed == args.healthy else 1


if __name__ == "__main__":
    sys.exit(main())
