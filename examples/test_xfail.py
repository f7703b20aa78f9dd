"""Per-case marks: a known-broken case is xfailed, the rest must pass.

pytest.param(..., marks=pytest.mark.xfail(...)) works on a single case exactly
as with pytest.mark.parametrize. The test as a whole passes; the broken case is
reported as xfailed, and the other cases still run (and must pass).
"""

import asyncio

import pytest

from asyncgroup import concurrent_cases

EVENT_IDS = [
    "invoice-1",
    "invoice-2",
    "invoice-3",
    # Known limitation: the line protocol splits on spaces, so an id with a
    # space in it is rejected ("ERROR ..."). Until that is fixed, expect failure.
    pytest.param(
        "invoice 4",
        id="id-with-space",
        marks=pytest.mark.xfail(reason="the line protocol cannot carry ids with spaces"),
    ),
]


@concurrent_cases(EVENT_IDS, timeout=5)
async def test_event_is_accepted_and_processed(event_id, client):
    assert await client.send_event(event_id, 0.2) == "ACCEPTED"
    await asyncio.sleep(0.4)
    assert await client.status(event_id) == "DONE"
