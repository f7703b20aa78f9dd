"""Running one parent's cases concurrently, each in its own task, and reporting each as it ends.

Every case task owns its context (asyncio copies it), so its output buffers and fixtures are
its own. A case that ends hands its phases over; its reports are built (a failure's traceback
can take 0.1 s to format) and written outside its task, in callbacks that each take a slice of
at most ``_REPORT_SLICE`` seconds, so that running cases get the loop in between. Reports built
in one slice are written together: 10,000 cases may finish within a few iterations, and each
write to the terminal mid-test means setting pytest's capture aside.

A run that stops (fail_fast, -x/--maxfail, Ctrl-C, the parent cancelled) cancels its cases, and
gives each ``STOP_GRACE`` seconds for its libraries' cleanup and its teardown before cutting
them off (every finalizer still runs), so that every stop is bounded. A body that catches every
CancelledError and goes on is cancelled again after ``STOP_GRACE``, and given up on (closed) after
``STOP_GRACE`` more: a timeout or a stop ends it too.

PYTEST_DONT_REWRITE: pytest rewrites the asserts of a plugin's modules, which adds a local per
compared value to each coroutine frame: a case's frame (``_run_one``), 100,000 of them alive.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import gc
import inspect
import math
import threading
import time
import types
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from asyncgroup import _casereports, _compat
from asyncgroup._attempts import Attempt, CaseReruns, execution_count
from asyncgroup._builtins import Claims, LoggerLevels
from asyncgroup._capture import (
    CaseCapture,
    CaseOutput,
    current_output,
    executor_work_in_case_context,
    in_case,
    running_output,
)
from asyncgroup._case_catch_warnings import per_case_warnings
from asyncgroup._case_filterwarnings import Filters, case_filters, dispatching, enter_case
from asyncgroup._case_log_file import log_file_per_case
from asyncgroup._case_mock import mock_patches_per_case
from asyncgroup._case_unraisable import unraisable_per_case, warn_unraisable
from asyncgroup._case_warning_reports import filed_per_case
from asyncgroup._casenode import CaseCallSpec, CaseNode
from asyncgroup._declare import SHARD_ARGUMENT, Case, CaseTable
from asyncgroup._fixtures import CaseFixtures, FixturePlan, parent_value, wider_results
from asyncgroup._gcpause import gc_paused, pause_gc
from asyncgroup._interrupt import parent_task_key, sigint_cancels
from asyncgroup._leaks import (
    CLEANUP_GRACE,
    CaseMark,
    TaskCensus,
    case_mark,
    left_running,
    settle,
)
from asyncgroup._loopscope import test_loop_scope
from asyncgroup._member import Member
from asyncgroup._outcome import (
    CASES_FAILED_ATTRIBUTE,
    AsyncgroupWarning,
    CancellationIgnoredError,
    CaseReporter,
    FailedSubtests,
    Phase,
    Xfail,
    case_nodeid,
    with_traceback,
)
from asyncgroup._progress import LiveProgress
from asyncgroup._select import parent_marks, run_cases_key, select
from asyncgroup._servers import ServerCensus
from asyncgroup._settings import RunSettings
from asyncgroup._steps import CaseSteps, stepped
from asyncgroup._threads import CaseThread
from asyncgroup._timeouts import (
    CaseTimeout,
    Deadline,
    LoopHolds,
    SlowestStep,
    blocked_body_error,
    blocked_hint,
    debugger_active,
    expired_error,
    overdue_error,
    slow_step_hint,
    timeout_error,
    user_frames,
    waiting_at,
)
from asyncgroup._watchdog import LoopWatchdog

# Seconds of report building per callback: running cases get the loop at least this often
# (unless one report alone takes longer).
_REPORT_SLICE = 0.02
# Seconds a cancelled case gets, once the run stops, for its libraries' cleanup and for each
# fixture finalizer that hangs, before it is cancelled again.
STOP_GRACE = 3.0

_T = TypeVar("_T")


class _Services:
    """What a case's built-in fixtures need from the run."""

    def __init__(self, run: ParentRun, log_formatter: Any) -> None:
        self.log_formatter = log_formatter
        self.log_level = run.settings.log_level or 0  # caplog's level until set_level
        self.claims = Claims()  # what running cases changed process-wide
        self.levels = run.levels
        self.suspend_capture = run.capture_disabled
        self.streams = run.capture.streams  # for capsys and kin
        self.setup_show = bool(run.config.getoption("setupshow", False))
        self.report_step = run.report_step
        self.holds = run.holds  # the case's sync fixture code notes its time there, if any
        self.parent_request = run.request  # the parent's, for the cases' requests
        self.parent_values = run.parent_values  # the parent's fixture values
        self._run = run

    def on_loop_thread(self) -> bool:
        """Whether the caller runs on the event loop's thread (not a def case's)."""
        return threading.get_ident() == self._run.loop_thread

    def in_loop_thread(self, func: Callable[[], _T]) -> _T:
        """``func()``, called on the event loop's thread: at once there, or from a plain def
        case's thread (in its context, the thread waiting for it). Raises what ``func`` raises."""
        __tracebackhide__ = True
        if self.on_loop_thread():
            return func()
        run = self._run
        done = threading.Event()
        outcome: list[Any] = []  # [value] or [None, error]: no frames of its own in a traceback

        def call() -> None:
            __tracebackhide__ = True
            try:
                outcome.append(func())
            except BaseException as exc:  # pytest.skip() too: the case's, in its thread
                outcome.extend((None, exc))
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise  # the run's too
            finally:
                done.set()

        handle = run.loop.call_soon_threadsafe(call, context=contextvars.copy_context())
        while not done.wait(0.1):
            if not run.loop.is_running():  # stopped (Ctrl-C): it will not run it now
                handle.cancel()
                msg = "the event loop stopped before the fixture could be set up"
                raise RuntimeError(msg)
        if len(outcome) == 2:
            raise outcome[1]
        return outcome[0]  # type: ignore[no-any-return]

    def show(self, line: str) -> None:
        """--setup-show: write a case's SETUP or TEARDOWN line now, between the reports (from
        the loop's thread, which writes them)."""
        run = self._run

        def write() -> None:
            run.pending.append(line)
            run.schedule_flush()

        self.in_loop_thread(write)

    def case_node(self, case: Case, member: Member, fixtures: CaseFixtures) -> Any:
        """The case's ``request.node`` (made when a case first asks for it): a test of a group
        is its own item; a case, the parametrized test it stands for (see _casenode)."""
        count = execution_count.get()  # None: no rerun plugin reruns the case
        if member.case_is_item:
            if count is not None:
                member.item.execution_count = count  # type: ignore[union-attr]
            return member.item
        item = member.item or self._run.item
        reporter: CaseReporter = member.reporter
        name = case_nodeid(item.name, case.id, reporter.slot)
        test_id = name[name.index("[") + 1 : -1]
        # A group's case carries its test's own marks already (see _grouping), as for marks_of.
        if member.item:
            own = list(case.marks)
        else:  # a hook's marks after the case's, as on its parametrized test (see parent_marks)
            before, added, _ = parent_marks(item)
            own = [*before, *case.marks, *added]
        keywords: dict[str, Any] = {name: True, **dict.fromkeys(reporter.keywords, True)}
        keywords[test_id] = True
        keywords.update((mark.name, mark) for mark in own)
        parent_spec = getattr(item, "callspec", None)
        params = {**getattr(parent_spec, "params", {}), **case.values}
        indices = {
            **getattr(parent_spec, "indices", {}),
            **dict.fromkeys(case.argnames, case.index),  # case.values's keys, no dict made
        }
        instance = fixtures.instance if fixtures.instance is not None else item.instance
        path, line, domain = item.location
        node = CaseNode(
            item,
            name,
            reporter.nodeid(case.id),
            own,
            keywords,
            CaseCallSpec(test_id, params, indices),
            fixtures.user_properties,
            instance,
            (path, line, case_nodeid(domain, case.id, reporter.slot)),
            fixtures.values,
            fixtures.plan.closure,
        )
        if count is not None:  # as the plugin sets it on the parametrized test's item
            node.execution_count = count
        return node


