"""Misuse: a bad @concurrent_cases is a collection error that names the test, the bad value and
what is valid; a bad default (ini or command line) is a usage error; a non-function is a
TypeError at import; an empty case list skips the test.

Every test writes a small test file, runs pytest on it in a subprocess, and checks what a user
sees.
"""

from __future__ import annotations

import sys

import pytest

from tests.conftest import summary


def write_ini(pytester: pytest.Pytester, *extra: str) -> None:
    """The conftest's ini, plus extra lines."""
    lines = "\n".join(["[pytest]", "asyncio_default_fixture_loop_scope = function", *extra])
    pytester.makeini(lines)


def assert_no_internal_traceback(result: pytest.RunResult) -> None:
    """The user sees a message, not asyncgroup's or pytest's own stack."""
    output = "\n".join(result.outlines + result.errlines)
    assert "INTERNALERROR" not in output
    assert "Traceback (most recent call last)" not in output
    assert "asyncgroup/_" not in output, output
    assert "_pytest/" not in output, output


# (decorator and function source, fragments the "In test_x: ..." message must contain)
BAD_DECLARATIONS = [
    pytest.param(
        '@concurrent_cases("z", [1])\nasync def test_x(a, b): ...',
        ["argname 'z' is not a parameter of the function", "its parameters are: a, b"],
        id="unknown-argname",
    ),
    pytest.param(
        '@concurrent_cases(["a", "zz"], [(1, 2)])\nasync def test_x(a, b): ...',
        ["argname 'zz' is not a parameter", "a, b"],
        id="unknown-argname-in-list",
    ),
    pytest.param(
        '@concurrent_cases("a, b", [(1, 2), (3,)])\nasync def test_x(a, b): ...',
        ["case 1", "(3,)", "1 value(s)", "expected 2", "a, b"],
        id="tuple-too-short",
    ),
    pytest.param(
        '@concurrent_cases("a, b", [(1, 2, 3)])\nasync def test_x(a, b): ...',
        ["case 0", "(1, 2, 3)", "3 value(s)", "expected 2", "a, b"],
        id="tuple-too-long",
    ),
    pytest.param(
        '@concurrent_cases("a, b", [(1, 2), 3])\nasync def test_x(a, b): ...',
        ["case 1", "3", "not a tuple of 2 values", "a, b"],
        id="not-a-tuple",
    ),
    pytest.param(
        '@concurrent_cases([1, 2], ids=["one"])\nasync def test_x(a): ...',
        ["ids has 1 entries", "2 cases", "['one']"],
        id="ids-too-few",
    ),
    pytest.param(
        '@concurrent_cases([1], ids=["one", "two"])\nasync def test_x(a): ...',
        ["ids has 2 entries", "1 cases", "['one', 'two']"],
        id="ids-too-many",
    ),
    pytest.param(
        "@concurrent_cases([1], timeout=0)\nasync def test_x(a): ...",
        ["invalid timeout 0", "timeout=", "positive, finite number of seconds"],
        id="timeout-0",
    ),
    pytest.param(
        "@concurrent_cases([1], timeout=-1)\nasync def test_x(a): ...",
        ["invalid timeout -1", "timeout=", "positive, finite number of seconds"],
        id="timeout-negative",
    ),
    pytest.param(
        '@concurrent_cases([1], timeout="3")\nasync def test_x(a): ...',
        ["invalid timeout '3'", "timeout=", "positive number of seconds"],
        id="timeout-string",
    ),
    pytest.param(
        "@concurrent_cases([1], timeout=True)\nasync def test_x(a): ...",
        ["invalid timeout True", "timeout=", "positive number of seconds"],
        id="timeout-bool",
    ),
    pytest.param(
        '@concurrent_cases([1], timeout=float("nan"))\nasync def test_x(a): ...',
        ["invalid timeout nan", "timeout=", "positive, finite number of seconds"],
        id="timeout-nan",
    ),
    pytest.param(
        '@concurrent_cases([1], timeout=float("inf"))\nasync def test_x(a): ...',
        ["invalid timeout inf", "timeout=", "positive, finite number of seconds"],
        id="timeout-inf",
    ),
    pytest.param(
        "@concurrent_cases([1], max_concurrency=0)\nasync def test_x(a): ...",
        ["invalid max_concurrency 0", "max_concurrency=", "whole number >= 1"],
        id="max-concurrency-0",
    ),
    pytest.param(
        "@concurrent_cases([1], max_concurrency=1.5)\nasync def test_x(a): ...",
        ["invalid max_concurrency 1.5", "max_concurrency=", "whole number >= 1"],
        id="max-concurrency-float",
    ),
    pytest.param(
        "@concurrent_cases([1])\nasync def test_x(): ...",
        ["the function has no parameter to receive the case value"],
        id="function-without-parameters",
    ),
    pytest.param(
        '@concurrent_cases("a", [1], [2])\nasync def test_x(a): ...',
        ["takes the case values, or argnames and argvalues", "got 3 positional arguments"],
        id="too-many-positional-arguments",
    ),
    pytest.param(
        "@concurrent_cases()\nasync def test_x(a): ...",
        ["takes the case values, or argnames and argvalues", "got 0 positional arguments"],
        id="no-arguments",
    ),
    pytest.param(
        "@concurrent_cases\nasync def test_x(a): ...",
        ["@concurrent_cases needs the case values: @concurrent_cases([...])"],
        id="bare-decorator",
    ),
    pytest.param(
        '@concurrent_cases("abc")\nasync def test_x(a): ...',
        ["the case values must be a list or another iterable", "'abc'"],
        id="string-as-case-values",
    ),
    pytest.param(
        '@concurrent_cases([1], fail_fast="yes")\nasync def test_x(a): ...',
        ["fail_fast must be True or False", "'yes'"],
        id="fail-fast-not-bool",
    ),
    pytest.param(
        "@concurrent_cases([1])\n@concurrent_cases([2])\nasync def test_x(a): ...",
        ["@concurrent_cases is applied twice"],
        id="applied-twice",
    ),
    pytest.param(
        "@concurrent_cases([1])\ndef test_x(a):\n    yield",
        ["generator"],
        id="generator-function",
    ),
]


