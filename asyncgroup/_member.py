"""What a case runs when it is not its parent's own function: a test of a ``@concurrent_group``.

A parent made by ``@concurrent_cases`` runs one function for all its cases. A group's parent runs
cases that each stand for a separate test pytest collected (a member item): each brings its own
function, fixture plan, marks and node id. The runner asks a case for its ``member`` and falls
back to the parent's own function when there is none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from asyncgroup._declare import Case


@dataclass(eq=False)
class Member:
    """One test function's part in a run: what its cases call and how they are reported.

    ``item`` is the pytest item the cases stand for (None: the parent itself). With
    ``case_is_item`` its one case reports under the item's own node id (a plain or
    parametrized test); otherwise each case adds its id, as under ``@concurrent_cases``.
    """

    item: pytest.Function | None
    func: Callable[..., Any]
    bound_args: tuple[Any, ...]
    parameters: list[str]
    is_async: bool
    plan: Any  # _fixtures.FixturePlan
    case_is_item: bool = False
    timeout: float | None = None  # the test's own @concurrent_cases(timeout=...), if given
    reporter: Any = None  # _outcome.CaseReporter, made when the run starts

    def label(self, case: Case) -> str:
        """How failure summaries name the case."""
        if self.item is None or self.case_is_item:
            return case.id
        return f"{self.item.name}[{case.id}]"


@dataclass(slots=True)
class MemberCase(Case):
    """A case of a group's parent: it runs its member's function, not the parent's."""

    member: Member | None = None
    # The error of a wider-scoped fixture the test uses, set up by the parent: its setup error.
    setup_error: BaseException | None = None