class ParentRun:
    """The state of one parent test while its cases run."""

    def __init__(
        self,
        table: CaseTable,
        request: pytest.FixtureRequest,
        settings: RunSettings,
        bound_args: tuple[Any, ...],
        parent_values: dict[str, Any],
        setup_error: BaseException | None = None,
        set_up: bool = True,
    ) -> None:
        self.table = table
        self.item: pytest.Function = request.node
        self.config = request.config
        self.request = request
        self.settings = settings
        self.bound_args = bound_args
        self.parent_values = parent_values
        self.plan: FixturePlan = settings.plan
        # What a case runs unless it brings its own member (a test of a group).
        self.own = Member(None, table.func, bound_args, table.parameters, table.is_async, self.plan)
        # Cases that ended, whose reports are still to be built: the arguments of _build_one.
        self.unbuilt: collections.deque[tuple[Any, ...]] = collections.deque()
        self.build_scheduled = False
        # Reports to write, and --setup-show lines (str) to write before them.
        self.pending: list[pytest.TestReport | str] = []
        self.flush_scheduled = False
        self.failed: list[str] = []
        # Of those, the cases whose only failures are fixture errors (pytest's ERROR, not FAILED).
        self.errored: set[str] = set()
        self.done = 0
        # Warnings for a running case's report (blocked loop, leftover tasks), by its task.
        self.notes: dict[asyncio.Task[Any], list[str]] = {}
        self.progress: LiveProgress
        self.loop: asyncio.AbstractEventLoop
        self.loop_thread = 0  # the event loop's thread (plain def cases run in others)
        self.stop_reason: str | None = None
        self.stopped_by_fail_fast = False
        # An error raised by a report hook (a plugin's bug, say): flush runs from the event
        # loop, which would only log it, so the parent re-raises it when the cases are done.
        self.report_error: BaseException | None = None
        # pytest.exit() in a case: the other cases are cancelled, then the parent raises it.
        self.exit_error: BaseException | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        # --sw: each case's place in the order its test would run (made only under --sw),
        # and the places of the cases that failed (see flush).
        self.places: dict[int, int] = {}
        self.task_places: dict[asyncio.Task[None], int] = {}
        self.failed_places: list[int] = []
        # Resolved when no started case task is left (see _all_ended).
        self.all_ended: asyncio.Future[None] | None = None
        # Case tasks cancelled by the run (fail_fast, -x, Ctrl-C), as opposed to a case's own
        # CancelledError (awaiting something cancelled), which is the case's failure.
        self.cancelled_from_outside: set[asyncio.Task[None]] = set()
        # The marks of case bodies that ended on their own, by case task: their tasks still
        # running are cancelled once the case's fixtures are torn down (see _leaks).
        self.unsettled: dict[asyncio.Task[Any], tuple[CaseMark, dict[Any, str]]] = {}
        self.watchdog: LoopWatchdog | None = None
        # When a case's own code held the loop, for the other cases' timeouts (none: no case
        # has a timeout, and nothing is noted).
        self.holds: LoopHolds | None = None
        # Once the run stops: what cancels a case again when its cleanup or a finalizer hangs.
        self.cutoffs: dict[asyncio.Task[None], Deadline] = {}
        # The async body each case task is running, and the per-case fixtures of each, whose
        # async fixture code may be running (see _running); the tasks whose cancelled body or
        # fixture is being watched, and those given up on: why they were cancelled, where
        # they were waiting then, and the fixture given up on (None: the body).
        self.bodies: dict[asyncio.Task[Any], Coroutine[Any, Any, Any]] = {}
        self.fixtures: dict[asyncio.Task[Any], CaseFixtures] = {}
        self.watched: set[asyncio.Task[Any]] = set()
        # Once the run stops, the body or fixture code each cut-off is watching instead, and
        # whether the cut-off has cancelled it again (see _cut_off).
        self.stopping: dict[asyncio.Task[Any], tuple[Any, bool]] = {}
        self.abandoned: dict[
            asyncio.Task[Any], tuple[str, types.TracebackType | None, str | None]
        ] = {}
        self.census: TaskCensus
        self.servers: ServerCensus | None = None  # on a wider loop scope, servers serve on
        self.context = contextvars.copy_context()  # the parent's, for report building
        self.resume_gc: Callable[[], None] = lambda: None
        tee = self.config.getoption("capture", "fd") == "tee-sys"
        self.levels = LoggerLevels()  # logger levels running cases set with caplog
        self.capture = CaseCapture(
            settings.capture_streams,
            settings.log_level,
            _compat.uncaptured_streams(self.config),
            tee,
            self.levels.hides,
        )
        # Each case's timeout, by id(case): see _plan_timeouts.
        self.timeouts: dict[int, CaseTimeout] = {}
        # Without per-case fixtures (nor a per-case request), a case's arguments are its values
        # and the parent's: no per-case fixture machinery at all.
        parameters = table.parameters
        # pytest's recipe "Making test result information available in fixtures" (and any
        # pytest_runtest_makereport hook of the project's): each phase of a case, as it ends,
        # goes through the project's implementations with the case's request.node (see
        # _casereports). They see the node of a case with per-case fixtures only.
        self.makereport = _casereports.project_makereport(self.item)
        # The project's pytest_runtest_setup/teardown hooks (pytest's recipe that skips by a
        # mark, say) run for each case too, with its request.node, at the start of its setup
        # and of its teardown, as pytest calls them before its own (which set fixtures up and
        # tear them down).
        self.runtest_setup = _casereports.project_hook(self.item, "pytest_runtest_setup")
        self.runtest_teardown = _casereports.project_hook(self.item, "pytest_runtest_teardown")
        # Its plain pytest_runtest_call hooks too, just before the case's body.
        self.runtest_call = _casereports.project_hook(self.item, "pytest_runtest_call", plain=True)
        hooked = (self.makereport, self.runtest_setup, self.runtest_teardown, self.runtest_call)
        self.per_case_fixtures = (
            bool(self.plan.per_case)
            or bool(self.plan.unknown)  # each case's setup fails (see FixturePlan.unknown)
            or "request" in parameters
            or any(hook is not None for hook in hooked)
            # --setup-show writes each case's values (SETUP F n[1]), as its parametrized test's
            or bool(self.config.getoption("setupshow", False))
        )
        self.shared_arguments: dict[str, Any] = {}
        # A fixture of wider scope that failed to set up: every case's setup error.
        self.setup_error = setup_error
        if not self.per_case_fixtures and setup_error is None and set_up:
            self.shared_arguments = {
                name: parent_value(request, parent_values, name)
                for name in parameters
                if name not in table.argnames
            }
        self.reporter: CaseReporter
        self.services: _Services
        # Integrations that keep a plugin's per-test state per case (see _steps); checked once,
        # so that runs without them pay nothing per phase.
        self.phase_hook = self.config.hook.pytest_asyncgroup_case_phase
        self.with_steps = bool(self.phase_hook.get_hookimpls())
        self.case_filters: dict[str, Filters] = {}
        # A plugin that reruns failed tests reruns failed cases (see _attempts).
        self.reruns_hook = self.config.hook.pytest_asyncgroup_case_reruns
        self.with_reruns = bool(self.reruns_hook.get_hookimpls())
        # The attempt of every case without a rerun plugin: one for all, as nothing of it
        # changes (see Attempt.decided).
        self.once = Attempt(None, 0)
        self.case_reruns: dict[int, CaseReruns | None] = {}  # by id(case): see _reruns
        # Bound once: a bound method made per case task is 64 bytes more per running case.
        self.case_done = self._case_done
        self.last_case = self.item.stash.get(last_case_key, None)
        self.root = str(self.config.rootpath)  # paths in a case's warnings are relative to it
        # On a loop of wider scope than function (module, session, ...) pytest-asyncio does not
        # close the loop after a test: the tasks a test leaves running run on, unwarned, until
        # that scope ends. So do a case's: its tasks are not marked, looked for or cancelled.
        self.tasks_run_on = test_loop_scope(self.item) != "function"

    async def run(self, cases: list[Case]) -> None:
        __tracebackhide__ = True
        self.item.stash[run_cases_key] = cases  # for --sw (see _select.Stepwise)
        self._plan_timeouts(cases)
        loop = self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self.progress = LiveProgress(self.config, len(cases))
        watchdog = self.watchdog = None
        if self.settings.blocked_loop_threshold and not self.settings.debugging:
            watchdog = LoopWatchdog(
                loop, self.settings.blocked_loop_threshold, self._blocked, self.root
            )
            self.watchdog = watchdog
        if self.timeouts:
            longest = max(timeout.seconds for timeout in self.timeouts.values())
            self.holds = LoopHolds(longest, watchdog)
        with _compat.hide_case_records_from_parent(self.config, in_case) as formatter:
            self.reporter = self.own.reporter = CaseReporter(
                self.item,
                self.settings.every_phase,
                formatter,
                empty_setups=self.settings.empty_setups,
            )
            self.services = _Services(self, formatter)
            parent = asyncio.current_task()
            assert parent is not None
            self.item.stash[parent_task_key] = parent  # see finish_interrupted
            self.case_filters = self._case_filters(cases)
            self.context = contextvars.copy_context()
            self.census = TaskCensus(loop, noting=not self.tasks_run_on)
            self.servers = ServerCensus(loop) if not self.tasks_run_on else None
            with (
                self.capture.active(_compat.capture_streams(self.config)),
                _compat.capture_disabled_beside_cases(self.config, self.capture_disabled),
                executor_work_in_case_context(),
                log_file_per_case(self.config),
                unraisable_per_case(
                    self.config.pluginmanager.has_plugin("unraisableexception"),
                    self.config.pluginmanager.has_plugin("threadexception"),
                ),
                per_case_warnings(),
                mock_patches_per_case(self.services.claims),
                sigint_cancels(parent, STOP_GRACE, self._hurry) as interrupt,
                # filed_per_case first: the dispatcher shows a case's warnings to its filing
                filed_per_case(self.config.pluginmanager.has_plugin("warnings")),
                dispatching(self.config.pluginmanager.has_plugin("warnings")),
                _compat.source_trees_cached(),
            ):
                if watchdog is not None:
                    watchdog.start()
                ended = False
                try:
                    await self._launch(loop, cases)
                    ended = self.exit_error is None
                except asyncio.CancelledError:
                    if interrupt.received:  # every case is torn down: now stop the session
                        raise KeyboardInterrupt from None
                    raise
                finally:
                    del self.item.stash[parent_task_key]
                    self.census.close()
                    if self.servers is not None:
                        self.servers.close()
                    self.resume_gc()  # in case the first steps never all ran (idempotent)
                    gc.unfreeze()  # the frozen objects go back to the collector
                    if watchdog is not None:
                        watchdog.stop()
                    # The reports still to build, and flush. Often most of them: the cases
                    # ended within a few iterations, and the parent resumes before the slices
                    # are done. The collector would walk every object of the run (unfrozen
                    # above) again and again while they are built; flush freezes them after.
                    with gc_paused():
                        self._build(None)
                    if not ended or self.report_error is not None:
                        # No teardown of the parent to wait for (Ctrl-C, pytest.exit()), or
                        # reporting broke: the last case's own teardown is reported now.
                        held = self.item.stash.get(held_teardown_key, None)
                        self.item.stash[held_teardown_key] = None
                        if held is not None:
                            self.pending.append(held[0])
                            self.flush()
                    with self.suspended_capture():
                        self.progress.erase()
                    # The flush above froze this run with the reports, so its cycles are never
                    # collected: let its tables sized for every case go.
                    if not self.tasks:
                        self.tasks, self.timeouts, self.case_reruns = set(), {}, {}
                        self.holds = self.services.holds = None
                        self.places, self.task_places = {}, {}
        if self.report_error is not None:
            raise self.report_error
        if self.exit_error is not None:  # every case is torn down: now stop the session
            raise self.exit_error

    def _plan_timeouts(self, cases: list[Case]) -> None:
        """Each case's timeout: asyncgroup's own where given (the decorator's, else the ini or
        command line default), else another plugin's for the test the case stands for (an
        integration's pytest_asyncgroup_case_timeout: pytest-timeout's, say); none under
        --pdb. Then the integrations learn how long the whole run can take."""
        settings = self.settings
        hook = self.config.hook
        own = None
        if not settings.debugging and settings.timeout is not None:
            own = CaseTimeout(settings.timeout)
        ask = (
            not settings.debugging
            and own is None
            and bool(hook.pytest_asyncgroup_case_timeout.get_hookimpls())
        )
        asked: dict[tuple[int, ...], CaseTimeout | None] = {}  # by test and marks
        for case in cases:
            timeout = own
            member: Member | None = getattr(case, "member", None)
            if member is not None and member.timeout is not None and not settings.debugging:
                # A test of a group with @concurrent_cases(timeout=...): as without the group.
                self.timeouts[id(case)] = CaseTimeout(member.timeout)
                continue
            if ask:
                item = member.item if member is not None else None
                key = (id(item), *map(id, case.marks))
                if key not in asked:
                    asked[key] = hook.pytest_asyncgroup_case_timeout(
                        item=item or self.item, marks=settings.marks_of(case, item)
                    )
                timeout = asked[key]
            if timeout is not None:  # most runs have none: no entry per case
                self.timeouts[id(case)] = timeout
        if hook.pytest_asyncgroup_run_start.get_hookimpls():
            hook.pytest_asyncgroup_run_start(parent=self.item, seconds=self._longest_run(cases))

    def _longest_run(self, cases: list[Case]) -> float | None:
        """Seconds the cases can take in all if each attempt of each case uses up its timeout
        twice (body, then teardown), with the cleanup and stop grace, and each case gets every
        rerun its rerun plugin allows (with the waits before them), in waves of
        max_concurrency cases."""
        if not cases:
            return 0.0
        longest = 0.0
        for case in cases:
            timeout = self.timeouts.get(id(case))
            if timeout is None or timeout.body_only:  # an untimed phase: no bound
                return None
            reruns = self._reruns(case)
            count, waits = reruns.most() if reruns is not None else (0, 0.0)
            attempt = 2 * timeout.seconds + CLEANUP_GRACE + 2 * STOP_GRACE
            longest = max(longest, (1 + count) * attempt + waits)
        waves = math.ceil(len(cases) / (self.settings.max_concurrency or len(cases)))
        return waves * longest

    def _case_filters(self, cases: list[Case]) -> dict[str, Filters]:
        """The warnings filters of the cases with filterwarnings marks of their own."""
        if not self.config.pluginmanager.has_plugin("warnings"):
            return {}  # as pytest: without its warnings plugin (-p no:warnings), no mark acts
        if not any(mark.name == "filterwarnings" for case in cases for mark in case.marks):
            return {}
        _, after, outer = parent_marks(self.item)
        after += outer  # those a hook added apply after the case's own, as pytest orders them
        found = {case.id: case_filters(case.marks, after) for case in cases}
        return {case_id: filters for case_id, filters in found.items() if filters is not None}

    async def _launch(self, loop: asyncio.AbstractEventLoop, cases: list[Case]) -> None:
        __tracebackhide__ = True
        limit = self.settings.max_concurrency
        slots = asyncio.Semaphore(limit) if limit else None
        if self.config.pluginmanager.has_plugin("asyncgroup-stepwise"):
            self.places = {id(case): place for place, case in enumerate(cases)}
        try:
            if slots is None:  # every case starts now
                # The collector stays paused while the tasks are made and take their first
                # steps: one loop iteration, as the callback is queued after all of them.
                self.resume_gc = pause_gc()
                for case in cases:
                    self._start(loop, case)
                loop.call_soon(self._first_steps_taken)
            else:
                for index, case in enumerate(cases):
                    await slots.acquire()
                    if self.stop_reason is not None:
                        self._not_started(cases[index:])
                        break
                    self._start(loop, case).add_done_callback(lambda _: slots.release())
            await self._all_ended()
        except BaseException:
            # Ctrl-C or the parent itself cancelled: every started case is cancelled and its
            # teardown runs before the parent gives up.
            self._cancel_all(None)
            await self._all_ended_after_stop()
            raise

    def _not_started(self, cases: list[Case]) -> None:
        """The cases a stop left unstarted. After fail_fast, skipped "cancelled: ..." as those
        it cancelled, so that the counts and ``-rs`` show them; after -x, --maxfail or a
        pytest.exit(), not reported, as the parametrized tests after the stop are not."""
        if self.stopped_by_fail_fast:
            for case in cases:
                self._report(case, [], None, f"cancelled: {self.stop_reason}")

    async def _all_ended(self) -> None:
        """Until every started case task has ended.

        One future that the last case to end resolves, rather than ``asyncio.wait`` on every
        task: that adds and removes a callback on each of 10,000 tasks.
        """
        while self.tasks:
            self.all_ended = self.loop.create_future()
            await self.all_ended

    async def _all_ended_after_stop(self) -> None:
        """Until every started case task has ended, once they are all cancelled: a further
        cancellation of the parent does not cut the wait short (pytest-asyncio cancels every
        task of the loop as it closes it after a Ctrl-C), or the cases that end after it would
        not be reported. Bounded, as each cancelled case is (see STOP_GRACE)."""
        while self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await self._all_ended()

    def _first_steps_taken(self) -> None:
        self.resume_gc()
        # What is alive now lives until its case ends: the collector need not walk it again
        # and again as the run grows (unfrozen when the parent ends).
        gc.freeze()

    def _start(self, loop: asyncio.AbstractEventLoop, case: Case) -> asyncio.Task[None]:
        # A case with no rerun plugin runs its one attempt as its task: no coroutine of an
        # attempt loop is kept for each sleeping case.
        task: asyncio.Task[Any] = self.census.create_task(
            self._run_case(case) if self.with_reruns else self._run_one(case, self.once)
        )
        self.tasks.add(task)
        if self.places:  # --sw
            self.task_places[task] = self.places.get(id(case), -1)
        # In the run's context: by default each callback gets a new copy of the current one.
        task.add_done_callback(self.case_done, context=self.context)
        return task

    def _case_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.task_places.pop(task, None)
        ended = self.all_ended
        if not self.tasks and ended is not None and not ended.done():
            ended.set_result(None)
        # A case task reports its own failures; an exception escaping it is asyncgroup's bug,
        # which must fail the parent rather than be lost. But KeyboardInterrupt: Ctrl-C that
        # cut its teardown short (see _run_one), which has left the loop already; the other
        # cases' reports are still built as they end.
        error = None if task.cancelled() else task.exception()
        if error is not None and not isinstance(error, KeyboardInterrupt):
            self.report_error = self.report_error or error

    def _blocked(self, task: asyncio.Task[Any] | None, seconds: float, line: str) -> None:
        """The watchdog saw ``task`` block the loop: tell it in that case's report.

        ``task`` None: asyncgroup itself blocked it (``line`` says doing what): a warning on
        the parent, issued at once (outside any case), if a case was running then: the warning
        protects running cases, and the final flush of reports hurts none.
        """
        if task is None:
            # A case task that has ended stays in self.tasks until its done callback runs,
            # which can come after the report building queued in its last step.
            if all(case_task.done() for case_task in self.tasks):
                return
            note = f"asyncgroup itself blocked the event loop for {seconds:.2f} s {line}"
            reporter = self.reporter
            try:
                warnings.warn_explicit(
                    AsyncgroupWarning(note),
                    AsyncgroupWarning,
                    reporter.test_path,
                    reporter.test_line,
                )
            except Exception as exc:  # -W error: the warning fails the parent
                self.report_error = self.report_error or exc
        elif task in self.tasks:
            note = f"the case blocked the event loop for at least {seconds:.2f} s at {line}"
            self.notes.setdefault(task, []).append(note)

    def _cancel_all(
        self, reason: str | None, sparing: asyncio.Task[Any] | None = None, after: int | None = None
    ) -> None:
        """Cancel the started cases (but ``sparing``; with ``after``, only those whose tests
        would run after the test at that place)."""
        self.stop_reason = self.stop_reason or reason or "the parent test was interrupted"
        for task in self.tasks:
            if task is not sparing and (after is None or self.task_places.get(task, -1) > after):
                task.cancel()
                self.cancelled_from_outside.add(task)
                if task not in self.cutoffs:  # a stop is bounded: see STOP_GRACE
                    self.cutoffs[task] = Deadline(
                        task, STOP_GRACE, repeat=True, on_expire=self._cut_off
                    )
                    running = self._running(task)
                    if running is not None and task not in self.watched:
                        self.stopping[task] = (running, False)

    def _cut_off(self, deadline: Deadline) -> None:
        """The cut-off has just cancelled the task again (every STOP_GRACE seconds): the body
        or fixture code it was running when cancelled before, if it still is, is given up on
        at the cut-off after that. The cut-off's own ticks, rather than timers of _watch's
        started beside it, so that the code is cancelled exactly twice: two timers due at one
        time could wake it in between and cancel it a third time."""
        task = deadline.task
        running = self._running(task)
        if running is None or task in self.watched:  # a timeout's watch (see _watch) goes on
            self.stopping.pop(task, None)
            return
        seen = self.stopping.get(task)
        if seen is None or seen[0] is not running:  # code that started since the last tick
            self.stopping[task] = (running, False)
        elif not seen[1]:
            self.stopping[task] = (running, True)
        else:
            del self.stopping[task]
            self._give_up(task, running, f"the run stopped: {self.stop_reason}")

    def _running(self, task: asyncio.Task[Any]) -> Any:
        """What the case task runs now of the test's own async code, which asyncgroup can
        close: its body's coroutine, or a step of an async fixture (see CaseFixtures.step);
        None in between (asyncgroup's own code, a plain fixture)."""
        body = self.bodies.get(task)
        if body is not None:
            return body
        fixtures = self.fixtures.get(task)
        return fixtures.step if fixtures is not None else None

    def _watch(self, task: asyncio.Task[Any], why: str) -> None:
        """asyncgroup cancelled the task for its timeout (``why``): if its body, or the async
        fixture code it was running, is still running ``STOP_GRACE`` seconds later, it is
        cancelled again, and ``STOP_GRACE`` after that given up on. (Once the run stops, the
        cut-off does this: see _cut_off.)"""
        running = self._running(task)
        # Once the run has stopped, its cut-off watches the task: a timeout that comes later
        # must not start the grace again.
        if running is not None and task not in self.watched and task not in self.cutoffs:
            self.watched.add(task)
            self.loop.call_later(STOP_GRACE, self._still_running, task, running, why, True)

    def _still_running(self, task: asyncio.Task[Any], running: Any, why: str, again: bool) -> None:
        if self._running(task) is not running:  # it ended, as cancelled code should
            self.watched.discard(task)
        elif again:
            task.cancel()
            self.loop.call_later(STOP_GRACE, self._still_running, task, running, why, False)
        else:
            self._give_up(task, running, why)

    def _hurry(self) -> None:
        """A second Ctrl-C: the cases' code still running is closed now (see _give_up), not
        once the stop's grace is over; each case is reported cancelled by the interrupt, as
        the cases that ended when it was cancelled, and its (other) fixtures are torn down."""
        if self.stop_reason is None:  # the first Ctrl-C's cancellation has not run yet
            self._cancel_all(None)
        for task in list(self.tasks):
            running = self._running(task)
            if running is not None:
                self.stopping.pop(task, None)
                self._give_up(task, running, None)

    def _give_up(self, task: asyncio.Task[Any], running: Any, why: str | None) -> None:
        """A body or a fixture that catches every CancelledError and goes on would keep its
        case, its parent and the session running for ever: it is closed where it waits
        (GeneratorExit there runs its ``finally`` blocks), and its task, woken, fails the case
        (see _given_up; ``why`` None: cancelled, not failed, see _hurry) and tears its (other)
        fixtures down as usual."""
        self.watched.discard(task)
        if why is not None:
            fixtures = self.fixtures.get(task)
            fixture = (
                fixtures.step_name
                if fixtures is not None and running is not self.bodies.get(task)
                else None
            )
            self.abandoned[task] = (why, waiting_at(task), fixture)
        # RuntimeError: it caught GeneratorExit as well and awaited again; nothing more can be
        # done from outside. Whatever else its finally blocks raise, it fails for this (or,
        # hurried, is cancelled).
        with contextlib.suppress(Exception, GeneratorExit):
            if inspect.iscoroutine(running):
                running.close()
            else:  # an async generator's __anext__(): GeneratorExit closes the generator
                self.fixtures[task].step = None
                running.throw(GeneratorExit)
        task.cancel()  # its await of the closed coroutine or generator ends at once

    def _given_up(
        self, case: Case, task: asyncio.Task[Any], phase: str = "body"
    ) -> BaseException | None:
        """The failure of a case whose body or fixture was given up on (see _give_up), or
        None; ``phase``: what was running ("body", "setup", "teardown")."""
        abandoned = self.abandoned.pop(task, None)
        if abandoned is None:
            return None
        _uncancel(task)  # the teardown runs in a task not being cancelled
        why, waiting, fixture = abandoned
        frames = user_frames(waiting)
        at = " at the line marked >" if frames is not None else ""
        if fixture is None:
            error = CancellationIgnoredError(
                f"case {case.id!r} ignored its cancellation ({why}): its body went on for "
                f"{2 * STOP_GRACE:g} s after asyncgroup cancelled it twice, so asyncgroup "
                f"closed it{at} and tore its fixtures down. A coroutine that catches "
                "CancelledError must re-raise it once it has cleaned up."
            )
        else:
            error = CancellationIgnoredError(
                f"case {case.id!r}: fixture {fixture!r} ignored its cancellation ({why}): its "
                f"{phase} went on for {2 * STOP_GRACE:g} s after asyncgroup cancelled it, and "
                f"after it cancelled it again, so asyncgroup closed it{at} and tore the case's "
                "other fixtures down. A fixture that catches CancelledError must re-raise it "
                "once it has cleaned up."
            )
        return error.with_traceback(frames)

    def _member(self, case: Case) -> Member:
        member: Member | None = getattr(case, "member", None)
        if member is None:
            return self.own
        if member.reporter is None:
            assert member.item is not None
            member.reporter = CaseReporter(
                member.item,
                self.settings.every_phase,
                self.reporter.log_formatter,
                running=self.item,
                case_is_item=member.case_is_item,
                empty_setups=self.settings.empty_setups,
            )
        return member

    async def _run_case(self, case: Case) -> None:
        __tracebackhide__ = True
        reruns = self._reruns(case)
        attempt = 0
        while True:
            if reruns is not None:  # in the case's own task: its fixtures see it
                execution_count.set(attempt + 1)
            again = await self._run_one(case, Attempt(reruns, attempt))
            if again is None:
                return
            attempt += 1
            # In the case's task: the other cases go on meanwhile; a stop cancels the wait.
            try:
                await asyncio.sleep(again)
            except asyncio.CancelledError:
                self._cancelled(case, Attempt(reruns, attempt))
                raise

    def _file_warnings(self, case: Case) -> None:
        """File what the case warned in its attempt that ends, under its node id."""
        output = current_output.get()  # the case's, set in this very task by _run_one
        if output is not None and output.warnings:
            reporter = self._member(case).reporter
            assert reporter is not None
            reporter.file_warnings(case.id, output.warnings)
            output.warnings = []  # filed: a rerun cancelled before it starts has none

    def _reruns(self, case: Case) -> CaseReruns | None:
        """What the rerun plugin says about the case (asked once per case), or None."""
        if not self.with_reruns:
            return None
        if id(case) not in self.case_reruns:
            member: Member | None = getattr(case, "member", None)  # a group's test
            item = member.item if member is not None else None
            self.case_reruns[id(case)] = self.reruns_hook(
                item=item or self.item, marks=self.settings.marks_of(case, item)
            )
        return self.case_reruns[id(case)]

    def _cancelled(self, case: Case, attempt: Attempt) -> None:
        """A case the run stopped between two attempts: skipped, as the cases not yet done."""
        if self.stop_reason is not None:
            self._report(case, [], None, f"cancelled: {self.stop_reason}", attempt=attempt)

    async def _run_one(self, case: Case, attempt: Attempt) -> float | None:
        """Run one attempt of the case; the seconds to wait before it runs again, or None.

        Without a rerun plugin, this is the case's task itself (see _start): what the case
        warned is filed under its node id when it ends."""
        __tracebackhide__ = True
        try:
            member = self._member(case)
            reported, xfail = self._reported_before_setup(case, member, attempt)
            if reported:
                return None
            output = CaseOutput(member.reporter, case.id)
            current_output.set(output)
            if self.case_filters:
                enter_case(self.case_filters.get(case.id))
            task = asyncio.current_task()
            assert task is not None
            timeout = self.timeouts.get(id(case))
            if timeout is not None and debugger_active():
                timeout = None
            body_only = timeout is not None and timeout.body_only
            deadline = None
            if timeout is not None and not body_only:
                deadline = self._deadline(task, timeout)
            bound_args = self._bound_args(member)
            fixtures = None
            if self.per_case_fixtures or member is not self.own:
                fixtures = self.fixtures[task] = self._case_fixtures(
                    case, output, member, bound_args
                )
            phases: list[Phase] = []
            cancelled: asyncio.CancelledError | None = None  # from outside: not a case failure
            try:
                try:
                    if fixtures is None:
                        kwargs: dict[str, Any] | None = {**self.shared_arguments, **case.values}
                    else:
                        kwargs = await self._setup(case, fixtures, member, phases, deadline, output)
                        if member.case_is_item:  # as pytest fills a test's funcargs in its setup
                            assert member.item is not None
                            member.item.funcargs.update({**self.item.funcargs, **fixtures.values})
                    if kwargs is not None:
                        if body_only:  # pytest-timeout's func_only: fixtures are not timed
                            assert timeout is not None
                            deadline = self._deadline(task, timeout)
                        if xfail is None and fixtures is not None:  # marks added in setup
                            xfail = self._added_xfail(member, fixtures)
                        if fixtures is not None:
                            self._made_reports(case, member, fixtures, phases, xfail)
                        try:
                            if xfail is not None and xfail.reason.startswith("[NOTRUN]"):
                                _not_run(phases, xfail)  # as pytest: xfail(run=False) at the call
                            else:
                                # The body is awaited right here, not in a coroutine of its own:
                                # one frame of asyncgroup's above each sleeping case's body.
                                self._call_begins(task, phases, output)
                                try:
                                    # Its skip, xfail or failure is the call's.
                                    if self.runtest_call is not None:
                                        self.runtest_call(item=self.fixtures[task].node)
                                    if member.is_async:
                                        self.bodies[task] = member.func(*bound_args, **kwargs)
                                        kwargs = None  # the body's own frame has them
                                        await self._stepped(case, member, "call", self.bodies[task])
                                    else:
                                        if self._marked_asyncio(case, member, fixtures):
                                            member.reporter.warn_not_async(case.id)
                                        await self._call_in_thread(
                                            case, member, bound_args, kwargs, deadline, fixtures
                                        )
                                except BaseException as exc:
                                    self._call_ended(case, task, phases, deadline, output, exc)
                                else:
                                    self._call_ended(case, task, phases, deadline, output)
                                finally:
                                    self.bodies.pop(task, None)
                                    mark = case_mark.get()
                                    assert (mark is None) is self.tasks_run_on
                                    # Set again rather than reset with a token that each
                                    # sleeping case would keep: it was None (see _call_begins).
                                    case_mark.set(None)
                                    if mark is None:  # a wider loop scope: its tasks run on
                                        pass
                                    elif task in self.cancelled_from_outside or (
                                        deadline is not None and deadline.expired
                                    ):  # its libraries clean up first
                                        await self._settle(task, mark, cut_off=True)
                                    else:  # its tasks run on while its fixtures are torn down
                                        left = await left_running(self.census, mark, self.root)
                                        self.unsettled[task] = (mark, left)
                            if xfail is None and fixtures is not None:  # marks added in the call
                                xfail = self._added_xfail(member, fixtures, run=True)
                        finally:
                            if body_only and deadline is not None:
                                deadline.stop()
                                deadline = None
                        if fixtures is not None and fixtures.failed_steps:
                            _fail_for_steps(phases[-1], fixtures.failed_steps)
                except asyncio.CancelledError as exc:
                    cancelled = exc
                    if phases and not phases[-1].ended:
                        phases[-1].end(exc, output)
                    _uncancel(task)  # the teardown runs in a task not being cancelled, as in pytest
            finally:  # KeyboardInterrupt included: a started case is always torn down
                if fixtures is not None:
                    self._made_reports(case, member, fixtures, phases, xfail)
                    try:
                        await self._teardown(case, member, fixtures, phases, deadline, output)
                        self._made_reports(case, member, fixtures, phases, xfail)
                    except asyncio.CancelledError as exc:
                        cancelled = cancelled or exc
                    except KeyboardInterrupt:
                        # Ctrl-C in its teardown (a second one, or a first the blocked loop
                        # did not see in time): as pytest, its phases that ended are reported,
                        # the teardown that did not end is not.
                        ended = [phase for phase in phases if phase.ended]
                        properties = fixtures.user_properties
                        self._report(case, ended, xfail, properties=properties, attempt=attempt)
                        raise
                self.fixtures.pop(task, None)
                cancelled = await self._wound_up(task, deadline, cancelled)
                notes = self.notes.pop(task, None)
                output.end()
            return await self._reported(case, attempt, phases, xfail, fixtures, cancelled, notes)
        finally:
            self._file_warnings(case)

    def _reported_before_setup(
        self, case: Case, member: Member, attempt: Attempt
    ) -> tuple[bool, Xfail | None]:
        """Whether the case is reported without a setup of its own, as pytest reports its test at
        its setup: skipped by a mark, failed in its setup (a wider-scoped fixture failed, or a
        skipif/xfail condition failed to evaluate), or xfail(run=False); and its xfail mark."""
        __tracebackhide__ = True  # a condition's error shows none of asyncgroup's frames
        setup_error: BaseException | None
        try:
            skip_reason, xfail = self.settings.case_marks(case, member.item)
        except pytest.fail.Exception as error:
            # A skipif/xfail condition that fails to evaluate: as pytest, that case's setup
            # error ("Error evaluating 'xfail' condition"); the other cases run.
            skip_reason, xfail, setup_error = None, None, error
        else:
            setup_error = getattr(case, "setup_error", None) or self.setup_error
        stopped: BaseException | None
        if skip_reason is not None:  # as pytest's skipping plugin: a skip at setup
            stopped = pytest.skip.Exception(skip_reason)
        elif setup_error is None and xfail is not None and xfail.reason.startswith("[NOTRUN]"):
            # As pytest: xfail(run=False) acts at setup ("XFAIL at setup of test_x[3]").
            stopped = pytest.xfail.Exception(xfail.reason)
        else:
            stopped = setup_error
        if stopped is None:
            return False, xfail
        # A setup of no length that raised it, and a teardown with nothing to tear down, as
        # pytest reports its test (report writers show the teardown, see _outcome.EVERY_PHASE).
        setup = Phase("setup")
        setup.begin()
        setup.end(stopped)
        phases = [setup, Phase.empty("teardown", setup.stop)]
        # A mark's xfail covers a setup error, not a skip nor its own run=False.
        self._report(case, phases, xfail if stopped is setup_error else None, attempt=attempt)
        return True, xfail

    async def _wound_up(
        self,
        task: asyncio.Task[Any],
        deadline: Deadline | None,
        cancelled: asyncio.CancelledError | None,
    ) -> asyncio.CancelledError | None:
        """After the case's teardown: the tasks its body left running are settled (as
        pytest-asyncio closing the test's loop after teardown) and its timers stopped. The
        CancelledError to raise once it is reported: ``cancelled``, or one that came meanwhile."""
        unsettled = self.unsettled.pop(task, None)
        if unsettled is not None:
            try:
                await self._settle(task, unsettled[0], left=unsettled[1])
            except asyncio.CancelledError as exc:
                cancelled = cancelled or exc
        if deadline is not None:
            deadline.cancel()
        cutoff = self.cutoffs.pop(task, None)
        if cutoff is not None:
            cutoff.cancel()
            self.stopping.pop(task, None)
        if self.watchdog is not None:
            self.watchdog.claim(task)  # a stall in this very step is this case's
        return cancelled

    async def _reported(
        self,
        case: Case,
        attempt: Attempt,
        phases: list[Phase],
        xfail: Xfail | None,
        fixtures: CaseFixtures | None,
        cancelled: asyncio.CancelledError | None,
        notes: list[str] | None,
    ) -> float | None:
        """The ended attempt reported (see _report); the seconds to wait before the case runs
        again, or None. ``cancelled``, if any, is raised once it is."""
        __tracebackhide__ = True
        exiting = [p for p in phases if isinstance(p.error, pytest.exit.Exception)]
        if exiting:  # as pytest: the phase that stops the session has no report, nor the rest
            phases = phases[: phases.index(exiting[0])]
            if not any(phase.when == "call" for phase in phases):
                return None
        again = None
        properties = fixtures.user_properties if fixtures is not None else None
        if cancelled is None or _finished(phases):
            # Cancelled only in its teardown, the case still has an outcome to report.
            if notes:
                self._warn(case, phases, notes)
            if cancelled is None and attempt.reruns is not None:
                # Whether the case runs again is decided when its reports are built.
                attempt.decided = asyncio.get_running_loop().create_future()
            self._report(case, phases, xfail, notes=notes, properties=properties, attempt=attempt)
            if attempt.decided is not None:
                try:
                    again = await attempt.decided
                except asyncio.CancelledError:
                    # Stopped before the decision (the future is cancelled with the task, and
                    # the attempt is the case's last), or after one to run again.
                    if not attempt.decided.cancelled() and attempt.decided.result() is not None:
                        self._cancelled(case, Attempt(attempt.reruns, attempt.index + 1))
                    raise
        elif self.stop_reason is not None:  # with its phases: a teardown error is reported
            cut_off = f"cancelled: {self.stop_reason}"  # and what it recorded, as its test's
            self._report(case, phases, xfail, cut_off, properties=properties, attempt=attempt)
        if cancelled is not None:
            raise cancelled
        return again

    def _deadline(self, task: asyncio.Task[Any], timeout: CaseTimeout) -> Deadline:
        """The case's deadline, from now: ``timeout.seconds`` for ``task``."""
        return Deadline(
            task,
            timeout.seconds,
            source=timeout.source,
            holds=self.holds,
            on_expire=self._timed_out,
        )

    def _timed_out(self, deadline: Deadline) -> None:
        self._watch(deadline.task, f"by its timeout of {deadline.seconds:g} s")

    def _error(
        self,
        exc: BaseException,
        deadline: Deadline | None,
        where: str,
        slowest: Callable[[], SlowestStep | None] | None = None,
    ) -> BaseException:
        """What a phase's exception means for the case.

        A cancellation caused by the case's deadline is its timeout (``slowest``: its fixtures'
        sync step that ran longest, named if it took half the time); one from outside (Ctrl-C,
        fail_fast, -x) is re-raised; a case's own CancelledError is its failure.
        KeyboardInterrupt stops the session; any other BaseException (SystemExit included)
        fails only this case.
        """
        if isinstance(exc, asyncio.CancelledError):
            if deadline is not None and deadline.expired:
                # A sync fixture step that ate the time the cut-off came for, or else a line
                # that blocked the loop (the traceback shows the await the cut-off reached).
                step = slow_step_hint(deadline, slowest) if slowest is not None else ""
                hint = self.plan.loop_hint + (step or blocked_hint(deadline))
                error = timeout_error(deadline, where, exc.__traceback__, hint)
                error.__cause__ = exc.__cause__  # what was cut off, eventually()'s last failure
                return error
            if asyncio.current_task() in self.cancelled_from_outside:
                raise exc
            return exc
        if isinstance(exc, KeyboardInterrupt):
            raise exc
        if isinstance(exc, pytest.exit.Exception):
            # As pytest.exit() in a parametrized test: the session stops, once every started
            # case is torn down (this one goes on to its teardown).
            self.exit_error = self.exit_error or exc
            self._cancel_all(f"pytest.exit: {exc.msg}", sparing=asyncio.current_task())
        elif where != "fixture teardown" and asyncio.current_task() in self.cancelled_from_outside:
            # Whatever its setup or body does once a stop cancelled it (its cleanup failing,
            # say), the case was cut off: cancelled, as its parametrized test would not have run.
            raise asyncio.CancelledError from exc
        return exc

    def _swallowed(self, deadline: Deadline | None, where: str) -> BaseException | None:
        """The error of a phase that ended normally although its case was cancelled: it caught
        the CancelledError and went on. Past its timeout, it timed out; cancelled by a stop
        (fail_fast, -x, Ctrl-C), it is cancelled all the same (raised again), as its
        parametrized test would not have run."""
        error = expired_error(deadline, where)
        stopping = bool(self.cancelled_from_outside)  # most runs never stop: no look-up per case
        if error is None and stopping and asyncio.current_task() in self.cancelled_from_outside:
            raise asyncio.CancelledError
        return error

    def _case_fixtures(
        self, case: Case, output: CaseOutput, member: Member, bound_args: tuple[Any, ...]
    ) -> CaseFixtures:
        return CaseFixtures(
            case,
            member,
            case.values,
            output,
            self.services,
            instance=bound_args[0] if bound_args is not member.bound_args else None,
        )

    def _made_reports(
        self,
        case: Case,
        member: Member,
        fixtures: CaseFixtures,
        phases: list[Phase],
        xfail: Xfail | None,
    ) -> None:
        """Each phase of the case that has ended since, through the project's
        pytest_runtest_makereport hooks, as pytest makes a test's report when each phase ends
        (see _casereports): the report they return is the phase's. A hook that raises fails
        the parent, as reporting that breaks does."""
        if self.makereport is None or self.report_error is not None:
            return
        marks = [mark.name for mark in case.marks]
        for index, phase in enumerate(phases):
            if not phase.ended or phase.report is not None:
                continue
            try:
                with self._own_work(f"making the {phase.when} report of {case.id!r}"):
                    report = member.reporter.phase_report(
                        case.id, marks, phases[: index + 1], xfail
                    )
                    call = _compat.call_info(phase.error, report)
                    node = fixtures.node
                    # As pytest's: what was recorded for the test by the end of the phase
                    # (record_property, and a test of a group's item's user_properties).
                    recorded = fixtures.user_properties
                    if node.user_properties is not recorded:
                        recorded = [*recorded, *node.user_properties]
                    report.user_properties = list(recorded)
                    phase.report = _casereports.run(self.makereport, node, report, call)
            except Exception as exc:  # a hook's bug
                self.report_error = self.report_error or exc
                self._cancel_all("reporting failed", sparing=asyncio.current_task())
                return

    def _bound_args(self, member: Member) -> tuple[Any, ...]:
        """``self`` for a case of a test in a class: an instance of its own, made as pytest
        makes one for each parametrized test (a test of a group has its item's; a classmethod
        its class)."""
        if not member.bound_args or member.case_is_item or isinstance(member.bound_args[0], type):
            return member.bound_args
        item = member.item or self.item
        if not isinstance(item.parent, pytest.Class):
            return member.bound_args
        instance = item.parent.newinstance()  # type: ignore[no-untyped-call]
        return (instance,)

    def _added_xfail(
        self, member: Member, fixtures: CaseFixtures, run: bool = False
    ) -> Xfail | None:
        """An xfail mark added to the case in its setup (or, ``run``, its call) by
        ``request.applymarker`` or ``request.node.add_marker``: pytest evaluates a test's
        xfail marks again at its call and after it, for marks added meanwhile."""
        node = fixtures.made_node
        if node is None or not (member.case_is_item or node.added_markers):
            return None
        xfailed = _compat.evaluate_xfail(node, list(node.iter_markers("xfail")))
        if xfailed is None:
            return None
        reason = xfailed.reason if xfailed.run or run else f"[NOTRUN] {xfailed.reason}"
        return Xfail(reason, bool(xfailed.strict), xfailed.raises)

    async def _setup(
        self,
        case: Case,
        fixtures: CaseFixtures,
        member: Member,
        phases: list[Phase],
        deadline: Deadline | None,
        output: CaseOutput,
    ) -> dict[str, Any] | None:
        """The arguments for the test function, or None when a fixture's setup failed."""
        __tracebackhide__ = True
        task = asyncio.current_task()
        assert task is not None
        setup = Phase("setup")
        phases.append(setup)
        setup.begin()
        output.begin("setup")
        try:
            if self.runtest_setup is not None:  # its skip, xfail or failure is the setup's
                _casereports.run_setup(self.runtest_setup, fixtures.node)
            kwargs = await self._stepped(case, member, "setup", fixtures.setup(member.parameters))
        except BaseException as exc:
            given_up = self._given_up(case, task, "setup")
            setup.end(
                given_up or self._error(exc, deadline, "fixture setup", fixtures.slowest), output
            )
            return None
        error = (
            self._given_up(case, task, "setup")
            or self._swallowed(deadline, "fixture setup")
            or overdue_error(deadline, "fixture setup", fixtures.slowest)
            or warn_unraisable(output)
        )
        setup.end(error, output)
        return kwargs if error is None else None

    def _call_begins(
        self, task: asyncio.Task[Any], phases: list[Phase], output: CaseOutput
    ) -> None:
        """The case's call phase begins (its body is awaited by _run_one, then _call_ended).
        The tasks its body starts are the case's: its mark is set in its task's context,
        where none was (a case's task is made in the run's context, see _start)."""
        call = Phase("call")
        phases.append(call)
        if not self.tasks_run_on:
            case_mark.set(CaseMark(task))
        call.begin()
        output.begin("call")

    def _call_ended(
        self,
        case: Case,
        task: asyncio.Task[Any],
        phases: list[Phase],
        deadline: Deadline | None,
        output: CaseOutput,
        exc: BaseException | None = None,
    ) -> None:
        """The case's call phase (the last of ``phases``) ends, its body having raised ``exc``
        (or returned, None)."""
        __tracebackhide__ = True
        call = phases[-1]
        body = _body(phases, deadline)  # the body, in a timeout's message
        if exc is not None:
            error = self._given_up(case, task) or self._error(exc, deadline, body)
            warn_unraisable(output)  # the body's own error is the one reported
            call.end(error, output)
        else:
            stopped = (
                self._given_up(case, task)
                or self._swallowed(deadline, body)
                or blocked_body_error(deadline, body)
            )
            unraisable = warn_unraisable(output)
            call.end(stopped or unraisable, output)

    def _marked_asyncio(self, case: Case, member: Member, fixtures: CaseFixtures | None) -> bool:
        """Whether a plain def case's test has an asyncio mark (its own, its parameter set's,
        its class's or module's, or one a fixture added to its node): pytest-asyncio warns of
        that test when it calls it. The mark asyncgroup gave the parent is not the test's (see
        CaseTable.asyncio_mark)."""
        node = fixtures.made_node if fixtures is not None else None
        if node is not None:
            return node.get_closest_marker("asyncio") is not None
        return any(mark.name == "asyncio" for mark in self.settings.marks_of(case, member.item))

    async def _settle(
        self,
        task: asyncio.Task[Any],
        mark: CaseMark,
        cut_off: bool = False,
        left: dict[Any, str] | None = None,
    ) -> None:
        """Cancel the tasks the case's body left running and close the servers it left
        serving, noted for the case's report."""
        leftovers = await settle(self.census, mark, self.root, cut_off=cut_off, left=left)
        if self.servers is not None:
            leftovers += self.servers.close_left(mark, "before" if cut_off else "after")
        if leftovers:
            self.notes.setdefault(task, []).extend(leftovers)

    async def _call_in_thread(
        self,
        case: Case,
        member: Member,
        bound_args: tuple[Any, ...],
        kwargs: dict[str, Any],
        deadline: Deadline | None,
        fixtures: CaseFixtures | None,
    ) -> None:
        """A blocking body: in a thread; on timeout, the thread's stack is the report's."""
        __tracebackhide__ = True
        steps = self._steps(case, member, "call", threaded=True)
        thread = CaseThread(case.id, member.func, bound_args, kwargs, steps)
        try:
            returned = await thread.run()
        except asyncio.CancelledError:
            timed_out = deadline is not None and deadline.expired
            if fixtures is not None:  # the body sets no more fixtures up (see get_now)
                fixtures.stopped = "timed out" if timed_out else "cancelled"
            stack = thread.stack() if timed_out else None  # where the timeout found it
            if not timed_out and deadline is not None:
                # Stopped first: its timeout expiring in the wait below is not what ended it
                # (the teardown gets a timeout of its own, see _teardown).
                deadline.cancel()
            # Stopped (its timeout, -x, fail_fast, Ctrl-C): its fixtures are torn down next, and
            # a thread cannot be cut off, so it first gets a bounded while to finish; a further
            # stop ends the wait.
            with contextlib.suppress(asyncio.CancelledError):
                await thread.ended(CLEANUP_GRACE)
            if not timed_out:
                raise
            assert deadline is not None
            raise timeout_error(deadline, "body (in its thread)", stack) from None
        finally:
            if thread.ended_first:
                # A stop (Ctrl-C, -x) cancelled the case once its body had ended in its thread:
                # reported by how it ended, not as cut off by the stop (see _error, _swallowed).
                # Its teardown runs in a task not being cancelled, as in pytest.
                task = asyncio.current_task()
                assert task is not None
                self.cancelled_from_outside.discard(task)
                _uncancel(task)
        if thread.ended_first and deadline is not None and deadline.expired:
            # Its timeout came as its body returned, before the loop saw it return: timed out,
            # as the loop could tell (not a body that caught the CancelledError, see _swallowed).
            raise timeout_error(deadline, "body (in its thread)", None) from None
        if returned is not None:
            # pytest warns of a test that returns a value when it calls the test: the case's
            # twin gets that warning; issued from the case's task, it is filed under the case,
            # and an error under -W error fails its call. (pytest-asyncio gives an async test
            # none.)
            member.reporter.warn_returned(case.id, returned)

    async def _teardown(
        self,
        case: Case,
        member: Member,
        fixtures: CaseFixtures,
        phases: list[Phase],
        deadline: Deadline | None,
        output: CaseOutput,
    ) -> None:
        """Tear the case's fixtures down, with a timeout of its own as long as the case's; under
        pytest-timeout's, with what is left of it, as its timer spans its test's setup, call
        and teardown (once it ran out, the teardown gets the time again, to stay bounded)."""
        __tracebackhide__ = True
        if deadline is not None and deadline.source and not deadline.used_up():
            deadline.go_on()
        elif deadline is not None:
            deadline.restart()
        # As pytest's tmp_path retention reads it: the call's outcome; no call counts as passed.
        call = next((phase for phase in phases if phase.when == "call"), None)
        fixtures.passed = call is None or call.error is None
        task = asyncio.current_task()
        assert task is not None
        teardown = Phase("teardown")
        phases.append(teardown)
        teardown.begin()
        output.begin("teardown")
        try:
            # Every finalizer runs, even when one is cancelled.
            name = member.reporter.nodeid(case.id).rpartition("::")[2]
            node = f"<{type(member.item or self.request.node).__name__} {name}>"
            await self._stepped(case, member, "teardown", self._torn_down(fixtures, node))
        except asyncio.CancelledError as exc:
            given_up = self._given_up(case, task, "teardown")
            if given_up is None and (deadline is None or not deadline.expired):
                teardown.end(None, output)  # torn down; the cancellation is not the case's error
                raise
            teardown.end(
                given_up or self._error(exc, deadline, "fixture teardown", fixtures.slowest),
                output,
            )
        except BaseException as exc:
            given_up = self._given_up(case, task, "teardown")
            teardown.end(
                given_up or self._error(exc, deadline, "fixture teardown", fixtures.slowest),
                output,
            )
        else:
            expired = expired_error(deadline, "fixture teardown") or overdue_error(
                deadline, "fixture teardown", fixtures.slowest
            )
            teardown.end(expired or warn_unraisable(output), output)
        finally:
            warn_unraisable(output)  # left after a failed teardown: warned, not lost

    async def _torn_down(self, fixtures: CaseFixtures, node: str) -> None:
        """The project's pytest_runtest_teardown hooks for the case, then its fixtures' teardown,
        which runs whatever they raise (their error is the teardown's unless a finalizer's
        comes after it). pytest tells them the test that runs next: not known here (None)."""
        try:
            if self.runtest_teardown is not None:
                self.runtest_teardown(item=fixtures.node, nextitem=None)
        finally:
            await fixtures.teardown(node)

    def _steps(
        self, case: Case, member: Member, when: str, threaded: bool = False
    ) -> list[CaseSteps]:
        """What integrations run around each step of this phase of the case (see _steps)."""
        if not self.with_steps:
            return []
        reporter = member.reporter
        assert reporter is not None
        item = member.item or self.item
        nodeid = reporter.nodeid(case.id)
        steps: list[CaseSteps] = self.phase_hook(
            item=item, nodeid=nodeid, when=when, threaded=threaded
        )
        return steps

    def _stepped(
        self, case: Case, member: Member, when: str, awaitable: Awaitable[_T]
    ) -> Awaitable[_T]:
        """``awaitable``, a phase of the case, with the integrations' steps around its steps."""
        steps = self._steps(case, member, when)
        return stepped(awaitable, steps) if steps else awaitable

    def _report(
        self,
        case: Case,
        phases: list[Phase],
        xfail: Xfail | None,
        skip_reason: str | None = None,
        notes: list[str] | None = None,
        properties: list[tuple[str, object]] | None = None,
        attempt: Attempt | None = None,
    ) -> None:
        """Hand the case's phases over: its reports are built and written outside its task."""
        self.unbuilt.append((case, phases, xfail, skip_reason, notes, properties, attempt))
        if self.settings.debugging:
            self._build(None)
        elif not self.build_scheduled:
            self.build_scheduled = True
            asyncio.get_running_loop().call_soon(self._build, _REPORT_SLICE, context=self.context)

    def _build(self, budget: float | None) -> None:
        """Build reports for ``budget`` seconds (None: all of them), write them, and go on later."""
        self.build_scheduled = False
        end = time.perf_counter() + budget if budget is not None else None
        while self.unbuilt and self.report_error is None:
            self._build_one(*self.unbuilt.popleft())
            if end is not None and time.perf_counter() > end:
                break
        self.flush()
        if self.unbuilt and self.report_error is None and budget is not None:
            self.build_scheduled = True
            asyncio.get_running_loop().call_soon(self._build, budget, context=self.context)

    def _build_one(
        self,
        case: Case,
        phases: list[Phase],
        xfail: Xfail | None,
        skip_reason: str | None,
        notes: list[str] | None,
        properties: list[tuple[str, object]] | None,
        attempt: Attempt | None,
    ) -> None:
        member = self._member(case)
        try:
            # Timed for the watchdog as _own_work times, without a context manager (and its
            # label) made for each of 10,000 cases.
            started = time.perf_counter()
            reports = member.reporter.reports(
                case.id,
                (m.name for m in case.marks),
                phases,
                xfail,
                skip_reason,
                notes,
                properties,
                case,
            )
            took = time.perf_counter() - started
            if self.watchdog is not None and took > self.watchdog.threshold:
                self._blocked(None, took, f"building the report of case {case.id!r}")
            if attempt is not None and attempt.reruns is not None:
                with self._own_work(f"deciding on a rerun of case {case.id!r}"):
                    again = attempt.decide(reports, phases)
                if again is not None:  # an attempt superseded: no failure, the case not done
                    self.pending.extend(reports)
                    return
        except BaseException as exc:  # a plugin's bug, say: it fails the parent
            self.report_error = self.report_error or exc
            self._cancel_all("reporting failed")
            return
        self.done += 1
        if case is self.last_case and reports:
            # Its output, for a failed teardown of the parent (see _plugin._teardown_of_last_case):
            # its last report carries that of every phase.
            self.item.stash[last_sections_key] = list(reports[-1].sections)
        failed = any(r.failed for r in reports)
        if (
            case is self.last_case
            and reports[-1].when == "teardown"
            and (reports[-1].passed or (reports[-1].failed and not self.settings.debugging))
        ):
            # The parent's teardown is the last case's (see _plugin.pytest_runtest_makereport):
            # this report of the case's own teardown waits for it, to be one with it (with
            # its error: both errors in one group, as pytest raises them; not under --pdb,
            # which debugs the case's now).
            self.item.stash[held_teardown_key] = (reports.pop(), phases[-1].error)
        if failed:
            self.failed.append(member.label(case))
            self.failed_places.append(self.places.get(id(case), -1))
            if all(r.when != "call" for r in reports if r.failed):
                self.errored.add(member.label(case))
            if self.table.fail_fast:
                self.stopped_by_fail_fast = self.stopped_by_fail_fast or self.stop_reason is None
                self._cancel_all(f"fail_fast: case {case.id!r} failed")
        self.pending.extend(reports)
        if self.settings.debugging and failed:
            self.flush()
            self._interact(next(r for r in reports if r.failed), phases)

    def _own_work(self, label: str) -> Any:
        """asyncgroup's own work on the loop, which the watchdog watches too."""
        if self.watchdog is None:
            return contextlib.nullcontext()
        return self.watchdog.own_work(label)

    def report_step(
        self,
        case_id: str,
        msg: str | None,
        kwargs: dict[str, Any],
        phase: Phase,
        marks: tuple[str, ...] = (),
    ) -> pytest.TestReport:
        """Report a ``subtests.test()`` block of a case (from a plain def case's thread too);
        ``marks``: the names of the case's own marks."""
        report = self.reporter.step(case_id, msg, kwargs, phase, marks)
        if self.loop_thread == threading.get_ident():
            self._queue(report)
        else:
            self.loop.call_soon_threadsafe(self._queue, report)
        return report

    def _queue(self, report: pytest.TestReport) -> None:
        self.pending.append(report)
        self.schedule_flush()

    def schedule_flush(self) -> None:
        if not self.flush_scheduled:
            self.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush, context=self.context)

    def flush(self) -> None:
        """Write the pending reports, under one suspension of pytest's capture."""
        self.flush_scheduled = False
        if not self.pending:
            return
        reports, self.pending = self.pending, []
        hook = self.item.ihook
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        try:
            with self.suspended_capture(), self._own_work("writing reports"):
                self.progress.erase()
                for report in reports:
                    if isinstance(report, str):
                        self._write_line(report)
                    else:
                        hook.pytest_runtest_logreport(report=report)
                        if terminal is not None:  # a case is not a collected item: no [ NN%]
                            _compat.forget_progress(terminal, report)
                self.progress.show(self.done, len(self.failed))
        except BaseException as exc:
            self.report_error = self.report_error or exc
            self._cancel_all("reporting failed")
            return
        gc.freeze()  # the reports pytest keeps, likewise
        session = self.item.session
        # -x/--maxfail (shouldfail) and --sw (shouldstop) stop the session after this test: as
        # tests after it would not start, the cases still running are cancelled.
        stop = session.shouldfail or session.shouldstop
        if stop and self.stop_reason is None:
            # But --sw stops the parametrized tests at a failed one, every test before it
            # having run: the cases before it run on, and where --sw goes on from is found
            # among them (see _select.Stepwise), not at a cancelled one, which --sw-skip would
            # then pass over to the same stop again and again. It stops at the first failure
            # in that order (--sw-skip: the second), whichever failed first in time.
            stepwise = self.config.pluginmanager.get_plugin("asyncgroup-stepwise")
            after = None
            if not session.shouldfail and stepwise is not None:
                failed = sorted(self.failed_places) or [-1]
                after = failed[1] if stepwise.skips and len(failed) > 1 else failed[0]
            self._cancel_all(str(stop), after=after)

    def _warn(self, case: Case, phases: list[Phase], notes: list[str]) -> None:
        """Issue a case's notes as warnings, from its own task.

        As with a warning in a test, one that the filters make an error (``-W error``) fails
        the case, if nothing else did; its message names the user's line.
        """
        __tracebackhide__ = True
        for note in notes:
            try:
                self.reporter.warn(case.id, note)
            except Exception as exc:
                call = next((p for p in phases if p.when == "call"), None)
                if call is not None and call.error is None:
                    call.error = exc

    def _write_line(self, line: str) -> None:
        writer = self.config.get_terminal_writer()
        writer.line()
        writer.write(line)

    def suspended_capture(self) -> Any:
        """For writing to the terminal mid-run."""
        return _Suspended(self, fully=False)

    def capture_suspended(self) -> Any:
        """For the debugger: sys.stdout is the terminal again."""
        return _Suspended(self, fully=True)

    @contextlib.contextmanager
    def capture_disabled(self) -> Iterator[None]:
        """A case's capsys.disabled(), and pytest's ``global_and_fixture_disabled()`` while
        cases run (which its live logging enters around each record: see
        _compat.capture_disabled_beside_cases): the caller's writes reach the terminal, no
        other case's. In a case, its own writes (its log records stay its own, as a test's);
        outside any case (a report hook, a live log record), those made outside cases."""
        output = running_output()
        with _compat.terminal_reachable(self.config):
            if output is None:
                with self.capture.outside_cases_to_terminal():
                    yield
                return
            output.uncaptured += 1
            try:
                yield
            finally:
                output.uncaptured -= 1

    def _interact(self, report: pytest.TestReport, phases: list[Phase]) -> None:
        """--pdb: drop into the debugger at the case's own failure."""
        error = next((p.error for p in phases if p.error is not None), None)
        if error is None:
            return
        call = _compat.call_info(error, report)
        with self.capture_suspended():
            self.item.ihook.pytest_exception_interact(node=self.item, call=call, report=report)