@pytest.mark.parametrize(("declaration", "fragments"), BAD_DECLARATIONS)
def test_bad_declaration_is_a_collection_error_naming_test_value_and_valid(
    pytester: pytest.Pytester, declaration: str, fragments: list[str]
) -> None:
    """Misuse shows as a collection error "In test_x: <what is wrong>", not an internal error."""
    pytester.makepyfile(
        test_mod="import pytest\nfrom asyncgroup import concurrent_cases\n\n" + declaration + "\n"
    )
    result = pytester.runpytest_subprocess(timeout=60)
    result.stdout.fnmatch_lines(["*ERROR collecting test_mod.py*"])
    messages = [line for line in result.outlines if line.startswith("In test_x: ")]
    assert len(messages) == 1, result.outlines
    for fragment in fragments:
        assert fragment in messages[0], messages[0]
    assert_no_internal_traceback(result)
    assert summary(result) == {"error": 1}
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_bad_declaration_names_a_method_of_a_class(pytester: pytest.Pytester) -> None:
    """On a method the message names the method."""
    pytester.makepyfile(
        test_mod="""
        from asyncgroup import concurrent_cases

        class TestGroup:
            @concurrent_cases("z", [1])
            async def test_method(self, a):
                pass
        """
    )
    result = pytester.runpytest_subprocess(timeout=60)
    result.stdout.fnmatch_lines(
        ["In test_method: argname 'z' is not a parameter of the function; its parameters are: a"]
    )
    assert_no_internal_traceback(result)


