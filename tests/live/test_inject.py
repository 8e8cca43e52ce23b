"""Injecting a message into a live connection, over both backends: the relay and a real
mitmdump 11 with the addon (TCP in ``reverse:tcp`` mode, WebSocket through a real
WebSocket in ``reverse:http`` mode).

Each test checks the wire: the injected bytes reach the server (or the client) in place,
in order with the relayed stream, and the flow records them in that order, marked as
injected in a way mitmproxy's own reader keeps."""

from __future__ import annotations

import asyncio
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from live_helpers import EchoServer, RogueProxy, relay_setup, running_client, wait_until
from mitm_helpers import free_port, run_mitm

from flowtui.core import HTTPFlow, TCPFlow
from flowtui.live.client import CommandError, LiveClient
from flowtui.live.injected import INJECTED_KEY, injected_indexes

HOLD = 0.3
"""Seconds a held flow is watched for bytes that must not arrive (not a timing assert)."""


def _only_flow(client: LiveClient) -> TCPFlow:
    (flow,) = client.flows.values()
    assert isinstance(flow, TCPFlow)
    return flow


def _contents(flow: Any) -> list[tuple[bool, bytes]]:
    assert isinstance(flow, TCPFlow)
    return [(m.from_client, m.content) for m in flow.messages]


def _count(client: LiveClient, flow_id: str) -> int:
    return len(_contents(client.flows[flow_id]))


