"""Declaring cases: the ``@concurrent_cases`` decorator and the checks on its arguments.

The decorator never raises for a bad argument (except when it is given no function at all):
it records the problem, and the plugin reports it at collection as an error naming the test,
exactly as ``pytest.mark.parametrize`` reports its own misuse (a collection error of the module).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from asyncgroup import _compat
from asyncgroup._gcpause import gc_paused

# What pytest.param() returns (pytest 8.0-9.2: _pytest.mark.structures.ParameterSet, a NamedTuple
# with .values, .marks and .id); taken from the public API rather than imported.
_ParameterSet = type(pytest.param(None))

CASES_ATTRIBUTE = "_asyncgroup_cases"


@dataclass(slots=True)  # 100,000 cases stay alive for the whole run
class Case:
    """One case: its values (``args``, in the order of ``argnames``), its marks, and (after
    collection) its id."""

    index: int
    argnames: tuple[str, ...]  # the test's, shared by its cases
    args: tuple[Any, ...]  # a tuple, not a dict by argname: the smallest thing to keep per case
    marks: tuple[pytest.Mark, ...]
    id: str = ""

    @property
    def values(self) -> dict[str, Any]:
        """Its values by argname: a new dict at each call."""
        return dict(zip(self.argnames, self.args, strict=True))


@dataclass
class CaseTable:
    """Everything ``@concurrent_cases`` was told about one test function."""

    func: Callable[..., Any]
    # The function's parameters that take a case value or a fixture, ``self`` excluded.
    parameters: list[str] = field(default_factory=list)
    argnames: tuple[str, ...] = ()
    cases: list[Case] = field(default_factory=list)
    parametersets: list[Any] = field(default_factory=list)
    ids: Any = None
    timeout: float | None = None
    max_concurrency: int | None = None
    fail_fast: bool = False
    shards: int | None = None
    is_async: bool = True  # False: a blocking body, run in a thread per case
    error: str | None = None
    ids_made: bool = False
    short_form: bool = False  # @concurrent_cases(values): the first parameter takes them
    # The parametrize mark the cases' tests have in its place (see _select.parent_marks).
    mark: pytest.Mark | None = None
    # A plain def test's: the asyncio mark asyncgroup gave its function, for pytest-asyncio to
    # run the parent. The cases' tests have none (see _select.parent_marks).
    asyncio_mark: pytest.Mark | None = None

    @property
    def name(self) -> str:
        return getattr(self.func, "__qualname__", repr(self.func))

    @property
    def empty_reason(self) -> str:
        """Why a test without cases is skipped (pytest's words for an empty parametrize)."""
        return f"got empty parameter set for ({', '.join(self.argnames)})"

    def empty_mark(self, config: pytest.Config) -> pytest.MarkDecorator:
        """What pytest marks a test with an empty parameter set with, as its
        ``empty_parameter_set_mark`` ini option says: a skip, or an xfail that does not run.
        Its third choice, ``fail_at_collect``, is pytest's own collection error."""
        if config.getini("empty_parameter_set_mark") == "xfail":
            return pytest.mark.xfail(reason=self.empty_reason, run=False)
        return pytest.mark.skip(reason=self.empty_reason)


_EMPTY = inspect.Parameter.empty


def _case_parameters(func: Callable[..., Any]) -> list[str]:
    """The function's parameters that take a case value or a fixture (``self`` excluded).

    As pytest does, parameters with a default value are left alone.
    """
    params = [
        p
        for p in inspect.signature(func).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is p.empty
    ]
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    # As pytest's getfuncargnames: the mocks that @mock.patch passes in are not fixtures.
    params = params[_compat.mock_patch_args(func) :]
    return [p.name for p in params]


def _parse_argnames(
    argnames: object, valid: list[str], func: Callable[..., Any]
) -> tuple[str, ...]:
    if isinstance(argnames, str):
        names = [name.strip() for name in argnames.split(",")]
        names = [name for name in names if name]
    elif isinstance(argnames, (list, tuple)) and all(isinstance(n, str) for n in argnames):
        names = [name.strip() for name in argnames]
    else:
        msg = (
            f"argnames must be a string like 'x, y' or a list of strings, "
            f"got {short_repr(argnames)}"
        )
        raise ValueError(msg)
    if not names:
        msg = f"argnames {argnames!r} names no argument; valid names: {', '.join(valid)}"
        raise ValueError(msg)
    parameters = inspect.signature(func).parameters
    for name in names:
        if name not in valid and name in parameters and parameters[name].default is not _EMPTY:
            # pytest's own words for parametrize
            msg = f"function already takes an argument {name!r} with a default value"
            raise ValueError(msg)
        if name not in valid:
            msg = (
                f"argname {name!r} is not a parameter of the function; "
                f"its parameters are: {', '.join(valid) or '(none)'}"
            )
            raise ValueError(msg)
    if len(set(names)) != len(names):
        msg = f"argnames {argnames!r} names an argument twice"
        raise ValueError(msg)
    return tuple(names)


def short_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a value whose __repr__ raises must not break collection
        text = f"<{type(value).__name__} object (repr failed: {type(exc).__name__})>"
    return text if len(text) <= 80 else text[:77] + "..."


def _build_cases(
    argnames: tuple[str, ...], argvalues: object, whole: bool
) -> tuple[list[Case], list[Any]]:
    """The cases, and a ParameterSet of each (for pytest's ids). ``whole``: each value is the
    one argname's value, as parametrize takes them for argnames given as a string of one name
    ("x"); otherwise each is a tuple of as many values as argnames (``["x"]`` included)."""
    if isinstance(argvalues, (str, bytes)) or not isinstance(argvalues, Iterable):
        msg = f"the case values must be a list or another iterable, got {short_repr(argvalues)}"
        raise ValueError(msg)
    cases, parametersets = [], []
    for index, value in enumerate(argvalues):
        if isinstance(value, _ParameterSet):
            values, marks = tuple(value.values), tuple(value.marks)
            parameterset = value
        else:
            if whole:
                values = (value,)
            elif isinstance(value, (tuple, list)):
                values = tuple(value)
            else:
                msg = (
                    f"case {index}: {short_repr(value)} is not a tuple of "
                    f"{len(argnames)} values for argnames {', '.join(argnames)}"
                )
                if len(argnames) == 1:  # as parametrize: a list of one argname takes tuples
                    msg += (
                        f" (argnames given as a list: use a one-element tuple like "
                        f"({short_repr(value)},), or argnames {argnames[0]!r} to give each "
                        "value whole)"
                    )
                raise ValueError(msg)
            marks = ()
            # What pytest.param(*values) makes, without its checks: 100,000 cases add up.
            parameterset = _ParameterSet(values, (), None)
        if len(values) != len(argnames):
            msg = (
                f"case {index}: {short_repr(values)} has {len(values)} value(s), "
                f"expected {len(argnames)} for argnames {', '.join(argnames)}"
            )
            raise ValueError(msg)
        case_marks = tuple(m.mark if isinstance(m, pytest.MarkDecorator) else m for m in marks)
        cases.append(Case(index, argnames, values, case_marks))
        parametersets.append(parameterset)
    return cases, parametersets


def _check_ids(ids: object, count: int) -> object:
    if ids is None or callable(ids):
        return ids
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        msg = f"ids must be a list of {count} ids or a callable, got {short_repr(ids)}"
        raise ValueError(msg)
    ids = list(ids)
    if len(ids) != count:
        msg = f"ids has {len(ids)} entries but there are {count} cases: {short_repr(ids)}"
        raise ValueError(msg)
    return ids


def check_timeout(value: object, where: str, what: str = "timeout") -> float | None:
    """A duration in seconds: a positive, finite number, or None for none."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = (
            f"invalid {what} {short_repr(value)} from {where}: "
            "expected a positive number of seconds"
        )
        raise ValueError(msg)
    try:
        seconds = float(value)
    except OverflowError:  # an int beyond float range
        seconds = math.inf
    if not math.isfinite(seconds) or seconds <= 0:
        msg = (
            f"invalid {what} {short_repr(value)} from {where}: "
            "expected a positive, finite number of seconds"
        )
        raise ValueError(msg)
    return seconds


def check_max_concurrency(value: object, where: str) -> int | None:
    """A limit on cases in flight: an int >= 1, or None for no limit."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = (
            f"invalid max_concurrency {short_repr(value)} from {where}: "
            "expected a whole number >= 1"
        )
        raise ValueError(msg)
    return value


