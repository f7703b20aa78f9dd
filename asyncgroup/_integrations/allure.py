"""allure-pytest (checked on 2.13.5 and 2.16.2): a result per case, as for its parametrized test.

allure-pytest builds a test's result in the item's hooks, which only the parent runs. Here each
case gets a result of its own, written once its reports are built: the test's name with the
case's id (or its ``@allure.title``), full name, description, labels and links, the case's
parameters and history id, its status and status details (message and traceback, worded as
allure-pytest words them), its output and log as attachments (unless ``--allure-no-capture``),
and the time its body ran.

allure records the test and its open steps in one stack per thread. Cases take turns in one
thread, so their steps would nest in each other: while a case runs, the stack is the case's own,
holding the case's result, so ``allure.step``, ``allure.attach`` and ``allure.dynamic`` in a case
land in that case's result. Outside the cases (the parent's fixtures) the stack is the thread's,
as before.
"""

from __future__ import annotations

import contextlib
import doctest
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from asyncgroup._capture import current_output
from asyncgroup._declare import Case
from asyncgroup._outcome import (
    CASE_NODEID_ATTRIBUTE,
    CASE_REPORT_LISTENERS,
    CaseTold,
    Phase,
)

# Every integration module is imported (see _integrations.register); this one is registered, and
# its code run, only where allure-pytest is installed.
with contextlib.suppress(ImportError):  # without allure-pytest, never registered
    from allure_commons import plugin_manager  # type: ignore[import-not-found, unused-ignore]
    from allure_commons.model2 import (  # type: ignore[import-not-found, unused-ignore]
        ATTACHMENT_PATTERN,
        Attachment,
        Label,
        Link,
        Parameter,
        Status,
        StatusDetails,
        TestResult,
    )
    from allure_commons.types import AttachmentType, LabelType  # type: ignore[import-not-found, unused-ignore]
    from allure_commons.utils import (  # type: ignore[import-not-found, unused-ignore]
        host_tag,
        md5,
        platform_label,
        represent,
        thread_tag,
        uuid4,
    )
    from allure_pytest.utils import (  # type: ignore[import-not-found, unused-ignore]
        allure_description,
        allure_description_html,
        allure_full_name,
        allure_labels,
        allure_links,
        allure_name,
        allure_package,
        allure_suite_labels,
        allure_title,
        get_history_id,
        get_pytest_report_status,
    )

    # Not under its own name, which pluggy would take for a hook.
    from allure_pytest.utils import pytest_markers as marker_tags  # type: ignore[import-not-found, unused-ignore]

allure_title_path = None  # allure-pytest 2.13.5 has none (and writes no title path)
with contextlib.suppress(ImportError):
    from allure_pytest.utils import allure_title_path  # type: ignore[import-not-found, no-redef, unused-ignore]

PLUGIN = "allure_pytest"


class _CaseStacks:
    """allure's per-thread stacks (``ThreadContextItems``), with one of its own for each running
    case: what allure-pytest's reporter keeps its items in, with the same methods."""

    def __init__(self, threads: Any) -> None:
        self.threads = threads
        self.cases: dict[str, OrderedDict[str, Any]] = {}

    def _stack(self) -> OrderedDict[str, Any]:
        output = current_output.get()
        if output is None or not output.nodeid:
            return self.threads.thread_context  # type: ignore[no-any-return]
        stack = self.cases.get(output.nodeid)
        if stack is None:  # the case's result, at the bottom of its stack
            result = TestResult(uuid=uuid4())
            stack = self.cases[output.nodeid] = OrderedDict([(result.uuid, result)])
        return stack

    def __setitem__(self, key: str, value: Any) -> None:
        self._stack()[key] = value

    def __getitem__(self, key: str) -> Any:
        return self._stack()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._stack())

    def __reversed__(self) -> Iterator[str]:
        return reversed(self._stack())

    def get(self, key: str) -> Any:
        return self._stack().get(key)

    def pop(self, key: str) -> Any:
        return self._stack().pop(key)

    def cleanup(self) -> None:
        self.threads.cleanup()

    def result(self, nodeid: str) -> Any:
        """The case's result (the steps, attachments, title... made in it), off its stack."""
        stack = self.cases.pop(nodeid, None)
        return next(iter(stack.values())) if stack else TestResult(uuid=uuid4())


