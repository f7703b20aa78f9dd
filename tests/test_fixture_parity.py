"""A case's fixtures and setup are its parametrized test's: what is set up (or not), where a
fixture's teardown error is filed, what a step's report carries, which async fixtures are
accepted. Each test runs the same source as @concurrent_cases and as @pytest.mark.parametrize
(tests/differential.py) and compares."""

from __future__ import annotations

import textwrap

import pytest
from differential import Differential

# --------------------------------------------------------------------------------------------
# A test whose cases are all skipped by its marks sets nothing up

# Every fixture leaves a line in set-up.txt when it is set up: session, module, class, an
# autouse one, and the event loop pytest-asyncio would run the test on (its policy fixture).
SET_UP_RECORDED = """
import pathlib


def record(name):
    with pathlib.Path("set-up.txt").open("a") as file:
        file.write(name + "\\n")


@pytest.fixture(scope="session")
def event_loop_policy():
    record("event loop")
    return asyncio.DefaultEventLoopPolicy()


@pytest.fixture(scope="session")
def server():
    record("session")


@pytest.fixture(scope="module")
def database(server):
    record("module")
    yield
    record("module teardown")


@pytest.fixture(autouse=True)
def each_test():
    record("autouse")


@pytest.fixture(scope="class")
def suite():
    record("class")

"""


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            """
            @pytest.mark.skip(reason="whole")
            @cases("n", [1, 2])
            async def test_x(n, database):
                assert False
            """,
            id="skip",
        ),
        pytest.param(
            """
            @pytest.mark.skipif("sys.platform != 'nope'", reason="not here")
            @cases("n", [1, 2])
            async def test_x(n, database):
                assert False
            """,
            id="skipif",
        ),
        pytest.param(
            """
            @pytest.mark.xfail(run=False, reason="hangs")
            @cases("n", [1, 2])
            async def test_x(n, database):
                assert False
            """,
            id="xfail-run-false",
        ),
        pytest.param(
            """
            @pytest.mark.skip(reason="the class")
            class TestC:
                @cases("n", [1, 2])
                async def test_x(self, n, database, suite):
                    assert False
            """,
            id="class",
        ),
        pytest.param(
            """
            pytestmark = pytest.mark.skip(reason="the module")

            @cases("n", [1, 2])
            async def test_x(n, database):
                assert False
            """,
            id="module",
        ),
        pytest.param(
            """
            @cases("n", [
                pytest.param(1, marks=pytest.mark.skip(reason="one")),
                pytest.param(2, marks=pytest.mark.xfail(run=False, reason="two")),
            ])
            async def test_x(n, database):
                assert False
            """,
            id="each-case",
        ),
    ],
)
def test_nothing_is_set_up_for_a_test_whose_cases_are_all_skipped(
    differential: Differential, source: str
) -> None:
    """As for its parametrized tests, skipped before setup: no fixture of any scope, no autouse
    fixture and no event loop is set up (each would leave a line in set-up.txt)."""
    pair = differential.run(SET_UP_RECORDED + textwrap.dedent(source), "-rA", "--setup-show")
    pair.assert_same()
    pair.assert_same_short_summary()
    assert len(pair.parametrized_outcomes) == 2, pair.parametrized_outcomes
    for folder in ("concurrent", "parametrized"):
        recorded = differential.pytester.path / folder / "set-up.txt"
        assert not recorded.exists(), (folder, recorded.read_text())
    for result in (pair.concurrent, pair.parametrized):
        assert not [line for line in result.outlines if "SETUP" in line], result.outlines


def test_a_test_with_one_case_to_run_is_set_up(differential: Differential) -> None:
    """The counterpart: one case not skipped, and everything it uses is set up, once."""
    source = """
    @cases("n", [pytest.param(1, marks=pytest.mark.skip(reason="one")), 2])
    async def test_x(n, database):
        pass
    """
    pair = differential.run(SET_UP_RECORDED + textwrap.dedent(source))
    pair.assert_same()
    recorded = [
        (differential.pytester.path / folder / "set-up.txt").read_text().split()
        for folder in ("concurrent", "parametrized")
    ]
    assert recorded[0] == recorded[1], recorded
    assert "module" in recorded[0], recorded
