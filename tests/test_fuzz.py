"""Fuzzing ``@concurrent_cases``: whatever it is given, it works or says clearly what is wrong.

Two layers:

- in process, fast: ``concurrent_cases(*args, **kwargs)(test_f)`` with arbitrary arguments never
  raises (but TypeError for a non-function), and the case table it attaches has an error
  exactly when a model of the documented rules says the call is invalid; a valid call's table
  holds the cases, values and options it was given; a single bad argument is named in the
  error;
- end to end, slower: a test file with a generated decorator call, built from source snippets,
  run by pytest in a subprocess: no INTERNALERROR, no internal traceback, exit code 0/1/2/5, a
  collection error ("In test_f: ...") exactly when a snippet is bad, naming it, and otherwise
  one report per case.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
import re
import string
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from asyncgroup import concurrent_cases

PARAMS = ("a", "b")  # test_f's parameters
ParameterSet = type(pytest.param(None))


def make_test_f() -> Any:
    async def test_f(a, b):  # type: ignore[no-untyped-def]
        pass

    return test_f


def table_of(parent: object) -> Any:
    return getattr(parent, "_asyncgroup_cases")  # noqa: B009 - the attribute the plugin reads


class BadRepr:
    """A value whose repr raises."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@dataclass
class Gen:
    """A generator in a generated call: made afresh each time the call is built."""

    items: list[Any]

    def __iter__(self) -> Any:
        return iter(self.items)


def build(value: Any) -> Any:
    return (item for item in value.items) if isinstance(value, Gen) else value


# --------------------------------------------------------------------------------------------
# Strategies: arbitrary arguments

atoms = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**30, -(10**30), 10**4000]),
    st.floats(),
    st.complex_numbers(),
    st.text(max_size=10),
    st.binary(max_size=5),
    st.just("x" * 100_000),
    st.builds(BadRepr),
    st.builds(object),
    st.just(Ellipsis),
)
values = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner),
        st.tuples(inner, inner),
        st.tuples(inner, inner, inner),
        st.dictionaries(st.text(max_size=3), inner, max_size=2),
        st.frozensets(st.integers(), max_size=2),
    ),
    max_leaves=5,
)
marks = st.lists(
    st.sampled_from(
        [
            pytest.mark.skip,
            pytest.mark.skip(reason="r"),
            pytest.mark.xfail,
            pytest.mark.xfail(strict=True, reason="r"),
            pytest.mark.skipif(True, reason="r"),
            pytest.mark.filterwarnings("ignore"),
        ]
    ),
    max_size=2,
)


@st.composite
def params(draw: st.DrawFn, width: int) -> Any:
    vals = draw(st.lists(values, min_size=width, max_size=width))
    return pytest.param(*vals, id=draw(st.none() | st.text(max_size=5)), marks=draw(marks))


def fitting_entries(width: int) -> st.SearchStrategy[Any]:
    """One case that fits ``width`` argnames."""
    if width == 1:
        return st.one_of(values, params(1))
    row = st.lists(values, min_size=width, max_size=width)
    return st.one_of(row.map(tuple), row, params(width))


def any_entries(width: int) -> st.SearchStrategy[Any]:
    """One case, of any shape: a value, a tuple, list or pytest.param of about ``width``."""
    widths = st.sampled_from([0, width - 1, width + 1, width + 2]).filter(lambda w: w >= 0)
    return st.one_of(
        values,
        widths.flatmap(lambda w: st.lists(values, min_size=w, max_size=w).map(tuple)),
        widths.flatmap(lambda w: st.lists(values, min_size=w, max_size=w)),
        widths.flatmap(params),
    )


# Each part of a call comes from a strategy of valid values, or (when the part is "broken")
# from one of arbitrary values, which may still happen to be valid: the model decides.
GOOD_ARGNAMES = st.sampled_from(
    ["a", "b", "a, b", "b, a", "a,b,", " a , b ", "a,,b", ["a", "b"], ("b",), ["a"], ("b", "a")]
)
ANY_ARGNAMES = st.one_of(
    st.text(alphabet="ab z,", max_size=7),
    st.lists(st.text(alphabet="ab z,", max_size=3), max_size=3),
    st.lists(st.text(alphabet="ab z,", max_size=3), max_size=3).map(tuple),
    st.integers(),
    st.none(),
    st.binary(max_size=3),
    st.builds(BadRepr),
    st.lists(st.one_of(st.sampled_from(["a", "b"]), st.integers()), min_size=1, max_size=2),
)
ANY_CONTAINERS = st.one_of(
    st.integers(), st.none(), st.text(max_size=3), st.binary(max_size=3), st.builds(BadRepr)
)
GOOD_CALLABLE_IDS = st.sampled_from(
    [lambda value: "x", lambda value: 5, lambda value: None, lambda value: object(), str]
)
ID_ENTRIES = st.one_of(st.text(max_size=4), st.integers(), st.none(), st.floats(), st.booleans())


