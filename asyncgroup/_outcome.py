"""What happened to one case, and the pytest reports that tell it.

A case's reports carry its own node id (the parent's, with the case id added to the brackets,
as parametrize would name it), so JUnit XML, ``--lf``, ``--durations`` and xdist treat each
case as the test it stands for. The call phase is a subtest report (SUBPASSED, SUBFAILED, ...);
a fixture error is a plain setup/teardown report, which pytest shows as ERROR.
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar

import pytest

from asyncgroup import _casereports, _compat
from asyncgroup._capture import CaseOutput
from asyncgroup._case_warning_reports import end_at_warn
from asyncgroup._declare import CASES_ATTRIBUTE, Case

# Set on every report of a case, to its case id: how plugins (and asyncgroup) tell case reports
# from item reports. A plain attribute, so it survives xdist's serialisation.
CASE_ID_ATTRIBUTE = "asyncgroup_case_id"
# On an xdist worker a case report travels under its parent's node id (xdist asserts that every
# report it sends is the running item's) with its own node id here; the controller restores it.
CASE_NODEID_ATTRIBUTE = "asyncgroup_case_nodeid"
# On a case's reports: its parent's node id (a test of a group: its own).
PARENT_NODEID_ATTRIBUTE = "asyncgroup_parent_nodeid"
# On the teardown report of a parent filed under its last case (see _plugin): the parent's
# node id, whose place in the [ NN%] progress the case takes.
MOVED_FROM_PARENT_ATTRIBUTE = "asyncgroup_moved_from_parent"
# What asyncgroup puts on a parent's function (keywords its parametrized test would not have).
_FUNCTION_ATTRIBUTES = ("__wrapped__", "__signature__", CASES_ATTRIBUTE)
# Set on the parent's failure that only sums up its failed cases.
CASES_FAILED_ATTRIBUTE = "asyncgroup_cases_failed"
# Set on a parent's call report whose outcome only sums up its cases' (it passed, or failed
# because cases failed): the summary line counts the cases, as their parametrized tests, not it.
# A plain attribute, so it survives xdist's serialisation.
SUMS_UP_CASES_ATTRIBUTE = "asyncgroup_sums_up_cases"
# Set by an integration (in pytest_configure) whose plugin writes a test's entry when its
# teardown is reported, or lists every phase (pytest-html, pytest-reportlog): every phase of a
# case is then reported, passing or not, as pytest reports every phase of a test.
EVERY_PHASE = pytest.StashKey[bool]()
# Callbacks an integration adds (in pytest_configure): each is given a case's reports (CaseTold)
# once they are built and before they are logged. For plugins that read a test's output, records
# or exception from the item (the parent's) or from its hooks, which a case does not run.
CASE_REPORT_LISTENERS = pytest.StashKey[list[Callable[["CaseTold"], None]]]()

_E = TypeVar("_E", bound="BaseException | None")


@dataclasses.dataclass
class CaseTold:
    """What a case's reports tell, for the integrations (see CASE_REPORT_LISTENERS)."""

    item: pytest.Function  # the test the case belongs to: its parent, or a test of a group
    case: Case  # its values and marks
    reports: list[tuple[pytest.TestReport, Phase]]  # each with the phase it tells


class AsyncgroupWarning(pytest.PytestWarning):
    """Something about a case worth knowing although it passed: it blocked the event loop, or
    left tasks running."""

    __module__ = "asyncgroup"


class FailedSubtests(Exception):
    """A case that passed although some of its own subtests failed (pytest 9 fails it)."""


class CaseTimeoutError(Exception):
    """A case (or its fixture teardown) ran past its timeout; raised into its report only."""

    __module__ = "asyncgroup"  # shown in reports as asyncgroup.CaseTimeoutError


class CancellationIgnoredError(Exception):
    """A case's body went on for seconds after asyncgroup cancelled it twice (it caught the
    CancelledError and went on): asyncgroup closed it; raised into its report only."""

    __module__ = "asyncgroup"


