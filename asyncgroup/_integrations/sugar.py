"""pytest-sugar: a mark per case in the progress line, as for each parametrized test.

pytest-sugar adds a test's mark to its file's line when the test's call report (or a skip)
arrives, but draws the line again only when the teardown report arrives, which it also counts as
one test done. A case has no teardown report unless it has something to say (a fixture error, a
``--junitxml`` run) and is no collected item: so once pytest-sugar has taken a case's report,
its line is drawn again and the count of tests done is left as it was.

Checked with pytest-sugar 1.1.1 (``SugarTerminalReporter.insert_progress`` and ``tests_taken``).
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from asyncgroup._outcome import CASE_ID_ATTRIBUTE

PLUGIN = "sugar"

_config: list[pytest.Config] = []  # this run's (pytest_runtest_logreport is given no config)


def pytest_configure(config: pytest.Config) -> None:
    _config.append(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    _config.remove(config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> Generator[None, None, None]:
    # Imported here: asyncgroup/_integrations/ imports this module where the plugin lacks too.
    from pytest_sugar import SugarTerminalReporter

    terminal = _config[-1].pluginmanager.get_plugin("terminalreporter") if _config else None
    if not hasattr(report, CASE_ID_ATTRIBUTE) or not isinstance(terminal, SugarTerminalReporter):
        return (yield)
    done = terminal.tests_taken
    result = yield
    terminal.tests_taken = done
    terminal.insert_progress(report)
    return result
