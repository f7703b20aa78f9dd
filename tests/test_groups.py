"""@concurrent_group: separate test functions run concurrently as the cases of one parent.

Most tests are differential: the same file is written twice, with and without the
``@concurrent_group`` lines, both are run with the same arguments, and what pytest reports per
node id (JUnit XML outcome and message), the exit code and the selection counts must agree.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import textwrap
import time
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

import pytest
from differential import SET_UP_RECORDED, section

from tests.conftest import summary

_NO_XDIST = importlib.util.find_spec("xdist") is None
XDIST = pytest.mark.skipif(_NO_XDIST, reason="pytest-xdist is not installed")
MODES = [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist", marks=XDIST)]

_DECORATOR_LINE = re.compile(r"^[ \t]*@concurrent_group\b.*\n", re.MULTILINE)


# --------------------------------------------------------------------------------------------
# Helpers


def write_pair(pytester: pytest.Pytester, source: str) -> None:
    """test_grouped.py as given; test_plain.py the same without its @concurrent_group lines."""
    grouped = textwrap.dedent(source)
    plain = _DECORATOR_LINE.sub("", grouped)
    assert plain != grouped, "the source has no @concurrent_group line"
    pytester.makepyfile(test_grouped=grouped, test_plain=plain)
    pytester.makeini(
        """
        [pytest]
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = function
        markers = slow: a slow test
        """
    )


def run(pytester: pytest.Pytester, module: str, *args: str) -> pytest.RunResult:
    """Run one of the pair; ``{file}`` in an argument is that module's file name."""
    file = f"{module}.py"
    actual = [arg.replace("{file}", file) for arg in args]
    if not any(arg.startswith(file) for arg in actual):
        actual.append(file)
    return pytester.runpytest_subprocess(
        "-v", "-p", "no:randomly", f"--junitxml={module}.xml", *actual, timeout=90
    )


def junit(path: Path) -> dict[str, tuple[str, str]]:
    """Node id without the file -> (outcome, message): passed, failure, error, skipped, xfailed."""
    found: dict[str, tuple[str, str]] = {}
    for testcase in ET.parse(path).iter("testcase"):
        classname, name = testcase.get("classname", ""), testcase.get("name", "")
        key = "::".join([*classname.split(".")[1:], name])
        outcome, message = "passed", ""
        for child in testcase:
            if child.tag in ("failure", "error", "skipped"):
                outcome = child.tag
                if child.tag == "skipped" and child.get("type") == "pytest.xfail":
                    outcome = "xfailed"
                message = child.get("message", "")
                break
        assert key not in found, f"two <testcase> elements for {key}"
        found[key] = (outcome, message)
    return found


def compare(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, pytest.RunResult]:
    """Run both versions; assert the same outcome and message per test and the same exit code."""
    grouped = run(pytester, "test_grouped", *args)
    plain = run(pytester, "test_plain", *args)
    grouped_tests = junit(pytester.path / "test_grouped.xml")
    parents = {key for key in grouped_tests if key.split("::")[-1].startswith("concurrent_group")}
    for parent in parents:
        del grouped_tests[parent]
    assert grouped_tests == junit(pytester.path / "test_plain.xml")
    assert grouped.ret == plain.ret
    return grouped, plain


def selection_line(result: pytest.RunResult) -> str:
    """pytest's "collected N items / M deselected / K selected" line."""
    line = next(line for line in result.outlines if "collected " in line)
    return line[line.index("collected ") :]


def parent_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::concurrent_group" in line]


STORY = """
import asyncio
import time
import pytest
from asyncgroup import concurrent_group


@pytest.fixture(scope="module")
def server():
    return {"orders": 0}


@pytest.fixture
def client(server):
    return server


@pytest.fixture
def broken():
    raise RuntimeError("no connection")


@concurrent_group(timeout=30, max_concurrency=20)
class TestCheckout:
    async def test_order_is_shipped(self, client):
        await asyncio.sleep(0.2)
        assert client is not None

    async def test_refund_is_booked(self, client):
        await asyncio.sleep(0.1)
        assert client["orders"] == 1, "refund not booked"

    @pytest.mark.parametrize("country", ["de", "fr", pytest.param("it", marks=pytest.mark.xfail)])
    async def test_tax_is_applied(self, client, country):
        await asyncio.sleep(0.1)
        assert country != "it"

    @pytest.mark.slow
    def test_legacy_report(self, client):
        time.sleep(0.2)

    async def test_needs_broken(self, broken):
        pass

    @pytest.mark.skip(reason="not today")
    async def test_skipped(self):
        pass

    @pytest.mark.xfail(reason="known", strict=True)
    async def test_strict_xpass(self):
        pass

    async def test_skips_itself(self):
        pytest.skip("from the body")


@concurrent_group("inventory", timeout=10)
async def test_stock_is_reserved(client):
    await asyncio.sleep(0.2)


@pytest.mark.slow
@concurrent_group("inventory")
async def test_stock_is_released(client):
    await asyncio.sleep(0.1)
    assert False, "stock not released"


async def test_alone():
    await asyncio.sleep(0.1)
"""


# --------------------------------------------------------------------------------------------
# Outcomes, per test, as without the decorator


@pytest.mark.parametrize("mode", MODES)
def test_each_test_reports_as_it_would_without_the_group(
    pytester: pytest.Pytester, mode: list[str]
) -> None:
    write_pair(pytester, STORY)
    grouped, _ = compare(pytester, *mode)
    outcomes = junit(pytester.path / "test_grouped.xml")
    assert outcomes["TestCheckout::test_refund_is_booked"][0] == "failure"
    assert outcomes["TestCheckout::test_tax_is_applied[it]"][0] == "xfailed"
    assert outcomes["TestCheckout::test_needs_broken"][0] == "error"
    assert outcomes["TestCheckout::test_skipped"][0] == "skipped"
    assert outcomes["TestCheckout::test_strict_xpass"][0] == "failure"
    assert outcomes["test_stock_is_released"][1].startswith("AssertionError: stock not released")
    if mode:  # each group runs whole on one worker
        for group in ("TestCheckout::", "test_stock_is_"):
            workers = {
                line.split()[0]
                for line in grouped.outlines
                if line.startswith("[gw") and f"test_grouped.py::{group}" in line
            }
            assert len(workers) == 1, (group, workers)
    # One parent per group: the class, and the module's "inventory" group.
    assert set(outcomes) >= {"TestCheckout::concurrent_group", "concurrent_group[inventory]"}
    line = next(line for line in grouped.outlines if "tests of class TestCheckout failed" in line)
    assert "2 of 10 tests of class TestCheckout failed: " in line
    for name in ("test_strict_xpass", "test_refund_is_booked"):
        assert name in line
    # A fixture error is an error, as pytest counts it, not a failure.
    assert line.endswith("; 1 of 10 tests of class TestCheckout errored: test_needs_broken")


def test_v_lines_read_as_without_the_group(pytester: pytest.Pytester) -> None:
    """Each test's -v line is the one it has without the group (node id, PASSED, FAILED,
    SKIPPED (reason), XFAIL (reason), ...), but for the [ NN%] progress; the parent's
    line comes in addition."""
    write_pair(pytester, STORY)
    result = run(pytester, "test_grouped")
    result.stdout.fnmatch_lines(
        [
            "test_grouped.py::TestCheckout::test_tax_is_applied[[]de[]] PASSED*",
            "test_grouped.py::TestCheckout::concurrent_group FAILED*",
        ],
        consecutive=False,
    )
    # The parent is located in the test module, not in asyncgroup.
    result.stdout.no_fnmatch_line("*<- *")

    def lines(result: pytest.RunResult, module: str) -> set[str]:
        return {
            re.sub(r" +\[ *\d+%\]$", "", line).replace(f"{module}.py", "test_x.py")
            for line in result.outlines
            if line.startswith(f"{module}.py::") and "concurrent_group" not in line
        }

    plain = run(pytester, "test_plain")
    assert lines(result, "test_grouped") == lines(plain, "test_plain")
    assert "test_x.py::TestCheckout::test_skipped SKIPPED (not today)" in lines(plain, "test_plain")


