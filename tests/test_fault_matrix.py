"""Fault matrix: every kind of fault, in every phase of one case, handled as a user expects.

Each test writes a small test file whose ``@concurrent_cases`` parent has three cases, ``bad``,
``good1`` and ``good2`` (plus a ``trigger`` case that fails on purpose for the cancellation
faults). Every case uses two per-case fixtures, ``outer`` and ``inner`` (``inner`` requests
``outer``), which log ``setup <fixture> <case>`` / ``teardown <fixture> <case>`` lines to
``events.txt``. Only the ``bad`` case has the fault, in one phase:

- ``setup``: in ``inner``'s setup (``outer`` is already set up and must be torn down);
- ``body``: in the test function;
- ``teardown``: in ``inner``'s teardown (``outer``'s teardown still has to run).

Before its fault the bad case prints a marker, on stdout and stderr, that is made at run time
(so no source line shown in a traceback contains it), then waits until the good cases, which
start their bodies only once the marker is written, have ended: the cases interleave while the
bad case's output is pending. A plain ``test_after`` follows the parent.

Every combination checks what a user sees:

(a) the bad case's report: its ``-v`` status line(s) and its JUnit ``<testcase>`` element;
(b) every fixture set up is torn down exactly once, in reverse order (``events.txt``);
(c) the bad case's output appears in no other ``<testcase>`` (``-o junit_logging=all``);
(d) the session goes on (``test_after`` runs and passes) except after ``-x`` and Ctrl-C.

Expected report of the bad case, phase x fault. Statuses are the ``-v`` words (pytest 9's;
pytest 8 + pytest-subtests spells them ``SUBPASS``, ``SUBFAIL``, ``SUBSKIP``); JUnit is the
element inside the case's ``<testcase>``. Outside the body, a fixture error is reported as
pytest reports a fixture error of a parametrized test (ERROR at setup/teardown; a skip or xfail
in a fixture as SKIPPED / XFAIL, after the body's own SUBPASSED for a teardown).

=========  ==================  ========================  ===================================
phase      fault               -v status(es)             JUnit element: message
=========  ==================  ========================  ===================================
setup      AssertionError      ERROR                     error: AssertionError: bad assert
setup      ValueError          ERROR                     error: ValueError: bad value error
setup      CustomBaseError     ERROR                     error: CustomBaseError
setup      SystemExit          ERROR                     error: SystemExit: 3
setup      pytest.skip         SKIPPED                   skipped (pytest.skip): bad skips
setup      pytest.fail         ERROR                     error: Failed: bad fails
setup      pytest.xfail        XFAIL                     skipped (pytest.xfail): bad xfails
setup      hang (timeout 0.5)  ERROR                     error: CaseTimeoutError
setup      fail_fast           SUBSKIPPED                skipped: cancelled: fail_fast: ...
setup      -x                  SUBSKIPPED                skipped: cancelled: stopping after ...
body       AssertionError      SUBFAILED                 failure: AssertionError: bad assert
body       ValueError          SUBFAILED                 failure: ValueError: bad value error
body       CustomBaseError     SUBFAILED                 failure: CustomBaseError
body       SystemExit          SUBFAILED                 failure: SystemExit: 3
body       pytest.skip         SUBSKIPPED                skipped (pytest.skip): bad skips
body       pytest.fail         SUBFAILED                 failure: Failed: bad fails
body       pytest.xfail        SUBXFAIL                  skipped (pytest.xfail): bad xfails
body       hang (timeout 0.5)  SUBFAILED                 failure: CaseTimeoutError
body       fail_fast           SUBSKIPPED                skipped: cancelled: fail_fast: ...
body       -x                  SUBSKIPPED                skipped: cancelled: stopping after ...
teardown   AssertionError      SUBPASSED, ERROR          error: AssertionError: bad assert
teardown   ValueError          SUBPASSED, ERROR          error: ValueError: bad value error
teardown   CustomBaseError     SUBPASSED, ERROR          error: CustomBaseError
teardown   SystemExit          SUBPASSED, ERROR          error: SystemExit: 3
teardown   pytest.skip         SUBPASSED, SKIPPED        skipped (pytest.skip): bad skips
teardown   pytest.fail         SUBPASSED, ERROR          error: Failed: bad fails
teardown   pytest.xfail        SUBPASSED, XFAIL          skipped (pytest.xfail): bad xfails
teardown   hang (timeout 0.5)  SUBPASSED, ERROR          error: CaseTimeoutError
teardown   fail_fast           SUBPASSED                 (none: the body passed; the
teardown   -x                  SUBPASSED                  interrupted teardown is no error)
setup      Ctrl-C              SUBSKIPPED                skipped: cancelled: the parent ...
body       Ctrl-C              SUBSKIPPED                skipped: cancelled: the parent ...
teardown   Ctrl-C              SUBPASSED                 (none)
=========  ==================  ========================  ===================================

A case reported ERROR or SUBFAILED fails the parent ("1 of 3 cases errored: bad" for an ERROR
alone, else "1 of 3 cases failed: bad"); with
fail_fast / -x the parent fails because of ``trigger``. The run exits 1 when the parent fails,
0 otherwise, 2 after Ctrl-C. A cancelled case (fail_fast, -x, Ctrl-C) that had not finished its
body is reported with the cancellation only, so its output is in no report at all; the check (c)
then only asks that it is in no *other* report.

The body row runs a second time with a plain ``def`` test, whose cases run in threads (a hung
thread is cut off by the timeout and left to finish on its own): the same outcomes.
"""

