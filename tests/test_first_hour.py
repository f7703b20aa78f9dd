"""What a newcomer meets in the first hour (issue 14): lifting the ini timeout for one run,
``--help``, ``eventually()``'s misuse and hangs, ``--setup-show`` and the paths in messages.

Every test writes a small project, runs pytest on it in a subprocess and checks what a user sees.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from differential import Differential

from tests.conftest import subtest_line, summary


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider", *args, timeout=120)


def write_ini(pytester: pytest.Pytester, *extra: str) -> None:
    pytester.makeini(
        "\n".join(["[pytest]", "asyncio_default_fixture_loop_scope = function", *extra])
    )


# --------------------------------------------------------------------------------------------
# --asyncgroup-timeout=0 / none lifts the ini timeout for one run

SLOW_CASE = """
import asyncio
from asyncgroup import concurrent_cases

@concurrent_cases(["slow"])
async def test_slow(name):
    await asyncio.sleep(1.0)

@concurrent_cases(["own"], timeout=0.3)
async def test_own_timeout(name):
    await asyncio.sleep(1.0)
"""


@pytest.mark.parametrize(
    ("ini", "args", "slow_passes"),
    [
        pytest.param("asyncgroup_timeout = 0.3", [], False, id="ini-timeout"),
        pytest.param("asyncgroup_timeout = 0.3", ["--asyncgroup-timeout=0"], True, id="cli-0"),
        pytest.param("asyncgroup_timeout = 0.3", ["--asyncgroup-timeout=none"], True, id="none"),
        pytest.param("asyncgroup_timeout = 0.3", ["--asyncgroup-timeout=None"], True, id="None"),
        pytest.param("asyncgroup_timeout = 0", [], True, id="ini-0"),
        pytest.param("asyncgroup_timeout = 0.3", ["-o", "asyncgroup_timeout=0"], True, id="o-0"),
        pytest.param("", ["--asyncgroup-timeout=0.3"], False, id="cli-timeout"),
    ],
)
def test_timeout_0_or_none_lifts_the_default_timeout_but_not_the_decorators(
    pytester: pytest.Pytester, ini: str, args: list[str], slow_passes: bool
) -> None:
    write_ini(pytester, ini)
    pytester.makepyfile(test_slow=SLOW_CASE)
    result = run(pytester, *args)
    outcome = "PASSED" if slow_passes else "FAILED"
    result.stdout.fnmatch_lines([subtest_line("test_slow.py::test_slow", "slow", outcome)])
    if not slow_passes:
        result.stdout.fnmatch_lines(["*CaseTimeoutError: Timeout (>0.3s) from asyncgroup*"])
    # The decorator's own timeout=0.3 applies whatever the default says.
    result.stdout.fnmatch_lines([subtest_line("test_slow.py::test_own_timeout", "own", "FAILED")])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--asyncgroup-timeout=soon"],
            "ERROR: asyncgroup: invalid timeout 'soon' from --asyncgroup-timeout: expected a "
            "positive number of seconds, or 0 (or none) for no timeout",
        ),
        (
            ["-o", "asyncgroup_timeout=soon"],
            "ERROR: asyncgroup: invalid timeout 'soon' from ini option asyncgroup_timeout: "
            "expected a positive number of seconds, or 0 for no timeout",
        ),
        (
            ["-o", "asyncgroup_blocked_loop_threshold=x"],
            "ERROR: asyncgroup: invalid blocked-loop threshold 'x' from ini option "
            "asyncgroup_blocked_loop_threshold: expected a positive number of seconds, or 0 *",
        ),
        (
            ["-o", "asyncgroup_blocked_loop_threshold=-1"],
            "ERROR: asyncgroup: invalid blocked-loop threshold -1.0 from ini option "
            "asyncgroup_blocked_loop_threshold: expected a positive, finite number of seconds, "
            "or 0 for no watchdog",
        ),
        # An empty value is an unset shell variable (--asyncgroup-timeout=$T), not "no timeout".
        (
            ["--asyncgroup-timeout="],
            "ERROR: asyncgroup: invalid timeout '' from --asyncgroup-timeout: expected a "
            "positive number of seconds, or 0 (or none) for no timeout",
        ),
        (
            ["--asyncgroup-max-concurrency="],
            "ERROR: asyncgroup: invalid max_concurrency '' from --asyncgroup-max-concurrency: "
            "expected a whole number >= 1",
        ),
    ],
)
def test_a_bad_default_names_the_value_and_what_is_valid(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    write_ini(pytester)
    pytester.makepyfile(test_slow=SLOW_CASE)
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.skipif(pytest.version_tuple < (8, 4), reason="typed ini options: pytest >= 8.4")
def test_help_shows_the_ini_types_and_the_real_defaults(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help", timeout=60)
    text = re.sub(r"\s+", " ", result.stdout.str())
    # pytest >= 9.2: a number or a string holding one, as its own faulthandler_timeout.
    either = " | string" if pytest.version_tuple >= (9, 2) else ""
    assert f"asyncgroup_timeout (float{either}): " in text
    assert f"asyncgroup_blocked_loop_threshold (float{either}): " in text
    assert f"asyncgroup_max_concurrency (int{either}): " in text
    assert "(default: no limit for async tests, 32 for plain def tests" in text
    assert "0 or none: no timeout" in text  # --asyncgroup-timeout


def test_the_documented_plain_def_default_is_the_real_one(pytester: pytest.Pytester) -> None:
    """README and --help say 32 threads for plain def tests: 40 blocking cases run 32 at once."""
    write_ini(pytester)
    pytester.makepyfile(
        test_threads="""
        import threading, time
        from asyncgroup import concurrent_cases

        LOCK = threading.Lock()
        RUNNING = [0, 0]  # now, most at once

        @concurrent_cases(range(40))
        def test_blocking(n):
            with LOCK:
                RUNNING[0] += 1
                RUNNING[1] = max(RUNNING)
            time.sleep(0.3)
            with LOCK:
                RUNNING[0] -= 1

        def test_most_at_once():
            assert RUNNING[1] == 32
        """
    )
    result = run(pytester)
    assert summary(result) == {"passed": 1, "subtests passed": 40}


# --------------------------------------------------------------------------------------------
# eventually(): where a hanging check was stuck; a coroutine instead of the function


def test_eventually_shows_the_line_a_hanging_check_was_stuck_on(
    pytester: pytest.Pytester,
) -> None:
    write_ini(pytester)
    pytester.makepyfile(
        test_hang="""
        import asyncio
        from asyncgroup import concurrent_cases, eventually

        async def wait_for_reply():
            await asyncio.sleep(600)  # the reply never comes

        @concurrent_cases(["hang"], timeout=300)
        async def test_hanging_check(n):
            async def processed():
                await wait_for_reply()
            await eventually(processed, timeout=0.5, interval=0.1)
        """
    )
    started = time.monotonic()
    result = run(pytester)
    assert time.monotonic() - started < 60  # not the reply's 600 s, nor the case's 300 s
    output = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "    async def processed():",
            ">       await wait_for_reply()",
            "*",
            "    async def wait_for_reply():",
            ">       await asyncio.sleep(600)  # the reply never comes",
            "E       AssertionError: the last attempt was still running at the deadline; "
            "the line marked > is where it was waiting",
            "",
            "test_hang.py:5: AssertionError",
            "",
            "The above exception was the direct cause of the following exception:",
        ]
    )
    result.stdout.fnmatch_lines(["E       AssertionError: eventually(*processed) still failing*"])
    assert "asyncgroup/_" not in output
    assert "asyncio/tasks.py" not in output
    assert summary(result) == {"failed": 1}


def test_eventually_given_a_coroutine_says_to_pass_the_function(
    pytester: pytest.Pytester,
) -> None:
    write_ini(pytester)
    pytester.makepyfile(
        test_coro="""
        import pytest
        from asyncgroup import eventually

        @pytest.mark.asyncio
        async def test_coroutine_object():
            async def check():
                assert False
            await eventually(check(), timeout=1)
        """
    )
    result = run(pytester, "-W", "error::RuntimeWarning")
    result.stdout.fnmatch_lines(
        [
            ">       await eventually(check(), timeout=1)",
            "E       TypeError: eventually() needs the check function, not a coroutine: "
            "pass check, not check() (it is called again for each attempt)",
        ]
    )
    output = result.stdout.str() + result.stderr.str()
    assert "never awaited" not in output
    assert "asyncgroup/_" not in output
    assert summary(result) == {"failed": 1}


def test_eventually_given_a_sync_checks_result_says_to_pass_the_function(
    pytester: pytest.Pytester,
) -> None:
    write_ini(pytester)
    pytester.makepyfile(
        test_called="""
        import pytest
        from asyncgroup import eventually

        @pytest.mark.asyncio
        async def test_called_check():
            def check():
                assert True
            await eventually(check(), timeout=1)
        """
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            ">       await eventually(check(), timeout=1)",
            "E       TypeError: eventually() needs a callable check, got None: pass the check "
            "function itself, not what it returned (check, not check()); it is called again "
            "for each attempt",
        ]
    )
    assert "asyncgroup/_" not in result.stdout.str()
    assert summary(result) == {"failed": 1}


# --------------------------------------------------------------------------------------------
# --setup-show as it happens; paths relative to the rootdir


def test_setup_show_writes_each_line_when_it_happens(pytester: pytest.Pytester) -> None:
    """Two overlapping cases: both are set up before the quick one is torn down."""
    write_ini(pytester)
    pytester.makepyfile(
        test_show="""
        import asyncio
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.fixture
        def resource():
            yield "r"

        @concurrent_cases("name, delay", [("slow", 0.6), ("quick", 0.1)], ids=["slow", "quick"])
        async def test_x(name, delay, resource):
            await asyncio.sleep(delay)
        """
    )
    result = run(pytester, "--setup-show")
    lines = [line.strip() for line in result.outlines]
    order = [
        "SETUP    F resource (case slow)",
        "SETUP    F resource (case quick)",
        "TEARDOWN F resource (case quick)",
        "TEARDOWN F resource (case slow)",
    ]
    where = [next(i for i, line in enumerate(lines) if line.startswith(text)) for text in order]
    assert where == sorted(where), result.stdout.str()
    # The quick case's report comes after its teardown and before the slow case's teardown.
    quick_report = next(i for i, line in enumerate(lines) if "SUBPASS" in line and "quick" in line)
    assert where[2] < quick_report < where[3], result.stdout.str()


def test_paths_in_warnings_are_relative_to_the_rootdir(pytester: pytest.Pytester) -> None:
    """The watchdog's and the leftover tasks' lines read like pytest's node ids."""
    write_ini(pytester)
    pytester.mkdir("sub")
    pytester.path.joinpath("sub", "test_orders.py").write_text(
        "import asyncio\n"
        "import time\n"
        "from asyncgroup import concurrent_cases\n"
        "\n"
        "async def poll_forever():\n"
        "    while True:\n"
        "        await asyncio.sleep(0.01)\n"
        "\n"
        '@concurrent_cases(["order-2"])\n'
        "async def test_order(order):\n"
        "    asyncio.create_task(poll_forever())\n"
        "    time.sleep(0.8)\n"
    )
    result = run(pytester)
    # The warning's own location (the decorator's line) is pytest's, absolute like any warning's.
    result.stdout.fnmatch_lines(
        [
            "*test_orders.py:9: AsyncgroupWarning: case 'order-2': the case blocked the event "
            "loop for at least 0.* s at sub/test_orders.py:12: time.sleep(0.8)",
        ]
    )
    result.stdout.fnmatch_lines(["*(poll_forever() at sub/test_orders.py:[0-9])*"])
    messages = [line.partition("AsyncgroupWarning:")[2] for line in result.outlines]
    assert not [text for text in messages if str(pytester.path) in text]


