"""Declaring groups: ``@concurrent_group`` records which tests run together, and with what options.

Like ``@concurrent_cases``, the decorator does not raise for bad options: it records the problem,
and collection reports it as an error naming the test (see ``_grouping``). It raises TypeError
only when it is given something that is neither a function nor a class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncgroup._declare import CASES_ATTRIBUTE, check_max_concurrency, check_timeout, short_repr

GROUP_ATTRIBUTE = "_asyncgroup_group"


@dataclass(frozen=True)
class GroupSpec:
    """What one ``@concurrent_group(...)`` said. ``None`` options were not given there."""

    name: str | None  # None: the class form, one group of all the class's tests
    timeout: float | None = None
    max_concurrency: int | None = None
    fail_fast: bool | None = None
    error: str | None = None

    def options(self) -> dict[str, Any]:
        """The options this declaration gives, by name."""
        values = {
            "timeout": self.timeout,
            "max_concurrency": self.max_concurrency,
            "fail_fast": self.fail_fast,
        }
        return {key: value for key, value in values.items() if value is not None}

    def describe(self) -> str:
        """The declaration as written: ``@concurrent_group('g', timeout=5.0)``."""
        given = [] if self.name is None else [repr(self.name)]
        given += [f"{key}={value!r}" for key, value in self.options().items()]
        return f"@concurrent_group({', '.join(given)})" if given else "@concurrent_group"


def _check(name: object, options: dict[str, Any], unknown: dict[str, Any]) -> GroupSpec:
    try:
        if name is not None and (not isinstance(name, str) or not name.strip()):
            msg = (
                f"the group name must be a non-empty string like @concurrent_group('inventory'), "
                f"got {short_repr(name)}"
            )
            raise ValueError(msg)
        if name is not None:
            _check_name(name)
        fail_fast = options["fail_fast"]
        if fail_fast is not None and not isinstance(fail_fast, bool):
            msg = f"fail_fast must be True or False, got {short_repr(fail_fast)}"
            raise ValueError(msg)
        if unknown:
            # As @concurrent_cases reports its own (a raw TypeError would name no test).
            msg = (
                f"@concurrent_group got unknown keyword argument(s) {', '.join(sorted(unknown))}; "
                f"it takes the group name (first, not as a keyword), timeout, max_concurrency "
                f"and fail_fast"
            )
            raise ValueError(msg)
        return GroupSpec(
            name,
            check_timeout(options["timeout"], "@concurrent_group(timeout=...)"),
            check_max_concurrency(
                options["max_concurrency"], "@concurrent_group(max_concurrency=...)"
            ),
            fail_fast,
        )
    except ValueError as exc:
        return GroupSpec(None, error=str(exc))


def _check_name(name: str) -> None:
    # The name is part of the parent's node id, concurrent_group[name], which pytest prints in
    # FAILED lines and reports: it must read back as one node id.
    bad = [repr(part) for part in ("::", "[", "]") if part in name]
    if name != name.strip() or not name.isprintable():
        bad.append("leading or trailing whitespace, or a line break or other control character")
    if bad:
        msg = (
            f"the group name {name!r} cannot be part of a node id (concurrent_group[name]): it "
            f"contains {', '.join(bad)}; use letters, "
            f"digits, spaces and punctuation other than '::', '[' and ']', like 'inventory'"
        )
        raise ValueError(msg)


def is_test_function(obj: object) -> bool:
    return callable(obj) and (hasattr(obj, "__code__") or hasattr(obj, CASES_ATTRIBUTE))


def declare(args: tuple[Any, ...], options: dict[str, Any], unknown: dict[str, Any]) -> Any:
    """The decorator's work; ``args`` are its positional arguments, ``unknown`` the keyword
    arguments it does not take."""
    if len(args) == 1 and isinstance(args[0], type):  # @concurrent_group on a class
        return _apply(args[0], _check(None, options, unknown))
    if len(args) == 1 and is_test_function(args[0]):  # bare @concurrent_group on a function
        spec = GroupSpec(
            None,
            error=(
                "@concurrent_group on a function needs a group name shared by the tests that run "
                "together: @concurrent_group('name')"
            ),
        )
        return _apply(args[0], spec)
    if len(args) > 1:
        spec = GroupSpec(
            None,
            error=(
                f"@concurrent_group takes one positional argument, the group name; "
                f"got {len(args)}: {short_repr(args)}"
            ),
        )
    else:
        spec = _check(args[0] if args else None, options, unknown)

    def decorate(obj: Any) -> Any:
        return _apply(obj, spec)

    return decorate


def _apply(obj: Any, spec: GroupSpec) -> Any:
    __tracebackhide__ = True
    if isinstance(obj, type) or is_test_function(obj):
        if spec.name is None and spec.error is None and not isinstance(obj, type):
            spec = GroupSpec(
                None,
                error=(
                    "@concurrent_group without a name groups the tests of a class; on a "
                    "function give the group name: @concurrent_group('name', ...)"
                ),
            )
        inner = spec_of(obj)
        if inner is not None and spec.error is None:
            # A test runs in one group: a second declaration is a mistake (a copy-paste, a
            # merge), not something to pick from silently.
            spec = GroupSpec(
                None,
                error=(
                    f"two @concurrent_group decorators: {spec.describe()} and "
                    f"{inner.describe()}; a test runs in one group with one set of options: "
                    f"keep one"
                ),
            )
        setattr(obj, GROUP_ATTRIBUTE, spec)
        return obj
    msg = (
        f"@concurrent_group decorates a test function or a test class, "
        f"not {type(obj).__name__} {short_repr(obj)}"
    )
    raise TypeError(msg)


def spec_of(obj: object, own: bool = True) -> GroupSpec | None:
    """The group declared on ``obj``; ``own``: on the object itself, not inherited."""
    if own and isinstance(obj, type):
        spec = vars(obj).get(GROUP_ATTRIBUTE)
    else:
        spec = getattr(obj, GROUP_ATTRIBUTE, None)
    return spec if isinstance(spec, GroupSpec) else None
