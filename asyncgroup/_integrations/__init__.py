"""Integrations with third-party pytest plugins: one module a plugin, active only with it.

Each module here names the plugin it serves in ``PLUGIN`` (the name pytest's plugin manager
registered it under, as in ``-p no:NAME``) and holds that integration's hook implementations.
``register`` registers a module as a plugin of its own when its plugin is registered, so a run
without that plugin never calls its hooks (and never imports the plugin).
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest


def register(config: pytest.Config) -> None:
    """Register each integration whose plugin this run has; called in pytest_configure."""
    manager = config.pluginmanager
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if manager.has_plugin(module.PLUGIN) and not manager.has_plugin(f"asyncgroup-{info.name}"):
            manager.register(module, f"asyncgroup-{info.name}")