from __future__ import annotations

import collections
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ctrl_c

PHASES = ("setup", "body", "teardown")
FAULTS = (
    "assert",
    "exception",
    "baseexception",
    "systemexit",
    "skip",
    "fail",
    "xfail",
    "hang",
    "fail_fast",
    "exitfirst",
)
CANCELLATIONS = ("fail_fast", "exitfirst")
# The marker the bad case prints; the test file builds it at run time from these pieces.
MARKER = "LEAK" + "MARK-" + "42"

# What the bad case's report must say: its -v statuses, and (JUnit element, message fragment).
# See the table in the module docstring. "skip"/"xfail" are <skipped type="pytest.skip|xfail">.
_ERROR_MESSAGES = {
    "assert": "AssertionError: bad assert",
    "exception": "ValueError: bad value error",
    "baseexception": "CustomBaseError: bad base exception",
    "systemexit": "SystemExit: 3",
    "fail": "Failed: bad fails",
    "hang": "CaseTimeoutError",
}
_CANCELLED = {
    "fail_fast": "cancelled: fail_fast: case 'trigger' failed",
    "exitfirst": "cancelled: stopping after 1 failures",
}


@dataclass(frozen=True)
class Expected:
    statuses: tuple[str, ...]
    junit: tuple[str, str] | None  # None: the case passed

    @property
    def case_failed(self) -> bool:
        return any(status in ("ERROR", "SUBFAILED") for status in self.statuses)


def expected(phase: str, fault: str) -> Expected:
    """The table of the module docstring, row by row."""
    if fault in CANCELLATIONS:
        if phase == "teardown":
            return Expected(("SUBPASSED",), None)
        return Expected(("SUBSKIPPED",), ("skip", _CANCELLED[fault]))
    if fault == "skip":
        outcome = {
            "setup": ("SKIPPED",),
            "body": ("SUBSKIPPED",),
            "teardown": ("SUBPASSED", "SKIPPED"),
        }
        return Expected(outcome[phase], ("skip", "bad skips"))
    if fault == "xfail":
        outcome = {"setup": ("XFAIL",), "body": ("SUBXFAIL",), "teardown": ("SUBPASSED", "XFAIL")}
        return Expected(outcome[phase], ("xfail", "bad xfails"))
    message = _ERROR_MESSAGES[fault]
    if phase == "body":
        return Expected(("SUBFAILED",), ("failure", message))
    if phase == "setup":
        return Expected(("ERROR",), ("error", message))
    return Expected(("SUBPASSED", "ERROR"), ("error", message))


