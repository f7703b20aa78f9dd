"""Per-case ``warnings.catch_warnings``: ``pytest.warns``, ``recwarn`` and kin in overlapping cases.

``catch_warnings`` swaps the warnings module's filters and its "show" hook for the whole process
and puts back what it found on exit. Cases that overlap interleave those swaps: the first to
leave restores the state from before the second entered, so the second records nothing, or one
sees the other's warnings (cpython#91505, pytest#12356). Python < 3.14 has no context-aware
warnings, so while a parent runs, a ``catch_warnings`` entered inside a case changes nothing
process-wide: it becomes a frame on that case's own stack, with its own filters and record.

While any case has a frame, the process-wide filters start with "always", so every warning
reaches the show hook, and the hook decides as the warnings module would, with the filters of
the case that warned (its innermost frame's), or the process's ones outside frames: "error"
raises the warning where it was issued, "ignore" drops it, anything else records it in the
innermost recording frame of the case, or passes it on to where it went before (pytest's record
of the parent, for its warnings summary, through ``_case_filterwarnings``' dispatcher, which
shows it once per case). Not emulated: "default", "module" and "once" record a warning
repeated within a frame again, and a filter's module pattern is matched against the module
name derived from the warning's file.
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asyncgroup._capture import current_output
from asyncgroup._case_filterwarnings import ALWAYS as _ALWAYS
from asyncgroup._case_filterwarnings import filter_action

_original_enter = warnings.catch_warnings.__enter__
_original_exit = warnings.catch_warnings.__exit__
_original_add_filter: Any = warnings._add_filter  # type: ignore[attr-defined]
_original_resetwarnings = warnings.resetwarnings


class _Frame:
    """One ``catch_warnings`` block of one case: its filters, and its record (if it records)."""

    __slots__ = ("filters", "log")

    def __init__(self, filters: list[Any], log: list[Any] | None) -> None:
        self.filters = filters
        self.log = log


class _Router:
    """The process-wide side: installed while at least one case has a frame."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # plain def cases run in threads
        self.frames = 0
        self.before: tuple[Any, Any] = (None, None)

    def process_filters(self) -> list[Any]:
        return [f for f in warnings.filters if f is not _ALWAYS]

    def push(self, frames: list[_Frame], record: bool) -> _Frame:
        filters = list(frames[-1].filters) if frames else self.process_filters()
        frame = _Frame(filters, [] if record else None)
        with self.lock:
            if self.frames == 0:
                self.before = (warnings.showwarning, warnings._showwarnmsg_impl)  # type: ignore[attr-defined]
                warnings.filters.insert(0, _ALWAYS)  # type: ignore[attr-defined]
                warnings._showwarnmsg_impl = self.show  # type: ignore[attr-defined]
                warnings.showwarning = warnings._showwarning_orig  # type: ignore[attr-defined]
                warnings._filters_mutated()  # type: ignore[attr-defined]
            self.frames += 1
        frames.append(frame)
        return frame

    def pop(self, frames: list[_Frame], frame: _Frame) -> None:
        if not frames or frames[-1] is not frame:
            msg = "catch_warnings blocks of a case must be left in the reverse order of entry"
            raise RuntimeError(msg)
        frames.pop()
        with self.lock:
            self.frames -= 1
            if self.frames == 0:
                self._uninstall()

    def _uninstall(self) -> None:
        if _ALWAYS in warnings.filters:
            warnings.filters.remove(_ALWAYS)  # type: ignore[attr-defined]
        warnings.showwarning, warnings._showwarnmsg_impl = self.before  # type: ignore[attr-defined]
        warnings._filters_mutated()  # type: ignore[attr-defined]

    def reset(self) -> None:
        """After the parent: blocks a case never left (a leaked frame) stop routing."""
        with self.lock:
            if self.frames:
                self.frames = 0
                self._uninstall()

    def show(self, message: warnings.WarningMessage) -> None:
        """The warnings module's show hook while cases have frames."""
        __tracebackhide__ = True
        frames = _frames()
        filters = frames[-1].filters if frames else self.process_filters()
        action = _action(filters, message)
        if action == "error":
            raise _as_exception(message)
        if action == "ignore":
            return
        for frame in reversed(frames or ()):
            if frame.log is not None:
                frame.log.append(message)
                return
        showwarning, impl = self.before
        if showwarning is not warnings._showwarning_orig:  # type: ignore[attr-defined]
            showwarning(
                message.message,
                message.category,
                message.filename,
                message.lineno,
                message.file,
                message.line,
            )
        else:
            impl(message)


_router = _Router()


def _frames() -> list[_Frame] | None:
    """The running case's stack of catch_warnings frames; None outside cases."""
    output = current_output.get()
    return output.buffer("warning_frames") if output is not None else None


def _action(filters: list[Any], message: warnings.WarningMessage) -> str:
    text = str(message.message)
    module = _module_name(message.filename)
    return filter_action(filters, text, message.category, module, message.lineno)


_module_names: dict[str, str] = {}


def _module_name(filename: str) -> str:
    """The name of the module of ``filename`` (what the module pattern of a filter matches)."""
    if filename not in _module_names:
        found = next(
            (
                name
                for name, module in list(sys.modules.items())
                if getattr(module, "__file__", None) == filename
            ),
            filename.removesuffix(".py"),
        )
        _module_names[filename] = found
    return _module_names[filename]


def _as_exception(message: warnings.WarningMessage) -> BaseException:
    warning = message.message
    if isinstance(warning, BaseException):
        return warning
    return message.category(warning)


def _enter(self: Any) -> Any:
    frames = _frames()
    if frames is None or self._module is not warnings:
        return _original_enter(self)
    if self._entered:
        msg = f"Cannot enter {self!r} twice"
        raise RuntimeError(msg)
    self._entered = True
    self._asyncgroup_frame = _router.push(frames, self._record)
    if getattr(self, "_filter", None) is not None:  # Python 3.11+: catch_warnings(action=...)
        warnings.simplefilter(*self._filter)
    return self._asyncgroup_frame.log


def _exit(self: Any, *exc_info: Any) -> None:
    frame = self.__dict__.pop("_asyncgroup_frame", None)
    if frame is None:
        _original_exit(self, *exc_info)
        return
    self._entered = False
    frames = _frames()
    _router.pop(frames if frames is not None else [], frame)
    return None


def _add_filter(*item: Any, append: bool) -> None:
    frames = _frames()
    if not frames:
        _original_add_filter(*item, append=append)
        return
    filters = frames[-1].filters
    if not append:
        if item in filters:
            filters.remove(item)
        filters.insert(0, item)
    elif item not in filters:
        filters.append(item)


def _resetwarnings() -> None:
    frames = _frames()
    if not frames:
        return _original_resetwarnings()
    frames[-1].filters.clear()
    return None


@contextmanager
def per_case_warnings() -> Iterator[None]:
    """While a parent runs, catch_warnings (pytest.warns, recwarn...) in a case is the case's."""
    catch = warnings.catch_warnings
    catch.__enter__ = _enter  # type: ignore[method-assign]
    catch.__exit__ = _exit  # type: ignore[method-assign]
    warnings._add_filter = _add_filter  # type: ignore[attr-defined]
    warnings.resetwarnings = _resetwarnings
    try:
        yield
    finally:
        catch.__enter__ = _original_enter  # type: ignore[method-assign]
        catch.__exit__ = _original_exit  # type: ignore[method-assign]
        warnings._add_filter = _original_add_filter  # type: ignore[attr-defined]
        warnings.resetwarnings = _original_resetwarnings
        _router.reset()
