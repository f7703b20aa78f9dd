"""What lands in a case's report is the case's own (findings-cases3): each test runs the same
source as @concurrent_cases and as @pytest.mark.parametrize (tests/differential.py) and compares
what a user sees."""

from __future__ import annotations

import json

import pytest
from differential import Differential, section

from tests.conftest import PYTEST_MAJOR


def test_request_is_a_fixture_request(differential: Differential) -> None:
    pair = differential.run(
        """
        @pytest.fixture
        def kind(request):
            assert isinstance(request, pytest.FixtureRequest), type(request)
            return request

        @cases("n", [1, 2])
        async def test_x(n, request, kind):
            assert isinstance(request, pytest.FixtureRequest), type(request)
        """
    )
    pair.assert_same()
    assert pair.parametrized.ret == pytest.ExitCode.OK


def test_executor_output_and_logs_are_the_calling_cases(differential: Differential) -> None:
    pair = differential.run(
        """
        import logging

        def work(n, how):
            print("executor print", n, how)
            logging.getLogger("ex").warning("executor log %s %s", n, how)

        @cases("n", [1, 2])
        async def test_x(n):
            await asyncio.get_running_loop().run_in_executor(None, work, n, "run_in_executor")
            await asyncio.to_thread(work, n, "to_thread")
            await asyncio.sleep(0.2)  # the cases overlap
            assert n == 1
        """,
        "-rA",
    )
    pair.assert_same()
    for result in (pair.concurrent, pair.parametrized):
        for n in (1, 2):
            text_of_case = section(result, f"test_x[{n}]")
            for how in ("run_in_executor", "to_thread"):
                assert f"executor print {n} {how}" in text_of_case, result.stdout.str()
                assert f"executor log {n} {how}" in text_of_case, result.stdout.str()
            assert f"executor print {3 - n}" not in text_of_case, result.stdout.str()


@pytest.mark.parametrize("capture", ["fd", "sys"])
def test_a_cases_stdout_is_a_whole_text_stream_with_a_buffer(
    differential: Differential, capture: str
) -> None:
    """sys.stdout/sys.stderr in a case have the encoding, errors and writable() of the stream
    they stand in for, and what a case writes to their binary ``buffer`` is its output."""
    pair = differential.run(
        """
        import sys

        @cases("n", [1, 2])
        async def test_x(n):
            assert sys.stdout.writable() and sys.stderr.writable()
            "é".encode(sys.stdout.encoding, sys.stdout.errors or "strict")
            sys.stdout.buffer.write(f"binary out {n}\\n".encode())
            sys.stderr.buffer.write(f"binary err {n}\\n".encode())
            sys.stdout.buffer.flush()
            await asyncio.sleep(0.2)  # the cases overlap
            assert n == 1
        """,
        "-rA",
        f"--capture={capture}",
    )
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::test_x[2]"] == ["failed"]
    for result in (pair.concurrent, pair.parametrized):
        for n in (1, 2):
            text_of_case = section(result, f"test_x[{n}]")
            assert f"binary out {n}" in text_of_case, result.stdout.str()
            assert f"binary err {n}" in text_of_case, result.stdout.str()
            assert f"binary out {3 - n}" not in text_of_case, result.stdout.str()


def test_run_in_executor_with_a_process_pool_works_in_a_case(differential: Differential) -> None:
    """Only a thread pool's work runs in a copy of the case's context: a context cannot be
    pickled for a process."""
    pair = differential.run(
        """
        from concurrent.futures import ProcessPoolExecutor

        def square(n):
            return n * n

        @cases("n", [1, 2])
        async def test_x(n):
            with ProcessPoolExecutor(1) as pool:
                loop = asyncio.get_running_loop()
                assert await loop.run_in_executor(pool, square, n) == n * n
        """
    )
    pair.assert_same()
    assert pair.parametrized.ret == pytest.ExitCode.OK


