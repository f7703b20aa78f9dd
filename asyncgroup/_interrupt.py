"""Ctrl-C while cases run: cancel them all, tear every started one down, then stop pytest."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any


class Interrupt:
    """Ctrl-C while the parent runs.

    ``received``: a first Ctrl-C cancelled the parent, which raises KeyboardInterrupt once every
    case is torn down. A second one raises KeyboardInterrupt at once, wherever the loop is, and
    clears it: the parent, left pending and woken again as pytest-asyncio closes its loop, must
    not raise another one then (pytest would crash with it at the end of the session).
    """

    received = False
    stopped = False


@contextlib.contextmanager
def sigint_cancels(parent: asyncio.Task[Any]) -> Iterator[Interrupt]:
    """Make Ctrl-C cancel the parent task, so that every case is torn down, then stop pytest.

    pytest-asyncio >= 1.2 runs tests in an asyncio.Runner, whose SIGINT handler does just
    that. 1.0 and 1.1 run the loop under Python's default handler, which raises
    KeyboardInterrupt wherever the loop happens to be and leaves the cases pending.
    A second Ctrl-C stops at once.
    """
    interrupt = Interrupt()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield interrupt
        return

    def on_sigint(signum: int, frame: object) -> None:
        if interrupt.received or interrupt.stopped:
            interrupt.received, interrupt.stopped = False, True
            raise KeyboardInterrupt
        interrupt.received = True
        parent.cancel()
        parent.get_loop().call_soon_threadsafe(lambda: None)  # wake the loop to run it

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
