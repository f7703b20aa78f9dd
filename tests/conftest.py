"""End-to-end tests: each writes a small test file, runs pytest on it, checks what a user sees."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

import pytest

pytest_plugins = ["pytester", "differential"]

# tests/plugins/ tests third-party plugins, which only its own environment has (`run.py test`
# runs it in .venv-plugins and sets this); there each plugin is required, not skipped.
collect_ignore = [] if os.environ.get("ASYNCGROUP_PLUGIN_SUITE") else ["plugins"]

# pytest 8 shows subtests through pytest-subtests, with other words: [id] SUBPASS.
PYTEST_MAJOR = int(pytest.__version__.split(".")[0])


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester project with pytest-asyncio configured as a user of asyncgroup would."""
    # hypothesis (installed for the fuzz tests) adds 0.6 s to every pytest start-up through its
    # plugin; the inner runs do not need it.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")
    # With PYTHONDONTWRITEBYTECODE set (as on this project's machines), every inner run would
    # compile asyncgroup (installed editable) and rewrite its asserts again: 0.2 s of its 0.6 s
    # start-up. The first inner run caches them in __pycache__ for the rest.
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    pytester.makeini(
        """
        [pytest]
        asyncio_default_fixture_loop_scope = function
        """
    )
    return pytester


def default_sigint() -> None:
    """For Popen(preexec_fn=...): a runner started in the background may ignore SIGINT; a child
    that tests Ctrl-C must not inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def ctrl_c(
    pytester: pytest.Pytester,
    args: Sequence[str],
    *ready: Callable[[], bool],
    settle: float = 0.2,
    timeout: float = 120,
) -> tuple[str, int, float]:
    """Run ``python args...`` in the pytester's folder and Ctrl-C it (SIGINT) once for each of
    ``ready``: once it returns True (polled every 0.02 s, for at most 30 s in all) and
    ``settle`` seconds more, so that the cases reach their await; the run must still be going
    then. Its output, exit code, and the seconds from the first Ctrl-C to its exit, which is
    waited for at most ``timeout`` seconds."""
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_sigint,
    )
    sent = None
    try:
        deadline = time.monotonic() + 30
        for number, is_ready in enumerate(ready, 1):
            while not is_ready():
                assert proc.poll() is None, proc.communicate()[0]
                assert time.monotonic() < deadline, f"not ready for Ctrl-C number {number}"
                time.sleep(0.02)
            time.sleep(settle)
            ended = proc.poll() is not None
            assert not ended, f"ended before Ctrl-C number {number}: {proc.communicate()[0]}"
            proc.send_signal(signal.SIGINT)
            sent = sent or time.monotonic()
        output, _ = proc.communicate(timeout=timeout)
        assert sent is not None
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return output, proc.returncode, elapsed


def subtest_line(nodeid: str, case_id: str, outcome: str) -> str:
    """The -v line of a case, on this pytest: outcome is PASSED, FAILED, SKIPPED or XFAIL."""
    if PYTEST_MAJOR >= 9:
        return f"{nodeid}[[]{case_id}[]] SUB{outcome}[[]{case_id}[]]*"
    short = {"PASSED": "PASS", "FAILED": "FAIL", "SKIPPED": "SKIP", "XFAIL": "XFAIL"}[outcome]
    return f"{nodeid}[[]{case_id}[]] [[]{case_id}[]] SUB{short}*"


def summary(result: pytest.RunResult) -> dict[str, int]:
    """The counts of pytest's last summary line: {"failed": 2, "subtests passed": 2, ...}."""
    import re

    line = next(line for line in reversed(result.outlines) if re.search(r" in [\d.]+s", line))
    return {
        name: int(count)
        for count, name in re.findall(r"(\d+) ((?:subtests )?[a-z]+)", line)
        if name not in ("in",)
    }
