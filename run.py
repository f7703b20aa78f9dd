"""The two quickstart commands, with nothing but python3 (3.10+) installed:

    python3 run.py demo    # run the examples concurrently, then compare with one after another
    python3 run.py test    # run the test suite (pytest 9)

Each makes a virtual environment on first use and installs what it needs with pip: .venv for
the suite (with its test tools), .venv-demo for the demo (the project alone).
``--pytest8`` uses pytest 8 + pytest-subtests instead (.venv-pytest8, .venv-demo-pytest8).
Extra arguments after ``--`` go to pytest.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent

PYTEST_LINES = {
    "pytest9": (".venv", ["pytest>=9,<10"]),
    "pytest8": (".venv-pytest8", ["pytest>=8,<9", "pytest-subtests>=0.14"]),
}
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
    "and the wheel installed into clean environments"
)
SUITE_COST = (
    "1 to 17 minutes on 2 cores, depending on what else runs on them "
    "(65 s when idle; 11 to 17 minutes measured with other test runs sharing the cores)"
)


def suite_command(python: Path, pytest_args: list[str]) -> list[str]:
    """pytest on tests/ in 2 workers: [done/total] progress, the 10 slowest tests at the end."""
    progress = ["-o", "console_output_style=count", "--durations=10"]
    return [str(python), "-m", "pytest", "tests", "-n", "2", *progress, *pytest_args]


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
        python = environment(line, "test")
        print(f"Running {SUITE}. It takes {SUITE_COST}.", flush=True)
        return subprocess.call(suite_command(python, pytest_args), cwd=ROOT)
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
