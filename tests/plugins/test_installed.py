"""With every plugin of the ``plugins`` extra installed and none of them asked for anything,
cases behave as the parametrized test: the plugins' mere presence changes nothing."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from differential import Differential

# The ``plugins`` extra of pyproject.toml; each must be installed here (run.py installs them).
PLUGINS = [
    "pytest-rerunfailures",
    "pytest-timeout",
    "pytest-html",
    "allure-pytest",
    "pytest-json-report",
    "pytest-reportlog",
    "pytest-randomly",
    "pytest-github-actions-annotate-failures",
    "pytest-sugar",
    "pytest-cov",
    "pytest-instafail",
    "pytest-repeat",
    "pytest-mock",
]


@pytest.mark.parametrize("distribution", PLUGINS)
def test_the_plugin_is_installed(distribution: str) -> None:
    assert version(distribution)


def test_installed_plugins_change_nothing(differential: Differential) -> None:
    pair = differential.run(
        """
        @cases("n", [1, 2, pytest.param(3, marks=pytest.mark.xfail), 4])
        async def test_x(n):
            await asyncio.sleep(0.1)
            print(f"case {n}")
            assert n not in (3, 4)
        """,
        "-rA",
    )
    pair.assert_same("FAILED test_it.py::test_x[[]4[]] - assert 4 not in (3, 4)")
    assert pair.concurrent.ret == 1
