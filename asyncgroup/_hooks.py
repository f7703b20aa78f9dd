"""asyncgroup's own hooks, for its integrations with other plugins (asyncgroup/_integrations/)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from asyncgroup._attempts import CaseReruns
from asyncgroup._steps import CaseSteps
from asyncgroup._timeouts import CaseTimeout


@pytest.hookspec(firstresult=True)
def pytest_asyncgroup_case_timeout(
    item: pytest.Function, marks: Sequence[pytest.Mark]
) -> CaseTimeout | None:
    """The timeout of a case that asyncgroup gives none of its own (no ``timeout=`` argument,
    no ``--asyncgroup-timeout``, no ini ``asyncgroup_timeout``): another plugin's per-test one.

    ``item``: the test the case stands for, a ``@concurrent_cases`` parent or a test of a
    ``@concurrent_group``. ``marks``: the case's marks, closest first, as pytest orders them
    for the parametrized test it stands for. Return None for no timeout. Called for each case
    when its parent's run starts.
    """


@pytest.hookspec
def pytest_asyncgroup_run_start(parent: pytest.Function, seconds: float | None) -> None:
    """A parent's cases start now (its fixtures are set up). Returns nothing.

    ``parent``: the test whose cases start (a ``@concurrent_cases`` parent or a
    ``@concurrent_group``'s parent). ``seconds``: the longest the cases can take in all if
    every one of them uses up its timeout, in its body and again in its fixture teardown (with
    asyncgroup's cleanup and stop grace), in each attempt a rerun plugin may give it (with the
    waits before them); None when some case has no timeout (or a body-only one), so no bound is
    known. Called only when some plugin implements it.
    """


@pytest.hookspec
def pytest_asyncgroup_case_phase(
    item: pytest.Item, nodeid: str, when: str, threaded: bool
) -> CaseSteps | None:
    """A phase of a case begins, in the case's task (see asyncgroup/_steps.py).

    ``item``: the test the case belongs to (the parent, or a group's test). ``nodeid``: the
    case's node id, as its reports carry it. ``when``: ``"setup"``, ``"call"`` or
    ``"teardown"``. ``threaded``: the phase runs in a thread of its own (a plain def case's
    body). Return what to run around each step of the phase, or None. Called only when some
    plugin implements it.
    """


@pytest.hookspec(firstresult=True)
def pytest_asyncgroup_case_reruns(
    item: pytest.Item, marks: Sequence[pytest.Mark]
) -> CaseReruns | None:
    """Whether and how a case that fails runs again, as a rerun plugin reruns the test it
    stands for (see asyncgroup/_attempts.py).

    ``item``: the test the case stands for (the parent, or a group's test). ``marks``: the
    case's marks, closest first, as pytest orders them for the parametrized test it stands for.
    Return the case's ``CaseReruns``, which the runner asks after each attempt whether to run
    the case again, or None to leave the case alone (its first attempt is its outcome). Called
    at most once per case, and only when some plugin implements it.
    """
