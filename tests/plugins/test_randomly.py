"""pytest-randomly: each case draws what its parametrized test draws with the same seed, in its
fixtures' setup and teardown and in its body, before and after its awaits; and selecting one
case with -k reproduces its values."""

from __future__ import annotations

from pathlib import Path

from differential import Differential, Pair

SEED = ("-p", "randomly", "--randomly-seed=1234")

# Each case draws in its fixture's setup and teardown and in its body, around awaits of
# different lengths, so that the cases' draws interleave.
SOURCE = """
import random


def record(name, where, *values):
    with open("draws.txt", "a") as file:
        file.write(f"{name} {where} {' '.join(repr(v) for v in values)}\\n")


@pytest.fixture
def drawn(name):
    record(name, "setup", random.random())
    yield
    record(name, "teardown", random.random())


@cases("name", ["a", "b", "c", pytest.param("d", marks=pytest.mark.xfail(reason="no"))])
async def test_x(name, drawn):
    first = random.random()
    await asyncio.sleep({"a": 0.1, "b": 0.02, "c": 0.05, "d": 0.01}[name])
    second = random.random()
    await asyncio.sleep(0.01)
    record(name, "call", first, second, random.randint(0, 10**9))
    assert name != "d"
"""


def draws(folder: Path) -> dict[tuple[str, str], str]:
    """What each case drew in each phase, as its test recorded it."""
    found = {}
    for line in (folder / "draws.txt").read_text().splitlines():
        name, where, values = line.split(" ", 2)
        found[name, where] = values
    (folder / "draws.txt").unlink()
    return found


def folders(differential: Differential) -> tuple[Path, Path]:
    root = differential.pytester.path
    return root / "concurrent", root / "parametrized"


def test_each_case_draws_what_its_parametrized_test_draws(differential: Differential) -> None:
    pair: Pair = differential.run(SOURCE, *SEED)
    pair.assert_same()
    concurrent, parametrized = folders(differential)
    expected = draws(parametrized)
    assert len(expected) == 12  # 4 cases x setup, call, teardown
    assert draws(concurrent) == expected


def test_one_case_selected_draws_what_it_draws_among_the_others(
    differential: Differential,
) -> None:
    differential.run(SOURCE, *SEED).assert_same()
    concurrent, parametrized = folders(differential)
    among_others = draws(concurrent)
    draws(parametrized)
    differential.rerun(*SEED, "-k", "b").assert_same()
    alone = draws(concurrent)
    assert set(alone) == {("b", "setup"), ("b", "call"), ("b", "teardown")}
    assert alone == {key: among_others[key] for key in alone}
    assert alone == draws(parametrized)


def test_plain_def_cases_start_with_their_own_seed(differential: Differential) -> None:
    # A def case's body runs in a thread; threads running at the same time share the
    # generator, so one at a time here (the README says so).
    differential.ini_lines.append("asyncgroup_max_concurrency = 1")
    pair = differential.run(
        """
        import random
        import time


        @cases("name", ["a", "b", "c"])
        def test_x(name):
            first = random.random()
            time.sleep(0.01)
            with open("draws.txt", "a") as file:
                file.write(f"{name} call {first!r} {random.random()!r}\\n")
        """,
        *SEED,
    )
    pair.assert_same()
    concurrent, parametrized = folders(differential)
    expected = draws(parametrized)
    assert len(expected) == 3
    assert draws(concurrent) == expected


def test_dont_reset_seed_leaves_one_stream(differential: Differential) -> None:
    # --randomly-dont-reset-seed: no test is reseeded, so no case either; cases run at the
    # same time draw from the one stream (what they draw differs, but no case is reseeded).
    pair = differential.run(
        """
        import random


        @cases("name", ["a", "b"])
        async def test_x(name):
            with open("draws.txt", "a") as file:
                file.write(f"{name} call {random.random()!r}\\n")
        """,
        *SEED,
        "--randomly-dont-reset-seed",
    )
    pair.assert_same()
    concurrent, parametrized = folders(differential)
    assert len(set(draws(concurrent).values())) == 2
    assert len(set(draws(parametrized).values())) == 2