def _matrix() -> list[object]:
    params = []
    for phase in PHASES:
        for fault in FAULTS:
            params.append(pytest.param(phase, fault, id=f"{phase}-{fault}"))
    return params


# --------------------------------------------------------------------------------------------
# The test file


TEST_FILE = """
import asyncio
import pathlib
import sys
import time

import pytest
import pytest_asyncio
from asyncgroup import concurrent_cases

EVENTS = pathlib.Path(__file__).with_name("events.txt")
PHASE = {phase!r}
FAULT = {fault!r}
MARKER = "LEAK" + "MARK-" + str(6 * 7)


def log(line):
    with EVENTS.open("a") as f:
        f.write(line + "\\n")


class CustomBaseError(BaseException):
    pass


state = {{"reached": False, "good_done": 0}}


def announce(case, phase):  # in the bad case's faulty phase: write the marker; fault due
    if case != "bad" or phase != PHASE:
        return False
    print(MARKER, "stdout of bad in", phase)
    sys.stderr.write(MARKER + " stderr of bad\\n")
    log("reached " + phase)
    state["reached"] = True
    return True


def raise_fault():
    if FAULT == "assert":
        assert 1 == 2, "bad assert"
    elif FAULT == "exception":
        raise ValueError("bad value error")
    elif FAULT == "baseexception":
        raise CustomBaseError("bad base exception")
    elif FAULT == "systemexit":
        raise SystemExit(3)
    elif FAULT == "skip":
        pytest.skip("bad skips")
    elif FAULT == "fail":
        pytest.fail("bad fails")
    elif FAULT == "xfail":
        pytest.xfail("bad xfails")
    # else hang: cut off by the timeout, or cancelled by fail_fast, -x or Ctrl-C


async def fault(case, phase):
    if announce(case, phase):
        while state["good_done"] < 2:  # the good cases run and end while this output is pending
            await asyncio.sleep(0.005)
        raise_fault()
        await asyncio.sleep(600)


def blocking_fault(case, phase):
    if announce(case, phase):
        while state["good_done"] < 2:
            time.sleep(0.005)
        raise_fault()
        time.sleep(60)


@pytest_asyncio.fixture
async def outer(case):
    log("setup outer " + case)
    yield
    log("teardown outer " + case)
    if case.startswith("good"):
        state["good_done"] += 1


@pytest_asyncio.fixture
async def inner(outer, case):
    await fault(case, "setup")
    log("setup inner " + case)
    yield
    log("teardown inner " + case)
    await fault(case, "teardown")


@concurrent_cases({cases!r}, timeout={timeout}, fail_fast={fail_fast})
{test_function}


def test_after():
    log("after ran")
"""

ASYNC_TEST = """
async def test_x(case, inner):
    if case.startswith("good"):  # runs once the bad case has written its output
        while not state["reached"]:
            await asyncio.sleep(0.005)
    print("own output of", case)
    await fault(case, "body")
    if case == "trigger":  # fails once the bad case is in its fault and the good ones are done
        while not (state["reached"] and state["good_done"] == 2):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert False, "trigger fails"
"""

BLOCKING_TEST = """
def test_x(case, inner):
    if case.startswith("good"):
        while not state["reached"]:
            time.sleep(0.005)
    print("own output of", case)
    blocking_fault(case, "body")
    if case == "trigger":
        while not (state["reached"] and state["good_done"] == 2):
            time.sleep(0.01)
        time.sleep(0.05)
        assert False, "trigger fails"
"""


