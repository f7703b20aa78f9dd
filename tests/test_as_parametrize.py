"""A case behaves as the parametrized test it stands for: marks at every level, selection by
-k, -m, node id and --deselect, and the last-failed cache. Each test runs the same source as
@concurrent_cases and as @pytest.mark.parametrize (tests/differential.py) and compares."""

from __future__ import annotations

import json
import re

import pytest
from differential import Differential, skipped_whole

# --------------------------------------------------------------------------------------------
# Marks at every level reach every case

XFAIL_LEVELS = """
@pytest.mark.xfail(reason="whole test")
@cases("name", ["a", "b"])
async def test_function(name):
    assert name == "a"


@pytest.mark.xfail(reason="class")
class TestClass:
    @cases("name", ["c", "d"])
    async def test_method(self, name):
        assert name == "never"


@cases("name", [
    pytest.param("known", marks=pytest.mark.xfail(reason="bug 1")),
    pytest.param("fixed", marks=pytest.mark.xfail(reason="bug 2")),
    pytest.param("raises", marks=pytest.mark.xfail(raises=KeyError, reason="bug 3")),
    pytest.param("notrun", marks=pytest.mark.xfail(run=False, reason="hangs")),
    "normal",
])
async def test_case_marks(name):
    assert name not in ("known", "raises")
"""


@pytest.mark.parametrize("strict", [[], ["-o", "xfail_strict=true"]], ids=["default", "strict"])
def test_xfail_on_test_class_and_case(differential: Differential, strict: list[str]) -> None:
    pair = differential.run(XFAIL_LEVELS, *strict)
    pair.assert_same()
    outcomes = pair.parametrized_outcomes
    assert outcomes["test_it.py::test_function[a]"] == (["failed"] if strict else ["xpassed"])
    assert outcomes["test_it.py::test_function[b]"] == ["xfailed"]
    assert outcomes["test_it.py::test_case_marks[raises]"] == ["failed"]


XFAIL_FIXTURE_ERRORS = """
@pytest.fixture
def bad_setup():
    raise RuntimeError("setup broke")


@pytest.fixture
def bad_teardown():
    yield 1
    raise RuntimeError("teardown broke")


@cases("v", [
    pytest.param(1, marks=pytest.mark.xfail(reason="setup-xfail")),
    pytest.param(2, marks=pytest.mark.xfail(raises=RuntimeError, reason="raises-xfail")),
    pytest.param(3, marks=pytest.mark.xfail(run=False, reason="not-run")),
])
async def test_setup(v, bad_setup):
    pass


@pytest.mark.xfail(reason="func-xfail")
@cases("v", [1, 2])
async def test_function_xfail(v, bad_setup):
    pass


@cases("v", [pytest.param(2, marks=pytest.mark.xfail(reason="teardown-xfail"))])
async def test_teardown(v, bad_teardown):
    pass
"""


def test_xfail_covers_fixture_setup_and_teardown_errors(differential: Differential) -> None:
    pair = differential.run(XFAIL_FIXTURE_ERRORS, "-rxX")
    pair.assert_same("XFAIL*test_it.py::test_function_xfail[[]1[]] - func-xfail")
    outcomes = pair.parametrized_outcomes
    assert outcomes["test_it.py::test_setup[2]"] == ["xfailed"]
    assert outcomes["test_it.py::test_teardown[2]"] == ["xpassed", "xfailed"]
    assert pair.concurrent.ret == 0
    pair = differential.run(XFAIL_FIXTURE_ERRORS.replace("raises=RuntimeError", "raises=KeyError"))
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::test_setup[2]"] == ["error"]
    differential.rerun("--runxfail").assert_same()


def test_module_pytestmark_xfail_and_runxfail(differential: Differential) -> None:
    source = """
    pytestmark = pytest.mark.xfail(reason="module")

    @cases("name", ["a", "b"])
    async def test_x(name):
        assert name == "a"
    """
    differential.run(source).assert_same()
    differential.rerun("--runxfail").assert_same()


def test_argnames_and_argvalues_given_by_name(differential: Differential) -> None:
    """As pytest.mark.parametrize takes them: by name, or argnames by position only."""
    source = """
    @cases(argnames="n", argvalues=[1, 2], ids=["one", "two"])
    async def test_x(n):
        assert n == 1

    @cases("a, b", argvalues=[(1, 1), (1, 2)])
    async def test_y(a, b, request):
        assert request.node.get_closest_marker("parametrize").args[0] == "a, b"
        assert a == b
    """
    pair = differential.run(source, "-rf")
    pair.assert_same("FAILED test_it.py::test_x[[]two[]] - assert 2 == 1")
    assert len(pair.parametrized_outcomes) == 4, pair.parametrized_outcomes
    pair.assert_same_counts()


def test_skip_and_skipif_combine_with_parent_marks(differential: Differential) -> None:
    source = """
    @pytest.mark.xfail(reason="parent")
    @cases("name", [
        pytest.param("skipped", marks=pytest.mark.skip(reason="case skip")),
        pytest.param("skipif", marks=pytest.mark.skipif("sys.platform != 'nope'", reason="if")),
        pytest.param("not-skipped", marks=pytest.mark.skipif(False, reason="never")),
        "plain",
    ])
    async def test_x(name):
        assert False
    """
    pair = differential.run(source)
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::test_x[plain]"] == ["xfailed"]


@pytest.mark.parametrize("def_or_async", ["def", "async def"])
def test_a_condition_string_sees_the_test_modules_names(
    differential: Differential, def_or_async: str
) -> None:
    """pytest evaluates a skipif/xfail condition string with the test module's globals."""
    source = f"""
    HAS_DB = False

    @pytest.mark.xfail("not HAS_DB", reason="needs a db")
    class TestC:
        @cases("n", [1, pytest.param(2, marks=pytest.mark.skipif("not HAS_DB", reason="db"))])
        {def_or_async} test_x(self, n):
            assert False

    @pytest.mark.skipif("not HAS_DB and SKIP_ALL", reason="the whole test")
    @cases("n", [1, 2])
    {def_or_async} test_y(n):
        pass

    SKIP_ALL = True
    """
    pair = differential.run(source, "-rA")
    pair.assert_same("*SKIPPED [[]2[]] test_it.py:*: the whole test", "*SKIPPED [[]1[]] *: db")
    pair.assert_same_counts()
    assert pair.parametrized_outcomes["test_it.py::TestC::test_x[1]"] == ["xfailed"]


@pytest.mark.parametrize("source", skipped_whole())
@pytest.mark.parametrize("verbosity", [[], ["-v"]], ids=["default", "verbose"])
def test_a_skip_mark_on_the_whole_test_skips_each_case(
    differential: Differential, source: str, verbosity: list[str]
) -> None:
    """A skip, skipif or xfail(run=False) mark on the parent (or its class or module) skips
    (xfails) each case as its parametrized test, with the test's reason and location: one
    skipped report per case (SKIPPED [2] in -r, "2 skipped"), not one for the parent."""
    pair = differential.run(source, "-rA", *verbosity)
    pair.assert_same()
    pair.assert_same_counts()
    pair.assert_same_short_summary()
    assert len(pair.parametrized_outcomes) == 2, pair.parametrized_outcomes