def generator_error(func: object, decorator: str) -> str | None:
    """The error for a generator test, or None: calling it only makes a generator, so its body
    would never run (an async one would even pass)."""
    if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
        return f"{decorator} needs an 'async def' or plain 'def' test, not a generator"
    return None


def make_table(
    func: Callable[..., Any], args: tuple[Any, ...], options: dict[str, Any]
) -> CaseTable:
    """Check the decorator's arguments; on misuse the table carries the error instead."""
    table = CaseTable(func)
    try:
        table.is_async = inspect.iscoroutinefunction(func)
        msg = generator_error(func, "@concurrent_cases")
        if msg is not None:
            raise ValueError(msg)
        valid = table.parameters = _case_parameters(func)
        if len(args) == 1:
            if not valid:
                msg = "the function has no parameter to receive the case value"
                raise ValueError(msg)
            table.argnames = (valid[0],)
            table.short_form = True
            argvalues = args[0]
        elif len(args) == 2:
            table.argnames = _parse_argnames(args[0], valid, func)
            argvalues = args[1]
        else:
            msg = (
                f"@concurrent_cases takes the case values, or argnames and argvalues, "
                f"as positional arguments; got {len(args)} positional arguments"
            )
            raise ValueError(msg)
        if "request" in table.argnames:  # pytest's own words for parametrize
            msg = "'request' is a reserved name and cannot be used in @concurrent_cases"
            raise ValueError(msg)
        with gc_paused():
            # As parametrize: only one argname given as a string takes each value whole.
            whole = len(table.argnames) == 1 and (table.short_form or isinstance(args[0], str))
            table.cases, table.parametersets = _build_cases(table.argnames, argvalues, whole)
        table.ids = _check_ids(options["ids"], len(table.cases))
        table.timeout = check_timeout(options["timeout"], "@concurrent_cases(timeout=...)")
        table.max_concurrency = check_max_concurrency(
            options["max_concurrency"], "@concurrent_cases(max_concurrency=...)"
        )
        if not isinstance(options["fail_fast"], bool):
            msg = f"fail_fast must be True or False, got {short_repr(options['fail_fast'])}"
            raise ValueError(msg)
        table.fail_fast = options["fail_fast"]
        shards = options["shards"]
        if shards is not None and (
            isinstance(shards, bool) or not isinstance(shards, int) or shards < 1
        ):
            msg = f"invalid shards {short_repr(shards)}: expected a whole number >= 1"
            raise ValueError(msg)
        table.shards = shards
        # As given, as pytest keeps a parametrize mark's arguments (a generator, spent).
        ids = {} if options["ids"] is None else {"ids": options["ids"]}
        argnames = table.argnames[0] if table.short_form else args[0]
        table.mark = pytest.mark.parametrize(argnames, argvalues, **ids).mark
    except ValueError as exc:
        table.error = str(exc)
    return table


