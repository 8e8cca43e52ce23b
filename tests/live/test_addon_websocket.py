"""WebSocket messages under a real mitmdump with the addon: each new message reaches the
inspector as an append (the flow's state is not re-sent with every message before it),
in order; an inspector from before WebSocket appends still gets them whole."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import wsproto
import wsproto.events as ws_events
from live_helpers import running_client, wait_until
from mitm_helpers import free_port, run_mitm

from flowtui.core import HTTPFlow
from flowtui.live.endpoints import parse_endpoint
from flowtui.live.protocol import FrameDecoder, encode, hello


async def _pump(conn: wsproto.WSConnection, r: asyncio.StreamReader) -> list[ws_events.Event]:
    data = await asyncio.wait_for(r.read(65536), 5)
    conn.receive_data(data or None)
    return list(conn.events())


@contextlib.asynccontextmanager
async def ws_echo_server() -> AsyncIterator[int]:
    """A WebSocket server on 127.0.0.1 that answers each text message with ``echo:`` +
    it; yields its port."""

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        conn = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        try:
            while True:
                for event in await _pump(conn, r):
                    if isinstance(event, ws_events.Request):
                        w.write(conn.send(ws_events.AcceptConnection()))
                    elif isinstance(event, ws_events.TextMessage):
                        w.write(conn.send(ws_events.TextMessage(data="echo:" + event.data)))
                    elif isinstance(event, ws_events.CloseConnection):
                        w.write(conn.send(event.response()))
                        w.close()
                        return
                await w.drain()
        except (OSError, TimeoutError, wsproto.utilities.LocalProtocolError):
            w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def _talk(port: int, count: int) -> None:
    """Open a WebSocket through the proxy, send ``count`` messages, read each echo."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    conn = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    w.write(conn.send(ws_events.Request(host="example", target="/chat")))
    while not any(isinstance(e, ws_events.AcceptConnection) for e in await _pump(conn, r)):
        pass
    for i in range(count):
        w.write(conn.send(ws_events.TextMessage(data=f"m{i}")))
        got: list[ws_events.Event] = []
        while not any(isinstance(e, ws_events.TextMessage) for e in got):
            got = await _pump(conn, r)
    w.write(conn.send(ws_events.CloseConnection(code=1000)))
    with contextlib.suppress(OSError, TimeoutError):
        await _pump(conn, r)
    w.close()


async def test_websocket_messages_arrive_as_appends_in_order(tmp_path: Path) -> None:
    async with ws_echo_server() as upstream:
        port = free_port()
        mode = f"reverse:http://127.0.0.1:{upstream}@{port}"
        async with run_mitm(tmp_path, mode) as addr:
            # a raw inspector that says it takes WebSocket appends, to see the frames
            ep = parse_endpoint(addr)
            r, w = await asyncio.open_unix_connection(ep.path)
            w.write(encode(hello("inspector", "test", features=["websocket-append"])))
            async with running_client(addr) as client:
                await _talk(port, 30)
                await wait_until(
                    lambda: any(
                        isinstance(f, HTTPFlow)
                        and f.websocket is not None
                        and len(f.websocket.messages) == 60
                        and not f.live
                        for f in client.flows.values()
                    ),
                    timeout=10,
                )
                (flow,) = client.flows.values()
                assert isinstance(flow, HTTPFlow) and flow.websocket is not None
                texts = [m.text for m in flow.websocket.messages]
                assert texts == [t for i in range(30) for t in (f"m{i}", f"echo:m{i}")]
                assert [m.from_client for m in flow.websocket.messages[:2]] == [True, False]
                assert flow.websocket.close_code == 1000
            decoder, frames = FrameDecoder(), []
            while True:
                with contextlib.suppress(TimeoutError):
                    data = await asyncio.wait_for(r.read(1 << 20), 0.5)
                    frames += decoder.feed(data)
                    continue
                break
            w.close()
    appended = [m for f in frames if f["type"] == "flows/append" for m in f["messages"]]
    assert [m[2] for m in appended] == [m.content for m in flow.websocket.messages]
    for f in frames:  # no state carried the messages again
        states = [f.get("flow"), *(f.get("flows") or []), f.get("changes")]
        for state in filter(None, states):
            assert not (state.get("websocket") or {}).get("messages"), f["type"]


