"""A tiny event service on loopback, plus a client for it. Stdlib only.

Line protocol (one request per line, one reply per line):

    EVENT <id> <delay_seconds>  ->  ACCEPTED <id>     (then worked on in the background)
    STATUS <id>                 ->  DONE <id> | PENDING <id> | UNKNOWN <id>
    anything else               ->  ERROR <reason>

Why this shape: it behaves like the systems asyncgroup is made for. A request
is acknowledged at once but the real work finishes later, so a test has to
poll, and it spends almost all of its time waiting rather than computing.
"""

from __future__ import annotations

import asyncio
import contextlib


class Service:
    """The server. `await start()` to listen, `await stop()` to shut down."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self._done: dict[str, bool] = {}  # event id -> finished yet?
        # Every task we start (background jobs and connection handlers), so that
        # stop() can cancel them and nothing is left pending when the loop closes.
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> tuple[str, int]:
        # Port 0: the OS picks a free port, so parallel test runs never collide.
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.host, self.port

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()  # stop accepting new connections
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while line := await reader.readline():
                writer.write((self._reply(line.decode().split()) + "\n").encode())
                await writer.drain()
        except ConnectionError:
            pass  # the client went away; nothing to clean up but the socket
        finally:
            writer.close()

    def _reply(self, words: list[str]) -> str:
        if len(words) == 3 and words[0] == "EVENT":
            event_id, delay = words[1], words[2]
            try:
                seconds = float(delay)
            except ValueError:
                return f"ERROR bad delay {delay!r}"
            self._done[event_id] = False
            # Reply now, work later: this is what forces clients to poll.
            self._track(asyncio.create_task(self._process(event_id, seconds)))
            return f"ACCEPTED {event_id}"
        if len(words) == 2 and words[0] == "STATUS":
            event_id = words[1]
            if event_id not in self._done:
                return f"UNKNOWN {event_id}"
            return f"{'DONE' if self._done[event_id] else 'PENDING'} {event_id}"
        return "ERROR expected 'EVENT <id> <delay>' or 'STATUS <id>'"

    async def _process(self, event_id: str, seconds: float) -> None:
        await asyncio.sleep(seconds)  # stands in for real, slow, I/O-bound work
        self._done[event_id] = True


class Client:
    """One connection to the service.

    Not meant to be shared between concurrent cases: the protocol has no request
    ids, so replies are matched to requests by order. Give each case its own.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, host: str, port: int) -> Client:
        return cls(*await asyncio.open_connection(host, port))

    async def send_event(self, event_id: str, delay: float) -> str:
        """Returns the reply's first word: "ACCEPTED" (or "ERROR")."""
        return await self._ask(f"EVENT {event_id} {delay}")

    async def status(self, event_id: str) -> str:
        """Returns "DONE", "PENDING" or "UNKNOWN" (or "ERROR")."""
        return await self._ask(f"STATUS {event_id}")

    async def close(self) -> None:
        self._writer.close()
        # Already gone (e.g. the service stopped first) is fine: we wanted it closed.
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()

    async def _ask(self, request: str) -> str:
        self._writer.write(request.encode() + b"\n")
        await self._writer.drain()
        reply = await self._reader.readline()
        if not reply:
            raise ConnectionError("the service closed the connection")
        return reply.decode().split()[0]