def test_failures_are_headed_by_the_test_name_as_without_the_group(
    pytester: pytest.Pytester,
) -> None:
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        @concurrent_group
        class TestP:
            @pytest.mark.parametrize("n", [1, 2])
            async def test_y(self, n):
                assert n == 1

            async def test_fail(self):
                assert 0

        @concurrent_group("g")
        async def test_z():
            assert 0

        @concurrent_group("g")
        async def test_ok():
            pass
        """,
    )
    heads = {}
    for module in ("test_grouped", "test_plain"):
        lines = run(pytester, module).outlines
        heads[module] = {
            line.strip("_ ") for line in lines if re.fullmatch(r"_{3,} \S+ _{3,}", line)
        } - {"TestP.concurrent_group", "concurrent_group[g]"}
    assert (
        heads["test_grouped"]
        == heads["test_plain"]
        == {"TestP.test_y[2]", "TestP.test_fail", "test_z"}
    )


# --------------------------------------------------------------------------------------------
# Concurrency


@pytest.mark.parametrize("form", ["class", "module"])
def test_three_one_second_tests_take_about_one_second(pytester: pytest.Pytester, form: str) -> None:
    body = """
        async def test_a({self}):
            await asyncio.sleep(1)

        async def test_b({self}):
            await asyncio.sleep(1)

        def test_c({self}):
            time.sleep(1)
    """
    if form == "class":
        source = "@concurrent_group\nclass TestThree:\n" + textwrap.indent(
            textwrap.dedent(body.format(self="self")), "    "
        )
    else:
        source = textwrap.dedent(body.format(self="")).replace(
            "\ndef", '\n@concurrent_group("three")\ndef'
        )
        source = source.replace("\nasync def", '\n@concurrent_group("three")\nasync def')
    pytester.makepyfile(
        test_three="import asyncio, time\nfrom asyncgroup import concurrent_group\n\n" + source
    )
    result = pytester.runpytest_subprocess("-v", "--durations=0", timeout=60)
    assert summary(result) == {"subtests passed": 3}
    assert result.ret == 0
    parent = "test_three.py::" + (
        "TestThree::concurrent_group" if form == "class" else "concurrent_group[three]"
    )
    pattern = re.compile(rf"^([\d.]+)s call +{re.escape(parent)}$")
    seconds = [float(m.group(1)) for line in result.outlines if (m := pattern.match(line))]
    assert seconds, result.stdout.str()
    assert seconds[0] < 2.0, f"3 tests x 1 s took {seconds[0]:.2f} s: not concurrent"
    # --durations lists each test under its own node id, with its own time.
    prefix = "test_three.py::" + ("TestThree::" if form == "class" else "")
    for name in ("test_a", "test_b", "test_c"):
        own = re.compile(rf"^([\d.]+)s call +{re.escape(prefix + name)}$")
        times = [float(m.group(1)) for line in result.outlines if (m := own.match(line))]
        assert times, name
        assert 0.9 < times[0] < 2.0, (name, times)


# --------------------------------------------------------------------------------------------
# Selection: -k, -m, node ids, --lf, --co


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["-k", "tax"], id="k"),
        pytest.param(["-k", "not tax and not refund"], id="k-not"),
        pytest.param(["-m", "slow"], id="m"),
        pytest.param(["-m", "not slow"], id="m-not"),
        pytest.param(
            ["{file}::TestCheckout::test_tax_is_applied[de]", "{file}::test_stock_is_reserved"],
            id="nodeids",
        ),
        pytest.param(["-k", "TestCheckout"], id="one-group-all-deselected"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_selection_runs_the_parent_with_just_the_selected_tests(
    pytester: pytest.Pytester, args: list[str], mode: list[str]
) -> None:
    write_pair(pytester, STORY)
    grouped, plain = compare(pytester, *args, *mode)
    if not mode:  # xdist's controller prints no selection counts
        assert selection_line(grouped) == selection_line(plain)
    parents = parent_lines(grouped)
    assert parents  # a group ran
    if args == ["-k", "TestCheckout"]:  # the "inventory" group has no selected test
        assert not any("inventory" in line for line in parents)


def test_the_parent_node_id_printed_selects_the_group(pytester: pytest.Pytester) -> None:
    """A group's parent id, as its FAILED line prints it, runs that group's tests when given
    back on the command line, as their own node ids would."""
    write_pair(pytester, STORY)
    first = run(pytester, "test_grouped")
    parents = [
        line.split()[1]
        for line in first.outlines
        if re.match(r"FAILED \S+::concurrent_group", line)
    ]
    assert parents == [
        "test_grouped.py::TestCheckout::concurrent_group",
        "test_grouped.py::concurrent_group[inventory]",
    ]
    grouped = run(pytester, "test_grouped", *parents)
    plain = run(
        pytester,
        "test_plain",
        "{file}::TestCheckout",
        "{file}::test_stock_is_reserved",
        "{file}::test_stock_is_released",
    )
    grouped_tests = junit(pytester.path / "test_grouped.xml")
    for parent in ("TestCheckout::concurrent_group", "concurrent_group[inventory]"):
        del grouped_tests[parent]
    assert grouped_tests == junit(pytester.path / "test_plain.xml")
    assert "test_alone" not in grouped_tests
    assert grouped.ret == plain.ret
    missing = run(pytester, "test_grouped", "{file}::concurrent_group[nope]")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["ERROR: not found: test_grouped.py::concurrent_group[[]nope[]]"])


def test_collect_only_lists_the_tests_not_the_parent(pytester: pytest.Pytester) -> None:
    write_pair(pytester, STORY)
    grouped = pytester.runpytest("--co", "-q", "test_grouped.py", "-k", "tax or stock")
    plain = pytester.runpytest("--co", "-q", "test_plain.py", "-k", "tax or stock")

    def listed(result: pytest.RunResult) -> list[str]:
        return [re.sub(r" in [\d.]+s", "", line) for line in result.outlines]

    assert [line.replace("test_grouped", "test_plain") for line in listed(grouped)] == listed(plain)
    assert "5/13 tests collected (8 deselected)" in grouped.outlines[-1]
    assert "test_grouped.py::TestCheckout::test_tax_is_applied[de]" in grouped.outlines


@pytest.mark.parametrize("mode", MODES)
def test_last_failed_reruns_just_the_failed_tests_of_a_group(
    pytester: pytest.Pytester, mode: list[str]
) -> None:
    write_pair(pytester, STORY)
    compare(pytester, *mode)
    grouped, plain = compare(pytester, "--lf", *mode)
    reran = junit(pytester.path / "test_grouped.xml")
    assert "TestCheckout::test_refund_is_booked" in reran
    assert "TestCheckout::test_order_is_shipped" not in reran
    if not mode:
        assert selection_line(grouped) == selection_line(plain)


RERUN = """
import asyncio
import os
import pytest
from asyncgroup import concurrent_group


async def test_first():
    pass


@concurrent_group("g")
async def test_passes():
    pass


@concurrent_group("g")
async def test_a():
    await asyncio.sleep(0.1)
    fixed = os.environ.get("FIXED", "")
    assert "a" in fixed


@concurrent_group("g")
async def test_b():
    await asyncio.sleep(1)  # cut off when test_a fails (at 0.1 s): time to spare on a slow machine


async def test_c():
    fixed = os.environ.get("FIXED", "")
    assert "c" in fixed


async def test_last():
    pass
"""


def rerun_apart(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fixed: str, *args: str
) -> dict[str, tuple[list[str], dict[str, tuple[str, str]]]]:
    """Run each of the pair in its own folder, keeping its own cache between calls: per
    folder, the lines pytest's cache plugins print and the outcome per test (parents and
    tests cancelled by the stop left out, as they never start without the group)."""
    found = {}
    for module in ("test_grouped", "test_plain"):
        folder = pytester.path / module
        if not folder.exists():
            folder.mkdir()
            shutil.copy(pytester.path / "tox.ini", folder)
            shutil.copy(pytester.path / f"{module}.py", folder / "test_it.py")
        with monkeypatch.context() as patch:
            patch.chdir(folder)
            patch.setenv("FIXED", fixed)
            result = run(pytester, "test_it", *args)
        lines = [
            line.partition(" (cache from")[0]
            for line in result.outlines
            if line.startswith(("stepwise:", "run-last"))
        ]
        tests = {
            key: value
            for key, value in junit(folder / "test_it.xml").items()
            if not key.startswith("concurrent_group") and "cancelled" not in value[1]
        }
        found[module] = (lines, tests)
    return found


def test_last_failed_forgets_the_group_once_its_tests_pass(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest 9.2 kept the parent's record for ever: --lf then never said "no previously failed
    tests" again."""
    write_pair(pytester, RERUN)
    cache = pytester.path / "test_grouped" / ".pytest_cache" / "v" / "cache" / "lastfailed"
    for fixed, args in [("", ()), ("ac", ()), ("ac", ("--lf",))]:
        runs = rerun_apart(pytester, monkeypatch, fixed, *args)
        assert runs["test_grouped"] == runs["test_plain"], (fixed, args)
        if fixed:
            assert json.loads(cache.read_text()) == {}
    assert runs["test_plain"][0] == [
        "run-last-failure: no previously failed tests, not deselecting items."
    ]


