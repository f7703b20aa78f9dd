"""pytest's per-test log file, per case.

pytest's logging plugin writes ``log_file`` records with one handler for the whole session, and
``set_log_path()`` points that handler at another file: called from an autouse fixture, it gives
each test a log file of its own (pytest's logging how-to). Cases overlap, so each case's call
would take the file over from the others. While cases run, a case's ``set_log_path()`` opens its
file with pytest's own method and keeps it for the case: the handler writes the case's records
(its threads' too) to it, the others' where they went before, and the file is closed when the
case ends. Called outside any case, it changes the session's file, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import pytest

from asyncgroup import _compat
from asyncgroup._capture import running_output


class _CaseLogFile:
    """A case's own log file; closed at the case's end, while the handler is not writing."""

    def __init__(self, file: IO[str], handler: logging.Handler) -> None:
        self.file = file
        self._handler = handler

    def close(self) -> None:
        with _locked(self._handler):
            self.file.close()


class _ToTheCasesFile:
    """The handler's stream while cases run: a case's records go to its own file, if it set one."""

    def __init__(self, fallback: IO[str]) -> None:
        self.fallback = fallback

    def _target(self) -> IO[str]:
        output = running_output()
        log_file = output.log_file if output is not None else None
        return self.fallback if log_file is None else log_file.file

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def close(self) -> None:  # what set_log_path() does to the stream it replaces
        self.fallback.close()


class _Replaced:
    """Stands where set_log_path() finds the stream it closes and replaces."""

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


@contextmanager
def _locked(handler: logging.Handler) -> Iterator[None]:
    """No record written meanwhile (the handler writes each under its lock, from any thread)."""
    handler.acquire()
    try:
        yield
    finally:
        handler.release()


@contextmanager
def log_file_per_case(config: pytest.Config) -> Iterator[None]:
    """While a parent runs, ``set_log_path()`` called in a case sets the case's own log file."""
    plugin = config.pluginmanager.getplugin("logging-plugin")
    handler = _compat.log_file_handler(plugin)
    if handler is None or "set_log_path" in vars(plugin):  # no plugin, or someone patched it
        yield
        return
    original = plugin.set_log_path
    routed: _ToTheCasesFile | None = None

    def set_log_path(fname: str) -> None:
        nonlocal routed
        output = running_output()
        if output is None and routed is None:
            original(fname)
            return
        with _locked(handler):
            if routed is None:
                routed = _ToTheCasesFile(handler.stream)
            handler.stream = _Replaced()
            try:
                original(fname)  # opens the file as pytest does (rootdir, log_file_mode)
                opened: Any = handler.stream
            finally:
                handler.stream = routed
            if output is None:  # outside any case: the session's file, as before
                routed.fallback.close()
                routed.fallback = opened
                return
        if output.log_file is not None:
            output.log_file.close()
        output.log_file = _CaseLogFile(opened, handler)

    plugin.set_log_path = set_log_path
    try:
        yield
    finally:
        del plugin.set_log_path
        with _locked(handler):
            if routed is not None and handler.stream is routed:
                handler.stream = routed.fallback
