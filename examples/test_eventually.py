"""eventually(): send an event, then wait until the system has processed it.

Why: the service acknowledges an event at once and does the work later, so a
test has to poll. test_demo.py writes that polling loop by hand; eventually()
is the same loop, ready-made: it calls the check again while it fails with an
AssertionError, returns as soon as it passes, and at its deadline fails with
how many attempts it made and the last assertion (e.g. "assert 'PENDING' ==
'DONE'") as the cause, so the report says what was still wrong.
"""

from asyncgroup import concurrent_cases, eventually

# (event id, processing delay): 0.1 s .. 1.0 s of background work each.
PAYMENTS = [(f"payment-{n}", n / 10) for n in range(1, 11)]


@concurrent_cases(
    "payment_id, delay",
    PAYMENTS,
    ids=[payment_id for payment_id, _ in PAYMENTS],
    timeout=10,  # the case's own limit; eventually's 5 s deadline comes first
)
async def test_payment_is_processed(payment_id, delay, client):
    assert await client.send_event(payment_id, delay) == "ACCEPTED"

    # An async check: it may await (here, a STATUS request on the case's own
    # connection). A plain `def` check works too.
    async def check_done():
        status = await client.status(payment_id)
        assert status == "DONE"
        return status

    # Retried every 0.05 s while it fails; the other cases run meanwhile.
    assert await eventually(check_done, timeout=5, interval=0.05) == "DONE"
