"""Live progress of a long parent on a terminal: ``[1234/10000 cases, 2 failed]``.

Written after pytest's progress letters and rewritten in place (backspaces, so pytest's own line
is left alone), only when stdout is a terminal and at default verbosity: CI logs and ``-v``
output stay as pytest writes them. Erased before each batch of reports and when the parent ends.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

import pytest

_MIN_INTERVAL = 0.1  # seconds between rewrites: a terminal need not redraw 10,000 times

# Whether stdout is a terminal, seen in pytest_configure: during a test, pytest's fd capture has
# pointed file descriptor 1 at a temporary file.
on_terminal_key = pytest.StashKey[bool]()


def remember_terminal(config: pytest.Config) -> None:
    stream = sys.__stdout__
    config.stash[on_terminal_key] = stream is not None and stream.isatty()


class LiveProgress:
    def __init__(self, config: pytest.Config, total: int) -> None:
        self._stream: TextIO | None = (
            sys.__stdout__
            if config.stash.get(on_terminal_key, False)
            and config.get_verbosity() <= 0
            and not hasattr(config, "workerinput")  # an xdist worker's stdout is a pipe anyway
            else None
        )
        self._writer = config.get_terminal_writer()
        self._total = total
        self._shown = 0
        self._last = 0.0

    def erase(self) -> None:
        if self._stream is not None and self._shown:
            width = self._shown
            self._stream.write("\b" * width + " " * width + "\b" * width)
            self._stream.flush()
            self._shown = 0

    def show(self, done: int, failed: int) -> None:
        if self._stream is None:
            return
        now = time.monotonic()
        if now - self._last < _MIN_INTERVAL and done < self._total:
            return
        self._last = now
        self.erase()
        text = f" [{done}/{self._total} cases, {failed} failed]"
        if self._writer.width_of_current_line + len(text) >= self._writer.fullwidth:
            return  # backspaces cannot climb back over a wrapped line
        self._stream.write(text)
        self._stream.flush()
        self._shown = len(text)