class _Suspended:
    """Capture set aside (outside any case), and our stream stand-ins put back afterwards.

    ``fully``: pytest's own suspension, which swaps ``sys.stdout`` back for the debugger;
    otherwise only what the terminal reporter needs (see _compat), and
    what is written outside any case (a report hook's print) goes where pytest's capture would
    have let it: a case's thread writing meanwhile still writes to its own case's buffers.
    """

    def __init__(self, run: ParentRun, fully: bool) -> None:
        self._run = run
        self._fully = fully
        self._context = contextlib.ExitStack()

    def __enter__(self) -> None:
        token = current_output.set(None)
        self._token = token
        config = self._run.config
        if self._fully:
            self._context.enter_context(_compat.suspend_capture(config))
        else:
            self._context.enter_context(_compat.terminal_reachable(config))
            self._context.enter_context(self._run.capture.outside_cases_to_terminal())

    def __exit__(self, *exc_info: Any) -> None:
        self._context.__exit__(*exc_info)
        current_output.reset(self._token)
        self._run.capture.install_streams()


def _uncancel(task: asyncio.Task[Any]) -> None:
    """Forget the task's pending cancellations (Python >= 3.11 counts them)."""
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        while uncancel() > 0:
            pass


def _fail_for_steps(call: Phase, count: int) -> None:
    """pytest 9 fails a test that passed when one of its subtests failed: a case likewise."""
    if call.error is None and _compat.FAILED_SUBTEST_FAILS_TEST:
        call.error = with_traceback(
            FailedSubtests(f"contains {count} failed subtest{'s' if count > 1 else ''}")
        )


