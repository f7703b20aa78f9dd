"""Behaviours a mutation run found untested (issue 16), each checked end to end.

Most tests here are differential: the same test file is run once with ``@concurrent_cases`` and
once as ``@pytest.mark.asyncio`` + ``@pytest.mark.parametrize``, and the two runs must give the
same outcome per node id, the same exit code and the same messages. ``tests/mutants/`` holds the
bugs each test is known to catch (``python tests/mutants/run.py``, or ``nox -s mutants``).
"""

from __future__ import annotations

import dataclasses
import re
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ctrl_c, summary

PRELUDE = """
import asyncio
import itertools
import logging
import os
import sys
import types

import pytest
import pytest_asyncio
from asyncgroup import concurrent_cases

COUNTER = itertools.count(1)


def event(text):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "events.txt"), "a") as f:
        f.write(text + "\\n")
"""

# A -v line: the node id, for a subtest its id again (pytest-subtests), then the outcome.
_OUTCOME_LINE = re.compile(
    r"^(\S+::\S+) (?:\[\S*\] )?(?:SUB)?(PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR|PASS|FAIL|SKIP)\b"
)
_BARE_OUTCOME = re.compile(r"^(?:SUB)?(PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR|PASS|FAIL|SKIP)\b")
_NODE_ID = re.compile(r"^(\S+::\S+)(?: |$)")
_LONG = {"PASS": "PASSED", "FAIL": "FAILED", "SKIP": "SKIPPED"}


def _write(pytester: pytest.Pytester, text: str) -> None:
    pytester.makepyfile(test_both=PRELUDE + "\n\n" + textwrap.dedent(text).strip("\n") + "\n")


def as_cases(template: str) -> str:
    """``@CASES(argnames, argvalues)`` as ``@concurrent_cases``."""
    return template.replace("@CASES(", "@concurrent_cases(")


def as_parametrize(template: str) -> str:
    """``@CASES(...)`` as ``@pytest.mark.asyncio`` + ``@pytest.mark.parametrize(...)``."""
    indent = re.search(r"^( *)@CASES\(", template, re.MULTILINE)
    pad = indent.group(1) if indent else ""
    return template.replace("@CASES(", f"@pytest.mark.asyncio\n{pad}@pytest.mark.parametrize(")


def events(pytester: pytest.Pytester) -> list[str]:
    path = pytester.path / "events.txt"
    return path.read_text().splitlines() if path.exists() else []


def run(
    pytester: pytest.Pytester, *args: str, stdin: bytes | None = None, timeout: float = 60
) -> pytest.RunResult:
    """pytest -v on test_both.py in a subprocess (``stdin`` fed to it, e.g. for --pdb)."""
    basetemp = pytester.path / f"basetemp-{len(list(pytester.path.glob('basetemp-*')))}"
    return pytester.run(
        sys.executable,
        "-m",
        "pytest",
        f"--basetemp={basetemp}",
        "-v",
        "-p",
        "no:cacheprovider",
        *args,
        "test_both.py",
        timeout=timeout,
        stdin=stdin if stdin is not None else pytester.CLOSE_STDIN,
    )


@dataclasses.dataclass
class Run:
    result: pytest.RunResult
    events: list[str]

    @property
    def outcomes(self) -> dict[str, list[str]]:
        return outcomes(self.result)


def run_both(
    pytester: pytest.Pytester, template: str, *args: str, stdin: bytes | None = None
) -> tuple[Run, Run]:
    """Run the template as @concurrent_cases, then as parametrize: (cases, parametrized)."""
    runs = []
    for text in (as_cases(template), as_parametrize(template)):
        (pytester.path / "events.txt").unlink(missing_ok=True)
        _write(pytester, text)
        result = run(pytester, *args, stdin=stdin)
        runs.append(Run(result, events(pytester)))
    return runs[0], runs[1]


