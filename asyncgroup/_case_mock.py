"""unittest.mock's patchers in overlapping cases: a target another running case patched is refused.

``mock.patch`` (decorator, ``with``, ``start()``/``stop()``; ``patch.object``,
``patch.multiple``) and ``patch.dict`` change the whole process, and each puts back what it
found when it is undone. Overlapping cases that patch the same target would see each other's
patch, and the first to end would undo the other's (or put its own back over it). Unlike
monkeypatch's patches (see _builtins.Claims), two of these cannot share a target even with the
same value, since each undoes on its own: while a parent runs, a patch made in a case of a
target (object and attribute, or a whole dict) that another running case holds patched is
refused, with an error naming both cases, the target and the remedies. So is a patch of a
target another running case holds with monkeypatch, and the reverse (monkeypatch asks
``mock_holder``): an attribute, a dict (mock) beside one of its items (monkeypatch), os.environ
(mock) beside an environment variable (monkeypatch); each would put back what the other left
there, for every later test. Patches made outside cases (module level, a session fixture, the
parent) are not looked at; a case that ended with its patch still in place (never stopped)
holds nothing.

pytest-mock's ``mocker`` makes its patches with these patchers (``start()``, then ``stop()`` at
its teardown), so it is covered too, unless ``mock_use_standalone_module`` makes it use the
``mock`` package, whose patchers are not wrapped.

The patchers are wrapped only while a parent runs, and only if unittest.mock is imported by
then (a test module that patches imports it as it is collected): asyncgroup does not import it
itself, which would add to every run's start-up. A case that first imports it in its body is
not looked at.
"""

from __future__ import annotations

import os
import pkgutil
import reprlib
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from asyncgroup._capture import CaseOutput, running_output

if TYPE_CHECKING:
    from asyncgroup._builtins import Claims


# unittest.mock has no hook for patching and no public name for the class that mock.patch,
# patch.object and patch.multiple return: its private mock._patch is wrapped at __enter__ and
# __exit__, which start()/stop(), the decorator, the with statement and patch.multiple's
# further attributes all go through. patch.dict's class is public (mock.patch.dict): its
# _patch_dict and _unpatch_dict are wrapped, which its decorator calls directly and
# __enter__/__exit__ (so start()/stop()) call. Checked on CPython 3.10.13, 3.11.7, 3.12.1, 3.13.0.
class _Wrapped:
    """The patcher classes of the unittest.mock module, and their methods as they were."""

    def __init__(self, mock: Any) -> None:
        self.patch, self.patch_dict = mock._patch, mock.patch.dict
        self.enter, self.exit = self.patch.__enter__, self.patch.__exit__
        self.patch_dict_method = self.patch_dict._patch_dict
        self.unpatch_dict = self.patch_dict._unpatch_dict

    def install(self) -> None:
        self.patch.__enter__, self.patch.__exit__ = _enter, _exit
        self.patch_dict._patch_dict, self.patch_dict._unpatch_dict = _patch_dict, _unpatch_dict

    def uninstall(self) -> None:
        self.patch.__enter__, self.patch.__exit__ = self.enter, self.exit
        self.patch_dict._patch_dict = self.patch_dict_method
        self.patch_dict._unpatch_dict = self.unpatch_dict


# Made when a parent first runs with unittest.mock imported; kept, so that a patcher still
# inside a wrapped method (a thread of a case) when the parent ends finds the originals.
_wrapped: _Wrapped | None = None


_REMEDY = (
    "pass the fake in as a fixture, use monkeypatch (cases may patch a target alike), "
    "or max_concurrency=1"
)
_MIXED_REMEDY = (
    "patch it the same way in both (monkeypatch lets cases patch a target alike), pass the "
    "fake in as a fixture, or max_concurrency=1"
)
_short = reprlib.Repr()
_short.maxother = 60  # os.environ's repr is the whole environment


def mixed(holder: str, holder_doing: str, case: str, doing: str) -> str:
    """The error for two running cases patching one target, one with mock, one with monkeypatch."""
    return (
        f"asyncgroup: cases {holder!r} and {case!r} patch one target while they run at the "
        f"same time, {holder!r} with {holder_doing}, {case!r} with {doing}; a patch is "
        "process-wide, so each would see the other's, and the first to end would undo it for "
        f"both, or put its fake back for every later test: {_MIXED_REMEDY}"
    )


def _covers(key: tuple[object, ...], monkeypatch_key: tuple[object, ...]) -> bool:
    """Whether a mock patch of ``key`` patches what monkeypatch keys as ``monkeypatch_key``
    (see _builtins.CaseMonkeyPatch): ("attr", id(target), name, dotted name or None) covers
    ("attr", id(target), name) and ("attr", dotted name); ("dict", id(dict)) covers
    ("item", id(dict), any key) and, for os.environ, ("env", any name)."""
    if key[0] == "attr":
        return monkeypatch_key == key[:3] or (
            key[3] is not None and monkeypatch_key == ("attr", key[3])
        )
    return monkeypatch_key[:2] == ("item", key[1]) or (
        key[1] == id(os.environ) and monkeypatch_key[0] == "env"
    )


# One lock for both refusals (mock's, here, and monkeypatch's, _builtins.Claims): a patch's
# check of what other running cases hold and its own registration are one step under it, or
# two plain def cases (threads) patching one target at the same instant, one with mock and one
# with monkeypatch, could both get through. Held for the check, not while a case runs.
# Reentrant: monkeypatch checks mock's holders with it held, and lets go of a target under it.
patch_lock = threading.RLock()