def test_case_marked_for_another_loop_scope_is_a_collection_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_it="""
        import asyncio
        import pytest
        from asyncgroup import concurrent_cases

        @concurrent_cases(
            "n", [1, pytest.param(2, marks=pytest.mark.asyncio(loop_scope="module"))]
        )
        async def test_x(n):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", timeout=60)
    result.stdout.fnmatch_lines(
        [
            "*In test_x: case '2' is marked @pytest.mark.asyncio(loop_scope=\"module\"), but "
            "every case runs in its parent test's event loop, here the 'function' one: put "
            '@pytest.mark.asyncio(loop_scope="module") on the test for all its cases, or make '
            "this case a test of its own*"
        ]
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_case_marked_for_its_parents_loop_scope_runs(differential: Differential) -> None:
    pair = differential.run(
        """
        @pytest.mark.asyncio(loop_scope="module")
        @cases("n", [1, pytest.param(2, marks=pytest.mark.asyncio(loop_scope="module"))])
        async def test_x(n):
            assert n == 1
        """
    )
    pair.assert_same()
    assert pair.parametrized.ret == pytest.ExitCode.TESTS_FAILED


def test_tee_sys_shows_a_cases_output_live(differential: Differential) -> None:
    pair = differential.run(
        """
        import sys

        @cases("n", [1, 2])
        async def test_x(n):
            print("progress out", n)
            sys.stderr.write(f"progress err {n}\\n")
            await asyncio.sleep(0.1)
        """,
        "--capture=tee-sys",
    )
    pair.assert_same(*(f"*progress {s} {n}*" for s in ("out", "err") for n in (1, 2)))


def reads_its_output(test: str, fixture: str, word: str, encode: str) -> str:
    """A test whose cases print ``word`` and their n, overlap, and read it back (``encode``d)
    from the capture ``fixture``."""
    return f"""
@cases("n", [1, 2])
async def {test}(n, {fixture}):
    print(f"{word} {{n}}")
    await asyncio.sleep(0.05)
    assert {fixture}.readouterr().out == f"{word} {{n}}\\n"{encode}
"""


CAPTURE_FIXTURES = (
    """
import sys

@cases("n", [1, 2])
async def test_sys(n, capsys):
    print(f"out {n}")
    sys.stderr.write(f"err {n}\\n")
    await asyncio.sleep(0.05)  # the cases overlap
    assert capsys.readouterr() == (f"out {n}\\n", f"err {n}\\n")

@cases("n", [1, 2])
def test_def(n, capsys):
    print(f"def {n}")
    assert capsys.readouterr().out == f"def {n}\\n"

"""
    + "".join(
        reads_its_output(*test)
        for test in [
            ("test_fd", "capfd", "fd", ""),
            ("test_binary", "capsysbinary", "binary", ".encode()"),
            ("test_fdbinary", "capfdbinary", "fdbinary", ".encode()"),
            ("test_tee", "capteesys", "teed", ""),
        ]
    )
    + """
@cases("n", [1, 2])
async def test_unread(n, capsys):
    print(f"unread {n}")
    await asyncio.sleep(0.05)
    assert n == 1
"""
)


@pytest.mark.parametrize("capture", ["-s", "--capture=fd"])
def test_capture_fixtures_capture_a_case_under_dash_s_too(
    differential: Differential, capture: str
) -> None:
    """capsys and kin capture for the test that asks for them, under -s too (findings-cases4 D);
    what a case did not read goes on, to its report or (-s) the terminal; capteesys passes
    everything on (findings-cases4 M)."""
    pair = differential.run(CAPTURE_FIXTURES, capture, "-rA")
    pair.assert_same(*(f"*{what} {n}*" for what in ("teed", "unread") for n in (1, 2)))
    assert pair.parametrized.ret == pytest.ExitCode.TESTS_FAILED
    for result in (pair.concurrent, pair.parametrized):
        assert "4 failed" not in result.stdout.str()  # only test_unread[2]
        text = result.stdout.str()
        for name in ("out", "err", "def", "fd", "binary", "fdbinary"):
            assert f"{name} 1" not in text, text  # captured and read: nowhere else
        if capture == "-s":  # no report sections
            assert "Captured stdout" not in text, text
        else:  # in each case's own report
            assert "teed 1" in section(result, "test_tee[1]"), text
            assert "teed 2" not in section(result, "test_tee[1]"), text
            assert "unread 2" in section(result, "test_unread[2]"), text


THREAD_OUTPUT = """
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

