"""What a case sees as its test node: ``request.node`` of a case of ``@concurrent_cases``.

pytest gives each parametrized test an item of its own: its name and node id (``test_x[2]``),
its callspec, its keywords and its marks (the parameter set's among them), its ``instance`` in
a class, its ``stash``. A case has no item: pytest never collects or runs it. ``CaseNode`` is
the parent item seen as the case's parametrized test: those attributes are the case's own, and
so are the marks a fixture or the body adds (``request.applymarker``,
``request.node.add_marker``), which decide the case's xfail as pytest re-evaluates a test's
xfail marks at its call, and whatever is set on it (``request.node.rep_call = ...``).
Everything else (config, session, path, ...) is the parent item's. It is made only when a case
asks for it (or the project's pytest_runtest_makereport hooks are to see it: _casereports).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import pytest

from asyncgroup import _compat

_T = TypeVar("_T")
_D = TypeVar("_D")
_ABSENT: Any = object()


class CaseCallSpec:
    """The case's ``callspec``: its id in the node id, its values with the parent's, and
    their indices (the case's position among the test's cases for its own arguments)."""

    def __init__(self, case_id: str, params: dict[str, Any], indices: dict[str, int]) -> None:
        self.id = case_id
        self.params = params
        self.indices = indices

    def getparam(self, name: str) -> Any:
        """The value of argument ``name``; ValueError if the test has no such argument."""
        try:
            return self.params[name]
        except KeyError:
            msg = f"{name!r} is not a parameter of this case"
            raise ValueError(msg) from None

    def __repr__(self) -> str:
        return f"<CaseCallSpec id={self.id!r} params={self.params!r}>"


class CaseStash:
    """A case's ``stash``, as a parametrized test's item has its own: what the case (its
    fixtures, the project's makereport hooks) stores is its own, so that overlapping cases do
    not overwrite each other's. A key the case has not stored is read from the parent item's
    stash: what plugins stored there for the test before the case ran (pytest's own keys
    among them). ``setdefault`` makes the case's own value, as on a fresh item: a container a
    hook keeps per test (pytest's recipe keeps a dict of reports) is the case's, never the
    parent's.
    """

    __slots__ = ("_own", "_parent")

    def __init__(self, parent: pytest.Stash) -> None:
        self._own = pytest.Stash()
        self._parent = parent

    def __setitem__(self, key: pytest.StashKey[_T], value: _T) -> None:
        self._own[key] = value

    def __getitem__(self, key: pytest.StashKey[_T]) -> _T:
        value = self._own.get(key, _ABSENT)
        return self._parent[key] if value is _ABSENT else value

    def get(self, key: pytest.StashKey[_T], default: _D) -> _T | _D:
        value = self._own.get(key, _ABSENT)
        return self._parent.get(key, default) if value is _ABSENT else value

    def setdefault(self, key: pytest.StashKey[_T], default: _T) -> _T:
        return self._own.setdefault(key, default)

    def __delitem__(self, key: pytest.StashKey[_T]) -> None:
        del self._own[key]

    def __contains__(self, key: pytest.StashKey[_T]) -> bool:
        return key in self._own or key in self._parent

    def __len__(self) -> int:
        return len(self._own)


class CaseNode:
    """A case's ``request.node``: its parametrized test's name, node id, keywords, marks and
    callspec over the parent item ``item``, which answers everything else.

    ``own_markers``: the marks on the test itself, closest first (the function's, then the
    case's ``pytest.param`` marks); the marks of its class and module are the parent's.
    ``user_properties``: the case's own list (what ``record_property`` appends to).
    ``instance``: the case's own instance of its class (its ``self``), or None.
    ``location``: the parent's, with the case's name (``test_x[2]``).
    ``values``: the case's arguments and fixture values so far, by name (the case's part of
    ``funcargs`` and ``fixturenames``).
    ``closure``: the test's whole fixture closure, its cases' own fixtures included.
    ``execution_count``: with pytest-rerunfailures rerunning the case, its attempt (1: the
    first), as the plugin sets it on a test's item; absent otherwise.
    """

    execution_count: int  # only where the plugin reruns the case, as on its item

    def __init__(
        self,
        item: pytest.Function,
        name: str,
        nodeid: str,
        own_markers: list[pytest.Mark],
        keywords: dict[str, Any],
        callspec: CaseCallSpec,
        user_properties: list[tuple[str, object]],
        instance: Any,
        location: tuple[str, int | None, str],
        values: dict[str, Any],
        closure: list[str],
    ) -> None:
        self._item = item
        self._values = values
        self._closure = closure
        self.name = name
        self.nodeid = nodeid
        self.own_markers = own_markers
        self.keywords = keywords
        self.callspec = callspec
        self.user_properties = user_properties
        self.instance = instance
        self.location = location
        self.stash = CaseStash(item.stash)
        self.added_markers = False  # whether add_marker was called: xfail is evaluated again

    @property
    def funcargs(self) -> dict[str, Any]:
        """As pytest's: every argument and fixture value of the test, by name."""
        return {**self._item.funcargs, **self._values}

    @property
    def fixturenames(self) -> list[str]:
        """As pytest's: the whole closure from the start of the case's setup (a
        ``pytest_runtest_setup`` hook skipping tests that use fixture X reads it), and what
        was requested dynamically."""
        return list(dict.fromkeys([*self._closure, *self._item.fixturenames, *self._values]))

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
        _compat.add_marker(self, marker, append)
        self.added_markers = True

    def listnames(self) -> list[str]:
        return [*self._item.listnames()[:-1], self.name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._item, name)

    def __repr__(self) -> str:
        return f"<{type(self._item).__name__} {self.name}>"
