"""Benchmark asyncgroup's overhead against bare asyncio.

What is measured
----------------
For every case count N and every pytest output mode, two programs run the
same body (``await asyncio.sleep(S)``) N times concurrently:

* bare:        a plain script, ``asyncio.run(main())`` where ``main`` is
               ``await asyncio.gather(*(case(i) for i in range(N)))``;
* asyncgroup:  a pytest file with one ``@concurrent_cases(range(N))`` test,
               run as ``python -m pytest -p no:cacheprovider <mode flags> <file>``
               (see the modes below).

Each program runs as its own child process. For each run the script records:

* wall time: ``time.perf_counter()`` around the whole child process, so
  interpreter start-up, imports and (for pytest) collection and reporting
  are included;
* peak RSS: ``ru_maxrss`` of that child, read with ``os.wait4`` on the
  ``subprocess.Popen`` pid.

Each measurement is repeated ``--repeat`` times (bare and asyncgroup runs
alternate) and the median is reported. The per-case overhead is
``(asyncgroup wall - bare wall) / N`` in microseconds.

The pytest child must exit 0, and its summary line must report N passed
subtests. Otherwise the script prints the last 40 lines of the child's
output and exits with status 2.

Modes: ``default`` (no flags, what a user gets; pytest 9 then leaves passed
subtests out of the summary line, and "1 passed" means every case passed),
``quiet`` (``-q``), ``verbose`` (``-v``) and ``junitxml``
(``--junitxml=<file in the temp dir>``).

``--check`` enforces the targets from the issue. They apply only to mode
``default`` with ``--sleep 1``, and only to the case counts that were run:

* N = 10,000:  ratio <= 2.0 and asyncgroup peak RSS <= 120 MiB
* N = 100,000: ratio <= 3.0 and asyncgroup peak RSS <= 800 MiB

If a target is missed, the script prints it and exits 1.

How to run (from the repository root, with asyncgroup installed in the venv)
--------------------------------------------------------------------------
Measure in a venv that has only asyncgroup, pytest and pytest-asyncio: other
plugins' per-report hooks are their cost, not asyncgroup's (hypothesis's
terminal summary alone walks every report: ~1 s at 10,000 cases)::

    python3 -m venv /tmp/bench9 && /tmp/bench9/bin/pip install -e .
    python3 benchmarks/bench.py --python /tmp/bench9/bin/python --check

Other examples::

    .venv/bin/python benchmarks/bench.py
    .venv/bin/python benchmarks/bench.py --cases 1000,10000 --mode default,verbose,junitxml
    .venv/bin/python benchmarks/bench.py --cases 10000 --cases 100000 --check --json results.json
    .venv/bin/python benchmarks/bench.py --sleep 0 --python /path/to/other/venv/bin/python

Only the standard library is used. Python 3.10+ is required. Peak RSS is
read as KiB, which is right on Linux (on macOS ``ru_maxrss`` is in bytes and
is converted).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# pytest flags per mode. "default" is what a user gets with no flags; at that verbosity
# pytest 9 leaves passed subtests out of the summary line ("1 passed"), which then means every
# case passed (the parent fails when any case fails).
MODES = {
    "default": [],
    "quiet": ["-q"],
    "verbose": ["-v"],
    "junitxml": ["--junitxml={tmpdir}/junit.xml"],
}

# (N) -> (max ratio, max asyncgroup peak MiB); only for sleep=1, mode default.
TARGETS = {
    10_000: (2.0, 120.0),
    100_000: (3.0, 800.0),
}

# The child runs in its own temp dir with this ini file. The file keeps
# pytest from picking up any surrounding config, and it silences
# pytest-asyncio's "asyncio_default_fixture_loop_scope is unset" warning.
PYTEST_INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
"""

TEST_FILE = """\
import asyncio

from asyncgroup import concurrent_cases


@concurrent_cases(range({n}))
async def test_sleep(n):
    await asyncio.sleep({sleep})
"""

BARE_SCRIPT = """\
import asyncio


async def case(n):
    await asyncio.sleep({sleep})


async def main():
    await asyncio.gather(*(case(i) for i in range({n})))


asyncio.run(main())
"""