# Shared by the cases: its worker started for case 1 then runs case 2's work too.
POOL = ThreadPoolExecutor(1)

def work(n, how):
    print("thread print", n, how)
    logging.getLogger("thr").warning("thread log %s %s", n, how)

def nested(n):
    thread = threading.Thread(target=work, args=(n, "nested"))
    thread.start()
    thread.join()

def in_threads(n):
    for target, how in ((work, "thread"), (nested, None)):
        thread = threading.Thread(target=target, args=(n, how) if how else (n,))
        thread.start()
        thread.join()
    POOL.submit(work, n, "pool").result()

EXPECTED = ["thread", "nested", "pool"]

@cases("n", [1, 2])
async def test_x(n, caplog):
    await asyncio.sleep(0.05 * n)
    in_threads(n)
    await asyncio.sleep(0.2)  # the cases overlap
    assert caplog.messages == [f"thread log {n} {how}" for how in EXPECTED]
    assert n == 1

@cases("n", [1, 2])
def test_d(n, caplog):
    time.sleep(0.05 * n)
    in_threads(n)
    time.sleep(0.2)
    assert caplog.messages == [f"thread log {n} {how}" for how in EXPECTED]
    assert n == 1

@cases("n", [1, 2])
async def test_outlived(n):
    if n == 1:  # this thread writes after its case ended: not lost
        threading.Thread(target=lambda: (time.sleep(0.2), print("late line"))).start()
    else:
        await asyncio.sleep(0.5)
"""


def test_output_and_logs_of_threads_a_case_started_are_the_cases(
    differential: Differential,
) -> None:
    """What a thread started by a case (or by one of its threads, or a pool's thread doing its
    work) prints and logs is in the case's report and its caplog (findings-groups4 F6)."""
    pair = differential.run(THREAD_OUTPUT, "-rA")
    pair.assert_same("*late line*")
    assert pair.parametrized_outcomes["test_it.py::test_x[1]"] == ["passed"]
    for result in (pair.concurrent, pair.parametrized):
        for test in ("test_x", "test_d"):
            for n in (1, 2):
                text_of_case = section(result, f"{test}[{n}]")
                for how in ("thread", "nested", "pool"):
                    assert f"thread print {n} {how}" in text_of_case, result.stdout.str()
                    assert f"thread log {n} {how}" in text_of_case, result.stdout.str()
                assert f"thread print {3 - n}" not in text_of_case, result.stdout.str()


PER_TEST_LOG_FILE = """
import logging
import pytest

@pytest.fixture(autouse=True)
def per_test_log(request):
    logging_plugin = request.config.pluginmanager.get_plugin("logging-plugin")
    logging_plugin.set_log_path(f"logs/{request.node.name}.log")
    yield
    logging.getLogger("t").info("teardown of %s", request.node.name)
"""