def write_test_file(
    pytester: pytest.Pytester, phase: str, fault: str, blocking: bool = False
) -> list[str]:
    """The test file for one combination; returns its case ids."""
    cases = ["bad", "good1", "good2"] + (["trigger"] if fault in CANCELLATIONS else [])
    source = TEST_FILE.format(
        phase=phase,
        fault=fault,
        cases=cases,
        # Ctrl-C: a timeout far past the bound its test checks, so that only the stop ends it.
        timeout={"hang": 0.5, "sigint": 600}.get(fault, 10),
        fail_fast=fault == "fail_fast",
        test_function=(BLOCKING_TEST if blocking else ASYNC_TEST).strip(),
    )
    pytester.makepyfile(test_mod=source)
    return cases


# --------------------------------------------------------------------------------------------
# Reading what the user sees

_STATUS = re.compile(r"^test_mod\.py::test_x\[(\w+)\] (?:\[\w+\] )?(SUB)?([A-Z]+)")
_LONG = {"PASS": "PASSED", "FAIL": "FAILED", "SKIP": "SKIPPED"}  # pytest-subtests' words


def statuses(lines: list[str]) -> dict[str, list[str]]:
    """Case id -> the -v statuses of its lines, in order, spelled as pytest 9 does."""
    found: dict[str, list[str]] = collections.defaultdict(list)
    for line in lines:
        match = _STATUS.match(line)
        if match:
            case, sub, word = match.groups()
            found[case].append((sub or "") + _LONG.get(word, word))
    return dict(found)


def junit_cases(path: Path) -> dict[str, list[ET.Element]]:
    """<testcase> elements by name (a name may have several elements)."""
    elements: dict[str, list[ET.Element]] = collections.defaultdict(list)
    for testcase in ET.parse(path).getroot().iter("testcase"):
        elements[testcase.get("name", "")].append(testcase)
    return dict(elements)


def outcome_elements(elements: list[ET.Element]) -> list[tuple[str, str]]:
    """(kind, message and text) of every failure/error/skipped element; kind is "failure",
    "error", "skip" or "xfail"."""
    found = []
    for testcase in elements:
        for child in testcase:
            if child.tag in ("failure", "error"):
                kind = child.tag
            elif child.tag == "skipped":
                kind = "xfail" if child.get("type") == "pytest.xfail" else "skip"
            else:
                continue
            found.append((kind, f"{child.get('message', '')}\n{child.text or ''}"))
    return found