def test_stepwise_goes_on_from_the_failed_test_of_a_group(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_pair(pytester, RERUN)
    first = rerun_apart(pytester, monkeypatch, "", "--sw")
    assert first["test_grouped"] == first["test_plain"]
    assert first["test_plain"][1]["test_a"][0] == "failure"
    second = rerun_apart(pytester, monkeypatch, "a", "--sw")
    assert second["test_grouped"] == second["test_plain"]
    assert second["test_plain"][0][0].startswith("stepwise: skipping 2 already passed items")
    assert set(second["test_plain"][1]) == {"test_a", "test_b", "test_c"}
    third = rerun_apart(pytester, monkeypatch, "ac", "--sw")
    assert third["test_grouped"] == third["test_plain"]
    assert set(third["test_plain"][1]) == {"test_c", "test_last"}


def test_stepwise_skip_passes_over_the_first_failed_test_of_a_group(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--sw --sw-skip: the first failure (test_a, in the group) is passed over, the next one
    (test_c, after it) stops the run; the next run goes on from it, as without the group."""
    write_pair(pytester, RERUN)
    first = rerun_apart(pytester, monkeypatch, "", "--sw", "--sw-skip")
    assert first["test_grouped"] == first["test_plain"]
    assert first["test_plain"][1]["test_a"][0] == first["test_plain"][1]["test_c"][0] == "failure"
    assert "test_last" not in first["test_plain"][1]
    second = rerun_apart(pytester, monkeypatch, "", "--sw", "--sw-skip")
    assert second["test_grouped"] == second["test_plain"]
    assert set(second["test_plain"][1]) == {"test_c", "test_last"}


STOPPED = """
import asyncio
import os
from asyncgroup import concurrent_group


@concurrent_group("g")
async def test_a():
    await asyncio.sleep(0.05)


@concurrent_group("g")
async def test_b():
    await asyncio.sleep(1)
    assert "b" in os.environ["FIXED"]


@concurrent_group("g")
async def test_c():
    assert "c" in os.environ["FIXED"]


async def test_last():
    pass
"""


def test_stepwise_goes_on_from_the_first_failed_test_though_a_later_one_failed_first(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the group --sw stops at test_b (test_a passed) and goes on from it. In the
    group test_c fails first: test_a and test_b, which would run before it, run on, and --sw
    goes on from test_b too (it went on from test_c, and the next run ended green, test_b
    failing; then from test_a, cancelled)."""
    write_pair(pytester, STOPPED)
    rerun_apart(pytester, monkeypatch, "", "--sw")
    second = rerun_apart(pytester, monkeypatch, "c", "--sw")
    assert second["test_plain"][1] == {"test_b": ("failure", second["test_plain"][1]["test_b"][1])}
    grouped = second["test_grouped"][1]
    assert grouped["test_b"] == second["test_plain"][1]["test_b"]
    assert "test_a" not in grouped
    assert grouped["test_c"][0] == "passed"
    assert "test_last" not in grouped
    third = rerun_apart(pytester, monkeypatch, "bc", "--sw")
    assert third["test_grouped"] == third["test_plain"]
    assert set(third["test_plain"][1]) == {"test_b", "test_c", "test_last"}


SKIP_THEN_STOP = """
import asyncio
import os
from asyncgroup import concurrent_group


@concurrent_group("g")
async def test_a():
    assert "a" in os.environ["FIXED"]


@concurrent_group("g")
async def test_b():
    await asyncio.sleep(0.3)
    assert "b" in os.environ["FIXED"]


@concurrent_group("g")
async def test_c():
    await asyncio.sleep(1)


async def test_last():
    pass
"""


def test_stepwise_skip_goes_on_from_the_test_that_stopped_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--sw --sw-skip passes over test_a and stops at test_b (test_c, running, is cancelled):
    the next run goes on from test_b, as without the group; it went on from test_a."""
    write_pair(pytester, SKIP_THEN_STOP)
    first = rerun_apart(pytester, monkeypatch, "", "--sw", "--sw-skip")
    assert first["test_grouped"] == first["test_plain"]
    second = rerun_apart(pytester, monkeypatch, "", "--sw", "--sw-skip")
    assert second["test_grouped"] == second["test_plain"]
    assert set(second["test_plain"][1]) == {"test_b", "test_c", "test_last"}


def test_x_stops_the_group_and_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_stop="""
        import asyncio
        import pytest
        from asyncgroup import concurrent_group

        @concurrent_group("g")
        async def test_fails():
            await asyncio.sleep(0.1)
            assert False

        @concurrent_group("g")
        async def test_slow():
            await asyncio.sleep(600)

        @pytest.mark.asyncio
        async def test_later():
            pass
        """
    )
    start = time.monotonic()
    result = pytester.runpytest_subprocess("-v", "-rs", "-x", timeout=120)
    assert time.monotonic() - start < 60  # not the 600 s sleeps
    result.stdout.fnmatch_lines(
        ["*::test_slow SKIPPED*", "*test_stop.py:*: cancelled: stopping after 1 failures"]
    )
    result.stdout.no_fnmatch_line("*test_later*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_dash_r_capital_p_shows_the_output_of_passed_tests(pytester: pytest.Pytester) -> None:
    write_pair(
        pytester,
        """
        from asyncgroup import concurrent_group

        @concurrent_group("o")
        async def test_p():
            print("out from p")

        @concurrent_group("o")
        async def test_f():
            print("out from f")
            assert 0
        """,
    )
    for result in compare(pytester, "-rPp"):
        result.stdout.fnmatch_lines(["*= PASSES =*", "*_ test_p _*", "out from p"])
        result.stdout.fnmatch_lines(["PASSED test_*.py::test_p"])


@pytest.mark.parametrize("capture", ["-s", "--capture=fd"])
def test_capture_fixtures_capture_a_test_under_dash_s_too(
    pytester: pytest.Pytester, capture: str
) -> None:
    """capsys captures for the test that asks for it under -s too; capteesys passes its
    output on, to the test's report (findings-cases4 D and M)."""
    write_pair(
        pytester,
        """
        import asyncio
        from asyncgroup import concurrent_group

        @concurrent_group("o")
        async def test_a(capsys):
            print("out from a")
            await asyncio.sleep(0.05)
            assert capsys.readouterr().out == "out from a\\n"

        @concurrent_group("o")
        def test_b(capfd):
            print("out from b")
            assert capfd.readouterr().out == "out from b\\n"

        @concurrent_group("o")
        async def test_c(capteesys):
            print("teed from c")
            await asyncio.sleep(0.05)
            assert capteesys.readouterr().out == "teed from c\\n"
            assert 0
        """,
    )
    grouped, plain = compare(pytester, capture)
    for result in (grouped, plain):
        text = result.stdout.str()
        assert "from a" not in text, text
        assert "from b" not in text, text
        assert ("Captured stdout call" in text) == (capture != "-s"), text
    # Passed on once (to the terminal or the report), besides the source lines shown.
    teed = [result.stdout.str().count("teed from c") for result in (grouped, plain)]
    assert teed[0] == teed[1] == 3, (grouped.stdout.str(), plain.stdout.str())


def test_output_and_logs_of_a_thread_are_the_test_that_started_it(
    pytester: pytest.Pytester,
) -> None:
    """findings-groups4 F6: in the test's caplog and its report, not the parent's."""
    write_pair(
        pytester,
        """
        import logging
        import threading
        import time
        from asyncgroup import concurrent_group

        def worker():
            print("from-worker-thread")
            logging.getLogger("thr").warning("worker-log")

        @concurrent_group("g")
        def test_a(caplog):
            time.sleep(0.2)  # overlaps test_b
            assert caplog.messages == []

        @concurrent_group("g")
        def test_b(caplog):
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
            assert caplog.messages == ["worker-log"]
            assert 0
        """,
    )
    for result in compare(pytester, "-rA"):
        text = result.stdout.str()
        section = text[text.index("_ test_b _") : text.index("short test summary")]
        assert "from-worker-thread" in section, text
        assert "WARNING  thr:" in section, text
        assert text.count("from-worker-thread") == 1, text


def test_maxfail_counts_the_failed_tests_not_the_group(pytester: pytest.Pytester) -> None:
    """--maxfail=2 stops after two failed tests, as without the group: the group's parent,
    which only sums up its failed tests, is not a third failure (nor -x's second)."""
    write_pair(
        pytester,
        """
        import asyncio
        from asyncgroup import concurrent_group

        @concurrent_group("g")
        async def test_a():
            assert 0

        @concurrent_group("g")
        async def test_b():
            await asyncio.sleep(0.5)

        async def test_z():
            assert 0

        async def test_zz():
            assert 0
        """,
    )
    for result in compare(pytester, "--maxfail=2"):
        result.stdout.fnmatch_lines(["*stopping after 2 failures*"])
    for module in ("test_grouped", "test_plain"):
        run(pytester, module, "-x").stdout.fnmatch_lines(["*stopping after 1 failures*"])


# --------------------------------------------------------------------------------------------
# Fixtures, marks, @concurrent_cases and parametrize members


def test_fixtures_are_per_test_or_shared_by_scope(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fixtures="""
        import asyncio
        import itertools
        import pytest
        import pytest_asyncio
        from asyncgroup import concurrent_group

        made = {"module": 0, "class": 0, "function": 0}
        counter = itertools.count()

        @pytest.fixture(scope="module")
        def per_module():
            made["module"] += 1
            return object()

        @pytest.fixture(scope="class")
        def per_class():
            made["class"] += 1
            return object()

        @pytest_asyncio.fixture
        async def per_test(request, per_module):
            made["function"] += 1
            yield (next(counter), request.node.name)

        @concurrent_group
        class TestShared:
            seen = []

            @pytest.fixture
            def remembered(self):
                self.mine = "set by the fixture"
                return self

            async def test_one(self, per_module, per_class, per_test, remembered):
                assert remembered is self and self.mine == "set by the fixture"
                assert per_test[1] == "test_one"
                self.seen.append((per_module, per_class, per_test[0]))
                await asyncio.sleep(0.1)

            @pytest.mark.parametrize("n", [1, 2])
            async def test_two(self, per_module, per_class, per_test, n):
                assert per_test[1] == f"test_two[{n}]"
                self.seen.append((per_module, per_class, per_test[0]))
                await asyncio.sleep(0.1)

        def test_check():
            seen = TestShared.seen
            assert len(seen) == 3
            assert len({s[0] for s in seen}) == 1 and len({s[1] for s in seen}) == 1
            assert len({s[2] for s in seen}) == 3
            assert made == {"module": 1, "class": 1, "function": 3}
        """
    )
    result = pytester.runpytest_subprocess("-v", "-p", "no:randomly", timeout=60)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*::test_check PASSED*"])


def test_concurrent_cases_member_gives_its_cases(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_cases="""
        import asyncio
        from asyncgroup import concurrent_cases, concurrent_group

        @concurrent_group("g")
        @concurrent_cases([1, 2, 3])
        async def test_many(n):
            await asyncio.sleep(0.1)
            assert n != 2

        @concurrent_group("g")
        async def test_one():
            await asyncio.sleep(0.1)
        """
    )
    result = pytester.runpytest_subprocess("-v", "-rA", timeout=60)
    result.stdout.fnmatch_lines(["*1 of 4 tests of group 'g' failed: test_many[[]2[]]*"])
    for nodeid in ("test_many[1]", "test_many[3]", "test_one"):
        assert any(f"test_cases.py::{nodeid} " in line for line in result.outlines), nodeid
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_failing_shared_fixture_errors_only_the_tests_using_it(
    pytester: pytest.Pytester,
) -> None:
    """As without the group: each test using it gets its own ERROR, the others run."""
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        @pytest.fixture(scope="module")
        def mod_bad():
            raise RuntimeError("module boom")

        @pytest.fixture(scope="class")
        def cls_skip():
            pytest.skip("no server")

        @concurrent_group("h")
        async def test_mod_bad1(mod_bad):
            pass

        @concurrent_group("h")
        async def test_mod_bad2(mod_bad):
            pass

        @concurrent_group("h")
        async def test_fine():
            pass

        @concurrent_group
        class TestC:
            async def test_uses(self, cls_skip):
                pass

            async def test_free(self):
                assert 0, "test_free ran"

        @concurrent_group("h")
        @pytest.mark.xfail(reason="known")
        async def test_xfail(mod_bad):
            pass

        @concurrent_group("h")
        @pytest.mark.skip(reason="skipped first")
        async def test_skip(mod_bad):
            pass
        """,
    )
    compare(pytester)
    outcomes = junit(pytester.path / "test_grouped.xml")
    assert (
        outcomes["test_mod_bad1"]
        == outcomes["test_mod_bad2"]
        == ("error", 'failed on setup with "RuntimeError: module boom"')
    )
    assert outcomes["test_fine"] == ("passed", "")
    assert outcomes["TestC::test_uses"][0] == "skipped"
    assert outcomes["TestC::test_free"][0] == "failure"
    assert outcomes["test_xfail"][0] == "xfailed"
    assert outcomes["test_skip"] == ("skipped", "skipped first")


AUTOUSE_FAILS = {
    "module": """
        import pytest
        from asyncgroup import concurrent_group

        @pytest.fixture(scope="module", autouse=True)
        def bad():
            raise RuntimeError("module boom")

        @concurrent_group("h")
        async def test_a():
            pass

        @concurrent_group("h")
        async def test_b():
            pass
        """,
    "class": """
        import pytest
        from asyncgroup import concurrent_group

        @concurrent_group
        class TestC:
            @pytest.fixture(scope="class", autouse=True)
            @classmethod
            def bad(cls):
                raise RuntimeError("class boom")

            async def test_a(self):
                pass

            async def test_b(self):
                pass

        async def test_after():
            pass
        """,
}


@pytest.mark.parametrize("scope", ["module", "class"])
def test_a_failing_autouse_fixture_errors_each_test(pytester: pytest.Pytester, scope: str) -> None:
    """An autouse class or module fixture that fails: each test of the group is an ERROR of its
    own, as without the group, not the group's parent once."""
    write_pair(pytester, AUTOUSE_FAILS[scope])
    compare(pytester)
    prefix = "TestC::" if scope == "class" else ""
    outcomes = junit(pytester.path / "test_grouped.xml")
    for name in ("test_a", "test_b"):
        assert outcomes[prefix + name] == (
            "error",
            f'failed on setup with "RuntimeError: {scope} boom"',
        )


# Group "m" (test_m1, test_m2) whose module fixture, used by test_m1 only, raises in its teardown.
MODULE_TEARDOWN_ERROR = """
@pytest.fixture(scope="module")
def mod_td():
    yield
    raise RuntimeError("module teardown boom")

@concurrent_group("m")
async def test_m1(mod_td):
    pass

@concurrent_group("m")
async def test_m2():
    pass
"""


def _write_module_teardown_error_pair(pytester: pytest.Pytester, before: str = "") -> None:
    """write_pair of MODULE_TEARDOWN_ERROR, ``before`` (a source) ahead of it."""
    imports = "import pytest\nfrom asyncgroup import concurrent_group\n"
    write_pair(pytester, imports + textwrap.dedent(before) + MODULE_TEARDOWN_ERROR)


def test_a_teardown_error_of_a_class_or_module_fixture_is_the_last_tests(
    pytester: pytest.Pytester,
) -> None:
    """pytest tears a class (module) fixture down after the scope's last test: an error there is
    that test's ERROR, not the group's parent's; the parent's other tests stay as they are."""
    class_group = """
        @pytest.fixture(scope="class")
        def cls_td():
            yield
            raise RuntimeError("class teardown boom")

        @concurrent_group
        class TestT:
            async def test_a(self, cls_td):
                print("output of test_a")

            async def test_b(self):
                print("output of test_b")
        """
    _write_module_teardown_error_pair(pytester, before=class_group)
    grouped, plain = compare(pytester)
    outcomes = junit(pytester.path / "test_grouped.xml")
    assert outcomes["TestT::test_b"] == (
        "error",
        'failed on teardown with "RuntimeError: class teardown boom"',
    )
    assert outcomes["test_m2"][1] == 'failed on teardown with "RuntimeError: module teardown boom"'
    assert outcomes["TestT::concurrent_group"] == outcomes["concurrent_group[m]"] == ("passed", "")
    for result in (grouped, plain):
        result.stdout.fnmatch_lines(
            [
                "*::TestT::test_b ERROR*",
                "*::test_m2 ERROR*",
                "*_ ERROR at teardown of TestT.test_b _*",
                "*- Captured stdout call -*",
                "output of test_b",
                "*_ ERROR at teardown of test_m2 _*",
                "* 2 errors*",
            ],
            consecutive=False,
        )


@XDIST
def test_a_teardown_error_moved_to_the_last_test_keeps_progress_within_100_percent(
    pytester: pytest.Pytester,
) -> None:
    """Under -n 2 the ERROR at teardown of the group's last test (its module fixture's) took
    a progress place of its own after the parent's: ``[200%]``. As for the separate tests,
    progress never passes 100%."""
    _write_module_teardown_error_pair(pytester)
    for module in ("test_grouped", "test_plain"):
        result = run(pytester, module, "-n", "2")
        progress = [int(found) for found in re.findall(r"\[ *(\d+)%\]", result.stdout.str())]
        assert progress, result.stdout.str()
        assert max(progress) == 100, result.stdout.str()
        result.stdout.fnmatch_lines(["*[[]100%[]] ERROR *::test_m?*"])


def test_a_parametrized_wider_fixture_errors_just_the_tests_using_it(
    pytester: pytest.Pytester,
) -> None:
    """pytest holds one parameter of a module fixture at a time; a group's tests run at once:
    each test using it is refused (its setup error says why and what to do), the others run."""
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        @pytest.fixture(scope="module", params=[1, 2])
        def mp(request):
            return request.param

        @concurrent_group("g")
        async def test_a(mp):
            pass

        @concurrent_group("g")
        async def test_b():
            pass
        """,
    )
    result = run(pytester, "test_grouped")
    outcomes = junit(pytester.path / "test_grouped.xml")
    assert outcomes["test_b"] == ("passed", "")
    for nodeid in ("test_a[1]", "test_a[2]"):
        assert outcomes[nodeid][0] == "error"
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of test_a[[]1[]] _*",
            "In test_a[[]1[]]: the module-scoped fixture 'mp' is parametrized, and the tests of "
            "this group hold different parameters of it (test_a[[]1[]] 1, test_a[[]2[]] 2): "
            "pytest sets it up with one parameter at a time, and the tests of a "
            "@concurrent_group run at the same time; put the tests of each parameter in a "
            "group of their own, or take test_a out of the group",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_wider_fixture_its_tests_hold_with_one_parameter_is_shared_as_without_the_group(
    pytester: pytest.Pytester,
) -> None:
    """A session fixture parametrized with one value (pytest_generate_tests, indirect), and a
    class fixture two tests give the same value (indirect parametrize marks): there is nothing
    to hold one at a time, so the group's tests share it, set up once with its parameter, as
    the separate tests (each was refused, findings-groups4 F7)."""
    pytester.makeconftest(
        """
        import pytest

        def pytest_generate_tests(metafunc):
            if "backend" in metafunc.fixturenames:
                metafunc.parametrize("backend", ["postgres"], indirect=True, scope="session")
        """
    )
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        SET_UP = []

        @pytest.fixture(scope="session")
        def backend(request):
            SET_UP.append(request.param)
            return request.param

        @pytest.fixture(scope="class")
        def srv(request):
            SET_UP.append(request.param)
            return f"srv-{request.param}"

        @concurrent_group("g")
        async def test_a(backend):
            assert backend == "postgres"

        @concurrent_group("g")
        def test_b(backend):
            assert backend == "postgres"

        @concurrent_group
        class TestS:
            @pytest.mark.parametrize("srv", ["x"], indirect=True)
            async def test_c(self, srv):
                assert srv == "srv-x"

            @pytest.mark.parametrize("srv", ["x"], indirect=True)
            def test_d(self, srv):
                assert srv == "srv-x"

        def test_set_up_once_each():
            assert SET_UP == ["postgres", "x"]
        """,
    )
    grouped, _ = compare(pytester, "-W", "error::DeprecationWarning")
    assert grouped.ret == 0, grouped.stdout.str()
    assert "warning" not in grouped.outlines[-1], grouped.stdout.str()


def test_a_concurrent_cases_test_without_cases_is_skipped_as_without_the_group(
    pytester: pytest.Pytester,
) -> None:
    write_pair(
        pytester,
        """
        from asyncgroup import concurrent_cases, concurrent_group

        @concurrent_group("e")
        @concurrent_cases([])
        async def test_none(x):
            pass

        @concurrent_group("e")
        async def test_one():
            pass
        """,
    )
    grouped, _ = compare(pytester)
    assert junit(pytester.path / "test_grouped.xml")["test_none[NOTSET]"] == (
        "skipped",
        "got empty parameter set for (x)",
    )
    grouped.stdout.fnmatch_lines(["test_grouped.py::test_none[[]NOTSET[]] *SKIP* (got empty*"])


def test_a_group_whose_tests_are_all_skipped_sets_nothing_up(pytester: pytest.Pytester) -> None:
    """Each test skipped (or xfailed without running) by its marks: as for the separate tests,
    no fixture is set up (session, module, class, autouse, the event loop's), nor torn down
    (each would leave a line in set-up.txt, and --setup-show would list it)."""
    write_pair(
        pytester,
        "import asyncio\nimport pytest\nfrom asyncgroup import concurrent_cases, concurrent_group\n"
        + SET_UP_RECORDED
        + """
@concurrent_group("g")
@pytest.mark.skip(reason="not today")
async def test_a(database):
    pass

@concurrent_group("g")
@pytest.mark.skipif("True", reason="never")
def test_b(database, suite):
    pass

@concurrent_group("g")
@pytest.mark.xfail(run=False, reason="broken")
async def test_c(database):
    pass

@concurrent_group("g")
@concurrent_cases("n", [pytest.param(1, marks=pytest.mark.skip(reason="case"))])
async def test_d(database, n):
    pass
""",
    )
    recorded = pytester.path / "set-up.txt"
    for module in ("test_grouped", "test_plain"):
        result = run(pytester, module, "-s", "--setup-show")
        assert not recorded.exists(), (module, recorded.read_text())
        assert not [line for line in result.outlines if "SETUP" in line or "TEARDOWN" in line], (
            result.stdout.str()
        )
        assert result.ret == 0
    tests = junit(pytester.path / "test_grouped.xml")
    del tests["concurrent_group[g]"]
    plain_tests = junit(pytester.path / "test_plain.xml")
    del plain_tests["test_d"]  # the parent of the @concurrent_cases test's cases
    assert tests == plain_tests
    assert tests["test_a"] == ("skipped", "not today")
    assert tests["test_c"][0] == "xfailed"
    assert tests["test_d[1]"] == ("skipped", "case")


def test_no_fixture_of_a_test_is_set_up_after_one_that_failed(pytester: pytest.Pytester) -> None:
    """pytest sets up none of a test's fixtures after the first that fails: a class fixture
    after a failing module fixture is not set up for that test (it was, for the group's
    parent, and its own error was lost), while a test that needs it and nothing that failed
    still gets it."""
    write_pair(
        pytester,
        """
        import pathlib
        import pytest
        from asyncgroup import concurrent_group

        def record(name):
            with pathlib.Path("set-up.txt").open("a") as file:
                file.write(name + "\\n")

        @pytest.fixture(scope="module")
        def broken():
            record("broken")
            raise RuntimeError("module fixture fails")

        @pytest.fixture(scope="class")
        def after():
            record("after")
            raise ValueError("class fixture fails too")

        @pytest.fixture(scope="class")
        def works():
            record("works")

        @concurrent_group
        class TestA:
            async def test_1(self, broken, after):
                pass

            async def test_2(self):
                pass

        @concurrent_group
        class TestB:
            async def test_1(self, broken, works):
                pass

            async def test_2(self, works):
                pass
        """,
    )
    recorded = pytester.path / "set-up.txt"
    lines = {}
    for module in ("test_grouped", "test_plain"):
        run(pytester, module)
        lines[module] = sorted(recorded.read_text().split())
        recorded.unlink()
    assert lines["test_plain"] == ["broken", "works"]
    assert lines["test_grouped"] == lines["test_plain"]
    compare(pytester)
    tests = junit(pytester.path / "test_grouped.xml")
    message = 'failed on setup with "RuntimeError: module fixture fails"'
    assert tests["TestA::test_1"] == ("error", message)


def test_a_failed_class_teardown_shows_the_last_tests_teardown_output_once(
    pytester: pytest.Pytester,
) -> None:
    """The class fixture's teardown error is the class's last test's, with what that test's
    teardown printed: one "Captured stdout teardown" section, as pytest captures the phase
    (it was two, the test's and the class fixture's)."""
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        @pytest.fixture(scope="class")
        def shared():
            yield
            print("shared torn down")
            raise RuntimeError("class teardown fails")

        @pytest.fixture
        def own():
            yield
            print("own torn down")

        @concurrent_group
        class TestX:
            async def test_1(self, shared):
                pass

            async def test_2(self, shared, own):
                print("body")
        """,
    )
    grouped, plain = compare(pytester, "-rE")
    outputs = [
        section(r, "ERROR at teardown of TestX.test_2")
        .split("RuntimeError\n", 1)[1]
        .split("- generated xml file")[0]
        for r in (grouped, plain)
    ]
    assert outputs[0].count("Captured stdout teardown") == 1, outputs[0]
    assert "own torn down\nshared torn down" in outputs[1], outputs[1]
    assert outputs[0] == outputs[1]


# --------------------------------------------------------------------------------------------
# Misuse


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            """
            @concurrent_group("g", timeout=1)
            async def test_a():
                pass

            @concurrent_group("g", timeout=2)
            async def test_b():
                pass
            """,
            "In test_b: @concurrent_group('g') gives timeout=2.0, but test_a in the same group "
            "gives timeout=1.0*",
            id="conflicting-options",
        ),
        pytest.param(
            """
            @concurrent_group(42)
            async def test_a():
                pass
            """,
            "In test_a: the group name must be a non-empty string*got 42",
            id="name-not-a-string",
        ),
        pytest.param(
            """
            @concurrent_group
            async def test_a():
                pass
            """,
            "In test_a: @concurrent_group on a function needs a group name*",
            id="bare-on-a-function",
        ),
        pytest.param(
            """
            @concurrent_group(timeout=1)
            async def test_a():
                pass
            """,
            "In test_a: @concurrent_group without a name groups the tests of a class*",
            id="no-name-on-a-function",
        ),
        pytest.param(
            """
            @concurrent_group("g", timeout=-1)
            async def test_a():
                pass
            """,
            "In test_a: invalid timeout -1 from @concurrent_group(timeout=...)*",
            id="bad-timeout",
        ),
        pytest.param(
            """
            @concurrent_group("g", shards=2, retries=1)
            async def test_a():
                pass
            """,
            "In test_a: @concurrent_group got unknown keyword argument(s) retries, shards; it "
            "takes the group name (first, not as a keyword), timeout, max_concurrency and "
            "fail_fast",
            id="unknown-keywords",
        ),
        pytest.param(
            """
            @concurrent_group(shards=2)
            class TestA:
                async def test_a(self):
                    pass
            """,
            "In TestA: @concurrent_group got unknown keyword argument(s) shards; it takes*",
            id="unknown-keyword-on-a-class",
        ),
        pytest.param(
            """
            @concurrent_group(name="g")
            async def test_a():
                pass
            """,
            "In test_a: @concurrent_group got unknown keyword argument(s) name; it takes the "
            "group name (first, not as a keyword)*",
            id="name-as-a-keyword",
        ),
        pytest.param(
            """
            @concurrent_group("g")
            async def helper():
                pass
            """,
            "@concurrent_group on function 'helper', which pytest does not collect as a test*",
            id="not-a-test",
        ),
        pytest.param(
            """
            @concurrent_group
            class TestA:
                @concurrent_group("g")
                async def test_a(self):
                    pass
            """,
            "In test_a: class TestA already runs all its tests as one group*",
            id="method-in-a-grouped-class",
        ),
        pytest.param(
            """
            @concurrent_group("we]ird::name [x]")
            async def test_a():
                pass
            """,
            "In test_a: the group name 'we[]]ird::name [[]x[]]' cannot be part of a node id "
            "(concurrent_group[[]name[]]): it contains '::', '[[]', '[]]'; use letters, digits,*",
            id="name-with-node-id-separators",
        ),
        pytest.param(
            """
            @concurrent_group("inventory ")
            async def test_a():
                pass
            """,
            "In test_a: the group name 'inventory ' cannot be part of a node id*it contains "
            "leading or trailing whitespace*",
            id="name-with-trailing-space",
        ),
        pytest.param(
            """
            @concurrent_group("g")
            async def test_a():
                assert 0, "body ran"
                yield 1
            """,
            "In test_a: @concurrent_group needs an 'async def' or plain 'def' test, "
            "not a generator",
            id="async-generator",
        ),
        pytest.param(
            """
            @concurrent_group
            class TestA:
                async def test_b(self):
                    assert 0, "body ran"
                    yield 1
            """,
            "In test_b: @concurrent_group needs an 'async def' or plain 'def' test, "
            "not a generator",
            id="async-generator-in-a-grouped-class",
        ),
        pytest.param(
            """
            import unittest

            @concurrent_group
            class TestU(unittest.IsolatedAsyncioTestCase):
                async def test_a(self):
                    pass
            """,
            "In TestU: @concurrent_group does not work on a unittest.TestCase class*",
            id="unittest-class",
        ),
        pytest.param(
            """
            import unittest

            class TestU(unittest.TestCase):
                @concurrent_group("g")
                def test_a(self):
                    pass
            """,
            "In TestU.test_a: @concurrent_group does not work on a method of a unittest.TestCase*",
            id="unittest-method",
        ),
        pytest.param(
            """
            import pytest

            @concurrent_group("m")
            @pytest.mark.asyncio(loop_scope="module")
            async def test_m1():
                pass

            @concurrent_group("m")
            async def test_m2():
                pass
            """,
            "In test_m2: it runs on the 'function' event loop (pytest-asyncio's default, "
            "asyncio_default_test_loop_scope), but test_m1 in the same group runs on the "
            "'module' loop (its asyncio mark); the tests of a group run in one event loop: give "
            "them the same loop scope, e.g. @pytest.mark.asyncio(loop_scope='module') on "
            "test_m2, or take one out of the group",
            id="loop-scope-default-and-marked",
        ),
        pytest.param(
            """
            import pytest

            @concurrent_group
            class TestL:
                @pytest.mark.asyncio(loop_scope="class")
                async def test_c(self):
                    pass

                def test_plain_def_runs_in_a_thread(self):
                    pass

                @pytest.mark.parametrize("x", [1, 2])
                @pytest.mark.asyncio(loop_scope="module")
                async def test_p(self, x):
                    pass
            """,
            "In test_p: it runs on the 'module' event loop (its asyncio mark), but test_c in the "
            "same group runs on the 'class' loop (its asyncio mark)*",
            id="loop-scope-marked-differently",
        ),
        pytest.param(
            """
            concurrent_group("g")(42)
            """,
            "*TypeError: @concurrent_group decorates a test function or a test class, not int 42",
            id="not-a-function",
        ),
    ],
)
def test_misuse_is_a_collection_error_naming_the_test(
    pytester: pytest.Pytester, source: str, message: str
) -> None:
    pytester.makepyfile(
        test_bad="from asyncgroup import concurrent_group\n" + textwrap.dedent(source)
    )
    result = pytester.runpytest_subprocess(timeout=60)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ERROR collecting test_bad.py*", f"*{message}"])


XDIST_GROUPS = """
import time
import pytest
from asyncgroup import concurrent_group

@concurrent_group("g")
@pytest.mark.xdist_group("A")
async def test_1():
    pass

@concurrent_group("g")
async def test_2():
    pass

@pytest.mark.xdist_group("A")
def test_3():
    time.sleep(0.5)

@pytest.mark.xdist_group("Z")
def test_4():
    time.sleep(0.5)
"""


@XDIST
@pytest.mark.skipif(
    pytest.version_tuple >= (9, 2),
    reason="pytest-xdist 3.8 loses every test's xdist_group on pytest 9.2 (it sets _nodeid)",
)
def test_loadgroup_runs_a_group_with_its_tests_xdist_group(pytester: pytest.Pytester) -> None:
    """As pytest-xdist does for a marked test: the parent is named @A, and runs with test_3."""
    pytester.makepyfile(test_xg=XDIST_GROUPS)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-v", "-n", "2", "--dist", "loadgroup", timeout=90)
    # The parent, which only sums up its tests, is not counted (see tests/test_counts.py).
    assert summary(result) == {"passed": 2, "subtests passed": 2}
    worker = {}
    for line in result.outlines:
        found = re.match(r"\[(gw\d)\].* (PASSED|FAILED) test_xg\.py::(\S+)", line)
        if found:
            worker[found.group(3)] = found.group(1)
    assert worker["concurrent_group[g]@A"] == worker["test_3@A"], worker


@XDIST
def test_loadgroup_refuses_a_group_whose_tests_name_different_xdist_groups(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_xg=XDIST_GROUPS.replace(
            "async def test_2", '@pytest.mark.xdist_group("B")\nasync def test_2'
        )
    )
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-n", "2", "--dist", "loadgroup", timeout=90)
    result.stdout.fnmatch_lines(
        [
            "In test_2: its xdist_group is 'B', but test_1 in the same @concurrent_group has "
            "'A'; with --dist loadgroup a group runs whole on one worker, so its tests must "
            "share their xdist_group: give them the same @pytest.mark.xdist_group, or take one "
            "out of the group"
        ]
    )
    result.stdout.fnmatch_lines(["ERROR test_xg.py - Failed: In test_2: *"])
    assert result.ret != pytest.ExitCode.OK
    # Without loadgroup pytest-xdist ignores the marks, and so does the group.
    unscheduled = pytester.runpytest_subprocess("-n", "2", timeout=90)
    assert summary(unscheduled) == {"passed": 2, "subtests passed": 2}


@pytest.mark.parametrize("form", ["class", "function"])
def test_without_pytest_asyncio_a_group_is_a_collection_error(
    pytester: pytest.Pytester, form: str
) -> None:
    """As for @concurrent_cases: the parent needs pytest-asyncio's loop, so say so up front."""
    source = (
        "@concurrent_group\nclass TestP:\n    def test_a(self):\n        pass\n"
        if form == "class"
        else "@concurrent_group('g')\ndef test_a():\n    pass\n"
    )
    pytester.makepyfile(test_bad="from asyncgroup import concurrent_group\n" + source)
    result = pytester.runpytest_subprocess("-p", "no:asyncio", timeout=60)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    name = "TestP" if form == "class" else "test_a"
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting test_bad.py*",
            f"In {name}: @concurrent_group runs its tests in pytest-asyncio's event loop, and "
            "pytest-asyncio is not active (not installed, or disabled with -p no:asyncio)*",
        ]
    )


