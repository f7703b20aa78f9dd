"""pytest-html (checked on 4.1.1 and 4.2.0): a row per case, as for its parametrized test.

pytest-html writes a test's row when the test's teardown is reported, from every report of
the test: a case reports every phase when an HTML report is written.
"""

from __future__ import annotations

import pytest

from asyncgroup._outcome import EVERY_PHASE

PLUGIN = "html"


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("htmlpath", None):
        config.stash[EVERY_PHASE] = True