def test_the_readme_watchdog_example_is_what_pytest_prints(pytester: pytest.Pytester) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Warnings") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert code is not None
    assert shown is not None
    body = code.group(1).splitlines()
    # The example file: imports on lines 1-7, so that the decorator is on line 8 as it says.
    source = ["import time", "", "from asyncgroup import concurrent_cases", "", "", "", "", *body]
    assert "line 8" in source[7]
    assert "time.sleep(0.8)" in source[11]
    write_ini(pytester)
    pytester.path.joinpath("test_orders.py").write_text("\n".join(source) + "\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    expected = []
    for line in shown.group(1).splitlines():
        line = line.replace("/home/me/shop/", "*/")  # the rootdir
        line = re.sub(r"at least [\d.]+ s", "at least * s", line)
        expected.append(line.replace("[", "[[]"))
    result.stdout.fnmatch_lines(expected)


# --------------------------------------------------------------------------------------------
# The pytest-asyncio loop trap: a per-case fixture on an async fixture of another loop

# An echo server started on the loop of its own scope (format with scope=), and a client.
ECHO_SERVER = """
import pytest_asyncio


async def echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


@pytest_asyncio.fixture(scope="{scope}", loop_scope="{scope}")
async def server():
    srv = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield srv.sockets[0].getsockname()[1]
    srv.close()
    await srv.wait_closed()


@pytest_asyncio.fixture
async def client(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    yield reader, writer
    writer.close()
"""

MODULE_LOOP_SERVER = """
import asyncio
import pytest
from asyncgroup import concurrent_cases
""" + ECHO_SERVER.format(scope="module")

LOOP_TRAP = (
    MODULE_LOOP_SERVER
    + """

{mark}
@concurrent_cases(range(3), timeout=600)
async def test_echo(n, client):
    reader, writer = client
    writer.write(b"hi\\n")
    assert await reader.readline() == b"hi\\n"
"""
)


def test_a_case_fixture_on_another_loops_server_fails_at_once_with_the_fix(
    pytester: pytest.Pytester,
) -> None:
    """The parent on the default function-scoped loop, the server on the module's: every case
    would hang on readline until its timeout; each fails at once, naming both loop scopes."""
    write_ini(pytester)
    pytester.makepyfile(test_trap=LOOP_TRAP.format(mark=""))
    started = time.monotonic()
    result = run(pytester)
    assert time.monotonic() - started < 60  # not the cases' 600 s timeout
    # Shown as pytest shows a fixture it cannot set up (its ScopeMismatch): the message alone,
    # and the reason on each case's short summary line, as for any fixture error.
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_echo[[]0[]]*",
            "asyncgroup: fixture 'client', set up for each case on the "
            "test's function-scoped event loop, uses the module-scoped async fixture 'server', "
            "which runs on the module-scoped event loop.*would hang. Run the test on the "
            'fixture\'s loop: @pytest.mark.asyncio(loop_scope="module") on the test*',
        ]
    )
    assert "UsageError" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "FAILED test_trap.py::test_echo - Failed: 3 of 3 cases errored: 0, 1, 2",
            "ERROR test_trap.py::test_echo[[]0[]] - Failed: asyncgroup: fixture 'client', *",
        ]
    )
    assert summary(result) == {"errors": 3}


