"""The options in force for one parent test: decorator arguments over ini/command-line defaults,
the debugger, capture mode and each case's skip and xfail marks."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

import pytest

from asyncgroup import _compat
from asyncgroup._declare import Case, CaseTable, check_max_concurrency, check_timeout
from asyncgroup._fixtures import FixturePlan
from asyncgroup._outcome import EVERY_PHASE, Xfail
from asyncgroup._select import case_marks, parent_marks
from asyncgroup._threads import DEFAULT_THREADS

plan_key = pytest.StashKey[FixturePlan]()


# Turn a default timeout off, as pytest-timeout's ``--timeout=0`` does: for one run, say, while
# debugging by hand, when the ini file sets one. The decorator's own ``timeout=`` still applies.
NO_TIMEOUT = ("0", "none")


def default_timeout(config: pytest.Config) -> float | None:
    """The default case timeout in seconds: the command line's, else the ini file's; None: none."""
    value = config.getoption("asyncgroup_timeout", None)
    where = "--asyncgroup-timeout"
    if value is None:
        value, where = ini_value(config, "asyncgroup_timeout"), "ini option asyncgroup_timeout"
    on_command_line = where.startswith("--")
    # In the ini file "no timeout" is 0 only (pytest < 9.2 reads the option as a number).
    if on_command_line and isinstance(value, str) and value.strip().lower() in NO_TIMEOUT:
        return None
    value = _number(value, on_command_line=on_command_line)
    if value == 0:
        return None
    try:
        return check_timeout(value, where)
    except ValueError as exc:
        msg = f"{exc}, or {'0 (or none)' if where.startswith('--') else '0'} for no timeout"
        raise ValueError(msg) from None


def default_max_concurrency(config: pytest.Config) -> int | None:
    value = config.getoption("asyncgroup_max_concurrency", None)
    where = "--asyncgroup-max-concurrency"
    if value is None:
        value, where = (
            ini_value(config, "asyncgroup_max_concurrency"),
            "ini option asyncgroup_max_concurrency",
        )
    return check_max_concurrency(_number(value, int, on_command_line=where.startswith("--")), where)


def ini_value(config: pytest.Config, name: str) -> Any:
    """An ini option's value; pytest >= 8.4 converts numbers itself and rejects what is not one."""
    try:
        return config.getini(name)
    # pytest 8.4-9.2: ValueError or TypeError, turned into a UsageError by pytest >= 9.1; the
    # message names the value.
    except (ValueError, TypeError, pytest.UsageError) as exc:
        # float()'s and int()'s messages end with the value: "...to float: 'abc'".
        value = re.search(r": ('.*')$", str(exc))
        what, valid = _VALID[name]
        if "got str:" in str(exc):  # pytest 9.0-9.1, native TOML: a quoted number
            valid += " (a TOML number, without quotes)"
        msg = (
            f"invalid {what} {value.group(1) if value else f'({exc})'} from ini option {name}: "
            f"expected {valid}"
        )
        raise ValueError(msg) from None


_VALID = {
    "asyncgroup_timeout": ("timeout", "a positive number of seconds, or 0 for no timeout"),
    "asyncgroup_max_concurrency": ("max_concurrency", "a whole number >= 1"),
    "asyncgroup_blocked_loop_threshold": (
        "blocked-loop threshold",
        "a positive number of seconds, or 0 for no watchdog",
    ),
}


def _number(value: Any, kind: type = float, *, on_command_line: bool = False) -> Any:
    """Command-line values, and ini values on pytest < 8.4, arrive as strings. An empty ini
    value means unset; an empty command-line value (``--asyncgroup-timeout=$T`` with ``T``
    unset, say) is kept, for the check to name as invalid."""
    if isinstance(value, str):
        value = value.strip()
        if not value and not on_command_line:
            return None
        try:
            return kind(value)
        except ValueError:
            return value  # the check names the bad value
    return value


def blocked_loop_threshold(config: pytest.Config) -> float | None:
    """Seconds the loop may be blocked before the case gets a warning; 0 turns it off."""
    value = _number(ini_value(config, "asyncgroup_blocked_loop_threshold"))
    if value == 0:
        return None
    try:
        return check_timeout(
            value, "ini option asyncgroup_blocked_loop_threshold", "blocked-loop threshold"
        )
    except ValueError as exc:
        raise ValueError(f"{exc}, or 0 for no watchdog") from None


