"""Replay of a finished TCP flow against real servers on 127.0.0.1 (plain and TLS)."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from test_tls import _pki

from flowtui.core import Client, Server, TCPFlow, TCPMessage
from flowtui.live.replay import ReplayError, ReplayOptions, replay_tcp, replayable

QUICK = ReplayOptions(idle=0.3, timeout=5)


class Recorder:
    """Records every byte each connection sends, answers `ECHO:` + each read, and can
    say which ALPN protocol and SNI a TLS client asked for."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.reads: list[bytes] = []
        self.server_names: list[str | None] = []
        self.port = 0
        self.server: asyncio.Server | None = None

    async def start(self, ctx: ssl.SSLContext | None = None) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=ctx)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        got = bytearray()
        try:
            while data := await r.read(65536):
                got += data
                self.reads.append(data)
                w.write(b"ECHO:" + data)
                await w.drain()
        except OSError:
            pass
        finally:
            self.received.append(bytes(got))
            w.close()

    def close(self) -> None:
        assert self.server is not None
        self.server.close()


def _finished_flow(port: int, messages: list[tuple[bool, bytes, float]], **tls: object) -> TCPFlow:
    client = Client(peername=("127.0.0.1", 50000), sockname=("127.0.0.1", 8080), timestamp_start=1)
    server = Server(address=("127.0.0.1", port))
    for key, value in tls.items():
        setattr(server, key, value)
        setattr(client, key, value)
    flow = TCPFlow(client, server, live=False)
    flow.messages = [TCPMessage(c, b, t) for c, b, t in messages]
    return flow


ORIGINAL = [
    (True, b"HELO one\r\n", 100.0),
    (False, b"250 ok\r\n", 100.1),
    (True, b"\x00\x01binary\xff", 100.5),
    (True, b"QUIT\r\n", 103.0),
    (False, b"221 bye\r\n", 103.1),
]


async def test_replay_sends_the_client_bytes_in_order_and_records_answers() -> None:
    rec = Recorder()
    await rec.start()
    try:
        old = _finished_flow(rec.port, ORIGINAL)
        new = await replay_tcp(old, QUICK)
        await asyncio.sleep(0.05)
        assert rec.received == [b"HELO one\r\n\x00\x01binary\xffQUIT\r\n"]
        assert new.is_replay == "request"
        assert new.metadata["flowtui.replay_of"] == old.id
        assert new.id != old.id and new.error is None
        assert [m.content for m in new.messages if m.from_client] == [
            b"HELO one\r\n", b"\x00\x01binary\xff", b"QUIT\r\n"
        ]  # fmt: skip
        answers = b"".join(m.content for m in new.messages if not m.from_client)
        assert answers == b"".join(b"ECHO:" + r for r in rec.reads)
        assert new.server_conn.address == ("127.0.0.1", rec.port)
        assert new.server_conn.peername == ("127.0.0.1", rec.port)
        assert not new.live
        assert old.messages[0].content == b"HELO one\r\n"  # the original is untouched
        # the new flow survives mitmproxy's format (a save, a reload)
        from flowtui.core import Flow

        again = Flow.from_state(new.get_state())
        assert again.is_replay == "request"
    finally:
        rec.close()


async def test_timing_mode_waits_the_original_gaps_in_order() -> None:
    rec = Recorder()
    await rec.start()
    waits: list[tuple[float, int]] = []
    try:
        old = _finished_flow(rec.port, ORIGINAL)

        before = [len(b"HELO one\r\n"), len(b"HELO one\r\n\x00\x01binary\xff")]

        async def fake_sleep(seconds: float) -> None:
            # let what was sent so far arrive, then note how much the server has: the
            # next message must not be among it (it is sent after the wait)
            want = before[len(waits)] if len(waits) < len(before) else 0
            for _ in range(300):
                if sum(len(x) for x in rec.reads) >= want:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.02)
            waits.append((seconds, sum(len(x) for x in rec.reads)))

        new = await replay_tcp(
            old, ReplayOptions(timing=True, idle=0.3, timeout=5, max_gap=2.0), sleep=fake_sleep
        )
        # one wait before each later client message: 0.5 s, then 2.5 s capped at 2 s
        assert [round(s, 3) for s, _ in waits] == [0.5, 2.0]
        # each wait came after the previous message was on the wire, not before
        assert [n for _, n in waits] == before
        assert new.metadata["flowtui.replay_timing"] is True
        waits.clear()
        await replay_tcp(old, QUICK, sleep=fake_sleep)  # as fast as possible: no waits
        assert waits == []
    finally:
        rec.close()


