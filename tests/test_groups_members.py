"""@concurrent_group: each test of a group is called, timed, listed and reported as pytest does
without the group, and what the group cannot do for one test is a collection error naming it.

Differential where there is an outcome to compare: the same file with and without its
``@concurrent_group`` lines (see ``tests/test_groups.py``).
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET

import pytest

from tests.differential import Differential
from tests.test_groups import compare, junit, run, write_pair


def test_static_and_class_methods_and_partials_are_called_as_pytest_calls_them(
    pytester: pytest.Pytester,
) -> None:
    """A staticmethod unbound, a classmethod bound to the class, a functools.partial class
    attribute unbound: not bound to an instance as a plain test method is."""
    write_pair(
        pytester,
        """
        import functools
        import pytest
        from asyncgroup import concurrent_group

        @pytest.fixture
        def fx():
            return 5

        def _check(n):
            assert n > 0, "partial fails"

        @concurrent_group
        class TestSt:
            @staticmethod
            async def test_static(fx):
                assert fx == 5

            @staticmethod
            def test_static_sync(fx):
                assert fx == 5

            @classmethod
            async def test_cm(cls, fx):
                assert cls is TestSt and fx == 5

            @classmethod
            def test_cm_sync(cls):
                assert cls.__name__ == "TestSt"

            @staticmethod
            async def test_static_fail():
                assert 0, "static fails"

            test_partial = functools.partial(_check, 1)
            test_partial_fail = functools.partial(_check, -1)

            async def test_method(self, fx):
                assert isinstance(self, TestSt) and fx == 5
        """,
    )
    grouped, _ = compare(pytester)
    tests = junit(pytester.path / "test_grouped.xml")
    assert tests["TestSt::test_static"] == ("passed", "")
    assert tests["TestSt::test_static_fail"][0] == "failure"
    assert "static fails" in tests["TestSt::test_static_fail"][1]
    # The parent's failure is located in the test file, not at line 0 of nowhere.
    assert not any(line.startswith(":0:") for line in grouped.outlines), grouped.stdout.str()


def test_static_and_class_methods_with_concurrent_cases_are_called_as_pytest_calls_them(
    differential: Differential,
) -> None:
    """The same with @concurrent_cases, in a plain class and in a grouped one: a classmethod's
    cases get the class, not an instance made for each case."""
    source = """
        from asyncgroup import concurrent_group

        DECORATOR
        class TestC:
            @classmethod
            @cases("x", [1, 2])
            async def test_cm(cls, x):
                assert cls is TestC, "not the class"

            @staticmethod
            @cases("x", [1, 2])
            async def test_st(x):
                assert x != 2, "static fails"

            @cases("x", [1, 2])
            async def test_m(self, x):
                assert isinstance(self, TestC), "not an instance"
    """
    # (With the class's asyncio mark; without it: tests/test_marks_input.py.)
    differential.run(source.replace("DECORATOR", "@pytest.mark.asyncio"), "-v").assert_same()
    # In a group (the parametrized run has no group: its outcomes are the ones above).
    pair = differential.run(source.replace("DECORATOR", "@concurrent_group"), "-v")
    expected = {
        f"test_it.py::TestC::test_{name}[{x}]": ["passed"] for name in ("cm", "m") for x in (1, 2)
    }
    expected["test_it.py::TestC::test_st[1]"] = ["passed"]
    expected["test_it.py::TestC::test_st[2]"] = ["failed"]
    expected["test_it.py::TestC::concurrent_group"] = ["failed"]
    assert pair.concurrent_outcomes == expected, pair.concurrent.stdout.str()


def test_a_concurrent_cases_tests_own_timeout_is_its_cases_timeout(
    pytester: pytest.Pytester,
) -> None:
    """Its @concurrent_cases(timeout=...) beats the group's timeout, as it beats the ini's."""
    write_pair(
        pytester,
        """
        import asyncio
        from asyncgroup import concurrent_cases, concurrent_group

        @concurrent_group("g", timeout=0.5)
        @concurrent_cases([1, 2], timeout=60)
        async def test_longer(x):
            await asyncio.sleep(1.5)

        @concurrent_group("g")
        @concurrent_cases([1, 2], timeout=0.5)
        async def test_shorter(x):
            await asyncio.sleep(0.05 if x == 1 else 600)

        @concurrent_group("g")
        async def test_group_timeout():
            await asyncio.sleep(600)
        """,
    )
    grouped = run(pytester, "test_grouped", "-k", "not group_timeout")
    plain = run(pytester, "test_plain", "-k", "not group_timeout")
    # The cases as without the group (the parents aside: concurrent_group[g] there, the
    # @concurrent_cases parents here).
    tests = junit(pytester.path / "test_grouped.xml")
    plain_tests = junit(pytester.path / "test_plain.xml")
    assert {k: v for k, v in tests.items() if "[" in k and "concurrent_group" not in k} == {
        k: v for k, v in plain_tests.items() if "[" in k
    }
    assert grouped.ret == plain.ret == pytest.ExitCode.TESTS_FAILED
    assert tests["test_longer[1]"] == ("passed", "")
    assert tests["test_shorter[1]"] == ("passed", "")
    assert tests["test_shorter[2]"][0] == "failure"
    assert "Timeout (>0.5s)" in tests["test_shorter[2]"][1]
    # The group's own timeout still bounds its other tests.
    result = run(pytester, "test_grouped", "-k", "group_timeout")
    result.stdout.fnmatch_lines(["*::test_group_timeout FAILED*", "*Timeout (>0.5s)*"])


def test_what_a_test_writes_on_request_node_reaches_its_report(
    pytester: pytest.Pytester,
) -> None:
    """add_report_section is a "Captured ..." section of its failure, user_properties are its
    JUnit properties, as without the group."""
    write_pair(
        pytester,
        """
        from asyncgroup import concurrent_group

        @concurrent_group("g")
        async def test_a(request):
            request.node.add_report_section("call", "custom", "SECTION OF " + request.node.name)
            request.node.user_properties.append(("prop_a", "1"))
            assert 0

        @concurrent_group("g")
        def test_b(request, record_property):
            request.node.user_properties.append(("prop_b", "2"))
            record_property("prop_c", "3")
        """,
    )
    grouped, plain = compare(pytester, "-rA", "--tb=short")

    def properties(module: str) -> dict[str, list[tuple[str, str]]]:
        found = {}
        for testcase in ET.parse(pytester.path / f"{module}.xml").iter("testcase"):
            found[testcase.get("name", "")] = [
                (p.get("name", ""), p.get("value", "")) for p in testcase.iter("property")
            ]
        return found

    expected = {"test_a": [("prop_a", "1")], "test_b": [("prop_b", "2"), ("prop_c", "3")]}
    for module in ("test_grouped", "test_plain"):
        found = properties(module)
        assert {name: sorted(found[name]) for name in expected} == expected, module
    for result in (grouped, plain):
        result.stdout.fnmatch_lines(
            ["*_ test_a _*", "*- Captured custom call -*", "SECTION OF test_a", "*short test*"]
        )


def test_setup_plan_and_setup_only_list_each_test_with_its_fixtures(
    pytester: pytest.Pytester,
) -> None:
    """As without the group: each test's line with its function-scoped fixtures, no bodies."""
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        @pytest.fixture
        def fx():
            yield 1

        @concurrent_group("g")
        async def test_a(fx):
            print("BODY RAN")

        @concurrent_group("g")
        def test_b():
            print("BODY RAN")
        """,
    )

    def lines(option: str, module: str) -> tuple[list[str], int]:
        """The lines naming tests and fixtures (the file as MODULE), and the exit code."""
        result = pytester.runpytest_subprocess(
            "-p", "no:randomly", "-s", option, f"{module}.py", timeout=60
        )
        wanted = ("SETUP", "TEARDOWN", f"{module}.py::", "fixtures used by", "fx -- ", "BODY")
        found = [line for line in result.outlines if any(word in line for word in wanted)]
        return [line.replace(module, "MODULE") for line in found], result.ret

    for option in ("--setup-plan", "--setup-only", "--fixtures-per-test"):
        grouped, plain = lines(option, "test_grouped"), lines(option, "test_plain")
        assert grouped == plain, option
        assert any("fx" in line for line in grouped[0]), (option, grouped)
        assert not any("concurrent_group" in line for line in grouped[0]), (option, grouped)
        assert not any("BODY RAN" in line for line in grouped[0]), (option, grouped)


def test_setup_plan_in_strict_mode_lists_the_loop_runner_of_each_async_test(
    pytester: pytest.Pytester,
) -> None:
    """In strict mode the separate async tests carry asyncio marks, the group's need not: the
    listing still shows each async test with pytest-asyncio's loop runner, as the separate
    tests (the group's lacked ``_function_scoped_runner``)."""
    source = """
        import pytest
        import pytest_asyncio
        from asyncgroup import concurrent_group

        @pytest_asyncio.fixture
        async def afx():
            yield 1

        {group}
        async def test_a(afx):
            pass

        {group}
        def test_b():
            pass

        {cls}
        class TestC:
            {mark}
            async def test_c(self):
                pass
        """
    grouped = source.format(group='@concurrent_group("g")', cls="@concurrent_group", mark="")
    mark = "@pytest.mark.asyncio"
    separate = source.format(group=mark, cls="", mark=mark).replace(f"{mark}\n        def", "def")
    pytester.makepyfile(test_grouped=textwrap.dedent(grouped), test_plain=textwrap.dedent(separate))
    pytester.makeini(
        """
        [pytest]
        asyncio_mode = strict
        asyncio_default_fixture_loop_scope = function
        """
    )
    for option in ("--setup-plan", "--setup-only"):
        listed = []
        for module in ("test_grouped", "test_plain"):
            result = pytester.runpytest_subprocess(
                "-p", "no:randomly", option, f"{module}.py", timeout=60
            )
            assert result.ret == 0, result.stdout.str()
            start = next(i for i, line in enumerate(result.outlines) if line.startswith(module))
            end = next(
                i for i, line in enumerate(result.outlines) if line.startswith("=") and i > start
            )
            listed.append([line.replace(module, "MODULE") for line in result.outlines[start:end]])
        assert listed[0] == listed[1], option
        # pytest-asyncio's loop fixture: _function_scoped_runner (>= 1.1), _function_event_loop
        # (1.0).
        runners = [
            line
            for line in listed[0]
            if "SETUP    F _function_scoped_runner" in line
            or "SETUP    F _function_event_loop" in line
        ]
        assert len(runners) == 2, listed[0]  # test_a's and test_c's


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            """
            @concurrent_group("g")
            @concurrent_group("h")
            async def test_a():
                pass
            """,
            "In test_a: two @concurrent_group decorators: @concurrent_group('g') and "
            "@concurrent_group('h'); a test runs in one group with one set of options: keep one",
            id="two-groups",
        ),
        pytest.param(
            """
            @concurrent_group("k", timeout=0.5)
            @concurrent_group("k", timeout=5)
            async def test_k():
                pass
            """,
            "In test_k: two @concurrent_group decorators: @concurrent_group('k', timeout=0.5) "
            "and @concurrent_group('k', timeout=5.0)*",
            id="two-timeouts",
        ),
        pytest.param(
            """
            @concurrent_group(timeout=1)
            @concurrent_group
            class TestTwice:
                async def test_a(self):
                    pass
            """,
            "In TestTwice: two @concurrent_group decorators: @concurrent_group(timeout=1.0) "
            "and @concurrent_group*",
            id="two-on-a-class",
        ),
        pytest.param(
            """
            @concurrent_group
            class TestInit:
                def __init__(self):
                    self.x = 1

                async def test_a(self):
                    pass
            """,
            "@concurrent_group on class 'TestInit', which pytest does not collect as a test "
            "(it has an __init__ constructor): decorate a test function or a test class",
            id="class-with-init",
        ),
        pytest.param(
            """
            @concurrent_group("g")
            class TestNew:
                def __new__(cls):
                    return super().__new__(cls)

                async def test_a(self):
                    pass
            """,
            "@concurrent_group on class 'TestNew', which pytest does not collect as a test "
            "(it has a __new__ constructor)*",
            id="class-with-new",
        ),
        pytest.param(
            """
            @concurrent_group
            class TestOff:
                __test__ = False

                async def test_a(self):
                    pass
            """,
            "@concurrent_group on class 'TestOff', which pytest does not collect as a test "
            "(it sets __test__ = False)*",
            id="class-test-false",
        ),
        pytest.param(
            """
            @concurrent_group("g")
            async def test_off():
                pass

            test_off.__test__ = False
            """,
            "@concurrent_group on function 'test_off', which pytest does not collect as a test "
            "(it sets __test__ = False)*",
            id="function-test-false",
        ),
        pytest.param(
            """
            @concurrent_group("g")
            @concurrent_cases(range(4), shards=2)
            async def test_a(x):
                pass
            """,
            "In test_a: @concurrent_cases(shards=2) cannot be used in a @concurrent_group: "
            "shards spread a test's cases over pytest-xdist workers, and a group runs whole on "
            "one worker; remove shards (or take the test out of @concurrent_group('g'))",
            id="shards",
        ),
        pytest.param(
            """
            @concurrent_group("g", timeout=5)
            @concurrent_cases([1, 2, 3], max_concurrency=1)
            async def test_b(x):
                pass
            """,
            "In test_b: @concurrent_cases(max_concurrency=1) is not applied per test in a "
            "@concurrent_group: the group's max_concurrency acts on all its tests' cases "
            "together; give it on the group (@concurrent_group('g', timeout=5.0), then with "
            "max_concurrency=1) or take the test out of the group",
            id="cases-max-concurrency",
        ),
        pytest.param(
            """
            @concurrent_group
            class TestC:
                @concurrent_cases([1, 2], fail_fast=True)
                async def test_c(self, x):
                    pass
            """,
            "In test_c: @concurrent_cases(fail_fast=True) is not applied per test in a "
            "@concurrent_group*give it on the group (@concurrent_group, then with "
            "fail_fast=True)*",
            id="cases-fail-fast-in-class",
        ),
    ],
)
def test_misuse_is_a_collection_error_naming_the_test(
    pytester: pytest.Pytester, source: str, message: str
) -> None:
    pytester.makepyfile(
        test_bad="from asyncgroup import concurrent_cases, concurrent_group\n"
        + textwrap.dedent(source)
    )
    result = pytester.runpytest_subprocess(timeout=60)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ERROR collecting test_bad.py*", f"*{message}"])


