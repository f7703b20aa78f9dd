"""Per-case timeouts: cancelling a case when its time is up, and saying where it waited."""

from __future__ import annotations

import array
import asyncio
import bisect
import dataclasses
import gc
import inspect
import sys
import time
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from asyncgroup._outcome import CaseTimeoutError

if TYPE_CHECKING:
    from asyncgroup._watchdog import LoopWatchdog

_DEBUGGERS = ("pydevd", "bdb", "pydevd_frame_evaluator")
_ASYNCIO_DIR = asyncio.__file__.rpartition("/")[0]
_OWN_DIR = __file__.rpartition("/")[0]


def debugger_active() -> bool:
    """As pytest-timeout decides: a known debugger's trace function (coverage's is not one)."""
    trace = sys.gettrace()
    return trace is not None and any(
        getattr(trace, "__module__", "").startswith(name) for name in _DEBUGGERS
    )


@dataclasses.dataclass(frozen=True)
class CaseTimeout:
    """A case's timeout: ``seconds`` for its fixture setup and body, then as long again for its
    teardown. ``body_only``: the body alone is timed, as pytest-timeout's ``func_only``.
    ``source``: where it was set when not by asyncgroup ("pytest-timeout's --timeout", say),
    for the timeout's message."""

    seconds: float
    body_only: bool = False
    source: str = ""


class LoopHolds:
    """The times a case's own code held the event loop, so that no other case could run: the
    sync fixture code asyncgroup runs for it on the loop's thread (setup, teardown,
    finalizers), each call timed as asyncgroup makes it, and the blocks the watchdog saw (a
    ``time.sleep`` in an async body, say). A Deadline does not count them against the other
    cases' timeouts. Made only for a run with timeouts."""

    def __init__(self, longest: float, watchdog: LoopWatchdog | None) -> None:
        """``longest``: the longest timeout of the run's cases, in seconds (see _prune).
        ``watchdog``: the run's, if any, whose blocks count too."""
        self._longest = longest
        self.watchdog = watchdog  # the run's, if any (see Deadline.blocked_at)
        # One span a sync fixture call: when it ended, when it began, and the id of its task,
        # in the order they ended (so by end), in arrays: 24 bytes a span. An id rather than
        # the task, which would keep an ended case's task alive: a task made later with the
        # same id began after the span, which does not count for it.
        self._until = array.array("d")
        self._since = array.array("d")
        self._holder = array.array("Q")
        self._prune_at = _PRUNE_AT

    def add(self, task: asyncio.Task[Any] | None, since: float, until: float) -> None:
        """``task``'s own code held the loop from ``since`` to ``until`` (time.monotonic())."""
        self._until.append(until)
        self._since.append(since)
        self._holder.append(id(task))
        if len(self._until) >= self._prune_at:
            self._prune(until)

    def held(self, task: asyncio.Task[Any], since: float) -> float:
        """The seconds since ``since`` during which other tasks than ``task`` held the loop. A
        block the watchdog saw in a sync fixture's code is in that fixture's span too: each
        moment counts once."""
        now = time.monotonic()
        key = id(task)
        first = bisect.bisect_right(self._until, since)  # the spans that ended after since
        spans = [
            (start, until)
            for start, until, holder in zip(
                self._since[first:], self._until[first:], self._holder[first:], strict=True
            )
            if holder != key
        ]
        if self.watchdog is not None:
            spans += [
                (start, until)
                for blocker, start, until in self.watchdog.stalls(since)
                if blocker is not task
            ]
        total, reached = 0.0, since
        for start, until in sorted(spans):
            start, until = max(start, reached), min(until, now)
            if until > start:
                total += until - start
                reached = until
        return total

    def _prune(self, now: float) -> None:
        """Forget the spans no running Deadline can ask for. A deadline that has not expired
        began at most its seconds, plus the time the loop was held meanwhile, ago (the
        longest timeout once more: leeway for a loop late to call it back)."""
        held = sum(until - since for until, since in zip(self._until, self._since, strict=True))
        if self.watchdog is not None:
            held += sum(until - since for _, since, until in self.watchdog.stalls(0.0))
        old = bisect.bisect_left(self._until, now - 2 * self._longest - held)
        del self._until[:old], self._since[:old], self._holder[:old]
        self._prune_at = max(_PRUNE_AT, 2 * len(self._until))


_PRUNE_AT = 1024  # spans kept before LoopHolds first forgets the old ones