def outcomes(result: pytest.RunResult) -> dict[str, list[str]]:
    """Outcomes per node id from the -v lines; a parent of cases (test_x of test_x[a]) left out."""
    found: dict[str, list[str]] = {}
    pending = None  # a node id whose outcome follows on a line of its own (after its output)
    for line in result.outlines:
        if m := _OUTCOME_LINE.match(line):
            found.setdefault(m.group(1), []).append(_LONG.get(m.group(2), m.group(2)))
            pending = None
        elif pending and (m := _BARE_OUTCOME.match(line)):
            found.setdefault(pending, []).append(_LONG.get(m.group(1), m.group(1)))
            pending = None
        elif m := _NODE_ID.match(line):
            pending = m.group(1)
    return {
        nodeid: outcome
        for nodeid, outcome in found.items()
        if not any(other.startswith(nodeid + "[") for other in found)
    }


def assert_same(cases: Run, parametrized: Run) -> None:
    """Same outcome per node id and same exit code."""
    text = f"@concurrent_cases:\n{cases.result.stdout.str()}\n\nparametrize:\n" + (
        parametrized.result.stdout.str()
    )
    assert cases.outcomes == parametrized.outcomes, text
    assert cases.result.ret == parametrized.result.ret, text


def section(result: pytest.RunResult, title: str, name: str) -> str:
    """The ``Captured ...`` section ``name`` of the failure entry ``title``, e.g. ``test_x[a]``.

    A case's entry is headed ``test_x [a]``, a parametrized test's ``test_x[a]``.
    """
    header = re.compile(r"^_{2,} (.*) _{2,}$")
    lines = result.outlines
    start = next(
        i
        for i, line in enumerate(lines)
        if (m := header.match(line)) and m.group(1).replace(" ", "") == title
    )
    text: list[str] = []
    inside = False
    for line in lines[start + 1 :]:
        if header.match(line) or line.startswith("="):
            break
        if re.match(r"^-{2,} .* -{2,}$", line):
            inside = line.strip("- ") == name
            continue
        if inside:
            text.append(line)
    return "\n".join(text)


# ---------------------------------------------------------------------------------------------
# Teardown timeout: every hanging finalizer of a case is cut off, not only the first.


def test_every_hanging_finalizer_of_a_case_is_cut_off_by_the_teardown_timeout(
    pytester: pytest.Pytester,
) -> None:
    fixtures = "\n".join(
        f"""
@pytest_asyncio.fixture
async def {name}():
    yield
    try:
        await asyncio.sleep(4)
        event("{name} ran to its end")
    except asyncio.CancelledError:
        event("{name} cut off")
        raise
"""
        for name in ("first", "second", "third")
    )
    _write(
        pytester,
        fixtures
        + """
@concurrent_cases(["a"], timeout=0.5)
async def test_x(n, first, second, third):
    pass
""",
    )
    result = run(pytester)
    # Torn down in reverse order, each one cut off after the teardown's 0.5 s.
    assert events(pytester) == ["third cut off", "second cut off", "first cut off"], (
        result.stdout.str()
    )
    assert outcomes(result) == {"test_both.py::test_x[a]": ["PASSED", "ERROR"]}
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_x[[]a[]]*",
            "E*CaseTimeoutError: Timeout (>0.5s) from asyncgroup: the case's fixture teardown "
            "did not finish within its timeout of 0.5 s*",
        ]
    )


# ---------------------------------------------------------------------------------------------
# caplog per case: set_level and at_level undone, text / clear / record_tuples the case's own.

CAPLOG = """
@CASES("how", ["set_level", "at_level"])
async def test_caplog(how, caplog):
    name = f"app.{how}"
    logger = logging.getLogger(name)
    if how == "set_level":
        caplog.set_level(logging.DEBUG, logger=name)
        logger.debug("debug %s", how)
        want = [(name, logging.DEBUG, f"debug {how}")]
    else:
        with caplog.at_level(logging.ERROR, logger=name):
            logger.warning("dropped %s", how)
            logger.error("error %s", how)
        want = [(name, logging.ERROR, f"error {how}")]
    await asyncio.sleep(0.05)  # the other case logs meanwhile
    logger.warning("warning %s", how)
    want.append((name, logging.WARNING, f"warning {how}"))
    other = "at_level" if how == "set_level" else "set_level"
    assert caplog.record_tuples == want
    assert f"warning {how}" in caplog.text
    assert other not in caplog.text and "dropped" not in caplog.text
    assert caplog.messages == [message for _, _, message in want]
    caplog.clear()
    assert caplog.records == [] and caplog.text == ""
    logger.warning("after clear %s", how)
    await asyncio.sleep(0.05)
    assert caplog.record_tuples == [(name, logging.WARNING, f"after clear {how}")]


def test_levels_are_back_afterwards():
    assert logging.getLogger("app.set_level").level == logging.NOTSET
    assert logging.getLogger("app.at_level").level == logging.NOTSET
"""