class _CaseResults:
    def __init__(self, config: pytest.Config, listener: Any) -> None:
        self.config = config
        reporter = listener.allure_logger
        self.stacks = reporter._items = _CaseStacks(reporter._items)
        self.host, self.thread = host_tag(), thread_tag()

    def write(self, case: CaseTold) -> None:
        first = case.reports[0][0]
        result = self.stacks.result(getattr(first, CASE_NODEID_ATTRIBUTE, first.nodeid))
        item = case.item
        self._describe(result, item, case.case, first)
        result.status, result.statusDetails = _status(case.reports)
        call = next((phase for report, phase in case.reports if report.when == "call"), None)
        if call is not None:  # as allure-pytest times a test: its call
            result.start, result.stop = int(call.start * 1000), int(call.stop * 1000)
        if self.config.getoption("attach_capture", True):
            last = case.reports[-1][0]  # which carries the output of every phase
            for name, body in (
                ("log", last.caplog),
                ("stdout", last.capstdout),
                ("stderr", last.capstderr),
            ):
                if body:
                    _attach(result, name, body)
        plugin_manager.hook.report_result(result=result)

    def _describe(
        self, result: Any, item: pytest.Function, case: Case, report: pytest.TestReport
    ) -> None:
        """What allure-pytest takes from the item: names, labels, links, parameters."""
        callspec = getattr(item, "callspec", None)
        params = {**(callspec.params if callspec is not None else {}), **case.values}
        if result.name is None:  # not set with allure.dynamic.title in the case
            nodeid = getattr(report, CASE_NODEID_ATTRIBUTE, report.nodeid)
            if allure_title(item):
                result.name = allure_name(item, params, nodeid.rpartition("[")[2][:-1])
            else:
                result.name = nodeid.rpartition("::")[2]
        result.fullName = allure_full_name(item)
        if allure_title_path is not None:
            result.titlePath = [*allure_title_path(item)]
        result.testCaseId = md5(result.fullName)
        result.description = result.description or allure_description(item)
        result.descriptionHtml = result.descriptionHtml or allure_description_html(item)
        named = {parameter.name for parameter in result.parameters}
        result.parameters.extend(
            Parameter(name=name, value=represent(value))
            for name, value in params.items()
            if name not in named
        )
        result.historyId = get_history_id(result.fullName, result.parameters, params)
        labels = result.labels
        marked = _CaseItem(item, case.marks)  # the case's marks too
        labels.extend(Label(name=name, value=value) for name, value in allure_labels(marked))
        labels.extend(Label(name=LabelType.TAG, value=value) for value in marker_tags(marked))
        kinds = {LabelType.PARENT_SUITE, LabelType.SUITE, LabelType.SUB_SUITE}
        suites = {label.name for label in labels if label.name in kinds}
        labels.extend(
            Label(name=name, value=value)
            for name, value in allure_suite_labels(marked)
            if name not in suites
        )
        labels.append(Label(name=LabelType.HOST, value=self.host))
        labels.append(Label(name=LabelType.THREAD, value=self.thread))
        labels.append(Label(name=LabelType.FRAMEWORK, value="pytest"))
        labels.append(Label(name=LabelType.LANGUAGE, value=platform_label()))
        labels.append(Label(name="package", value=allure_package(item)))
        result.links.extend(Link(kind, url, name) for kind, url, name in allure_links(marked))


class _CaseItem:
    """The test as allure-pytest reads its marks, with the case's own marks (its labels, links
    and tags), as a parametrized test has those of its parameter set."""

    def __init__(self, item: pytest.Function, marks: Iterable[pytest.Mark]) -> None:
        self._item = item
        self._marks = list(marks)
        self.keywords = {**dict.fromkeys(mark.name for mark in self._marks), **item.keywords}

    def iter_markers(self, name: str | None = None) -> Iterator[pytest.Mark]:
        yield from (mark for mark in self._marks if name is None or mark.name == name)
        yield from self._item.iter_markers(name)

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return next(self.iter_markers(name), None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._item, name)


def _status(reports: list[tuple[pytest.TestReport, Phase]]) -> tuple[Any, Any]:
    """A test's status from its phases, as allure-pytest's makereport combines them."""
    status = details = None
    for report, phase in reports:
        now, told = _phase_status(report, phase)
        if (
            report.when == "setup"
            or (report.when == "call" and status in (None, Status.PASSED))
            or (now in (Status.FAILED, Status.BROKEN) and status == Status.PASSED)
        ):
            status, details = now, told
    return status or Status.SKIPPED, details


def _phase_status(report: pytest.TestReport, phase: Phase) -> tuple[Any, Any]:
    status = get_pytest_report_status(report)
    error = phase.error
    if error is not None:
        message = pytest.ExceptionInfo.from_exception(error).exconly()
        if hasattr(report, "wasxfail"):
            reason = report.wasxfail
            message = (f"XFAIL {reason}" if reason else "XFAIL") + "\n\n" + message
        broken = not isinstance(
            error, (AssertionError, pytest.fail.Exception, doctest.DocTestFailure)
        )
        if status != Status.SKIPPED and broken:
            status = Status.BROKEN
        return status, StatusDetails(message=message, trace=report.longreprtext)
    if report.skipped and isinstance(report.longrepr, tuple):  # a skip mark, as pytest's skip
        return status, StatusDetails(message=report.longrepr[2], trace=report.longreprtext)
    if status == Status.PASSED and hasattr(report, "wasxfail"):
        reason = report.wasxfail
        return status, StatusDetails(message=f"XPASS {reason}" if reason else "XPASS")
    return status, None


def _attach(result: Any, name: str, body: str) -> None:
    kind = AttachmentType.TEXT
    file_name = ATTACHMENT_PATTERN.format(prefix=uuid4(), ext=kind.extension)
    result.attachments.append(Attachment(source=file_name, name=name, type=kind.mime_type))
    plugin_manager.hook.report_attached_data(body=body, file_name=file_name)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # allure-pytest makes its listener in its pytest_configure, only with --alluredir.
    config = session.config
    listener = config.pluginmanager.get_plugin("allure_listener")
    if listener is not None:
        results = _CaseResults(config, listener)
        config.stash.setdefault(CASE_REPORT_LISTENERS, []).append(results.write)
