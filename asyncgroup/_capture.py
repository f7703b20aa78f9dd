"""Per-case capture of stdout, stderr and log records while cases interleave.

pytest captures per test, but cases of one parent run at the same time in one thread, so pytest's
capture (and its subtests') would mix them. Instead each case task carries its own buffers in a
context variable (asyncio copies the context into every task), and ``sys.stdout``/``sys.stderr``
and the root logger route each write or record to the buffers of the case that made it. Writes
made outside any case go where they would have gone anyway (pytest's capture of the parent).

File-descriptor level writes (subprocesses, C extensions) cannot be attributed to a case; they
stay in the parent's report: ``sys.stdout.fileno()`` in a case is the descriptor of pytest's
capture (as for a test: a subprocess given ``stdout=sys.stdout`` works), not one of the case's.

Under ``-s`` a case's writes reach the terminal, but capsys and kin capture for the case that asks
for them, as pytest's capture fixtures do for a test.

A thread does not inherit its starter's context: a thread that a case starts (noted by
_case_unraisable) runs with the case's buffers, so what it prints or logs is the case's while the
case runs; after that, the parent's again. Work submitted to a ``ThreadPoolExecutor``
(``loop.run_in_executor`` included, which unlike ``asyncio.to_thread`` does not copy the context)
runs in a copy of the submitter's context, whichever case started the pool's thread.
"""

from __future__ import annotations

import contextvars
import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TextIO

_first_write = threading.Lock()  # CaseOutput.buffer's


class CaseOutput:
    """What one case wrote, for its report; ``readouterr`` takes what it wrote so far."""

    __slots__ = (
        "caplog",
        "case_id",
        "ended",
        "err",
        "fixture",
        "log_file",
        "out",
        "records",
        "reporter",
        "uncaptured",
        "unraisable",
        "warning_frames",
        "warnings",
        "when",
    )

    def __init__(self, reporter: Any = None, case_id: str = "") -> None:
        # The case's reporter and id, for its node id (see nodeid): not the node id itself, a
        # string of its own for each of 100,000 sleeping cases.
        self.reporter, self.case_id = reporter, case_id
        # Torn down: what its threads (or tasks) still write or log is the parent's again.
        self.ended = False
        # The case's capsys (or kin) while it captures: it takes the case's writes first.
        self.fixture: FixtureCapture | None = None
        # Inside capsys.disabled() (or global_and_fixture_disabled()): its writes go to the
        # terminal, as a test's do (see _runner's capture_disabled); nested blocks counted.
        self.uncaptured = 0
        self.log_file: Any = None  # set by set_log_path() in the case (_case_log_file)
        # What the case wrote, logged, warned...: None until its first, as most cases have
        # none of them; buffer() makes them.
        self.out: list[str] | None = None
        self.err: list[str] | None = None
        self.records: list[logging.LogRecord] | None = None  # for the report of the phase running
        self.when = "setup"  # the phase running
        self.caplog: CaplogHandler | None = None  # once the case asks for caplog
        # (warning class, message, summary, exception) of each unraisable exception or
        # exception in a thread the case started (_case_unraisable)
        self.unraisable: list[tuple[type[Warning], str, str, BaseException | None]] | None = None
        # its catch_warnings blocks (_case_catch_warnings)
        self.warning_frames: list[Any] | None = None
        # what it warned, for pytest's summary (_case_warning_reports)
        self.warnings: list[Any] | None = None

    @property
    def nodeid(self) -> str:
        """The case's node id: what integrations key a running case's state by ("" if none)."""
        return self.reporter.nodeid(self.case_id) if self.reporter is not None else ""

    def buffer(self, name: str) -> list[Any]:
        """The list ``name`` (out, err, records, unraisable, warning_frames, warnings), made on
        first use. Under a lock: the case's threads write too, and a list made twice would lose
        what went into the other (once made, ``append`` needs no lock)."""
        items: list[Any] | None = getattr(self, name)
        if items is None:
            with _first_write:
                items = getattr(self, name)
                if items is None:
                    items = []
                    setattr(self, name, items)
        return items

    def begin(self, when: str) -> None:
        """Its phase ``when`` (setup, call, teardown) begins: caplog's records start anew, as
        pytest's for each phase of a test."""
        self.when = when
        if self.caplog is not None:
            self.caplog.begin(when)

    def end(self) -> None:
        """The case is torn down: what it still writes is the parent's; its log file is closed."""
        self.ended = True
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def readouterr(self) -> tuple[str, str]:
        out, err = "".join(self.out or ()), "".join(self.err or ())
        for written in (self.out, self.err):
            if written is not None:
                written.clear()  # in place: a thread of the case may be appending to it
        return out, err