def good_ids(count: int) -> st.SearchStrategy[Any]:
    row = st.lists(ID_ENTRIES, min_size=count, max_size=count)
    return st.one_of(st.none(), row, row.map(tuple), row.map(Gen), GOOD_CALLABLE_IDS)


def any_ids(count: int) -> st.SearchStrategy[Any]:
    lengths = st.sampled_from([max(count - 1, 0), count + 1, count + 3])
    rows = lengths.flatmap(lambda n: st.lists(ID_ENTRIES, min_size=n, max_size=n))
    return st.one_of(
        rows,
        rows.map(Gen),
        st.text(max_size=3),
        st.integers(),
        st.binary(max_size=3),
        st.floats(),
        st.builds(BadRepr),
    )


GOOD_OPTIONS = {
    "timeout": st.one_of(
        st.none(),
        st.floats(min_value=1e-300, max_value=1e300),
        st.integers(min_value=1, max_value=10**300),
        st.just(1e-9),
    ),
    "max_concurrency": st.one_of(st.none(), st.integers(min_value=1), st.just(10**12)),
    "fail_fast": st.booleans(),
    "shards": st.one_of(st.none(), st.integers(1, 4)),
}
# Ints beyond float range as a timeout are a known bug: test_timeout_beyond_float_range.
ANY_OPTIONS = {
    "timeout": st.one_of(
        st.floats(),
        st.integers(min_value=-(10**300), max_value=10**300),
        st.booleans(),
        st.text(max_size=4),
        st.sampled_from(["3", 1e-9, 0, -1, True, float("nan"), float("inf"), -float("inf")]),
        st.sampled_from([float("nan"), float("inf"), -0.0, 0.0]),
    ),
    "max_concurrency": st.one_of(
        st.integers(),
        st.floats(),
        st.booleans(),
        st.text(max_size=3),
        st.sampled_from([0, -1, 1.5, True, 10**12, "2"]),
    ),
    "fail_fast": st.one_of(st.none(), st.integers(), st.text(max_size=3), st.floats()),
    "shards": st.one_of(st.integers(-2, 4), st.booleans(), st.floats(), st.text(max_size=2)),
}
PARTS = ("arity", "argnames", "argvalues", "a case", "ids", *GOOD_OPTIONS)


@st.composite
def calls(draw: st.DrawFn) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """(positional args, keyword args) of a concurrent_cases() call, with 0-3 parts broken."""
    size = draw(st.sampled_from([0, 1, 1, 1, 2, 3]))
    broken = draw(st.sets(st.sampled_from(PARTS), min_size=size, max_size=size))
    if "arity" in broken:
        return draw(st.sampled_from([(), ("a", [1], [2]), ("a, b", [], None)])), {}
    one_argument = draw(st.booleans())
    names: Any = None
    if not one_argument:
        names = draw(ANY_ARGNAMES if "argnames" in broken else GOOD_ARGNAMES)
    parsed = parse_names((names, None)) if not one_argument else (PARAMS[0],)
    width = len(parsed) if parsed is not None else draw(st.integers(1, 2))
    cases = draw(st.lists(fitting_entries(width), max_size=3))
    if "a case" in broken:
        cases.insert(draw(st.integers(0, len(cases))), draw(any_entries(width)))
    count = len(cases)
    container: Any = draw(st.sampled_from([cases, tuple(cases), Gen(cases)]))
    if "argvalues" in broken:
        container = draw(ANY_CONTAINERS)
    args = (container,) if one_argument else (names, container)
    kwargs = {}
    if draw(st.booleans()) or "ids" in broken:
        kwargs["ids"] = draw(any_ids(count) if "ids" in broken else good_ids(count))
    for option, good in GOOD_OPTIONS.items():
        if option in broken:
            kwargs[option] = draw(ANY_OPTIONS[option])
        elif draw(st.booleans()):
            kwargs[option] = draw(good)
    return args, kwargs