def test_a_per_case_fixture_error_is_an_error_in_the_parents_line_too(
    pytester: pytest.Pytester,
) -> None:
    """The parametrized twin counts 2 errors; the parent says the cases errored, not failed."""
    write_ini(pytester)
    pytester.makepyfile(
        test_err="""
        import pytest
        import pytest_asyncio
        from asyncgroup import concurrent_cases

        @pytest_asyncio.fixture
        async def broken():
            raise RuntimeError("db down")
            yield

        @concurrent_cases(["a", "b", "c"])
        async def test_cc(x, broken):
            pass

        @pytest.fixture
        def down_for_a(x):
            if x == "a":
                raise RuntimeError("db down")

        @concurrent_cases(["a", "b", "c"])
        async def test_mixed(x, down_for_a):
            assert x != "b"

        @pytest.mark.asyncio
        @pytest.mark.parametrize("x", ["a", "b", "c"])
        async def test_p(x, broken):
            pass
        """
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            "ERROR test_err.py::test_cc[[]a[]] - RuntimeError: db down",
            "ERROR test_err.py::test_p[[]a[]] - RuntimeError: db down",
        ],
        consecutive=False,
    )
    # The parents' entries in FAILURES.
    result.stdout.fnmatch_lines(
        ["3 of 3 cases errored: a, b, c", "1 of 3 cases failed: b; 1 of 3 cases errored: a"]
    )
    assert "cases failed: a" not in result.stdout.str()
    assert summary(result) == {"failed": 1, "errors": 7, "subtests passed": 1}