class Phase:
    """One of setup, call, teardown: when it ran, how it ended, what the case wrote meanwhile."""

    __slots__ = (
        "_precise",
        "duration",
        "ended",
        "err",
        "error",
        "out",
        "records",
        "report",
        "start",
        "when",
    )

    def __init__(self, when: Literal["setup", "call", "teardown"]) -> None:
        self.when = when
        self.error: BaseException | None = None
        self.ended = False
        # Its report once the project's pytest_runtest_makereport hooks made it (see
        # _casereports): the one reported.
        self.report: pytest.TestReport | None = None
        self.out = self.err = ""
        # A list only once the case logged something (see end): most phases log nothing.
        self.records: Sequence[Any] = ()

    @classmethod
    def empty(cls, when: Literal["setup", "call", "teardown"], at: float) -> Phase:
        """A phase with nothing in it (no fixtures to set up or tear down)."""
        phase = cls(when)
        phase.start, phase.duration, phase.ended = at, 0.0, True
        return phase

    @property
    def stop(self) -> float:
        return self.start + self.duration

    def begin(self) -> None:
        # One float while it runs, its start worked out when it ends: each of 100,000 sleeping
        # cases has a running call phase and an ended setup phase.
        self._precise: float | None = time.perf_counter()

    def end(self, error: BaseException | None = None, output: CaseOutput | None = None) -> None:
        """Record how the phase ended, and take what the case wrote during it."""
        assert self._precise is not None
        self.duration = time.perf_counter() - self._precise
        self.start = time.time() - self.duration
        self._precise = None
        self.error = with_traceback(error)
        self.ended = True
        if output is not None:
            if output.fixture is not None:  # capsys and kin: what the case did not read
                output.fixture.phase_ended(output)
            if output.out or output.err:
                self.out, self.err = output.readouterr()
            if output.records:
                self.records, output.records = output.records, None


def with_traceback(error: _E) -> _E:
    """``error`` with a traceback: one that asyncgroup made and did not raise (a swallowed
    timeout, ``FailedSubtests``) is raised here, in a hidden frame, so that pytest can make an
    ExceptionInfo of it (``ExceptionInfo.from_exception`` refuses an exception without one)."""
    __tracebackhide__ = True
    if error is None or error.__traceback__ is not None:
        return error
    context = error.__context__
    try:
        raise error
    except BaseException:
        pass
    error.__context__ = context  # raised here, it is not a consequence of what is handled now
    return error


@dataclasses.dataclass
class Xfail:
    reason: str
    strict: bool
    raises: Any  # exception types, or on pytest 9 a RaisesExc matcher; None: any error


def _raises_matches(raises: Any, error: BaseException) -> bool:
    """xfail(raises=...): exception types, or on pytest 9 a ``pytest.RaisesExc`` matcher.
    Anything else (``raises="ValueError"``, a typo) matches nothing: the test fails with its
    error, as pytest's skipping plugin fails it (pytest 8.4 and 9.2)."""
    if isinstance(raises, type) or (
        isinstance(raises, tuple) and all(isinstance(kind, type) for kind in raises)
    ):
        return isinstance(error, raises)
    matches = getattr(raises, "matches", None)
    return bool(matches(error)) if callable(matches) else False


# The ids of a parametrized parent, and where among them its cases' ids go (see _plugin).
CaseSlot = tuple[tuple[str, ...], int]
case_slot_key = pytest.StashKey[CaseSlot]()


def slot_of(item: pytest.Item | None) -> CaseSlot | None:
    return item.stash.get(case_slot_key, None) if item is not None else None


def case_nodeid(parent_nodeid: str, case_id: str, slot: CaseSlot | None = None) -> str:
    """The case's node id (or name) as its parametrized test's: ``test_x`` -> ``test_x[c2]``;
    ``test_x[p1]`` -> ``test_x[p1-c2]``, or ``test_x[c2-p1]`` with the ``slot`` (("p1",), 0)
    where the parent's ids leave the case's, as a parametrize mark in its place would."""
    if slot is not None:
        ids, index = slot
        joined = "-".join(ids)
        if parent_nodeid.endswith(f"[{joined}]"):
            test_id = "-".join((*ids[:index], case_id, *ids[index:]))
            return f"{parent_nodeid[: -len(joined) - 2]}[{test_id}]"
    if parent_nodeid.endswith("]"):
        return f"{parent_nodeid[:-1]}-{case_id}]"
    return f"{parent_nodeid}[{case_id}]"