def test_filterwarnings_mark_on_one_case(differential: Differential) -> None:
    source = """
    import warnings

    @cases("name", [
        pytest.param("strict", marks=pytest.mark.filterwarnings("error::DeprecationWarning")),
        "lenient",
        pytest.param("quiet", marks=pytest.mark.filterwarnings("ignore:old")),
    ])
    async def test_x(name):
        await asyncio.sleep(0.01)
        warnings.warn("old api", DeprecationWarning)
        await asyncio.sleep(0.01)
    """
    pair = differential.run(source, "-W", "always")
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::test_x[strict]"] == ["failed"]


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["-p", "no:warnings"], None),
        ([], {"PYTHONWARNINGS": "ignore::ImportWarning"}),
    ],
    ids=["no-warnings-plugin", "PYTHONWARNINGS"],
)
def test_filterwarnings_mark_on_one_case_without_pytest_s_warnings_plugin(
    differential: Differential, args: list[str], env: dict[str, str] | None
) -> None:
    """With ``-p no:warnings`` no filterwarnings mark acts (pytest's warnings plugin applies
    them): nor does a case's. With ``PYTHONWARNINGS`` set (to anything), pytest adds no filter
    of its own for DeprecationWarning, so Python's default ones are reached, which hold the
    module name as a plain str ('__main__'), not a regex: matched as Python matches them (it
    failed every warning case with an AttributeError)."""
    source = """
    import warnings

    @cases("name", [
        "plain",
        pytest.param("strict", marks=pytest.mark.filterwarnings("error::UserWarning")),
    ])
    async def test_x(name):
        warnings.warn("old api", DeprecationWarning)
        warnings.warn("new api", UserWarning)
    """
    pair = differential.run(source, *args, env=env)
    pair.assert_same()
    assert pair.parametrized_outcomes == {
        "test_it.py::test_x[plain]": ["passed"],
        "test_it.py::test_x[strict]": ["passed" if env is None else "failed"],
    }


WARNING_AS_ERROR = """
import warnings

@cases("v", [
    pytest.param(1, marks=pytest.mark.filterwarnings("error")),
    2,
    3,
])
async def test_w(v):
    if v == 3:  # a catch_warnings of its own, with its own "error" filter
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.warn(f"boom{v}", UserWarning)
    elif v == 1:
        warnings.warn(f"boom{v}", UserWarning)
"""


def test_warning_turned_error_ends_the_traceback_at_the_users_line(
    differential: Differential,
) -> None:
    pair = differential.run(WARNING_AS_ERROR)
    pair.assert_same()
    for result in (pair.concurrent, pair.parametrized):
        for v in (1, 3):
            # The error line right under the line that warned, as pytest prints it.
            lines = result.outlines
            i = next(
                i for i, line in enumerate(lines) if line.startswith("E") and f"boom{v}" in line
            )
            warned = lines[i - 1]
            assert warned.startswith(">"), result.stdout.str()
            assert warned.endswith('warnings.warn(f"boom{v}", UserWarning)'), result.stdout.str()
        assert "warnings.py" not in result.stdout.str()
        assert "asyncgroup" not in result.stdout.str().split("= FAILURES =")[1]


def _warnings_summary(result: pytest.RunResult, folder: str) -> list[str]:
    """The warnings summary, with the run's folder (concurrent/, parametrized/) left out."""
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if "warnings summary" in line)
    end = next(i for i, line in enumerate(lines) if line.startswith("-- Docs"))
    return [line.replace(f"/{folder}/", "/") for line in lines[start + 1 : end]]


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["", "xdist"])
def test_warnings_are_filed_under_the_case(differential: Differential, xdist: list[str]) -> None:
    source = """
    import warnings

    @cases("v", [1, 2, pytest.param(3, marks=pytest.mark.filterwarnings("ignore:w3"))])
    async def test_w(v):
        warnings.warn(f"w{v}", UserWarning)
    """
    pair = differential.run(source, *xdist)
    pair.assert_same("test_it.py::test_w[[]1[]]", "test_it.py::test_w[[]2[]]")
    summary = _warnings_summary(pair.concurrent, "concurrent")
    expected = _warnings_summary(pair.parametrized, "parametrized")
    if xdist:  # the workers' warnings arrive in any order
        summary, expected = sorted(summary), sorted(expected)
    assert summary == expected
    assert "w3" not in "\n".join(summary)


def test_filterwarnings_on_class_and_case_combine(differential: Differential) -> None:
    source = """
    import warnings

    @pytest.mark.filterwarnings("ignore::UserWarning")
    class TestC:
        @pytest.mark.filterwarnings("error::DeprecationWarning")
        @cases("name", [
            pytest.param("a", marks=pytest.mark.filterwarnings("error::UserWarning")),
            pytest.param("b", marks=pytest.mark.filterwarnings("ignore::DeprecationWarning")),
            "c",
        ])
        async def test_x(self, name):
            warnings.warn("user", UserWarning)
            warnings.warn("deprecated", DeprecationWarning)
    """
    differential.run(source).assert_same()


USEFIXTURES = """
@pytest.fixture
def broken():
    raise RuntimeError("setup")


@pytest.fixture
def noted():
    print("noted set up")


@pytest.mark.usefixtures("noted")
class TestC:
    @pytest.mark.usefixtures("broken")
    @cases("n", [1, 2])
    async def test_broken(self, n):
        pass


@pytest.mark.usefixtures("noted")
@cases("n", [1, 2])
async def test_fine(n):
    pass
"""


def test_usefixtures_on_class_and_function(differential: Differential) -> None:
    pair = differential.run(USEFIXTURES)
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::TestC::test_broken[1]"] == ["error"]


def test_usefixtures_on_a_case(differential: Differential) -> None:
    """pytest 9 refuses it in pytest.param; pytest 8 ignores it: as for parametrize."""
    source = """
    @pytest.fixture
    def broken():
        raise RuntimeError("setup")

    @cases("n", [1, pytest.param(2, marks=pytest.mark.usefixtures("broken"))])
    async def test_case_level(n):
        pass
    """
    differential.run(source).assert_same()


CUSTOM_MARKS = """
@cases("region", [
    "eu-fast",
    pytest.param("us-slow", marks=pytest.mark.slow),
    pytest.param("ap-slow", marks=[pytest.mark.slow, pytest.mark.network]),
])
async def test_regions(region):
    pass


@pytest.mark.network
@cases("n", [1, pytest.param(2, marks=pytest.mark.slow)])
async def test_marked_parent(n):
    pass


@pytest.mark.asyncio
async def test_plain():
    pass
"""


@pytest.mark.parametrize(
    "expression",
    [
        "slow",
        "not slow",
        "slow and network",
        "network",
        "not network",
        "slow or network",
        "nope",
        "parametrize",  # the mark a case has in @concurrent_cases's place
        "not parametrize",
        "parametrize and not slow",
    ],
)
def test_dash_m_selects_single_cases(differential: Differential, expression: str) -> None:
    differential.ini_lines.append("markers =\n    slow: slow\n    network: network\n    nope: x")
    differential.run(CUSTOM_MARKS, "-m", expression).assert_same()