@pytest.mark.parametrize(
    "bad_declaration",
    [
        pytest.param('@concurrent_cases("z", [1])', id="asyncgroup"),
        pytest.param('@pytest.mark.parametrize("z", [1])', id="parametrize"),
    ],
)
def test_bad_declaration_is_a_collection_error_of_its_module_as_with_parametrize(
    pytester: pytest.Pytester, bad_declaration: str
) -> None:
    """Misuse errors the way a bad @pytest.mark.parametrize does: the module's collection."""
    pytester.makepyfile(
        test_mod=f"""
        import pytest
        from asyncgroup import concurrent_cases

        {bad_declaration}
        async def test_bad(a, b):
            pass

        def test_plain():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-v", timeout=60)
    result.stdout.fnmatch_lines(
        ["*ERROR collecting test_mod.py*", "*In *test_bad: *'z'*", "*Interrupted: 1 error*"]
    )
    assert "test_plain" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED


@pytest.mark.parametrize(
    ("statement", "expected_error"),
    [
        pytest.param(
            "@concurrent_cases([1])\nclass TestNotAFunction:\n    pass",
            "E   TypeError: @concurrent_cases decorates a test function "
            "('async def' or plain 'def'), not type *",
            id="class",
        ),
        pytest.param(
            "not_a_function = concurrent_cases([1])(5)",
            "E   TypeError: @concurrent_cases decorates a test function "
            "('async def' or plain 'def'), not int 5",
            id="int",
        ),
    ],
)
def test_decorating_a_non_function_raises_type_error_at_import(
    pytester: pytest.Pytester, statement: str, expected_error: str
) -> None:
    """Decorating something that is not a function fails at import with a TypeError."""
    pytester.makepyfile(test_mod="from asyncgroup import concurrent_cases\n\n" + statement + "\n")
    result = pytester.runpytest_subprocess(timeout=60)
    result.stdout.fnmatch_lines(["*ERROR collecting test_mod.py*", expected_error])
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_decorating_a_non_function_raises_at_import_outside_pytest(
    pytester: pytest.Pytester,
) -> None:
    """The TypeError comes from the decorator itself, as the module is imported."""
    pytester.makepyfile(
        check="""
        from asyncgroup import concurrent_cases
        try:
            concurrent_cases([1])(42)
        except TypeError as exc:
            print("TypeError:", exc)
        else:
            print("no error")
        """
    )
    result = pytester.run(sys.executable, "check.py", timeout=60)
    result.stdout.fnmatch_lines(
        [
            "TypeError: @concurrent_cases decorates a test function "
            "('async def' or plain 'def'), not int 42"
        ]
    )


@pytest.mark.parametrize(
    ("ini", "args", "message"),
    [
        pytest.param(
            "asyncgroup_timeout = abc",
            [],
            "ERROR: asyncgroup: invalid timeout 'abc' from ini option asyncgroup_timeout: "
            "expected a positive number of seconds, or 0*for no timeout",
            id="ini-timeout-not-a-number",
        ),
        pytest.param(
            "asyncgroup_timeout = -1",
            [],
            "ERROR: asyncgroup: invalid timeout -1.0 from ini option asyncgroup_timeout: "
            "expected a positive, finite number of seconds, or 0 for no timeout",
            id="ini-timeout-negative",
        ),
        pytest.param(
            "asyncgroup_max_concurrency = 0",
            [],
            "ERROR: asyncgroup: invalid max_concurrency 0 from ini option "
            "asyncgroup_max_concurrency: expected a whole number >= 1",
            id="ini-max-concurrency-zero",
        ),
        pytest.param(
            "asyncgroup_max_concurrency = 2.5",
            [],
            "ERROR: asyncgroup: invalid max_concurrency '2.5' from ini option "
            "asyncgroup_max_concurrency: expected a whole number >= 1",
            id="ini-max-concurrency-float",
        ),
        pytest.param(
            "",
            ["--asyncgroup-timeout=-1"],
            "ERROR: asyncgroup: invalid timeout -1.0 from --asyncgroup-timeout: "
            "expected a positive, finite number of seconds, or 0 (or none) for no timeout",
            id="cli-timeout-negative",
        ),
        pytest.param(
            "",
            ["--asyncgroup-max-concurrency=x"],
            "ERROR: asyncgroup: invalid max_concurrency 'x' from --asyncgroup-max-concurrency: "
            "expected a whole number >= 1",
            id="cli-max-concurrency-not-a-number",
        ),
    ],
)
def test_invalid_default_is_a_usage_error(
    pytester: pytest.Pytester, ini: str, args: list[str], message: str
) -> None:
    """A bad ini or command-line default stops the run with a usage error naming its source."""
    write_ini(pytester, ini)
    pytester.makepyfile(
        test_mod="""
        from asyncgroup import concurrent_cases

        @concurrent_cases([1])
        async def test_x(n):
            pass
        """
    )
    result = pytester.runpytest_subprocess(*args, timeout=60)
    result.stderr.fnmatch_lines([message])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert_no_internal_traceback(result)


@pytest.mark.parametrize("values", ["[]", "()", "iter([])"])
def test_empty_case_list_skips_the_test_with_a_reason(
    pytester: pytest.Pytester, values: str
) -> None:
    """No cases: the parent is skipped, saying why; other tests run."""
    pytester.makepyfile(
        test_mod=f"""
import sys

import pytest
from asyncgroup import concurrent_cases

@concurrent_cases({values})
async def test_x(n):
    raise AssertionError("no case, so never called")

@concurrent_cases([1])
async def test_other(n):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-v", "-rs", timeout=60)
    result.stdout.fnmatch_lines(["test_mod.py::test_x[[]NOTSET[]] SKIPPED*"])
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] *got empty parameter set for (n)*"])
    result.stdout.fnmatch_lines(["test_mod.py::test_other PASSED*"])
    assert summary(result) == {"skipped": 1, "subtests passed": 1}
    assert result.ret == pytest.ExitCode.OK
