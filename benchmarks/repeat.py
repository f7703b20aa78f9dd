"""Repeatability: the same mixed run, many times, must give the same result every time.

1,000 cases, of which a third pass, a third fail and a third hit their timeout, run ``--runs``
times (default 20) as separate pytest processes. Every run must print the same outcome counts,
and no run may print an asyncio complaint (a coroutine never awaited, a task destroyed while
pending, a task exception never retrieved) or any stray line outside pytest's report. Prints
the spread of wall times; exits 1 if anything differed.

    python3 benchmarks/repeat.py --python .venv/bin/python
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEST_FILE = """\
import asyncio
from asyncgroup import concurrent_cases

@concurrent_cases(range({n}), timeout=0.5)
async def test_mixed(n):
    await asyncio.sleep(0.05)
    if n % 3 == 1:
        assert n < 0, "fails on purpose"
    if n % 3 == 2:
        await asyncio.sleep(10)  # hits the timeout
"""

PYTEST_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

# With -q --tb=no -rN pytest prints only progress letters and the summary: anything else is stray.
EXPECTED = re.compile(r"[.uFEsxXy,-]*( *\[ *\d+%\])?")

# What asyncio says when a run leaks: none of it may appear.
COMPLAINTS = re.compile(
    r"was never awaited|Task was destroyed but it is pending|"
    r"Task exception was never retrieved|Unclosed|ResourceWarning|PytestUnraisableExceptionWarning"
)


def run_once(python: str, folder: Path) -> tuple[float, str, list[str]]:
    started = time.perf_counter()
    proc = subprocess.run(
        [python, "-X", "dev", "-m", "pytest", "-p", "no:cacheprovider", "-q", "--tb=no", "-rN"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    output = proc.stdout + proc.stderr
    summary = next(
        (line for line in reversed(output.splitlines()) if re.search(r" in [\d.]+s", line)), ""
    )
    counts = re.sub(r" in [\d.]+s.*", "", summary).strip("= ")
    complaints = [
        line
        for line in output.splitlines()
        if COMPLAINTS.search(line) or not (EXPECTED.fullmatch(line) or line == summary)
    ]
    return wall, counts, complaints


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cases", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="asyncgroup-repeat-") as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text(PYTEST_INI)
        (folder / "test_mixed.py").write_text(TEST_FILE.format(n=args.cases))
        walls, seen, problems = [], set(), []
        for index in range(1, args.runs + 1):
            wall, counts, complaints = run_once(args.python, folder)
            walls.append(wall)
            seen.add(counts)
            problems.extend(f"run {index}: {line}" for line in complaints)
            print(f"run {index:2d}: {wall:.2f} s  {counts}", flush=True)
    print(
        f"\nwall time over {args.runs} runs: min {min(walls):.2f} s, median "
        f"{statistics.median(walls):.2f} s, max {max(walls):.2f} s, "
        f"stdev {statistics.pstdev(walls):.3f} s"
    )
    ok = len(seen) == 1 and not problems
    if len(seen) != 1:
        print(f"DIFFERENT RESULTS: {sorted(seen)}")
    for line in problems[:20]:
        print(f"COMPLAINT {line}")
    print("identical results, no complaints" if ok else "NOT REPEATABLE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