@pytest.mark.parametrize(
    ("mark", "ini"),
    [
        pytest.param('@pytest.mark.asyncio(loop_scope="module")', "", id="mark"),
        pytest.param("", "asyncio_default_test_loop_scope = module", id="ini"),
    ],
)
def test_the_same_cases_on_the_fixtures_loop_pass(
    pytester: pytest.Pytester, mark: str, ini: str
) -> None:
    write_ini(pytester, ini)
    pytester.makepyfile(test_trap=LOOP_TRAP.format(mark=mark))
    result = run(pytester)
    assert summary(result) == {"subtests passed": 3}


# pytest-asyncio's how-to "run all tests in the session in the same event loop" sets the loop
# scope from a conftest hook, after collection; its two common forms (the second is userver's).
LOOP_SCOPE_RECIPES = {
    "add_marker": """

from pytest_asyncio import is_async_test


def pytest_collection_modifyitems(items):
    marker = pytest.mark.asyncio(loop_scope="{scope}")
    for item in items:
        if is_async_test(item):
            item.add_marker(marker, append=False)
""",
    "setdefault": """

def pytest_collection_modifyitems(items):
    for item in items:
        mark = item.get_closest_marker("asyncio")
        if mark:
            mark.kwargs.setdefault("loop_scope", "{scope}")
""",
}