def test_dash_m_marks_lent_to_the_parent_are_taken_back(differential: Differential) -> None:
    """-m keeps a parent by lending it the marks of its first selected case (a's xfail); they
    are taken back before the run, so the other selected case (b) fails as it should."""
    source = """
    @cases("n", [pytest.param("a", marks=pytest.mark.xfail(reason="known")), "b"])
    async def test_x(n):
        assert False
    """
    pair = differential.run(source, "-m", "xfail or not slow")
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::test_x[b]"] == ["failed"]


def test_dash_m_with_mark_arguments(differential: Differential) -> None:
    source = """
    @cases("n", [
        pytest.param(1, marks=pytest.mark.device(serial="1")),
        pytest.param(2, marks=pytest.mark.device(serial="2")),
    ])
    async def test_x(n):
        pass
    """
    differential.run(source, "-m", "device(serial='2')").assert_same()


# --------------------------------------------------------------------------------------------
# Errors of fixtures of wider scope

WIDER_FIXTURE_ERRORS = """
@pytest.fixture(scope="module")
def broken():
    raise RuntimeError("module fixture broke")


@pytest.fixture(scope="module")
def after_broken():
    raise AssertionError("pytest never sets this up: the test's setup stopped before")


@pytest.fixture(scope="session")
def working():
    return 5


@pytest.fixture(scope="class")
def unavailable():
    pytest.skip("no class resource")


@pytest.fixture
def per_test(working):
    return working


@cases("c", ["a", "b", pytest.param("x", marks=pytest.mark.xfail(reason="known"))])
async def test_module(c, working, broken, after_broken, per_test):
    pass


@cases("c", ["a", "b"])
async def test_only_working(c, working):
    assert working == 5


class TestK:
    @cases("c", ["a", "b"])
    async def test_class(self, c, unavailable):
        pass
"""


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["", "xdist"])
def test_wider_fixture_error_is_each_cases_error(
    differential: Differential, xdist: list[str]
) -> None:
    """A module fixture that fails errors each case that uses it (the others run), with its
    traceback; one that skips skips each case."""
    pair = differential.run(WIDER_FIXTURE_ERRORS, "-rEs", *xdist)
    pair.assert_same(
        "ERROR test_it.py::test_module[[]b[]] - RuntimeError: module fixture broke",
        '*raise RuntimeError("module fixture broke")',
    )
    outcomes = pair.parametrized_outcomes
    assert outcomes["test_it.py::test_module[a]"] == ["error"]
    assert outcomes["test_it.py::test_module[x]"] == ["xfailed"]
    assert outcomes["test_it.py::TestK::test_class[b]"] == ["skipped"]
    assert outcomes["test_it.py::test_only_working[b]"] == ["passed"]


def test_wider_fixture_teardown_error_is_the_last_cases_error(differential: Differential) -> None:
    """pytest tears a module fixture down after the module's last test: its error is that
    test's ERROR (the last case's), not the parent's. (Not with xdist: pytest-xdist spreads the
    parametrized tests over workers, each tearing the fixture down.)"""
    pair = differential.run(
        """
        @pytest.fixture(scope="module")
        def closing():
            yield
            raise RuntimeError("module teardown broke")


        @cases("c", ["a", "b", "c"])
        async def test_module(c, closing):
            pass
        """,
        "-rE",
        "--junitxml=out.xml",
    )
    pair.assert_same("ERROR test_it.py::test_module[[]c[]] - RuntimeError: module teardown broke")
    assert pair.parametrized_outcomes["test_it.py::test_module[c]"] == ["passed", "error"]
    pair.assert_same_counts()


# --------------------------------------------------------------------------------------------
# Selection by the names pytest prints

SELECTION = """
@cases("order", [f"order-{n}" for n in range(4)])
async def test_x(order):
    assert order != "order-2"


@cases("proto, order", [("tcp", "order-1"), ("udp", "order-1")])
@pytest.mark.parametrize("region", ["us", "eu"])
async def test_combo(region, proto, order):
    pass


class TestC:
    @cases("n", ["one", "two"])
    async def test_m(self, n):
        pass


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.asyncio
async def test_ordinary(p):
    pass
"""


@pytest.mark.parametrize(
    "expression",
    [
        "test_x[order-2]",
        "order-2",
        "us-tcp-order-1",
        "test_combo[eu-udp",
        "not order-2",
        "TestC and two",
        "test_ordinary[1]",
        "test_x[order-9]",
        "parametrize",
        "not parametrize",
        "parametrize and not order-2",
    ],
)
def test_dash_k_matches_the_full_case_name(differential: Differential, expression: str) -> None:
    differential.run(SELECTION, "-k", expression).assert_same()


@pytest.mark.parametrize(
    "expression",
    ["_asyncgroup_cases", "cases", "wrapped", "signature", "not cases", "not wrapped and order-1"],
)
def test_dash_k_does_not_match_asyncgroups_own_names(
    differential: Differential, expression: str
) -> None:
    """A parent's function carries asyncgroup's attributes (its case table, __wrapped__,
    __signature__), which pytest 8 matches with -k; its parametrized test has none of them."""
    pair = differential.run(SELECTION, "-k", expression)
    pair.assert_same()
    assert any(nodeid.endswith("[order-1]") for nodeid in pair.parametrized_outcomes) == (
        expression.startswith("not")
    )


@pytest.mark.parametrize(
    "ids",
    [
        ["test_it.py::test_x[order-2]"],
        ["test_it.py::test_x[order-1]", "test_it.py::test_x[order-2]"],
        ["test_it.py::test_combo[us-tcp-order-1]"],
        ["test_it.py::TestC::test_m[two]"],
        ["test_it.py::test_ordinary[2]", "test_it.py::test_x[order-3]"],
        ["test_it.py::test_x", "test_it.py::test_x[order-3]"],
        ["test_it.py", "test_it.py::test_x[order-3]"],
    ],
)
def test_node_id_arguments_select_cases(differential: Differential, ids: list[str]) -> None:
    differential.run(SELECTION, *ids).assert_same()


def test_node_id_of_a_parametrized_parent_runs_its_cases(differential: Differential) -> None:
    """Not a test of the parametrized version (which has no such item): the parent's own id,
    as pytest prints it on the parent's line, selects it with all its cases."""
    pair = differential.run(SELECTION, "test_it.py::test_combo[us]")
    assert set(pair.concurrent_outcomes) == {
        "test_it.py::test_combo[us]",
        "test_it.py::test_combo[us-tcp-order-1]",
        "test_it.py::test_combo[us-udp-order-1]",
    }
    assert pair.concurrent.ret == 0


