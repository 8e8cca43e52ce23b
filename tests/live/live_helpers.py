"""Shared pieces of the live tests: a real echo server, a relay, a client, waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from flowtui.live.client import LiveClient
from flowtui.live.endpoints import Endpoint
from flowtui.live.relay import Relay


class EchoServer:
    """Echoes `ECHO:` + data; records what it received; can stop reading on demand."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.writers: list[asyncio.StreamWriter] = []
        self.closed = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.writers.append(w)
        try:
            while data := await r.read(65536):
                self.received += data
                w.write(b"ECHO:" + data)
                await w.drain()
        except OSError:
            pass
        finally:
            self.closed.set()
            w.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.transport.abort()


async def wait_until(pred: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


@asynccontextmanager
async def running_client(address: str, **kw: Any) -> AsyncIterator[LiveClient]:
    client = LiveClient(address, **kw)
    task = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(client.connected.wait(), 3)
        yield client
    finally:
        client.stop()
        await asyncio.wait_for(task, 3)


@asynccontextmanager
async def relay_setup(tmp_path: Any, **kw: Any) -> AsyncIterator[tuple[Relay, EchoServer, str]]:
    echo = EchoServer()
    await echo.start()
    relay = Relay(("127.0.0.1", 0), ("127.0.0.1", echo.port), **kw)
    sock_dir = tmp_path / "sock"
    path = str(sock_dir / "live.sock")
    await relay.start(Endpoint("unix", path=path))
    try:
        yield relay, echo, f"unix:{path}"
    finally:
        await relay.close()
        await echo.stop()


def tcp_flow_state(port: int) -> dict[str, Any]:
    """A live TCP flow's wire state as a proxy sends it (no messages: they are appended)."""
    from flowtui.core import Client, Flow, Server, TCPFlow

    client = Client(peername=("127.0.0.1", port), sockname=("127.0.0.1", 8080), timestamp_start=1.0)
    flow = TCPFlow(client, Server(address=("127.0.0.1", 9)), live=True)
    return {**Flow.get_state(flow), "messages": [], "live": True}


class RogueProxy:
    """A proxy of our own making on 127.0.0.1: it greets any inspector, then sends what
    the test queued (`frames`), and keeps the connection open until stopped."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames
        self.server: asyncio.Server | None = None
        self.port = 0
        self.sent = asyncio.Event()
        """Set once every frame went out to an inspector."""

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        from flowtui.live.protocol import FrameDecoder, encode, hello

        decoder = FrameDecoder()
        try:
            while not decoder.feed(await r.read(65536)):
                pass
            w.write(encode(hello("proxy", "rogue")))
            for frame in self.frames:
                w.write(frame)
                await w.drain()
            self.sent.set()
            while await r.read(65536):  # answer nothing, hold the connection
                pass
        except (OSError, Exception):
            pass
        finally:
            w.transport.abort()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