def test_per_test_log_file_recipe_gives_each_case_its_own(differential: Differential) -> None:
    """pytest's recipe for a log file per test (set_log_path() in an autouse fixture): each
    case's file holds its own records, as each parametrized test's (findings-cases4 L)."""
    differential.ini_lines.append("log_file_level = INFO")
    differential.write(
        """
        import logging
        import threading
        import time

        @cases("n", [1, 2, 3])
        async def test_x(n):
            for step in range(3):
                logging.getLogger("t").info("case %s step %s", n, step)
                await asyncio.sleep(0.05)  # the cases overlap

        @cases("n", [1, 2])
        def test_d(n):
            for step in range(3):
                logging.getLogger("t").info("def case %s step %s", n, step)
                time.sleep(0.05)
            worker = threading.Thread(target=logging.getLogger("t").info, args=("thread %s", n))
            worker.start()
            worker.join()
        """
    )
    for folder in ("concurrent", "parametrized"):
        with (differential.pytester.path / folder / "conftest.py").open("a") as conftest:
            conftest.write(PER_TEST_LOG_FILE)
    pair = differential.rerun()
    pair.assert_same()
    logs = {
        folder: differential.pytester.path / folder / "logs"
        for folder in ("concurrent", "parametrized")
    }
    names = [*(f"test_x[{n}].log" for n in (1, 2, 3)), "test_d[1].log", "test_d[2].log"]
    for folder in logs.values():
        assert sorted(path.name for path in folder.iterdir()) == sorted(names)
    for name in names:
        text = (logs["concurrent"] / name).read_text()
        assert text == (logs["parametrized"] / name).read_text(), name
        assert text.count("step") == 3, text
        assert f"teardown of {name[:-4]}" in text, text


UNRAISABLE = """
import gc

class Bad:
    def __del__(self):
        raise ValueError("boom in __del__")

@cases("n", [1, 2, 3])
async def test_x(n):
    await asyncio.sleep(0.05 * n)
    if n == 2:
        bad = Bad()
        del bad
        gc.collect()
    await asyncio.sleep(0.2)  # the cases overlap
"""


def test_unraisable_exception_is_filed_on_its_case(differential: Differential) -> None:
    pair = differential.run(UNRAISABLE, "-rw")
    pair.assert_same("*test_it.py::test_x[[]2[]]*", "*PytestUnraisableExceptionWarning*")
    for result in (pair.concurrent, pair.parametrized):
        assert not any(line.rstrip().endswith("::test_x") for line in result.outlines), (
            result.stdout.str()
        )


def test_unraisable_exception_as_error_fails_its_case(differential: Differential) -> None:
    pair = differential.run(
        UNRAISABLE, "-rA", "-W", "error::pytest.PytestUnraisableExceptionWarning"
    )
    pair.assert_same("FAILED test_it.py::test_x[[]2[]] - pytest.PytestUnraisableExceptionWarning*")
    assert pair.parametrized_outcomes["test_it.py::test_x[2]"] == ["failed"]


THREAD_EXCEPTION = """
import threading

@cases("n", [1, 2, 3])
async def test_x(n):
    await asyncio.sleep(0.05 * n)
    if n == 2:
        thread = threading.Thread(target=lambda: 1 / 0)
        thread.start()
        thread.join()
    await asyncio.sleep(0.2)  # the cases overlap
"""


def test_exception_in_a_thread_a_case_started_fails_that_case(
    differential: Differential,
) -> None:
    pair = differential.run(
        THREAD_EXCEPTION, "-rA", "-W", "error::pytest.PytestUnhandledThreadExceptionWarning"
    )
    pair.assert_same(
        "FAILED test_it.py::test_x[[]2[]] - pytest.PytestUnhandledThreadExceptionWarning*"
    )
    assert pair.parametrized_outcomes["test_it.py::test_x[2]"] == ["failed"]


NESTED_THREAD_EXCEPTION = """
import threading

def raise_in_a_thread():
    thread = threading.Thread(target=lambda: 1 / 0)
    thread.start()
    thread.join()

@cases("n", ["culprit", "fails", "innocent"])
async def test_x(n):
    if n == "culprit":
        # a thread started by a thread the case started
        thread = threading.Thread(target=raise_in_a_thread)
        thread.start()
        thread.join()
    await asyncio.sleep(0.1)  # the cases overlap
    assert n != "fails"
"""


def test_exception_in_a_thread_of_a_thread_a_case_started_fails_that_case(
    differential: Differential,
) -> None:
    # It used to go to the parent, and with a case failing, to the last case as an ERROR at
    # teardown of an innocent case.
    pair = differential.run(
        NESTED_THREAD_EXCEPTION,
        "-rA",
        "-W",
        "error::pytest.PytestUnhandledThreadExceptionWarning",
    )
    pair.assert_same("FAILED test_it.py::test_x[[]culprit[]] - pytest.PytestUnhandledThread*")
    pair.assert_same_short_summary()
    pair.assert_same_counts()
    assert pair.parametrized_outcomes["test_it.py::test_x[innocent]"] == ["passed"]