def _not_run(phases: list[Phase], xfail: Xfail) -> None:
    """The call of a case whose xfail(run=False) mark was added during its setup."""
    call = Phase("call")
    phases.append(call)
    call.begin()
    call.end(pytest.xfail.Exception(xfail.reason))


def _body(phases: list[Phase], deadline: Deadline | None) -> str:
    """The body, in a timeout's message: with the time its fixture setup took of the same
    timeout, when that was a noticeable part of it (the body alone may have been quick)."""
    if deadline is None:
        return "body"
    setup = next((phase for phase in phases if phase.when == "setup"), None)
    if setup is None or setup.duration < 0.05 * deadline.seconds:
        return "body"
    return f"body (its fixture setup took {setup.duration:.2f} s of the same timeout)"


def _finished(phases: list[Phase]) -> bool:
    """Whether the case's body ran to its end (its outcome is known)."""
    return any(
        phase.when == "call" and not isinstance(phase.error, asyncio.CancelledError)
        for phase in phases
    )


async def run_parent(
    table: CaseTable,
    request: pytest.FixtureRequest,
    bound_args: tuple[Any, ...],
    parent_values: dict[str, Any],
    set_up: bool = True,
) -> None:
    """The body of every parent test: run the selected cases, fail if any case failed.

    ``set_up``: False for a parent none of whose cases runs (see ``runs_no_case``), which
    pytest did not set up: it only reports its cases."""
    __tracebackhide__ = True
    if not table.cases:
        pytest.skip(table.empty_reason)
    settings = RunSettings.for_item(request.node, table)
    shard = parent_values.pop(SHARD_ARGUMENT, None)
    cases = _sharded(table, shard)
    if not cases and shard is not None:
        pytest.skip(f"shard {shard + 1} of {table.shards} has no cases")
    cases = select(request.node, cases)
    request.node.stash[last_case_key] = cases[-1] if cases else None
    _compat.leave_xfail_to_cases(request.node)  # the parent's xfail marks act per case
    values, failed = wider_results(request.node)
    parent_values.update(values)
    # The first that failed, as pytest's setup of a test stops there.
    setup_error = next(iter(failed.values()), None)
    run = ParentRun(table, request, settings, bound_args, parent_values, setup_error, set_up)
    await run.run(cases)
    if run.failed:
        failure = pytest.fail.Exception(cases_failed(run, len(cases)), pytrace=False)
        setattr(failure, CASES_FAILED_ATTRIBUTE, True)  # see _plugin.pytest_runtest_makereport
        raise failure


