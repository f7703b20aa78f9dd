"""Selecting cases within a parent: ``-k`` per case and ``--lf`` per case.

A case is matched by ``-k`` as if it were a parametrized test: on the parent's names, markers
and keywords, plus its own id and marks. The parent is kept when any of its cases is selected.
``--lf`` reruns only the cases that failed last time, when the cache names any; ``--ff`` runs
them first.
"""

from __future__ import annotations

from typing import Any

import pytest

from asyncgroup._declare import Case
from asyncgroup._outcome import case_nodeid

keyword_selection_key = pytest.StashKey[set[str]]()


def _keyword_expression(config: pytest.Config) -> Any:
    """The compiled -k expression, or None (pytest 8.0-9.2: _pytest.mark internals)."""
    text = (config.option.keyword or "").lstrip()
    if not text:
        return None
    from _pytest.mark import KeywordMatcher
    from _pytest.mark.expression import Expression

    try:
        expression = Expression.compile(text)
    except SyntaxError:
        return None  # pytest reports the bad expression itself
    return expression, KeywordMatcher


def select_by_keyword(item: pytest.Item, cases: list[Case]) -> None:
    """Remember which cases -k selects; make pytest keep the parent if any is selected."""
    compiled = _keyword_expression(item.config)
    if compiled is None:
        return
    expression, matcher_class = compiled
    parent_matcher = matcher_class.from_item(item)
    selected: set[str] = set()
    keep_parent: set[str] = set()
    for case in cases:
        own_names = [case.id.lower(), *(mark.name.lower() for mark in case.marks)]
        matched: set[str] = set()

        def matches(
            name: str,
            *args: Any,
            _own: list[str] = own_names,
            _matched: set[str] = matched,
            **kwargs: Any,
        ) -> bool:
            lowered = name.lower()
            found = parent_matcher(name, *args, **kwargs) or any(lowered in own for own in _own)
            if found:
                _matched.add(name)
            return bool(found)

        if expression.evaluate(matches):
            selected.add(case.id)
            keep_parent = keep_parent or matched
    item.stash[keyword_selection_key] = selected
    # pytest then matches -k against the parent alone. Giving it the names that one selected
    # case matched makes every name in the expression as true or false for the parent as it
    # was for that case (the case's names include the parent's), so the parent is kept.
    item.extra_keyword_matches.update(keep_parent)


def select(item: Any, cases: list[Case]) -> list[Case]:
    """The parent's cases to run this time."""
    selected_by_keyword = item.stash.get(keyword_selection_key, None)
    if selected_by_keyword is not None:
        cases = [c for c in cases if c.id in selected_by_keyword]
    config = item.config
    last_failed = config.getoption("lf", False)
    failed_first = config.getoption("failedfirst", False)
    if (last_failed or failed_first) and getattr(config, "cache", None) is not None:
        lastfailed = config.cache.get("cache/lastfailed", {})
        failed = [c for c in cases if case_nodeid(item.nodeid, c.id) in lastfailed]
        if failed and last_failed:
            cases = failed
        elif failed:
            failed_ids = {c.id for c in failed}
            cases = failed + [c for c in cases if c.id not in failed_ids]
    return cases