@dataclasses.dataclass
class RunSettings:
    item: pytest.Function
    plan: FixturePlan
    timeout: float | None
    max_concurrency: int | None
    debugging: bool
    capture_streams: bool
    log_level: int | None
    every_phase: bool  # report every phase of a case, passing or not (see _outcome)
    # ... including the empty setup of a case without per-case fixtures (see _outcome)
    empty_setups: bool
    blocked_loop_threshold: float | None
    _marks: tuple[list[pytest.Mark], list[pytest.Mark], list[pytest.Mark]] | None = None
    _parent_result: tuple[str | None, Xfail | None] | None = None

    @classmethod
    def for_item(cls, item: Any, table: CaseTable) -> RunSettings:
        config = item.config
        debugging = bool(config.getoption("usepdb", False))
        timeout = table.timeout if table.timeout is not None else default_timeout(config)
        limit = table.max_concurrency
        if limit is None:
            limit = default_max_concurrency(config)
        if limit is None and not table.is_async:
            limit = DEFAULT_THREADS  # blocking bodies each hold a thread
        if debugging:
            limit = 1  # one case at a time, so the debugger prompt is usable
        logging_plugin = config.pluginmanager.getplugin("logging-plugin")
        return cls(
            item=item,
            plan=item.stash[plan_key],
            timeout=timeout,
            max_concurrency=limit,
            debugging=debugging,
            capture_streams=config.getoption("capture", "fd") != "no",
            log_level=getattr(logging_plugin, "log_level", None),
            # JUnit XML and --durations read the setup and teardown of each test.
            every_phase=bool(config.getoption("xmlpath", None))
            or config.getoption("durations", None) is not None
            or config.stash.get(EVERY_PHASE, False),
            # JUnit XML reads nothing in a passing setup report that took no time (it writes a
            # test's entry from its call and teardown); --durations lists it, and the report
            # writers that set EVERY_PHASE show it.
            empty_setups=config.getoption("durations", None) is not None
            or config.stash.get(EVERY_PHASE, False),
            blocked_loop_threshold=blocked_loop_threshold(config),
        )

    def case_marks(
        self, case: Case, item: pytest.Item | None = None
    ) -> tuple[str | None, Xfail | None]:
        """The case's skip reason, or its xfail, from its marks and the parent's (function,
        class, module), combined and evaluated as pytest does for a parametrized test.

        ``item``: the test a case of a group stands for; the case's marks are then that test's
        own marks (and its parameter set's), followed by its class's and module's.
        """
        __tracebackhide__ = True
        if item is not None:
            reason, xfailed = _compat.evaluate_skip_and_xfail(item, self.marks_of(case, item))
            return self._result(reason, xfailed)
        if not case.marks:
            if self._parent_result is None:
                self._parent_result = self._evaluate(case)
            return self._parent_result
        return self._evaluate(case)

    def skips(self, case: Case, item: pytest.Item | None = None) -> bool:
        """Whether the case's marks skip it, or xfail it without running it (``item`` as for
        ``case_marks``). False when a condition fails to evaluate: the case then runs, to
        its setup error, as its parametrized test."""
        try:
            reason, xfail = self.case_marks(case, item)
        except pytest.fail.Exception:
            return False
        return reason is not None or (xfail is not None and xfail.reason.startswith("[NOTRUN]"))

    def marks_of(self, case: Case, item: pytest.Item | None = None) -> Sequence[pytest.Mark]:
        """The case's marks, closest first, as pytest orders them for the parametrized test
        (``item``: the test of a group the case stands for, as for ``case_marks``)."""
        if item is not None:
            return [*case.marks, *parent_marks(item)[2]]
        if self._marks is None:
            self._marks = parent_marks(self.item)
        return case_marks(self._marks, case)

    def _evaluate(self, case: Case) -> tuple[str | None, Xfail | None]:
        __tracebackhide__ = True
        reason, xfailed = _compat.evaluate_skip_and_xfail(self.item, self.marks_of(case))
        return self._result(reason, xfailed)

    @staticmethod
    def _result(reason: str | None, xfailed: Any) -> tuple[str | None, Xfail | None]:
        if xfailed is None:
            return reason, None
        text = xfailed.reason if xfailed.run else f"[NOTRUN] {xfailed.reason}"
        return None, Xfail(text, bool(xfailed.strict), xfailed.raises)
