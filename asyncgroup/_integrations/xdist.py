"""pytest-xdist: ``-x``/``--maxfail`` count the failed cases, not their parents' failures that
sum them up; and with ``--dist loadgroup`` a group's parent goes with its tests' ``xdist_group``.

Checked on pytest-xdist 3.8.0. The controller counts every failed report it is given for
``--maxfail`` (``DSession.countfailures``, after calling ``pytest_runtest_logreport``), and so
does its session (``Session.testsfailed``, in that hook): a parent's failure that sums up its
failed cases, each counted already, is taken off both before they count it, as the worker that
ran it does (see _plugin.pytest_runtest_makereport).

With ``--dist loadgroup`` each worker appends ``@name`` (the names of the item's ``xdist_group``
marks, sorted and joined by ``_``) to the node id of every marked item in its
``pytest_collection_modifyitems``, and the controller sends the items of one name to one
worker. A group's parent is made after that (``_grouping``), so it gets the name of
its tests here, in the same way; tests of one group with different names cannot all go where
their names say, and are a collection error naming them.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from asyncgroup import _compat, _grouping
from asyncgroup._outcome import SUMS_UP_CASES_ATTRIBUTE

PLUGIN = "xdist"

# Per run: (module or class node id, group name) -> the first named test's xdist group, test.
_names_key = pytest.StashKey[dict[tuple[str, str | None], tuple[str, str]]]()


def _loadgroup(config: pytest.Config) -> bool:
    # Set by pytest-xdist on the controller and the workers for --dist loadgroup.
    return bool(getattr(config.option, "loadgroup", False))


def xdist_group_of(item: pytest.Item) -> str:
    """The name pytest-xdist gives the item's scheduling group ("" for none), as it makes it."""
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names))


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    """Tests of one group naming different xdist groups: a collection error naming both."""
    __tracebackhide__ = True
    result = yield
    if not result or not _loadgroup(collector.config):
        return result
    seen = collector.config.stash.setdefault(_names_key, {})
    for item in result if isinstance(result, list) else [result]:
        if not isinstance(item, pytest.Item):
            continue
        key = _grouping.group_key(item)
        xdist_group = xdist_group_of(item)
        if key is None or not xdist_group:
            continue
        first, by = seen.setdefault(key, (xdist_group, name))
        if first != xdist_group:
            msg = (
                f"In {name}: its xdist_group is {xdist_group!r}, but {by} in the same "
                f"@concurrent_group has {first!r}; with --dist loadgroup a group runs whole on "
                f"one worker, so its tests must share their xdist_group: give them the same "
                f"@pytest.mark.xdist_group, or take one out of the group"
            )
            pytest.fail(msg, pytrace=False)
    return result


def name_parent(parent: pytest.Item, tests: list[pytest.Function]) -> None:
    """Give the parent its tests' xdist group, as pytest-xdist names a marked item."""
    if not _loadgroup(parent.config):
        return
    names = {xdist_group_of(test) for test in tests} - {""}
    if len(names) == 1:
        _compat.name_xdist_group(parent, names.pop())


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    dsession = session.config.pluginmanager.get_plugin("dsession")
    if dsession is not None:  # the controller
        session.config.pluginmanager.register(_UncountedParentFailures(session, dsession))


class _UncountedParentFailures:
    def __init__(self, session: pytest.Session, dsession: Any) -> None:
        self._session = session
        self._dsession = dsession

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and getattr(report, SUMS_UP_CASES_ATTRIBUTE, False):
            self._session.testsfailed -= 1
            if isinstance(getattr(self._dsession, "countfailures", None), int):
                self._dsession.countfailures -= 1
