"""Per-test state a plugin keeps process-wide, made the running case's at every step.

pytest runs one test at a time, so a plugin that keeps per-test state in the process (the seed
of ``random`` for pytest-randomly, the coverage context for pytest-cov) sets it once as each
phase begins. Cases interleave in one thread: their tasks take turns at every ``await``. An
integration (asyncgroup/_integrations/) answers ``pytest_asyncgroup_case_phase`` as a case's
phase begins, in the case's task; the ``CaseSteps`` it returns has ``enter`` called before each
step of that phase (each resumption of the case's task in it) and ``leave`` after it, so the
state is the case's whenever the case's own code runs. Tasks the case starts run outside it.

A plain ``def`` case's body runs in a thread beside the others: ``threaded`` tells the
integration so; ``enter`` then runs once in that thread before the body and ``leave`` after it,
and nothing can keep threads running at the same time apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class CaseSteps(Protocol):
    """What an integration runs around each step of one phase of one case."""

    def enter(self) -> None: ...

    def leave(self) -> None: ...


def stepped(awaitable: Awaitable[T], steps: list[CaseSteps]) -> Awaitable[T]:
    """``awaitable`` with each ``steps``' enter before and leave after each of its steps."""
    return _Stepped(awaitable, steps)


class _Stepped(Generic[T]):
    __slots__ = ("_awaitable", "_steps")

    def __init__(self, awaitable: Awaitable[T], steps: list[CaseSteps]) -> None:
        self._awaitable = awaitable
        self._steps = steps

    def __await__(self) -> Generator[Any, Any, T]:
        __tracebackhide__ = True
        inner = self._awaitable.__await__()
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            for step in self._steps:
                step.enter()
            try:
                # As the task drives a coroutine: what it sends or throws goes to the inner one.
                yielded = inner.send(sent) if thrown is None else inner.throw(thrown)
            except StopIteration as stop:
                value: T = stop.value
                return value
            finally:
                for step in reversed(self._steps):
                    step.leave()
            sent, thrown = None, None
            try:
                sent = yield yielded
            except BaseException as exc:  # a cancellation, say: thrown into the inner one
                thrown = exc