class Deadline:
    """Cancels a case's task when its time is up, and remembers that it did."""

    def __init__(
        self,
        task: asyncio.Task[Any],
        seconds: float,
        repeat: bool = False,
        source: str = "",
        holds: LoopHolds | None = None,
        on_expire: Callable[[Deadline], None] | None = None,
    ) -> None:
        """Cancel ``task`` in ``seconds``; with ``repeat``, again every ``seconds`` after that.
        ``source``: see CaseTimeout. ``holds``: the time other tasks held the loop is not
        counted (the case could not run then). ``on_expire``: called each time the task is
        cancelled."""
        self.task = task
        self.seconds = seconds
        self.source = source
        self.expired = False
        # Where the case was waiting when the time was up, as a traceback: a case that catches
        # the CancelledError and goes on leaves no other trace of it.
        self.waiting: types.TracebackType | None = None
        self._repeat = repeat
        self._holds = holds
        self._on_expire = on_expire
        self._since = time.monotonic()
        self._handle = task.get_loop().call_later(seconds, self._expire)

    def _expire(self) -> None:
        if self._holds is not None:
            # Asked only when the time is up: nothing to do while the loop runs freely.
            spent = time.monotonic() - self._since - self._holds.held(self.task, self._since)
            if spent < self.seconds:
                self._handle = self.task.get_loop().call_later(self.seconds - spent, self._expire)
                return
        self.expired = True
        self.waiting = waiting_at(self.task)
        self.task.cancel()
        if self._on_expire is not None:
            self._on_expire(self)
        if self._repeat:  # in teardown: each finalizer that hangs is cut off in turn
            self._since = time.monotonic()
            self._handle = self.task.get_loop().call_later(self.seconds, self._expire)

    def overdue(self) -> bool:
        """Whether the time is up although the task was not cancelled: a step of its own held
        the loop past it (a sync fixture of the case, say), so the cancellation had no chance
        to come."""
        if self.expired:
            return False
        spent = time.monotonic() - self._since
        if spent >= self.seconds and self._holds is not None:  # asked at the end of every phase
            spent -= self._holds.held(self.task, self._since)
        return spent >= self.seconds

    def blocked_at(self) -> str | None:
        """Where the task held the loop longest since the timeout (re)started, as far as the
        watchdog saw: "path:line: source", or None."""
        watchdog = self._holds.watchdog if self._holds is not None else None
        if watchdog is None:
            return None
        return watchdog.blocked_at(self.task, self._since)

    def used_up(self) -> bool:
        """Whether the time is up: the task was cancelled for it, or is overdue."""
        return self.expired or self.overdue()

    def go_on(self) -> None:
        """The teardown goes on with what is left of the time; once it is up, each finalizer
        that hangs is cut off in turn (as after restart)."""
        self._repeat = True

    def restart(self) -> None:
        """A fresh timeout for the teardown, which cuts off every finalizer that hangs."""
        self._handle.cancel()
        if self.expired:
            self.expired = False
            uncancel = getattr(self.task, "uncancel", None)
            if uncancel is not None:  # Python >= 3.11 counts cancellations
                uncancel()
        self._repeat = True
        self._since = time.monotonic()
        self._handle = self.task.get_loop().call_later(self.seconds, self._expire)

    def cancel(self) -> None:
        self._handle.cancel()

    def stop(self) -> None:
        """No more timeout (a body-only timeout, after the body): the task is not cancelled
        again, nor any longer marked as being cancelled."""
        self._handle.cancel()
        uncancel = getattr(self.task, "uncancel", None)
        if self.expired and uncancel is not None:
            uncancel()


def expired_error(deadline: Deadline | None, where: str) -> BaseException | None:
    """A case that swallowed its timeout's cancellation (caught the CancelledError and went
    on) still timed out: at the line where it was waiting then."""
    if deadline is not None and deadline.expired:
        hint = "; it caught the CancelledError of its timeout and went on"
        return timeout_error(deadline, where, deadline.waiting, hint)
    return None


class SlowestStep(NamedTuple):
    """A case's sync fixture step (setup, teardown, finalizer) that held the loop longest:
    ``what`` it is ("sync fixture 'db'", "finalizer 'close' (added by fixture 'db')"), the
    function's ``name``, ``seconds`` it took, and where the function is defined
    ("path:line", or "" when it has no code of its own)."""

    seconds: float
    what: str
    name: str
    defined_at: str