current_output: contextvars.ContextVar[CaseOutput | None] = contextvars.ContextVar(
    "asyncgroup_current_output", default=None
)


def running_output() -> CaseOutput | None:
    """The output of the case running here; None outside any case, or once it ended."""
    output = current_output.get()
    return None if output is None or output.ended else output


def in_case() -> bool:
    return running_output() is not None


class FixtureCapture:
    """What a case's capsys (or kin) took of its writes, as pytest's ``CaptureFixture``.

    ``readouterr`` returns what was written since the last call. As pytest's fixture, at the
    end of each phase what the case wrote but did not read goes on where it would have gone
    without the fixture (the case's report, or the terminal under ``-s``) and stays readable;
    with ``tee`` (capteesys) every write goes on at once.
    """

    def __init__(self, streams: dict[str, _CaseStream], tee: bool) -> None:
        self.tee = tee
        self._streams = streams
        self._unread: dict[str, list[str]] = {"out": [], "err": []}
        self._pending: dict[str, list[str]] = {"out": [], "err": []}  # not yet passed on

    def take(self, stream: str, text: str) -> None:
        self._unread[stream].append(text)
        if not self.tee:
            self._pending[stream].append(text)

    def readouterr(self) -> tuple[str, str]:
        out, err = "".join(self._unread["out"]), "".join(self._unread["err"])
        for buffer in (*self._unread.values(), *self._pending.values()):
            buffer.clear()
        return out, err

    def phase_ended(self, output: CaseOutput) -> None:
        for name, pending in self._pending.items():
            if pending:
                self._streams[f"std{name}"].pass_on(output, "".join(pending))
                pending.clear()


class _CaseStream(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr: a case's writes go to that case's buffer."""

    def __init__(
        self, fallback: TextIO, stream: str, captured: bool, terminal: TextIO | None, tee: bool
    ) -> None:
        self.fallback = fallback
        self._stream = stream
        self._captured = captured  # False under -s: a case's writes reach the terminal
        # The stream pytest's capture stands in for (None: no capture, the fallback is it).
        self._terminal = terminal
        # --capture=tee-sys: pytest also writes what it captures to that stream.
        self._tee = terminal if tee else None

    def write(self, text: str) -> int:
        output = running_output()
        if output is None:
            return self.fallback.write(text)
        if output.uncaptured:  # in capsys.disabled(): to the terminal, past its capsys too
            return (self._terminal or self.fallback).write(text)
        fixture = output.fixture
        if fixture is not None:
            fixture.take(self._stream, text)
            if not fixture.tee:
                return len(text)
        self.pass_on(output, text)
        return len(text)

    def routing(self, write: Callable[[str], int]) -> Callable[[str], int]:
        """``write`` of pytest's own capture stream, routed as this stand-in routes: a case's
        text goes to that case's report (see CaseCapture.active)."""

        def routed(text: str) -> int:
            return write(text) if running_output() is None else self.write(text)

        return routed

    def pass_on(self, output: CaseOutput, text: str) -> None:
        """Where pytest's capture puts what a test writes: its report (and the terminal with
        tee-sys), or the terminal under ``-s``."""
        if not self._captured:
            self.fallback.write(text)
            return
        output.buffer(self._stream).append(text)
        if self._tee is not None:
            self._tee.write(text)

    def flush(self) -> None:
        # Not when the stream beneath is closed: IOBase's finalizer flushes this stand-in when
        # it is collected, which after Ctrl-C is after pytest closed its capture.
        if (not self._captured or running_output() is None) and not self.fallback.closed:
            self.fallback.flush()

    def isatty(self) -> bool:
        return self.fallback.isatty()

    def fileno(self) -> int:
        """The stream's beneath (io.TextIOBase's own raises): pytest's capture file under fd
        capture, fd 1 or 2 under ``-s`` and in capsys.disabled(); ``--capture=sys`` raises,
        as for a test. What is written there is not told apart per case (see the module's
        docstring)."""
        output = running_output()
        if output is not None and output.uncaptured and self._terminal is not None:
            return int(self._terminal.fileno())
        return int(self.fallback.fileno())

    def writable(self) -> bool:
        return True

    # io.TextIOBase has these as None: they are the stream's we stand in for, as pytest's
    # capture has its own (a library encodes for sys.stdout.encoding, say).
    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(self.fallback.encoding)

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.fallback.errors

    @property
    def buffer(self) -> Any:
        """The binary stream beneath: in a case, what it writes there is its output too."""
        return _CaseBinaryStream(self)

    def __getattr__(self, name: str) -> Any:
        # fileno, name, mode...: as the stream we stand in for.
        return getattr(self.fallback, name)


class _CaseBinaryStream:
    """``sys.stdout.buffer`` (or stderr's) of a case: its bytes go where its text goes,
    decoded, as pytest's capture decodes what a test writes to the buffer beneath."""

    def __init__(self, text: _CaseStream) -> None:
        self._text = text

    def write(self, data: bytes) -> int:
        if running_output() is None:
            return int(self._text.fallback.buffer.write(data))
        self._text.write(bytes(data).decode(self._text.encoding, "replace"))
        return len(data)

    def flush(self) -> None:
        self._text.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._text.fallback.buffer, name)


