"""Tasks a case started and left running when it finished.

Each case's body runs with a mark in its context; asyncio gives a new task a copy of its
creator's context, so every task the body starts (and every task those start) carries the case's
mark. When the body ends, the case's tasks still running are found by that mark:

- on Python >= 3.12 by looking at the loop's tasks (``Task.get_context()``), with no task
  factory, so code under test sees the tasks, names and factory it would see without asyncgroup
  (Python 3.13.0 names every task ``None`` while a loop has a task factory);
- on Python 3.10 and 3.11, whose tasks do not expose their context, by a task factory that
  chains to the one already installed, and is removed only if nobody replaced it meanwhile.

On the function loop scope, a case whose body ended on its own (returned, failed, skipped) is
treated as its parametrized test under pytest-asyncio, which cancels the test's tasks when it
closes the test's loop, right after the test's fixtures are torn down: the case's tasks still
running go on while its fixtures are torn down (a library's own cleanup task, such as asyncpg's
cancel request after a timeout the case handled, finishes there: asyncpg's ``close()`` waits for
it), and those still running after that are its leftovers, named in a warning on the case's
report and cancelled at once, so they never run on beside the other cases; those that failed
during the teardown (using what it closed) are named in the warning too, with their error.

A case cancelled from outside (its timeout, fail_fast, -x, Ctrl-C) first gives its tasks a grace
to finish on their own, since its libraries clean up in tasks of their own; tasks still running
after that are its leftovers, warned about and cancelled before its fixtures are torn down.

On a loop of wider scope (module, class, package, session) none of this happens: pytest-asyncio
keeps that loop after a test, and the tasks the test left running run on, unwarned, until the
scope ends; so do a case's. Its tasks are not marked, and nothing waits for them.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Callable
from typing import Any

from asyncgroup._paths import shown_path

# How long a cancelled case's tasks get to finish on their own before its teardown, and how long
# cancelled leftovers get for their own cleanup (seconds).
CLEANUP_GRACE = 1.0

_WITHOUT_FACTORY = sys.version_info >= (3, 12)  # Task.get_context() exists


class CaseMark:
    """The mark in a case body's context; on Python < 3.12 also the tasks it started."""

    __slots__ = ("task", "tasks")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task  # the case's own task, which is not its leftover
        # Python < 3.12: the tasks it started, a list made at the first (most cases start none).
        self.tasks: list[asyncio.Task[Any]] | None = None


case_mark: contextvars.ContextVar[CaseMark | None] = contextvars.ContextVar(
    "asyncgroup_case_mark", default=None
)


