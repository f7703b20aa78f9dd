"""The project's per-test hooks for a case: ``pytest_runtest_makereport`` as each phase ends.

pytest makes a test's report of each phase by calling ``pytest_runtest_makereport(item, call)``:
its own plugins build the report, and hook wrappers around them see it, change it, or keep it
(pytest's recipe "Making test result information available in fixtures" stores it in
``item.stash``, or as ``item.rep_setup``/``item.rep_call``, for a fixture's teardown). A case
of ``@concurrent_cases`` and a test of ``@concurrent_group`` are never run by pytest: asyncgroup
builds their reports itself. So when the project (a conftest, a plugin of its own: not pytest,
asyncgroup, nor an installed plugin) implements that hook, each phase's report, once the phase
ended, goes through the project's implementations with the case's ``request.node`` as ``item``,
and the report they return is the case's (see _runner). pytest's own implementations, which
built the parent's reports, do not run again: here the one that builds the report is
``pytest_runtest_makereport`` below, which hands over the report asyncgroup built.

The project's ``pytest_runtest_setup`` and ``pytest_runtest_teardown`` hooks (pytest's recipe
that skips a test by its mark, say) run for each case the same way: at the start of its setup
and of its teardown (see _runner), as pytest calls them before its own implementations, which
set the fixtures up and tear them down; so do its plain ``pytest_runtest_call`` ones, just
before the body (its wrappers, which pytest runs around the body, do not). What they raise is
that phase's error (a skip, an xfail, a failure).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import pytest

# The report asyncgroup built, for the project's hooks called for a case (see run).
_built: contextvars.ContextVar[pytest.TestReport | None] = contextvars.ContextVar(
    "asyncgroup_built_report", default=None
)


@pytest.hookimpl(trylast=True)
def pytest_runtest_makereport(item: Any, call: Any) -> pytest.TestReport | None:
    """The case's report: last, so that pytest's own makes every other test's report first
    (this one is never reached then), and a project's own (not a wrapper) goes first, as it
    would before pytest's."""
    return _built.get()


def of_the_project(function: Callable[..., Any]) -> bool:
    """Whether a hook function is the tested project's: not pytest's, asyncgroup's, nor an
    installed plugin's."""
    module = getattr(function, "__module__", "") or ""
    code = getattr(function, "__code__", None)
    filename = code.co_filename if code is not None else ""
    installed = "site-packages" in filename or "dist-packages" in filename
    return not installed and not module.startswith(("_pytest.", "asyncgroup."))


def project_hook(item: pytest.Item, name: str, *also: object, plain: bool = False) -> Any:
    """The hook ``name`` of ``item`` (conftests as they apply to its path) with the project's
    implementations (``plain``: its plain ones, not its wrappers) and the plugins ``also``
    only; None when the project has none (then cases pay nothing)."""
    own = getattr(item.ihook, name).get_hookimpls()
    kept = {
        impl.plugin
        for impl in own
        if of_the_project(impl.function) and not (plain and (impl.wrapper or impl.hookwrapper))
    }
    if not kept:
        return None
    kept.update(also)
    every = getattr(item.config.hook, name).get_hookimpls()
    return item.config.pluginmanager.subset_hook_caller(
        name, {impl.plugin for impl in every} - kept
    )


def project_makereport(item: pytest.Item) -> Any:
    """The ``pytest_runtest_makereport`` hook of ``item`` with the project's implementations
    and the one above only; None when the project has none."""
    here = item.config.pluginmanager.get_plugin("asyncgroup-case-reports")
    return project_hook(item, "pytest_runtest_makereport", here)


# Set on a skip a project's pytest_runtest_setup raised for a case: pytest places it where it
# was raised, not at the test as a fixture's (see _outcome).
FROM_A_HOOK = "asyncgroup_from_a_hook"


def run_setup(hook: Any, node: Any) -> None:
    """The project's ``pytest_runtest_setup`` hooks for a case, its ``request.node``."""
    try:
        hook(item=node)
    except pytest.skip.Exception as skip:
        setattr(skip, FROM_A_HOOK, True)
        raise


def run(hook: Any, node: Any, report: pytest.TestReport, call: pytest.CallInfo[None]) -> Any:
    """The report of one phase of a case, as the project's hooks return it: ``report`` (built
    by asyncgroup), or what a wrapper made of it."""
    token = _built.set(report)
    try:
        return hook(item=node, call=call)
    finally:
        _built.reset(token)