def test_each_test_has_its_own_warning_filters(pytester: pytest.Pytester) -> None:
    """filterwarnings marks of one test hold for that test only, as without the group."""
    write_pair(
        pytester,
        """
        import asyncio
        import warnings
        import pytest
        from asyncgroup import concurrent_group

        @concurrent_group("g")
        @pytest.mark.filterwarnings("error::UserWarning")
        async def test_strict():
            await asyncio.sleep(0.1)
            warnings.warn("careful", UserWarning)

        @concurrent_group("g")
        async def test_lenient():
            await asyncio.sleep(0.1)
            warnings.warn("careful", UserWarning)

        @concurrent_group("g")
        @pytest.mark.filterwarnings("ignore::DeprecationWarning")
        async def test_ignores():
            warnings.warn("old", DeprecationWarning)
        """,
    )
    compare(pytester)
    outcomes = junit(pytester.path / "test_grouped.xml")
    assert outcomes["test_strict"][0] == "failure"
    assert outcomes["test_lenient"][0] == "passed"


def test_nested_classes_form_groups_of_their_own(pytester: pytest.Pytester) -> None:
    """A decorated class's nested test class is a group of its own (with the outer class's
    options), as a class mark reaches its tests; a group name is local to its class: the same
    name in two classes gives two groups (as their class fixtures are two)."""
    write_pair(
        pytester,
        """
        import asyncio
        from asyncgroup import concurrent_group

        @concurrent_group(timeout=5)
        class TestOuter:
            async def test_o(self):
                pass

            class TestInner:
                async def test_i(self):
                    await asyncio.sleep(0)

                async def test_j(self):
                    assert 0, "test_j fails"

        class TestA:
            class TestB:
                @concurrent_group("g")
                async def test_x(self):
                    pass

                @concurrent_group("g")
                async def test_y(self):
                    pass

        class TestK:
            @concurrent_group("shared")
            async def test_k(self):
                pass

        class TestL:
            @concurrent_group("shared")
            async def test_l(self):
                pass
        """,
    )
    grouped, _ = compare(pytester)
    shown = {line.split()[0] for line in parent_lines(grouped)}
    assert {nodeid for nodeid in shown if nodeid.startswith("test_grouped.py::")} == {
        f"test_grouped.py::{parent}"
        for parent in (
            "TestOuter::concurrent_group",
            "TestOuter::TestInner::concurrent_group",
            "TestA::TestB::concurrent_group[g]",
            "TestK::concurrent_group[shared]",
            "TestL::concurrent_group[shared]",
        )
    }
    grouped.stdout.fnmatch_lines(["*1 of 2 tests of class TestInner failed: test_j*"])