@pytest.mark.parametrize(
    "ids",
    [
        ["test_it.py::test_x[order-9]"],
        ["test_it.py::test_x[order-1]", "test_it.py::TestC::test_m[three]"],
        ["test_it.py::test_nope[a]"],
    ],
)
def test_node_id_of_no_case_is_not_found(differential: Differential, ids: list[str]) -> None:
    pair = differential.run(SELECTION, *ids)
    pair.assert_same("ERROR: not found: *test_it.py::*", "(no match in any of *)")
    assert pair.concurrent.ret == pytest.ExitCode.USAGE_ERROR

    def errors(result: pytest.RunResult) -> list[str]:
        lines = [line for line in result.errlines if "not found" in line or "no match" in line]
        return [line.replace("/concurrent/", "/").replace("/parametrized/", "/") for line in lines]

    assert errors(pair.concurrent) == errors(pair.parametrized)


@pytest.mark.parametrize(
    "deselect",
    [
        ["test_it.py::test_x[order-2]"],
        ["test_it.py::test_x[order-"],
        ["test_it.py::test_combo[us-udp-order-1]", "test_it.py::TestC::test_m[one]"],
        ["test_it.py::TestC::test_m[one]", "test_it.py::TestC::test_m[two]"],
    ],
)
def test_deselect_by_case_node_id(differential: Differential, deselect: list[str]) -> None:
    args = [arg for nodeid in deselect for arg in ("--deselect", nodeid)]
    differential.run(SELECTION, *args).assert_same()


CASE_ID_ORDER = """
@pytest.fixture(params=["f1"])
def fx(request):
    return request.param


@pytest.mark.parametrize("p", ["p1", "p2"])
@cases("n", [pytest.param(1, id="one"), pytest.param(2, id="two")])
async def test_inner(p, n):
    assert not (p == "p2" and n == 2)


@pytest.mark.parametrize("q", ["q1"])
@cases("n", [pytest.param(1, id="one")])
@pytest.mark.parametrize("p", ["p1"])
async def test_mid(p, q, n, fx):
    pass


@pytest.mark.parametrize("k", ["k1"])
class TestK:
    @cases("n", ["one", "two"])
    async def test_k(self, k, n):
        assert n == "one"
"""


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-n", "2"],
        ["-k", "two-p2"],
        ["-k", "test_inner[one-p1] or test_mid[f1-p1-one-q1]"],
        ["test_it.py::test_inner[two-p2]", "test_it.py::TestK::test_k[one-k1]"],
        ["--deselect", "test_it.py::test_inner[one-p1]", "--deselect", "test_it.py::test_mid"],
    ],
)
def test_case_ids_in_the_order_of_stacked_parametrize(
    differential: Differential, args: list[str]
) -> None:
    """pytest puts the ids of the parametrize mark closest to the function first: a case's id
    goes where the ids of a parametrize mark in the place of @concurrent_cases would."""
    pair = differential.run(CASE_ID_ORDER, "-v", *args)
    pair.assert_same()
    assert pair.parametrized_outcomes  # something was selected


def test_last_failed_with_case_ids_in_stacked_order(differential: Differential) -> None:
    differential.run(CASE_ID_ORDER)
    pair = differential.rerun("--lf")
    pair.assert_same("run-last-failure: rerun previous 2 failures*")
    assert set(pair.parametrized_outcomes) == {
        "test_it.py::test_inner[two-p2]",
        "test_it.py::TestK::test_k[two-k1]",
    }
    differential.rerun("--sw").assert_same(cancelled=True)
    differential.rerun("--sw").assert_same(cancelled=True)


# --------------------------------------------------------------------------------------------
# The last-failed cache

LAST_FAILED = """
import os

@cases("order", ["a", "b", "c", "d", "e"])
async def test_orders(order):
    if os.environ.get("FIXED") != "1":
        assert order not in ("b", "d")


@pytest.mark.asyncio
async def test_plain():
    pass
"""


def test_last_failed_after_fixing_some_with_dash_k(differential: Differential) -> None:
    differential.run(LAST_FAILED).assert_same()
    differential.rerun("--lf", "-k", "b", env={"FIXED": "1"}).assert_same()
    pair = differential.rerun("--lf")
    pair.assert_same("run-last-failure: rerun previous 1 failure")
    assert set(pair.parametrized_outcomes) == {"test_it.py::test_orders[d]"}
    differential.rerun("--ff").assert_same()
    fixed = differential.rerun("--lf", env={"FIXED": "1"})
    fixed.assert_same()
    assert fixed.concurrent.ret == 0
    for option in ("none", "all"):
        differential.rerun("--lf", f"--lfnf={option}").assert_same()


LAST_FAILED_K = """
import os

FAIL = set(os.environ.get("FAILSET", "").split(","))


@cases("c", ["a", "b", "c", "d"])
async def test_one(c):
    assert c not in FAIL


class TestK:
    @cases("c", ["a", "b", "e"])
    async def test_two(self, c):
        assert "K" + c not in FAIL
"""


def test_last_failed_with_dash_k_runs_only_failed_cases(differential: Differential) -> None:
    differential.run(LAST_FAILED_K, env={"FAILSET": "a,b,Ka"}).assert_same()
    pair = differential.rerun("--lf", "-k", "b", env={"FAILSET": "a"})
    pair.assert_same("run-last-failure: rerun previous 1 failure")
    assert set(pair.parametrized_outcomes) == {"test_it.py::test_one[b]"}
    pair = differential.rerun("--lf", "-k", "a or b", env={"FAILSET": "a"})
    pair.assert_same("run-last-failure: rerun previous 2 failures")
    differential.rerun("--ff", env={"FAILSET": "a"}).assert_same(
        "run-last-failure: rerun previous 1 failure first"
    )
    differential.rerun("--lf", "-k", "two and e", env={"FAILSET": "a"}).assert_same(
        "run-last-failure: 1 known failures not in selected tests"
    )


LAST_FAILED_REMOVED = """
import os

@cases("c", os.environ.get("CASES", "a,b,c").split(","))
async def test_one(c):
    assert c != "b"


def test_other():
    pass
"""


def test_last_failed_after_the_failed_case_is_removed(differential: Differential) -> None:
    """The failed case taken out of the list: pytest knows of a failure it does not collect
    and runs everything (the module's other tests, the other modules), as for the parametrized
    test whose failed parameter is gone."""
    differential.write("def test_elsewhere():\n    pass\n", "test_else.py")
    differential.run(LAST_FAILED_REMOVED).assert_same()
    pair = differential.rerun("--lf", env={"CASES": "a,c"})
    pair.assert_same("run-last-failure: 1 known failures not in selected tests")
    assert set(pair.parametrized_outcomes) == {
        "test_else.py::test_elsewhere",
        "test_it.py::test_one[a]",
        "test_it.py::test_one[c]",
        "test_it.py::test_other",
    }
    pair.assert_same_counts()
    again = differential.rerun("--lf", env={"CASES": "a,c"})  # the record kept as pytest's
    again.assert_same("run-last-failure: 1 known failures not in selected tests")
    differential.rerun("--ff", env={"CASES": "a,c"}).assert_same(
        "run-last-failure: 1 known failures not in selected tests"
    )
    pair = differential.rerun("--lf")
    pair.assert_same("run-last-failure: rerun previous 1 failure (skipped 1 file)")
    pair.assert_same_counts()


