"""Run a pytest test's many slow, I/O-bound cases concurrently, each reported as a subtest."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, TypeVar, overload

from asyncgroup._declare import CASES_ATTRIBUTE, make_parent, make_table, short_repr
from asyncgroup._eventually import eventually
from asyncgroup._group import declare
from asyncgroup._outcome import AsyncgroupWarning, CancellationIgnoredError, CaseTimeoutError

__all__ = [
    "AsyncgroupWarning",
    "CancellationIgnoredError",
    "CaseTimeoutError",
    "concurrent_cases",
    "concurrent_group",
    "eventually",
]

_TestFunction = TypeVar("_TestFunction", bound=Callable[..., Coroutine[Any, Any, Any]])
_GroupMember = TypeVar("_GroupMember", bound=Callable[..., Any])
_TestClass = TypeVar("_TestClass", bound=type)


@overload
def concurrent_cases(
    argvalues: Iterable[Any],
    /,
    *,
    ids: Sequence[object | None] | Callable[[Any], object | None] | None = None,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    fail_fast: bool = False,
    shards: int | None = None,
) -> Callable[[_TestFunction], _TestFunction]: ...


@overload
def concurrent_cases(
    argnames: str | Sequence[str],
    argvalues: Iterable[Any],
    *,
    ids: Sequence[object | None] | Callable[[Any], object | None] | None = None,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    fail_fast: bool = False,
    shards: int | None = None,
) -> Callable[[_TestFunction], _TestFunction]: ...


def concurrent_cases(
    *args: Any,
    ids: Sequence[object | None] | Callable[[Any], object | None] | None = None,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    fail_fast: bool = False,
    shards: int | None = None,
    **unknown: Any,
) -> Callable[[_TestFunction], _TestFunction]:
    """Run the decorated ``async def`` test once per case, all cases concurrently.

    ``@concurrent_cases(values)`` gives each value to the function's first parameter;
    ``@concurrent_cases("x, y", [(1, 2), (3, 4)])`` takes argnames and argvalues exactly as
    ``pytest.mark.parametrize`` does (``pytest.param(..., id=, marks=)`` included; by name
    too: ``argnames=``, ``argvalues=``).

    The test becomes one ordinary pytest test (the parent); each case is reported as a subtest
    named by its case id. ``timeout`` is seconds per case, ``max_concurrency`` bounds the cases
    in flight, ``fail_fast`` cancels the remaining cases after the first failure, ``shards=K``
    splits the cases over K parents (``test_x[shard1of4]``, ...) that pytest-xdist can place on
    different workers. Function-scoped
    fixtures are created per case. Misuse (an unknown keyword argument included) is reported
    as a collection error of the test.
    """
    if "argvalues" in unknown and len(args) + ("argnames" in unknown) == 1:
        # Given by name, as pytest.mark.parametrize takes them too.
        args = (*args, unknown.pop("argnames")) if "argnames" in unknown else args
        args = (*args, unknown.pop("argvalues"))
    options = {
        "ids": ids,
        "timeout": timeout,
        "max_concurrency": max_concurrency,
        "fail_fast": fail_fast,
        "shards": shards,
    }
    if len(args) == 1 and _is_test_function(args[0]):
        # Used bare, as @concurrent_cases without a case list: report it on that test.
        func = args[0]
        table = make_table(func, (), options)
        table.error = "@concurrent_cases needs the case values: @concurrent_cases([...])"
        return make_parent(func, table)

    def decorate(func: _TestFunction) -> _TestFunction:
        __tracebackhide__ = True
        if isinstance(func, (staticmethod, classmethod)):
            # Above @staticmethod or @classmethod, as parametrize may be: the function in it
            # gets the cases, and stays a static or class method.
            return type(func)(decorate(func.__func__))
        if not _is_test_function(func):
            msg = (
                f"@concurrent_cases decorates a test function ('async def' or plain 'def'), "
                f"not {type(func).__name__} {short_repr(func)}"
            )
            raise TypeError(msg)
        if hasattr(func, CASES_ATTRIBUTE):
            table = make_table(func, (), options)
            table.error = "@concurrent_cases is applied twice; give one case list"
            return make_parent(func, table)  # type: ignore[return-value]
        table = make_table(func, args, options)
        if unknown and table.error is None:
            table.error = _unknown_keywords(unknown)
        return make_parent(func, table)  # type: ignore[return-value]

    return decorate


def _unknown_keywords(unknown: dict[str, Any]) -> str:
    """The error for keyword arguments @concurrent_cases does not take (parametrize's among
    them), saying which it takes."""
    names = ", ".join(sorted(unknown))
    msg = (
        f"@concurrent_cases got unknown keyword argument(s) {names}; it takes ids, timeout, "
        "max_concurrency, fail_fast and shards"
    )
    if "indirect" in unknown:
        msg += "; instead of indirect=, give a fixture the case's argname as a parameter"
    return msg


def _is_test_function(obj: object) -> bool:
    return callable(obj) and hasattr(obj, "__code__")


@overload
def concurrent_group(
    name: str,
    /,
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    fail_fast: bool | None = None,
) -> Callable[[_GroupMember], _GroupMember]: ...


@overload
def concurrent_group(
    *,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    fail_fast: bool | None = None,
) -> Callable[[_TestClass], _TestClass]: ...


@overload
def concurrent_group(test_class: _TestClass, /) -> _TestClass: ...


def concurrent_group(
    *args: Any,
    timeout: float | None = None,
    max_concurrency: int | None = None,
    fail_fast: bool | None = None,
    **unknown: Any,
) -> Any:
    """Run separate test functions concurrently, as the cases of one parent test.

    On a test class (``@concurrent_group`` or ``@concurrent_group(timeout=...)``): all its test
    methods form one group. On module-level test functions (``@concurrent_group("name", ...)``):
    the functions of one module (or class) with the same name form one group, in source order.
    ``async def`` and plain ``def`` tests (in a thread) alike; a parametrized or
    ``@concurrent_cases`` test gives one case per parameter set.

    Each test keeps its own node id, fixtures (function-scoped ones made per test, wider ones
    shared), marks and report; pytest selects them as usual (``-k``, ``-m``, node ids, ``--lf``)
    and the group runs the selected ones. ``timeout`` is seconds per test, ``max_concurrency``
    bounds the tests in flight, ``fail_fast`` cancels the rest after the first failure; an option
    given on one test applies to the whole group (None: not given here). Misuse (a name that is
    not a string, conflicting options, an unknown keyword argument, a decorated non-test) is a
    collection error naming the test; something that is neither a function nor a class raises
    TypeError.
    """
    options = {"timeout": timeout, "max_concurrency": max_concurrency, "fail_fast": fail_fast}
    return declare(args, options, unknown)
