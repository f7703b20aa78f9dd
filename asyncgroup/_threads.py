"""Running a blocking (plain ``def``) case body in a thread of its own.

Existing synchronous system tests that call ``time.sleep`` gain the same speed-up as async ones.
Each body runs in a daemon thread with a copy of the case's context (so its output is still
captured per case). A thread cannot be killed: when its case times out, the case is reported with
the thread's stack at that moment. Stopped (its timeout, -x, fail_fast, Ctrl-C), the case waits a
bounded while for the thread to finish before its fixtures are torn down (``ended``), then
abandons it; being a daemon thread (not one of concurrent.futures', which are joined at exit), it
cannot keep pytest from exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncgroup._steps import CaseSteps

# Threads for blocking cases when neither max_concurrency nor its ini/CLI default says.
DEFAULT_THREADS = 32


class CaseThread:
    """One blocking case body, run in a daemon thread; awaitable from the event loop."""

    def __init__(
        self,
        name: str,
        func: Callable[..., Any],
        args: Any,
        kwargs: Any,
        steps: Sequence[CaseSteps] = (),
    ) -> None:
        self._name = name
        self._call = (func, args, kwargs)
        self._steps = steps  # entered in the thread around the body (see _steps)
        self._ident: int | None = None
        self._entry: types.FrameType | None = None
        self._ended: asyncio.Future[None] | None = None  # resolved when the thread finishes
        # How the body ended, set by its thread before the loop hears of it (see run).
        self._outcome: tuple[bool, Any] | None = None
        # Whether its case was cancelled once the body had ended (see run).
        self.ended_first = False

    async def run(self) -> Any:
        """Run the body in its thread; what it returned (a test should return None: see
        _runner's _call_in_thread)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[bool, Any]] = loop.create_future()
        ended = self._ended = loop.create_future()
        context = contextvars.copy_context()

        def settle(outcome: tuple[bool, Any]) -> None:
            if not ended.done():
                ended.set_result(None)
            if not future.done():  # done: the case gave up on this thread (timeout, Ctrl-C)
                future.set_result(outcome)

        def body() -> None:
            self._ident = threading.get_ident()
            self._entry = sys._getframe()
            func, args, kwargs = self._call
            try:
                for step in self._steps:
                    step.enter()
                try:
                    outcome: tuple[bool, Any] = (True, context.run(func, *args, **kwargs))
                finally:
                    for step in reversed(self._steps):
                        step.leave()
            except BaseException as exc:
                outcome = (False, exc)
            self._outcome = outcome
            # RuntimeError: the loop has closed, nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, outcome)

        threading.Thread(target=body, name=f"asyncgroup {self._name}", daemon=True).start()
        try:
            ok, value = await future
        except asyncio.CancelledError:
            # Cancelled once the body had ended, before the loop took its outcome (it was
            # blocked, or busy): the body ran to its end, and that is the call's outcome.
            if self._outcome is None:
                raise
            self.ended_first = True
            ok, value = self._outcome
        if not ok:
            raise value
        return value

    async def ended(self, seconds: float) -> None:
        """Wait until the thread has finished, ``seconds`` at most: a case stopped while its
        body runs tears its fixtures down next, and the body should not run on them. A further
        cancellation ends the wait (raised)."""
        if self._ended is not None and not self._ended.done():
            await asyncio.wait({self._ended}, timeout=seconds)

    def stack(self) -> types.TracebackType | None:
        """The thread's stack now, below its entry point, as a traceback pytest can show."""
        frame = sys._current_frames().get(self._ident) if self._ident is not None else None
        frames = []
        while frame is not None and frame is not self._entry:
            frames.append(frame)
            frame = frame.f_back
        if frame is None:  # the thread has finished meanwhile
            return None
        tb = None
        for frame in frames:  # innermost first, so each wraps the one below it
            tb = types.TracebackType(tb, frame, frame.f_lasti, frame.f_lineno)
        return tb