def test_failed_first_and_last_failed_with_node_ids(differential: Differential) -> None:
    differential.run(LAST_FAILED).assert_same()
    pair = differential.rerun("--ff", "test_it.py::test_orders[d]", "test_it.py::test_orders[a]")
    pair.assert_same()
    differential.rerun("--lf", "test_it.py::test_orders[a]").assert_same()


def stepwise_orders(delays: dict[str, float], passes: str) -> str:
    """An inner file for the stepwise tests: test_orders has a case per key of ``delays``, which
    sleeps that many seconds, then passes where ``passes`` (an expression of ``order``) holds
    or the FIXED environment variable names the case; then test_after, which passes."""
    return f"""
import os

@cases("order", {list(delays)!r})
async def test_orders(order):
    await asyncio.sleep({delays!r}[order])
    assert {passes} or order in os.environ.get("FIXED", "")


@pytest.mark.asyncio
async def test_after():
    pass
"""


STEPWISE = stepwise_orders(
    {"a": 0, "b": 0.1, "c": 0.2, "d": 0.3, "e": 2}, 'order not in ("b", "d")'
)


def test_stepwise_goes_on_from_the_failed_case(differential: Differential) -> None:
    first = differential.run(STEPWISE, "--sw")
    first.assert_same(
        "*Interrupted: Test failed, continuing from this test next run.*", cancelled=True
    )
    assert first.parametrized_outcomes == {
        "test_it.py::test_orders[a]": ["passed"],
        "test_it.py::test_orders[b]": ["failed"],
    }
    second = differential.rerun("--sw", env={"FIXED": "b"})
    second.assert_same(cancelled=True)
    assert "test_it.py::test_orders[a]" not in second.concurrent_outcomes
    assert second.parametrized_outcomes["test_it.py::test_orders[d]"] == ["failed"]
    third = differential.rerun("--sw", env={"FIXED": "b,d"})
    third.assert_same()
    assert set(third.parametrized_outcomes) == {
        "test_it.py::test_orders[d]",
        "test_it.py::test_orders[e]",
        "test_it.py::test_after",
    }
    differential.rerun("--sw-reset", env={"FIXED": "b,d"}).assert_same()


SAME_STEP = stepwise_orders(
    {"a": 0.5, "b": 0.01, "c": 0.5, "d": 0.01, "e": 0.5}, 'order not in ("b", "d")'
)


def test_stepwise_stops_at_the_first_failure_in_order_of_two_at_once(
    differential: Differential,
) -> None:
    """b and d fail in the same step of the loop: --sw stops the parametrized tests at b, so
    c is cancelled too (it ran on and passed: the stop followed d, the last one reported);
    --sw-skip passes over b and stops at d, so c runs on and e is cancelled."""
    pair = differential.run(SAME_STEP, "--sw")
    assert pair.parametrized_outcomes == {
        "test_it.py::test_orders[a]": ["passed"],
        "test_it.py::test_orders[b]": ["failed"],
    }
    outcomes = pair.concurrent_outcomes
    assert outcomes["test_it.py::test_orders[a]"] == ["passed"], pair._both()
    assert outcomes["test_it.py::test_orders[c]"] == ["skipped"], pair._both()
    assert outcomes["test_it.py::test_orders[e]"] == ["skipped"], pair._both()
    assert pair.concurrent.ret == pair.parametrized.ret, pair._both()
    differential.rerun("--sw-reset", "--sw-skip").assert_same(cancelled=True)


@pytest.mark.parametrize("change", ["added", "removed"])
def test_stepwise_starts_over_when_the_cases_change(
    differential: Differential, change: str
) -> None:
    """pytest's --sw starts over when the number of tests changed since last time, as when a
    case is added (or taken out): the new case z, which fails, runs, where going on from b would
    have passed over it. The parent count is the same both times; the test count is not."""
    source = """
    import os

    @cases("order", {orders!r})
    async def test_orders(order):
        # Once b is fixed, z fails first and the others are cancelled, as never run.
        await asyncio.sleep(1 if os.environ.get("FIXED") and order != "z" else 0)
        assert order != "b" or os.environ.get("FIXED"), order
        assert order != "z", order
    """
    differential.run(source.format(orders=["a", "b", "c"]), "--sw")
    orders = ["z", "a", "b", "c"] if change == "added" else ["z", "b"]
    differential.write(source.format(orders=orders))
    pair = differential.rerun("--sw", env={"FIXED": "b"})
    before = 3
    now = len(orders)
    pair.assert_same(
        f"stepwise: test count changed, not skipping (now {now} tests, previously {before}).",
        cancelled=True,
    )
    assert pair.parametrized_outcomes == {"test_it.py::test_orders[z]": ["failed"]}
    # And next time it goes on from z, the count being the same.
    pair = differential.rerun("--sw", env={"FIXED": "b"})
    pair.assert_same("stepwise: skipping 0 already passed items*", cancelled=True)


def test_stepwise_does_not_find_a_renamed_failed_case(differential: Differential) -> None:
    """The failed case b is renamed c (the count stays): pytest's --sw does not find the test it
    was to go on from and skips nothing, so test_before, failing now, runs and stops the run."""
    source = """
    import os

    def test_before():
        assert not os.environ.get("BREAK")

    @cases("order", {orders!r})
    async def test_orders(order):
        assert order != "b"
    """
    differential.run(source.format(orders=["a", "b"]), "--sw")
    differential.write(source.format(orders=["a", "c"]))
    pair = differential.rerun("--sw", env={"BREAK": "1"})
    pair.assert_same("stepwise: previously failed test not found, not skipping.")
    assert pair.parametrized_outcomes == {"test_it.py::test_before": ["failed"]}


def test_stepwise_goes_on_from_a_failed_case_left_out_by_k(differential: Differential) -> None:
    """-k leaves the failed case out: the run passes, and the next --sw goes on from that case
    again (pytest forgets a failed test only when it passes)."""
    source = """
    def test_first():
        pass

    @cases("n", [1, 2, 3])
    async def test_a(n):
        await asyncio.sleep(1 if n == 3 else 0)  # cancelled when 2 stops the run
        assert n != 2
    """
    differential.run(source, "--sw")
    differential.rerun("--sw", "-k", "not 2").assert_same("stepwise: skipping 2 already*")
    pair = differential.rerun("--sw")
    pair.assert_same("stepwise: skipping 2 already passed items*", cancelled=True)
    assert pair.parametrized_outcomes == {"test_it.py::test_a[2]": ["failed"]}


def test_stepwise_goes_on_from_the_failed_case_after_a_run_without_its_test(
    differential: Differential,
) -> None:
    """A run that leaves the whole test out (-k) does not make the next --sw start that test
    over: it goes on from the failed case, and case 1, which passed, is not run again."""
    source = """
    import os

    def test_before():
        pass

    @cases("n", [1, 2, 3])
    async def test_x(n):
        await asyncio.sleep(0 if n == 2 else 0.5)
        assert n != 2 and n != int(os.environ.get("BREAK", 0))
    """
    differential.run(source, "--sw")
    differential.rerun("--sw", "-k", "not test_x")  # (pytest skips test_before: not compared)
    pair = differential.rerun("--sw", env={"BREAK": "1"})
    pair.assert_same(cancelled=True)
    assert pair.parametrized_outcomes == {"test_it.py::test_x[2]": ["failed"]}