SESSION_SERVER = (
    ECHO_SERVER.format(scope="session")
    + """

async def ask(client):
    reader, writer = client
    writer.write(b"hi\\n")
    return await reader.readline()
"""
)


def _with_recipe(differential: Differential, recipe: str, scope: str) -> None:
    """Each folder's conftest gets the recipe's hook."""
    hook = LOOP_SCOPE_RECIPES[recipe].replace("{scope}", scope)
    for folder in ("concurrent", "parametrized"):
        conftest = differential.pytester.path / folder / "conftest.py"
        conftest.write_text("import pytest\n" + conftest.read_text() + hook)


@pytest.mark.parametrize(
    ("recipe", "mode"),
    [("add_marker", "strict"), ("setdefault", "strict"), ("add_marker", "auto")],
)
def test_a_loop_scope_set_by_a_conftest_hook_is_the_parents_as_it_is_the_twins(
    differential: Differential, recipe: str, mode: str
) -> None:
    """With the hook, the parent runs on the session loop (so do its cases' fixtures): the
    cases' client fixture on the session's server is no trap, as for the parametrized twin.
    The check read the loop scope when the test was collected, before the hook set it, and
    failed every case ("on the test's function-scoped event loop")."""
    differential.ini_lines += ["asyncio_default_fixture_loop_scope = session"]
    differential.ini_lines = [line for line in differential.ini_lines if "= function" not in line]
    differential.ini_lines.append(f"asyncio_mode = {mode}")
    differential.write(
        SESSION_SERVER
        + """

@cases("n", range(3))
async def test_echo(n, client):
    assert await ask(client) == b"hi\\n"
"""
    )
    _with_recipe(differential, recipe, "session")
    pair = differential.rerun("-q")
    pair.assert_same()
    assert summary(pair.concurrent) == {"subtests passed": 3}
    assert summary(pair.parametrized) == {"passed": 3}