SHARD_ARGUMENT = "asyncgroup_shard"


def parent_signature(func: Callable[..., Any], table: CaseTable) -> inspect.Signature:
    """The signature pytest sees: the function's, minus the case arguments, plus ``request``.

    pytest then collects the parent like any test: other parametrize marks, fixtures with
    params, classes. ``request`` gives the runner its item. With ``shards``, the plugin
    parametrizes the parent over ``asyncgroup_shard``.
    """
    signature = inspect.signature(func)
    # Without cases, pytest parametrizes the parent over the empty parameter set itself (see
    # _plugin.pytest_generate_tests), which needs the case arguments in the signature.
    taken = table.argnames if table.cases else ()
    params = [p for p in signature.parameters.values() if p.name not in taken]
    added = [] if any(p.name == "request" for p in params) else ["request"]
    if table.shards is not None and table.cases:
        added.append(SHARD_ARGUMENT)
    keyword_only = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in added]
    before_var_kw = [p for p in params if p.kind != p.VAR_KEYWORD]
    var_kw = [p for p in params if p.kind == p.VAR_KEYWORD]
    return signature.replace(parameters=[*before_var_kw, *keyword_only, *var_kw])


def make_parent(func: Callable[..., Any], table: CaseTable) -> Callable[..., Any]:
    from asyncgroup._runner import run_parent  # the runner imports pytest plugins; load lazily

    @functools.wraps(func)
    async def parent(*args: Any, request: pytest.FixtureRequest, **kwargs: Any) -> None:
        __tracebackhide__ = True
        await run_parent(table, request, args, kwargs)

    # A signature inspect cannot rebuild only happens with a table error, which says why.
    with contextlib.suppress(ValueError):
        parent.__signature__ = parent_signature(func, table)  # type: ignore[attr-defined]
    setattr(parent, CASES_ATTRIBUTE, table)
    if isinstance(getattr(func, "patchings", None), list):
        # functools.wraps shared the list of func's @mock.patch decorators: a @mock.patch above
        # would append itself to it, applied to each case unseen. A copy keeps it apart, to be
        # refused at collection (_refuse.refuse_patch_above).
        parent.patchings = list(func.patchings)  # type: ignore[attr-defined]
    return parent