def test_a_concurrent_cases_tests_marks_are_seen_once_in_a_group(
    pytester: pytest.Pytester,
) -> None:
    """``request.node.iter_markers`` of a case of a grouped @concurrent_cases test lists each of
    its function's marks once, then its pytest.param marks, as without the group (they were
    listed twice: a fixture gathering all marks of a name got each two times)."""
    pytester.makeconftest(
        """
        def pytest_configure(config):
            config.addinivalue_line("markers", "env(name): where the test runs")
        """
    )
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_cases, concurrent_group

        @pytest.fixture
        def envs(request):
            return [mark.args[0] for mark in request.node.iter_markers("env")]

        @concurrent_group("g")
        @pytest.mark.env("fn")
        @concurrent_cases("n", [1, pytest.param(2, marks=pytest.mark.env("case"))])
        async def test_d(n, envs, request):
            assert envs == (["fn"] if n == 1 else ["fn", "case"])
            names = [mark.name for mark in request.node.iter_markers()]
            assert names.count("env") == n, names

        @concurrent_group("g")
        class TestC:
            @pytest.mark.env("method")
            @concurrent_cases("n", [1, 2])
            async def test_m(self, n, envs):
                assert envs == ["method"]
        """,
    )
    grouped, plain = run(pytester, "test_grouped"), run(pytester, "test_plain")
    cases = ("test_d[1]", "test_d[2]", "TestC::test_m[1]", "TestC::test_m[2]")
    for module in ("test_grouped", "test_plain"):
        tests = junit(pytester.path / f"{module}.xml")
        assert {name: tests[name] for name in cases} == dict.fromkeys(cases, ("passed", ""))
    assert grouped.ret == plain.ret == 0


def test_a_fixture_of_a_groups_test_sees_its_whole_fixture_closure(
    pytester: pytest.Pytester,
) -> None:
    """An autouse fixture's ``request.fixturenames`` is its test's whole closure, as without
    the group: the "only for tests that use db" pattern works (it saw [], findings-groups4 F3)."""
    write_pair(
        pytester,
        """
        import pytest
        from asyncgroup import concurrent_group

        @pytest.fixture
        def db():
            return "db"

        @pytest.fixture(autouse=True)
        def only_for_db_tests(request):
            uses_db = "uses_db" in request.node.name
            assert ("db" in request.fixturenames) == uses_db, request.fixturenames
            assert "only_for_db_tests" in request.fixturenames

        @concurrent_group("g")
        async def test_uses_db(db):
            pass

        @concurrent_group("g")
        def test_no_db(request):
            pass
        """,
    )
    grouped, _ = compare(pytester)
    assert grouped.ret == 0
