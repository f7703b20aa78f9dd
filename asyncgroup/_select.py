"""Selecting cases within a parent exactly as pytest selects parametrized tests.

At collection, each case is matched as the parametrized test it stands for: by node id on the
command line (``f.py::test_x[c]``), by ``--deselect`` (a node id prefix), by ``-k`` (on the
parent's names, markers and keywords plus its own name ``test_x[c]`` and marks) and by ``-m``
(the parent's marks and its own). A parent is kept when any of its cases is, and runs only
those; when none is, it is deselected (or, for a node id argument, never collected).
At run time ``--lf`` narrows that to the cases that failed last time, ``--ff`` runs them first;
the cache keeps what ``--lf`` and ``--sw`` need to find those cases again.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

import pytest

from asyncgroup import _compat
from asyncgroup._declare import CASES_ATTRIBUTE, SHARD_ARGUMENT, Case, CaseTable
from asyncgroup._outcome import (
    CASE_ID_ATTRIBUTE,
    PARENT_NODEID_ATTRIBUTE,
    SUMS_UP_CASES_ATTRIBUTE,
    CaseSlot,
    case_nodeid,
    slot_of,
)

# The ids of the cases selected at collection; absent: all of them.
selected_key = pytest.StashKey[set[str]]()
# A parent's case table, while its function's own attributes are hidden from -k.
_table_key = pytest.StashKey[CaseTable]()
# What a parent's function has and its parametrized test's would not: hidden from -k.
_OWN_ATTRIBUTES = ("__wrapped__", "__signature__", CASES_ATTRIBUTE)
# Per run: the functions whose own attributes are hidden from -k, and those attributes.
_hidden_key = pytest.StashKey[list[tuple[Any, dict[str, Any]]]]()
# Per run: the parents whose asyncio mark (CaseTable.asyncio_mark) is hidden from -k and -m,
# with its place among their own marks.
_hidden_marks_key = pytest.StashKey[list[tuple[pytest.Item, int, pytest.Mark]]]()
# Marks lent to a kept parent so that pytest's -m keeps it too, taken back after.
lent_marks_key = pytest.StashKey[list[pytest.Mark]]()
# On the config: the node ids of the cases --deselect, -k, -m, --lf and --sw left out, beyond
# the parents pytest was told of (a parent deselected whole stands for one of its cases).
deselected_cases_key = pytest.StashKey[list[str]]()
# On a parent Selection deselected: its left-out cases are counted already.
_counted_key = pytest.StashKey[bool]()
# Under --setup-plan/--setup-only, on the config: for each sharded test definition (node id),
# where its cases' id is among the ids of each listed test (the shard's is first).
case_position_key = pytest.StashKey[dict[str, int]]()
# On the config: the node id of each test of a @concurrent_group -> its parent's (see _grouping).
group_parents_key = pytest.StashKey[dict[str, str]]()
# On a parent: its own marks as pytest made its item (see keep_made_marks).
_made_marks_key = pytest.StashKey[tuple[pytest.Mark, ...]]()
# On the config, when Selection looked at the items: how many tests pytest collected, a parent's
# cases counted as its parametrized tests (see tests_collected).
_collected_key = pytest.StashKey[int]()
# On the config: how many of those tests --lf would not have collected (see only_last_failed).
_not_collected_key = pytest.StashKey[int]()


def keep_made_marks(items: object) -> None:
    """Note the marks each parent item (``items``: what pytest_pycollect_makeitem made) had
    when pytest made it, before a hook could add any (see parent_marks)."""
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, pytest.Function):
            item.stash[_made_marks_key] = tuple(item.own_markers)


def parent_marks(
    item: pytest.Item,
) -> tuple[list[pytest.Mark], list[pytest.Mark], list[pytest.Mark]]:
    """The parent's marks, closest first, around where pytest puts a case's ``pytest.param``
    marks on its parametrized test: (before, after, outer).

    ``before``: those the item was made with (the function's, an outer parametrize's
    ``pytest.param`` marks), after any a hook put first (``add_marker(..., append=False)``);
    ``after``: those a hook appended since (``add_marker``, a suite-wide ``timeout(30)``);
    ``outer``: its class's and module's. A case's own marks go between ``before`` and
    ``after``: pytest appends a hook's mark to each parametrized test's own, after the case's.
    """
    table = _table(item)
    added = table.asyncio_mark if table is not None else None  # not the cases' (see CaseTable)
    own: list[pytest.Mark] = []
    outer: list[pytest.Mark] = []
    for node, mark in item.iter_markers_with_node():
        if mark is not added:
            (own if node is item else outer).append(mark)
    made = item.stash.get(_made_marks_key, None)
    if made is not None and added is not None:
        made = tuple(mark for mark in made if mark is not added)
    before, after, start = own, [], 0
    if made is not None and len(own) != len(made):
        # add_marker only inserts at the start or appends: the made marks are a run in ``own``
        # (else a hook took marks away: no telling which it added).
        size = len(made)
        for at in range(len(own) - size + 1):
            if all(a is b for a, b in zip(own[at : at + size], made, strict=True)):
                before, after, start = own[: at + size], own[at + size :], at
                break
    if table is not None and table.mark is not None:
        # The cases' parametrize mark, in the decorator's place: after the function's marks
        # under it (which it had when decorated), as a parametrize mark there would be.
        below = len(getattr(table.func, "pytestmark", []))
        before.insert(min(start + below, len(before)), table.mark)
    return before, after, outer


def case_marks(
    marks: tuple[list[pytest.Mark], list[pytest.Mark], list[pytest.Mark]], case: Case
) -> Sequence[pytest.Mark]:
    """A case's marks, closest first, as its parametrized test's (``marks``: parent_marks)."""
    before, after, outer = marks
    return [*before, *case.marks, *after, *outer]


def _in_chain(item: pytest.Item) -> tuple[str, ...]:
    """The item's names after its file: ("TestC", "test_x")."""
    chain = item.listchain()
    start = next((i for i, node in enumerate(chain) if isinstance(node, pytest.File)), 0)
    return tuple(node.name for node in chain[start + 1 :])


