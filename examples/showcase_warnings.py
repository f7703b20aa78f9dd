"""WARNS ON PURPOSE: two cases misbehave in ways that do not fail them, and asyncgroup says so.

The file name does not start with `test_`, so `pytest examples` does not collect it. Run it
deliberately:

    pytest examples/showcase_warnings.py

Expected: both tests pass with two `AsyncgroupWarning`s in the warnings summary:
- `sync-client` blocks the event loop with `time.sleep` (a stand-in for a synchronous HTTP
  call): while it sleeps, no other case, and no timeout, can run. The warning names the line.
- `fire-and-forget` starts a background task and returns without waiting for it. Its test runs
  on the function-scoped event loop, which pytest-asyncio closes after the test, cancelling the
  task: asyncgroup cancels it once the case's fixtures are torn down, so it never runs on beside
  other cases, and the warning names it. (On this folder's module-scoped loop, as under
  pytest-asyncio, the task would run on until the module's loop closes, and nobody would warn.)
"""

import asyncio
import time

import pytest

from asyncgroup import concurrent_cases


@concurrent_cases(["polite", "sync-client"], timeout=5)
async def test_events(name, client):
    assert await client.send_event(name, 0.1) == "ACCEPTED"
    if name == "sync-client":
        time.sleep(0.8)  # blocks every other case: use an async client, or asyncio.to_thread
    else:
        await asyncio.sleep(0.2)


@pytest.mark.asyncio(loop_scope="function")
@concurrent_cases(["patient", "fire-and-forget"], timeout=5)
async def test_background(name):
    if name == "fire-and-forget":
        asyncio.get_running_loop().create_task(poll_forever(name))
    await asyncio.sleep(0.2)


async def poll_forever(name):
    while True:
        await asyncio.sleep(0.05)  # a stand-in for polling a service's status