def test_stepwise_with_last_failed_counts_the_failed_cases(differential: Differential) -> None:
    """--lf collects only the failed tests of a module: --sw counts those, so that next time,
    with all of them collected, it starts over and runs the case that fails now."""
    source = """
    import os

    @cases("m", [10, 20, 30])
    async def test_b(m):
        await asyncio.sleep(0 if m == int(os.environ.get("FAILS", 20)) else 0.5)
        assert m != int(os.environ.get("FAILS", 20))

    def test_b2():
        pass
    """
    differential.run(source, "--sw")
    differential.rerun("--sw", "--lf").assert_same(
        "stepwise: test count changed, not skipping (now 1 tests, previously 4)."
    )
    pair = differential.rerun("--sw", "test_it.py::test_b", env={"FAILS": "10"})
    pair.assert_same(
        "stepwise: test count changed, not skipping (now 3 tests, previously 1).", cancelled=True
    )
    assert pair.parametrized_outcomes == {"test_it.py::test_b[10]": ["failed"]}


def test_stepwise_skip_passes_over_a_failed_case(differential: Differential) -> None:
    """--sw-skip passes over the first failure, a case's: the parent's failure that sums its
    failed cases up is no second one, and the run goes on."""
    pair = differential.run(STEPWISE, "--sw", "--sw-skip", env={"FIXED": "d"})
    pair.assert_same()
    assert pair.parametrized_outcomes["test_it.py::test_orders[b]"] == ["failed"]
    assert pair.parametrized_outcomes["test_it.py::test_after"] == ["passed"]


STEPWISE_CANCELLED = stepwise_orders({"a": 0.05, "b": 1, "c": 0}, 'order == "a"')


def test_stepwise_stops_at_the_first_failed_case_though_a_later_one_failed_first(
    differential: Differential,
) -> None:
    """The parametrized run stops at b (a passed) and goes on from b. Here c fails first: a
    and b, whose tests would run before c's, run on (they were cancelled, and --sw went on
    from a), so a passes, b fails, and --sw goes on from b, as the parametrized run."""
    first = differential.run(STEPWISE_CANCELLED, "--sw")
    assert first.concurrent_outcomes["test_it.py::test_orders[a]"] == ["passed"], first._both()
    assert first.concurrent_outcomes["test_it.py::test_orders[b]"] == ["failed"], first._both()
    assert first.concurrent.ret == first.parametrized.ret, first._both()
    second = differential.rerun("--sw", env={"FIXED": "c"})
    assert "test_it.py::test_orders[a]" not in second.concurrent_outcomes, second._both()
    assert second.concurrent_outcomes["test_it.py::test_orders[b]"] == ["failed"], second._both()
    assert second.parametrized_outcomes == {"test_it.py::test_orders[b]": ["failed"]}
    assert second.concurrent.ret == second.parametrized.ret, second._both()
    # b failed, a and c passed: both go on from b now.
    third = differential.rerun("--sw", env={"FIXED": "b,c"})
    third.assert_same()
    third.assert_same_counts()  # a deselected
    assert set(third.parametrized_outcomes) == {
        "test_it.py::test_orders[b]",
        "test_it.py::test_orders[c]",
        "test_it.py::test_after",
    }


STEPWISE_SKIP = stepwise_orders({"a": 0, "b": 0.2, "c": 1}, 'order == "c"')


def test_stepwise_skip_goes_on_from_the_failure_that_stopped_the_run(
    differential: Differential,
) -> None:
    """--sw-skip passes over a and stops at b; c, running, is cancelled. Next time --sw goes on
    from b (the failure that stopped the run), not from a (the one passed over)."""
    first = differential.run(STEPWISE_SKIP, "--sw", "--sw-skip")
    first.assert_same(cancelled=True)
    second = differential.rerun("--sw", "--sw-skip")
    second.assert_same()
    second.assert_same_counts()  # a deselected
    assert second.parametrized_outcomes == {
        "test_it.py::test_orders[b]": ["failed"],
        "test_it.py::test_orders[c]": ["passed"],
        "test_it.py::test_after": ["passed"],
    }


STEPWISE_SKIP_TWO = """
@cases("order", ["a", "b", "c", "d"])
async def test_orders(order):
    await asyncio.sleep({"a": 0.3, "b": 0.2, "c": 0.01, "d": 1}[order])
    assert order not in ("b", "c")


@cases("n", [1, 2])
async def test_then(n):
    assert n != 2
"""


def test_stepwise_skip_stops_at_the_second_failed_case_and_goes_on_from_it(
    differential: Differential,
) -> None:
    """--sw-skip passes over b and stops at c, a having passed. Here c fails first, then b:
    a runs on (it was cancelled, and every run went on from a, to the same stop), d is
    cancelled; next time both go on from c, pass over it and stop at test_then[2]
    (findings-verify4 4)."""
    first = differential.run(STEPWISE_SKIP_TWO, "--sw", "--sw-skip")
    first.assert_same(cancelled=True)
    assert first.concurrent_outcomes["test_it.py::test_orders[a]"] == ["passed"], first._both()
    second = differential.rerun("--sw", "--sw-skip")
    second.assert_same("*Interrupted: Test failed, continuing from this test next run.*")
    assert second.parametrized_outcomes == {
        "test_it.py::test_orders[c]": ["failed"],
        "test_it.py::test_orders[d]": ["passed"],
        "test_it.py::test_then[1]": ["passed"],
        "test_it.py::test_then[2]": ["failed"],
    }
    third = differential.rerun("--sw")
    third.assert_same()
    assert third.parametrized_outcomes == {"test_it.py::test_then[2]": ["failed"]}


# --------------------------------------------------------------------------------------------
# Counts a user can trust: -x and --maxfail, the summary line, -r

STOP_AFTER = """
@cases("c", ["a", "b"])
async def test_x(c):
    if c == "b":
        await asyncio.sleep(0.5)
    assert c != "a"


@pytest.mark.asyncio
async def test_y():
    assert False


@pytest.mark.asyncio
async def test_z():
    assert False
"""


@pytest.mark.parametrize(
    ("option", "failures"), [("-x", 1), ("--maxfail=2", 2)], ids=["x", "maxfail"]
)
def test_x_and_maxfail_count_failed_cases_not_their_parent(
    differential: Differential, option: str, failures: int
) -> None:
    """The parent's failure, which only sums up its failed cases, is no failure of its own:
    --maxfail=2 stops after test_y (not after test_x[a] and its parent)."""
    pair = differential.run(STOP_AFTER, option)
    pair.assert_same(f"*stopping after {failures} failures*", cancelled=True)
    if option != "-x":  # where -x cancels test_x[b], which the parametrized run never starts
        pair.assert_same_counts()


