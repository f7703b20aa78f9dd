"""What a case sees as its test node: ``request.node`` of a case of ``@concurrent_cases``.

pytest gives each parametrized test an item of its own: its name and node id (``test_x[2]``),
its callspec, its keywords and its marks (the parameter set's among them). A case has no item:
pytest never collects or runs it. ``CaseNode`` is the parent item seen as the case's
parametrized test: those attributes are the case's own, and so are the marks a fixture or the
body adds (``request.applymarker``, ``request.node.add_marker``), which decide the case's
xfail as pytest re-evaluates a test's xfail marks at its call. Everything else (config,
session, stash, path, ...) is the parent item's. It is made only when a case asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Attributes of a case's node that are its reports of a phase, as the recipe names them.
_PHASE_REPORTS = {"rep_setup": "setup", "rep_call": "call"}


class CaseCallSpec:
    """The case's ``callspec``: its id in the node id, and its values with the parent's."""

    def __init__(self, case_id: str, params: dict[str, Any]) -> None:
        self.id = case_id
        self.params = params

    def getparam(self, name: str) -> Any:
        """The value of argument ``name``; ValueError if the test has no such argument."""
        try:
            return self.params[name]
        except KeyError:
            msg = f"{name!r} is not a parameter of this case"
            raise ValueError(msg) from None

    def __repr__(self) -> str:
        return f"<CaseCallSpec id={self.id!r} params={self.params!r}>"


class CaseNode:
    """A case's ``request.node``: its parametrized test's name, node id, keywords, marks and
    callspec over the parent item ``item``, which answers everything else.

    ``own_markers``: the marks on the test itself, closest first (the function's, then the
    case's ``pytest.param`` marks); the marks of its class and module are the parent's.
    ``user_properties``: the case's own list (what ``record_property`` appends to).
    ``phase_reports``: the case's reports of the phases that have ended, by phase; read for
    ``rep_setup`` and ``rep_call`` during the case's teardown.
    """

    def __init__(
        self,
        item: pytest.Function,
        name: str,
        nodeid: str,
        own_markers: list[pytest.Mark],
        keywords: dict[str, Any],
        callspec: CaseCallSpec,
        user_properties: list[tuple[str, object]],
        phase_reports: Callable[[], dict[str, pytest.TestReport]],
    ) -> None:
        self._item = item
        self._phase_reports = phase_reports
        self.name = name
        self.nodeid = nodeid
        self.own_markers = own_markers
        self.keywords = keywords
        self.callspec = callspec
        self.user_properties = user_properties
        self.added_markers = False  # whether add_marker was called: xfail is evaluated again

    def iter_markers(self, name: str | None = None) -> Iterator[pytest.Mark]:
        """The case's marks named ``name`` (all: None), closest first, as pytest's."""
        return (mark for _, mark in self.iter_markers_with_node(name))

    def iter_markers_with_node(self, name: str | None = None) -> Iterator[tuple[Any, pytest.Mark]]:
        for mark in self.own_markers:
            if name is None or mark.name == name:
                yield self, mark
        for node, mark in self._item.iter_markers_with_node(name):
            if node is not self._item:  # the item's own marks are in own_markers
                yield node, mark

    def get_closest_marker(self, name: str, default: Any = None) -> Any:
        return next(self.iter_markers(name), default)

    def add_marker(self, marker: str | pytest.MarkDecorator, append: bool = True) -> None:
        """As ``Node.add_marker``, for this case alone: ``marker`` is a name or a
        ``pytest.mark.*`` decorator (ValueError otherwise); ``append`` False puts it first."""
        decorator = getattr(pytest.mark, marker) if isinstance(marker, str) else marker
        if not isinstance(decorator, pytest.MarkDecorator):
            msg = "is not a string or pytest.mark.* Marker"
            raise ValueError(msg)
        self.keywords[decorator.name] = decorator
        if append:
            self.own_markers.append(decorator.mark)
        else:
            self.own_markers.insert(0, decorator.mark)
        self.added_markers = True

    def listnames(self) -> list[str]:
        return [*self._item.listnames()[:-1], self.name]

    def __getattr__(self, name: str) -> Any:
        # pytest's recipe "Making test result information available in fixtures" has a
        # pytest_runtest_makereport wrapper set item.rep_setup and item.rep_call, which a
        # fixture reads in its teardown. That hook does not run for a case: its reports of
        # those phases, once they ended, stand in (built when first asked for).
        if name in _PHASE_REPORTS:
            report = self._phase_reports().get(_PHASE_REPORTS[name])
            if report is not None:
                setattr(self, name, report)
                return report
        return getattr(self._item, name)

    def __repr__(self) -> str:
        return f"<{type(self._item).__name__} {self.name}>"
