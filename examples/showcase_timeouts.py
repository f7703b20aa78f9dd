"""FAILS ON PURPOSE: one case hangs and `timeout=` cancels it.

The file name does not start with `test_`, so `pytest examples` does not
collect it and the default run stays green. Run it deliberately:

    pytest examples/showcase_timeouts.py -v

Expected: quick-1, quick-2 and quick-3 pass; `stuck` is cancelled after 1 s
and reported as a failed subtest, so the test as a whole fails. The run still
takes about 1 s: a hung case does not hold up the others, and without the
timeout it would hang the whole test session.
"""

import asyncio

from asyncgroup import concurrent_cases

JOBS = [
    ("quick-1", 0.1),
    ("quick-2", 0.2),
    ("quick-3", 0.3),
    ("stuck", 60),  # a job that, for practical purposes, never finishes
]


@concurrent_cases("job_id, delay", JOBS, ids=[job_id for job_id, _ in JOBS], timeout=1)
async def test_jobs_finish(job_id, delay, client):
    assert await client.send_event(job_id, delay) == "ACCEPTED"
    # Deliberately no deadline of our own: wait "as long as it takes". This is
    # the bug that a per-case timeout protects you from.
    while await client.status(job_id) != "DONE":
        await asyncio.sleep(0.05)