def test_caplog_levels_are_undone_and_its_records_are_the_cases_own(
    pytester: pytest.Pytester,
) -> None:
    cases, parametrized = run_both(pytester, CAPLOG)
    assert_same(cases, parametrized)
    assert parametrized.result.ret == 0, parametrized.result.stdout.str()


# ---------------------------------------------------------------------------------------------
# Capture after a full suspension (capsys.disabled(), the --pdb prompt): the case's output is
# still its own.

CAPSYS_DISABLED = """
@CASES("n", ["a", "b"])
async def test_cap(n, capsys):
    print(f"before {n}")
    await asyncio.sleep(0.01)
    with capsys.disabled():
        print(f"to the terminal {n}")
    print(f"after {n}")
    await asyncio.sleep(0.05)
    print(f"later {n}")
    assert False, n
"""


def test_output_after_capsys_disabled_is_still_the_cases_own(pytester: pytest.Pytester) -> None:
    cases, parametrized = run_both(pytester, CAPSYS_DISABLED)
    assert_same(cases, parametrized)
    for run_ in (cases, parametrized):
        for n in ("a", "b"):
            captured = section(run_.result, f"test_cap[{n}]", "Captured stdout call")
            assert captured == f"before {n}\nafter {n}\nlater {n}", run_.result.stdout.str()
            assert f"to the terminal {n}" in run_.result.stdout.str()


PDB = """
@CASES("n", ["a", "b"])
async def test_pdb(n):
    print(f"before {n}")
    await asyncio.sleep(0.01)
    print(f"after {n}")
    assert False, n
"""


def pdb_captured_stdout(result: pytest.RunResult) -> dict[str, str]:
    """--pdb: the "captured stdout" block shown for each test, by the -v line before it."""
    blocks: dict[str, str] = {}
    current, inside = "", False
    for line in result.outlines:
        if m := _OUTCOME_LINE.match(line):
            current, inside = m.group(1), False
        elif re.match(r"^>{3,} captured stdout >{3,}$", line):
            inside = True
            blocks[current] = ""
        elif re.match(r"^>{3,} .* >{3,}$", line):
            inside = False
        elif inside:
            blocks[current] += line + "\n"
    return blocks


def test_output_after_a_pdb_prompt_is_still_the_cases_own(pytester: pytest.Pytester) -> None:
    # With --pdb the cases run one at a time: b runs after the prompt for a's failure.
    cases, parametrized = run_both(pytester, PDB, "--pdb", stdin=b"c\n" * 5)
    assert_same(cases, parametrized)
    want = {f"test_both.py::test_pdb[{n}]": f"before {n}\nafter {n}\n" for n in ("a", "b")}
    for run_ in (cases, parametrized):
        blocks = pdb_captured_stdout(run_.result)
        shown = {nodeid: text for nodeid, text in blocks.items() if "[" in nodeid}
        assert shown == want, run_.result.stdout.str()


# ---------------------------------------------------------------------------------------------
# tmp_path kept or removed per tmp_path_retention_policy, as pytest does for the test.

TMP_PATH = """
@pytest.fixture
def record(tmp_path, n):
    event(f"{n} {tmp_path}")
    (tmp_path / "file").write_text(n)
    if n == "setup_error":
        raise RuntimeError("the fixture's setup fails")
    return tmp_path


@CASES("n", ["passes", "fails", "setup_error"])
async def test_tmp(n, record):
    assert n == "passes"
"""