@pytest.mark.parametrize(
    ("source", "plugin", "warning"),
    [
        pytest.param(
            UNRAISABLE, "unraisableexception", "PytestUnraisableExceptionWarning", id="unraisable"
        ),
        pytest.param(
            THREAD_EXCEPTION,
            "threadexception",
            "PytestUnhandledThreadExceptionWarning",
            id="thread",
        ),
    ],
)
def test_turning_pytests_plugin_off_warns_no_case_either(
    differential: Differential, source: str, plugin: str, warning: str
) -> None:
    """With pytest's plugin for them off (-p no:...), an unraisable exception or an exception
    in a thread warns of nothing, for a case as for its parametrized test."""
    pair = differential.run(source, "-p", f"no:{plugin}", "-W", f"error::pytest.{warning}")
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::test_x[2]"] == ["passed"]
    assert pair.parametrized.ret == 0


PYTEST_STREAMS = """
import logging
import sys

SAVED = {"out": sys.stdout, "err": sys.stderr}  # pytest's capture, taken at collection

@pytest.fixture(scope="module")
def handler():
    # Made by the parent's setup: it writes to pytest's capture, not asyncgroup's stand-in.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("HANDLER %(message)s"))
    logging.getLogger("app").addHandler(handler)
    yield
    logging.getLogger("app").removeHandler(handler)

@cases("x", ["a", "b"])
async def test_l(x, handler):
    print(f"before {x}")
    logging.getLogger("app").warning("log %s", x)  # live logging suspends pytest's capture
    await asyncio.sleep(0.05)  # the cases overlap
    print(f"after {x}")
    sys.stdout.buffer.write(f"buffer {x}\\n".encode())
    print(f"saved {x}", file=SAVED["out"])
    SAVED["err"].write(f"saved err {x}\\n")
    assert False

@cases("x", ["c", "d"])
def test_d(x, handler):
    logging.getLogger("app").warning("log %s", x)
    print(f"after {x}")
    for step in range(20):  # the cases' threads print while the other logs
        print(f"printed {step} {x}")
        logging.getLogger("steps").warning("step %s %s", step, x)
    assert False
"""


@pytest.mark.parametrize("options", [["-o", "log_cli=true"], ["--capture=sys"], []])
def test_a_case_writing_to_pytests_own_capture_streams_writes_to_its_report(
    differential: Differential, options: list[str]
) -> None:
    """What a case writes goes to its own report also when ``sys.stdout`` is pytest's capture
    stream: put back by pytest's live logging, which suspends and resumes the capture around
    each record, or taken before the cases ran (at import, or by a module fixture's handler),
    as it goes to the test's report for a parametrized test (found by a new-user trial)."""
    pair = differential.run(PYTEST_STREAMS, *options)
    pair.assert_same()
    for result in (pair.concurrent, pair.parametrized):
        text = result.stdout.str()
        for x, other in (("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")):
            test = "test_l" if x in "ab" else "test_d"
            own = section(result, f"{test}[{x}]")
            lines = ["after", "HANDLER log"] + (
                ["before", "buffer", "saved", "saved err"]
                if test == "test_l"
                else [f"printed {step}" for step in range(20)]
            )
            for line in lines:
                assert f"{line} {x}\n" in own, text
                assert f"{line} {other}\n" not in own, text