class TaskCensus:
    """Finds the tasks a case started, while one parent runs on ``loop``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, noting: bool = True) -> None:
        """``noting``: False when no case's tasks are looked for (their loop is of a wider scope
        than function, see ParentRun.tasks_run_on): no task factory then, on any Python."""
        self._loop = loop
        self._factory: Callable[..., Any] | None = None
        self._previous = loop.get_task_factory()
        # Marks waiting for the next look at the loop's tasks (one look serves every case that
        # ends in the same loop iteration).
        self._waiting: dict[CaseMark, asyncio.Future[list[asyncio.Task[Any]]]] = {}
        if noting and not _WITHOUT_FACTORY:
            self._install_factory()

    def create_task(self, coro: Any) -> Any:
        """A case's own task, not noted: the loop's own way, or the factory that was there."""
        if self._previous is not None:
            return self._previous(self._loop, coro)
        return asyncio.Task(coro, loop=self._loop)

    def _install_factory(self) -> None:
        previous = self._previous

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            task: Any
            if previous is not None:
                task = previous(loop, coro, **kwargs)
            else:
                task = asyncio.Task(coro, loop=loop, **kwargs)
            mark = case_mark.get()
            if mark is not None:
                if mark.tasks is None:
                    mark.tasks = []
                mark.tasks.append(task)
            return task

        self._factory = factory
        self._loop.set_task_factory(factory)

    def close(self) -> None:
        """Stop noting; leave alone a task factory that someone installed meanwhile."""
        if self._factory is not None and self._loop.get_task_factory() is self._factory:
            self._loop.set_task_factory(self._previous)

    async def running(self, mark: CaseMark) -> list[asyncio.Task[Any]]:
        """The tasks started under ``mark`` that have not finished, in no particular order."""
        if not _WITHOUT_FACTORY:
            mark.tasks = [task for task in mark.tasks or () if not task.done()]
            return list(mark.tasks)
        future = self._waiting.get(mark)
        if future is None:
            if not self._waiting:
                self._loop.call_soon(self._look)
            future = self._waiting[mark] = self._loop.create_future()
        return await future

    def _look(self) -> None:
        waiting, self._waiting = self._waiting, {}
        found: dict[CaseMark, list[asyncio.Task[Any]]] = {mark: [] for mark in waiting}
        for task in asyncio.all_tasks(self._loop):
            mark = task.get_context().get(case_mark)  # type: ignore[attr-defined]
            if mark is not None and mark.task is not task and mark in found:
                found[mark].append(task)
        for mark, future in waiting.items():
            if not future.done():
                future.set_result(found[mark])


def _describe(task: asyncio.Task[Any], root: str) -> str:
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", repr(coro))
    frame = getattr(coro, "cr_frame", None)
    where = (
        f" at {shown_path(frame.f_code.co_filename, root)}:{frame.f_lineno}"
        if frame is not None
        else ""
    )
    return f"{task.get_name()} ({name}(){where})"


async def left_running(census: TaskCensus, mark: CaseMark, root: str = "") -> dict[Any, str]:
    """The case's tasks running when its body ended, each described while its frame is there."""
    return {task: _describe(task, root) for task in await census.running(mark)}


async def settle(
    census: TaskCensus,
    mark: CaseMark,
    root: str = "",
    *,
    cut_off: bool = False,
    left: dict[Any, str] | None = None,
) -> list[str]:
    """Cancel the case's tasks still running; say which ones the case left behind.

    ``cut_off``: the case was cancelled from outside (or timed out) and its fixtures are not torn
    down yet: its tasks first get ``CLEANUP_GRACE`` seconds to finish on their own, as its
    libraries may be cleaning up in tasks of their own. Otherwise (its fixtures are torn down)
    they are cancelled at once, and ``left`` (see left_running) names those that failed
    meanwhile, using what the teardown closed (their errors go in the warning, not unretrieved
    to asyncio's log). Cancelled tasks then get ``CLEANUP_GRACE`` seconds for their own cleanup.
    Returns the warnings for the case's report (paths relative to ``root``).
    """
    notes = []
    failed = [
        f"{name}, which failed during the case's fixture teardown: "
        f"{type(task.exception()).__name__}: {task.exception()}"
        for task, name in (left or {}).items()
        if task.done() and not task.cancelled() and task.exception() is not None
    ]
    if failed:
        notes.append(_left(failed, sorted(failed)))
    running = await census.running(mark)
    if running and cut_off:
        await asyncio.wait(running, timeout=CLEANUP_GRACE)
        running = await census.running(mark)
    if not running:
        return notes
    running.sort(key=_order)
    names = [_describe(task, root) for task in running]
    for task in running:
        task.cancel()
    # Cancelled tasks may start cleanup tasks of their own: those finish too, within the grace.
    end = asyncio.get_running_loop().time() + CLEANUP_GRACE
    pending = running
    while pending:
        await asyncio.wait(pending, timeout=max(0.0, end - asyncio.get_running_loop().time()))
        if asyncio.get_running_loop().time() >= end:
            break
        pending = await census.running(mark)
    when = "before" if cut_off else "after"
    them = "them" if len(running) != 1 else "it"
    notes.append(
        f"{_left(running, names)}; asyncgroup cancelled {them} {when} the case's fixture teardown"
    )
    return notes


def _left(tasks: list[Any], names: list[str]) -> str:
    count = len(tasks)
    return (
        f"the case left {count} task{'s' if count != 1 else ''} running when it finished: "
        + ", ".join(names)
    )


def _order(task: asyncio.Task[Any]) -> str:
    return task.get_name()
