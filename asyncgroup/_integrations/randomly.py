"""pytest-randomly: each case is reseeded as its parametrized test, and keeps its own draws.

pytest-randomly reseeds ``random`` (and numpy, Faker, factory_boy, model_bakery, polyfactory,
and its entry-point seeders) as each phase of a test begins, from the run's seed and (from 3.16
on) the test's node id. As a phase of a case begins, its own hook functions are called with the
case's node id, so the case gets the seeds its parametrized test gets.

Cases take turns at every ``await``, and those generators are process-wide: the states of
``random``'s and numpy's global generators and of the Faker, model_bakery and polyfactory
generators are then kept per case, restored before each step of the case and saved after it
(asyncgroup/_steps.py), so that what a case draws does not depend on the other cases. What
differs: factory_boy's and the entry-point seeders' generators are only reseeded as the phase
begins; tasks a case starts draw from the generators as they are outside any case; a plain
``def`` case starts its body with its own states, but cases running in threads at the same time
draw from the same generators.

Checked with pytest-randomly 5.1.0, whose hook functions read only ``item.config`` and
``item.nodeid`` (as do 3.15's).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

PLUGIN = "randomly"


class _CaseItem:
    """What pytest-randomly's hook functions read of an item, for a case."""

    def __init__(self, config: pytest.Config, nodeid: str) -> None:
        self.config = config
        self.nodeid = nodeid


def _generators() -> list[tuple[Callable[[], Any], Callable[[Any], None]]]:
    """How to save and restore each generator pytest-randomly seeds that can be."""
    import pytest_randomly

    found: list[tuple[Callable[[], Any], Callable[[Any], None]]] = [
        (random.getstate, random.setstate)
    ]
    for name in ("faker_random", "baker_random", "polyfactory_random"):
        generator = getattr(pytest_randomly, name, None)
        if isinstance(generator, random.Random):
            found.append((generator.getstate, generator.setstate))
    numpy_random = getattr(pytest_randomly, "np_random", None)
    if numpy_random is not None:
        found.append((numpy_random.get_state, numpy_random.set_state))
    return found


class _CaseGenerators:
    """The generators' states of one case, in place while its code runs."""

    def __init__(self) -> None:
        self._generators = _generators()
        self._states = [get() for get, _ in self._generators]

    def enter(self) -> None:
        for (_, put), state in zip(self._generators, self._states, strict=True):
            put(state)

    def leave(self) -> None:
        self._states = [get() for get, _ in self._generators]


@pytest.hookimpl
def pytest_asyncgroup_case_phase(
    item: pytest.Item, nodeid: str, when: str, threaded: bool
) -> _CaseGenerators | None:
    if not item.config.getoption("randomly_reset_seed"):
        return None  # --randomly-dont-reset-seed: one stream for all tests, cases included
    # Imported here: asyncgroup/_integrations/ imports this module where the plugin lacks too.
    import pytest_randomly

    reseed = getattr(pytest_randomly, f"pytest_runtest_{when}")
    reseed(_CaseItem(item.config, nodeid))
    return _CaseGenerators()
