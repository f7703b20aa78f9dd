"""max_concurrency: at most N cases run at once.

Why you would want it: the system under test may only take a few connections,
or you may not want to flood it. Here 9 cases run with max_concurrency=3, and
each case checks, using a module-level counter, that no more than 3 are ever in
flight. The counter is safe without a lock: all cases run in one thread, and it
only changes between awaits.
"""

import asyncio

import pytest

from asyncgroup import concurrent_cases

in_flight = 0  # cases currently running
peak = 0  # most cases ever seen running at once


# One argument: just the case values, passed to the first parameter (`job`).
@concurrent_cases(list(range(9)), max_concurrency=3)
async def test_never_more_than_three_at_once(job, client):
    global in_flight, peak
    in_flight += 1
    peak = max(peak, in_flight)
    try:
        assert in_flight <= 3
        # Some real waiting, so cases overlap and the limit actually matters.
        assert await client.send_event(f"job-{job}", 0.2) == "ACCEPTED"
        await asyncio.sleep(0.3)
        assert await client.status(f"job-{job}") == "DONE"
    finally:
        in_flight -= 1


def test_limit_was_reached():
    # The other half of the claim: cases really did run 3 at a time
    # (a limit that is never reached proves nothing).
    if peak == 0:
        pytest.skip("only meaningful after test_never_more_than_three_at_once")
    assert peak == 3