class CaplogHandler(logging.Handler):
    """caplog's handler for one case, as pytest's ``LogCaptureHandler`` for a test: the records
    of the phase running (``records``, and formatted in ``stream``) and of each phase by when.

    Apart from the records for the case's report, as pytest keeps caplog's apart from its
    report's: ``caplog.clear()``, a filter or a level set on it leave the report alone. Made
    when the case first asks for caplog, with what the phase logged so far: asked for first by
    ``getfixturevalue`` in a later phase, it has no records of the phases before.
    """

    def __init__(self, level: int, formatter: logging.Formatter | None, output: CaseOutput) -> None:
        super().__init__(level)
        if formatter is not None:
            self.setFormatter(formatter)
        self.records: list[logging.LogRecord] = []
        self.stream = io.StringIO()
        self.phases: dict[str, list[logging.LogRecord]] = {}
        self.begin(output.when)
        # what the phase logged before the case asked for caplog
        for record in output.records or ():
            self.handle(record)

    def begin(self, when: str) -> None:
        self.records = self.phases[when] = []
        self.stream = io.StringIO()

    def clear(self) -> None:
        self.records.clear()  # in place: get_records() of the phase is cleared too, as pytest's
        self.stream = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        try:
            self.stream.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        if logging.raiseExceptions:
            raise  # as pytest's: a bad log call fails the case, where it is made


class _CaseLogHandler(logging.Handler):
    """On the root logger while a parent runs: each case's records go to its report (at
    ``log_level``) and to its caplog (at the caplog's level, which caplog.set_level lowers)."""

    def __init__(
        self, report_level: int, hidden: Callable[[logging.LogRecord, str], bool] | None
    ) -> None:
        super().__init__()
        self.report_level = report_level
        self.hidden = hidden

    def emit(self, record: logging.LogRecord) -> None:
        output = running_output()
        if output is None:
            return
        if self.hidden is not None and self.hidden(record, str(output.case_id)):
            return  # logged only as another running case lowered a logger's level
        if record.levelno >= self.report_level:
            output.buffer("records").append(record)
        caplog = output.caplog
        if caplog is not None and record.levelno >= caplog.level:
            caplog.handle(record)