OUTCOMES = """
@cases("v", [
    1,
    pytest.param(2, marks=pytest.mark.xfail(reason="known")),
    pytest.param(3, marks=pytest.mark.xfail(reason="fixed")),
    pytest.param(4, marks=pytest.mark.skip(reason="later")),
    pytest.param(5, marks=pytest.mark.xfail(run=False, reason="hangs")),
    6,
])
async def test_m(v):
    print(f"out {v}")
    assert v not in (2, 6)
"""


@pytest.mark.parametrize("verbosity", [[], ["-v"]], ids=["default", "verbose"])
def test_every_case_is_counted_and_listed_as_its_parametrized_test(
    differential: Differential, verbosity: list[str]
) -> None:
    """At every verbosity, on both pytest lines: skipped, xfailed and xpassed cases in the
    summary line's counts (pytest 9 hid them at default verbosity; pytest 8 counted
    "subtests xfailed"), each with its -r line (xfail(run=False): "XFAIL at setup of" on
    pytest 9)."""
    pair = differential.run(OUTCOMES, "-rA", *verbosity)
    pair.assert_same("PASSED *::test_m[[]1]", "XPASS *::test_m[[]3] - fixed")
    pair.assert_same_counts()
    pair.assert_same_short_summary()


def test_dash_r_capital_p_shows_the_output_of_passed_cases(differential: Differential) -> None:
    pair = differential.run(OUTCOMES, "-rP")
    pair.assert_same("*= PASSES =*", "*_ test_m[[]1] _*", "out 1")
    assert "out 3" not in pair.concurrent.stdout.str()  # xpassed: -rX, not -rP


DESELECTED = """
@cases("order", ["a", "b", "c", pytest.param("d", marks=pytest.mark.slow)])
async def test_x(order):
    pass


@cases("n", [1, 2, 3])
async def test_y(n):
    pass


@pytest.mark.asyncio
async def test_plain():
    pass
"""


@pytest.mark.parametrize(
    "args",
    [
        ["-k", "b"],
        ["-k", "test_x"],
        ["-m", "not slow"],
        ["--deselect", "test_it.py::test_x[a]", "--deselect", "test_it.py::test_y"],
    ],
    ids=["k-one-case", "k-one-parent", "m", "deselect"],
)
def test_deselected_cases_are_counted_as_deselected_tests(
    differential: Differential, args: list[str]
) -> None:
    """The summary line's "N deselected" counts the cases left out (a whole parent left out
    counts each of its cases), as pytest counts deselected parametrized tests."""
    differential.ini_lines.append("markers =\n    slow: slow")
    pair = differential.run(DESELECTED, *args)
    pair.assert_same()
    pair.assert_same_counts()


def _case_failures(result: pytest.RunResult, folder: str) -> list[str]:
    """The cases' sections of FAILURES (not the parent's, ``test_f``), with the run's folder
    (concurrent/, parametrized/) left out."""
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if "= FAILURES =" in line)
    end = next(
        i
        for i, line in enumerate(lines)
        if i > start and (line.startswith("=") or line.strip("_ ") == "test_f")
    )
    return [line.replace(f"/{folder}/", "/") for line in lines[start + 1 : end]]


def test_failures_of_many_cases_show_each_its_own_source(differential: Differential) -> None:
    # The module's source is parsed once for all the cases' tracebacks (_compat): each failure
    # still shows its own statement, multi-line ones whole, in a helper too.
    source = """
    def check(v):
        assert v != 4, (
            f"helper {v}"
        )

    @cases("v", range(6))
    async def test_f(v):
        await asyncio.sleep(0)
        if v == 1:
            assert v == 0
        elif v == 2:
            assert [
                v,
            ] == []
        elif v == 3:
            raise ValueError(f"raised {v}")
        check(v)
        assert v != 5
    """
    pair = differential.run(source)
    pair.assert_same()
    failures = _case_failures(pair.concurrent, "concurrent")
    assert failures == _case_failures(pair.parametrized, "parametrized")
    for shown in ("assert v == 0", "] == []", 'raise ValueError(f"raised {v}")', "helper {v}"):
        assert any(shown in line for line in failures), (shown, failures)


# --------------------------------------------------------------------------------------------
# A case's fixture output, setup and teardown, is shown as the parametrized test's

FIXTURE_OUTPUT = """
@pytest.fixture
def noisy():
    print("SETUP-OUT")
    yield
    print("TEARDOWN-OUT")


@cases("n", [1, 2])
async def test_noisy(n, noisy):
    print(f"CALL-OUT-{n}")
    assert n == 1
"""


def _captured_sections(result: pytest.RunResult) -> set[tuple[str, str, str]]:
    """(test name, section title, its first line) for each captured section of a test with an
    id, as the FAILURES and PASSES blocks show them."""
    found, test = set(), ""
    lines = result.outlines
    for index, line in enumerate(lines):
        head = re.fullmatch(r"_{3,} (\S+) _{3,}", line)
        if head:
            test = head.group(1)
            continue
        section = re.fullmatch(r"-{3,} (Captured \w+ \w+) -{3,}", line)
        if section and "[" in test and index + 1 < len(lines):
            found.add((test, section.group(1), lines[index + 1]))
    return found


def test_fixture_teardown_output_shown_without_report_files(differential: Differential) -> None:
    pair = differential.run(FIXTURE_OUTPUT, "-rA")
    pair.assert_same()
    shown = _captured_sections(pair.parametrized)
    assert ("test_noisy[2]", "Captured stdout teardown", "TEARDOWN-OUT") in shown
    assert ("test_noisy[1]", "Captured stdout teardown", "TEARDOWN-OUT") in shown
    assert _captured_sections(pair.concurrent) == shown, pair._both()


KEYWORDS = """
@cases("n", [1, pytest.param(2, marks=pytest.mark.slow, id="two")])
async def test_kw(n):
    pass
"""

KEYWORD_SPY = """
import json

def pytest_runtest_logreport(report):
    if report.when == "call" and "[" in report.nodeid:
        with open("keywords.jsonl", "a") as out:
            out.write(json.dumps([report.nodeid, sorted(report.keywords)]) + "\\n")
"""


def test_case_report_keywords_are_its_parametrized_tests(differential: Differential) -> None:
    differential.write(KEYWORDS)
    for folder in ("concurrent", "parametrized"):
        (differential.pytester.path / folder / "kwspy.py").write_text(KEYWORD_SPY)
    pair = differential.rerun("-p", "kwspy")
    pair.assert_same()
    found = []
    for folder in ("concurrent", "parametrized"):
        lines = (differential.pytester.path / folder / "keywords.jsonl").read_text().splitlines()
        entries = (json.loads(line) for line in lines)  # less the folder's name
        found.append(sorted((nodeid, [k for k in kws if k != folder]) for nodeid, kws in entries))
    assert found[0] == found[1]
    assert found[0][1][0] == "test_it.py::test_kw[two]"
    assert {"test_kw[two]", "two", "slow", "parametrize"} <= set(found[0][1][1])


