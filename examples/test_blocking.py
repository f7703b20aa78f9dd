"""Blocking tests: the cases of a plain `def` test run concurrently in threads.

Why: an existing synchronous test (a blocking client library, time.sleep while
the system works) cannot await anything. Put @concurrent_cases on the plain
`def` and each case runs in a thread of its own: the 12 cases below wait ~0.6 s
each, and finish in about 0.6 s together instead of ~7 s one after another.
Output capture, fixtures, skip/xfail and timeouts are per case, as for async
tests. The event loop is not blocked: the (async) service keeps serving while
the threads sleep.
"""

import socket
import time

from asyncgroup import concurrent_cases


def ask(conn, request):
    """One request, one reply line, on a plain blocking socket: legacy-style."""
    conn.write(request + "\n")
    conn.flush()
    return conn.readline().split()[0]


@concurrent_cases(range(12), timeout=10)  # a thread that hangs is reported after 10 s
def test_legacy_client_sees_events_processed(n, service):
    # `service` is module-scoped: shared by all cases, set up once by pytest.
    with socket.create_connection((service.host, service.port), timeout=5) as sock:
        conn = sock.makefile("rw")
        assert ask(conn, f"EVENT legacy-{n} 0.3") == "ACCEPTED"
        time.sleep(0.6)  # the old test just waits long enough: blocking, in its thread
        assert ask(conn, f"STATUS legacy-{n}") == "DONE"
