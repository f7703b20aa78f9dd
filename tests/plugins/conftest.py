"""The tests of each third-party plugin asyncgroup works with: one module a plugin,
``test_<plugin>.py``, each comparing a run of ``@concurrent_cases`` with the same test written
with ``@pytest.mark.parametrize`` (tests/differential.py) while that plugin does its work.

They run in an environment with all these plugins installed (`python3 run.py test --plugins`,
the ``plugins`` extra of pyproject.toml). Two of them act on every run without being asked:
pytest-sugar (its own progress output) and pytest-randomly (reordering, reseeding). The inner
runs keep them out unless a test turns them on itself: ``-p no:randomly`` is in every
Differential run, and ``-p no:sugar`` is in PYTEST_ADDOPTS here.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """tests/conftest.py's pytester, with pytest-sugar off and not on GitHub Actions."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest -p no:sugar")
    # pytest-github-actions-annotate-failures prints its annotations only there.
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return pytester
