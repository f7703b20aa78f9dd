"""The version matrix: Python 3.10 and 3.13 x pytest 8 (+ pytest-subtests) and pytest 9 x the
lowest supported pytest-asyncio and the newest. Run by .ci/run; `nox -l` lists the sessions.

    PYENV_VERSION=3.11.7:3.10.13:3.12.1:3.13.0 nox
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

PYTEST_LINES = {
    "pytest8": ["pytest>=8.2,<9", "pytest-subtests>=0.14"],
    "pytest9": ["pytest>=9,<10"],
}
# The lowest pytest-asyncio each pytest line can have: 1.0-1.2 require pytest < 9.
LOWEST_ASYNCIO = {"pytest8": "pytest-asyncio==1.0.0", "pytest9": "pytest-asyncio==1.3.0"}


@nox.session(python=["3.10", "3.13"])
@nox.parametrize("asyncio", ["lowest", "newest"])
@nox.parametrize("line", ["pytest8", "pytest9"])
def tests(session: nox.Session, line: str, asyncio: str) -> None:
    session.install("-e", ".[test]", *PYTEST_LINES[line])
    if asyncio == "lowest":
        session.install(LOWEST_ASYNCIO[line])
    else:
        session.install("--upgrade", "pytest-asyncio")
    session.run("python", "-m", "pytest", "--version")
    session.run("python", "-m", "pytest", "tests", "-n", "2", *session.posargs)


@nox.session(python=["3.10", "3.13"])
@nox.parametrize("line", ["pytest8", "pytest9"])
def plugins(session: nox.Session, line: str) -> None:
    """tests/plugins/: each third-party plugin asyncgroup works with, in its own environment."""
    session.install("-e", ".[test,plugins]", *PYTEST_LINES[line])
    session.run("python", "-m", "pytest", "--version")
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/plugins",
        "-n",
        "2",
        "-p",
        "no:sugar",
        *session.posargs,
        env={"ASYNCGROUP_PLUGIN_SUITE": "1"},
    )


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run(
        "ruff", "check", "asyncgroup", "tests", "examples", "benchmarks", "run.py", "noxfile.py"
    )
    session.run(
        "ruff",
        "format",
        "--check",
        "asyncgroup",
        "tests",
        "examples",
        "benchmarks",
        "run.py",
        "noxfile.py",
    )
    session.run("mypy")


@nox.session(python="3.11", default=False)
def mutants(session: nox.Session) -> None:
    """The suite's strength: each bug in tests/mutants/ must make its tests fail.

    Not part of the default run (.ci/run): `nox -s mutants`, a few minutes on two cores.
    """
    session.install(".[test]", *PYTEST_LINES["pytest9"])
    session.run("python", "tests/mutants/run.py", *session.posargs)
