"""Installing asyncgroup into one's own project, as the README's "Install" section says.

The wheel is built from this checkout (what ``pip install /path/to/clone`` does), installed
(not editable) into a fresh virtual environment with nothing else in it, and a small suite runs
there: once plainly (pytest 9), once pinned in a requirements file with the ``pytest8`` extra
(pytest 8 + pytest-subtests), and once from a git URL (this repository's committed HEAD). Slow
(a wheel build and three environments, 20 to 60 s each): marked ``slow``, and run by
``python3 run.py test`` like every other test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SUITE = """
import asyncio
import time

import asyncgroup
import pytest
from asyncgroup import concurrent_cases, eventually


@concurrent_cases([f"order-{n}" for n in range(20)], timeout=10)
async def test_orders(order):
    await asyncio.sleep(0.5)


@concurrent_cases(range(4))
def test_blocking(n):
    time.sleep(0.5)


@pytest.mark.asyncio
async def test_eventually():
    assert await eventually(lambda: "ok", timeout=1) == "ok"


def test_installed_not_from_the_checkout():
    print("asyncgroup from", asyncgroup.__file__)
"""

INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
"""


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    # Nothing of the outer test run leaks in: no PYTHONPATH, no pytest options or plugins.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "PYTHON")) and key != "VIRTUAL_ENV"
    }
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built as pip builds it from a clone."""
    out = tmp_path_factory.mktemp("wheel")
    # hatchling from the test extra: no build environment to make first (~15 s).
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    _run([*build, "-w", str(out), str(ROOT)], out, timeout=120)
    (built,) = out.glob("asyncgroup-*.whl")
    return built


def _commit() -> str | None:
    """The checkout's commit, for a git URL (None when the checkout is not a git repository)."""
    try:
        found = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "pytest_major", "subtests_plugin"),
    [
        pytest.param("wheel", "9", False, id="plain"),
        pytest.param("requirements", "8", True, id="pytest8"),
        pytest.param("git", "9", False, id="git-url"),
    ],
)
def test_the_wheel_installs_into_a_clean_venv_and_runs_a_suite(
    wheel: Path, tmp_path: Path, how: str, pytest_major: str, subtests_plugin: bool
) -> None:
    # A clean environment, without even pip: this run's pip installs into it (--python).
    venv.create(tmp_path / "venv", with_pip=False)
    python = str(tmp_path / "venv" / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile"]
    if how == "requirements":  # the README's requirements-file pin, with the pytest8 extra
        requirements = tmp_path / "requirements.txt"
        requirements.write_text(f"asyncgroup[pytest8] @ {wheel.as_uri()}\n")
        _run([*pip, "-r", str(requirements)], tmp_path, timeout=180)
    elif how == "git":  # the README's git URL form, with this repository as the remote
        commit = _commit()
        if commit is None:
            pytest.skip("the checkout is not a git repository")
        # PEP 508 wants a host in a file URL: file://localhost/path.
        url = f"git+file://localhost{ROOT.as_posix()}@{commit}"
        _run([*pip, f"asyncgroup @ {url}"], tmp_path, timeout=180)
    else:  # what `pip install /path/to/clone` installs
        _run([*pip, str(wheel)], tmp_path, timeout=180)

    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text(INI)
    (project / "test_suite.py").write_text(SUITE)
    result = _run([python, "-m", "pytest", "-v", "-s", "-p", "no:cacheprovider"], project, 120)
    out = result.stdout
    assert f"pytest-{pytest_major}." in out, out
    assert ("subtests-" in out) == subtests_plugin, out  # the plugins line names pytest-subtests
    assert f"asyncgroup from {tmp_path / 'venv'}" in out, out  # installed, not the checkout
    assert "2 passed" in out, out  # the two plain tests; the parents are not counted
    assert "24 subtests passed" in out, out
    # 20 cases of 0.5 s and 4 blocking ones: concurrent, not the 12 s of one after another.
    seconds = float(out.rsplit(" in ", 1)[1].split("s", 1)[0])
    assert seconds < 8, out