# On a parent that ran: its last case in the order its parametrized tests would run (None: no
# case ran). The parent's teardown is that test's (see _plugin.pytest_runtest_makereport).
last_case_key = pytest.StashKey[Case | None]()
# On a parent: the teardown report of its last case, passing when every phase is reported,
# or failing, and its error (see ParentRun._build_one).
held_teardown_key = pytest.StashKey[tuple[pytest.TestReport, BaseException | None] | None]()
# On a parent: the sections of its last case's reports (what it wrote in each phase).
last_sections_key = pytest.StashKey[list[tuple[str, str]]]()


def _sharded(table: CaseTable, shard: int | None) -> list[Case]:
    """The cases of the parent's shard (every K-th case, so a case always lands in the same
    shard); all of them without shards."""
    return table.cases if shard is None else table.cases[shard :: table.shards]


def runs_no_case(item: pytest.Function, table: CaseTable) -> bool:
    """Whether each case the parent would run is skipped, or xfailed without running, by its
    marks (a skip mark on the test, its class or module, say): then none of their
    parametrized tests would be set up, nor is the parent."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    settings = RunSettings.for_item(item, table)
    for case in select(item, _sharded(table, params.get(SHARD_ARGUMENT))):
        if not settings.skips(case):
            return False
    return True


def report_cases_not_run(item: pytest.Function, table: CaseTable) -> None:
    """The call of a parent none of whose cases runs (see ``runs_no_case``): each case's
    report, in an event loop of its own for asyncgroup's reporting; the test's loop, which
    pytest-asyncio would set up, is not (pytest skipped the parent's setup)."""
    __tracebackhide__ = True
    params = getattr(getattr(item, "callspec", None), "params", {})
    values = {SHARD_ARGUMENT: params[SHARD_ARGUMENT]} if SHARD_ARGUMENT in params else {}
    # Not made the current loop: a wider-scoped loop of pytest-asyncio's may be current.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(
            run_parent(table, _compat.top_request(item), (), values, set_up=False)
        )
    finally:
        loop.close()


def cases_failed(run: ParentRun, count: int, noun: str = "cases") -> str:
    """The parent's failure: "2 of 3 cases failed: a, c", and the cases with fixture errors,
    which pytest counts as errors, apart: "1 of 3 cases errored: b". ``noun``: what the
    parent's cases are ("tests of group 'g'" for a group)."""
    failed = [label for label in run.failed if label not in run.errored]
    errored = [label for label in run.failed if label in run.errored]
    parts = []
    for labels, verb in ((failed, "failed"), (errored, "errored")):
        if labels:
            shown = ", ".join(labels[:10]) + (", ..." if len(labels) > 10 else "")
            parts.append(f"{len(labels)} of {count} {noun} {verb}: {shown}")
    return "; ".join(parts)
