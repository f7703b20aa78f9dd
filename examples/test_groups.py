"""Separate tests, run concurrently: @concurrent_group.

Three ordinary system tests. Each sends an event to the service and polls until it is
processed, which takes about a second. The shipping and refund checks belong together:
`@concurrent_group("checkout")` runs them at the same time, as the cases of one parent test,
while each keeps its own node id, its own `client`, and its own report. The invoice check is
not in a group and runs on its own, as usual.

    pytest examples/test_groups.py -v     # about 2 s: checkout (1 s), then the invoice (1 s)

Without the two decorators the same three tests take about 3 s, one after another.
"""

import asyncio

import pytest

from asyncgroup import concurrent_group


async def processed(client, event_id, delay):
    """Send an event and poll until the service has processed it."""
    assert await client.send_event(event_id, delay) == "ACCEPTED"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + delay + 2.0
    while loop.time() < deadline:
        if await client.status(event_id) == "DONE":
            return True
        await asyncio.sleep(0.05)
    return False


@concurrent_group("checkout", timeout=10)
async def test_order_is_shipped(client):
    assert await processed(client, "ship-1", 1.0)


@concurrent_group("checkout")
async def test_refund_is_booked(client):
    assert await processed(client, "refund-1", 1.0)


@pytest.mark.asyncio
async def test_invoice_is_sent(client):
    assert await processed(client, "invoice-1", 1.0)