class CaseReporter:
    """Builds the reports of the cases of one parent item."""

    def __init__(
        self,
        item: pytest.Function,
        with_passing_phases: bool,
        log_formatter: Any,
        running: pytest.Function | None = None,
        case_is_item: bool = False,
        empty_setups: bool = True,
    ) -> None:
        # ``item`` names the cases; ``running`` is the item pytest runs (a group's parent), whose
        # node id xdist expects on every report. With ``case_is_item`` the one case of ``item``
        # (a test of a group) reports under the item's own node id.
        self.item = item
        self.running = running or item
        self.case_is_item = case_is_item
        # What hooks recorded on the test by the start of its run (a conftest's
        # item.user_properties.append at collection), as each parametrized test has it; a
        # test of a group reports its item's own (see _add_node_writes).
        self.collected = () if case_is_item else tuple(item.user_properties)
        self.slot = slot_of(item)
        self.keywords = self._keywords(item, case_is_item)
        self.location = item.location
        path, line, _ = item.reportinfo()
        self.test_path, self.test_line = os.fspath(path), (line or 0) + 1
        # JUnit XML writes a case's captured output when its teardown is reported, so with
        # --junitxml (or EVERY_PHASE) every phase is reported; otherwise only the ones with
        # something to say.
        self.with_passing_phases = with_passing_phases
        # With them, the setup of a case without per-case fixtures, which has none of its own:
        # --junitxml alone reads nothing in it, and 100,000 cases spare 100,000 reports.
        self.empty_setups = empty_setups
        self.listeners = item.config.stash.get(CASE_REPORT_LISTENERS, [])
        self.log_formatter = log_formatter
        self.on_xdist_worker = hasattr(item.config, "workerinput")

    @staticmethod
    def _keywords(item: pytest.Function, case_is_item: bool) -> dict[str, int]:
        """The keywords a case's parametrized test would have, but its name and id (see
        reports): the parent's, less its name and what asyncgroup put on its function, plus
        ``parametrize``."""
        keywords = dict.fromkeys(item.keywords, 1)
        if case_is_item:
            return keywords
        keywords.pop(item.name, None)
        for name in _FUNCTION_ATTRIBUTES:
            keywords.pop(name, None)
        keywords["parametrize"] = 1
        # A plain def test's parent has asyncgroup's asyncio mark, its cases' tests none.
        added = getattr(getattr(item.obj, CASES_ATTRIBUTE, None), "asyncio_mark", None)
        if added is not None and all(mark is added for mark in item.iter_markers("asyncio")):
            keywords.pop("asyncio", None)
        return keywords

    def case_nodeid(self, case_id: str) -> str:
        return case_nodeid(self.item.nodeid, case_id, self.slot)

    def nodeid(self, case_id: str) -> str:
        """The case's node id, as its reports carry it."""
        return self.item.nodeid if self.case_is_item else self.case_nodeid(case_id)

    def file_under_case(self, report: pytest.TestReport, case: Case) -> None:
        """Make a report of the parent one of ``case``'s (its node id, name and keywords)."""
        nodeid = self.nodeid(case.id)
        path, line, domain = self.location  # the parent's, or a test of a group's own
        name = domain if self.case_is_item else case_nodeid(domain, case.id, self.slot)
        report.location = (path, line, name)
        report.keywords = self._case_keywords(case.id, (m.name for m in case.marks))  # type: ignore[assignment]
        setattr(report, CASE_ID_ATTRIBUTE, case.id)
        setattr(report, PARENT_NODEID_ATTRIBUTE, self.item.nodeid)
        if self.on_xdist_worker:  # as for the other reports of a case (see reports)
            setattr(report, CASE_NODEID_ATTRIBUTE, nodeid)
        else:
            report.nodeid = nodeid

    def reports(
        self,
        case_id: str,
        marks: Iterable[str],
        phases: list[Phase],
        xfail: Xfail | None,
        skip_reason: str | None = None,
        notes: list[str] | None = None,
        properties: list[tuple[str, object]] | None = None,
        case: Case | None = None,
    ) -> list[pytest.TestReport]:
        nodeid = self.nodeid(case_id)
        keywords = self._case_keywords(case_id, marks)
        told: list[tuple[pytest.TestReport, Phase]]
        if skip_reason is not None and not any(phase.when == "call" for phase in phases):
            # Never started, or cut off in its setup: a skip of no length.
            now = time.time()
            skipped = self._subtest(
                nodeid, case_id, keywords, "skipped", self._skip(skip_reason), now, 0.0, []
            )
            told = [(skipped, Phase.empty("call", now))]
            told.extend(self._cut_off_teardown(nodeid, case_id, keywords, phases, xfail))
        else:
            told = self._run_reports(nodeid, case_id, keywords, phases, xfail, skip_reason)
        result = [report for report, _ in told]
        if notes:
            # In the case's own report: a section for the terminal, properties for JUnit XML.
            # (The runner also issues them as warnings, for pytest's warnings summary.)
            result[-1].sections.append(("asyncgroup warnings", "\n".join(notes)))
            for report in result:
                report.user_properties.extend(("asyncgroup warning", note) for note in notes)
        # A report the project's makereport hooks made has the node's properties as its phase
        # ended, as pytest's (see _runner._made_reports).
        if properties is None:  # a case never set up: what was recorded for its test
            properties = list(self.collected)
        if properties:  # the test's, and record_property in the case
            for report, phase in told:
                if phase.report is None:
                    report.user_properties.extend(properties)
        if self.case_is_item:  # a test of a group: request.node is its item, as without it
            self._add_node_writes(told)
        for report in result:
            setattr(report, CASE_ID_ATTRIBUTE, case_id)
            setattr(report, PARENT_NODEID_ATTRIBUTE, self.item.nodeid)
            if self.on_xdist_worker:
                setattr(report, CASE_NODEID_ATTRIBUTE, nodeid)
                report.nodeid = self.running.nodeid
        if self.listeners and case is not None:
            case_told = CaseTold(self.item, case, told)
            for listener in self.listeners:
                listener(case_told)
        return result

    def _case_keywords(self, case_id: str, marks: Iterable[str]) -> dict[str, int]:
        """As its parametrized test's: its name (test_x[c]) and id (c), its marks' names."""
        keywords = self.keywords
        marks = list(marks)
        if not self.case_is_item:
            name = case_nodeid(self.item.name, case_id, self.slot)
            test_id = name[name.index("[") + 1 : -1]
            keywords = {name: 1, **keywords, test_id: 1, **dict.fromkeys(marks, 1)}
        elif marks:
            keywords = {**keywords, **dict.fromkeys(marks, 1)}
        return keywords

    def phase_report(
        self, case_id: str, marks: Iterable[str], phases: list[Phase], xfail: Xfail | None
    ) -> pytest.TestReport:
        """The report of the last of ``phases``, which has just ended, as the case's reports
        are built (with the output of the phases before), for the project's
        pytest_runtest_makereport hooks (see _casereports)."""
        nodeid = self.nodeid(case_id)
        keywords = self._case_keywords(case_id, marks)
        sections = [section for phase in phases for section in self._sections(phase)]
        phase = phases[-1]
        if phase.when == "call":
            return self._call(nodeid, case_id, keywords, phase, sections, xfail)
        return self._phase(nodeid, case_id, keywords, phase, sections, xfail)

    def _run_reports(
        self,
        nodeid: str,
        case_id: str,
        keywords: dict[str, int],
        phases: list[Phase],
        xfail: Xfail | None,
        cut_off: str | None = None,
    ) -> list[tuple[pytest.TestReport, Phase]]:
        """The reports of a case's phases, each with the phase it tells. A case ``cut_off``
        in its body by a stop (the skip reason "cancelled: ..."): as pytest reports a test
        skipped in its call, its call is skipped, from the body's start to the cut-off."""
        result: list[tuple[pytest.TestReport, Phase]] = []
        if self.with_passing_phases and phases[0].when == "call":
            # A case without per-case fixtures has no setup or teardown of its own; JUnit XML
            # still wants the teardown (it writes a case's output when the teardown is
            # reported), --durations and the report writers the setup too (see empty_setups).
            call = phases[0]
            setup = [Phase.empty("setup", call.start)] if self.empty_setups else []
            phases = [*setup, call, Phase.empty("teardown", call.stop)]
        # As pytest does, each report carries the output of its phase and the phases before.
        sections: list[tuple[str, str]] = []
        call_report = None
        for phase in phases:
            if phase.out or phase.err or phase.records:
                sections = sections + self._sections(phase)
            if phase.when == "call" and cut_off is not None:
                # Told without its CancelledError, which is not the case's (see _cut_off_call).
                phase = _cut_off_call(phase)
                report = self._subtest(
                    nodeid,
                    case_id,
                    keywords,
                    "skipped",
                    self._skip(cut_off),
                    phase.start,
                    phase.duration,
                    sections,
                )
                call_report = report
                result.append((report, phase))
            elif phase.when == "call":
                report = phase.report or self._call(
                    nodeid, case_id, keywords, phase, sections, xfail
                )
                call_report = report
                result.append((report, phase))
            elif phase.error is not None or self.with_passing_phases:
                report = phase.report or self._phase(
                    nodeid, case_id, keywords, phase, sections, xfail
                )
                result.append((report, phase))
            elif call_report is not None and (phase.out or phase.err or phase.records):
                # No teardown report: the terminal shows a test's teardown output from its
                # teardown report, so the case's call report carries it instead.
                call_report.sections.extend(self._sections(phase))
        return result

    def _cut_off_teardown(
        self,
        nodeid: str,
        case_id: str,
        keywords: dict[str, int],
        phases: list[Phase],
        xfail: Xfail | None,
    ) -> list[tuple[pytest.TestReport, Phase]]:
        """The fixture teardown that failed of a case skipped "cancelled: ..." before its body
        (a stop cut its setup off, then its fixtures were torn down; one cut off in its body
        is reported by _run_reports): reported as pytest reports an error at teardown of a
        test skipped in its call, with the output of all its phases.
        A finalizer's error is never lost, whatever ended the test. With every phase reported
        (--junitxml), a teardown that passed too: JUnit XML takes a test's properties
        (record_property) from its teardown's report."""
        teardown = phases[-1] if phases else None
        if teardown is None or teardown.when != "teardown":
            return []
        if teardown.error is None and not self.with_passing_phases:
            return []
        sections = [section for phase in phases for section in self._sections(phase)]
        report = teardown.report or self._phase(
            nodeid, case_id, keywords, teardown, sections, xfail
        )
        return [(report, teardown)]

    def _add_node_writes(self, told: list[tuple[pytest.TestReport, Phase]]) -> None:
        """What the test wrote on its item, as pytest's reports carry it: the sections of
        ``add_report_section`` up to each report's phase, and ``user_properties``."""
        order = {"setup": 0, "call": 1, "teardown": 2}
        added = _compat.added_report_sections(self.item)
        for report, phase in told:
            upto = order.get(report.when or "call", 1)
            report.sections.extend(
                (f"Captured {key} {when}", content)
                for when, key, content in added
                if order.get(when, 1) <= upto
            )
            if phase.report is None:  # see reports
                report.user_properties.extend(self.item.user_properties)

    def _sections(self, phase: Phase) -> list[tuple[str, str]]:
        sections = []
        if phase.out:
            sections.append((f"Captured stdout {phase.when}", phase.out))
        if phase.err:
            sections.append((f"Captured stderr {phase.when}", phase.err))
        if phase.records and self.log_formatter is not None:
            log = "\n".join(self.log_formatter.format(r) for r in phase.records)
            sections.append((f"Captured log {phase.when}", log))
        return sections

    def file_warnings(self, case_id: str, messages: list[warnings.WarningMessage]) -> None:
        """Put what a case warned in pytest's warnings summary under the case's node id."""
        nodeid = self.nodeid(case_id)
        for message in messages:
            self.item.ihook.pytest_warning_recorded.call_historic(
                kwargs={
                    "warning_message": message,
                    "when": "runtest",
                    "nodeid": nodeid,
                    "location": None,
                }
            )

    def warn(self, case_id: str, note: str) -> None:
        """A case's note as a pytest warning, located at the test; the case is named as its
        node id names it (``2-b`` under a parent parametrized with ``2``)."""
        # A parent with parameters but no id of them (a hidden loop-factory parameter, say)
        # keeps the case's own id, as case_nodeid does.
        parent_id = getattr(getattr(self.item, "callspec", None), "id", "")
        shown = case_id
        if parent_id and self.item.nodeid.endswith("]"):
            shown = case_nodeid(f"[{parent_id}]", case_id, self.slot)[1:-1]
        warnings.warn_explicit(
            AsyncgroupWarning(f"case {shown!r}: {note}"),
            AsyncgroupWarning,
            self.test_path,
            self.test_line,
        )

    def warn_returned(self, case_id: str, value: object) -> None:
        """pytest's warning for a test function that returned a value, naming the case by its
        node id, as its pytest_pyfunc_call names a test (the same words, pytest 8.4 and 9.2)."""
        msg = (
            f"Test functions should return None, but {self.nodeid(case_id)} returned "
            f"{type(value)!r}.\n"
            "Did you mean to use `assert` instead of `return`?\n"
            "See https://docs.pytest.org/en/stable/how-to/assert.html#return-not-none for more "
            "information."
        )
        # Located at the test, as the case's other warnings from asyncgroup are: pytest's own
        # location (the line in pytest_pyfunc_call that warns) would point into pytest.
        warnings.warn_explicit(
            pytest.PytestReturnNotNoneWarning(msg),
            pytest.PytestReturnNotNoneWarning,
            self.test_path,
            self.test_line,
        )

    def warn_not_async(self, case_id: str) -> None:
        """pytest-asyncio's warning for a plain ``def`` test under an ``asyncio`` mark, naming
        the case's test as its pytest_pyfunc_call names a test (the same words, pytest-asyncio
        1.0 to 1.5), where ``Node.warn`` puts it: the test's location, relative path and line.
        The twin is a plain ``Function`` item; the parent is pytest-asyncio's ``Coroutine``."""
        item = self.item
        name = item.name if self.case_is_item else case_nodeid(item.name, case_id, self.slot)
        path, line, _ = self.location
        warnings.warn_explicit(
            pytest.PytestWarning(
                f"The test <Function {name}> is marked with '@pytest.mark.asyncio' "
                "but it is not an async function. "
                "Please remove the asyncio mark. "
                "If the test is not marked explicitly, "
                "check for global marks applied via 'pytestmark'."
            ),
            None,
            path,
            (line or 0) + 1,
        )

    def _skip(self, reason: str) -> tuple[str, int, str]:
        # As pytest reports a skip mark: at the test's location.
        return (self.test_path, self.test_line, f"Skipped: {reason}")

    def _skipped_at(self, error: BaseException) -> tuple[str, int, str]:
        """A pytest.skip() in a case: where it was called, as pytest reports it."""
        call = None
        tb = error.__traceback__
        while tb is not None:  # the innermost frame not hidden (pytest.skip itself is)
            frame = tb.tb_frame
            if not (
                frame.f_locals.get("__tracebackhide__") or frame.f_globals.get("__tracebackhide__")
            ):
                call = tb
            tb = tb.tb_next
        reason = f"Skipped: {getattr(error, 'msg', '') or ''}"
        if _compat.skips_only(error):  # pytest 9: every unique reason of the group
            reasons = dict.fromkeys(getattr(e, "msg", "") for e in _compat.leaves(error))
            reason = "; ".join(r for r in reasons if r) or "skipped"
        if call is None:
            return (self.test_path, self.test_line, reason)
        return (call.tb_frame.f_code.co_filename, call.tb_lineno, reason)

    def teardown_longrepr(self, error: BaseException) -> Any:
        """The ``longrepr`` of a teardown ``error`` of the parent filed under a case."""
        return self._longrepr(error)

    def _longrepr(self, error: BaseException) -> Any:
        if isinstance(error, FailedSubtests):  # as pytest 9 words it, with no traceback
            return str(error)
        end_at_warn(error)
        longrepr = self.item.repr_failure(pytest.ExceptionInfo.from_exception(error))
        # An error raised where the user has no line (asyncgroup's own refusals): its one-line
        # form, in the short summary, still says what it is, placed at the test.
        _compat.crash_where_hidden(longrepr, error, self.test_path, self.test_line)
        if isinstance(error, (CaseTimeoutError, CancellationIgnoredError)):
            _compat.drop_hidden_entries_line(longrepr)
        return longrepr

    def _call(
        self,
        nodeid: str,
        case_id: str,
        keywords: dict[str, int],
        phase: Phase,
        sections: list[tuple[str, str]],
        xfail: Xfail | None,
        step: bool = False,
    ) -> pytest.TestReport:
        error = phase.error
        outcome: Literal["passed", "failed", "skipped"]
        longrepr: Any = None
        wasxfail: str | None = None
        # An xfailed report keeps its failure's traceback, as pytest's does (report writers
        # such as pytest-html and pytest-json-report show it; the terminal does not).
        if isinstance(error, pytest.xfail.Exception):
            outcome, wasxfail = "skipped", error.msg
            if error.__traceback__ is not None:  # not xfail(run=False), which never ran
                longrepr = self._longrepr(error)
        elif (
            xfail is not None and error is not None and not isinstance(error, pytest.skip.Exception)
        ):
            if xfail.raises is None or _raises_matches(xfail.raises, error):
                outcome, wasxfail, longrepr = "skipped", xfail.reason, self._longrepr(error)
            else:
                outcome, longrepr = "failed", self._longrepr(error)
        elif xfail is not None and error is None:
            if xfail.strict:
                outcome, longrepr = "failed", f"[XPASS(strict)] {xfail.reason}"
            else:
                outcome, wasxfail = "passed", xfail.reason
        elif error is None:
            outcome = "passed"
        elif isinstance(error, pytest.skip.Exception) and _compat.skip_placed_at_test(error):
            # A fixture's, set up by getfixturevalue in the body: at the test, as pytest's.
            outcome, longrepr = "skipped", self._skip(error.msg or "")
        elif isinstance(error, pytest.skip.Exception) or _compat.skips_only(error):
            outcome, longrepr = "skipped", self._skipped_at(error)
        else:
            outcome, longrepr = "failed", self._longrepr(error)
        report = self._subtest(
            nodeid,
            case_id,
            keywords,
            outcome,
            longrepr,
            phase.start,
            phase.duration,
            sections,
            step,
        )
        if wasxfail is not None:
            report.wasxfail = wasxfail
        return report

    def step(
        self,
        case_id: str,
        msg: str | None,
        kwargs: dict[str, Any],
        phase: Phase,
        marks: Iterable[str] = (),
    ) -> pytest.TestReport:
        """The report of a ``subtests.test()`` block inside a case: a subtest of the case,
        with the case's keywords (``marks``: the names of the case's own marks)."""
        nodeid = self.case_nodeid(case_id)
        keywords = self._case_keywords(case_id, marks)
        report = self._call(
            nodeid, case_id, keywords, phase, self._sections(phase), None, step=True
        )
        report.context = _compat.subtest_context(msg, kwargs)  # type: ignore[attr-defined]
        if self.on_xdist_worker:
            setattr(report, CASE_NODEID_ATTRIBUTE, nodeid)
            report.nodeid = self.item.nodeid
        return report

    def _subtest(
        self,
        nodeid: str,
        case_id: str,
        keywords: dict[str, int],
        outcome: Literal["passed", "failed", "skipped"],
        longrepr: Any,
        start: float,
        duration: float,
        sections: list[tuple[str, str]],
        step: bool = False,
    ) -> pytest.TestReport:
        # TestReport(nodeid, location, keywords, outcome, longrepr, when, sections, duration,
        # start, stop, user_properties): the same positions on pytest 8 and 9. The domain is
        # the case's name (test_x[7]): a case's failure is headed by it, a step's by
        # "test_x[7] [step]". A test of a group is headed by its own name, as it would be alone.
        path, line, domain = self.location
        return _compat.subtest_report(
            case_id,
            nodeid,
            (path, line, domain if self.case_is_item else case_nodeid(domain, case_id, self.slot)),
            keywords,
            outcome,
            longrepr,
            "call",
            sections,
            duration,
            start,
            start + duration,
            [],
            case=not step,
        )

    def _phase(
        self,
        nodeid: str,
        case_id: str,
        keywords: dict[str, int],
        phase: Phase,
        sections: list[tuple[str, str]],
        xfail: Xfail | None,
    ) -> pytest.TestReport:
        error = phase.error
        wasxfail = None
        if error is None:
            outcome, longrepr = "passed", None
        elif isinstance(error, pytest.xfail.Exception):  # as pytest: XFAIL at setup of ...
            # Its longrepr the exception's, as pytest's (report writers show its message).
            outcome, longrepr, wasxfail = (
                "skipped",
                self._longrepr(with_traceback(error)),
                error.msg,
            )
        elif (
            isinstance(error, pytest.skip.Exception)
            and phase.when == "setup"
            and not getattr(error, _casereports.FROM_A_HOOK, False)
        ):
            # As pytest (its pytest_fixture_setup): a fixture's skip is placed at the test, or
            # the user would not know which test skipped; a pytest_runtest_setup hook's is not.
            outcome, longrepr = "skipped", self._skip(error.msg or "")
        elif isinstance(error, pytest.skip.Exception) or _compat.skips_only(error):
            outcome, longrepr = "skipped", self._skipped_at(error)
        elif xfail is not None and (xfail.raises is None or _raises_matches(xfail.raises, error)):
            # pytest's xfail covers an error in any phase, a fixture's setup or teardown too.
            outcome, longrepr, wasxfail = "skipped", self._longrepr(error), xfail.reason
        else:
            outcome, longrepr = "failed", self._longrepr(error)
        # pytest heads a setup/teardown error with the location's domain: the case's name.
        path, line, domain = self.location
        report = pytest.TestReport(
            nodeid,
            (path, line, domain if self.case_is_item else case_nodeid(domain, case_id, self.slot)),
            keywords,  # type: ignore[arg-type]
            outcome,  # type: ignore[arg-type]
            longrepr,
            phase.when,
            sections=sections,
            duration=phase.duration,
            start=phase.start,
            stop=phase.start + phase.duration,
        )
        if wasxfail is not None:
            report.wasxfail = wasxfail
        return report