def shown(outcomes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Outcome elements for a message: the kind and the first line of the message."""
    return [(kind, text.splitlines()[0][:150] if text else "") for kind, text in outcomes]


def all_text(elements: list[ET.Element]) -> str:
    return "\n".join(ET.tostring(testcase, encoding="unicode") for testcase in elements)


def fixture_events(path: Path) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """(case -> [(setup|teardown, fixture)] in order, the other lines)."""
    per_case: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    other = []
    for line in path.read_text().splitlines():
        words = line.split()
        if len(words) == 3 and words[0] in ("setup", "teardown"):
            per_case[words[2]].append((words[0], words[1]))
        else:
            other.append(line)
    return dict(per_case), other


# --------------------------------------------------------------------------------------------
# The checks, shared by the matrix and the Ctrl-C tests


def check_report_of_bad_case(
    lines: list[str], junit: dict[str, list[ET.Element]], want: Expected
) -> list[str]:
    """(a): the bad case's -v lines and JUnit element."""
    problems = []
    got = statuses(lines).get("bad", [])
    if got != list(want.statuses):
        problems.append(f"(a) -v statuses of bad: {got}, expected {list(want.statuses)}")
    outcomes = outcome_elements(junit.get("test_x[bad]", []))
    if want.junit is None:
        if outcomes:
            problems.append(f"(a) JUnit of bad: {shown(outcomes)}, expected it to pass")
    else:
        kind, fragment = want.junit
        if [k for k, _ in outcomes] != [kind] or fragment not in outcomes[0][1]:
            problems.append(
                f"(a) JUnit of bad: {shown(outcomes)}, expected one {kind} with {fragment!r}"
            )
    return problems


def check_other_cases(
    lines: list[str], junit: dict[str, list[ET.Element]], cases: list[str]
) -> list[str]:
    """The good cases pass, with their own output; the trigger fails as it should."""
    problems = []
    seen = statuses(lines)
    for case in cases:
        want = {"bad": None, "trigger": ["SUBFAILED"]}.get(case, ["SUBPASSED"])
        if want is not None and seen.get(case) != want:
            problems.append(f"-v statuses of {case}: {seen.get(case)}, expected {want}")
        elements = junit.get(f"test_x[{case}]", [])
        if not elements:
            problems.append(f"no JUnit testcase for {case}")
        elif case.startswith("good"):
            if outcome_elements(elements):
                problems.append(
                    f"JUnit of {case}: {shown(outcome_elements(elements))}, expected a pass"
                )
            if f"own output of {case}" not in all_text(elements):
                problems.append(f"JUnit of {case} lacks the case's own output")
    return problems


def check_teardowns(events: Path, cases: list[str], phase: str) -> list[str]:
    """(b): per case, what was set up is torn down exactly once, in reverse order."""
    problems = []
    per_case, other = fixture_events(events)
    for case in cases:
        ordered = per_case.get(case, [])
        setups = [name for what, name in ordered if what == "setup"]
        teardowns = [name for what, name in ordered if what == "teardown"]
        want_setups = ["outer"] if case == "bad" and phase == "setup" else ["outer", "inner"]
        if setups != want_setups:
            problems.append(f"(b) {case} set up {setups}, expected {want_setups}")
        if collections.Counter(teardowns) != collections.Counter(setups):
            problems.append(f"(b) {case}: set up {setups} but torn down {teardowns}")
        elif teardowns != setups[::-1]:
            problems.append(f"(b) {case}: torn down in the order {teardowns}")
    if other.count(f"reached {phase}") != 1:
        problems.append(f"the bad case did not reach its fault once: {other}")
    return problems


def check_no_leak(junit: dict[str, list[ET.Element]], marker_in_bad: bool) -> list[str]:
    """(c): the bad case's output is in its own report only."""
    problems = []
    for name, elements in junit.items():
        if name != "test_x[bad]" and MARKER in all_text(elements):
            problems.append(f"(c) the bad case's output leaked into the report of {name}")
    bad_text = all_text(junit.get("test_x[bad]", []))
    if marker_in_bad and not (
        f"{MARKER} stdout of bad" in bad_text and f"{MARKER} stderr of bad" in bad_text
    ):
        problems.append("(c) the bad case's own report lacks its stdout/stderr")
    return problems


def check_session_goes_on(
    events: Path, junit: dict[str, list[ET.Element]], goes_on: bool
) -> list[str]:
    """(d): test_after runs and passes, or (after -x, Ctrl-C) does not run."""
    ran = "after ran" in events.read_text().splitlines()
    after = junit.get("test_after", [])
    if goes_on and not (ran and after and not outcome_elements(after)):
        return ["(d) test_after did not run and pass after the parent"]
    if not goes_on and (ran or after):
        return ["(d) test_after ran although the session should have stopped"]
    return []


# --------------------------------------------------------------------------------------------
# The matrix


@pytest.mark.parametrize(("phase", "fault"), _matrix())
def test_fault_in_one_case_is_reported_torn_down_and_contained(
    pytester: pytest.Pytester, phase: str, fault: str
) -> None:
    """One fault in one phase of the bad case: (a) its report, (b) every fixture torn down
    once, (c) its output in no other report, (d) the session goes on (not after -x)."""
    run_and_check(pytester, phase, fault, blocking=False)


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_in_a_blocking_body_is_handled_as_in_an_async_one(
    pytester: pytest.Pytester, fault: str
) -> None:
    """The body row of the matrix for a plain ``def`` test, whose cases run in threads: the
    same reports (a hang is cut off and its thread left behind), teardowns, output, session."""
    run_and_check(pytester, "body", fault, blocking=True)


def run_and_check(pytester: pytest.Pytester, phase: str, fault: str, blocking: bool) -> None:
    cases = write_test_file(pytester, phase, fault, blocking)
    args = ["-v", "-p", "no:cacheprovider", "--junitxml=junit.xml", "-o", "junit_logging=all"]
    if fault == "exitfirst":
        args.append("-x")
    result = pytester.runpytest_subprocess(*args, timeout=60)
    output = "\n".join(result.outlines + result.errlines)
    assert "INTERNALERROR" not in output, output
    junit = junit_cases(pytester.path / "junit.xml")
    events = pytester.path / "events.txt"
    want = expected(phase, fault)

    problems = check_report_of_bad_case(result.outlines, junit, want)
    problems += check_other_cases(result.outlines, junit, cases)
    problems += check_teardowns(events, cases, phase)
    cancelled_early = fault in CANCELLATIONS and phase != "teardown"
    problems += check_no_leak(junit, marker_in_bad=not cancelled_early)
    problems += check_session_goes_on(events, junit, goes_on=fault != "exitfirst")

    parent_fails = want.case_failed or fault in CANCELLATIONS
    parent = outcome_elements(junit.get("test_x", []))
    if parent_fails:
        culprit = "trigger" if fault in CANCELLATIONS else "bad"
        # A case whose only reports are ERROR (a fixture error) errored, as pytest counts it.
        errored = culprit == "bad" and "SUBFAILED" not in want.statuses
        message = f"1 of {len(cases)} cases {'errored' if errored else 'failed'}: {culprit}"
        if [k for k, _ in parent] != ["failure"] or message not in parent[0][1]:
            problems.append(f"parent: {shown(parent)}, expected a failure {message!r}")
    elif parent:
        problems.append(f"parent: {shown(parent)}, expected it to pass")
    expected_ret = pytest.ExitCode.TESTS_FAILED if parent_fails else pytest.ExitCode.OK
    if result.ret != expected_ret:
        problems.append(f"exit code {result.ret}, expected {expected_ret!r}")
    assert not problems, "\n".join(problems) + "\n\n" + output


# --------------------------------------------------------------------------------------------
# Ctrl-C


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
@pytest.mark.parametrize("phase", PHASES)
def test_ctrl_c_in_any_phase_tears_everything_down_and_exits_2(
    pytester: pytest.Pytester, phase: str
) -> None:
    """SIGINT while the bad case hangs in its phase: pytest exits 2 within seconds, every
    fixture set up is torn down once, the bad case's output stays its own, no later test runs."""
    cases = write_test_file(pytester, phase, "sigint")
    events = pytester.path / "events.txt"
    ready = [f"reached {phase}", "teardown outer good1", "teardown outer good2"]
    junit_args = ["--junitxml=junit.xml", "-o", "junit_logging=all"]
    output, code, elapsed = ctrl_c(
        pytester,
        ["-m", "pytest", "-v", "-p", "no:cacheprovider", *junit_args, "test_mod.py"],
        lambda: events.exists() and all(r in events.read_text() for r in ready),
        settle=0.1,  # the bad case reaches its await
    )
    lines = output.splitlines()
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert elapsed < 60, output  # not the bad case's 600 s (nor its timeout's)
    assert "KeyboardInterrupt" in output
    assert "INTERNALERROR" not in output
    junit = junit_cases(pytester.path / "junit.xml")
    if phase == "teardown":
        want = Expected(("SUBPASSED",), None)
    else:
        want = Expected(("SUBSKIPPED",), ("skip", "cancelled: the parent test was interrupted"))
    problems = check_report_of_bad_case(lines, junit, want)
    problems += check_other_cases(lines, junit, cases)
    problems += check_teardowns(events, cases, phase)
    problems += check_no_leak(junit, marker_in_bad=phase == "teardown")
    problems += check_session_goes_on(events, junit, goes_on=False)
    assert not problems, "\n".join(problems) + "\n\n" + output
