"""Small, realistic bugs the test suite must catch: each a search/replace in one package file.

``tests/mutants/run.py`` applies each one to a temporary copy of the repository and runs the
tests named here on it; the mutant is *killed* when they fail. ``old`` must occur exactly once
in ``file``: when the code it targets has changed, the script says the mutant no longer applies
and it should be rewritten against the new code (keep the bug, update the text).

The ``tests`` of a mutant are the few tests known to catch it, so that the whole set runs in a
few minutes on two cores; a mutant that survives them may still be caught elsewhere, but then
say so here by naming that test instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    bug: str  # what a user would see
    file: str  # relative to the repository root
    old: str
    new: str
    tests: tuple[str, ...]  # pytest node ids (or files) expected to fail
    # Only applicable where this pytest-asyncio runs the loop (see the note on the mutant).
    needs_own_sigint_handler: bool = False


STRENGTH = "tests/test_strength.py::"

MUTANTS = [
    # ---- The eight chosen blind (issue 16) -------------------------------------------------
    Mutant(
        "stream-routing",
        "a case's stderr lands in its stdout section",
        "asyncgroup/_capture.py",
        'getattr(sys, name), name.replace("std", ""), capture_streams,',
        'getattr(sys, name), "out", capture_streams,',
        ("tests/test_core.py::test_each_case_report_has_only_its_own_output_and_logs",),
    ),
    Mutant(
        "teardown-skipped-on-failure",
        "a failing case's fixtures are never torn down",
        "asyncgroup/_runner.py",
        "                    try:\n"
        "                        await self._teardown("
        "case, member, fixtures, phases, deadline, output)\n",
        "                    try:\n"
        "                        if all(p.error is None for p in phases):\n"
        "                            await self._teardown(\n"
        "                                case, member, fixtures, phases, deadline, output\n"
        "                            )\n",
        (
            "tests/test_fixtures.py::test_teardown_runs_in_reverse_order_of_setup_whatever_the_outcome",
        ),
    ),
    Mutant(
        "teardown-deadline-not-restarted",
        "a teardown gets only what is left of the case's timeout, or none at all",
        "asyncgroup/_runner.py",
        "        elif deadline is not None:\n            deadline.restart()",
        "        elif deadline is not None:\n            pass",
        (STRENGTH + "test_every_hanging_finalizer_of_a_case_is_cut_off_by_the_teardown_timeout",),
    ),
    Mutant(
        "x-not-cancelling",
        "-x / --maxfail wait for every running case instead of cancelling them",
        "asyncgroup/_runner.py",
        "        if stop and self.stop_reason is None:",
        "        if False:",
        ("tests/test_core.py::test_x_and_maxfail_stop_the_run_inside_a_parent",),
    ),
    Mutant(
        "skip-reported-as-pass",
        "pytest.skip() in a case is reported as SUBPASSED",
        "asyncgroup/_outcome.py",
        # The call phase's skip (the one followed by the subtest report), not a fixture's.
        'outcome, longrepr = "skipped", self._skipped_at(error)\n        else:\n'
        '            outcome, longrepr = "failed", self._longrepr(error)\n'
        "        report = self._subtest(",
        'outcome, longrepr = "passed", None\n        else:\n'
        '            outcome, longrepr = "failed", self._longrepr(error)\n'
        "        report = self._subtest(",
        ("tests/test_core.py::test_case_marks_and_outcomes",),
    ),
    Mutant(
        "nodeid-without-case-id",
        "every case is reported under the parent's node id",
        "asyncgroup/_outcome.py",
        "else self.case_nodeid(case_id)\n\n    def file_under_case(",
        "else self.item.nodeid\n\n    def file_under_case(",
        ("tests/test_core.py::test_each_case_has_its_own_nodeid_and_failure_report",),
    ),
    Mutant(
        "max-concurrency-off-by-one",
        "max_concurrency=N lets N + 1 cases run at once",
        "asyncgroup/_runner.py",
        "asyncio.Semaphore(limit)",
        "asyncio.Semaphore(limit + 1)",
        ("tests/test_core.py::test_max_concurrency_bounds_cases_in_flight",),
    ),
    Mutant(
        "leftover-tasks-not-cancelled",
        "tasks a case left running outlive it",
        "asyncgroup/_leaks.py",
        "    for task in running:\n        task.cancel()",
        "    for task in running:\n        pass",
        (
            "tests/test_beyond.py::"
            "test_tasks_left_running_are_named_and_cancelled_after_the_fixture_teardown",
        ),
    ),
    # ---- The four the suite missed (issue 16) ----------------------------------------------
    Mutant(
        "teardown-timeout-cuts-off-only-the-first",
        "with two hanging finalizers only the first is cut off: the run hangs",
        "asyncgroup/_timeouts.py",
        "        self._repeat = True\n        self._since = time.monotonic()\n",
        "        self._repeat = False\n        self._since = time.monotonic()\n",
        (STRENGTH + "test_every_hanging_finalizer_of_a_case_is_cut_off_by_the_teardown_timeout",),
    ),
    Mutant(
        "caplog-set-level-not-undone",
        "a later test still sees the logger at the level a case set",
        "asyncgroup/_builtins.py",
        "            logging.getLogger(name).setLevel(before)\n",
        "            pass\n",
        (STRENGTH + "test_caplog_levels_are_undone_and_its_records_are_the_cases_own",),
    ),
    Mutant(
        "stand-ins-not-back-after-full-suspension",
        "after capsys.disabled() or a --pdb prompt a case's prints go to the parent's report",
        "asyncgroup/_runner.py",
        "        current_output.reset(self._token)\n        self._run.capture.install_streams()",
        "        current_output.reset(self._token)\n        if not self._fully:\n"
        "            self._run.capture.install_streams()",
        (
            STRENGTH + "test_output_after_capsys_disabled_is_still_the_cases_own",
            STRENGTH + "test_output_after_a_pdb_prompt_is_still_the_cases_own",
        ),
    ),
    Mutant(
        "tmp-path-removed-whatever-the-policy",
        "a passing case's tmp_path is deleted under every retention policy",
        "asyncgroup/_builtins.py",
        'if policy == "failed" and fixtures.passed:',
        "if fixtures.passed:",
        (STRENGTH + "test_tmp_path_is_kept_per_retention_policy_as_pytest_keeps_it",),
    ),
    # ---- Found by reading (issue 16) ---------------------------------------------------------
    Mutant(
        "tmp-path-kept-after-a-setup-error",
        "retention 'failed' keeps the tmp_path of a case whose fixture setup failed",
        "asyncgroup/_runner.py",
        "fixtures.passed = call is None or call.error is None",
        "fixtures.passed = call is not None and call.error is None",
        (STRENGTH + "test_tmp_path_is_kept_per_retention_policy_as_pytest_keeps_it",),
    ),
    Mutant(
        "xfail-run-false-runs",
        "a case marked xfail(run=False) runs",
        # The mark's run=False, as RunSettings reads it: _runner.py acts on it in two places
        # (before the case's setup and at its call), one replacement cannot disable both.
        "asyncgroup/_settings.py",
        'text = xfailed.reason if xfailed.run else f"[NOTRUN] {xfailed.reason}"',
        "text = xfailed.reason",
        (STRENGTH + "test_xfail_run_false_is_reported_as_xfailed_and_not_run",),
    ),
    Mutant(
        "getfixturevalue-serves-the-parents",
        "getfixturevalue() of a function fixture gives every case one shared instance",
        "asyncgroup/_fixtures.py",
        "if fixturedef is None or not self.plan.is_per_case(fixturedef):",
        "if True:",
        (STRENGTH + "test_getfixturevalue_of_a_function_fixture_sets_it_up_for_the_case",),
    ),
    Mutant(
        "override-uses-the-wider-fixture",
        "a function fixture overriding a module one is shared by all cases",
        "asyncgroup/_fixtures.py",
        "if not self.is_per_case(fixturedef) or _compat.is_direct_param(fixturedef):",
        "if not self.is_per_case(defs[0]) or _compat.is_direct_param(fixturedef):",
        (STRENGTH + "test_a_function_fixture_overriding_a_wider_one_is_made_per_case",),
    ),
    Mutant(
        "second-yield-ignored",
        "a fixture that yields twice passes silently",
        "asyncgroup/_fixtures.py",
        "    except StopIteration:\n        return\n    _more_than_one_yield(func)",
        "    except StopIteration:\n        return",
        (STRENGTH + "test_a_fixture_that_yields_twice_is_an_error_at_teardown",),
    ),
    Mutant(
        "monkeypatch-delenv-unclaimed",
        "two running cases may delete the same environment variable",
        "asyncgroup/_builtins.py",
        "        self._patch(\n"
        '            ("env", name),\n'
        '            f"environment variable {name!r}",\n'
        "            _DELETED,\n"
        "            lambda p: p.delenv(name, raising=raising),\n"
        "            lambda: name in os.environ,\n"
        "        )\n",
        # Deleted with the case's own MonkeyPatch (undone with it), claimed by no one.
        "        self._own.delenv(name, raising=raising)\n",
        (STRENGTH + "test_two_running_cases_patching_the_same_thing_is_refused",),
    ),
    Mutant(
        "monkeypatch-syspath-unclaimed",
        "two running cases prepending to sys.path undo each other's",
        "asyncgroup/_builtins.py",
        '        self._patch(("syspath",), "sys.path", _unshared(), '
        "lambda p: p.syspath_prepend(path))",
        "        self._own.syspath_prepend(path)",
        (STRENGTH + "test_two_running_cases_patching_the_same_thing_is_refused",),
    ),
    Mutant(
        "monkeypatch-not-undone",
        "a case's deletions, chdir and sys.path changes outlive it",
        "asyncgroup/_builtins.py",
        # The last case holding a patch lets go of it (Claims.release) without undoing it.
        "            del self._held[key]\n            held.patch.undo()\n",
        "            del self._held[key]\n",
        (STRENGTH + "test_monkeypatch_deletions_chdir_and_syspath_are_undone_per_case",),
    ),
    Mutant(
        # pytest-asyncio >= 1.2 runs each test in an asyncio.Runner, whose own SIGINT handler
        # stops at the second Ctrl-C; asyncgroup's handler only serves 1.0 and 1.1.
        "second-ctrl-c-ignored",
        "a second Ctrl-C waits for a stuck teardown instead of stopping at once",
        "asyncgroup/_interrupt.py",
        "        if interrupt.received or interrupt.stopped:",
        "        if False:",
        (STRENGTH + "test_a_second_ctrl_c_stops_at_once_while_a_teardown_is_stuck",),
        needs_own_sigint_handler=True,
    ),
    Mutant(
        "second-ctrl-c-interrupts-twice",
        "after a second Ctrl-C the parent raises KeyboardInterrupt again: pytest crashes",
        "asyncgroup/_interrupt.py",
        "            interrupt.received, interrupt.stopped = False, True\n",
        "",
        (STRENGTH + "test_a_second_ctrl_c_stops_at_once_while_a_teardown_is_stuck",),
        needs_own_sigint_handler=True,
    ),
    Mutant(
        "report-hook-error-lost",
        "a report hook's exception is swallowed and the run passes",
        "asyncgroup/_runner.py",
        "        except BaseException as exc:\n"
        "            self.report_error = self.report_error or exc\n"
        '            self._cancel_all("reporting failed")',
        '        except BaseException:\n            self._cancel_all("reporting failed")',
        (STRENGTH + "test_a_report_hook_that_raises_fails_the_parent_and_stops_the_cases",),
    ),
    # ---- The two tests that could not fail (issue 16), rewritten -------------------------------
    Mutant(
        "fail-fast-not-cancelling",
        "fail_fast=True lets the other cases run to their end",
        "asyncgroup/_runner.py",
        "            if self.table.fail_fast:\n                self.stopped_by_fail_fast = ",
        "            if False:\n                self.stopped_by_fail_fast = ",
        (
            "tests/test_fixtures.py::"
            "test_fail_fast_cancelling_a_case_in_teardown_still_tears_down_and_reports_it",
        ),
    ),
    Mutant(
        "warning-without-its-case",
        "a case's AsyncgroupWarning does not say which case it is about",
        "asyncgroup/_outcome.py",
        'AsyncgroupWarning(f"case {shown!r}: {note}")',
        "AsyncgroupWarning(note)",
        ("tests/test_beyond.py::test_a_warning_made_an_error_is_not_lost",),
    ),
    Mutant(
        "source-tree-cache-shared",
        "every failing case shows the source lines of the first failure's statement",
        "asyncgroup/_compat.py",
        "        text = str(source)\n",
        '        text = "one tree for every source"\n',
        ("tests/test_as_parametrize.py::test_failures_of_many_cases_show_each_its_own_source",),
    ),
]
