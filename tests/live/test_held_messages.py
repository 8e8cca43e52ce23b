"""Held messages over both backends: the relay and a real mitmdump 11 with the addon.

Every test checks the wire: an edited message reaches the server edited, a dropped one
never reaches its peer (and the following ones do), and the inspector's mirror says
which messages are held, per direction, and what was changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from live_helpers import EchoServer, relay_setup, running_client, wait_until
from mitm_helpers import free_port, run_mitm

from flowtui.core import TCPFlow
from flowtui.io import FlowWriter
from flowtui.live.client import CommandError, LiveClient
from flowtui.live.held import (
    DROPPED_KEY,
    HELD_KEY,
    MODIFIED_KEY,
    dropped_indexes,
    held_entries,
    modified_entries,
)

HOLD = 0.3
"""Seconds a held connection is watched for bytes that must not arrive."""


async def _nothing_arrives(reader: asyncio.StreamReader) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(1), HOLD)


async def _held_flow(client: LiveClient, count: int, first: int = 0) -> TCPFlow:
    """The intercepted flow once it holds ``count`` messages, the first of them message
    ``first`` (in the mirror)."""

    def holding(f: object) -> bool:
        held = held_entries(f)
        return len(held) == count and held[0][0] == first

    flow = await wait_until(
        lambda: next((f for f in client.flows.values() if f.intercepted and holding(f)), None)
    )
    assert isinstance(flow, TCPFlow)
    return flow


async def _check_edit_and_drop(client: LiveClient, echo: EchoServer, port: int) -> None:
    """Edit the client's held message, drop the server's held answer, then traffic flows."""
    await client.set_intercept("~tcp", "client")
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"hello")
    flow = await _held_flow(client, 1)
    assert held_entries(flow) == [(0, b"hello")]
    await _nothing_arrives(r)
    assert echo.received == b""
    with pytest.raises(CommandError, match="not held"):
        await client.edit_message(flow.id, 5, b"x")

    await client.edit_message(flow.id, 0, b"HELLO-EDITED")
    await wait_until(lambda: held_entries(client.flows[flow.id]) == [(0, b"HELLO-EDITED")])
    assert client.flows[flow.id].messages[0].content == b"HELLO-EDITED"  # the mirror too
    assert modified_entries(client.flows[flow.id]) == {0: b"hello"}
    await client.set_intercept("~tcp", "server")  # hold the answer next
    await client.resume(flow.id)
    await wait_until(lambda: echo.received == b"HELLO-EDITED")  # edited on the wire

    answer = await _held_flow(client, 1, first=1)
    assert answer.id == flow.id
    assert held_entries(answer) == [(1, b"ECHO:HELLO-EDITED")]
    await client.drop_message(flow.id, 1)
    await wait_until(lambda: 1 in dropped_indexes(client.flows[flow.id]))
    assert dropped_indexes(client.flows[flow.id]) == {1: b"ECHO:HELLO-EDITED"}
    await client.set_intercept(None)
    await client.resume(flow.id)
    await _nothing_arrives(r)  # the dropped answer never arrives...
    w.write(b"next")
    assert await asyncio.wait_for(r.readexactly(9), 3) == b"ECHO:next"  # ...the next does
    done = client.flows[flow.id]
    await wait_until(lambda: HELD_KEY not in done.metadata and len(done.messages) == 4)
    assert [m.content for m in done.messages] == [b"HELLO-EDITED", b"", b"next", b"ECHO:next"]
    w.close()


async def test_relay_edits_and_drops_held_messages(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, echo, addr), running_client(addr) as client:
        await _check_edit_and_drop(client, echo, relay.listen[1])


async def test_relay_holds_one_message_per_direction_and_reverts(tmp_path: Path) -> None:
    """A server that speaks first: its greeting and the client's message are held at
    once, one per direction, in order; editing back to the original (what `V` sends)
    clears the record, and a dropped message edited again is sent."""

    async def greeter(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"hi")
        with_data = await r.read(100)
        got.append(with_data)
        w.close()

    got: list[bytes] = []
    server = await asyncio.start_server(greeter, "127.0.0.1", 0)
    from flowtui.live.endpoints import Endpoint
    from flowtui.live.relay import Relay

    relay = Relay(("127.0.0.1", 0), ("127.0.0.1", server.sockets[0].getsockname()[1]))
    path = tmp_path / "s" / "live.sock"
    await relay.start(Endpoint("unix", path=str(path)))
    try:
        async with running_client(f"unix:{path}") as client:
            await client.set_intercept("~tcp")
            r, w = await asyncio.open_connection(*relay.listen)
            greeting_held = await _held_flow(client, 1)
            assert held_entries(greeting_held) == [(0, b"hi")]
            w.write(b"up")
            flow = await _held_flow(client, 2)
            assert held_entries(flow) == [(0, b"hi"), (1, b"up")]  # in order, both ways
            assert [m.from_client for m in flow.messages] == [False, True]

            await client.edit_message(flow.id, 1, b"UP!")
            await wait_until(lambda: modified_entries(client.flows[flow.id]) == {1: b"up"})
            await client.edit_message(flow.id, 1, b"up")  # back to the original
            await wait_until(lambda: MODIFIED_KEY not in client.flows[flow.id].metadata)
            await client.drop_message(flow.id, 0)
            await wait_until(lambda: DROPPED_KEY in client.flows[flow.id].metadata)
            await client.edit_message(flow.id, 0, b"hi")  # un-dropped: sent after all
            await wait_until(lambda: DROPPED_KEY not in client.flows[flow.id].metadata)
            await client.set_intercept(None)
            await client.resume(flow.id)
            assert await asyncio.wait_for(r.readexactly(2), 3) == b"hi"
            await wait_until(lambda: got == [b"up"])
            w.close()
    finally:
        await relay.close()
        server.close()


async def test_relay_records_the_changes_and_mitmproxy_reads_them(tmp_path: Path) -> None:
    """The -w recording keeps what was sent and the originals in the flow's metadata,
    and mitmproxy's own FlowReader loads it."""
    from mitmproxy import io as mio

    record = tmp_path / "rec.flows"
    async with (
        relay_setup(tmp_path, write_to=str(record)) as (relay, _echo, addr),
        running_client(addr) as client,
    ):
        await client.set_intercept("~tcp", "client")
        r, w = await asyncio.open_connection(*relay.listen)
        w.write(b"secret")
        flow = await _held_flow(client, 1)
        await client.edit_message(flow.id, 0, b"public")
        await wait_until(lambda: held_entries(client.flows[flow.id]) == [(0, b"public")])
        # the inspector saves the mirror while the message is held: mitmproxy reads it
        saved = tmp_path / "saved.flows"
        with saved.open("wb") as out:
            FlowWriter(out).add(client.flows[flow.id])
        with saved.open("rb") as f:
            (mirror,) = list(mio.FlowReader(f).stream())
        assert mirror.metadata[HELD_KEY] == [[0, b"public"]]
        assert mirror.metadata[MODIFIED_KEY] == [[0, b"secret"]]
        assert mirror.messages[0].content == b"public"
        await client.set_intercept(None)
        await client.resume(flow.id)
        assert await asyncio.wait_for(r.readexactly(11), 3) == b"ECHO:public"
        w.write(b"more")
        assert await asyncio.wait_for(r.readexactly(9), 3) == b"ECHO:more"
        w.close()
        await wait_until(lambda: record.exists() and record.stat().st_size > 0)
    with record.open("rb") as f:
        flows = list(mio.FlowReader(f).stream())
    assert len(flows) == 1
    (read,) = flows
    assert [m.content for m in read.messages][:2] == [b"public", b"ECHO:public"]
    assert read.metadata[MODIFIED_KEY] == [[0, b"secret"]]
    assert HELD_KEY not in read.metadata