def test_class_and_module_marks_act_per_test(pytester: pytest.Pytester) -> None:
    """xfail on the class, skipif on the module: each test gets them, as without the group."""
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        pytestmark = pytest.mark.skipif("sys.platform == 'nowhere'", reason="never")

        @concurrent_group
        @pytest.mark.xfail(reason="the whole class is broken")
        class TestBroken:
            async def test_fails(self):
                assert False

            async def test_passes(self):
                pass

            @pytest.mark.xfail(reason="broken too", strict=True)
            async def test_strict_passes(self):
                pass
        """,
    )
    compare(pytester)
    outcomes = junit(pytester.path / "test_grouped.xml")
    assert outcomes["TestBroken::test_fails"][0] == "xfailed"
    assert outcomes["TestBroken::test_strict_passes"][0] == "failure"


def test_a_class_loop_scope_applies_to_the_group(pytester: pytest.Pytester) -> None:
    """The class's asyncio mark (its loop scope) is the parent's: shared async fixtures and the
    tests run in one loop, as they do without the group."""
    write_pair(
        pytester,
        """
        import asyncio
        import pytest
        import pytest_asyncio
        from asyncgroup import concurrent_group

        @pytest_asyncio.fixture(scope="class", loop_scope="class")
        async def loop_of_fixture():
            return asyncio.get_running_loop()

        @concurrent_group
        @pytest.mark.asyncio(loop_scope="class")
        class TestLoop:
            async def test_a(self, loop_of_fixture):
                assert asyncio.get_running_loop() is loop_of_fixture

            async def test_b(self, loop_of_fixture):
                assert asyncio.get_running_loop() is loop_of_fixture
        """,
    )
    grouped, _ = compare(pytester)
    assert grouped.ret == 0
    assert junit(pytester.path / "test_grouped.xml")["TestLoop::test_a"][0] == "passed"


def test_group_options_apply_to_every_test(pytester: pytest.Pytester) -> None:
    """timeout and fail_fast given on one test of a group apply to all of its tests."""
    pytester.makepyfile(
        test_options="""
        import asyncio
        from asyncgroup import concurrent_group

        @concurrent_group("t", timeout=0.5)
        async def test_given_the_timeout():
            pass

        @concurrent_group("t")
        async def test_times_out():
            await asyncio.sleep(600)

        @concurrent_group("f", fail_fast=True)
        async def test_fails():
            await asyncio.sleep(0.1)
            assert False

        @concurrent_group("f")
        async def test_cancelled():
            await asyncio.sleep(600)

        @concurrent_group("named", timeout=0.5)
        class TestNamed:
            async def test_class_times_out(self):
                await asyncio.sleep(600)
        """
    )
    start = time.monotonic()
    result = pytester.runpytest_subprocess("-v", "-rs", timeout=120)
    assert time.monotonic() - start < 60  # not the 600 s sleeps
    result.stdout.fnmatch_lines(["*test_times_out FAILED*", "*asyncgroup.CaseTimeoutError*"])
    result.stdout.fnmatch_lines(["*TestNamed::test_class_times_out FAILED*"])
    result.stdout.fnmatch_lines(["*::TestNamed::concurrent_group[[]named[]] FAILED*"])
    result.stdout.fnmatch_lines(
        ["*::test_cancelled SKIPPED*", "*: cancelled: fail_fast: case 'test_fails' failed"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_task_a_test_left_running_never_runs_beside_the_groups_other_tests(
    pytester: pytest.Pytester,
) -> None:
    """A test of a group returns while a task it started still sleeps: as pytest-asyncio cancels
    that task when it closes the separate test's loop (right after its teardown), asyncgroup
    cancels it after the test's teardown, at once: the group's next test, which relies on it
    not running, passes as it does separately (it ran for up to 1 s beside it, and failed)."""
    write_pair(
        pytester,
        """
        import asyncio
        from asyncgroup import concurrent_group

        FLAG = []

        async def background():
            await asyncio.sleep(1)  # cancelled after 0.01 s: time to spare on a slow machine
            FLAG.append("ran")
            raise RuntimeError("background boom")

        @concurrent_group("g")
        async def test_starts():
            asyncio.get_running_loop().create_task(background())
            await asyncio.sleep(0.01)

        @concurrent_group("g")
        async def test_checks():
            await asyncio.sleep(1.3)
            assert FLAG == [], FLAG
        """,
    )
    grouped, plain = compare(pytester, "-rA")
    assert plain.ret == grouped.ret == pytest.ExitCode.OK, grouped.stdout.str()
    assert "background boom" not in grouped.stdout.str(), grouped.stdout.str()
    grouped.stdout.fnmatch_lines(
        [
            "*AsyncgroupWarning: case 'test_starts': the case left 1 task running when it "
            "finished: * (background() at *); asyncgroup cancelled it after the case's fixture "
            "teardown"
        ]
    )


def test_the_example_runs_its_two_grouped_tests_at_once(pytester: pytest.Pytester) -> None:
    """examples/test_groups.py: two 1 s tests in one group take about 1 s together."""
    examples = Path(__file__).resolve().parent.parent / "examples"
    shutil.copytree(
        examples, pytester.path / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    result = pytester.runpytest_subprocess(
        str(pytester.path / "examples" / "test_groups.py"), "-v", "--durations=0", timeout=120
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*::test_order_is_shipped PASSED*", "*::test_refund_is_booked PASSED*"],
        consecutive=False,
    )
    pattern = re.compile(r"^([\d.]+)s call +\S*concurrent_group\[checkout\]$")
    seconds = [float(m.group(1)) for line in result.outlines if (m := pattern.match(line))]
    assert seconds, result.stdout.str()
    assert seconds[0] < 1.8, f"two 1 s tests took {seconds[0]:.2f} s: not concurrent"


def test_a_warning_both_tests_raise_at_one_line_is_filed_for_each(
    pytester: pytest.Pytester,
) -> None:
    """A UserWarning (the "default" action) from a helper both tests call is filed under each
    test, once each, as without the group; it was filed for the first only (findings-t7 F2)."""
    write_pair(
        pytester,
        """
        import asyncio
        import warnings
        from asyncgroup import concurrent_group

        def legacy_api():
            warnings.warn("legacy_api is deprecated", UserWarning)

        @concurrent_group("g")
        async def test_a():
            legacy_api()
            await asyncio.sleep(0.05)
            legacy_api()

        @concurrent_group("g")
        async def test_b():
            await asyncio.sleep(0.02)
            legacy_api()
        """,
    )
    grouped, plain = compare(pytester)
    for result, module in ((grouped, "test_grouped"), (plain, "test_plain")):
        text = result.stdout.str()
        listed = text[text.index("warnings summary") : text.index("legacy_api is deprecated")]
        nodeids = sorted(line for line in listed.splitlines() if line.startswith(module))
        assert nodeids == [f"{module}.py::test_a", f"{module}.py::test_b"], text
        assert summary(result)["warnings"] == 2, text


@pytest.mark.parametrize(
    "option", [[], ["-W", "error::pytest.PytestReturnNotNoneWarning"]], ids=["", "Werror"]
)
def test_a_plain_def_test_that_returns_a_value_warns_as_without_the_group(
    pytester: pytest.Pytester, option: list[str]
) -> None:
    """pytest's PytestReturnNotNoneWarning, naming the test, filed under it; under -W error it
    fails the test. A plain def test of a group got none (found by a user trial); pytest-asyncio
    gives an async one none, with or without the group."""
    write_pair(
        pytester,
        """
        import time
        from asyncgroup import concurrent_group

        @concurrent_group("r")
        def test_sync_returns():
            time.sleep(0.05)
            return 5

        @concurrent_group("r")
        def test_other():
            pass

        @concurrent_group("r")
        async def test_async_returns():
            return 5
        """,
    )
    # Not compare(): the message names the test by its node id, which has the module's name.
    grouped = run(pytester, "test_grouped", *option)
    plain = run(pytester, "test_plain", *option)
    tests = {
        key: (outcome, message.replace("test_grouped.py", "test_plain.py"))
        for key, (outcome, message) in junit(pytester.path / "test_grouped.xml").items()
        if not key.startswith("concurrent_group")
    }
    assert tests == junit(pytester.path / "test_plain.xml")
    assert grouped.ret == plain.ret
    assert tests["test_sync_returns"][0] == ("failure" if option else "passed")
    assert tests["test_async_returns"][0] == "passed"
    for result, module in ((grouped, "test_grouped"), (plain, "test_plain")):
        warning = (
            f"PytestReturnNotNoneWarning: Test functions should return None, but "
            f"{module}.py::test_sync_returns returned <class 'int'>."
        )
        text = result.stdout.str()
        if option:
            result.stdout.fnmatch_lines(
                [
                    f"E *pytest.{warning}",
                    f"FAILED {module}.py::test_sync_returns - pytest.PytestReturnNotNoneWarning*",
                ]
            )
            continue
        listed = text[text.index("warnings summary") : text.index("-- Docs")]
        nodeids = [line for line in listed.splitlines() if line.startswith(module)]
        assert nodeids == [f"{module}.py::test_sync_returns"], text
        assert warning in listed, text
        assert summary(result)["warning"] == 1, text


@pytest.mark.parametrize("option", [[], ["-W", "error::pytest.PytestWarning"]], ids=["", "Werror"])
def test_a_plain_def_test_under_an_asyncio_mark_is_warned_of_as_without_the_group(
    pytester: pytest.Pytester, option: list[str]
) -> None:
    """pytest-asyncio warns of a plain def test its module marks asyncio, and under -W error
    that fails it; the async test of the group and the unmarked def case of a test are not."""
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_cases, concurrent_group

        pytestmark = pytest.mark.asyncio

        @concurrent_group("w")
        def test_sync():
            pass

        @concurrent_group("w")
        async def test_async():
            pass

        @concurrent_group("w")
        @pytest.mark.parametrize("n", [1, 2])
        def test_parametrized(n):
            pass
        """,
    )
    grouped, plain = compare(pytester, *option)
    outcomes = junit(pytester.path / "test_plain.xml")
    failed = {key for key, (outcome, _) in outcomes.items() if outcome == "failure"}
    assert failed == (
        {"test_sync", "test_parametrized[1]", "test_parametrized[2]"} if option else set()
    )
    for result, module in ((grouped, "test_grouped"), (plain, "test_plain")):
        warning = (
            "PytestWarning: The test <Function test_sync> is marked with '@pytest.mark.asyncio' "
            "but it is not an async function.*"
        )
        result.stdout.fnmatch_lines(
            [f"E *pytest.{warning}" if option else f"*{module}.py:6: {warning}"]
        )
        if not option:
            assert summary(result)["warnings"] == 3, result.stdout.str()