def _base_matches(
    path: Path, parts: tuple[str, ...], item_path: Path, names: tuple[str, ...]
) -> bool:
    """Whether an argument without brackets selects the item, as pytest matches it."""
    if not parts:
        return item_path == path or path in item_path.parents
    if item_path != path or len(parts) > len(names) or names[: len(parts) - 1] != parts[:-1]:
        return False
    last = names[len(parts) - 1]
    return last == parts[-1] or last.split("[")[0] == parts[-1]


class Selection:
    """The collection-time selection of one session, applied to the collected items."""

    def __init__(self, config: pytest.Config, arguments: _compat.Arguments) -> None:
        self.config = config
        self.named = arguments.named
        self.plain = arguments.plain
        self.groups = arguments.groups
        self.deselect = tuple(config.getoption("deselect", None) or ())
        self.keyword = _compat.compile_expression(config.getoption("keyword"))
        self.markexpr = _compat.compile_expression(config.getoption("markexpr"))
        cache = config.cache if config.getoption("lf", False) else None
        self.last_failed = cache.get("cache/lastfailed", {}) if cache is not None else {}

    def apply(
        self,
        items: list[pytest.Item],
        table_of: Callable[[Any], CaseTable | None],
        group_of: Callable[[pytest.Item], tuple[str, str | None] | None],
    ) -> None:
        """``group_of``: an item's group, as (its module's or class's node id, group name)."""
        if not (self.named or self.groups or self.deselect or self.keyword or self.markexpr):
            return
        tables = [table_of(getattr(item, "obj", None)) for item in items]
        if self.keyword is not None:
            self._hide_own_attributes(items, tables)
        if self.keyword is not None or self.markexpr is not None:
            self._hide_asyncio_marks(items, tables)
        found: set[_compat.NodeIdArgument | _compat.GroupArgument] = set()
        kept: list[pytest.Item] = []
        deselected: list[pytest.Item] = []
        left_out: list[str] = []  # cases, counted as pytest counts deselected tests
        collected = 0  # tests, as pytest counts the parametrized ones (see tests_collected)
        for item, table in zip(items, tables, strict=True):
            if table is not None and not table.cases:
                table = None  # pytest's own test of the empty parameter set: selected as one
            naming = self._naming(item) if self.named else None
            cases = _own_cases(item, table) if table is not None else []
            if self.groups:
                # pytest collected the module or class of an argument naming a group's parent:
                # the item is kept if it is of that group, or another argument names it.
                in_group = self._group_arguments(item, group_of)
                found.update(in_group)
                if not in_group and naming is None and not self._selected_plainly(item):
                    continue
            if naming is not None:
                wanted = {a.name for a in naming}
                slot = slot_of(item)
                if table is not None and item.name not in wanted:
                    cases = [c for c in cases if case_nodeid(item.name, c.id, slot) in wanted]
                names = {item.name, *(case_nodeid(item.name, c.id, slot) for c in cases)}
                names.update(_listed_parent_name(item))
                hits = [a for a in naming if a.name in names]
                if not hits:
                    continue  # pytest would not have collected it
                found.update(hits)
            collected += len(cases) if table is not None else 1
            if table is None or self._by_options(item, cases, table):
                kept.append(item)
                if table is not None:
                    running = item.stash.get(selected_key, {c.id for c in cases})
                    left_out += [
                        case_nodeid(item.nodeid, c.id, slot_of(item))
                        for c in cases
                        if c.id not in running
                    ]
            else:
                deselected.append(item)
                if table is not None:  # the parent stands for its first case
                    gone = _not_collected_by_lf(item, table, self.last_failed)
                    nodeids = [case_nodeid(item.nodeid, c.id, slot_of(item)) for c in cases]
                    left_out += [nodeid for nodeid in nodeids if nodeid not in gone][1:]
                    item.stash[_counted_key] = True
        self.config.stash[deselected_cases_key] = left_out
        self.config.stash[_collected_key] = collected
        missing = [a for a in self.named if a not in found]
        missing_groups = [a for a in self.groups if a not in found]
        if missing or missing_groups:
            raise pytest.UsageError(
                *(a.not_found(self._collector(a, items)) for a in missing),
                *(a.not_found() for a in missing_groups),
            )
        if deselected:
            self.config.hook.pytest_deselected(items=deselected)
        items[:] = kept

    def _hide_own_attributes(self, items: list[pytest.Item], tables: list[Any]) -> None:
        """-k matches the names a test function has (pytest 8): a parent's are those of its
        parametrized test, not asyncgroup's own, until pytest has matched (see _compat)."""
        hidden = self.config.stash.setdefault(_hidden_key, [])
        for item, table in zip(items, tables, strict=True):
            if table is None:
                continue
            item.stash[_table_key] = table
            function = getattr(item, "function", None)
            names = [name for name in _OWN_ATTRIBUTES if name not in vars(table.func)]
            taken = _compat.hide_from_keywords(function, names)
            if taken:
                hidden.append((function, taken))

    def _hide_asyncio_marks(self, items: list[pytest.Item], tables: list[Any]) -> None:
        """The asyncio mark asyncgroup gave a plain def test is not its cases': -k and -m see
        the parent without it, as they see the parametrized test."""
        hidden = self.config.stash.setdefault(_hidden_marks_key, [])
        for item, table in zip(items, tables, strict=True):
            added = table.asyncio_mark if table is not None else None
            place = next((i for i, m in enumerate(item.own_markers) if m is added), None)
            if place is not None:
                hidden.append((item, place, item.own_markers.pop(place)))

    def _naming(self, item: pytest.Item) -> list[_compat.NodeIdArgument] | None:
        """The node id arguments with brackets that name the item's test, or None when none
        does, or an argument without brackets selects the item anyway."""
        names = _in_chain(item)
        naming = [a for a in self.named if _base_matches(a.path, a.parts, item.path, names)]
        if not naming or any(_base_matches(p, parts, item.path, names) for p, parts in self.plain):
            return None
        return naming

    def _selected_plainly(self, item: pytest.Item) -> bool:
        """Whether an argument without brackets (nor a group's parent) selects the item."""
        names = _in_chain(item)
        return any(_base_matches(path, parts, item.path, names) for path, parts in self.plain)

    def _group_arguments(
        self,
        item: pytest.Item,
        group_of: Callable[[pytest.Item], tuple[str, str | None] | None],
    ) -> list[_compat.GroupArgument]:
        """The arguments naming the parent of the item's group."""
        group = group_of(item)
        if group is None:
            return []
        collector = _in_chain(item)[:-1]
        return [
            a
            for a in self.groups
            if a.path == item.path and a.parts == collector and a.name == group[1]
        ]

    def _collector(self, argument: _compat.NodeIdArgument, items: list[pytest.Item]) -> object:
        """The collector pytest would name in its "not found" error."""
        for item in items:
            if _base_matches(argument.path, argument.parts, item.path, _in_chain(item)):
                return item.parent
        return argument.path

    def _by_options(self, item: pytest.Item, cases: list[Case], table: CaseTable) -> bool:
        """Select the cases by --deselect, -k and -m; whether the parent stays."""
        prefixes = self.deselect
        if prefixes:
            slot = slot_of(item)
            cases = [
                c for c in cases if not case_nodeid(item.nodeid, c.id, slot).startswith(prefixes)
            ]
        keyword_names: set[str] = set()
        marks_matched: list[pytest.Mark] = []
        if cases and (self.keyword is not None or self.markexpr is not None):
            cases, keyword_names, marks_matched = self._by_expressions(item, cases)
        if not cases:
            return False
        if len(cases) != len(_own_cases(item, table)):
            item.stash[selected_key] = {c.id for c in cases}
        # pytest then matches -k and -m against the parent alone. Given the names and marks one
        # selected case matched, every name in the expressions is as true or false for the
        # parent as for that case (the case has the parent's names and marks, and more), so
        # pytest keeps the parent. The marks are taken back when pytest has looked.
        item.extra_keyword_matches.update(keyword_names)
        if marks_matched:
            item.stash[lent_marks_key] = marks_matched
            item.own_markers.extend(marks_matched)
        return True

    def _by_expressions(
        self, item: pytest.Item, cases: list[Case]
    ) -> tuple[list[Case], set[str], list[pytest.Mark]]:
        around = parent_marks(item)
        table = _table(item)  # its cases' parametrize mark is theirs, as their own marks
        parametrize = [table.mark] if table is not None and table.mark is not None else []
        parent_keywords = _compat.keyword_matcher(item)
        selected: list[Case] = []
        first_names: set[str] | None = None
        first_marks: list[pytest.Mark] = []
        for case in cases:
            marks = case_marks(around, case)
            if self.markexpr is not None:
                matched_marks: list[pytest.Mark] = []
                by_marks = _compat.mark_matcher(marks)

                def mark_matches(
                    name: str,
                    /,
                    _m: Any = by_marks,
                    _own: Sequence[pytest.Mark] = [*case.marks, *parametrize],
                    _found: list[Any] = matched_marks,
                    **kw: Any,
                ) -> bool:
                    hit = bool(_m(name, **kw))
                    if hit:
                        _found.extend(m for m in _own if m.name == name)
                    return hit

                if not self.markexpr.evaluate(mark_matches):
                    continue
            else:
                matched_marks = []
            matched_names: set[str] = set()
            if self.keyword is not None:
                own_names = [case_nodeid(item.name, case.id, slot_of(item)).lower()]
                own_names += [mark.name.lower() for mark in [*case.marks, *parametrize]]

                def keyword_matches(
                    name: str,
                    /,
                    _own: list[str] = own_names,
                    _found: set[str] = matched_names,
                    **kw: Any,
                ) -> bool:
                    lowered = name.lower()
                    hit = bool(parent_keywords(name, **kw)) or any(lowered in n for n in _own)
                    if hit:
                        _found.add(name)
                    return hit

                if not self.keyword.evaluate(keyword_matches):
                    continue
            selected.append(case)
            if first_names is None:
                first_names, first_marks = matched_names, matched_marks
        return selected, first_names or set(), first_marks


