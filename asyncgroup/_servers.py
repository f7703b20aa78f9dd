"""Servers a case started and left serving when it finished.

On the function loop scope, a parametrized test's server that the test never closed stops
serving when pytest-asyncio closes the test's event loop: nothing accepts a connection on it
after its test. A case's loop runs on until its parent ends, so a server it left open would
serve on beside the other cases and answer the connections they make to its address: one case
would talk to another's server. So the servers a case's body starts (``asyncio.start_server``,
``loop.create_server``, ``create_unix_server``, from the body or its tasks: made with its mark in
the context, see _leaks) and leaves open are closed where its leftover tasks are cancelled, and
named in a warning on its report. A fixture's server is its fixture's to close.

On a loop of wider scope, pytest-asyncio keeps the loop and the server after a test, and so does
asyncgroup: nothing is looked for. Nor on a loop whose methods cannot be wrapped (a loop type
without instance attributes).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from asyncgroup._leaks import CaseMark, case_mark

_MAKERS = ("create_server", "create_unix_server")


class ServerCensus:
    """Notes the servers cases start on ``loop`` while one parent runs; closes those left open.

    The loop's own methods are wrapped on the loop object (not its class) for the run, and the
    wrappers taken off at ``close`` unless someone replaced them meanwhile.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._wrapped: dict[str, Callable[..., Any]] = {}
        # Only the cases that started a server have an entry.
        self._servers: dict[CaseMark, list[asyncio.AbstractServer]] = {}
        for name in _MAKERS:
            make = getattr(loop, name, None)
            if make is None:
                continue
            wrapper = self._noting(make)
            try:
                setattr(loop, name, wrapper)
            except AttributeError:  # a loop type without instance attributes
                continue
            self._wrapped[name] = wrapper

    def _noting(self, make: Callable[..., Any]) -> Callable[..., Any]:
        async def noted(*args: Any, **kwargs: Any) -> asyncio.AbstractServer:
            server: asyncio.AbstractServer = await make(*args, **kwargs)
            mark = case_mark.get()
            if mark is not None:
                self._servers.setdefault(mark, []).append(server)
            return server

        return noted

    def close_left(self, mark: CaseMark, when: str) -> list[str]:
        """Close the servers the case of ``mark`` left serving; the warnings for its report
        (``when``: "before" or "after" the case's fixture teardown)."""
        if not self._servers:  # most runs start no server: nothing per case
            return []
        left = [server for server in self._servers.pop(mark, ()) if server.is_serving()]
        if not left:
            return []
        addresses = [_address(server) for server in left]
        for server in left:
            server.close()  # stops listening now
            # Its connections too, where asyncio can (Python >= 3.13): the test's loop, closed,
            # would serve none of them either. Before 3.13 they stay open, their handler tasks
            # cancelled as the case's leftovers.
            close_clients = getattr(server, "close_clients", None)
            if close_clients is not None:
                close_clients()
        count = len(left)
        them = "them" if count != 1 else "it"
        return [
            f"the case left {count} server{'s' if count != 1 else ''} serving when it finished: "
            f"{', '.join(addresses)}; asyncgroup closed {them} {when} the case's fixture teardown"
        ]

    def close(self) -> None:
        """Stop noting: take the wrappers off the loop."""
        for name, wrapper in self._wrapped.items():
            if self._loop.__dict__.get(name) is wrapper:
                delattr(self._loop, name)
        self._wrapped = {}
        self._servers = {}


def _address(server: asyncio.AbstractServer) -> str:
    """Where the server listens: host:port, [host]:port, or a Unix socket's path."""
    found = []
    for sock in getattr(server, "sockets", ()):
        name = sock.getsockname()
        if sock.family == socket.AF_INET6:
            found.append(f"[{name[0]}]:{name[1]}")
        elif isinstance(name, tuple):
            found.append(f"{name[0]}:{name[1]}")
        else:
            found.append(str(name))
    return " and ".join(found) or repr(server)
