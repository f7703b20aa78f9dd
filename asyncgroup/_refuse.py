"""Collection errors for tests the decorators cannot run, shared by ``@concurrent_cases`` and
``@concurrent_group``: pytest would only meet these at run time, with a message about something
else ."""

from __future__ import annotations

import unittest

import pytest

from asyncgroup._declare import CASES_ATTRIBUTE, CaseTable
from asyncgroup._group import GROUP_ATTRIBUTE


def refuse_without_asyncio(config: pytest.Config, name: str, decorator: str, what: str) -> None:
    """Fail collection of ``name`` when pytest-asyncio, which runs the parent, is not active."""
    __tracebackhide__ = True
    if config.pluginmanager.has_plugin("asyncio"):
        return
    msg = (
        f"In {name}: {decorator} runs its {what} in pytest-asyncio's event loop, "
        "and pytest-asyncio is not active (not installed, or disabled with -p no:asyncio): "
        "install pytest-asyncio and enable it for this test"
    )
    pytest.fail(msg, pytrace=False)


def refuse_patch_above(name: str, func: object, table: CaseTable) -> None:
    """A ``@mock.patch`` stacked above ``@concurrent_cases`` wraps the parent, not each case: no
    case would get its mock (each parametrized test gets its own). Refuse it, naming the
    remedy. Under the decorator its patchings are the cases' own function's, which is what
    works: the parent has a copy of the list (see make_parent), to which a ``@mock.patch``
    above appends itself."""
    __tracebackhide__ = True
    if len(getattr(func, "patchings", ())) <= len(getattr(table.func, "patchings", ())):
        return
    msg = (
        f"In {name}: @mock.patch is above @concurrent_cases, where it does not reach the "
        "cases (none would get its patch or its mock); put @mock.patch under "
        "@concurrent_cases, so that each case gets its own patch and mock, as each "
        "parametrized test does"
    )
    pytest.fail(msg, pytrace=False)


def refuse_unittest(cls: type) -> None:
    """pytest runs a unittest.TestCase through unittest (its setUp, skips, no fixtures), never
    through a parent: refuse the decorators on such a class or its methods."""
    __tracebackhide__ = True
    if not issubclass(cls, unittest.TestCase):
        return
    where = "a unittest.TestCase class (pytest runs those through unittest, without fixtures)"
    remedy = "in a plain class (class TestX:) or at module level"
    if getattr(cls, GROUP_ATTRIBUTE, None) is not None:
        msg = (
            f"In {cls.__name__}: @concurrent_group does not work on {where}; put the tests {remedy}"
        )
        pytest.fail(msg, pytrace=False)
    for attribute, value in vars(cls).items():
        for decorator, found in (
            ("@concurrent_cases", isinstance(getattr(value, CASES_ATTRIBUTE, None), CaseTable)),
            ("@concurrent_group", getattr(value, GROUP_ATTRIBUTE, None) is not None),
        ):
            if found:
                msg = (
                    f"In {cls.__name__}.{attribute}: {decorator} does not work on a method of "
                    f"{where}; put the test {remedy}"
                )
                pytest.fail(msg, pytrace=False)