@pytest.mark.parametrize("policy", ["all", "failed", "none"])
def test_tmp_path_is_kept_per_retention_policy_as_pytest_keeps_it(
    pytester: pytest.Pytester, policy: str
) -> None:
    pytester.makeini(
        f"""
        [pytest]
        asyncio_default_fixture_loop_scope = function
        tmp_path_retention_policy = {policy}
        """
    )
    cases, parametrized = run_both(pytester, TMP_PATH)
    assert_same(cases, parametrized)

    def kept(run_: Run) -> dict[str, bool]:
        return {line.split()[0]: Path(line.split()[1], "file").exists() for line in run_.events}

    assert kept(cases) == kept(parametrized)
    assert kept(cases)["fails"]  # kept by every policy until the next session
    assert kept(cases)["passes"] == (policy != "failed")


# ---------------------------------------------------------------------------------------------
# xfail(run=False): reported as xfailed, never run.

XFAIL_NOT_RUN = """
@CASES("n", [pytest.param("a", marks=pytest.mark.xfail(run=False, reason="not now")), "b"])
async def test_xf(n):
    event(f"ran {n}")
"""


def test_xfail_run_false_is_reported_as_xfailed_and_not_run(pytester: pytest.Pytester) -> None:
    cases, parametrized = run_both(pytester, XFAIL_NOT_RUN)
    assert_same(cases, parametrized)
    assert cases.events == parametrized.events == ["ran b"]
    for run_ in (cases, parametrized):
        # The -v line gives the reason (pytest-subtests leaves xfailed subtests out of -rx).
        run_.result.stdout.fnmatch_lines(
            ["test_both.py::test_xf[[]a[]] *XFAIL*([[]NOTRUN[]] not now)*"]
        )


# ---------------------------------------------------------------------------------------------
# request.getfixturevalue() inside a case


def test_getfixturevalue_of_a_function_fixture_sets_it_up_for_the_case(
    pytester: pytest.Pytester,
) -> None:
    """Set up for the parent, it would be one instance shared by every case: each case gets its
    own, torn down with it, as each parametrized test would. Wider-scoped fixtures and the
    case's own are served as they are."""
    _write(
        pytester,
        """
        @pytest.fixture
        def other(own):
            event("setup other")
            yield f"other of {own}"
            event("teardown other")

        @pytest.fixture(scope="module")
        def shared():
            event("setup shared")
            return "shared"

        @pytest.fixture
        def own():
            return object()

        @concurrent_cases(["a", "b"])
        async def test_x(n, own, request):
            assert request.getfixturevalue("own") is own
            assert request.getfixturevalue("shared") == "shared"
            assert request.getfixturevalue("other") == f"other of {own}"
            assert request.getfixturevalue("other") == f"other of {own}"
        """,
    )
    result = run(pytester)
    assert outcomes(result) == {
        "test_both.py::test_x[a]": ["PASSED"],
        "test_both.py::test_x[b]": ["PASSED"],
    }
    assert sorted(events(pytester)) == [
        "setup other",
        "setup other",
        "setup shared",
        "teardown other",
        "teardown other",
    ]


# ---------------------------------------------------------------------------------------------
# A function fixture overriding a wider-scoped one of the same name


OVERRIDE = """
@pytest.fixture
def res():
    k = next(COUNTER)
    event(f"setup function res {k}")
    yield k
    event(f"teardown function res {k}")


@CASES("n", ["a", "b"])
async def test_res(n, res):
    await asyncio.sleep(0.01)
    event(f"{n} got {res}")
"""

OVERRIDDEN = """
import pytest
from test_both import event

@pytest.fixture(scope="module")
def res():
    event("setup module res")
    return 0
"""


