"""The main story: 36 slow, I/O-bound cases that finish in the time of one.

Each case sends an event to the service and polls until it is processed. The
events take 0.2 s to 1.5 s each, so run one after another (plain
pytest.mark.parametrize) these cases would take about 30 s. With
@concurrent_cases they run at the same time in one event loop, and the whole
test takes about as long as the slowest case: ~1.5 s.
"""

import asyncio

from asyncgroup import concurrent_cases

# (event id, processing delay). `n * 5 % 14` walks all of 0..13, so the delays
# are spread evenly over 0.2 s .. 1.5 s instead of all being the same.
ORDERS = [(f"order-{n}", round(0.2 + (n * 5 % 14) * 0.1, 1)) for n in range(1, 37)]


@concurrent_cases(
    "order_id, delay",
    ORDERS,
    ids=[order_id for order_id, _ in ORDERS],  # readable subtest names: [order-7]
    timeout=5,  # a case that takes longer than this is cancelled and reported failed
)
async def test_every_order_is_processed(order_id, delay, client):
    # The service acknowledges at once and does the work in the background...
    assert await client.send_event(order_id, delay) == "ACCEPTED"
    assert await client.status(order_id) == "PENDING"

    # ...so we poll until it is done, but not forever: our own deadline gives a
    # clear assertion message, well before the 5 s timeout would cut us off.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + delay + 1.0
    while loop.time() < deadline:
        status = await client.status(order_id)
        if status == "DONE":
            break
        # Every await is where the other cases get to run. Never block here
        # (time.sleep, sync I/O): that would stall all 36 cases at once.
        await asyncio.sleep(0.05)
    assert status == "DONE", f"{order_id} still {status} {delay + 1.0:.1f} s after sending"
