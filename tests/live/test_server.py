"""The live socket server: several inspectors, slow ones, bad ones, permissions, policies."""

from __future__ import annotations

import asyncio
import os
import stat
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from live_helpers import EchoServer, relay_setup, running_client, wait_until

from flowtui.live.client import CommandError, LiveClient
from flowtui.live.endpoints import Endpoint, load_or_create_token
from flowtui.live.protocol import FrameDecoder, encode, hello
from flowtui.live.relay import Relay


async def _open_flow(relay: Relay) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    r, w = await asyncio.open_connection(*relay.listen)
    w.write(b"hi")
    await asyncio.wait_for(r.readexactly(7), 2)
    return r, w


async def test_socket_mode_0600_in_0700_dir(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (_relay, _echo, addr):
        path = Path(addr.removeprefix("unix:"))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_shared_directory_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    relay = Relay(("127.0.0.1", 0), ("127.0.0.1", 9))
    with pytest.raises(PermissionError, match="reachable by other users"):
        await relay.start(Endpoint("unix", path=str(shared / "x.sock")))
    await relay.close()


async def test_two_clients_see_the_same_flows(tmp_path: Path) -> None:
    async with (
        relay_setup(tmp_path) as (relay, _echo, addr),
        running_client(addr) as a,
        running_client(addr) as b,
    ):
        _r, w = await _open_flow(relay)
        await wait_until(lambda: a.flows and b.flows)
        fid = next(iter(a.flows))
        await wait_until(lambda: len(b.flows[fid].messages) == 2)
        await a.comment(fid, "from a")
        await wait_until(lambda: b.flows[fid].comment == "from a")
        w.close()


async def test_tcp_token_required_and_wrong_token_refused(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token = load_or_create_token(str(token_file))
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert load_or_create_token(str(token_file)) == token
    echo = EchoServer()
    await echo.start()
    relay = Relay(("127.0.0.1", 0), ("127.0.0.1", echo.port), token=token)
    await relay.start(Endpoint("tcp", host="127.0.0.1", port=0))
    ep = relay.live.endpoint
    try:
        async with running_client(str(ep), token=token) as good:
            assert good.status == "connected"
        bad = LiveClient(str(ep), token="wrong", retry=False)
        await asyncio.wait_for(bad.run(), 3)
        assert bad.status.startswith("refused") and "token" in bad.status
        assert not bad.connected.is_set()
    finally:
        await relay.close()
        await echo.stop()


async def test_garbage_frame_closes_only_that_client(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, _echo, addr), running_client(addr) as good:
        path = addr.removeprefix("unix:")
        for payload in (b"\xff" * 64, struct.pack(">I", 2**31) + b"x", encode({"type": "nope"})):
            r, w = await asyncio.open_unix_connection(path)
            w.write(encode(hello("inspector", "test")))
            decoder = FrameDecoder()
            first = decoder.feed(await asyncio.wait_for(r.read(65536), 3))
            assert first[0]["type"] == "hello"
            w.write(payload)
            data = await asyncio.wait_for(r.read(), 3)  # the rest, until the server closes us
            messages = first[1:] + decoder.feed(data)
            assert messages[-1]["type"] == "error"
            w.close()
        _r, w2 = await _open_flow(relay)
        await wait_until(lambda: good.flows)  # the good client carried on
        assert good.connected.is_set()
        w2.close()


async def test_a_slow_inspector_neither_stalls_traffic_nor_costs_a_resync(
    tmp_path: Path,
) -> None:
    """Its queue refers to the flows' new messages instead of holding encoded copies: a
    flood of content never overflows it, and when it reads at last it gets every
    message once, in order, without the whole backlog being sent again."""
    async with relay_setup(tmp_path, queue_limit=64 * 1024) as (relay, echo, addr):
        path = addr.removeprefix("unix:")
        r_slow, w_slow = await asyncio.open_unix_connection(path)  # never reads after hello
        w_slow.write(encode(hello("inspector", "slow")))
        await wait_until(lambda: relay.live.inspectors == 1)
        async with running_client(addr) as fast:
            r, w = await asyncio.open_connection(*relay.listen)
            chunk = os.urandom(32 * 1024)
            start = asyncio.get_running_loop().time()
            for _ in range(200):  # 6.4 MB through the relay while one inspector sleeps
                w.write(chunk)
                await r.readexactly(len(chunk) + 5)
            elapsed = asyncio.get_running_loop().time() - start
            assert len(echo.received) == 200 * len(chunk)
            assert elapsed < 10
            sessions = relay.live._sessions
            assert not any(s.overflows for s in sessions)
            assert all(s.queued <= 64 * 1024 for s in sessions)
            fid = next(iter(relay.live.flows))
            await wait_until(lambda: len(fast.flows[fid].messages) >= 400, timeout=10)
            # the slow inspector, reading at last, gets the reset it was due, then each
            # message exactly once
            decoder, resets, contents = FrameDecoder(), 0, []
            total = len(relay.live.flows[fid].messages)
            while len(contents) < total:
                for m in decoder.feed(await asyncio.wait_for(r_slow.read(1 << 20), 5)):
                    if m["type"] == "flows/reset":
                        resets += 1
                    elif m["type"] == "flows/append" and m["id"] == fid:
                        contents.extend(c for _, c, _ in m["messages"])
            assert resets == 1
            assert contents == [m.content for m in relay.live.flows[fid].messages]
            print(
                f"relayed {200 * len(chunk) / elapsed / 1e6:.1f} MB/s round trip (slow inspector)"
            )
            w.close()
        w_slow.close()


async def test_an_inspector_behind_a_flood_of_events_is_resynced(tmp_path: Path) -> None:
    async with relay_setup(tmp_path, queue_limit=8 * 1024) as (relay, _echo, addr):
        path = addr.removeprefix("unix:")
        r_slow, w_slow = await asyncio.open_unix_connection(path)
        w_slow.transport.pause_reading()  # it never reads: the proxy's socket buffer fills
        w_slow.write(encode(hello("inspector", "slow")))
        await wait_until(lambda: relay.live.inspectors == 1)
        # Every new flow is an event of a few hundred bytes: past the socket's buffer
        # (about 200 kB) and the 8 kB queue.
        for _ in range(400):
            _r, w = await _open_flow(relay)
            w.close()
        await wait_until(lambda: len(relay.live.flows) == 400)
        (session,) = relay.live._sessions
        await wait_until(lambda: session.overflows > 0)
        w_slow.transport.resume_reading()
        decoder, flows = FrameDecoder(), set[str]()
        while len(flows) < 400:
            for m in decoder.feed(await asyncio.wait_for(r_slow.read(1 << 20), 5)):
                if m["type"] == "flows/reset":
                    flows = {f["id"] for f in m["flows"]}
                elif m["type"] == "flows/add":
                    flows.add(m["flow"]["id"])
        assert flows == set(relay.live.flows)
        w_slow.close()


@pytest.mark.parametrize("policy", ["keep", "resume", "kill"])
async def test_on_detach_policy(tmp_path: Path, policy: str) -> None:
    async with relay_setup(tmp_path, on_detach=policy) as (relay, echo, addr):
        r, w = await _open_flow(relay)
        async with running_client(addr) as client:
            fid = next(iter(await wait_until(lambda: client.flows)))
            await client.intercept(fid)
            w.write(b"later")
            await wait_until(lambda: len(relay.live.flows[fid].messages) == 3)
        await wait_until(lambda: relay.live.inspectors == 0)
        flow = relay.live.flows[fid]
        if policy == "keep":
            await asyncio.sleep(0.2)
            assert flow.intercepted and bytes(echo.received) == b"hi"
        elif policy == "resume":
            assert await asyncio.wait_for(r.readexactly(10), 2) == b"ECHO:later"
        else:
            assert await asyncio.wait_for(r.read(), 2) == b""
            assert flow.error is not None and flow.error.msg == "Connection killed."
        w.close()


async def _read_until(
    r: asyncio.StreamReader, decoder: FrameDecoder, kind: str
) -> dict[str, object]:
    for _ in range(100):  # bounded: each read is one chunk of the proxy's frames
        data = await asyncio.wait_for(r.read(65536), 3)
        assert data, f"the proxy closed the connection before a {kind!r}"
        for message in decoder.feed(data):
            if message["type"] == kind:
                return message
    raise AssertionError(f"no {kind!r} frame")


async def test_command_in_the_same_packet_as_the_hello_is_answered(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (_relay, _echo, addr):
        r, w = await asyncio.open_unix_connection(addr.removeprefix("unix:"))
        # one write, so the proxy reads the hello and the ping in the same chunk
        w.write(encode(hello("inspector", "test")) + encode({"type": "ping", "rid": 7}))
        decoder = FrameDecoder()
        reply = await _read_until(r, decoder, "reply")
        assert reply["rid"] == 7 and reply["ok"] is True
        w.close()


@asynccontextmanager
async def _tcp_relay(tmp_path: Path, **live: object) -> AsyncIterator[tuple[Relay, str]]:
    """A relay whose live socket is TCP on 127.0.0.1 with a token; `live` sets its
    `LiveServer` attributes (the pre-authentication limits) before it listens."""
    echo = EchoServer()
    await echo.start()
    relay = Relay(("127.0.0.1", 0), ("127.0.0.1", echo.port), token="s3cret")
    for name, value in live.items():
        assert hasattr(relay.live, name)
        setattr(relay.live, name, value)
    await relay.start(Endpoint("tcp", host="127.0.0.1", port=0))
    try:
        yield relay, str(relay.live.endpoint)
    finally:
        await relay.close()
        await echo.stop()


async def _closed_by_peer(r: asyncio.StreamReader) -> list[dict[str, object]]:
    """What the proxy sent before closing the connection (bounded wait)."""
    data = await asyncio.wait_for(r.read(), 3)
    return FrameDecoder().feed(data)


async def test_a_big_frame_before_the_hello_is_refused_at_its_length(tmp_path: Path) -> None:
    async with _tcp_relay(tmp_path) as (relay, _addr):
        assert relay.live.endpoint is not None
        r, w = await asyncio.open_connection("127.0.0.1", relay.live.endpoint.port)
        w.write(struct.pack(">I", 1024 * 1024) + b"\x00" * 1000)  # announces 1 MiB
        messages = await _closed_by_peer(r)
        assert messages and messages[-1]["type"] == "error"
        assert "65536" in str(messages[-1]["message"])
        w.close()
        # an authenticated inspector may still send (and be sent) frames above it
        assert relay.live.max_frame > relay.live.hello_max_frame
        async with running_client(str(relay.live.endpoint), token="s3cret") as client:
            with pytest.raises(CommandError, match="no flow with id"):
                await client.comment("unknown", "y" * 100_000)  # a 100 kB frame
            assert client.connected.is_set()


async def test_unauthenticated_connections_are_bounded_and_timed_out(tmp_path: Path) -> None:
    async with _tcp_relay(tmp_path, max_unauthenticated=3, hello_timeout=0.3) as (relay, _a):
        assert relay.live.endpoint is not None
        port = relay.live.endpoint.port
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        await wait_until(lambda: relay.live.unauthenticated == 3)
        r4, w4 = await asyncio.open_connection("127.0.0.1", port)
        assert await _closed_by_peer(r4) == []  # closed on arrival: 3 are waiting
        assert relay.live.refused_unauthenticated == 1
        for r, _w in idle:  # each one times out and is closed
            assert await _closed_by_peer(r) == []
        await wait_until(lambda: relay.live.unauthenticated == 0)
        for _r, w in [*idle, (r4, w4)]:
            w.close()
        # the slots are free again: an inspector with the token attaches
        async with running_client(str(relay.live.endpoint), token="s3cret") as client:
            assert client.status == "connected"