@pytest.mark.parametrize("argnames", ['["x"]', '("x",)', '"x"'])
def test_one_argname_in_a_list_takes_tuples_as_parametrize_does(
    differential: Differential, argnames: str
) -> None:
    """parametrize takes each value whole only for one argname given as a string ("x"); given
    as a list or tuple (["x"]), each value is a tuple of one value, unpacked."""
    pair = differential.run(
        f"""
        W = [(1,), ((2, 3),), pytest.param((4,), id="four")]

        @cases({argnames}, W)
        async def test_x(x):
            print(f"GOT {{x!r}}")
        """,
        "-rA",
    )
    pair.assert_same()
    for run in (pair.concurrent, pair.parametrized):
        got = sorted(line for line in run.stdout.lines if line.startswith("GOT "))
        whole = argnames == '"x"'
        expected = ["GOT ((2, 3),)", "GOT (1,)"] if whole else ["GOT (2, 3)", "GOT 1"]
        assert got == sorted([*expected, "GOT (4,)"]), pair._both()


def test_a_bare_value_for_one_argname_in_a_list_is_refused_as_by_parametrize(
    differential: Differential,
) -> None:
    pair = differential.run(
        """
        @cases(["x"], [7])
        async def test_x(x):
            pass
        """
    )
    pair.assert_same()
    assert pair.concurrent.ret == pytest.ExitCode.INTERRUPTED, pair._both()
    pair.concurrent.stdout.fnmatch_lines(
        [
            "*In test_x: case 0: 7 is not a tuple of 1 values for argnames x (argnames given as a "
            "list: use a one-element tuple like (7,), or argnames 'x' to give each value whole)*"
        ]
    )


# --------------------------------------------------------------------------------------------
# A plain def test's cases have no asyncio mark (asyncgroup's, for pytest-asyncio to run the
# parent, is the parent's alone)

MARKS_OF_DEF_AND_ASYNC_CASES = """
@cases("n", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_blocking(n, request):
    assert "asyncio" not in {mark.name for mark in request.node.iter_markers()}


@cases("n", [1, 2])
async def test_waiting(n, request):
    assert "asyncio" in {mark.name for mark in request.node.iter_markers()}


class TestC:
    @pytest.mark.asyncio
    @cases("n", [1, 2])
    async def test_marked(self, n):
        pass

    @cases("n", [1, 2])
    def test_blocking(self, n):
        pass
"""


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-m", "asyncio"],
        ["-m", "not asyncio"],
        ["-m", "slow or asyncio"],
        ["-k", "asyncio"],
        ["-k", "not asyncio and not slow"],
    ],
    ids=str,
)
def test_def_cases_have_no_asyncio_mark(differential: Differential, args: list[str]) -> None:
    differential.ini_lines.append("markers =\n    slow: slow")
    differential.write(MARKS_OF_DEF_AND_ASYNC_CASES)
    differential.add_to_conftest(KEYWORDS_RECORDER)
    pair = differential.rerun(*args)
    pair.assert_same()
    pair.assert_same_counts()
    concurrent, parametrized = (
        {  # each report's keywords, but the name of the folder it ran in
            nodeid: [word for word in keywords if word != folder]
            for nodeid, keywords in json.loads(
                (differential.pytester.path / folder / "keywords.json").read_text()
            ).items()
        }
        for folder in ("concurrent", "parametrized")
    )
    assert {k: v for k, v in concurrent.items() if k in parametrized} == parametrized


KEYWORDS_RECORDER = """

_keywords = {}


def pytest_runtest_logreport(report):
    if report.when == "call":
        _keywords[report.nodeid] = sorted(report.keywords)


def pytest_unconfigure():
    with open("keywords.json", "w") as file:
        json.dump(_keywords, file)
"""


DEF_CASES_UNDER_ASYNCIO_MARKS = """
@pytest.mark.asyncio
@cases("n", [1, 2])
def test_own(n):
    pass


@cases("n", [1, pytest.param(2, marks=pytest.mark.asyncio)])
def test_param(n):
    pass


@pytest.mark.asyncio
class TestMarked:
    @cases("n", [1, 2])
    def test_in_class(self, n):
        pass


@cases("n", [1, 2])
def test_unmarked(n):
    pass


@pytest.fixture
def marks(request):
    if request.node.callspec.params["n"] == 2:
        request.node.add_marker(pytest.mark.asyncio)


@cases("n", [1, 2])
def test_marked_by_a_fixture(n, marks):
    pass
"""


@pytest.mark.parametrize("args", [[], ["-W", "error::pytest.PytestWarning"]], ids=str)
def test_def_cases_under_an_asyncio_mark_are_warned_of(
    differential: Differential, args: list[str]
) -> None:
    """pytest-asyncio warns of a plain def test marked asyncio, by its own mark, its parameter
    set's, its class's or a fixture's, when it calls it (the counts: 6 warnings); under -W error
    that fails it (the outcomes: test_param[1], test_unmarked and test_marked_by_a_fixture[1]
    pass)."""
    differential.write(DEF_CASES_UNDER_ASYNCIO_MARKS)
    pair = differential.rerun(*args)
    where = "test_it.py:8: " if not args else "E * pytest."
    pair.assert_same(
        f"*{where}PytestWarning: The test <Function test_own[[]1[]]> is marked with "
        "'@pytest.mark.asyncio' but it is not an async function. Please remove the asyncio mark.*"
    )
    pair.assert_same_counts()


LEAVES_A_SERVER = """
PORTS = {}


async def answer(reader, writer):
    writer.write(b"served")
    writer.close()


@cases("n", ["closes", "leaves", "connects"])
async def test_x(n):
    if n != "connects":
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        PORTS[n] = server.sockets[0].getsockname()[1]
        if n == "closes":
            server.close()
        return
    while "leaves" not in PORTS:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # its case has ended (its test, parametrized)
    try:
        reader, _ = await asyncio.open_connection("127.0.0.1", PORTS["leaves"])
        got = await asyncio.wait_for(reader.read(), 2)
    except (OSError, asyncio.TimeoutError) as error:
        got = type(error).__name__
    print(f"got {got}")
    assert got != b"served"
"""


@pytest.mark.parametrize("scope", ["function", "module"])
def test_a_server_a_case_leaves_open_stops_serving_as_its_tests_does(
    differential: Differential, scope: str
) -> None:
    """On the function loop scope, a server a test left open serves no more once
    pytest-asyncio closes the test's loop: another test connecting to it is not served. A
    case's server is closed when the case ends (named in a warning on its report), not left to
    answer the other cases. On a module loop scope the loop, and the server, live on after the
    test: another test (case) is served."""
    differential.ini_lines.append(f"asyncio_default_test_loop_scope = {scope}")
    pair = differential.run(LEAVES_A_SERVER, "-rA")
    pair.assert_same()
    assert pair.concurrent_outcomes["test_it.py::test_x[connects]"] == (
        ["passed"] if scope == "function" else ["failed"]
    )
    warned = [line for line in pair.concurrent.outlines if "AsyncgroupWarning" in line]
    assert len(warned) == (1 if scope == "function" else 0), pair.concurrent.stdout.str()
    if scope == "function":  # the case that closed its server has none
        assert (
            "case 'leaves': the case left 1 server serving when it finished: 127.0.0.1:"
            in (warned[0])
        )
        assert warned[0].endswith("; asyncgroup closed it after the case's fixture teardown")
