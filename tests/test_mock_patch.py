"""unittest.mock's patchers in cases (asyncgroup/_case_mock.py): a target that another running
case holds patched is refused at the patch, with a clear error; patches of different targets,
or one after another, work as in the parametrized test."""

from __future__ import annotations

import textwrap

import pytest
from differential import Differential, Pair

from tests.conftest import summary

# Module-level targets: an object's attribute, a module attribute (by its dotted name), a dict.
PRELUDE = """
import os
import types
from unittest import mock

TARGET = types.SimpleNamespace(attr="original", other="original")
TABLE = {"key": "original"}
"""

# The first case patches and holds its patch 0.2 s; the second patches 0.05 s in and holds it
# 0.3 s. Without the refusal the first sees the second's patch, and the second, ending last,
# puts back the first's patch, which stays: test_zz_everything_is_back fails.
HOLDING = """
@cases("n", ["first", "second"])
async def test_x(n):
    if n == "second":
        await asyncio.sleep(0.05)
    {patch}

def test_zz_everything_is_back():
    assert TARGET.attr == TARGET.other == "original"
    assert TABLE == {{"key": "original"}}
    assert not isinstance(os.getcwd, mock.Mock)
    # asyncgroup's wrapping is in place only while a parent runs
    assert mock._patch.__enter__.__module__ == "unittest.mock"
"""

HOLD = 'await asyncio.sleep(0.2 if n == "first" else 0.3)'

WAYS = {
    "with": (
        f"""with mock.patch.object(TARGET, "attr", n):
        {HOLD}
        assert TARGET.attr == n""",
        "'attr' of namespace(*)",
    ),
    "start-stop": (
        f"""patcher = mock.patch("os.getcwd", return_value=n)
    patcher.start()
    try:
        {HOLD}
        assert os.getcwd() == n
    finally:
        patcher.stop()""",
        "'getcwd' of os",
    ),
    "multiple": (
        f"""with mock.patch.multiple(TARGET, other=n, attr=n):
        {HOLD}
        assert TARGET.attr == TARGET.other == n""",
        "'other' of namespace(*)",
    ),
    "dict": (
        f"""with mock.patch.dict(TABLE, key=n):
        {HOLD}
        assert TABLE["key"] == n""",
        "dict {'key': *}",
    ),
    "dict-start-stop": (
        f"""patcher = mock.patch.dict("test_it.TABLE", key=n)
    patcher.start()
    try:
        {HOLD}
        assert TABLE["key"] == n
    finally:
        patcher.stop()""",
        "dict test_it.TABLE",
    ),
}

REFUSAL = (
    "E*Failed: asyncgroup: cases 'first' and 'second' both mock.patch {what} while they run "
    "at the same time; a patch is process-wide, so each would see the other's, and the first "
    "to end would undo it for both: pass the fake in as a fixture, use monkeypatch (cases may "
    "patch a target alike), or max_concurrency=1"
)


def _source(body: str) -> str:
    return PRELUDE + textwrap.dedent(body)


def second_refused(pair: Pair) -> None:
    """The second case alone fails; its parametrized twin (one at a time) passes."""
    assert pair.concurrent_outcomes == {
        "test_it.py::test_x[first]": ["passed"],
        "test_it.py::test_x[second]": ["failed"],
        "test_it.py::test_zz_everything_is_back": ["passed"],
        **{nodeid: ["failed"] for nodeid in pair.parents},
    }, pair._both()
    assert set(map(tuple, pair.parametrized_outcomes.values())) == {("passed",)}, pair._both()


def refused(pair: Pair, what: str) -> None:
    """The second case alone fails, refused; its parametrized twin (one at a time) passes."""
    second_refused(pair)
    pair.concurrent.stdout.fnmatch_lines([REFUSAL.format(what=what)])


@pytest.mark.parametrize("way", sorted(WAYS))
def test_overlapping_cases_patching_one_target_is_refused(
    differential: Differential, way: str
) -> None:
    patch, what = WAYS[way]
    pair = differential.run(_source(HOLDING.format(patch=patch)))
    refused(pair, what)