def test_a_loop_scope_set_by_a_conftest_hook_that_is_not_the_fixtures_is_still_refused(
    pytester: pytest.Pytester,
) -> None:
    """The hook sets the module loop; the server runs on the session's: the per-case client
    is refused, naming the loop the test runs on, and a case waiting on the server it requests
    itself gets the hint naming that loop."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = session\n")
    pytester.makeconftest(
        "import asyncio\nimport pytest\n"
        + SESSION_SERVER
        + LOOP_SCOPE_RECIPES["add_marker"].replace("{scope}", "module")
    )
    pytester.makepyfile(
        test_mismatch="""
        import asyncio
        from asyncgroup import concurrent_cases
        from conftest import ask

        @concurrent_cases("n", range(2), timeout=600)
        async def test_via_client(n, client):
            assert await ask(client) == b"hi\\n"

        @concurrent_cases("n", range(2), timeout=1)
        async def test_direct(n, server):
            reader, writer = await asyncio.open_connection("127.0.0.1", server)
            writer.write(b"hi\\n")
            await reader.readline()
        """
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            # 'client' asks for the session loop by asyncio_default_fixture_loop_scope
            "*asyncgroup: fixture 'client', set up for each case on the test's module-scoped "
            "event loop (it asks for the session-scoped loop, but a case's fixtures run on the "
            "loop its cases run on), uses the session-scoped async fixture 'server', which runs "
            "on the session-scoped event loop.*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E   *CaseTimeoutError: Timeout (>1s) from asyncgroup: *. The test uses 'server', an "
            "async fixture on the session-scoped event loop, which does not run while the "
            "cases do (they run on the module-scoped one)*",
        ]
    )
    assert summary(result) == {"failed": 2, "errors": 2}


def test_a_per_case_fixture_asking_for_the_servers_loop_is_refused_saying_so(
    differential: Differential,
) -> None:
    """pytest-asyncio runs a function-scoped fixture marked loop_scope="module" on the module's
    loop, where the module's server answers: the parametrized test passes. A case's fixtures
    run on the parent's loop, so asyncgroup refuses it, and says that the fixture's own loop
    scope is what it cannot honour (it said only that it ran on the test's loop)."""
    pair = differential.run(
        """
        import pytest_asyncio

        @pytest_asyncio.fixture(scope="module", loop_scope="module")
        async def server():
            async def echo(reader, writer):
                writer.write(await reader.readline())
                await writer.drain()
                writer.close()

            served = await asyncio.start_server(echo, "127.0.0.1", 0)
            yield served.sockets[0].getsockname()[1]
            served.close()
            await served.wait_closed()

        @pytest_asyncio.fixture(loop_scope="module")
        async def answer(server):
            reader, writer = await asyncio.open_connection("127.0.0.1", server)
            writer.write(b"hi\\n")
            line = await asyncio.wait_for(reader.readline(), 5)
            writer.close()
            return line

        @cases("n", [1, 2])
        async def test_x(n, answer):
            assert answer == b"hi\\n"
        """
    )
    assert pair.parametrized_outcomes == {f"test_it.py::test_x[{n}]": ["passed"] for n in (1, 2)}, (
        pair._both()
    )
    pair.concurrent.stdout.fnmatch_lines(
        [
            "*asyncgroup: fixture 'answer', set up for each case on the test's function-scoped "
            "event loop (it asks for the module-scoped loop, but a case's fixtures run on the "
            "loop its cases run on), uses the module-scoped async fixture 'server'*"
            'Run the test on the fixture\'s loop: @pytest.mark.asyncio(loop_scope="module")*'
        ]
    )
    assert summary(pair.concurrent) == {"errors": 2}


# --------------------------------------------------------------------------------------------
# @pytest.mark.parametrize over the short form, which gives its values to the first parameter

PARAMETRIZE_OVER_SHORT_FORM = """
import pytest
from asyncgroup import concurrent_cases

@pytest.mark.parametrize("p", [1, 2])
@concurrent_cases({cases})
async def test_param_parent(p, x):
    pass
"""


def test_parametrize_of_the_short_forms_argument_names_the_decorator_and_the_fix(
    pytester: pytest.Pytester,
) -> None:
    """pytest's own "function uses no argument 'p'" would be wrong: the function has p, which
    the short form took for the cases. The error names the test (as pytest's collection error of
    a parametrize mark naming no argument does), the argument and the fix."""
    write_ini(pytester)
    pytester.makepyfile(test_short=PARAMETRIZE_OVER_SHORT_FORM.format(cases='["a", "b"]'))
    result = run(pytester)
    error = (
        ": @pytest.mark.parametrize and @concurrent_cases both give values to 'p': "
        "@concurrent_cases with only the case values gives them to the function's first "
        "parameter, 'p'. Name the cases' argument: "
        '@concurrent_cases("x", [...])\n'
    )
    assert error in result.stdout.str()
    assert "uses no argument" not in result.stdout.str()
    pytester.makepyfile(
        test_short="""
        import pytest

        @pytest.mark.parametrize("p", [1, 2])
        def test_param_parent(x):
            pass
        """
    )
    twin = run(pytester)
    twin.stdout.fnmatch_lines(["In *test_param_parent: function uses no argument 'p'"])
    # Named as pytest names the test (pytest 9: test_short.py::test_param_parent).
    named = re.search(r"^In (\S+): ", twin.stdout.str(), re.MULTILINE)
    assert named is not None
    assert f"In {named.group(1)}{error}" in result.stdout.str()
    assert result.ret == twin.ret == pytest.ExitCode.INTERRUPTED
    # The fix the message gives works.
    pytester.makepyfile(test_short=PARAMETRIZE_OVER_SHORT_FORM.format(cases='"x", ["a", "b"]'))
    fixed = run(pytester)
    fixed.stdout.fnmatch_lines(["test_short.py::test_param_parent[[]b-2[]] *SUBPASS*"])
    assert summary(fixed) == {"subtests passed": 4}


def test_a_watchdog_warning_under_a_parametrized_parent_names_the_cases_node_id(
    pytester: pytest.Pytester,
) -> None:
    """The case is test_param_parent[b-2] in -v and in --deselect: the warning says 'b-2'."""
    write_ini(pytester)
    pytester.makepyfile(
        test_wd="""
        import asyncio
        import time
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.mark.parametrize("p", [1, 2])
        @concurrent_cases("x", ["a", "b"], timeout=10)
        async def test_param_parent(p, x):
            if p == 2 and x == "b":
                time.sleep(0.8)
            await asyncio.sleep(0.1)
        """
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(["test_wd.py::test_param_parent[[]b-2[]] *SUBPASS*"])
    result.stdout.fnmatch_lines(
        ["*AsyncgroupWarning: case 'b-2': the case blocked the event loop for at least *"]
    )
    assert "case 'b'" not in result.stdout.str()


DIRECT_SERVER = (
    MODULE_LOOP_SERVER
    + """


@concurrent_cases(range(2), timeout=1)
async def test_echo(n, server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"hi\\n")
    assert await reader.readline() == b"hi\\n"
    writer.close()
"""
)


def test_a_case_timing_out_on_another_loops_fixture_it_requests_says_why(
    pytester: pytest.Pytester,
) -> None:
    """Not an error at setup (such a fixture may give a plain value), but a case that hangs
    on what it started gets the loop-scope hint in its timeout."""
    write_ini(pytester)
    pytester.makepyfile(test_direct=DIRECT_SERVER)
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            "E   *CaseTimeoutError: Timeout (>1s) from asyncgroup: *. The test uses 'server', an "
            "async fixture on the module-scoped event loop, which does not run while the cases "
            "do (they run on the function-scoped one): *run the test on that loop: "
            '@pytest.mark.asyncio(loop_scope="module")',
        ]
    )
    assert summary(result) == {"failed": 2}
    write_ini(pytester, "asyncio_default_test_loop_scope = module")
    assert summary(run(pytester)) == {"subtests passed": 2}