async def test_replay_over_tls_with_the_original_sni_and_alpn(tmp_path: Path) -> None:
    chain, key, _ca = _pki(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    ctx.set_alpn_protocols(["flowtui-test", "http/1.1"])
    rec = Recorder()

    def on_sni(sslobj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        rec.server_names.append(name)

    ctx.sni_callback = on_sni  # type: ignore[assignment]
    await rec.start(ctx)
    try:
        old = _finished_flow(
            rec.port,
            ORIGINAL,
            tls=True,
            sni="echo.test",
            alpn_offers=[b"flowtui-test"],
            alpn=b"flowtui-test",
        )
        new = await replay_tcp(old, QUICK)
        await asyncio.sleep(0.05)
        assert new.error is None, new.error
        assert rec.server_names == ["echo.test"]
        assert rec.received == [b"HELO one\r\n\x00\x01binary\xffQUIT\r\n"]
        assert new.server_conn.tls and new.server_conn.sni == "echo.test"
        assert new.server_conn.alpn == b"flowtui-test"
        answers = b"".join(m.content for m in new.messages if not m.from_client)
        assert answers == b"".join(b"ECHO:" + r for r in rec.reads)
    finally:
        rec.close()


async def test_unreachable_server_gives_a_flow_with_the_error() -> None:
    rec = Recorder()
    await rec.start()
    port = rec.port
    rec.close()
    await asyncio.sleep(0.05)
    new = await replay_tcp(_finished_flow(port, ORIGINAL), QUICK)
    assert new.error is not None and "Cannot connect" in new.error.msg
    assert new.is_replay == "request"


def test_what_cannot_be_replayed() -> None:
    live = _finished_flow(9, ORIGINAL)
    live.live = True
    assert "live" in (replayable(live) or "")
    assert "nothing" in (replayable(_finished_flow(9, [(False, b"hi", 1.0)])) or "")
    raw_tls = _finished_flow(9, [(True, b"\x16\x03\x01\x00\x05hello", 1.0)], tls=True)
    assert "encrypted" in (replayable(raw_tls) or "")
    with pytest.raises(ReplayError, match="encrypted"):
        asyncio.run(replay_tcp(raw_tls))


async def test_r_replays_the_focused_flow_of_a_file_next_to_it(tmp_path: Path) -> None:
    """`r` in the app on a capture file: the replay runs in a worker thread, the server
    gets the original bytes, the new flow appears right after the original."""
    from datetime import UTC

    from live_helpers import wait_until

    from flowtui.io import FlowWriter
    from flowtui.ui.app import make_app

    rec = Recorder()
    await rec.start()
    try:
        old = _finished_flow(rec.port, ORIGINAL)
        capture = tmp_path / "one.flows"
        with capture.open("wb") as f:
            FlowWriter(f).add(old)
        app = make_app([capture], tz=UTC, detail_delay=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert len(app.store) == 1
            await pilot.press("r")
            await wait_until(lambda: len(app.store) == 2, timeout=10)
            assert app.store.view[0].id == old.id
            new = app.store.view[1]
            assert new.is_replay == "request"
            assert new.metadata["flowtui.replay_of"] == old.id
            assert rec.received == [b"HELO one\r\n\x00\x01binary\xffQUIT\r\n"]
            assert app.changes > 0  # a save would write it
    finally:
        rec.close()
