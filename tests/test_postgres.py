"""A real PostgreSQL server and asyncpg: cancelled cases leave nothing open on the server.

A session-scoped fixture starts a private server (the OS package's ``initdb`` and ``pg_ctl``,
as the ``postgres`` user when run as root, since PostgreSQL refuses root) on 127.0.0.1 and a
free port, and stops it at the end. Each inner run opens one asyncpg connection per case, named
by ``application_name``; cases are cancelled inside ``SELECT pg_sleep(600)`` by their timeout,
fail_fast, -x, Ctrl-C or the parent's cancellation; afterwards ``pg_stat_activity`` must hold
no connection of that run. ``.ci/run`` installs the ``postgresql`` package when it is missing,
and sets ASYNCGROUP_REQUIRE_POSTGRES so that CI fails rather than skips without a server.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_cancel_cleanup import (
    CASES_IN_QUERIES,
    CAUSES,
    LOGGING,
    _interrupt,
    assert_all_closed,
    events,
)

asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed (the 'test' extra)")


def _binaries() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The DSN of a private PostgreSQL server, started for the session."""
    bin_dir = _binaries()
    if bin_dir is None:
        missing = "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin"
        if os.environ.get("ASYNCGROUP_REQUIRE_POSTGRES"):  # set by .ci/run: CI must run these
            pytest.fail(f"{missing}, and ASYNCGROUP_REQUIRE_POSTGRES is set")
        pytest.skip(missing)
    if os.geteuid() == 0:
        try:
            uid, gid = (
                int(subprocess.check_output(["id", "-u", "postgres"])),
                int(subprocess.check_output(["id", "-g", "postgres"])),
            )
        except (subprocess.CalledProcessError, ValueError):
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
    folder = Path(tempfile.mkdtemp(prefix="asyncgroup-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        os.chown(folder, uid, gid)
    port = _free_port()
    run = subprocess.run
    run(
        _as_server_user(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    run(
        _as_server_user([*pg_ctl, "-o", options, "-l", str(folder / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(_as_server_user([*pg_ctl, "-m", "immediate", "-w", "stop"]), timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def connections_of(dsn: str, application: str) -> int:
    """Connections of the inner run still on the server, after a short settling wait."""

    async def count() -> int:
        conn = await asyncpg.connect(dsn)
        try:
            for _ in range(20):  # a closed connection's backend exits within milliseconds
                left: int = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                    application,
                )
                if not left:
                    break
                await asyncio.sleep(0.1)
            return left
        finally:
            await conn.close()

    return asyncio.run(count())


CONFTEST = (
    LOGGING
    + """
import asyncpg


@pytest_asyncio.fixture
async def conn():
    connection = await asyncpg.connect(
        os.environ["INNER_DSN"], server_settings={"application_name": os.environ["INNER_APP"]}
    )
    number = next(numbers)
    log(f"open {number}")
    yield connection
    await connection.close()
    log(f"close {number}")
"""
)


def _inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, dsn: str, body: str) -> str:
    application = f"asyncgroup-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("INNER_DSN", dsn)
    monkeypatch.setenv("INNER_APP", application)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_inner=body)
    return application


@CAUSES
def test_cases_cancelled_mid_query_leave_no_connection_on_the_server(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    postgres: str,
    cause: str,
    options: str,
    first: str,
    args: tuple[str, ...],
) -> None:
    application = _inner(
        pytester, monkeypatch, postgres, CASES_IN_QUERIES.format(options=options, first=first)
    )
    start = time.monotonic()
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider", *args, timeout=120)
    elapsed = time.monotonic() - start
    output = result.stdout.str()
    assert result.ret != 0, output
    assert len(events(pytester.path, "open")) == 6, output
    assert_all_closed(pytester.path, output)
    assert connections_of(postgres, application) == 0, output
    assert "Connection._cancel" not in output  # asyncpg's cleanup task was never cut off
    assert elapsed < 60, output  # not the 600 s query, nor a hang
    if cause == "timeout":
        assert output.count("CaseTimeoutError: Timeout (>2s) from asyncgroup") >= 6, output


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
@pytest.mark.parametrize("options", ["", ", timeout=300"])
def test_ctrl_c_mid_query_exits_2_soon_and_leaves_no_connection(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, postgres: str, options: str
) -> None:
    application = _inner(
        pytester,
        monkeypatch,
        postgres,
        CASES_IN_QUERIES.format(
            options=options, first='await conn.execute("SELECT pg_sleep(600)")'
        ),
    )
    output, code, elapsed = _interrupt(pytester, 6)
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert elapsed < 60, (elapsed, output)  # not the 600 s queries (nor the 300 s timeout)
    assert_all_closed(pytester.path, output)
    assert connections_of(postgres, application) == 0, output


def test_the_check_sees_an_open_connection(postgres: str) -> None:
    """The check on pg_stat_activity can fail: an open connection is counted, a closed one not."""

    async def open_one() -> asyncpg.Connection:
        return await asyncpg.connect(postgres, server_settings={"application_name": "probe"})

    loop = asyncio.new_event_loop()
    try:
        conn = loop.run_until_complete(open_one())
        assert connections_of(postgres, "probe") == 1
        loop.run_until_complete(conn.close())
        assert connections_of(postgres, "probe") == 0
    finally:
        loop.close()