def test_a_function_fixture_overriding_a_wider_one_is_made_per_case(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(OVERRIDDEN)
    cases, parametrized = run_both(pytester, OVERRIDE)
    assert_same(cases, parametrized)
    assert sorted(cases.events) == sorted(parametrized.events), (cases.events, parametrized.events)
    assert "setup module res" not in cases.events


def test_a_function_fixture_requesting_the_wider_one_it_overrides_is_refused_clearly(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(OVERRIDDEN)
    _write(
        pytester,
        """
        @pytest.fixture
        def res(res):
            return res + 1

        @concurrent_cases(["a"])
        async def test_res(n, res):
            pass
        """,
    )
    result = run(pytester)
    assert outcomes(result) == {"test_both.py::test_res[a]": ["ERROR"]}
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_res[[]a[]]*",
            "E*UsageError: asyncgroup: function-scoped fixture 'res' overrides a module-scoped "
            "fixture of the same name and requests it; asyncgroup cannot serve that per case: "
            "rename one of them",
        ]
    )


# ---------------------------------------------------------------------------------------------
# A fixture that yields twice: an error at the case's teardown, as pytest reports it.

YIELDS_TWICE = """
@pytest.fixture
def twice():
    yield 1
    event("after the first yield")
    yield 2
    event("after the second yield")


@pytest_asyncio.fixture
async def atwice():
    yield 1
    event("async: after the first yield")
    yield 2
    event("async: after the second yield")


@CASES("n", ["a"])
async def test_sync(n, twice):
    pass


@CASES("n", ["a"])
async def test_async(n, atwice):
    pass
"""


def test_a_fixture_that_yields_twice_is_an_error_at_teardown(pytester: pytest.Pytester) -> None:
    cases, parametrized = run_both(pytester, YIELDS_TWICE)
    assert_same(cases, parametrized)
    assert cases.outcomes["test_both.py::test_sync[a]"] == ["PASSED", "ERROR"]
    assert cases.outcomes["test_both.py::test_async[a]"] == ["PASSED", "ERROR"]
    assert cases.events == parametrized.events
    for run_ in (cases, parametrized):
        run_.result.stdout.fnmatch_lines(
            [
                "*ERROR at teardown of test_sync[[]a[]]*",
                "*fixture function has more than one 'yield'*",
            ]
        )


# ---------------------------------------------------------------------------------------------
# monkeypatch per case: delattr, delitem, delenv, chdir, syspath_prepend undone, and refused
# when two running cases patch the same thing.

MONKEYPATCH_PRELUDE = """
TARGET = types.SimpleNamespace(attr="original")
DATA = {"key": "original"}
os.environ["ASYNCGROUP_STRENGTH_VAR"] = "original"
START = (os.getcwd(), list(sys.path))


def patch(monkeypatch, op, tmp_path):
    if op == "setattr":
        monkeypatch.setattr(TARGET, "attr", "patched")
    elif op == "delattr":
        monkeypatch.delattr(TARGET, "attr")
        assert not hasattr(TARGET, "attr")
    elif op == "delattr_by_name":
        monkeypatch.delattr("test_both.TARGET.attr")
        assert not hasattr(TARGET, "attr")
    elif op == "setitem":
        monkeypatch.setitem(DATA, "key", "patched")
    elif op == "delitem":
        monkeypatch.delitem(DATA, "key")
        assert "key" not in DATA
    elif op == "setenv":
        monkeypatch.setenv("ASYNCGROUP_STRENGTH_VAR", "patched")
    elif op == "delenv":
        monkeypatch.delenv("ASYNCGROUP_STRENGTH_VAR")
        assert "ASYNCGROUP_STRENGTH_VAR" not in os.environ
    elif op == "chdir":
        monkeypatch.chdir(tmp_path)
        assert os.getcwd() == str(tmp_path)
    elif op == "syspath_prepend":
        monkeypatch.syspath_prepend(str(tmp_path))
        assert sys.path[0] == str(tmp_path)
    elif op == "missing_quietly":
        monkeypatch.delattr(TARGET, "nothing", raising=False)
        monkeypatch.delitem(DATA, "nothing", raising=False)
        monkeypatch.delenv("ASYNCGROUP_STRENGTH_UNSET", raising=False)
    elif op == "missing_env":
        monkeypatch.delenv("ASYNCGROUP_STRENGTH_UNSET")
    else:
        raise AssertionError(op)
"""