SUBPROCESS_OUTPUT = """
import subprocess
import sys

CHILD = (
    # One write each: under -s the cases' children write to the terminal at the same time.
    "import sys, time; time.sleep(0.05); sys.stdout.write('child ' + sys.argv[1] + '\\\\n'); "
    "sys.stderr.write('child err ' + sys.argv[1] + '\\\\n')"
)

@cases("x", ["a", "b"])
def test_run(x):
    print(f"before {x}")
    streams = {"stdout": sys.stdout, "stderr": sys.stderr}
    subprocess.run([sys.executable, "-c", CHILD, x], **streams, check=True)
    print(f"after {x}")
    assert False

@cases("x", ["c", "d"])
async def test_exec(x):
    print(f"before {x}")
    streams = {"stdout": sys.stdout, "stderr": sys.stderr}
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, x, **streams)
    await child.wait()
    print(f"after {x}")
    assert False
"""


@pytest.mark.parametrize("capture", ["--capture=fd", "--capture=sys", "-s"])
def test_a_subprocess_can_be_given_a_cases_stdout(differential: Differential, capture: str) -> None:
    """``sys.stdout.fileno()`` in a case is pytest's capture file's, as in its parametrized
    test: a subprocess given ``stdout=sys.stdout`` runs (it raised io.UnsupportedOperation,
    found by a new-user trial); what it writes there is file-descriptor output, which is not
    told apart per case: it is in the parent's report (a known limit; the test's report has
    it). The terminal's under -s; ``--capture=sys`` refuses, as for the test."""
    pair = differential.run(SUBPROCESS_OUTPUT, capture, "--tb=short")
    pair.assert_same()
    for result in (pair.concurrent, pair.parametrized):
        text = result.stdout.str()
        for x in "abcd":
            test = "test_run" if x in "ab" else "test_exec"
            own = section(result, f"{test}[{x}]")
            if capture == "--capture=sys":
                assert "UnsupportedOperation: fileno" in own, text
                continue
            assert "UnsupportedOperation" not in text, text
            if capture == "-s":
                assert f"child {x}\n" in text, text  # on the terminal, in no report
                assert "Captured stdout" not in own, text
            elif result is pair.parametrized:
                assert f"before {x}\nchild {x}\nafter {x}\n" in own, text
            else:
                assert f"before {x}\nafter {x}" in own, text  # the last section ends at "after"
                assert f"child {x}\n" in section(result, test), text
                assert f"child err {x}" in section(result, test), text


def test_a_case_gets_the_records_of_a_logger_that_does_not_propagate(
    differential: Differential,
) -> None:
    """pytest 9.2 gives its log handlers to the loggers that do not propagate to the root (8.4
    does not): each case's caplog and report get their records as its parametrized test's
    (found by a new-user trial: none)."""
    pair = differential.run(
        """
        import logging

        alone = logging.getLogger("alone")
        alone.propagate = False

        @cases("x", ["a", "b"])
        async def test_x(x, caplog):
            alone.warning("record %s", x)
            await asyncio.sleep(0.05)  # the cases overlap
            assert [r.getMessage() for r in caplog.records] == [f"record {x}"]
            assert x != "b"
        """,
        "-rA",
    )
    pair.assert_same()
    for result in (pair.concurrent, pair.parametrized):
        own = section(result, "test_x[b]")
        assert ("Captured log call" in own) is (PYTEST_MAJOR >= 9), result.stdout.str()
        assert "record a" not in own, result.stdout.str()


DISABLED_CAPTURE = """
import logging
import time

@cases("n", ["dis", "other"])
def test_x(n, capfd, caplog):
    if n == "dis":
        with capfd.disabled():
            print("uncaptured dis")
            logging.getLogger("t").warning("record of dis")
            time.sleep(0.3)  # the other case prints meanwhile
    else:
        time.sleep(0.1)
        print("captured other")
    assert [r.getMessage() for r in caplog.records] == (["record of dis"] if n == "dis" else [])
    assert False
"""

# A plugin that writes to the terminal from a report hook, as pytest-sugar does.
WRITES_FROM_A_HOOK = """
import sys

def pytest_configure(config):
    global CONFIG
    CONFIG = config

def pytest_runtest_logreport(report):
    if report.when == "call":
        capman = CONFIG.pluginmanager.getplugin("capturemanager")
        with capman.global_and_fixture_disabled():
            sys.stdout.write(f"HOOK {report.nodeid}\\n")
"""


