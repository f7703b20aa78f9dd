"""``eventually()``: send an event, then check until the system behaves or a deadline passes."""

from __future__ import annotations

import asyncio
import inspect
import math
import types
from collections.abc import Awaitable, Callable
from typing import TypeVar

from asyncgroup._declare import short_repr
from asyncgroup._timeouts import user_frames, waiting_at

_T = TypeVar("_T")


async def eventually(
    check: Callable[[], _T | Awaitable[_T]],
    *,
    timeout: float,
    interval: float = 0.1,
    retry_on: tuple[type[BaseException], ...] = (),
) -> _T:
    """Call ``check`` until it stops failing; return what it returned.

    ``check`` is a sync or async callable. While it raises ``AssertionError`` (or one of
    ``retry_on``) it is called again every ``interval`` seconds; after ``timeout`` seconds an
    ``AssertionError`` says how many attempts were made over how long, with the last failure
    (pytest's rewritten assertion message) as its cause. An async check that hangs is cut off
    at the deadline (an attempt begun at the deadline gets one interval); the last failure then
    shows the line it was waiting on. Inside ``@concurrent_cases`` the case's own timeout still
    applies; when it cuts ``eventually`` off, the check's last failure and the number of
    attempts are chained to the case's ``CaseTimeoutError``. Passing anything but a callable
    (a coroutine ``check()`` instead of ``check``, say) raises ``TypeError``; a bad ``timeout``
    or ``interval`` raises ``ValueError``.
    """
    __tracebackhide__ = True
    _check_arguments(check, timeout, interval, retry_on)
    retried: tuple[type[BaseException], ...] = (AssertionError, *retry_on)
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + timeout
    attempts = 0  # the failed ones
    last: BaseException | None = None
    try:
        while True:
            try:
                result = check()
                if inspect.isawaitable(result):
                    # The last attempt may start at the deadline: it still gets one interval.
                    result = await _within(result, max(deadline - loop.time(), interval))
                return result  # type: ignore[return-value]
            except _StillRunning as stuck:
                last = AssertionError(
                    "the last attempt was still running at the deadline"
                    + ("; the line marked > is where it was waiting" if stuck.where else "")
                ).with_traceback(stuck.where)
            except retried as exc:
                last = exc
            attempts += 1
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise _still_failing(check, attempts, loop.time() - started, last, timeout)
            await asyncio.sleep(min(interval, remaining))
    except asyncio.CancelledError as cancelled:
        # Cut off from outside (a case's timeout, say): why the check kept failing goes with
        # the cancellation as its cause, which asyncgroup's CaseTimeoutError keeps.
        if last is not None and cancelled.__cause__ is None:
            cancelled.__cause__ = _still_failing(
                check, attempts, loop.time() - started, last, timeout, cut_off=True
            )
        raise


def _still_failing(
    check: object,
    attempts: int,
    elapsed: float,
    last: BaseException,
    timeout: float,
    *,
    cut_off: bool = False,
) -> AssertionError:
    """The check's last failure, with how many attempts were made over how long, as cause."""
    name = getattr(check, "__qualname__", repr(check))
    tried = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if cut_off:
        text = (
            f"eventually({name}) was cut off after {tried} that failed over {elapsed:.2f} s "
            f"(its own timeout: {timeout:g} s); the last failure is shown above"
        )
    else:
        text = (
            f"eventually({name}) still failing after {tried} over {elapsed:.2f} s "
            f"(timeout {timeout:g} s): {type(last).__name__}: {last}"
        )
    error = AssertionError(text)
    error.__cause__ = last
    return error


class _StillRunning(Exception):
    """An attempt was cut off at the deadline (not the check's own TimeoutError)."""

    def __init__(self, where: types.TracebackType | None) -> None:
        super().__init__()
        self.where = where  # the attempt's own frames, down to the line it was waiting on


async def _within(awaitable: Awaitable[_T], seconds: float) -> _T:
    """Await ``awaitable`` for at most ``seconds``; its own exceptions pass through unchanged."""
    __tracebackhide__ = True
    attempt = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({attempt}, timeout=seconds)
    except asyncio.CancelledError:  # the case's own timeout: the attempt goes with it
        attempt.cancel()
        raise
    if not done:
        waiting = waiting_at(attempt)  # before the cancellation unwinds it
        attempt.cancel()
        await asyncio.wait({attempt})
        where = None
        try:
            attempt.result()
        except asyncio.CancelledError as exc:  # raised where the attempt was waiting
            where = user_frames(exc.__traceback__)
        except BaseException:  # the check's own error while cancelled: it was still running
            pass
        # Python 3.10's Task.result() raises a new CancelledError, without the attempt's frames.
        raise _StillRunning(where or user_frames(waiting))
    return attempt.result()


def _check_arguments(check: object, timeout: object, interval: object, retry_on: object) -> None:
    __tracebackhide__ = True
    if inspect.iscoroutine(check):
        name = check.__name__
        check.close()  # never to be awaited: no "never awaited" warning on top of this error
        msg = (
            f"eventually() needs the check function, not a coroutine: "
            f"pass {name}, not {name}() (it is called again for each attempt)"
        )
        raise TypeError(msg)
    if not callable(check):
        # Most likely a sync check called in place: eventually(check(), ...) passes its result.
        msg = (
            f"eventually() needs a callable check, got {short_repr(check)}: pass the check "
            "function itself, not what it returned (check, not check()); it is called again "
            "for each attempt"
        )
        raise TypeError(msg)
    for name, value in (("timeout", timeout), ("interval", interval)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            msg = f"eventually(): invalid {name} {value!r}: expected a positive number of seconds"
            raise ValueError(msg)
    if not isinstance(retry_on, tuple) or not all(
        isinstance(kind, type) and issubclass(kind, BaseException) for kind in retry_on
    ):
        msg = f"eventually(): retry_on must be a tuple of exception types, got {retry_on!r}"
        raise TypeError(msg)