# After the cases, in the same module: every patch is undone.
EVERYTHING_IS_BACK = """


def test_zz_everything_is_back():
    assert TARGET.attr == "original"
    assert DATA == {"key": "original"}
    assert os.environ["ASYNCGROUP_STRENGTH_VAR"] == "original"
    assert (os.getcwd(), sys.path) == START
"""

MONKEYPATCH = (
    MONKEYPATCH_PRELUDE
    + """
@CASES(
    "op",
    ["delattr", "delitem", "delenv", "chdir", "syspath_prepend", "missing_quietly", "missing_env"],
)
async def test_patch(op, monkeypatch, tmp_path):
    patch(monkeypatch, op, tmp_path)
    await asyncio.sleep(0.05)  # the others patch meanwhile
    if op == "syspath_prepend":
        assert sys.path[0] == str(tmp_path)
"""
    + EVERYTHING_IS_BACK
)


def test_monkeypatch_deletions_chdir_and_syspath_are_undone_per_case(
    pytester: pytest.Pytester,
) -> None:
    cases, parametrized = run_both(pytester, MONKEYPATCH)
    assert_same(cases, parametrized)
    assert cases.outcomes["test_both.py::test_patch[missing_env]"] == ["FAILED"]
    assert cases.outcomes["test_both.py::test_zz_everything_is_back"] == ["PASSED"]


def _write_two_patching_cases(pytester: pytest.Pytester, operation: str, then: str) -> None:
    """test_patch: cases "first" and "second" (50 ms later, while the first holds its patch)
    each patch with the ``operation`` a Python expression names, then run ``then`` (the rest
    of the body, its first line unindented); test_zz_everything_is_back after them."""
    body = f"""
@concurrent_cases(["first", "second"])
async def test_patch(n, monkeypatch, tmp_path):
    if n == "second":
        await asyncio.sleep(0.05)  # while the first case holds its patch
    patch(monkeypatch, {operation}, tmp_path)
    {then}
"""
    _write(pytester, MONKEYPATCH_PRELUDE + body + EVERYTHING_IS_BACK)


@pytest.mark.parametrize(
    ("first", "second", "what"),
    [
        ("setattr", "delattr", "'attr' of namespace(attr='patched')"),
        ("setitem", "delitem", "item 'key'"),
        ("setenv", "delenv", "environment variable 'ASYNCGROUP_STRENGTH_VAR'"),
        ("chdir", "chdir", "the working directory"),
        ("syspath_prepend", "syspath_prepend", "sys.path"),
    ],
)
def test_two_running_cases_patching_the_same_thing_is_refused(
    pytester: pytest.Pytester, first: str, second: str, what: str
) -> None:
    _write_two_patching_cases(
        pytester, f"{first!r} if n == 'first' else {second!r}", "await asyncio.sleep(0.2)"
    )
    result = run(pytester)
    assert outcomes(result) == {
        "test_both.py::test_patch[first]": ["PASSED"],
        "test_both.py::test_patch[second]": ["FAILED"],
        "test_both.py::test_zz_everything_is_back": ["PASSED"],
    }, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            f"E*Failed: asyncgroup: cases 'first' and 'second' both monkeypatch {what} while "
            "they run at the same time, to different values*",
        ]
    )


# What a case sees while the patch of each operation holds.
PATCHED = {
    "setattr": "TARGET.attr == 'patched'",
    "delattr": "not hasattr(TARGET, 'attr')",
    "delattr_by_name": "not hasattr(TARGET, 'attr')",
    "setitem": "DATA['key'] == 'patched'",
    "delitem": "'key' not in DATA",
    "setenv": "os.environ['ASYNCGROUP_STRENGTH_VAR'] == 'patched'",
    "delenv": "'ASYNCGROUP_STRENGTH_VAR' not in os.environ",
}