class CaseCapture:
    """Installs the routing for the duration of one parent test."""

    def __init__(
        self,
        capture_streams: bool,
        log_level: int | None,
        terminal: dict[str, TextIO],
        tee: bool = False,
        hidden: Callable[[logging.LogRecord, str], bool] | None = None,
    ) -> None:
        """``capture_streams``: False under ``-s``, where a case's writes reach the terminal
        unless it captures them with capsys (or kin), as pytest does for a test. ``terminal``:
        by ``sys`` name, the streams pytest's capture stands in for (see
        _compat.uncaptured_streams): where a case in capsys.disabled() writes, and what is
        written outside cases while the terminal is reachable (``outside_cases_to_terminal``).
        ``tee``: a case's output is also written there as it is written (pytest's
        ``--capture=tee-sys`` shows a test's output live, and keeps it).
        ``hidden(record, case id)``: whether a case's record is kept from its report and
        caplog (see LoggerLevels.hides)."""
        self._handler = _CaseLogHandler(log_level or 0, hidden)
        self.terminal = terminal
        self.streams = {
            name: _CaseStream(
                getattr(sys, name),
                name.replace("std", ""),
                capture_streams,
                terminal.get(name),
                tee,
            )
            for name in ("stdout", "stderr")
        }

    def _shown(self, record: logging.LogRecord) -> bool:
        hidden, output = self._handler.hidden, running_output()
        return hidden is None or output is None or not hidden(record, str(output.case_id))

    def install_streams(self) -> None:
        """(Re)install the stream stand-ins.

        pytest's capture manager puts its own ``sys.stdout`` back whenever it suspends and
        resumes (around every report written mid-test), so this runs again after each one.
        """
        for name, stream in self.streams.items():
            current = getattr(sys, name)
            if current is not stream:
                stream.fallback = current
                setattr(sys, name, stream)

    @contextmanager
    def outside_cases_to_terminal(self) -> Iterator[None]:
        """For a while, writes made outside any case go to the terminal streams."""
        before = {name: stream.fallback for name, stream in self.streams.items()}
        for name, stream in self.streams.items():
            stream.fallback = self.terminal.get(name, stream.fallback)
        try:
            yield
        finally:
            for name, stream in self.streams.items():
                stream.fallback = before[name]

    @contextmanager
    def active(self, pytest_streams: dict[str, Any]) -> Iterator[None]:
        """Route the cases' writes and records while a parent runs. ``pytest_streams``: by
        ``sys`` name, pytest's own capture streams (see _compat.capture_streams), whose
        writes are routed too: a test may hold one it took before its cases ran, and
        ``sys.stdout`` is pytest's again whenever pytest itself suspends and resumes its
        capture (the debugger), until the stand-ins are installed again."""
        routed = []
        for name, stream in pytest_streams.items():
            try:  # an instance attribute, which print() and logging's handlers call
                stream.write = self.streams[name].routing(stream.write)
            except AttributeError:  # not pytest's TextIOWrapper (another plugin's): left alone
                continue
            routed.append(stream)
        root = logging.getLogger()
        # The root logger's other handlers (pytest's log file and live log, say) do not get a
        # case's record that its own levels would not have let through either.
        others = [handler for handler in root.handlers if handler is not self._handler]
        for handler in others:
            handler.addFilter(self._shown)
        # And the loggers that do not propagate to the root, which pytest gave its handlers
        # too (pytest 9.2 does, 8.4 does not): a case's records there are its own as well.
        loggers = [root] + [
            logger
            for logger in root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
            and not logger.propagate
            and any(handler in logger.handlers for handler in others)
        ]
        for logger in loggers:
            logger.addHandler(self._handler)
        self.install_streams()
        try:
            yield
        finally:
            for stream in routed:
                del stream.write
            for logger in loggers:
                logger.removeHandler(self._handler)
            for handler in others:
                handler.removeFilter(self._shown)
            for name, stream in self.streams.items():
                if getattr(sys, name) is stream:
                    setattr(sys, name, stream.fallback)


def run_in_case(thread: threading.Thread, output: CaseOutput) -> None:
    """``thread`` (about to start) runs with the case's buffers: its own context is empty."""
    run = thread.run

    def run_as_the_case() -> None:
        current_output.set(output)
        run()

    thread.run = run_as_the_case  # type: ignore[method-assign]


@contextmanager
def executor_work_in_case_context() -> Iterator[None]:
    """While a parent runs, work submitted to a ``ThreadPoolExecutor`` runs in a copy of the
    submitter's context, as ``asyncio.to_thread`` runs it: a pool's thread that one case
    started does the work of others (and of the parent) too."""
    original = ThreadPoolExecutor.submit

    def submit(
        self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any]:
        return original(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        if ThreadPoolExecutor.submit is submit:
            ThreadPoolExecutor.submit = original  # type: ignore[method-assign]