@pytest.mark.parametrize("options", [[], ["-o", "log_cli=true"]])
def test_capture_disabled_in_a_case_or_a_hook_is_that_callers_alone(
    differential: Differential, options: list[str]
) -> None:
    """capfd.disabled() in a case: its writes reach the terminal and its records stay its own;
    the other cases' output stays captured; a report hook that writes through the capture
    manager's global_and_fixture_disabled() leaves the progress lines on the terminal (found
    by a new-user trial: the other case's output went to the terminal, the record to the
    parent, and the progress lines after a hook's write into the parent's report)."""
    differential.write(DISABLED_CAPTURE)
    differential.add_to_conftest(WRITES_FROM_A_HOOK)
    pair = differential.rerun("-v", "--tb=short", *options)
    pair.assert_same()
    for result in (pair.concurrent, pair.parametrized):
        text = result.stdout.str()
        assert "captured other" in section(result, "test_x[other]"), text
        assert text.count("captured other") == 1, text
        assert "uncaptured dis" in text, text
        assert "uncaptured dis" not in section(result, "test_x[dis]"), text
        assert "record of dis" in section(result, "test_x[dis]"), text
        for n in ("dis", "other"):
            assert f"HOOK test_it.py::test_x[{n}]" in text, text
    parent = section(pair.concurrent, "test_x")
    assert "Captured" not in parent, parent


_PHASES_RECORDED = """
import json


class _Phases:  # a plugin of its own, beside the outcomes' recorder
    def pytest_runtest_logreport(self, report):
        if "[" in report.nodeid:  # a case's or a parametrized test's
            told = [report.nodeid, report.when, report.outcome, hasattr(report, "wasxfail")]
            with open("phases.jsonl", "a") as file:
                file.write(json.dumps(told) + "\\n")


def pytest_configure(config):
    config.pluginmanager.register(_Phases())
"""


@pytest.mark.parametrize("options", [["-v"], ["-v", "--junitxml=junit.xml"]])
def test_a_case_its_marks_keep_from_running_is_reported_at_its_setup(
    differential: Differential, options: list[str]
) -> None:
    # A skip, a skipif, an xfail(run=False) and a skipif condition that fails to evaluate
    # act at the test's setup: its setup report tells it (a report writer shows a row for it
    # and the terminal's -v word is SKIPPED), then, with every phase reported, its teardown.
    differential.write(
        """
        @cases("n", [
            1,
            pytest.param(2, marks=pytest.mark.skip(reason="not now")),
            pytest.param(3, marks=pytest.mark.skipif(True, reason="never")),
            pytest.param(4, marks=pytest.mark.xfail(run=False, reason="hangs")),
            pytest.param(5, marks=pytest.mark.skipif("undefined_name", reason="bad")),
        ], ids=["runs", "skip", "skipif", "notrun", "bad"])
        async def test_x(n):
            pass
        """
    )
    differential.add_to_conftest(_PHASES_RECORDED)
    pair = differential.rerun(*options)
    pair.assert_same(
        "*::test_x[[]skip] SKIPPED (not now)*",
        "*::test_x[[]skipif] SKIPPED (never)*",
        "*::test_x[[]notrun] XFAIL ([[]NOTRUN] hangs)*",
        "*::test_x[[]bad] ERROR*",
    )
    told = {}
    for folder in ("concurrent", "parametrized"):
        lines = (differential.pytester.path / folder / "phases.jsonl").read_text().splitlines()
        entries = [json.loads(line) for line in lines]
        told[folder] = sorted(
            tuple(entry)
            for entry in entries
            if entry[0].endswith(("[skip]", "[skipif]", "[notrun]", "[bad]"))
            # A passed setup or teardown is reported where every phase is (--junitxml).
            and (entry[2] != "passed" or "--junitxml=junit.xml" in options)
        )
    assert told["concurrent"] == told["parametrized"], told
    assert ("test_it.py::test_x[skip]", "setup", "skipped", False) in told["concurrent"]