@pytest.mark.parametrize("op", sorted(PATCHED))
def test_two_running_cases_patching_the_same_thing_alike_share_it(
    pytester: pytest.Pytester, op: str
) -> None:
    """Nothing either case sees differs (an autouse fixture's setenv, say): both run, the
    patch holds until the last of them ends, then the target is put back."""
    _write_two_patching_cases(
        pytester,
        repr(op),
        'await asyncio.sleep(0.2 if n == "first" else 0.5)  # the first ends first\n'
        f'    assert {PATCHED[op]}, "the patch was undone under a running case"',
    )
    result = run(pytester)
    assert outcomes(result) == {
        "test_both.py::test_patch[first]": ["PASSED"],
        "test_both.py::test_patch[second]": ["PASSED"],
        "test_both.py::test_zz_everything_is_back": ["PASSED"],
    }, result.stdout.str()


# ---------------------------------------------------------------------------------------------
# A second Ctrl-C stops at once, even while a teardown is stuck.


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_a_second_ctrl_c_stops_at_once_while_a_teardown_is_stuck(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        """
        import time

        @pytest.fixture
        def slow_to_close():
            yield
            event("teardown begins")
            time.sleep(30)  # stuck, holding the event loop: only a KeyboardInterrupt stops it
            event("teardown ran to its end")

        @concurrent_cases(["a"])
        async def test_x(n, slow_to_close):
            event("case running")
            await asyncio.sleep(3600)
        """,
    )
    log = pytester.path / "events.txt"

    def seen(text: str) -> Callable[[], bool]:
        return lambda: log.exists() and text in log.read_text()

    # The second Ctrl-C 0.2 s into the teardown: the first must not have ended the run then.
    output, code, _ = ctrl_c(
        pytester,
        ["-m", "pytest", "-v", "-p", "no:cacheprovider", "test_both.py"],
        seen("case running"),
        seen("teardown begins"),
        timeout=10,
    )
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert "KeyboardInterrupt" in output
    assert "teardown ran to its end" not in events(pytester)


# ---------------------------------------------------------------------------------------------
# A report hook that raises: the error fails the run, the other cases are stopped and torn down.


def test_a_report_hook_that_raises_fails_the_parent_and_stops_the_cases(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        def pytest_runtest_logreport(report):
            if report.nodeid.endswith("[quick]") and report.when == "call":
                raise RuntimeError("the report hook broke")
        """
    )
    _write(
        pytester,
        """
        @pytest_asyncio.fixture
        async def resource(n):
            yield
            event(f"teardown {n}")

        @concurrent_cases(["quick", "slow"])
        async def test_x(n, resource):
            if n == "slow":
                await asyncio.sleep(600)
                event("slow ran to its end")

        def test_later():
            event("later test ran")
        """,
    )
    started = time.monotonic()
    result = run(pytester, timeout=120)
    assert time.monotonic() - started < 60  # not the slow case's 600 s
    assert sorted(events(pytester)) == ["later test ran", "teardown quick", "teardown slow"]
    result.stdout.fnmatch_lines(
        ["*test_both.py::test_x FAILED*", "E*RuntimeError: the report hook broke"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert summary(result)["failed"] == 1


def test_the_time_another_case_blocks_the_loop_does_not_count_against_a_cases_timeout(
    pytester: pytest.Pytester,
) -> None:
    # blk holds the loop for 3 s while a awaits 0.1 s: a's 1 s deadline passes during the block,
    # but a ran for 0.1 s of its own, as its parametrized test would (it passes); blk, which
    # held the loop itself, is charged and times out at its next await.
    _write(
        pytester,
        """
import time

@concurrent_cases("name", ["a", "blk"], timeout=1)
async def test_x(name):
    if name == "blk":
        time.sleep(3)
    await asyncio.sleep(0.1)
""",
    )
    result = run(pytester, "-rfE")
    found = outcomes(result)
    assert found["test_both.py::test_x[a]"] == ["PASSED"], result.stdout.str()
    assert found["test_both.py::test_x[blk]"][0] == "FAILED", result.stdout.str()
    result.stdout.fnmatch_lines(
        ["FAILED test_both.py::test_x[[]blk[]] - *CaseTimeoutError: Timeout (>1s)*"]
    )
    result.stdout.no_fnmatch_line("*test_x[[]a[]]*CaseTimeoutError*")