async def test_relay_announces_and_applies_resume_on_detach(tmp_path: Path) -> None:
    """With ``--on-detach resume`` the hello says so, and the held bytes reach the server
    once the last inspector is gone."""
    async with relay_setup(tmp_path, on_detach="resume") as (relay, echo, addr):
        async with running_client(addr) as client:
            assert client.on_detach == "resume"
            await client.set_intercept("~tcp")
            r, w = await asyncio.open_connection(*relay.listen)
            w.write(b"left-held")
            await _held_flow(client, 1)
            await _nothing_arrives(r)
            assert echo.received == b""
        await wait_until(lambda: echo.received == b"left-held")
        w.close()


async def test_the_hello_says_resume_by_default(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (_relay, _echo, addr), running_client(addr) as client:
        assert client.on_detach == "resume"


@pytest.mark.mitmproxy
async def test_mitmdump_edits_and_drops_held_messages(tmp_path: Path) -> None:
    echo = EchoServer()
    await echo.start()
    try:
        port = free_port()
        mode = f"reverse:tcp://127.0.0.1:{echo.port}@{port}"
        async with run_mitm(tmp_path, mode) as addr, running_client(addr) as client:
            assert client.on_detach == "resume"
            await _check_edit_and_drop(client, echo, port)
    finally:
        await echo.stop()


@pytest.mark.mitmproxy
async def test_mitmdump_resumes_held_flows_on_detach(tmp_path: Path) -> None:
    echo = EchoServer()
    await echo.start()
    try:
        port = free_port()
        mode = f"reverse:tcp://127.0.0.1:{echo.port}@{port}"
        extra = ["--set", "flowtui_on_detach=resume"]
        async with run_mitm(tmp_path, mode, extra=extra) as addr:
            async with running_client(addr) as client:
                assert client.on_detach == "resume"
                await client.set_intercept("~tcp", "client")
                r, w = await asyncio.open_connection("127.0.0.1", port)
                w.write(b"left-held")
                await _held_flow(client, 1)
                await _nothing_arrives(r)
            await wait_until(lambda: echo.received == b"left-held")
            assert await asyncio.wait_for(r.readexactly(14), 3) == b"ECHO:left-held"
            w.close()
    finally:
        await echo.stop()


class _WebSocketEcho:
    """A WebSocket server (wsproto, mitmproxy's own dependency) answering each binary
    message with ``ECHO:`` + it; records what it received."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> _WebSocketEcho:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Request

        ws = WSConnection(ConnectionType.SERVER)
        try:
            while data := await r.read(65536):
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, Request):
                        w.write(ws.send(AcceptConnection()))
                    elif isinstance(event, BytesMessage):
                        self.received.append(bytes(event.data))
                        w.write(ws.send(BytesMessage(data=b"ECHO:" + bytes(event.data))))
                    elif isinstance(event, CloseConnection):
                        w.write(ws.send(event.response()))
                await w.drain()
        except OSError:
            pass
        finally:
            w.close()


class _WebSocketClient:
    """A WebSocket client on a real socket: `send` binary messages, `receive` them."""

    def __init__(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        from wsproto import ConnectionType, WSConnection

        self.r, self.w = r, w
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.inbox: list[bytes] = []

    @classmethod
    async def connect(cls, port: int) -> _WebSocketClient:
        from wsproto.events import AcceptConnection, Request

        client = cls(*await asyncio.open_connection("127.0.0.1", port))
        client.w.write(client.ws.send(Request(host=f"127.0.0.1:{port}", target="/ws")))
        while True:
            client.ws.receive_data(await asyncio.wait_for(client.r.read(65536), 5))
            if any(isinstance(e, AcceptConnection) for e in client.ws.events()):
                return client

    def send(self, data: bytes) -> None:
        from wsproto.events import BytesMessage

        self.w.write(self.ws.send(BytesMessage(data=data)))

    async def receive(self, timeout: float = 3) -> bytes:
        from wsproto.events import BytesMessage

        while not self.inbox:
            data = await asyncio.wait_for(self.r.read(65536), timeout)
            if not data:
                raise ConnectionError("closed")
            self.ws.receive_data(data)
            self.inbox += [bytes(e.data) for e in self.ws.events() if isinstance(e, BytesMessage)]
        return self.inbox.pop(0)


@pytest.mark.mitmproxy
async def test_mitmdump_edits_and_drops_held_websocket_messages(tmp_path: Path) -> None:
    """Under mitmproxy a WebSocket message is held by its hook: the edit is what the
    server gets, and a drop is mitmproxy's own (`message.drop()`, its `dropped` flag)."""
    from flowtui.core import HTTPFlow

    async with _WebSocketEcho() as server:
        port = free_port()
        mode = f"reverse:http://127.0.0.1:{server.port}@{port}"
        async with run_mitm(tmp_path, mode) as addr, running_client(addr) as client:
            await client.set_intercept("~websocket", "client")
            ws = await _WebSocketClient.connect(port)
            ws.send(b"hello")

            def held_at(index: int) -> HTTPFlow | None:
                for f in client.flows.values():
                    entries = held_entries(f) if f.intercepted else []
                    if isinstance(f, HTTPFlow) and entries and entries[0][0] == index:
                        return f
                return None

            flow = await wait_until(lambda: held_at(0), timeout=5)
            assert held_entries(flow) == [(0, b"hello")]
            await client.edit_message(flow.id, 0, b"EDITED")
            await client.set_intercept("~websocket", "server")
            await client.resume(flow.id)
            await wait_until(lambda: server.received == [b"EDITED"])
            flow = await wait_until(lambda: held_at(1))  # the server's answer, held
            assert held_entries(flow) == [(1, b"ECHO:EDITED")]
            await client.drop_message(flow.id, 1)
            await wait_until(lambda: client.flows[flow.id].websocket.messages[1].dropped)
            await client.set_intercept(None)
            await client.resume(flow.id)
            with pytest.raises(TimeoutError):  # the dropped answer never arrives
                await ws.receive(timeout=HOLD)
            ws.send(b"second")
            assert await ws.receive() == b"ECHO:second"
            mirror = client.flows[flow.id]
            assert isinstance(mirror, HTTPFlow) and mirror.websocket is not None
            assert modified_entries(mirror) == {0: b"hello"}
            ws.w.close()


@pytest.mark.mitmproxy
async def test_mitmdump_edits_a_held_udp_datagram_and_refuses_to_drop_it(tmp_path: Path) -> None:
    """mitmproxy sends a UDP message's content as one datagram, even an empty one: a
    drop is refused (it would send an empty datagram); an edit is what the server gets."""
    import socket

    from mitm_helpers import udp_echo, udp_peer

    port = free_port(socket.SOCK_DGRAM)
    async with udp_echo() as (echo, echo_port):
        mode = f"reverse:udp://127.0.0.1:{echo_port}@{port}"
        async with (
            run_mitm(tmp_path, mode) as addr,
            running_client(addr) as client,
            udp_peer(port) as (sock, peer),
        ):
            await client.set_intercept("~udp", "client")
            sock.sendto(b"ping")
            flow = await wait_until(
                lambda: next((f for f in client.flows.values() if held_entries(f)), None)
            )
            assert held_entries(flow) == [(0, b"ping")]
            with pytest.raises(CommandError, match="cannot drop a UDP datagram"):
                await client.drop_message(flow.id, 0)
            await client.edit_message(flow.id, 0, b"PING!")
            await client.set_intercept(None)
            await client.resume(flow.id)
            assert await asyncio.wait_for(peer.answers.get(), 3) == b"ECHO:PING!"
            assert echo.received == [b"PING!"]
