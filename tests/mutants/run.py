"""Measure the test suite's strength: apply each mutant to a copy of the repository, run the
tests that should catch it, and print which mutants were killed (the tests failed) and which
survived.

    python tests/mutants/run.py                 # every mutant
    python tests/mutants/run.py NAME...         # some of them
    python tests/mutants/run.py --list          # names, bugs and tests
    python tests/mutants/run.py --check         # does each still apply? (runs no test)

Run it with the Python of an environment that has the test dependencies (``.venv/bin/python``,
or ``nox -s mutants``). The working tree is never touched: each mutant is applied to a fresh
copy of the repository in a temporary directory, which the tests import the package from
(``PYTHONPATH``). The tests first run on an unmutated copy, which must pass. Exit status 0 only
when every applicable mutant was killed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutants import MUTANTS, Mutant  # noqa: E402

_SKIP = shutil.ignore_patterns(
    ".git", ".venv*", ".nox", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    ".hypothesis", "*.egg-info", "build", "dist",
)  # fmt: skip
PER_MUTANT_TIMEOUT = 600  # seconds; a hang counts as killed only if the tests say so


def copy_repository(into: Path) -> Path:
    target = into / "repo"
    shutil.copytree(ROOT, target, ignore=_SKIP)
    return target


def apply(mutant: Mutant, repo: Path) -> str | None:
    """Apply the mutant to the copy; the reason it no longer applies, or None."""
    path = repo / mutant.file
    if not path.exists():
        return f"{mutant.file} does not exist"
    text = path.read_text()
    found = text.count(mutant.old)
    if found != 1:
        return f"its text is found {found} times in {mutant.file} (expected once)"
    path.write_text(text.replace(mutant.old, mutant.new))
    return None


def run_tests(repo: Path, tests: list[str], baseline: bool = False) -> tuple[int, str, float]:
    """pytest's exit code, output and wall time. A mutant's tests run one at a time and stop at
    the first failure (exit 1); the baseline runs them all, on two workers."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider"]
    command += ["-n", "2"] if baseline else ["-x", "-p", "no:xdist"]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=PER_MUTANT_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else ""
        return (
            -1,
            output + f"\n(timed out after {PER_MUTANT_TIMEOUT} s)",
            time.monotonic() - started,
        )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def imports_the_copy(repo: Path) -> bool:
    env = dict(os.environ, PYTHONPATH=str(repo))
    code = "import asyncgroup; print(asyncgroup.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    return Path(out).resolve().is_relative_to(repo.resolve())


def own_sigint_handler() -> bool:
    """Whether asyncgroup's own SIGINT handler serves here: pytest-asyncio < 1.2 (see mutants)."""
    major, minor = (int(part) for part in version("pytest-asyncio").split(".")[:2])
    return (major, minor) < (1, 2)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--check", action="store_true", help="only check that each mutant still applies"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show each run's output")
    args = parser.parse_args(argv)
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f"unknown mutant(s): {', '.join(sorted(unknown))}")
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    if args.list:
        for m in chosen:
            print(f"{m.name}: {m.bug}\n    {m.file}; tests: {' '.join(m.tests)}")
        return 0

    if args.check:
        stale = 0
        for m in chosen:
            text = (ROOT / m.file).read_text() if (ROOT / m.file).exists() else ""
            found = text.count(m.old)
            stale += found != 1
            print(f"{m.name}: {'applies' if found == 1 else f'NO LONGER APPLIES ({found} found)'}")
        return 1 if stale else 0

    with tempfile.TemporaryDirectory(prefix="asyncgroup-mutants-") as tmp:
        baseline = copy_repository(Path(tmp) / "baseline")
        if not imports_the_copy(baseline):
            print("the tests would not import the package from the copy: is it installed as")
            print("an editable install that shadows PYTHONPATH?")
            return 2
        tests = sorted({test for m in chosen for test in m.tests})
        code, output, seconds = run_tests(baseline, tests, baseline=True)
        print(f"baseline (no mutant): exit {code} in {seconds:.0f} s")
        if code != 0:
            print(output)
            print("the tests fail without any mutant: fix them first")
            return 2

        rows: list[tuple[str, str, str]] = []
        for index, mutant in enumerate(chosen):
            if mutant.needs_own_sigint_handler and not own_sigint_handler():
                rows.append((mutant.name, "not run", "needs pytest-asyncio < 1.2"))
                continue
            repo = copy_repository(Path(tmp) / f"m{index}")
            problem = apply(mutant, repo)
            if problem is not None:
                rows.append((mutant.name, "NO LONGER APPLIES", problem))
                continue
            code, output, seconds = run_tests(repo, list(mutant.tests))
            if code == 1:
                result = "killed"
            elif code == 0:
                result = "SURVIVED"
            else:
                result = f"ERROR (exit {code})"
            rows.append((mutant.name, result, f"{seconds:.0f} s"))
            print(f"{mutant.name}: {result} ({seconds:.0f} s)", flush=True)
            if args.verbose or code not in (0, 1):
                print(output)
            shutil.rmtree(repo, ignore_errors=True)

    width = max(len(name) for name, _, _ in rows)
    print(f"\n{'mutant'.ljust(width)}  result             note")
    for name, result, note in rows:
        print(f"{name.ljust(width)}  {result.ljust(17)}  {note}")
    killed = sum(result == "killed" for _, result, _ in rows)
    print(f"\n{killed} of {len(rows)} mutants killed")
    return 0 if all(result in ("killed", "not run") for _, result, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
