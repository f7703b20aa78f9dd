"""Noticing a case that blocks the event loop (a ``time.sleep``, a synchronous HTTP call).

One blocked case silently stalls every other case and every timeout. While a parent runs, the
loop updates a heartbeat a few times per threshold; a watchdog thread that sees no heartbeat for
longer than the threshold looks at the loop thread's stack (the blocking line is on it) and at
the task that is running (the case). When the loop runs again, the case gets a warning that says
for how long it blocked the loop, and where. asyncgroup's own work on the loop (building and
writing reports) is timed too: held for longer than the threshold while a case runs, it gets a
warning of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from asyncgroup._paths import shown_path

_LIBRARY_DIRS = tuple(
    {sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")}
)
_OWN_DIR = __file__.rpartition("/")[0]


def _blocking_line(frame: Any, root: str) -> str:
    """The innermost line of the test's own code on the stack (else the innermost line)."""
    innermost = frame
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith((*_LIBRARY_DIRS, _OWN_DIR)) and not filename.startswith("<"):
            break
        frame = frame.f_back
    chosen = frame or innermost
    summary = traceback.extract_stack(chosen, limit=1)[-1]
    return f"{shown_path(summary.filename, root)}:{summary.lineno}: {summary.line or '?'}"


class LoopWatchdog:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        threshold: float,
        on_blocked: Callable[[asyncio.Task[Any] | None, float, str], None],
        root: str = "",
    ) -> None:
        self._root = root  # the rootdir: the blocking line's path is written relative to it
        self._loop = loop
        self.threshold = threshold
        self._on_blocked = on_blocked
        # Steps the watchdog saw run for longer than the threshold, not yet reported: [task,
        # line, since, until]; until stays None while the step runs. Several can pile up in one
        # loop iteration (case a blocks, then case b): each is its own case's.
        self._stalls: list[list[Any]] = []
        self._lock = threading.Lock()  # the watchdog thread adds stalls, the loop takes them
        # The stalls reported, (task, since, until, line), for stalls(): a timeout does not
        # count the time another case held the loop; and for blocked_at(). Each is one step longer
        # than the threshold: few.
        self._held: list[tuple[asyncio.Task[Any], float, float, str]] = []
        self._stop = threading.Event()
        self._loop_thread = threading.get_ident()
        self._handle: asyncio.TimerHandle | None = None
        self._thread = threading.Thread(target=self._watch, name="asyncgroup watchdog", daemon=True)

    def start(self) -> None:
        self._beat()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()
        self._thread.join()

    def claim(self, task: asyncio.Task[Any] | None = None) -> None:
        """On the loop: report the stall the watchdog saw, if any (only ``task``'s, if given).

        Called by the heartbeat, and by a case that ends in the very step that blocked.
        """
        with self._lock:
            if not self._stalls:
                return
            taken = [stall for stall in self._stalls if task is None or stall[0] is task]
            self._stalls = [stall for stall in self._stalls if stall not in taken]
        now = time.monotonic()
        for blocked_task, line, since, until in taken:
            # A stall still open has ended by now: the loop runs this very code.
            self._held.append((blocked_task, since, until or now, line))
            self._on_blocked(blocked_task, (until or now) - since, line)

    def stalls(self, since: float) -> list[tuple[asyncio.Task[Any], float, float]]:
        """On the loop: the steps that held the loop for longer than the threshold and ended
        after ``since`` (``time.monotonic()``), as (task, since, until): as far as the watchdog
        saw them, each from its first sample to its last (see LoopHolds)."""
        spans = self._spans(time.monotonic())
        return [(task, start, until) for task, start, until, _ in spans if until > since]

    def blocked_at(self, task: asyncio.Task[Any], since: float) -> str | None:
        """On the loop: the line at which ``task`` held the loop longest since ``since``
        (``time.monotonic()``), as far as the watchdog saw (a step longer than the threshold),
        "path:line: source"; None if it saw none."""
        spans = [s for s in self._spans(time.monotonic()) if s[0] is task and s[1] >= since]
        return max(spans, key=lambda span: span[2] - span[1])[3] if spans else None

    def _spans(self, now: float) -> list[tuple[asyncio.Task[Any], float, float, str]]:
        """The stalls seen, reported or not: (task, since, until, line)."""
        with self._lock:
            # A stall still open has ended by now, as in claim.
            spans = [(stall[0], stall[2], stall[3] or now, stall[1]) for stall in self._stalls]
        return spans + self._held

    @contextlib.contextmanager
    def own_work(self, what: str) -> Iterator[None]:
        """asyncgroup's own work on the loop (``what``: "building the report of case 'x'").

        Work that holds the loop for longer than the threshold is reported as asyncgroup's,
        with task None: no case is to blame.
        """
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - start
            if seconds > self.threshold:
                self._on_blocked(None, seconds, what)

    def _beat(self) -> None:
        """On the loop, a few times per threshold: report a stall that has ended."""
        self.claim()
        self._handle = self._loop.call_later(self.threshold / 4, self._beat)

    def _watch(self) -> None:
        """In the watchdog thread: notice one step of one task running for too long.

        A step is the same task at the same instruction of the same frame, sample after
        sample. A loop that is merely busy (100,000 short steps in a row) changes task and
        frame between samples, and no case is to blame.
        """
        seen: tuple[object, object, int] | None = None
        since = last = time.monotonic()
        stall: list[Any] | None = None  # the noted stall whose step is still running
        while not self._stop.wait(self.threshold / 4):
            task = asyncio.current_task(self._loop)
            frame = sys._current_frames().get(self._loop_thread)
            now = time.monotonic()
            step = (task, frame, frame.f_lasti) if frame is not None else None
            if task is None or frame is None or step != seen:
                if stall is not None:  # its step ended: it lasted at least until last seen
                    with self._lock:
                        stall[3] = last
                    stall = None
                seen, since = step, now
            elif now - since > self.threshold and stall is None:
                stall = [task, _blocking_line(frame, self._root), since, None]
                with self._lock:
                    self._stalls.append(stall)
            last = now