@pytest.mark.skipif(
    tuple(int(part) for part in version("pytest-asyncio").split(".")[:2]) < (1, 1),
    reason="pytest-asyncio 1.0 keeps the loop a test had when collected: the recipe's marks do "
    "not move the tests, but the group's parent, made after them, runs on the session loop",
)
def test_a_class_group_whose_tests_a_conftest_hook_moves_to_the_session_loop(
    pytester: pytest.Pytester,
) -> None:
    """pytest-asyncio's recipe for running every test on the session loop (a conftest hook that
    marks each async test at collection's end): the class group runs there, as its tests do
    without the group. (An INTERNALERROR before: the group's parent, made at the end of
    collection with the tests' marks as the hook left them, was checked against the loop scope
    they had when collected; trial finding.)"""
    pytester.makeconftest(
        """
        import pytest
        from pytest_asyncio import is_async_test

        def pytest_collection_modifyitems(items):
            for item in items:
                if is_async_test(item):
                    item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)
        """
    )
    write_pair(
        pytester,
        """
        import asyncio
        import pytest
        from asyncgroup import concurrent_group

        LOOPS = set()

        @concurrent_group
        class TestG:
            @pytest.mark.asyncio
            async def test_a(self):
                LOOPS.add(id(asyncio.get_running_loop()))

            @pytest.mark.asyncio
            async def test_b(self):
                LOOPS.add(id(asyncio.get_running_loop()))

        async def test_after():
            LOOPS.add(id(asyncio.get_running_loop()))
            assert len(LOOPS) == 1
        """,
    )
    grouped, _ = compare(pytester)
    assert grouped.ret == 0, grouped.stdout.str()
    assert summary(grouped) == {"passed": 1, "subtests passed": 2}, grouped.stdout.str()