def test_setup_show_shows_the_cases_value_as_for_a_parametrized_test(
    pytester: pytest.Pytester,
) -> None:
    """pytest writes SETUP F x['a'] first and TEARDOWN F x['a'] last for a parametrized test;
    a case likewise, with its name."""
    write_ini(pytester)
    pytester.makepyfile(
        test_ss="""
        import pytest
        from asyncgroup import concurrent_cases

        @pytest.fixture
        def sfix(tmp_path):
            return 3

        @concurrent_cases(["a"])
        async def test_cc(x, sfix):
            pass

        @pytest.mark.asyncio
        @pytest.mark.parametrize("x", ["a"])
        async def test_p(x, sfix):
            pass
        """
    )
    result = run(pytester, "--setup-show")
    result.stdout.fnmatch_lines(
        [
            "*SETUP    F x[[]'a'[]] (case a)",
            "*SETUP    F tmp_path (fixtures used: tmp_path_factory) (case a)",
            "*SETUP    F sfix (fixtures used: tmp_path) (case a)",
            "*TEARDOWN F sfix (case a)",
            "*TEARDOWN F tmp_path (case a)",
            "*TEARDOWN F x[[]'a'[]] (case a)*",
            "*SETUP    F x[[]'a'[]]",
            "*test_ss.py::test_p[[]a[]]*",
            "*TEARDOWN F x[[]'a'[]]",
        ]
    )