# --------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare asyncgroup under pytest with a bare asyncio.gather script.",
    )
    parser.add_argument(
        "--cases",
        action="append",
        metavar="N",
        help="number of cases; repeatable or comma-separated (default 10000)",
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
        "--mode",
        action="append",
        metavar="MODE",
        help="pytest output mode(s): default, verbose, junitxml; "
        "repeatable or comma-separated (default: default)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        metavar="PATH",
        help="interpreter for the child processes (default: this one)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if a target from the issue is missed",
    )
    parser.add_argument("--json", metavar="FILE", help="write the results to FILE as JSON")
    args = parser.parse_args(argv)

    args.cases = [int(x) for x in split_list(args.cases or ["10000"])]
    args.mode = split_list(args.mode or ["default"])
    for mode in args.mode:
        if mode not in MODES:
            parser.error(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    if any(n < 1 for n in args.cases):
        parser.error("--cases must be positive")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.sleep < 0:
        parser.error("--sleep must not be negative")
    return args


def split_list(values: list[str]) -> list[str]:
    """Flatten ['1000,10000', '100000'] into ['1000', '10000', '100000']."""
    items = [item.strip() for value in values for item in value.split(",")]
    return list(dict.fromkeys(item for item in items if item))  # dedupe, keep order


# --------------------------------------------------------------------------
# Running one child process


def run_child(cmd: list[str], cwd: Path, log: Path) -> tuple[int, float, float]:
    """Run cmd and return (exit code, wall seconds, peak RSS in MiB).

    The output goes to a file rather than a pipe. A pipe would have to be
    drained while the child runs, and we reap the child with os.wait4
    ourselves to get its resource usage.
    """
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)  # mark as reaped
    return code, wall, maxrss_mib(usage.ru_maxrss)


def maxrss_mib(maxrss: int) -> float:
    if sys.platform == "darwin":  # bytes on macOS
        return maxrss / (1024 * 1024)
    return maxrss / 1024  # KiB on Linux


def fail(what: str, cmd: list[str], log: Path, detail: str) -> None:
    """Print the tail of a failed child's output and exit 2."""
    lines = log.read_text(errors="replace").splitlines()
    print(f"\nFAILED: {what}: {detail}", file=sys.stderr)
    print(f"command: {' '.join(cmd)}", file=sys.stderr)
    print("--- last 40 lines of output ---", file=sys.stderr)
    for line in lines[-40:]:
        print(line, file=sys.stderr)
    sys.exit(2)


def summary_line(log: Path) -> str:
    """Return pytest's final summary line, e.g. '1 passed, 10000 subtests passed in 2.1s'."""
    pattern = re.compile(r"\d+ (passed|failed|errors?|skipped|subtests? \w+).* in [\d.]+s")
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if pattern.search(line):
            return line.strip("= ")
    return ""


def summary_ok(line: str, n: int) -> bool:
    """True if the summary reports all N cases passed and nothing failed.

    pytest 9 (and pytest 8 with pytest-subtests >= 0.14) print
    '1 passed, N subtests passed'. Older pytest-subtests counted subtests
    as ordinary passes: 'N+1 passed' (or 'N passed').
    """
    if re.search(r"\b\d+ (subtests? )?(failed|errors?)\b", line):
        return False
    if re.search(rf"\b{n} subtests? passed\b", line):
        return True
    if re.fullmatch(r"1 passed in [\d.]+s", line):  # pytest 9, default verbosity
        return True
    return bool(re.search(rf"(^|, )({n}|{n + 1}) passed\b", line))


# --------------------------------------------------------------------------
# One measurement: N cases in one mode


def write_files(tmpdir: Path, n: int, sleep: float) -> tuple[Path, Path]:
    sleep_src = "0" if sleep == 0 else repr(sleep)
    (tmpdir / "pytest.ini").write_text(PYTEST_INI)
    test_file = tmpdir / "test_asyncgroup_bench.py"
    test_file.write_text(TEST_FILE.format(n=n, sleep=sleep_src))
    bare_file = tmpdir / "bare.py"
    bare_file.write_text(BARE_SCRIPT.format(n=n, sleep=sleep_src))
    return test_file, bare_file


def measure(python: str, n: int, mode: str, sleep: float, repeat: int) -> dict[str, Any]:
    """Run bare and asyncgroup `repeat` times each, alternating; return medians."""
    with tempfile.TemporaryDirectory(prefix="asyncgroup-bench-") as tmp:
        tmpdir = Path(tmp)
        test_file, bare_file = write_files(tmpdir, n, sleep)
        log = tmpdir / "output.log"
        mode_flags = [flag.format(tmpdir=tmpdir) for flag in MODES[mode]]
        bare_cmd = [python, str(bare_file)]
        pytest_cmd = [python, "-m", "pytest", "-p", "no:cacheprovider", *mode_flags, str(test_file)]

        bare_runs, pytest_runs, summary = [], [], ""
        for i in range(1, repeat + 1):
            code, wall, rss = run_child(bare_cmd, tmpdir, log)
            if code != 0:
                fail(f"bare N={n}", bare_cmd, log, f"exit code {code}")
            bare_runs.append({"wall_s": wall, "peak_mib": rss})

            code, wall, rss = run_child(pytest_cmd, tmpdir, log)
            summary = summary_line(log)
            if code != 0:
                fail(f"asyncgroup N={n} mode={mode}", pytest_cmd, log, f"exit code {code}")
            if not summary_ok(summary, n):
                fail(
                    f"asyncgroup N={n} mode={mode}",
                    pytest_cmd,
                    log,
                    f"summary does not report {n} passed subtests: {summary!r}",
                )
            pytest_runs.append({"wall_s": wall, "peak_mib": rss})

            print(
                f"  N={n} mode={mode} run {i}/{repeat}: "
                f"bare {bare_runs[-1]['wall_s']:.2f}s {bare_runs[-1]['peak_mib']:.1f}MiB, "
                f"asyncgroup {wall:.2f}s {rss:.1f}MiB  [{summary}]",
                file=sys.stderr,
                flush=True,
            )

    bare_wall = statistics.median(r["wall_s"] for r in bare_runs)
    ag_wall = statistics.median(r["wall_s"] for r in pytest_runs)
    return {
        "n": n,
        "mode": mode,
        "bare_wall_s": bare_wall,
        "asyncgroup_wall_s": ag_wall,
        "ratio": ag_wall / bare_wall,
        "bare_peak_mib": statistics.median(r["peak_mib"] for r in bare_runs),
        "asyncgroup_peak_mib": statistics.median(r["peak_mib"] for r in pytest_runs),
        "overhead_us_per_case": (ag_wall - bare_wall) / n * 1e6,
        "summary": summary,
        "bare_runs": bare_runs,
        "asyncgroup_runs": pytest_runs,
    }