def test_patch_decorator_under_the_cases_is_refused_when_they_overlap(
    differential: Differential,
) -> None:
    """The decorator's one patcher is entered by each case: the second is refused before it
    touches the patcher the first is using."""
    pair = differential.run(
        _source(
            """
            @cases("n", ["first", "second"])
            @mock.patch.object(TARGET, "attr", "decorated")
            async def test_x(n):
                if n == "second":
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.2 if n == "first" else 0.3)
                assert TARGET.attr == "decorated"

            def test_zz_everything_is_back():
                assert TARGET.attr == "original"
            """
        )
    )
    refused(pair, "'attr' of namespace(*)")


def test_plain_def_cases_in_threads_are_refused_too(differential: Differential) -> None:
    pair = differential.run(
        _source(
            """
            import time

            @cases("n", ["first", "second"])
            def test_x(n):
                if n == "second":
                    time.sleep(0.05)
                with mock.patch.object(TARGET, "attr", n):
                    time.sleep(0.2 if n == "first" else 0.3)
                    assert TARGET.attr == n

            def test_zz_everything_is_back():
                assert TARGET.attr == "original"
            """
        )
    )
    refused(pair, "'attr' of namespace(*)")


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            """
            @cases("n", ["first", "second"])
            async def test_x(n):
                if n == "second":  # patches after the first undid its patches
                    await asyncio.sleep(0.3)
                with mock.patch.object(TARGET, "attr", n), mock.patch.dict(TABLE, key=n):
                    await asyncio.sleep(0.05)
                    assert TARGET.attr == TABLE["key"] == n
                patcher = mock.patch("os.getcwd", return_value=n)
                patcher.start()
                assert os.getcwd() == n
                patcher.stop()
            """,
            id="one-after-another",
        ),
        pytest.param(
            """
            @cases("name", ["attr", "other"])
            async def test_x(name):
                with mock.patch.object(TARGET, name, "patched"):
                    await asyncio.sleep(0.1)
                    assert getattr(TARGET, name) == "patched"
                    assert getattr(TARGET, {"attr": "other", "other": "attr"}[name]) in (
                        "original", "patched"
                    )
            """,
            id="different-targets",
        ),
        pytest.param(
            """
            @cases("name", ["attr", "other"])
            async def test_x(name):
                # A case may patch its target again inside its own patch.
                with mock.patch.object(TARGET, name, "outer"):
                    with mock.patch.object(TARGET, name, "inner"):
                        assert getattr(TARGET, name) == "inner"
                    await asyncio.sleep(0.1)
                    assert getattr(TARGET, name) == "outer"
                    assert name == "attr"
            """,
            id="nested-in-one-case",
        ),
        pytest.param(
            """
            # Outside any case (module level, as a session fixture's would be): not looked at.
            _outer = mock.patch.object(TARGET, "other", "module level")
            _outer.start()

            @cases("n", [1, 2])
            async def test_x(n):
                if n == 1:  # over the module's patch
                    with mock.patch.object(TARGET, "other", n):
                        await asyncio.sleep(0.1)
                        assert TARGET.other == n
                else:
                    await asyncio.sleep(0.3)
                assert TARGET.other == "module level"

            def test_zz_stop():
                _outer.stop()
            """,
            id="outside-cases",
        ),
        pytest.param(
            """
            @cases("n", [1, 2])
            async def test_x(n):
                # A patch the first case never stops stays, as for its parametrized test: the
                # second case, after the first ended, patches over it.
                if n == 2:
                    await asyncio.sleep(0.3)
                patcher = mock.patch.object(TARGET, "attr", n)
                patcher.start()
                assert TARGET.attr == n
            """,
            id="left-in-place",
        ),
    ],
)
def test_patches_that_do_not_overlap_work_as_in_the_parametrized_test(
    differential: Differential, source: str
) -> None:
    pair = differential.run(_source(source), "-rA")
    pair.assert_same()
    assert any(v == ["passed"] for v in pair.parametrized_outcomes.values())