def mock_holder(monkeypatch_key: tuple[object, ...], case_name: str) -> tuple[str, str] | None:
    """Another running case holding a mock patch of what monkeypatch keys as
    ``monkeypatch_key``: (its name, "mock.patch <target>"); None if none."""
    with patch_lock:
        for key, (holder, _count, what) in _holds.held.items():
            name = str(holder.case_id)
            if not holder.ended and name != case_name and _covers(key, monkeypatch_key):
                return name, f"mock.patch {what}"
    return None


class _Holds:
    """The targets running cases hold patched: key -> (the case's output, how many patches,
    the target as the error names it)."""

    def __init__(self) -> None:
        self.held: dict[tuple[object, ...], tuple[CaseOutput, int, str]] = {}

    def take(self, key: tuple[object, ...], what: str, output: CaseOutput) -> None:
        __tracebackhide__ = True
        with patch_lock:  # plain def cases patch from threads
            name = str(output.case_id)
            # The same target, patched by another running case with monkeypatch?
            other = _claims.holder(lambda mp_key: _covers(key, mp_key), name) if _claims else None
            if other is not None:
                pytest.fail(mixed(other[0], other[1], name, f"mock.patch {what}"))
            holder, count, _ = self.held.get(key, (output, 0, what))
            if holder is not output:
                if not holder.ended:
                    msg = (
                        f"asyncgroup: cases {holder.case_id!r} and {output.case_id!r} both "
                        f"mock.patch {what} while they run at the same time; a patch is "
                        "process-wide, so each would see the other's, and the first to end "
                        f"would undo it for both: {_REMEDY}"
                    )
                    pytest.fail(msg)
                holder, count = output, 0  # a case that ended left it patched: not held
            self.held[key] = (holder, count + 1, what)

    def release(self, key: tuple[object, ...], output: CaseOutput) -> None:
        with patch_lock:
            holder, count, what = self.held.get(key, (None, 0, ""))
            if holder is not output:
                return
            if count > 1:
                self.held[key] = (output, count - 1, what)
            else:
                del self.held[key]


_holds = _Holds()


def _named(target: object) -> str:
    if target is os.environ:
        return "os.environ"
    if isinstance(target, types.ModuleType):
        return target.__name__
    if isinstance(target, type):
        return f"{target.__module__}.{target.__qualname__}"
    return _short.repr(target)


def _held(patcher: Any, key: tuple[object, ...], what: str, output: CaseOutput, patch: Any) -> Any:
    """``patch(patcher)``, the case holding ``key`` while it is patched (refused if another
    running case holds it)."""
    __tracebackhide__ = True
    _holds.take(key, what, output)
    patcher._asyncgroup_hold = (key, output)
    try:
        return patch(patcher)
    except BaseException:  # nothing patched (mock's own error): nothing held
        _let_go(patcher)
        raise


def _let_go(patcher: Any) -> None:
    held = patcher.__dict__.pop("_asyncgroup_hold", None)
    if held is not None:
        _holds.release(*held)


def _enter(self: Any) -> Any:
    __tracebackhide__ = True
    assert _wrapped is not None
    output = running_output()
    if output is None:
        return _wrapped.enter(self)
    try:
        target = self.getter()
    except Exception:  # mock's own error, from its own __enter__
        return _wrapped.enter(self)
    what = f"{self.attribute!r} of {_named(target)}"
    # As monkeypatch.setattr("package.module.attr", ...) names it (for a module's attribute).
    dotted = f"{target.__name__}.{self.attribute}" if isinstance(target, types.ModuleType) else None
    key = ("attr", id(target), self.attribute, dotted)
    return _held(self, key, what, output, _wrapped.enter)


def _exit(self: Any, *exc_info: Any) -> Any:
    assert _wrapped is not None
    try:
        return _wrapped.exit(self, *exc_info)
    finally:
        _let_go(self)


def _patch_dict(self: Any) -> Any:
    __tracebackhide__ = True
    assert _wrapped is not None
    output = running_output()
    if output is None:
        return _wrapped.patch_dict_method(self)
    in_dict = self.in_dict
    try:
        target = pkgutil.resolve_name(in_dict) if isinstance(in_dict, str) else in_dict
    except Exception:  # mock's own error, from its own lookup
        return _wrapped.patch_dict_method(self)
    name = in_dict if isinstance(in_dict, str) else _named(target)
    return _held(self, ("dict", id(target)), f"dict {name}", output, _wrapped.patch_dict_method)


def _unpatch_dict(self: Any) -> Any:
    assert _wrapped is not None
    try:
        return _wrapped.unpatch_dict(self)
    finally:
        _let_go(self)


_depth = 0  # parents running (one at a time, but a nested run must not uninstall early)
_claims: Claims | None = None  # the running parent's monkeypatch claims


@contextmanager
def mock_patches_per_case(claims: Claims) -> Iterator[None]:
    """While a parent runs: a mock patch in a case of a target another running case holds
    patched (with mock, or with monkeypatch in ``claims``) fails (pytest.fail) with a clear
    error, at the patch."""
    global _depth, _wrapped, _claims
    outer_claims, _claims = _claims, claims
    if _depth == 0:
        module = sys.modules.get("unittest.mock")
        if module is not None:
            if _wrapped is None:
                _wrapped = _Wrapped(module)
            _wrapped.install()
    _depth += 1
    try:
        yield
    finally:
        _claims = outer_claims
        _depth -= 1
        if _depth == 0 and _wrapped is not None:
            _wrapped.uninstall()
            _holds.held.clear()
