"""pytest-reportlog (checked on 0.4.0 and 1.0.0): a setup, call and teardown entry per case,
as for its parametrized test (every phase of a case is reported when a report log is written).
"""

from __future__ import annotations

import pytest

from asyncgroup._outcome import EVERY_PHASE

PLUGIN = "pytest_reportlog"


def pytest_configure(config: pytest.Config) -> None:
    # On an xdist worker too: the workers build the case reports the controller writes.
    if config.getoption("report_log", None):
        config.stash[EVERY_PHASE] = True