@pytest.mark.parametrize("kind", ["async def", "def"])
def test_a_patch_decorator_that_passes_its_mock_in_works_as_in_the_parametrized_test(
    differential: Differential, kind: str
) -> None:
    """``@mock.patch`` without ``new=`` passes its mock in, before the test's own arguments:
    not a fixture, as pytest's getfuncargnames has it (one case at a time: the patch is the
    process's)."""
    pair = differential.run(
        _source(
            f"""
            @cases("n", ["a", "b"])
            @mock.patch("os.getcwd")
            @mock.patch.object(TARGET, "attr")
            {kind} test_x(attr, getcwd, n, tmp_path):
                getcwd.return_value = n
                assert os.getcwd() == n
                assert isinstance(TARGET.attr, mock.Mock) and tmp_path.is_dir()
            """
        ),
        "-rA",
        "--asyncgroup-max-concurrency=1",
    )
    pair.assert_same()
    assert pair.parametrized_outcomes == {
        "test_it.py::test_x[a]": ["passed"],
        "test_it.py::test_x[b]": ["passed"],
    }, pair._both()


ABOVE = {
    "above": ('@mock.patch("os.getcwd")', ""),
    "above-and-below": ('@mock.patch("os.getcwd")', '@mock.patch.object(TARGET, "attr")'),
    "object-above": ('@mock.patch.object(TARGET, "attr")', ""),
}


@pytest.mark.parametrize("where", list(ABOVE))
def test_a_patch_decorator_above_the_cases_is_refused_at_collection(
    pytester: pytest.Pytester, where: str
) -> None:
    """``@mock.patch`` above ``@concurrent_cases`` reaches no case: the test failed with
    "fixture 'n' not found" and ran none. It is a collection error naming the test, what is
    wrong and the remedy, as asyncgroup's other misuse is; under the decorator it works
    (test_a_patch_decorator_that_passes_its_mock_in_works_as_in_the_parametrized_test)."""
    above, below = ABOVE[where]
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function")
    source = f"""
        from asyncgroup import concurrent_cases

        {above}
        @concurrent_cases("n", ["a", "b"])
        {below}
        async def test_x(*args, n):
            pass

        def test_other():
            pass
        """
    pytester.makepyfile(test_it=PRELUDE + textwrap.dedent(source))
    result = pytester.runpytest_subprocess("-p", "no:randomly", timeout=60)
    result.stdout.fnmatch_lines(["*ERROR collecting test_it.py*"])
    messages = [line for line in result.outlines if line.startswith("In test_x: ")]
    assert messages == [
        "In test_x: @mock.patch is above @concurrent_cases, where it does not reach the cases "
        "(none would get its patch or its mock); put @mock.patch under @concurrent_cases, so "
        "that each case gets its own patch and mock, as each parametrized test does"
    ], result.outlines
    assert "Traceback" not in result.stdout.str()
    assert summary(result) == {"error": 1}, result.outlines
    assert result.ret == pytest.ExitCode.INTERRUPTED


# One case patches with unittest.mock, the other with monkeypatch, the same target: without
# the refusal both pass, and one of them puts the other's fake back for every later test.
MIXED_WAYS = {
    "object-setattr": (
        'with mock.patch.object(TARGET, "attr", n):',
        'monkeypatch.setattr(TARGET, "attr", n)',
        "assert TARGET.attr == n",
        ("mock.patch 'attr' of namespace(*)", "monkeypatch 'attr' of namespace(*)"),
    ),
    "dotted-name": (
        'with mock.patch("os.getcwd", return_value=n):',
        'monkeypatch.setattr("os.getcwd", lambda: n)',
        "assert os.getcwd() == n",
        ("mock.patch 'getcwd' of os", "monkeypatch 'os.getcwd'"),
    ),
    "dict-setitem": (
        "with mock.patch.dict(TABLE, key=n):",
        'monkeypatch.setitem(TABLE, "key", n)',
        'assert TABLE["key"] == n',
        ("mock.patch dict {'key': *}", "monkeypatch item 'key'"),
    ),
    "environ-setenv": (
        "with mock.patch.dict(os.environ, ASYNCGROUP_MIXED=n):",
        'monkeypatch.setenv("ASYNCGROUP_MIXED", n)',
        'assert os.environ["ASYNCGROUP_MIXED"] == n',
        ("mock.patch dict os.environ", "monkeypatch environment variable 'ASYNCGROUP_MIXED'"),
    ),
}