async def test_an_inspector_without_websocket_appends_gets_them_whole(tmp_path: Path) -> None:
    async with ws_echo_server() as upstream:
        port = free_port()
        mode = f"reverse:http://127.0.0.1:{upstream}@{port}"
        async with run_mitm(tmp_path, mode) as addr:
            ep = parse_endpoint(addr)
            r, w = await asyncio.open_unix_connection(ep.path)
            w.write(encode(hello("inspector", "older flowtui")))  # no features
            await _talk(port, 5)
            decoder, latest = FrameDecoder(), None
            deadline = asyncio.get_running_loop().time() + 10
            while asyncio.get_running_loop().time() < deadline:
                with contextlib.suppress(TimeoutError):
                    for f in decoder.feed(await asyncio.wait_for(r.read(1 << 20), 0.5)):
                        assert f["type"] != "flows/append"
                        for state in filter(None, [f.get("flow"), f.get("changes")]):
                            if (state.get("websocket") or {}).get("messages"):
                                latest = state["websocket"]["messages"]
                if latest is not None and len(latest) == 10:
                    break
            w.close()
    assert latest is not None
    assert [m[2] for m in latest] == [t.encode() for i in range(5) for t in (f"m{i}", f"echo:m{i}")]


async def test_a_long_websocket_costs_o1_per_message_in_the_app(
    tmp_path: Path, monkeypatch
) -> None:
    """The attached app counts a growing WebSocket's summary from its new messages only
    (its list of messages is the mirror's, appended to in place)."""
    import flowtui.store.flow_store as flow_store_module
    from flowtui.ui.app import make_app

    full: list[int] = []
    real_summarize = flow_store_module.summarize

    def summarize(flow, totals=None):  # type: ignore[no-untyped-def]
        if isinstance(flow, HTTPFlow) and flow.websocket is not None and totals is None:
            full.append(len(flow.websocket.messages))
        return real_summarize(flow) if totals is None else real_summarize(flow, totals)

    monkeypatch.setattr(flow_store_module, "summarize", summarize)
    rounds = 300
    async with ws_echo_server() as upstream:
        port = free_port()
        mode = f"reverse:http://127.0.0.1:{upstream}@{port}"
        async with run_mitm(tmp_path, mode) as addr:
            app = make_app([], attach=addr, detail_delay=0)
            async with app.run_test(size=(120, 40)):
                await _talk(port, rounds)

                def done() -> HTTPFlow | None:
                    for flow in app.store.view:
                        ws = flow.websocket if isinstance(flow, HTTPFlow) else None
                        if ws is not None and len(ws.messages) == 2 * rounds and not flow.live:
                            return flow  # type: ignore[return-value]
                    return None

                flow = await wait_until(done, timeout=20)
                # the store takes the mirror's changes once per frame
                await wait_until(lambda: app.store.summary(flow).messages == 2 * rounds)
                summary = app.store.summary(flow)
                contents = sum(len(m.content) for m in flow.websocket.messages)
                assert summary.size == contents  # the handshake has no bodies
                assert len(full) <= 1, full  # counted whole only when first added


async def test_j_injects_into_a_live_websocket_from_the_app(tmp_path: Path) -> None:
    """`J` on a WebSocket flow of a real mitmdump: the server gets the message (and
    answers it), the flow records it with mitmproxy's own `injected` flag."""
    from textual.widgets import Input

    from flowtui.ui.app import make_app
    from flowtui.ui.screens.inject_dialog import InjectDialog

    async with ws_echo_server() as upstream:
        port = free_port()
        mode = f"reverse:http://127.0.0.1:{upstream}@{port}"
        async with run_mitm(tmp_path, mode) as addr:
            app = make_app([], attach=addr, detail_delay=0)
            async with app.run_test(size=(140, 40)) as pilot:
                r, w = await asyncio.open_connection("127.0.0.1", port)
                conn = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
                w.write(conn.send(ws_events.Request(host="example", target="/chat")))
                accepted = False
                while not accepted:
                    events = await _pump(conn, r)
                    accepted = any(isinstance(e, ws_events.AcceptConnection) for e in events)

                def flow() -> HTTPFlow | None:
                    for f in app.store.view:
                        if isinstance(f, HTTPFlow) and f.websocket is not None and f.live:
                            return f
                    return None

                ws_flow = await wait_until(flow, timeout=10)
                app.screen_stack[0].flow_list.select_flow(app.store.key_of(ws_flow))
                await pilot.pause()
                await pilot.press("J")
                await pilot.pause()
                assert isinstance(app.screen, InjectDialog)
                app.screen.query_one(Input).value = "hello from J"
                await pilot.pause()
                await pilot.press("enter")
                got: list[str] = []
                while "echo:hello from J" not in got:  # the server answered the injection
                    got += [e.data for e in await _pump(conn, r) if hasattr(e, "data")]
                assert got == ["echo:hello from J"]

                def recorded() -> bool:
                    ws = ws_flow.websocket
                    return ws is not None and len(ws.messages) == 2

                await wait_until(recorded, timeout=10)
                assert ws_flow.websocket is not None
                first, answer = ws_flow.websocket.messages
                assert (first.content, first.from_client, first.injected) == (
                    b"hello from J",
                    True,
                    True,
                )
                assert answer.content == b"echo:hello from J" and not answer.injected
                w.close()