def _cut_off_call(call: Phase) -> Phase:
    """The call phase of a case a stop cut off, as its skipped report tells it: its times and
    output, without the CancelledError of the stop (nor the report the project's hooks made
    of it: the case's report is the skip)."""
    told = Phase.empty("call", call.start)
    told.duration = call.duration
    told.out, told.err, told.records = call.out, call.err, call.records
    return told


def case_status(
    report: pytest.TestReport, status: tuple[str, str, Any], in_summary: bool
) -> tuple[str, str, Any]:
    """The category, letter and word of a case's call report, given the subtests plugin's.

    pytest 9 hides passed, skipped, xfailed and xpassed subtests at default verbosity: no count
    in the summary line and no ``-r`` line. A case is a test, so it is counted at every
    verbosity (passing ones without a progress letter, so that 10,000 cases do not fill the
    screen). An xfailed or xpassed case is counted, and listed by ``-rxX``, as its parametrized
    test (pytest-subtests counts "subtests xfailed", which ``-r`` does not list).
    In the short summary (``-r``) a case reads as its parametrized test (``FAILED test_x[7]``),
    and a test of a group as that test everywhere;
    pytest also folds every skip under the first skipped report's word, which would name one
    case for all.
    """
    case_id = getattr(report, CASE_ID_ATTRIBUTE)
    category, letter, word = status
    # A test of a group is its own test, not a case of one: in -v lines too it reads as the
    # test would without the group (test_x PASSED, not test_x SUBPASSED[test_x]).
    in_summary = in_summary or getattr(report, PARENT_NODEID_ATTRIBUTE, None) == report.nodeid
    if hasattr(report, "wasxfail"):
        if category == "":  # pytest 9's at default verbosity: its words at -v
            letter, word = ("y", f"SUBXFAIL[{case_id}]") if report.skipped else ("X", "XPASS")
        category = "xfailed" if report.skipped else "xpassed"
        if in_summary:
            word = "XFAIL" if report.skipped else "XPASS"
        return category, letter, word
    if report.skipped:
        if category == "":
            category, letter, word = "skipped", "-", f"SUBSKIPPED[{case_id}]"
        return category, letter, "SKIPPED" if in_summary else word
    if report.passed:
        if category == "":
            category, letter, word = "subtests passed", "", f"SUBPASSED[{case_id}]"
        return category, letter, "PASSED" if in_summary else word
    if report.failed and in_summary:
        return category, letter, "FAILED"
    return status