# --------------------------------------------------------------------------------------------
# The model: the README's rules for a valid call


def is_seconds(value: object) -> bool:
    return value is None or (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def is_count(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


def parse_names(args: tuple[Any, ...]) -> tuple[str, ...] | None:
    """The argnames a call names, or None when they are not valid."""
    if len(args) == 1:
        return (PARAMS[0],)
    raw = args[0]
    if isinstance(raw, str):
        names = [name.strip() for name in raw.split(",") if name.strip()]
    elif isinstance(raw, (list, tuple)) and all(isinstance(name, str) for name in raw):
        names = [name.strip() for name in raw]
    else:
        return None
    if not names or any(n not in PARAMS for n in names) or len(set(names)) < len(names):
        return None
    return tuple(names)


def whole(args: tuple[Any, ...], names: tuple[str, ...]) -> bool:
    """Whether each entry is the one argname's value: as parametrize, only for the values alone
    or one argname given as a string; ``["a"]`` takes tuples of one value."""
    return len(names) == 1 and (len(args) == 1 or isinstance(args[0], str))


def case_values(entry: Any, names: tuple[str, ...], whole: bool) -> tuple[Any, ...] | None:
    """The values of one case, or None when the entry does not fit the argnames."""
    if isinstance(entry, ParameterSet):
        found = tuple(entry.values)
    elif whole:
        found = (entry,)
    elif isinstance(entry, (tuple, list)):
        found = tuple(entry)
    else:
        return None
    return found if len(found) == len(names) else None


def model_problem(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """What is wrong with the call by the documented rules, or None."""
    if len(args) not in (1, 2):
        return "positional arguments"
    names = parse_names(args)
    if names is None:
        return "argnames"
    container = args[-1]
    if isinstance(container, (str, bytes)) or not isinstance(container, Iterable):
        return "argvalues"
    cases = list(container)
    if any(case_values(case, names, whole(args, names)) is None for case in cases):
        return "a case"
    ids = kwargs.get("ids")
    if ids is not None and not callable(ids):
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            return "ids"
        if len(list(ids)) != len(cases):
            return "ids length"
    if not is_seconds(kwargs.get("timeout")):
        return "timeout"
    if not is_count(kwargs.get("max_concurrency")):
        return "max_concurrency"
    if not isinstance(kwargs.get("fail_fast", False), bool):
        return "fail_fast"
    if not is_count(kwargs.get("shards")):
        return "shards"
    return None


# --------------------------------------------------------------------------------------------
# In process

FAST = settings(max_examples=400, deadline=None, database=None)

# The values the README and the issue list name, always tried besides the generated ones.
LISTED = [
    *({"timeout": t} for t in [float("nan"), float("inf"), -1, 0, True, "3", 1e-9]),
    *({"max_concurrency": m} for m in [0, -1, 1.5, True, 10**12, "2"]),
    *({"fail_fast": f} for f in [1, 0, None, "yes", "", 1.0]),
    {"ids": [1, None]},
    {"ids": ["x"]},
    {"ids": Gen(["0", "1"])},
    {"ids": lambda value: object()},
    {"ids": "ab"},
]


def with_listed_examples(test: Any) -> Any:
    for kwargs in LISTED:
        test = example(call=(("a, b", [(1, 2), (3, 4)]), kwargs))(test)
    for args in [
        ("a b", [(1, 2)]),
        ("a,,b", [(1, 2)]),
        ("", [1]),
        (["a", "z"], [(1, 2)]),
        (("a",), [1]),
        (3, [1]),
        (None, [1]),
        ("a, b", [(1, (2, 3, 4))]),
        ("a, b", [(1,)]),
        ("a, b", [{"k": [1]}]),
        ("a, b", [pytest.param(1, 2, id="p", marks=pytest.mark.xfail)]),
        ("a, b", [pytest.param(1, marks=pytest.mark.skip)]),
        ("a", [{}, [], 10**4000, "x" * 100_000, object()]),
        ("a, b", [(object(),)]),
        ("a, b", Gen([(1, 2), [3, 4]])),
    ]:  # (hypothesis shows explicit examples with repr(): no BadRepr here; strategies have it)
        test = example(call=(args, {}))(test)
    return test


@FAST
@with_listed_examples
@given(call=calls())
def test_any_call_returns_a_parent_flagged_exactly_when_invalid(
    call: tuple[tuple[Any, ...], dict[str, Any]],
) -> None:
    """Never raises; the table has an error iff the call breaks a rule, else what it was given."""
    args, kwargs = call
    problem = model_problem(tuple(build(a) for a in args), {k: build(v) for k, v in kwargs.items()})

    parent = concurrent_cases(
        *(build(a) for a in args), **{k: build(v) for k, v in kwargs.items()}
    )(make_test_f())

    assert inspect.iscoroutinefunction(parent)
    assert parent.__name__ == "test_f"
    table = table_of(parent)
    if problem is not None:
        assert isinstance(table.error, str), f"accepted although its {problem} is invalid"
        assert table.error.strip()
        return
    assert table.error is None, table.error
    names = parse_names(args)
    assert names is not None
    assert table.argnames == names
    cases = list(build(args[-1]))
    assert len(table.cases) == len(cases)
    for case, entry in zip(table.cases, cases, strict=True):
        expected_values = case_values(entry, names, whole(args, names))
        assert expected_values is not None
        assert list(case.values) == list(names)
        assert all(case.values[n] is v for n, v in zip(names, expected_values, strict=True))
        entry_marks = entry.marks if isinstance(entry, ParameterSet) else ()
        assert [m.name for m in case.marks] == [m.name for m in entry_marks]
    timeout = kwargs.get("timeout")
    assert table.timeout == (None if timeout is None else float(timeout))
    assert table.max_concurrency == kwargs.get("max_concurrency")
    assert table.fail_fast is kwargs.get("fail_fast", False)
    assert table.shards == kwargs.get("shards")
    # What pytest sees: the parameters that are not case arguments, plus request. Without
    # cases, pytest parametrizes the case arguments over the empty parameter set itself.
    shown = set(inspect.signature(parent).parameters)
    if not cases:
        assert shown == set(PARAMS) | {"request"}
        return
    shard = {"asyncgroup_shard"} if kwargs.get("shards") is not None else set()
    assert shown == (set(PARAMS) - set(names)) | {"request"} | shard


class _Plain:
    pass


class _CallableObject:
    def __call__(self, a: object) -> None:
        pass


def _repr_works(value: object) -> bool:
    try:
        repr(value)
    except Exception:
        return False
    return True


NON_FUNCTIONS = st.one_of(
    values.filter(_repr_works),
    st.sampled_from(
        [int, len, print, functools.partial(print), _Plain, _Plain(), _CallableObject(), BadRepr]
    ),
)


@FAST
@given(obj=NON_FUNCTIONS)
def test_decorating_anything_but_a_function_is_a_type_error(obj: object) -> None:
    """A non-function is a TypeError at import, naming what was decorated (objects whose repr
    raises: see test_decorating_an_object_whose_repr_raises)."""
    expected = (
        "@concurrent_cases decorates a test function ('async def' or plain 'def'), "
        f"not {type(obj).__name__} "
    )
    with pytest.raises(TypeError, match=re.escape(expected)):
        concurrent_cases([1])(obj)  # type: ignore[arg-type]


def _named(value: object) -> str:
    return repr(value)[:40]


@st.composite
def single_bad_argument(draw: st.DrawFn) -> tuple[tuple[Any, ...], dict[str, Any], list[str]]:
    """A valid call with one argument made invalid; the fragments its error must contain."""
    args: tuple[Any, ...] = ("a, b", [(1, 2), (3, 4)])
    what = draw(
        st.sampled_from(
            ["timeout", "max_concurrency", "fail_fast", "shards", "ids", "ids type", "name", "case"]
        )
    )
    if what == "timeout":
        bad = draw(
            st.one_of(
                st.floats().filter(lambda f: not (math.isfinite(f) and f > 0)),
                st.sampled_from([float("nan"), float("inf"), -float("inf"), 0.0, -0.0]),
                st.integers(min_value=-(10**300), max_value=0),
                st.booleans(),
                st.text(max_size=10),
                st.binary(max_size=4),
                st.lists(st.integers(), max_size=2),
            )
        )
        return args, {"timeout": bad}, ["invalid timeout", _named(bad)]
    if what in ("max_concurrency", "shards"):
        bad = draw(
            st.one_of(
                st.integers(max_value=0),
                st.floats(),
                st.booleans(),
                st.text(max_size=5),
                st.just([2]),
            )
        )
        return args, {what: bad}, [f"invalid {what}", _named(bad)]
    if what == "fail_fast":
        bad = draw(st.one_of(st.integers(), st.none(), st.text(max_size=5), st.floats()))
        return args, {"fail_fast": bad}, ["fail_fast must be True or False", _named(bad)]
    if what == "ids":
        bad = draw(st.lists(st.text(max_size=3), max_size=5).filter(lambda ids: len(ids) != 2))
        return args, {"ids": bad}, [f"ids has {len(bad)} entries", "2 cases", _named(bad)]
    if what == "ids type":
        bad = draw(st.one_of(st.text(max_size=5), st.integers(), st.binary(max_size=3)))
        return args, {"ids": bad}, ["ids must be a list of 2 ids or a callable", _named(bad)]
    if what == "name":
        name = draw(
            st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=12).filter(
                lambda n: n not in PARAMS
            )
        )
        return (f"a, {name}", [(1, 2)]), {}, [f"argname {name!r} is not a parameter", "a, b"]
    cases: list[Any] = [(1, 2)] * draw(st.integers(0, 3))
    index = draw(st.integers(0, len(cases)))
    bad_case = draw(st.sampled_from([(7,), (7, 8, 9), ()]))
    cases.insert(index, bad_case)
    return ("a, b", cases), {}, [f"case {index}: {bad_case!r}", "expected 2"]


@FAST
@given(call=single_bad_argument())
def test_a_single_bad_argument_is_named_in_the_error(
    call: tuple[tuple[Any, ...], dict[str, Any], list[str]],
) -> None:
    """The error names the argument and shows the bad value."""
    args, kwargs, fragments = call
    error = table_of(concurrent_cases(*args, **kwargs)(make_test_f())).error
    assert error is not None
    for fragment in fragments:
        assert fragment in error


# Found by the properties above (whose strategies leave these inputs out), now fixed.


@pytest.mark.parametrize("timeout", [10**400, -(10**400)], ids=["huge", "huge-negative"])
def test_timeout_beyond_float_range_is_a_clear_error(timeout: int) -> None:
    error = table_of(concurrent_cases([1], timeout=timeout)(make_test_f())).error
    assert error is not None
    assert "invalid timeout" in error


def test_decorating_an_object_whose_repr_raises_is_a_type_error() -> None:
    with pytest.raises(
        TypeError, match=r"decorates a test function \('async def' or plain 'def'\), not BadRepr"
    ):
        concurrent_cases([1])(BadRepr())  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# End to end


@dataclass(frozen=True)
class Snippet:
    """Source code for one argument, and (when it is bad) what the error must say of it."""

    source: str
    bad: str | None = None


# (source of the argnames argument, or None for the one-argument form; the names it gives)
GOOD_ARGNAMES_SOURCES = [
    (None, ("a",)),
    ('"a, b"', ("a", "b")),
    ('["b", "a"]', ("b", "a")),
    ('("a",)', ("a",)),
    ('" b "', ("b",)),
    ('"a,b,"', ("a", "b")),
]
BAD_ARGNAMES_SOURCES = [
    Snippet('"a, z"', "argname 'z' is not a parameter of the function; its parameters are: a, b"),
    Snippet('"a b"', "argname 'a b' is not a parameter"),
    Snippet('""', "argnames '' names no argument"),
    Snippet('" , "', "argnames ' , ' names no argument"),
    Snippet('"a, a"', "argnames 'a, a' names an argument twice"),
    Snippet("5", "argnames must be a string like 'x, y' or a list of strings, got 5"),
    Snippet("None", "argnames must be a string like 'x, y' or a list of strings, got None"),
    Snippet('["a", 1]', "argnames must be a string like 'x, y' or a list of strings, got ['a', 1]"),
    Snippet("[]", "argnames [] names no argument"),
    Snippet('["a,b"]', "argname 'a,b' is not a parameter"),
]
# (source of a value, its length when it is a list or tuple)
VALUES = [
    ("1", None),
    ("None", None),
    ("{}", None),
    ("{'k': [1]}", None),
    ("[1, [2]]", 2),
    ("(1, (2, 3))", 2),
    ("10**30", None),
    ("-(10**30)", None),
    ("'x' * 10000", None),
    ("BadRepr()", None),
    ("float('nan')", None),
    ("b'\\x00'", None),
    ("object()", None),
    ("'\\u00e9\\n'", None),
]
PARAM_EXTRAS = [
    "",
    "id='p{index}'",
    "marks=pytest.mark.skip",
    "marks=pytest.mark.xfail",
    "marks=pytest.mark.xfail(strict=True)",
    "marks=[pytest.mark.skipif(True, reason='r'), pytest.mark.fuzzmark]",
    "id='p{index}', marks=pytest.mark.skip(reason='r')",
]
GOOD_CONTAINERS = ["[{body}]", "({body}{comma})", "iter([{body}])", "(case for case in [{body}])"]
BAD_CONTAINERS = [
    Snippet("5", "the case values must be a list or another iterable, got 5"),
    Snippet("None", "the case values must be a list or another iterable, got None"),
    Snippet("'abc'", "the case values must be a list or another iterable, got 'abc'"),
]
OPTIONS = {
    "timeout": (
        ["1", "0.5", "1e-9", "10**20"],
        [
            Snippet("float('nan')", "invalid timeout nan from @concurrent_cases(timeout=...)"),
            Snippet("float('inf')", "invalid timeout inf"),
            Snippet("-1", "invalid timeout -1"),
            Snippet("0", "invalid timeout 0"),
            Snippet("True", "invalid timeout True"),
            Snippet('"3"', "invalid timeout '3'"),
        ],
    ),
    "max_concurrency": (
        ["1", "2", "10**12"],
        [
            Snippet("0", "invalid max_concurrency 0 from @concurrent_cases(max_concurrency=...)"),
            Snippet("-1", "invalid max_concurrency -1"),
            Snippet("1.5", "invalid max_concurrency 1.5"),
            Snippet("True", "invalid max_concurrency True"),
            Snippet('"2"', "invalid max_concurrency '2'"),
        ],
    ),
    "fail_fast": (
        ["True", "False"],
        [
            Snippet("1", "fail_fast must be True or False, got 1"),
            Snippet("None", "fail_fast must be True or False, got None"),
            Snippet('"yes"', "fail_fast must be True or False, got 'yes'"),
        ],
    ),
}


def good_id_sources(count: int) -> list[str]:
    names = ", ".join(f"'id{i}'" for i in range(count))
    return [
        f"[{names}]",
        f"[{', '.join(str(i * 10) for i in range(count))}]",
        f"[None] * {count}",
        f"['same'] * {count}",
        f"iter([{names}])",
        f"(str(i) for i in range({count}))",
        "lambda value: 5",
        "lambda value: None",
        "lambda value: object()",
    ]


def bad_id_sources(count: int) -> list[Snippet]:
    snippets = [
        Snippet(f"['x'] * {count + 1}", f"ids has {count + 1} entries but there are {count} cases"),
        Snippet("'x'", f"ids must be a list of {count} ids or a callable, got 'x'"),
    ]
    if count:  # pytest's own id maker rejects it, with its own message
        snippets.append(Snippet(f"[object()] * {count}", "ids contains unsupported value"))
    return snippets


@st.composite
def case_source(draw: st.DrawFn, width: int, index: int, fits: bool, whole: bool = True) -> Snippet:
    """One case's source for ``width`` argnames: a value, a tuple or a pytest.param that fits
    them, or (``fits`` False) one that does not. ``whole``: one argname that takes each value
    whole (given as a string, or the one-argument form); given in a list or tuple, it takes
    tuples of one value, as parametrize does."""
    wrong = f"case {index}: "
    one_whole = width == 1 and whole
    if fits:
        kinds = ["value", "tuple", "param"] if one_whole else ["tuple", "param"]
        size = width
    else:
        kinds = ["param"] if one_whole else ["value", "tuple", "param"]
        size = draw(st.sampled_from([width - 1, width + 1]).filter(lambda n: n >= 0))
    kind = draw(st.sampled_from(kinds))
    chosen = draw(st.lists(st.sampled_from(VALUES), min_size=max(size, 1), max_size=max(size, 1)))
    if kind == "value":
        source, length = chosen[0]
        if width > 1 and length == width:  # a list or tuple literal that happens to fit
            source = "None"
        return Snippet(source, None if fits else wrong)
    sources = [source for source, _ in chosen[:size]]
    if kind == "tuple":
        source = "(" + ", ".join(sources) + ("," if size == 1 else "") + ")"
        return Snippet(source, None if fits else wrong)
    extra = draw(st.sampled_from(PARAM_EXTRAS)).format(index=index)
    source = "pytest.param(" + ", ".join([*sources, extra] if extra else sources) + ")"
    return Snippet(source, None if fits else wrong)


@dataclass(frozen=True)
class Declaration:
    source: str  # the arguments of @concurrent_cases(...)
    bad: list[str]  # what the error must say of each bad argument
    count: int  # cases
    may_fail: bool  # a case may fail: a tiny timeout, or a strict xfail that passes


E2E_PARTS = ("argnames", "argvalues", "a case", "ids", *OPTIONS)


@st.composite
def declarations(draw: st.DrawFn) -> Declaration:
    """An @concurrent_cases(...) argument list with no bad argument (about a third of them),
    one (about half) or two."""
    size = draw(st.sampled_from([0, 0, 1, 1, 1, 2]))
    broken = draw(st.sets(st.sampled_from(E2E_PARTS), min_size=size, max_size=size))
    bad = []
    if "argnames" in broken:
        names_source: str | None = draw(st.sampled_from(BAD_ARGNAMES_SOURCES)).source
        bad_names = next(s for s in BAD_ARGNAMES_SOURCES if s.source == names_source)
        bad.append(bad_names.bad)
        width = 2
    else:
        names_source, names = draw(st.sampled_from(GOOD_ARGNAMES_SOURCES))
        width = len(names)
    # As parametrize: one argname takes each value whole unless given in a list or tuple.
    whole = names_source is None or names_source.lstrip().startswith('"')
    count = draw(st.integers(1 if "a case" in broken else 0, 3))
    wrong_case = draw(st.integers(0, count - 1)) if "a case" in broken else None
    cases = [draw(case_source(width, i, fits=i != wrong_case, whole=whole)) for i in range(count)]
    bad += [case.bad for case in cases if case.bad is not None]
    body = ", ".join(case.source for case in cases)
    if "argvalues" in broken:
        container = draw(st.sampled_from(BAD_CONTAINERS))
        bad.append(container.bad)
        container_source = container.source
    else:
        template = draw(st.sampled_from(GOOD_CONTAINERS))
        container_source = template.format(body=body, comma="," if count else "")
    parts = [container_source] if names_source is None else [names_source, container_source]
    if "ids" in broken:
        ids = draw(st.sampled_from(bad_id_sources(count)))
        bad.append(ids.bad)
        parts.append(f"ids={ids.source}")
    elif draw(st.booleans()):
        parts.append(f"ids={draw(st.sampled_from(good_id_sources(count)))}")
    for option, (good, bad_snippets) in OPTIONS.items():
        if option in broken:
            snippet = draw(st.sampled_from(bad_snippets))
            bad.append(snippet.bad)
            parts.append(f"{option}={snippet.source}")
        elif draw(st.booleans()):
            parts.append(f"{option}={draw(st.sampled_from(good))}")
    may_fail = "timeout=1e-9" in parts or "strict=True" in body
    return Declaration(", ".join(parts), [b for b in bad if b is not None], count, may_fail)


E2E_FILE = """
import asyncio

import pytest
from asyncgroup import concurrent_cases


class BadRepr:
    def __repr__(self):
        raise RuntimeError("no repr")


@pytest.fixture
def a():
    return "fixture a"


@pytest.fixture
def b():
    return "fixture b"


@concurrent_cases({declaration})
async def test_f(a, b):
    await asyncio.sleep(0)
"""

_COLLECTION_MESSAGE = re.compile(r"^In (?:\S+::)?test_f: (.*)$")
_example_numbers = itertools.count()


def _junit_names(path: Path) -> list[str]:
    return [tc.get("name", "") for tc in ET.parse(path).getroot().iter("testcase")]


def _junit_failures(path: Path) -> list[tuple[str, str]]:
    found = []
    for testcase in ET.parse(path).getroot().iter("testcase"):
        for child in testcase:
            if child.tag in ("failure", "error"):
                found.append((testcase.get("name", ""), child.get("message", "")))
    return found


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# One argname in a list or tuple takes tuples of one value, as parametrize (a bare one is bad).
@example(declaration=Declaration('("a",), [1]', ["case 0: "], 1, False))
@example(declaration=Declaration('["a"], [(1,), pytest.param(2)]', [], 2, False))
@given(declaration=declarations())
def test_any_declaration_runs_or_is_a_clear_collection_error(
    pytester: pytest.Pytester, declaration: Declaration
) -> None:
    """A generated @concurrent_cases(...) in a real run: it works, or it is one collection error
    "In test_f: ..." naming the bad argument; never an INTERNALERROR or internal traceback."""
    directory = pytester.mkdir(f"ex{next(_example_numbers)}")
    test_file = directory / "test_mod.py"
    test_file.write_text(E2E_FILE.format(declaration=declaration.source))
    junit = directory / "junit.xml"
    # In process: a fresh interpreter per example cost about 1 s of the ~0.1 s an example needs
    # (27 s for the test); the run is the same pytest run, its output the same.
    result = pytester.runpytest_inprocess(
        str(test_file), "-v", "-p", "no:cacheprovider", f"--junitxml={junit}"
    )
    output = "\n".join(result.outlines + result.errlines)
    context = f"@concurrent_cases({declaration.source})\n\n{output}"
    assert "INTERNALERROR" not in output, context
    assert "Traceback (most recent call last)" not in output, context
    assert "asyncgroup/_" not in output, context
    assert result.ret in (0, 1, 2, 5), context
    messages = [m.group(1) for line in result.outlines if (m := _COLLECTION_MESSAGE.match(line))]
    if declaration.bad:
        # One collection error, naming the bad argument (one of them, when there are two).
        assert result.ret == pytest.ExitCode.INTERRUPTED, context
        assert len(messages) == 1, context
        assert any(fragment in messages[0] for fragment in declaration.bad), context
        assert "ERROR collecting" in output, context
        return
    assert not messages, context
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), context
    names = _junit_names(junit)
    case_names = {name for name in names if name.startswith("test_f[")}
    if declaration.count == 0:  # pytest's own test of the empty parameter set
        assert case_names == {"test_f[NOTSET]"}, context
    elif (
        declaration.may_fail
        and "fail_fast=True" in declaration.source
        and "max_concurrency" in declaration.source
    ):
        # fail_fast starts no case after the first failure: like tests after -x, those have no
        # report (hypothesis found this with a strict xfail that passed first).
        assert len(case_names) <= declaration.count, context
    else:
        assert len(case_names) == declaration.count, context  # one report per case, ids unique
    if declaration.count == 0:
        # (the -v line cuts the reason short, as far as the example's path is long)
        assert "got empty parameter set for (" in junit.read_text(), context
    if not declaration.may_fail:
        assert result.ret == pytest.ExitCode.OK, context
    for name, message in _junit_failures(junit):
        explained = "CaseTimeoutError" in message or "XPASS(strict)" in message
        assert name == "test_f" or explained, context


# pytest's own id errors: the same as with @pytest.mark.parametrize.

PARITY_FILE = """
import pytest
from asyncgroup import concurrent_cases

@{decorator}({arguments})
{define} test_f(a, b):
    pass
"""


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param('"a, b", [(1, 2)], ids=lambda value: 1 / 0', id="ids-function-raises"),
        pytest.param('"a, b", [(10**5000, 2)]', id="value-too-large-for-an-id"),
        pytest.param('"a, b", [(1, 2)], ids=[object()]', id="ids-unsupported-type"),
    ],
)
def test_id_errors_are_the_same_as_with_parametrize(
    pytester: pytest.Pytester, arguments: str
) -> None:
    """Ids are made by pytest's own id maker: its errors read as they do for parametrize, and
    are collection errors, never INTERNALERRORs."""
    pytester.makepyfile(
        test_asyncgroup=PARITY_FILE.format(
            decorator="concurrent_cases", arguments=arguments, define="async def"
        ),
        test_parametrize=PARITY_FILE.format(
            decorator="pytest.mark.parametrize", arguments=arguments, define="def"
        ),
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    output = "\n".join(result.outlines)
    assert "INTERNALERROR" not in output
    assert result.ret == pytest.ExitCode.INTERRUPTED
    sections = re.split(r"_+ ERROR collecting (test_\w+)\.py _+", output)
    errors = {}
    for name, text in zip(sections[1::2], sections[2::2], strict=True):
        body = text.split("=" * 10)[0].strip().splitlines()
        last = next(line for line in reversed(body) if line.strip())
        errors[name] = re.sub(r"0x[0-9a-f]+|test_(asyncgroup|parametrize)", "*", last)
    assert set(errors) == {"test_asyncgroup", "test_parametrize"}, output
    assert errors["test_asyncgroup"] == errors["test_parametrize"], output
