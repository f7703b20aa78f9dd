"""pytest-cov with ``--cov-context=test``: the lines a case runs are attributed to the case.

pytest-cov switches coverage's dynamic context to ``<node id>|setup``, ``|run`` and
``|teardown`` as each phase of a test begins. Cases take turns at every ``await``, so here the
context is switched to the case's before each step of a case's phase and back to the parent's
after it (asyncgroup/_steps.py): a line runs in one step of one case, and is that case's.

coverage records the lines of every thread into one store, and a context covers what was
recorded since the last switch: lines run in other threads meanwhile (a plain ``def`` case's
body, ``asyncio.to_thread``) cannot be told apart. So a plain ``def`` case is not switched to:
what its body runs stays the parent's, as it was. Tasks a case starts run their steps in the
parent's context.

Checked with pytest-cov 7.1.0 (``TestContextPlugin``, registered as ``_cov_contexts``, and its
``cov_controller``) and coverage 7.x (``Coverage.switch_context``).
"""

from __future__ import annotations

from typing import Any

import pytest

PLUGIN = "_cov"

# The context pytest-cov gave the running test's phase: the one outside the cases' steps.
_outside: list[str] = [""]


def _remember(item: pytest.Item, when: str) -> None:
    _outside[0] = f"{item.nodeid}|{when}"


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _remember(item, "setup")


@pytest.hookimpl(trylast=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    _remember(item, "run")


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    _remember(item, "teardown")


class _CaseContext:
    """Coverage's dynamic context: the case's during its steps, the parent's otherwise."""

    def __init__(self, coverage: Any, context: str) -> None:
        self._coverage = coverage
        self._context = context

    def enter(self) -> None:
        self._coverage.switch_context(self._context)

    def leave(self) -> None:
        self._coverage.switch_context(_outside[0])


@pytest.hookimpl
def pytest_asyncgroup_case_phase(
    item: pytest.Item, nodeid: str, when: str, threaded: bool
) -> _CaseContext | None:
    contexts = item.config.pluginmanager.get_plugin("_cov_contexts")
    controller = getattr(contexts, "cov_controller", None)
    if threaded or controller is None or not controller.started:
        return None
    return _CaseContext(controller.cov, f"{nodeid}|{'run' if when == 'call' else when}")