def return_lent_marks(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give back what pytest's -k and -m were to see, or not to see, of parents."""
    for function, taken in config.stash.get(_hidden_key, []):
        vars(function).update(taken)
    config.stash[_hidden_key] = []
    for item in items:
        lent = item.stash.get(lent_marks_key, None)
        if lent:  # they were appended: drop the last len(lent), whatever equals them before
            del item.own_markers[-len(lent) :]
            del item.stash[lent_marks_key]
    hidden_marks = config.stash.get(_hidden_marks_key, [])
    for item, place, mark in reversed(hidden_marks):  # each back where it was
        item.own_markers.insert(place, mark)
    config.stash[_hidden_marks_key] = []


def definition_nodeid(item: pytest.Item) -> str:
    """The node id of the item's test function, without its parametrization's ids."""
    name = getattr(item, "originalname", item.name)
    return item.nodeid[: len(item.nodeid) - len(item.name)] + name


def _listed_parent_name(item: pytest.Item) -> list[str]:
    """A sharded case listed as its parametrized test (--setup-plan) is also named by its
    parent's name in a run: test_x[shard1of2] for test_x[shard1of2-0]."""
    position = item.config.stash.get(case_position_key, {}).get(definition_nodeid(item))
    ids = _compat.callspec_ids(item)
    if position is None or position >= len(ids):
        return []
    rest = [part for i, part in enumerate(ids) if i != position]
    return [f"{getattr(item, 'originalname', item.name)}[{'-'.join(rest)}]"]


def lists_cases_as_tests(config: pytest.Config) -> bool:
    """--setup-only and --setup-plan (which sets setuponly): no test body runs, so pytest
    collects a ``@concurrent_cases`` test as its parametrized test, one item per case, and
    lists each with its fixtures (sets them up) as for that test."""
    return bool(config.getoption("setuponly", False))


def _table(item: pytest.Item) -> CaseTable | None:
    if lists_cases_as_tests(item.config):
        return None  # its items are the parametrized test's
    table = item.stash.get(_table_key, None) or getattr(
        getattr(item, "obj", None), CASES_ATTRIBUTE, None
    )
    # Without cases, the item is pytest's own test of the empty parameter set (test_a[NOTSET]).
    return table if isinstance(table, CaseTable) and table.cases else None


def _own_cases(item: pytest.Item, table: CaseTable) -> list[Case]:
    """The parent's cases: with ``shards``, only its shard's (every K-th case)."""
    shard = getattr(getattr(item, "callspec", None), "params", {}).get(SHARD_ARGUMENT)
    return table.cases if shard is None else table.cases[shard :: table.shards]


def _selected_cases(item: pytest.Item, table: CaseTable) -> list[Case]:
    selected = item.stash.get(selected_key, None)
    return [c for c in _own_cases(item, table) if selected is None or c.id in selected]


def tests_collected(config: pytest.Config, items: list[pytest.Item]) -> int:
    """How many tests pytest collected (before -k, -m and --deselect), a parent's cases counted
    as the parametrized tests they stand for."""
    collected = config.stash.get(_collected_key, None)
    if collected is None:
        collected = sum(
            len(_own_cases(item, t)) if (t := _table(item)) is not None else 1 for item in items
        )
    return collected - config.stash.get(_not_collected_key, 0)


def _leave_out(item: pytest.Item, cases: list[Case]) -> None:
    """Count these cases as deselected, as pytest counts the parametrized tests it leaves out."""
    slot = slot_of(item)
    left_out = item.config.stash.setdefault(deselected_cases_key, [])
    left_out += [case_nodeid(item.nodeid, c.id, slot) for c in cases]


def count_deselected_parents(items: Sequence[pytest.Item]) -> None:
    """A parent that --lf or --sw deselects (pytest counts it as one test) stands for its first
    selected case: count the others as deselected, as their parametrized tests would be."""
    for item in items:
        table = _table(item)
        if table is not None and not item.stash.get(_counted_key, False):
            _leave_out(item, _selected_cases(item, table)[1:])


# Parents that --lf must not see as failed this time (their failed cases are not selected).
hidden_key = pytest.StashKey[dict[Any, bool]]()
# On the config: what parents_for_cases read.
_for_cases_key = pytest.StashKey[set[str]]()


def only_last_failed(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--lf``: of a parent whose cases failed last time, keep only those cases.

    pytest keeps a parent that is on its record whatever -k and -m left of it. A parent left
    with none of its failed cases is taken off that record until pytest has chosen (see
    LastFailed), so that pytest treats it as it treats the parametrized tests that passed.
    """
    cache = getattr(config, "cache", None)
    if not config.getoption("lf", False) or cache is None:
        return
    record = cache.get("cache/lastfailed", {})
    for_cases = parents_for_cases(config)
    hidden: set[str] = set()
    gone: list[pytest.Item] = []
    # Cases not to count as deselected after all: taken out of the list once, at the end.
    dropped: set[str] = set()
    for item in items:
        table = _table(item)
        if table is None or item.nodeid not in record:
            continue
        slot = slot_of(item)
        own = _own_cases(item, table)
        recorded = {c.id for c in own if case_nodeid(item.nodeid, c.id, slot) in record}
        if not recorded:
            # Its failed cases are gone: pytest knows of failures it does not collect, as of
            # the parametrized tests whose parameters were taken out.
            if item.nodeid in for_cases:
                hidden.add(item.nodeid)
            continue  # or the parent failed on its own (a shared fixture): all its cases
        collects_all = item.session.isinitpath(item.path)
        if not collects_all:
            # pytest collects only the failed tests of a module not given as an argument: it
            # neither counts the others nor deselects them (-k, -m), nor runs them.
            fewer = config.stash.get(_not_collected_key, 0) + len(own) - len(recorded)
            config.stash[_not_collected_key] = fewer
            dropped |= _not_collected_by_lf(item, table, record)
        selected = _selected_cases(item, table)
        failed = {c.id for c in selected} & recorded
        if failed:
            item.stash[selected_key] = failed
            # pytest deselects (and counts) the passed tests of a module given as an argument;
            # of any other module it collects only the failed ones.
            if collects_all:
                _leave_out(item, [c for c in selected if c.id not in failed])
        elif collects_all:
            hidden.add(item.nodeid)
        else:
            # -k, -m or --deselect left none of the failed cases, the only ones pytest would
            # have collected: the parent goes, standing for one of those deselected cases.
            gone.append(item)
            item.stash[_counted_key] = True
            first = next(c for c in own if c.id in recorded)
            dropped.add(case_nodeid(item.nodeid, first.id, slot))
    _hide(config, hidden)
    if dropped:
        left_out = config.stash.get(deselected_cases_key, [])
        config.stash[deselected_cases_key] = [n for n in left_out if n not in dropped]
    if gone:
        going = set(map(id, gone))
        items[:] = [item for item in items if id(item) not in going]
        config.hook.pytest_deselected(items=gone)


def _not_collected_by_lf(item: pytest.Item, table: CaseTable, record: dict[str, Any]) -> set[str]:
    """The node ids of the cases pytest's --lf would not collect (``record``: its last-failed
    record, empty without --lf): in a module not given as an argument, of a test whose cases
    failed last time, those that did not fail."""
    if item.nodeid not in record or item.session.isinitpath(item.path):
        return set()
    slot = slot_of(item)
    nodeids = {case_nodeid(item.nodeid, c.id, slot) for c in _own_cases(item, table)}
    failed = {nodeid for nodeid in nodeids if nodeid in record}
    return nodeids - failed if failed else set()


def _hide(config: pytest.Config, nodeids: set[str]) -> None:
    """Take these parents off pytest's last-failed record until it has chosen (LastFailed)."""
    hidden = config.stash.get(hidden_key, None) or {}
    hidden.update(_compat.hide_from_last_failed(config, nodeids))
    config.stash[hidden_key] = hidden


def parents_for_cases(config: pytest.Config) -> set[str]:
    """The parents on pytest's last-failed record for their cases' failures (see LastFailed),
    of cases since taken out of their lists too; read from the cache once a session (it is
    written at the session's end)."""
    found = config.stash.get(_for_cases_key, None)
    if found is None:
        cache = config.cache
        record = cache.get("cache/lastfailed", {}) if cache is not None else {}
        recorded = cache.get(LastFailed.key, {}) if cache is not None else {}
        found = {parent for case, parent in recorded.items() if case in record}
        config.stash[_for_cases_key] = found
    return found


def hide_parents_of_removed_cases(
    config: pytest.Config,
    collected: Sequence[object],
    slot_for: Callable[[pytest.Function, CaseTable], CaseSlot | None],
    for_cases: set[str],
) -> None:
    """Of the items a test module collected, take off pytest's last-failed record (until
    pytest_collection_modifyitems, see LastFailed) each parent there only for failed cases
    that are no longer in its list: pytest's --lf keeps only the tests of a module that are on
    the record and skips the modules that have none, which a parametrized test whose failed
    parameter was taken out does not make it do. ``slot_for``: where the cases' ids go among
    the parent's (pytest_itemcollected has not placed them yet)."""
    lastfailed = getattr(config.pluginmanager.get_plugin("lfplugin"), "lastfailed", None)
    if not isinstance(lastfailed, dict):
        return
    record = {str(key) for key in lastfailed}  # pytest 9.2's keys are NodeIds
    hidden: set[str] = set()
    for item in collected:
        if not isinstance(item, pytest.Function) or item.nodeid not in for_cases:
            continue
        table = _table(item)
        if table is None or item.nodeid not in record:
            continue
        slot = slot_for(item, table)
        if not any(case_nodeid(item.nodeid, c.id, slot) in record for c in _own_cases(item, table)):
            hidden.add(item.nodeid)
    if hidden:
        _hide(config, hidden)


def select(item: Any, cases: list[Case]) -> list[Case]:
    """The parent's cases to run this time."""
    selected = item.stash.get(selected_key, None)
    if selected is not None:
        cases = [c for c in cases if c.id in selected]
    config = item.config
    last_failed = config.getoption("lf", False)
    failed_first = config.getoption("failedfirst", False)
    if (last_failed or failed_first) and getattr(config, "cache", None) is not None:
        lastfailed = config.cache.get("cache/lastfailed", {})
        slot = slot_of(item)
        failed = [c for c in cases if case_nodeid(item.nodeid, c.id, slot) in lastfailed]
        if failed and last_failed:
            cases = failed
        elif failed:
            failed_ids = {c.id for c in failed}
            cases = failed + [c for c in cases if c.id not in failed_ids]
    return cases


class LastFailed:
    """Keeps ``--lf`` right when a parent ran only some of its cases.

    pytest's cache records failed node ids, the cases' and their parent's. A parent that then
    passes with only some cases (``--lf -k b``) is taken off the record, and with it the way
    back to its other failed cases: ``--lf`` would collect nothing of it. At the session's end
    the parent of every case still recorded as failed goes back on the record.
    """

    key = "asyncgroup/failed-case-parents"  # case node id -> parent node id

    def __init__(
        self,
        config: pytest.Config,
        slot_for: Callable[[pytest.Function, CaseTable], CaseSlot | None],
    ) -> None:
        self.config = config
        self.slot_for = slot_for
        self.parents: dict[str, str] = {}
        # Parents of groups whose failure only sums up their tests': pytest collects the tests,
        # which are on the record themselves, so the parent is no known failure of its own.
        self.group_sums: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            parent = getattr(report, PARENT_NODEID_ATTRIBUTE, None)
            # A test of a @concurrent_group reports under its own node id: no parent to keep.
            if isinstance(parent, str) and parent != report.nodeid:
                self.parents[report.nodeid] = parent
            groups = self.config.stash.get(group_parents_key, {}).values()
            if getattr(report, SUMS_UP_CASES_ATTRIBUTE, False) and report.nodeid in groups:
                self.group_sums.add(report.nodeid)

    # trylast: inside the cache plugin's wrapper, which keeps a module's tests on the record
    # and skips the modules without any.
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None, Any, Any]:
        report = yield
        if isinstance(collector, pytest.File) and any(
            self.config.getoption(name, False) for name in ("lf", "failedfirst")
        ):
            for_cases = parents_for_cases(self.config)
            if for_cases:
                hide_parents_of_removed_cases(self.config, report.result, self.slot_for, for_cases)
        return report

    # Registered after pytest's cache plugin: this wrapper is outside its own.
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> Generator[None]:
        """Give back the parents hidden from pytest's --lf; count failures as pytest counts
        parametrized tests: a case each, parents left out."""
        result = yield
        _compat.give_back_to_last_failed(self.config, self.config.stash.get(hidden_key, {}))
        cache = self.config.cache
        options = ("lf", "failedfirst")
        if cache is None or not any(self.config.getoption(name, False) for name in options):
            return result
        record = cache.get("cache/lastfailed", {})
        for_cases = parents_for_cases(self.config)
        rerun = 0
        for item in items:
            table = _table(item)
            if item.nodeid not in record:
                continue
            if table is None:
                rerun += 1
                continue
            cases = _selected_cases(item, table)
            slot = slot_of(item)
            failed = [c for c in cases if case_nodeid(item.nodeid, c.id, slot) in record]
            if failed or item.nodeid not in for_cases:  # else its failed cases are gone
                rerun += len(failed or cases)
        parents = set(cache.get(self.key, {}).values())
        known = len([nodeid for nodeid in record if nodeid not in parents])
        _compat.recount_last_failures(self.config, rerun, known)
        return result

    @pytest.hookimpl(trylast=True)  # after pytest's cache plugin wrote its record
    def pytest_sessionfinish(self) -> None:
        cache = self.config.cache
        if cache is None or hasattr(self.config, "workerinput"):
            return
        lastfailed = cache.get("cache/lastfailed", {})
        if self.group_sums & set(lastfailed):
            lastfailed = {k: v for k, v in lastfailed.items() if k not in self.group_sums}
            cache.set("cache/lastfailed", lastfailed)
        recorded = cache.get(self.key, {})
        parents = {
            case: parent
            for case, parent in {**recorded, **self.parents}.items()
            if case in lastfailed
        }
        if parents != recorded:
            cache.set(self.key, parents)
        missing = {parent for parent in parents.values() if parent not in lastfailed}
        if missing:
            cache.set("cache/lastfailed", {**lastfailed, **dict.fromkeys(sorted(missing), True)})


