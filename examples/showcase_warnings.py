"""WARNS ON PURPOSE: two cases misbehave in ways that do not fail them, and asyncgroup says so.

The file name does not start with `test_`, so `pytest examples` does not collect it. Run it
deliberately:

    pytest examples/showcase_warnings.py

Expected: the test passes with two `AsyncgroupWarning`s in the warnings summary:
- `sync-client` blocks the event loop with `time.sleep` (a stand-in for a synchronous HTTP
  call): while it sleeps, no other case, and no timeout, can run. The warning names the line.
- `fire-and-forget` starts a background task and returns without waiting for it: the warning
  names the task (and its error, when it fails on the closed connection), and asyncgroup
  cancels it once the case's `client` fixture is closed (as pytest-asyncio does when it closes
  the test's loop), so it never runs on beside other cases.
"""

import asyncio
import time

from asyncgroup import concurrent_cases


@concurrent_cases(["polite", "sync-client", "fire-and-forget"], timeout=5)
async def test_events(name, client):
    assert await client.send_event(name, 0.1) == "ACCEPTED"
    if name == "sync-client":
        time.sleep(0.8)  # blocks every other case: use an async client, or asyncio.to_thread
    elif name == "fire-and-forget":
        asyncio.get_running_loop().create_task(poll_forever(client, name))
    else:
        await asyncio.sleep(0.2)


async def poll_forever(client, name):
    while True:
        await client.status(name)
        await asyncio.sleep(0.05)