# --------------------------------------------------------------------------
# Reporting


def child_versions(python: str) -> dict[str, str]:
    """Python, pytest and pytest-asyncio versions of the child interpreter."""
    code = (
        "import json, platform, pytest, pytest_asyncio; "
        "print(json.dumps({'python': platform.python_version(), "
        "'pytest': pytest.__version__, "
        "'pytest_asyncio': getattr(pytest_asyncio, '__version__', '?')}))"
    )
    result = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        print(
            f"cannot import pytest / pytest_asyncio with {python}:\n{result.stderr}",
            file=sys.stderr,
        )
        sys.exit(2)
    versions: dict[str, str] = json.loads(result.stdout)
    return versions


COLUMNS = [
    # header, result key, format
    ("N", "n", "{:>8}"),
    ("mode", "mode", "{:<8}"),
    ("bare s", "bare_wall_s", "{:>8.2f}"),
    ("asyncgroup s", "asyncgroup_wall_s", "{:>12.2f}"),
    ("ratio", "ratio", "{:>6.2f}"),
    ("bare MiB", "bare_peak_mib", "{:>8.1f}"),
    ("asyncgroup MiB", "asyncgroup_peak_mib", "{:>14.1f}"),
    ("us/case", "overhead_us_per_case", "{:>8.1f}"),
]


def print_table(results: list[dict[str, Any]]) -> None:
    widths = [len(fmt.format(0 if key != "mode" else "")) for _, key, fmt in COLUMNS]
    header = "  ".join(
        h.rjust(w) if key != "mode" else h.ljust(w)
        for (h, key, _), w in zip(COLUMNS, widths, strict=True)
    )
    print(header)
    print("-" * len(header))
    for result in results:
        print("  ".join(fmt.format(result[key]) for _, key, fmt in COLUMNS))


def check_targets(results: list[dict[str, Any]], sleep: float) -> list[str] | None:
    """Return one message per missed target, or None if no target applies."""
    if sleep != 1.0:
        print("\n--check: targets are defined for --sleep 1 only; nothing checked.")
        return None
    missed, checked = [], 0
    for r in results:
        if r["mode"] != "default" or r["n"] not in TARGETS:
            continue
        checked += 1
        max_ratio, max_mib = TARGETS[r["n"]]
        if r["ratio"] > max_ratio:
            missed.append(f"N={r['n']}: ratio {r['ratio']:.2f} > {max_ratio}")
        if r["asyncgroup_peak_mib"] > max_mib:
            missed.append(
                f"N={r['n']}: asyncgroup peak RSS "
                f"{r['asyncgroup_peak_mib']:.1f} MiB > {max_mib:.0f} MiB"
            )
    if not checked:
        print(
            "\n--check: no targets apply (need mode default with N = "
            f"{' or '.join(str(n) for n in TARGETS)}); nothing checked."
        )
        return None
    return missed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    versions = child_versions(args.python)
    print(f"child interpreter: {args.python}")
    print(
        f"python {versions['python']}, pytest {versions['pytest']}, "
        f"pytest-asyncio {versions['pytest_asyncio']}"
    )
    print(f"sleep {args.sleep}s, repeat {args.repeat} (median reported)\n", flush=True)

    results = [
        measure(args.python, n, mode, args.sleep, args.repeat)
        for n in args.cases
        for mode in args.mode
    ]

    print()
    print_table(results)

    if args.json:
        data = {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": f"{platform.node()} {platform.machine()} {platform.system()} "
            f"{platform.release()}, {os.cpu_count()} CPUs",
            "child_python": args.python,
            **versions,
            "sleep_s": args.sleep,
            "repeat": args.repeat,
            "results": results,
        }
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n")
        print(f"\nresults written to {args.json}")

    if args.check:
        missed = check_targets(results, args.sleep)
        if missed:
            print("\nTARGETS MISSED:")
            for message in missed:
                print(f"  {message}")
            return 1
        if missed is not None:
            print("\n--check: all applicable targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
