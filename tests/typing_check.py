"""Never executed: mypy (strict) checks that @concurrent_cases and @concurrent_group keep the
decorated function's (or class's) type.

Each ``type: ignore[...]`` below must be needed: with strict mode's warn_unused_ignores, an
decorator returning Any (or a looser type) would make mypy report the ignore as unused.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from asyncgroup import concurrent_cases, concurrent_group


@concurrent_cases([1, 2, 3])
async def test_one_form(n: int, client: str) -> None: ...


@concurrent_cases("x, y", [(1, 2)], ids=["a"], timeout=1.5, max_concurrency=4, fail_fast=True)
async def test_two_forms(x: int, y: int) -> None: ...


@concurrent_cases(["a"], ids=lambda value: f"id-{value}")
async def test_ids_callable(name: str) -> int:
    return 1


one: Callable[[int, str], Coroutine[Any, Any, None]] = test_one_form
two: Callable[[int, int], Coroutine[Any, Any, None]] = test_two_forms
three: Callable[[str], Coroutine[Any, Any, int]] = test_ids_callable

test_one_form("not an int", "client")  # type: ignore[arg-type,unused-coroutine]
wrong: Callable[[str], Coroutine[Any, Any, str]] = test_ids_callable  # type: ignore[assignment]
concurrent_cases([1], timeout="soon")  # type: ignore[call-overload]


@concurrent_group("inventory", timeout=10, max_concurrency=5, fail_fast=True)
async def test_in_group(client: str) -> None: ...


@concurrent_group("inventory")
def test_blocking_in_group(client: str) -> int:
    return 1


@concurrent_group(timeout=30)
class TestGrouped:
    async def test_method(self) -> None: ...


@concurrent_group
class TestBare:
    pass


grouped: Callable[[str], Coroutine[Any, Any, None]] = test_in_group
blocking: Callable[[str], int] = test_blocking_in_group
grouped_class: type[TestGrouped] = TestGrouped
bare_class: type[TestBare] = TestBare
concurrent_group(42)  # type: ignore[call-overload]
concurrent_group("g", timeout="soon")  # type: ignore[call-overload]
wrong_group: Callable[[str], str] = test_blocking_in_group  # type: ignore[assignment]
