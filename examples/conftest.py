"""Fixtures shared by the examples."""

import pytest_asyncio
from service import Client, Service


@pytest_asyncio.fixture(scope="module")
async def service():
    """One running service per test module: starting it is cheap, but there is
    no reason to do it per case, and every case should hit the same server."""
    svc = Service()
    await svc.start()
    yield svc
    await svc.stop()


@pytest_asyncio.fixture
async def client(service):
    """A fresh connection for each case. Function-scoped, so asyncgroup creates
    one per case: concurrent cases never interleave requests on one socket."""
    c = await Client.connect(service.host, service.port)
    yield c
    await c.close()
