"""The two quickstart commands, with nothing but python3 (3.10+) installed:

    python3 run.py demo    # run the examples concurrently, then compare with one after another
    python3 run.py test    # run the test suite (pytest 9)

Each makes a virtual environment on first use and installs what it needs with pip: .venv for
the suite (with its test tools), .venv-demo for the demo (the project alone).
``--pytest8`` uses pytest 8 + pytest-subtests instead (.venv-pytest8, .venv-demo-pytest8).
``test`` runs tests/ and then tests/plugins/, the tests of each third-party plugin asyncgroup
works with, in an environment that has those plugins (.venv-plugins, .venv-plugins-pytest8);
``--plugins`` runs tests/plugins/ alone. Extra arguments after ``--`` go to pytest; with them,
``test`` runs tests/ alone, or only the files and node ids among them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent

PYTEST_LINES = {
    "pytest9": (".venv", ["pytest>=9,<10"]),
    "pytest8": (".venv-pytest8", ["pytest>=8,<9", "pytest-subtests>=0.14"]),
}
# The plugins' own environments: installing pytest-sugar or pytest-randomly where the main suite
# runs would change every inner pytest run, so tests/plugins/ runs in a venv of its own.
PLUGIN_FOLDERS = {"pytest9": ".venv-plugins", "pytest8": ".venv-plugins-pytest8"}
# The demo's own environments: the project and its pytest line only. The suite's extras (its
# hypothesis plugin alone adds about a second to every pytest start) stay out.
DEMO_FOLDERS = {"pytest9": ".venv-demo", "pytest8": ".venv-demo-pytest8"}
# The main story first, then the other examples (pytest would sort a directory's files by name);
# the examples' conftest prints the comparison at the end.
DEMO_PATHS = [
    "examples/test_demo.py",
    *sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "examples").glob("test_*.py")
        if path.name != "test_demo.py"
    ),
]


def environment(line: str, extras: str = "", folder: str = "") -> Path:
    """The venv's python, created and brought up to date with the project installed."""
    default_folder, requirements = PYTEST_LINES[line]
    folder = folder or default_folder
    python = ROOT / folder / "bin" / "python"
    if not python.exists():
        venv.create(ROOT / folder, with_pip=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    project = f"{ROOT}[{extras}]" if extras else str(ROOT)
    subprocess.run([*pip, "-e", project, *requirements], check=True)
    return python


# What `python3 run.py test` covers and costs; the README says the same (a test checks it).
SUITE = (
    "the test suite: end-to-end pytest runs of every feature, the examples, a fuzz test, "
    "the wheel installed into clean environments, and then tests/plugins/, each third-party "
    "plugin asyncgroup works with (in .venv-plugins)"
)
SUITE_COST = (
    "5 to 20 minutes on 2 cores, depending on the machine and what else runs on it "
    "(10 minutes for tests/ and 3 for tests/plugins/ on an idle 2-core machine where a loop "
    "of 20 million steps takes about 1 s)"
)


def suite_command(python: Path, pytest_args: list[str], folder: str = "tests") -> list[str]:
    """pytest on ``folder`` in 2 workers: [done/total] progress, the 10 slowest tests at the end.

    ``folder`` goes in as pytest's ``testpaths``, so that files or node ids among
    ``pytest_args`` replace it (as they would on ``pytest``'s own command line) while options
    alone (``-k name``) select from all of it."""
    progress = ["-o", "console_output_style=count", "--durations=10"]
    where = ["-o", f"testpaths={folder}"]
    return [str(python), "-m", "pytest", *where, "-n", "2", *progress, *pytest_args]


def plugin_suite_command(python: Path, pytest_args: list[str]) -> list[str]:
    """pytest on tests/plugins/, the same way; pytest-sugar kept out of the suite's own output."""
    return suite_command(python, ["-p", "no:sugar", *pytest_args], folder="tests/plugins")


def run_plugin_suite(line: str, pytest_args: list[str]) -> int:
    python = environment(line, "test,plugins", folder=PLUGIN_FOLDERS[line])
    print("Running tests/plugins: each third-party plugin asyncgroup works with.", flush=True)
    # tests/conftest.py leaves tests/plugins/ out unless this is set: elsewhere the plugins lack.
    environ = {**os.environ, "ASYNCGROUP_PLUGIN_SUITE": "1"}
    return subprocess.call(plugin_suite_command(python, pytest_args), cwd=ROOT, env=environ)


def main(argv: list[str]) -> int:
    command, *rest = argv or ["help"]
    pytest_args = rest[rest.index("--") + 1 :] if "--" in rest else []
    line = "pytest8" if "--pytest8" in rest else "pytest9"
    if command == "demo":
        python = environment(line, folder=DEMO_FOLDERS[line])
        return subprocess.call(
            [str(python), "-m", "pytest", *DEMO_PATHS, "-v", *pytest_args], cwd=ROOT
        )
    if command == "test":
        if "--plugins" in rest:
            return run_plugin_suite(line, pytest_args)
        python = environment(line, "test")
        print(f"Running {SUITE}. It takes {SUITE_COST}.", flush=True)
        status = subprocess.call(suite_command(python, pytest_args), cwd=ROOT)
        if pytest_args:  # a chosen part of tests/ (`-- tests/test_x.py`, `-- -k y`): that alone
            return status
        return run_plugin_suite(line, []) or status
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
