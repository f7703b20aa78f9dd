"""Ctrl-C while cases run: cancel them all, tear every started one down, then stop pytest."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# The parent's task while it runs its cases (see finish_interrupted).
parent_task_key = pytest.StashKey[asyncio.Task[Any]]()


class Interrupt:
    """Ctrl-C while the parent runs.

    ``received``: a first Ctrl-C cancelled the parent, which raises KeyboardInterrupt once every
    case is torn down. A second one raises KeyboardInterrupt at once, wherever the loop is (and
    has the cases' code that still runs closed: see sigint_cancels), and clears it: the parent,
    left pending and woken again as pytest-asyncio closes its loop, must not raise another one
    then (pytest would crash with it at the end of the session).
    """

    received = False
    stopped = False


def finish_interrupted(item: pytest.Item) -> None:
    """Ctrl-C raised KeyboardInterrupt out of the event loop (a second Ctrl-C, or the first
    where the loop was blocked) while ``item``, a parent, ran its cases: run the loop on until
    the parent has torn its cases down and reported them, bounded as every stop is.

    Left alone, the parent would run on only when pytest-asyncio closes the loop, as pytest tears
    the session's fixtures down: after pytest_sessionfinish, so the reports of its cases would
    miss JUnit XML and the last-failed cache. A further Ctrl-C ends this wait (suppressed here:
    the caller raises the first KeyboardInterrupt on).
    """
    task = item.stash.get(parent_task_key, None)
    if task is None or task.done():
        return
    loop = task.get_loop()
    if loop.is_closed() or loop.is_running():
        return
    with contextlib.suppress(BaseException):
        loop.run_until_complete(task)


@contextlib.contextmanager
def sigint_cancels(
    parent: asyncio.Task[Any], grace: float, hurry: Callable[[], None]
) -> Iterator[Interrupt]:
    """Make Ctrl-C cancel the parent task, so that every case is torn down, then stop pytest.

    pytest-asyncio >= 1.2 runs tests in an asyncio.Runner, whose SIGINT handler does just
    that. 1.0 and 1.1 run the loop under Python's default handler, which raises
    KeyboardInterrupt wherever the loop happens to be and leaves the cases pending.
    A second Ctrl-C stops at once; so does the first when the loop has not run the
    cancellation within ``grace`` seconds (code blocking it, a plain fixture that never
    returns, say), as Ctrl-C stops a parametrized test where it blocks.

    ``hurry`` is called in the loop after each Ctrl-C but the first: once KeyboardInterrupt has
    left the loop, pytest-asyncio closes it by running every task until it ends, the cases'
    with them, and a case that catches CancelledError would be waited for until its stop's
    grace is over. (Called soon after, not in the signal handler: that may run inside the very
    coroutine to be closed.)
    """
    interrupt = Interrupt()
    previous = signal.getsignal(signal.SIGINT)
    own = previous is signal.default_int_handler
    # asyncio.Runner's handler is a partial of its method (Python's own, or the backport's).
    runner = getattr(getattr(previous, "func", None), "__self__", None)
    if threading.current_thread() is not threading.main_thread() or not (
        own or type(runner).__name__ == "Runner"
    ):
        yield interrupt
        return
    assert callable(previous)
    ran = threading.Event()  # the loop ran (the cancellation) after a Ctrl-C
    watches: list[threading.Thread] = []
    ended = False

    def unless_run() -> None:
        kill = getattr(signal, "pthread_kill", None)  # POSIX only
        if not ran.wait(grace) and not ended and kill is not None:
            # Ctrl-C again, in the main thread, where the loop is blocked: the handler's
            # second Ctrl-C raises KeyboardInterrupt there.
            kill(threading.main_thread().ident or 0, signal.SIGINT)

    def watch() -> None:
        if not watches:  # the first Ctrl-C
            parent.get_loop().call_soon_threadsafe(ran.set)  # also wakes the loop
            thread = threading.Thread(target=unless_run, name="asyncgroup-ctrl-c", daemon=True)
            watches.append(thread)
            thread.start()

    handling = False

    def once(handler: Callable[[int, Any], None]) -> Callable[[int, Any], None]:
        """``handler``, ignoring a SIGINT that arrives while it handles one: the same Ctrl-C
        delivered twice (coreutils ``timeout`` and CI runners signal the process and then its
        group), which the slow first call (it starts a thread) would take for a second Ctrl-C
        that stops at once, skipping the cases' teardown."""

        def handle(signum: int, frame: Any) -> None:
            nonlocal handling
            if handling:
                return
            handling = True
            try:
                handler(signum, frame)
            finally:
                handling = False

        return handle

    def again() -> None:
        # RuntimeError: the loop is closed, nothing of it runs again.
        with contextlib.suppress(RuntimeError):
            parent.get_loop().call_soon_threadsafe(hurry)

    def on_sigint(signum: int, frame: Any) -> None:
        if interrupt.received or interrupt.stopped:
            interrupt.received, interrupt.stopped = False, True
            again()
            raise KeyboardInterrupt
        interrupt.received = True
        parent.cancel()
        watch()

    def chained(signum: int, frame: Any) -> None:
        """asyncio.Runner's handler (pytest-asyncio >= 1.2) does the same as on_sigint."""
        if watches:  # not the first Ctrl-C: the Runner raises KeyboardInterrupt
            again()
        watch()
        previous(signum, frame)

    signal.signal(signal.SIGINT, once(on_sigint if own else chained))
    try:
        yield interrupt
    finally:
        ended = True
        ran.set()
        for thread in watches:
            thread.join()
        signal.signal(signal.SIGINT, previous)
