"""File paths in asyncgroup's messages, written as pytest writes node ids: from the rootdir."""

from __future__ import annotations

import os


def shown_path(filename: str, root: str) -> str:
    """``filename`` relative to ``root`` (the rootdir) when it lies under it, else unchanged."""
    if not root:
        return filename
    try:
        relative = os.path.relpath(filename, root)
    except ValueError:  # another drive (Windows)
        return filename
    return filename if relative.startswith(os.pardir) else relative
