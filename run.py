"""The two quickstart commands, with nothing but python3 (3.10+) installed:

    python3 run.py demo    # run the examples: 36 slow cases concurrently, in about 1.5 s
    python3 run.py test    # run the test suite (pytest 9)

Each makes a virtual environment (.venv) on first use and installs what it needs with pip.
``python3 run.py test --pytest8`` runs the suite on pytest 8 + pytest-subtests instead
(in .venv-pytest8). Extra arguments after ``--`` go to pytest.
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


def environment(line: str, extras: str = "") -> Path:
    """The venv's python, created and brought up to date with the project installed."""
    folder, requirements = PYTEST_LINES[line]
    python = ROOT / folder / "bin" / "python"
    if not python.exists():
        venv.create(ROOT / folder, with_pip=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    project = f"{ROOT}[{extras}]" if extras else str(ROOT)
    subprocess.run([*pip, "-e", project, *requirements], check=True)
    return python


def main(argv: list[str]) -> int:
    command, *rest = argv or ["help"]
    pytest_args = rest[rest.index("--") + 1 :] if "--" in rest else []
    line = "pytest8" if "--pytest8" in rest else "pytest9"
    if command == "demo":
        python = environment(line)
        return subprocess.call(
            [str(python), "-m", "pytest", "examples", "-v", *pytest_args], cwd=ROOT
        )
    if command == "test":
        python = environment(line, "test")
        return subprocess.call(
            [str(python), "-m", "pytest", "tests", "-n", "2", *pytest_args], cwd=ROOT
        )
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