MIXED = """
@cases("n", ["first", "second"])
async def test_x(n, monkeypatch):
    if n == "second":
        await asyncio.sleep(0.05)
    if n == {mock_case!r}:
        {mock}
            {hold}
            {check}
    else:
        {monkeypatch}
        {hold}
        {check}

def test_zz_everything_is_back():
    assert TARGET.attr == "original"
    assert TABLE == {{"key": "original"}}
    assert os.getcwd is ORIGINAL_GETCWD
    assert "ASYNCGROUP_MIXED" not in os.environ
"""


@pytest.mark.parametrize("mock_case", ["first", "second"])
@pytest.mark.parametrize("way", sorted(MIXED_WAYS))
def test_a_mock_patch_and_a_monkeypatch_of_one_target_in_overlapping_cases_are_refused(
    differential: Differential, way: str, mock_case: str
) -> None:
    """Either way round: the second to patch is refused, and the target is back afterwards."""
    mock_patch, monkeypatch, check, (mock_what, monkeypatch_what) = MIXED_WAYS[way]
    source = PRELUDE + "ORIGINAL_GETCWD = os.getcwd\n"
    source += MIXED.format(
        mock_case=mock_case, mock=mock_patch, monkeypatch=monkeypatch, hold=HOLD, check=check
    )
    pair = differential.run(source)
    second_refused(pair)
    first, second = (
        (mock_what, monkeypatch_what) if mock_case == "first" else (monkeypatch_what, mock_what)
    )
    pair.concurrent.stdout.fnmatch_lines(
        [
            "E*Failed: asyncgroup: cases 'first' and 'second' patch one target while they run "
            f"at the same time, 'first' with {first}, 'second' with {second}; a patch is "
            "process-wide, so each would see the other's, and the first to end would undo it "
            "for both, or put its fake back for every later test: patch it the same way in "
            "both (monkeypatch lets cases patch a target alike), pass the fake in as a "
            "fixture, or max_concurrency=1"
        ]
    )


# Two plain def cases (threads) patching one target at the same instant. The first, deleting the
# item, asks whether it is there (Table.__contains__) between its check of what other cases
# hold and its own registration, and waits there for the second to patch (at most 1 s: with the
# fix, the second waits for the first's registration); the second starts patching once the
# first is there (waiting at most 10 s, for a loaded machine). Without one lock over check and
# registration both got through: the second saw the first's deletion (KeyError), and the target
# stayed {"key": "second"} for every later test.
RACE = """
import threading
import time
from contextlib import nullcontext

inside = threading.Event()  # the deleting case is between its check and its registration
patched = threading.Event()  # the other case has patched


class Table(dict):
    def __contains__(self, key):
        if not inside.is_set():
            inside.set()
            patched.wait(1)
        return super().__contains__(key)


RACED = Table(key="original")


@cases("n", ["first", "second"])
def test_x(n, monkeypatch):
    if n == "first":
        monkeypatch.delitem(RACED, "key")
        time.sleep(0.3)
        assert "key" not in RACED
    else:
        inside.wait(10)
        {patch}
            patched.set()
            time.sleep(0.3)
            assert RACED["key"] == n


def test_zz_everything_is_back():
    assert RACED == {{"key": "original"}}
"""

RACES = {
    "mock": (
        "with mock.patch.dict(RACED, key=n):",
        "E*Failed: asyncgroup: cases 'first' and 'second' patch one target while they run at "
        "the same time, 'first' with monkeypatch item 'key', 'second' with mock.patch dict *",
    ),
    "monkeypatch": (
        'with nullcontext(monkeypatch.setitem(RACED, "key", n)):',
        "E*Failed: asyncgroup: cases 'first' and 'second' both monkeypatch item 'key' while "
        "they run at the same time, to different values*",
    ),
}


@pytest.mark.parametrize("other", sorted(RACES))
def test_plain_def_cases_patching_one_target_at_the_same_instant_are_refused(
    differential: Differential, other: str
) -> None:
    """The check of the targets other cases hold and the registration of this case's are one
    step, for mock and monkeypatch alike: the second case is refused, as if it had patched a
    moment later, and the target is back afterwards."""
    patch, refusal = RACES[other]
    pair = differential.run(PRELUDE + RACE.format(patch=patch))
    second_refused(pair)
    pair.concurrent.stdout.fnmatch_lines([refusal])