async def _check_tcp_inject(client: LiveClient, echo: EchoServer, port: int) -> str:
    """Inject to the server and to the client of a live TCP connection, free and held;
    returns the flow's id. The echo server answers every read with ``ECHO:`` + it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"hello")
    assert await asyncio.wait_for(reader.readexactly(10), 3) == b"ECHO:hello"
    await wait_until(lambda: client.flows and len(_only_flow(client).messages) == 2)
    flow = _only_flow(client)
    assert client.can("inject")

    # to the server: arrives after what the client sent, the server answers it
    await client.inject(flow.id, False, b"INJ\x00\xff\r\n")
    await wait_until(lambda: bytes(echo.received) == b"hello" + b"INJ\x00\xff\r\n")
    assert await asyncio.wait_for(reader.readexactly(12), 3) == b"ECHO:INJ\x00\xff\r\n"
    # to the client: the client reads it, the server never sees it
    await client.inject(flow.id, True, b"PUSH")
    assert await asyncio.wait_for(reader.readexactly(4), 3) == b"PUSH"
    await wait_until(lambda: _count(client, flow.id) == 5)
    assert _contents(client.flows[flow.id]) == [
        (True, b"hello"),
        (False, b"ECHO:hello"),
        (True, b"INJ\x00\xff\r\n"),
        (False, b"ECHO:INJ\x00\xff\r\n"),
        (False, b"PUSH"),
    ]
    await wait_until(lambda: injected_indexes(client.flows[flow.id]) == {2, 4})

    # in place while held: the held message goes first, the injected one right after it
    await client.intercept(flow.id)
    await wait_until(lambda: client.flows[flow.id].intercepted)
    writer.write(b"held")
    await wait_until(lambda: _count(client, flow.id) == 6)
    await client.inject(flow.id, False, b"+after")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(1), HOLD)
    assert not bytes(echo.received).endswith(b"held")  # nothing went while held
    assert not bytes(echo.received).endswith(b"+after")
    await client.resume(flow.id)
    await wait_until(lambda: bytes(echo.received).endswith(b"held+after"))
    await wait_until(lambda: len(injected_indexes(client.flows[flow.id])) == 3)
    messages = _contents(client.flows[flow.id])
    held = messages.index((True, b"held"))
    assert messages[held + 1] == (True, b"+after")
    assert held + 1 in injected_indexes(client.flows[flow.id])

    # refusals: an empty message; a finished flow
    with pytest.raises(CommandError, match="empty"):
        await client.inject(flow.id, False, b"")
    writer.close()
    await wait_until(lambda: not client.flows[flow.id].live, timeout=5)
    with pytest.raises(CommandError, match="not live"):
        await client.inject(flow.id, False, b"late")
    return flow.id


def _read_with_mitmproxy(path: Path) -> list[Any]:
    from mitmproxy import io as mio

    with path.open("rb") as f:
        return list(mio.FlowReader(f).stream())


async def test_relay_injects_in_place_and_records_it(tmp_path: Path) -> None:
    record = tmp_path / "rec.flows"
    async with (
        relay_setup(tmp_path, write_to=str(record)) as (relay, echo, addr),
        running_client(addr) as client,
    ):
        flow_id = await _check_tcp_inject(client, echo, relay.listen[1])
        with pytest.raises(CommandError, match="relays TCP only"):
            await client.replay(flow_id)
    # mitmproxy reads the recording: the messages in wire order, the note kept
    (saved,) = _read_with_mitmproxy(record)
    assert saved.id == flow_id
    mirrored = _contents(client.flows[flow_id])
    assert [(m.from_client, m.content) for m in saved.messages] == mirrored
    assert saved.metadata[INJECTED_KEY] == sorted(injected_indexes(client.flows[flow_id]))


@pytest.mark.mitmproxy
async def test_mitmdump_injects_tcp_in_place_and_records_it(tmp_path: Path) -> None:
    echo = EchoServer()
    await echo.start()
    record = tmp_path / "mitm.flows"
    try:
        port = free_port()
        mode = f"reverse:tcp://127.0.0.1:{echo.port}@{port}"
        extra = ["--set", f"save_stream_file={record}"]
        async with run_mitm(tmp_path, mode, extra=extra) as addr, running_client(addr) as client:
            flow_id = await _check_tcp_inject(client, echo, port)
            with pytest.raises(CommandError, match="HTTP flows only"):
                await client.replay(flow_id)
    finally:
        await echo.stop()
    (saved,) = _read_with_mitmproxy(record)
    assert [(m.from_client, m.content) for m in saved.messages] == _contents(client.flows[flow_id])
    assert saved.metadata[INJECTED_KEY] == sorted(injected_indexes(client.flows[flow_id]))


async def test_an_older_proxy_is_not_sent_the_command() -> None:
    """A proxy whose hello lists no commands would close the connection on an unknown
    one: the client refuses locally, and stays attached."""
    proxy = RogueProxy([])
    await proxy.start()
    try:
        async with running_client(f"tcp://127.0.0.1:{proxy.port}", token="t") as client:
            assert client.commands is None and not client.can("inject")
            with pytest.raises(CommandError, match="this proxy cannot inject"):
                await client.inject("some-id", False, b"x")
            with pytest.raises(CommandError, match="this proxy cannot replay"):
                await client.replay("some-id")
            assert client.connected.is_set()
    finally:
        await proxy.stop()


# -- WebSocket through a real mitmdump ---------------------------------------------------


class WSEcho:
    """A WebSocket server (wsproto over asyncio): answers each text message with
    ``ECHO:`` + it and records every message it receives."""

    def __init__(self) -> None:
        self.received: list[str | bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, BytesMessage, Request, TextMessage

        self.writers.append(w)
        ws = WSConnection(ConnectionType.SERVER)
        try:
            while data := await r.read(65536):
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, Request):
                        w.write(ws.send(AcceptConnection()))
                    elif isinstance(event, TextMessage):
                        self.received.append(event.data)
                        w.write(ws.send(TextMessage(data="ECHO:" + event.data)))
                    elif isinstance(event, BytesMessage):
                        self.received.append(bytes(event.data))
                await w.drain()
        except OSError:
            pass

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.transport.abort()


class WSClient:
    """A WebSocket client (wsproto) whose received text messages queue in `messages`."""

    def __init__(self) -> None:
        from wsproto import ConnectionType, WSConnection

        self.ws = WSConnection(ConnectionType.CLIENT)
        self.messages: asyncio.Queue[str] = asyncio.Queue()
        self.accepted = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None

    async def connect(self, port: int) -> None:
        from wsproto.events import Request

        reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(self.ws.send(Request(host=f"127.0.0.1:{port}", target="/ws")))
        self.task = asyncio.create_task(self._read(reader))
        await asyncio.wait_for(self.accepted.wait(), 5)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        from wsproto.events import AcceptConnection, TextMessage

        while data := await reader.read(65536):
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    self.accepted.set()
                elif isinstance(event, TextMessage):
                    self.messages.put_nowait(event.data)

    def send(self, text: str) -> None:
        from wsproto.events import TextMessage

        assert self.writer is not None
        self.writer.write(self.ws.send(TextMessage(data=text)))

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.writer is not None:
            self.writer.transport.abort()


@pytest.mark.mitmproxy
async def test_mitmdump_injects_websocket_messages(tmp_path: Path) -> None:
    server = WSEcho()
    await server.start()
    ws = WSClient()
    try:
        port = free_port()
        mode = f"reverse:http://127.0.0.1:{server.port}@{port}"
        async with run_mitm(tmp_path, mode) as addr, running_client(addr) as client:
            await ws.connect(port)
            ws.send("one")
            assert await asyncio.wait_for(ws.messages.get(), 3) == "ECHO:one"

            def ws_flow() -> HTTPFlow | None:
                for f in client.flows.values():
                    if isinstance(f, HTTPFlow) and f.websocket and len(f.websocket.messages) >= 2:
                        return f
                return None

            flow = await wait_until(ws_flow)
            await client.inject(flow.id, False, "to-server ✓".encode())
            assert await asyncio.wait_for(ws.messages.get(), 3) == "ECHO:to-server ✓"
            assert server.received == ["one", "to-server ✓"]
            await client.inject(flow.id, True, b"to-client")
            assert await asyncio.wait_for(ws.messages.get(), 3) == "to-client"

            def recorded() -> list[tuple[bool, bytes, bool]]:
                f = client.flows[flow.id]
                assert isinstance(f, HTTPFlow) and f.websocket is not None
                return [(m.from_client, m.content, m.injected) for m in f.websocket.messages]

            await wait_until(lambda: len(recorded()) == 5)
            assert recorded() == [
                (True, b"one", False),
                (False, b"ECHO:one", False),
                (True, "to-server ✓".encode(), True),
                (False, "ECHO:to-server ✓".encode(), False),
                (False, b"to-client", True),
            ]
    finally:
        ws.close()
        await server.stop()


# -- HTTP replay through mitmproxy's client replay -------------------------------------


class BodyHTTPServer:
    """An HTTP/1.1 server that records each request whole (head and body, by its
    Content-Length) and answers ``200`` with the request count."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.writers.append(w)
        try:
            while True:
                head = await r.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await r.readexactly(length)
                self.requests.append(head + body)
                answer = f"request {len(self.requests)}".encode()
                w.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
                await w.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.transport.abort()


