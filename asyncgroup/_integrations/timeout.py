"""pytest-timeout (checked on 2.3.1 and 2.4.0): its timeout applies to each case.

pytest-timeout times each test item, so a parent would be timed as one test, its limit covering
all its cases together. Instead each case gets pytest-timeout's setting as its own timeout, the
one its parametrized test would get: a ``timeout`` mark on the case (``pytest.param(...,
marks=...)``) or on its test, class or module, else ``--timeout``, ``PYTEST_TIMEOUT`` or the ini
option ``timeout``; ``func_only`` (the mark's, or the ini option ``timeout_func_only``) times
the body alone. asyncgroup enforces it as its own timeout (the case is cancelled and reported at
the line where it waited), and its own timeout wins where one is given.

The parent keeps pytest-timeout's timer as a safety net for what no asyncio timeout can stop (a
case that blocks the event loop): when its cases start, the timer is set again, to the parent's
own timeout (for its fixtures) plus the longest the cases can take if every one of them uses up
its timeout, in every attempt pytest-rerunfailures may give it. Where no such bound is known (a
case without a timeout, or a body-only one), the parent's timer is cancelled for the rest of its
run. Everything goes through pytest-timeout's hooks (``pytest_timeout_set_timer``,
``pytest_timeout_cancel_timer``), its ``Settings`` and ``is_debugging``, and its non-private
``get_env_settings``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pytest

from asyncgroup._timeouts import CaseTimeout

PLUGIN = "timeout"  # pytest-timeout's entry point: -p no:timeout

_env_key = pytest.StashKey[tuple[Any, str]]()


def pytest_asyncgroup_case_timeout(
    item: pytest.Function, marks: Sequence[pytest.Mark]
) -> CaseTimeout | None:
    mark = next((mark for mark in marks if mark.name == "timeout"), None)
    settings, source = _settings(item.config, mark)
    if settings.timeout is None or settings.timeout <= 0:
        return None
    plugin: Any = item.config.pluginmanager.get_plugin(PLUGIN)
    if not settings.disable_debugger_detection and plugin.is_debugging():
        return None
    return CaseTimeout(settings.timeout, bool(settings.func_only), source)


def pytest_asyncgroup_run_start(parent: pytest.Function, seconds: float | None) -> None:
    settings, _ = _settings(parent.config, parent.get_closest_marker("timeout"))
    if settings.timeout is None or settings.timeout <= 0:
        return  # pytest-timeout set no timer on the parent
    hook = parent.config.hook
    hook.pytest_timeout_cancel_timer(item=parent)
    if seconds is not None:
        bounded = settings._replace(timeout=settings.timeout + seconds)
        hook.pytest_timeout_set_timer(item=parent, settings=bounded)


def _settings(config: pytest.Config, mark: pytest.Mark | None) -> tuple[Any, str]:
    """pytest-timeout's Settings for a test with this ``timeout`` mark (None: without one), as
    pytest-timeout reads them, and where the timeout came from."""
    env, source = _env(config)
    if mark is None:
        return env, source
    timeout, method, func_only = _read_mark(mark)
    if timeout is not None:
        source = "pytest-timeout's timeout mark"
    settings = env._replace(
        timeout=env.timeout if timeout is None else timeout,
        method=env.method if method is None else method,
        func_only=env.func_only if func_only is None else func_only,
    )
    return settings, source


def _env(config: pytest.Config) -> tuple[Any, str]:
    """The settings of the command line, environment and ini file (read once a run)."""
    found = config.stash.get(_env_key, None)
    if found is None:
        plugin: Any = config.pluginmanager.get_plugin(PLUGIN)
        if config.getoption("timeout", None) is not None:
            source = "pytest-timeout's --timeout"
        elif os.environ.get("PYTEST_TIMEOUT") is not None:
            source = "pytest-timeout's PYTEST_TIMEOUT"
        else:
            source = "pytest-timeout's ini option timeout"
        found = config.stash[_env_key] = (plugin.get_env_settings(config), source)
    return found


def _read_mark(mark: pytest.Mark) -> tuple[float | None, str | None, bool | None]:
    """``timeout(timeout=None, method=None, func_only=None)``, checked as pytest-timeout checks
    it (with its messages): the timeout, method and func_only the mark gives, None for unset."""
    names = ("timeout", "method", "func_only")
    if not mark.args and not mark.kwargs:
        raise TypeError("Timeout marker must have at least one argument")
    if len(mark.args) > 2:
        raise TypeError("Too many arguments for timeout marker")
    given: dict[str, Any] = dict(zip(names, mark.args, strict=False))
    for name, value in mark.kwargs.items():
        if name not in names:
            raise TypeError(f"Invalid keyword argument for timeout marker: {name}")
        if name in given:
            raise TypeError(f"Multiple values for {name} argument of timeout marker")
        given[name] = value
    timeout, method, func_only = (given.get(name) for name in names)
    if timeout is not None:
        try:
            timeout = float(timeout)
        except (TypeError, ValueError):
            raise ValueError(f"Invalid timeout {timeout} from marker") from None
    if method is not None and method not in ("signal", "thread"):
        raise ValueError(f"Invalid method {method} from marker")
    if func_only is not None and not isinstance(func_only, bool):
        raise ValueError(f"Invalid func_only value {func_only} from marker")
    return timeout, method, func_only