# On a parent that runs: its cases in the order their tests would run (see Stepwise).
run_cases_key = pytest.StashKey[list[Case]]()


def _reported_as(parent: pytest.Item, case: Case) -> tuple[str, str, str | None]:
    """The node id a case's reports carry, and where ``--sw`` would go on from it: the node id
    of the item pytest collects (the parent, or a group's test) and the case's id in it (None:
    the test itself)."""
    member = getattr(case, "member", None)
    item = getattr(member, "item", None)
    if member is None or item is None:
        return case_nodeid(parent.nodeid, case.id, slot_of(parent)), parent.nodeid, case.id
    if member.case_is_item:
        return item.nodeid, item.nodeid, None
    return case_nodeid(item.nodeid, case.id, slot_of(item)), item.nodeid, case.id


def _cancelled(report: pytest.TestReport) -> bool:
    """A case's report that it was cancelled, or not started, by a stop (see _runner)."""
    longrepr = report.longrepr
    return (
        report.skipped
        and isinstance(longrepr, tuple)
        and str(longrepr[2]).startswith("Skipped: cancelled: ")
    )


class Stepwise:
    """``--sw`` goes on from where the parametrized (or separate) tests would have stopped.

    Those run in collection order: ``--sw`` stops at the first that fails (``--sw-skip``: the
    second) and next time goes on from it, every test before it having passed. A parent's cases
    run at the same time, and a stop cancels those still running: when the parent ends, this
    walks its cases in their tests' order and finds the first that failed (but the one
    ``--sw-skip`` passes over) or was cancelled or never started, which is not known to pass.
    pytest's stepwise plugin recorded the parent (its report comes last): its record is made
    that case's item (the parent, or the group's test, which pytest collects), and next time
    the parent runs its cases from that case on.
    """

    key = "asyncgroup/stepwise"  # {"parent": node id, "case": case id}

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        # Whether pytest's stepwise plugin passed over the next failure as the item started.
        self.skips = False
        # Of the parent running: case node id -> "failed", "cancelled" or "ran".
        self.ended: dict[str, str] = {}
        # Parent node id -> (node id of the item to go on from, case id or None).
        self.stops: dict[str, tuple[str, str | None]] = {}
        # The record of the last run (read once: it is written at the session's end).
        cache = config.cache
        record = cache.get(self.key, None) if cache is not None else None
        self.record: dict[str, str] | None = record if isinstance(record, dict) else None
        # The record this run goes on from, and its case's node id, until that case reports.
        self.going_on: tuple[dict[str, str], str] | None = None
        self.started: set[str] = set()  # the node ids of the items run

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.skips = _compat.stepwise_skips_next_failure(self.config)
        self.ended = {}
        self.started.add(nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not isinstance(getattr(report, CASE_ID_ATTRIBUTE, None), str):
            return
        if self.going_on is not None and report.nodeid == self.going_on[1]:
            self.going_on = None  # it ran: pytest's stepwise plugin goes by its outcome
        if report.failed:
            self.ended[report.nodeid] = "failed"
        else:
            self.ended.setdefault(report.nodeid, "cancelled" if _cancelled(report) else "ran")

    def stops_at(self, item: pytest.Item) -> bool:
        """Whether the parent's run (just ended) stops ``--sw`` at one of its cases."""
        cases = item.stash.get(run_cases_key, None)
        if cases is None:
            return False
        skips = self.skips
        for case in cases:
            nodeid, test, case_id = _reported_as(item, case)
            ended = self.ended.get(nodeid)
            if ended == "ran":
                continue
            if ended == "failed" and skips:
                skips = False  # --sw-skip passes over it
                continue
            self.stops[item.nodeid] = (test, case_id)
            return True
        return False

    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(
        self, items: list[pytest.Item]
    ) -> Generator[None, None, None]:
        """pytest's stepwise plugin starts over when the number of tests changed since last
        time (a test added or taken out): it is told the number of tests, not of parents. Once
        it has skipped what passed, the parent it goes on from skips its cases that passed."""
        parents, tests = len(items), tests_collected(self.config, items)
        recorded = _compat.stepwise_compare_test_counts(self.config, parents, tests)
        self._not_found_if_the_case_is_gone(items)
        result = yield
        _compat.stepwise_record_test_count(self.config, parents, tests, recorded)
        self._go_on_from_the_case(items)
        return result

    def _not_found_if_the_case_is_gone(self, items: list[pytest.Item]) -> None:
        """The failed case that --sw would go on from was taken out or renamed since: pytest's
        stepwise plugin is to look for that case's node id, which it will not find, and so not
        skip anything, as for the parametrized test, rather than go on from the parent."""
        record = self.record
        if record is None:
            return
        parent = next((i for i in items if i.nodeid == record.get("parent")), None)
        table = _table(parent) if parent is not None else None
        if parent is None or table is None:
            return
        if _compat.stepwise_goes_on_from(self.config) != parent.nodeid:
            return
        if record.get("case") not in {case.id for case in _own_cases(parent, table)}:
            nodeid = case_nodeid(parent.nodeid, str(record.get("case")), slot_of(parent))
            _compat.set_stepwise_goes_on_from(self.config, nodeid)

    def _go_on_from_the_case(self, items: list[pytest.Item]) -> None:
        record = self.record
        if record is None or not items or self.config.getoption("stepwise_reset", False):
            return
        if _compat.stepwise_goes_on_from(self.config) != record.get("parent"):
            return
        parent = items[0]
        table = _table(parent)
        if parent.nodeid != record["parent"] or table is None:
            return
        own = _own_cases(parent, table)
        ids = [case.id for case in own]
        if record.get("case") in ids:
            later = set(ids[ids.index(record["case"]) :])
            selected = _selected_cases(parent, table)
            parent.stash[selected_key] = later & {c.id for c in selected}
            passed = [c for c in selected if c.id not in later]
            _leave_out(parent, passed)
            _compat.stepwise_count_passed_over(self.config, len(passed))
            self.going_on = (record, case_nodeid(parent.nodeid, record["case"], slot_of(parent)))

    @pytest.hookimpl(trylast=True)  # after pytest's stepwise plugin wrote its record
    def pytest_sessionfinish(self) -> None:
        cache = self.config.cache
        if cache is None or hasattr(self.config, "workerinput"):
            return
        last_failed = _compat.stepwise_last_failed(cache)
        stop = self.stops.get(last_failed or "")
        record = None
        if stop is not None:
            test, case_id = stop
            _compat.set_stepwise_last_failed(cache, test)
            if case_id is not None:
                record = {"parent": test, "case": case_id}
        elif last_failed is None and self.going_on is not None:
            # The parent passed without the case it went on from (-k, --deselect): pytest's
            # stepwise plugin forgot the parent, but goes on from the parametrized test until
            # that test itself passes.
            record = self.going_on[0]
            _compat.set_stepwise_last_failed(cache, record["parent"])
        elif (
            self.record is not None
            and self.record.get("parent") == last_failed
            and last_failed not in self.started
        ):  # the parent was left out this time: next time, from the same case
            record = self.record
        cache.set(self.key, record)
