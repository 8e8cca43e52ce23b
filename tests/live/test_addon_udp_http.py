"""The addon in a real mitmdump 11.0.2 with UDP and HTTP: real peers on 127.0.0.1.

UDP flows stream message by message and obey intercept, resume and kill; HTTP flows
show up with their request and update when the response comes.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from live_helpers import running_client, wait_until
from mitm_helpers import HTTPServer, free_port, run_mitm, udp_echo, udp_peer

from flowtui.core import HTTPFlow, UDPFlow
from flowtui.live.client import LiveClient, LiveEvent

pytestmark = pytest.mark.mitmproxy


def _udp_flow(client: LiveClient) -> UDPFlow:
    flow = next(iter(client.flows.values()))
    assert isinstance(flow, UDPFlow)
    return flow


async def test_udp_flow_streams_holds_releases_and_is_killed(tmp_path: Path) -> None:
    port = free_port(socket.SOCK_DGRAM)
    async with udp_echo() as (echo, echo_port):
        mode = f"reverse:udp://127.0.0.1:{echo_port}@{port}"
        async with (
            run_mitm(tmp_path, mode) as addr,
            running_client(addr) as client,
            udp_peer(port) as (sock, peer),
        ):
            sock.sendto(b"one")
            assert await asyncio.wait_for(peer.answers.get(), 3) == b"ECHO:one"
            await wait_until(lambda: client.flows and len(_udp_flow(client).messages) == 2)
            flow = _udp_flow(client)
            assert flow.live
            sock.sendto(b"two")  # appended to the same flow, in order
            assert await asyncio.wait_for(peer.answers.get(), 3) == b"ECHO:two"
            await wait_until(lambda: len(flow.messages) == 4)
            assert _udp_flow(client) is flow
            assert [m.content for m in flow.messages] == [b"one", b"ECHO:one", b"two", b"ECHO:two"]
            assert [m.from_client for m in flow.messages] == [True, False, True, False]

            # intercept holds the next datagram; resume forwards it
            await client.intercept(flow.id)
            await wait_until(lambda: flow.intercepted)
            sock.sendto(b"three")
            await wait_until(lambda: len(flow.messages) == 5)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(peer.answers.get(), 0.3)
            assert b"three" not in echo.received
            await client.resume(flow.id)
            assert await asyncio.wait_for(peer.answers.get(), 3) == b"ECHO:three"

            # kill while a datagram is held: it is never forwarded, the flow ends
            await client.intercept(flow.id)
            sock.sendto(b"four")
            await wait_until(lambda: len(flow.messages) == 7)
            await client.kill(flow.id)
            await wait_until(lambda: not flow.live)
            assert flow.error is not None and flow.error.msg == "Connection killed."
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(peer.answers.get(), 0.3)
            assert b"four" not in echo.received


async def test_http_flow_appears_with_its_request_then_gets_its_response(
    tmp_path: Path,
) -> None:
    async with HTTPServer() as server:
        port = free_port()
        mode = f"reverse:http://127.0.0.1:{server.port}@{port}"
        events: list[LiveEvent] = []
        async with (
            run_mitm(tmp_path, mode) as addr,
            running_client(addr, on_event=events.append) as client,
        ):
            await client.set_intercept("~q")  # hold requests: the flow has no response yet
            r, w = await asyncio.open_connection("127.0.0.1", port)
            try:
                w.write(b"GET /first HTTP/1.1\r\nHost: example\r\n\r\n")
                await wait_until(lambda: any(f.intercepted for f in client.flows.values()))
                (flow,) = client.flows.values()
                assert isinstance(flow, HTTPFlow)
                assert flow.method == "GET" and flow.pretty_url.endswith("/first")
                assert flow.status_code is None
                assert server.requests == []

                await client.set_intercept(None)
                await client.resume(flow.id)
                head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 3)
                assert head.startswith(b"HTTP/1.1 200")
                await wait_until(lambda: client.flows[flow.id].status_code == 200)
                assert not client.flows[flow.id].intercepted
                assert len(server.requests) == 1

                # the next request on the same connection is a new flow, complete at once
                await asyncio.wait_for(r.readexactly(5), 3)
                w.write(b"GET /second HTTP/1.1\r\nHost: example\r\n\r\n")
                await wait_until(lambda: len(client.flows) == 2)
                second = list(client.flows.values())[1]
                assert isinstance(second, HTTPFlow)
                await wait_until(lambda: client.flows[second.id].status_code == 200)
                # every update was understood: the connection never dropped to resync
                statuses = [e.status for e in events if e.kind == "status"]
                assert statuses == ["connecting", "connected"]
            finally:
                w.transport.abort()
