"""pytest-mock: ``mocker`` patches with unittest.mock's patchers (``start()``, then ``stop()``
at its teardown), so a case's ``mocker.patch`` of a target another running case holds patched is
refused as a ``mock.patch`` would be (asyncgroup/_case_mock.py); other patches work as in the
parametrized test. Checked with pytest-mock 3.17.0."""

from __future__ import annotations

from differential import Differential

from tests.test_mock_patch import refused

PRELUDE = """
import os
import types
from unittest import mock

TARGET = types.SimpleNamespace(attr="original")
TABLE = {"key": "original"}
"""

# The first case holds its patch 0.2 s; the second patches 0.05 s in and holds it 0.3 s.
OVERLAPPING = """
@cases("n", ["first", "second"])
async def test_x(n, mocker):
    if n == "second":
        await asyncio.sleep(0.05)
    {patch}
    await asyncio.sleep(0.2 if n == "first" else 0.3)
    {check}

def test_zz_everything_is_back():
    assert TARGET.attr == "original"
    assert TABLE == {{"key": "original"}}
    assert not isinstance(os.getcwd, mock.Mock)
"""


def _refused(differential: Differential, patch: str, check: str, what: str) -> None:
    refused(differential.run(PRELUDE + OVERLAPPING.format(patch=patch, check=check)), what)


def test_mocker_patch_of_a_target_another_running_case_holds_is_refused(
    differential: Differential,
) -> None:
    _refused(
        differential,
        'mocker.patch("os.getcwd", return_value=n)',
        "assert os.getcwd() == n",
        "'getcwd' of os",
    )


def test_mocker_patch_object_is_refused(differential: Differential) -> None:
    _refused(
        differential,
        'mocker.patch.object(TARGET, "attr", n)',
        "assert TARGET.attr == n",
        "'attr' of namespace(*)",
    )


def test_mocker_patch_dict_is_refused(differential: Differential) -> None:
    _refused(
        differential,
        "mocker.patch.dict(TABLE, key=n)",
        'assert TABLE["key"] == n',
        "dict {'key': *}",
    )


def test_mocker_patches_that_do_not_overlap_work_as_in_the_parametrized_test(
    differential: Differential,
) -> None:
    pair = differential.run(
        PRELUDE
        + """
        @cases("name", ["attr", "key", "spy"])
        async def test_x(name, mocker):
            if name == "attr":
                mocker.patch.object(TARGET, "attr", "patched")
            elif name == "key":
                mocker.patch.dict(TABLE, key="patched")
            else:
                spy = mocker.spy(os.path, "join")
                os.path.join("a", "b")
                spy.assert_called_once_with("a", "b")
            await asyncio.sleep(0.1)

        @cases("n", [1, 2])
        async def test_y(n, mocker):
            if n == 2:  # after the first case ended and mocker undid its patch
                await asyncio.sleep(0.3)
            mocker.patch("os.getcwd", return_value=n)
            assert os.getcwd() == n

        def test_zz_everything_is_back():
            assert TARGET.attr == "original"
            assert TABLE == {"key": "original"}
        """.replace("\n        ", "\n"),
        "-rA",
    )
    pair.assert_same()
    assert set(map(tuple, pair.parametrized_outcomes.values())) == {("passed",)}, pair._both()
