"""The recording relay against a real echo server and real client sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from live_helpers import relay_setup, running_client, wait_until

from flowtui.io import read_flows
from flowtui.live.client import CommandError


async def _connect(relay) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(*relay.listen)


async def test_flow_appears_while_open_and_messages_append(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, echo, addr), running_client(addr) as client:
        r, w = await _connect(relay)
        w.write(b"hello")
        assert await asyncio.wait_for(r.readexactly(10), 2) == b"ECHO:hello"
        flow = await wait_until(lambda: next(iter(client.flows.values()), None))
        await wait_until(lambda: len(client.flows[flow.id].messages) == 2)
        mirrored = client.flows[flow.id]
        assert mirrored.live and mirrored.type == "tcp"
        assert [m.content for m in mirrored.messages] == [b"hello", b"ECHO:hello"]
        assert mirrored.client_conn.proxy_mode.full_spec == relay.mode
        assert mirrored.server_conn.address == ("127.0.0.1", echo.port)
        assert mirrored.server_conn.peername == ("127.0.0.1", echo.port)
        w.close()
        await wait_until(lambda: not client.flows[flow.id].live)


async def test_intercept_holds_resume_delivers_in_order(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, echo, addr), running_client(addr) as client:
        r, w = await _connect(relay)
        w.write(b"a")
        await asyncio.wait_for(r.readexactly(6), 2)
        flow_id = next(iter(client.flows))
        await client.intercept(flow_id)
        assert relay.live.flows[flow_id].intercepted
        w.write(b"b")
        await w.drain()
        await wait_until(lambda: len(client.flows[flow_id].messages) == 3)
        await asyncio.sleep(0.3)
        assert bytes(echo.received) == b"a"  # held: the server never saw "b"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(r.read(1), 0.2)
        await client.resume(flow_id)
        w.write(b"c")
        assert await asyncio.wait_for(r.readexactly(12), 2) == b"ECHO:bECHO:c"
        assert bytes(echo.received) == b"abc"
        w.close()


async def test_kill_closes_both_sockets_at_once(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, echo, addr), running_client(addr) as client:
        r, w = await _connect(relay)
        w.write(b"x")
        await asyncio.wait_for(r.readexactly(6), 2)
        flow_id = next(iter(client.flows))
        await client.intercept(flow_id)
        w.write(b"held")
        await wait_until(lambda: len(client.flows[flow_id].messages) == 3)
        start = time.monotonic()
        await client.kill(flow_id)
        assert await asyncio.wait_for(r.read(), 1) == b""  # client side closed
        await asyncio.wait_for(echo.closed.wait(), 1)  # server side closed
        elapsed = time.monotonic() - start
        assert elapsed < 1.0
        await wait_until(lambda: client.flows[flow_id].error is not None)
        assert client.flows[flow_id].error.msg == "Connection killed."
        assert bytes(echo.received) == b"x"
        with pytest.raises(CommandError, match="not killable"):
            await client.kill(flow_id)
        w.close()
        print(f"kill-to-close: {elapsed * 1000:.1f} ms")


async def test_mark_and_comment_reach_the_proxy_flow(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, _echo, addr), running_client(addr) as client:
        r, w = await _connect(relay)
        w.write(b"x")
        await asyncio.wait_for(r.readexactly(6), 2)
        flow_id = next(iter(client.flows))
        await client.mark(flow_id, ":grapes:")
        await client.comment(flow_id, "[/bold] \x1b[2J")
        assert relay.live.flows[flow_id].marked == ":grapes:"
        assert relay.live.flows[flow_id].comment == "[/bold] \x1b[2J"
        await wait_until(lambda: client.flows[flow_id].comment == "[/bold] \x1b[2J")
        with pytest.raises(CommandError, match="no flow"):
            await client.mark("nope")
        with pytest.raises(CommandError, match="direction"):
            await client.set_intercept("~tcp", "sideways")
        w.close()


async def test_write_file_holds_complete_flows(tmp_path: Path) -> None:
    out = tmp_path / "out.flows"
    async with relay_setup(tmp_path, write_to=str(out)) as (relay, _echo, _addr):
        for i in range(3):
            r, w = await _connect(relay)
            w.write(b"n%d" % i)
            await asyncio.wait_for(r.readexactly(7), 2)
            w.close()
            await w.wait_closed()
        await wait_until(lambda: out.stat().st_size > 0 and len(read_flows(str(out))) == 3)
    flows = read_flows(str(out))
    assert [[m.content for m in f.messages] for f in flows] == [
        [b"n%d" % i, b"ECHO:n%d" % i] for i in range(3)
    ]
    assert all(f.client_conn.timestamp_end for f in flows)


@pytest.mark.mitmproxy
def test_write_file_loads_in_mitmproxy(tmp_path: Path) -> None:
    from mitmproxy.io import FlowReader

    out = tmp_path / "out.flows"

    async def go() -> None:
        async with relay_setup(tmp_path, write_to=str(out)) as (relay, _e, _a):
            r, w = await _connect(relay)
            w.write(b"\x00\xffbin")
            await asyncio.wait_for(r.readexactly(10), 2)
            w.close()
            await w.wait_closed()
            await wait_until(lambda: out.exists() and out.stat().st_size > 0)

    asyncio.run(go())
    with out.open("rb") as f:
        flows = list(FlowReader(f).stream())
    assert len(flows) == 1
    assert flows[0].messages[0].content == b"\x00\xffbin"
    assert flows[0].client_conn.proxy_mode.full_spec.startswith("reverse:tcp://127.0.0.1:")