@pytest.mark.mitmproxy
async def test_mitmdump_replays_an_http_flow_as_a_new_flow(tmp_path: Path) -> None:
    server = BodyHTTPServer()
    await server.start()
    try:
        port = free_port()
        mode = f"reverse:http://127.0.0.1:{server.port}@{port}"
        async with run_mitm(tmp_path, mode) as addr, running_client(addr) as client:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            body = b'{"user": "ada", "bytes": "\\u00ff"}'
            writer.write(
                b"POST /api/login?next=%2Fhome HTTP/1.1\r\nHost: example.test\r\n"
                b"X-Custom: one\r\nX-Custom: two\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200")
            writer.close()

            def finished() -> HTTPFlow | None:
                for f in client.flows.values():
                    if isinstance(f, HTTPFlow) and f.response is not None and not f.live:
                        return f
                return None

            original = await wait_until(finished, timeout=5)
            assert client.can("replay")
            await client.replay(original.id)
            await wait_until(lambda: len(server.requests) == 2, timeout=5)
            # the replay reaches the server with the original request's bytes
            assert server.requests[1] == server.requests[0]
            first_line, *_ = server.requests[1].split(b"\r\n")
            assert first_line == b"POST /api/login?next=%2Fhome HTTP/1.1"
            assert b"X-Custom: one\r\nX-Custom: two\r\n" in server.requests[1]
            assert server.requests[1].endswith(b"\r\n\r\n" + body)

            # ... and arrives as a new flow, marked, next to an untouched original
            def replayed() -> HTTPFlow | None:
                for f in client.flows.values():
                    if isinstance(f, HTTPFlow) and f.id != original.id and f.response:
                        return f
                return None

            new = await wait_until(replayed, timeout=5)
            assert new.is_replay == "request"
            assert new.metadata["flowtui.replay_of"] == original.id
            assert new.response is not None and new.response.content == b"request 2"
            kept = client.flows[original.id]
            assert isinstance(kept, HTTPFlow) and kept.is_replay is None
            assert kept.response is not None and kept.response.content == b"request 1"

            # a flow mitmproxy cannot replay is refused with its reason
            with pytest.raises(CommandError, match="no flow"):
                await client.replay("no-such-flow")
    finally:
        await server.stop()


def test_the_addon_forgets_a_flows_notes_when_it_ends() -> None:
    """An injection mitmproxy never delivered (the connection closed first) is not
    kept for the life of the proxy."""
    from mitmproxy.test import tflow

    from flowtui.live.mitmproxy_addon import FlowtuiLive

    addon = FlowtuiLive()
    flow = tflow.ttcpflow()
    addon._injecting[flow.id] = deque([b"never delivered"])
    addon._seen[flow.id] = ()
    addon.tcp_end(flow)
    assert flow.id not in addon._injecting and flow.id not in addon._seen