def overdue_error(
    deadline: Deadline | None, where: str, slowest: Callable[[], SlowestStep | None]
) -> BaseException | None:
    """A phase that ended after its time was up, without being cancelled: a sync fixture (or
    finalizer) held the loop past the timeout. ``slowest``: the sync step that ran longest
    (asked only then), named when it took at least half the timeout, with where it is defined
    and, if the watchdog saw it block the loop, the line it saw: a sync call cannot be
    interrupted, so no traceback shows where it spent the time."""
    if deadline is None or not deadline.overdue():
        return None
    return timeout_error(deadline, where, None, slow_step_hint(deadline, slowest))


def blocked_body_error(deadline: Deadline | None, where: str) -> BaseException | None:
    """A body that returned after its time was up, without being cancelled, because it held
    the loop's thread past its timeout (a ``time.sleep`` in an ``async def``): the cancellation
    had no chance to come. Only when the watchdog saw this case block the loop: a body that
    merely resumed late on a busy loop did its work in time and passes."""
    if deadline is None or not deadline.overdue():
        return None
    blocked = blocked_hint(deadline)
    if not blocked:
        return None
    hint = "; it held the event loop's thread past it, where a timeout cannot cut it off"
    return timeout_error(deadline, where, None, hint + blocked)


def blocked_hint(deadline: Deadline) -> str:
    """For a timeout's message: the line where the watchdog saw the case block the loop since
    its timeout started, if it did ("" if not). A timeout that came while the case blocked
    cancels it at its next await, which the traceback shows: this line is where the time went."""
    blocked_at = deadline.blocked_at()
    if blocked_at is None:
        return ""
    return f"\n  the watchdog saw it block the event loop at {blocked_at}"


def slow_step_hint(deadline: Deadline, slowest: Callable[[], SlowestStep | None]) -> str:
    """For a timeout's message: the sync step that held the loop longest in the phase, if it
    took at least half the timeout (``slowest`` is asked only when the time is up)."""
    step = slowest()
    if step is None or step.seconds < deadline.seconds / 2:
        return ""
    hint = (
        f"; its {step.what} took {step.seconds:.2f} s and ran on the event loop's thread, "
        "where it cannot be cut off"
    )
    if step.defined_at:
        hint += f"\n  {step.name!r} is defined at {step.defined_at}"
    return hint + blocked_hint(deadline)


def timeout_error(
    deadline: Deadline, where: str, tb: types.TracebackType | None, hint: str = ""
) -> CaseTimeoutError:
    seconds = deadline.seconds
    source = f" (set by {deadline.source})" if deadline.source else ""
    frames = user_frames(tb)
    error = CaseTimeoutError(
        f"Timeout (>{seconds:g}s) from asyncgroup: the case's {where} did not finish "
        f"within its timeout of {seconds:g} s{source}"
        + ("; the line marked > is where it was waiting" if frames is not None else "")
        + hint
    )
    return error.with_traceback(frames)


def waiting_at(task: asyncio.Future[Any]) -> types.TracebackType | None:
    """Where a suspended task is waiting, as a traceback: its coroutine and the ones it awaits,
    async generators included (an async generator fixture, say)."""
    frames = []
    awaited: Any = task.get_coro() if isinstance(task, asyncio.Task) else None
    while awaited is not None:
        if type(awaited).__name__ == "async_generator_asend":
            awaited = async_generator_of(awaited)
            continue
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
        if frame is None:
            break
        frames.append(frame)
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
    tb = None
    for frame in reversed(frames):
        tb = types.TracebackType(tb, frame, frame.f_lasti, frame.f_lineno)
    return tb


def async_generator_of(step: Any) -> Any:
    """The async generator an ``__anext__()``/``asend()`` awaitable advances, or None.

    The awaitable has no attribute for it; the collector's view of what it refers to has it
    (CPython's async_generator_asend keeps it, checked on Python 3.10 to 3.13)."""
    return next((ref for ref in gc.get_referents(step) if inspect.isasyncgen(ref)), None)


def user_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback without asyncio's and asyncgroup's frames: just where the case waited."""
    frames = []
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith((_ASYNCIO_DIR, _OWN_DIR)):
            frames.append(tb)
        tb = tb.tb_next
    result = None
    for frame_tb in reversed(frames):
        result = types.TracebackType(
            result, frame_tb.tb_frame, frame_tb.tb_lasti, frame_tb.tb_lineno
        )
    return result
