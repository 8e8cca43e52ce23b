"""`J` (inject) and `r` on an HTTP flow in the app, against a real relay, a real
mitmdump 11 and a capture file: the bytes on the wire, the flow's record, what the
user is told."""

from __future__ import annotations

import asyncio
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from live_helpers import relay_setup, wait_until
from mitm_helpers import free_port, run_mitm
from test_inject import BodyHTTPServer
from textual.widgets import Input, Static

from flowtui.core import HTTPFlow, TCPFlow
from flowtui.live.injected import injected_indexes
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.screens.inject_dialog import InjectDialog
from flowtui.ui.screens.main import MainScreen
from flowtui.ui.widgets.message_rows import INJECTED_TAG, Kind
from flowtui.ui.widgets.message_view import MessageView
from flowtui.ui.widgets.status_bar import StatusBar


def _said(app: FlowtuiApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def _tcp(app: FlowtuiApp) -> TCPFlow:
    flow = app.store.view[0]
    assert isinstance(flow, TCPFlow)
    return flow


def _dialog_open(app: FlowtuiApp) -> bool:
    return isinstance(app.screen, InjectDialog)


def _headers(app: FlowtuiApp) -> list[str]:
    doc = app.screen_stack[0].query_one(MessageView).document
    return [str(p) for kind, _, p in doc.rows if kind == Kind.HEADER]


async def _connected(app: FlowtuiApp) -> None:
    bar = app.screen_stack[0].query_one(StatusBar)
    await wait_until(lambda: bar.info.health == "connected", timeout=5)


async def _type_injection(pilot: Any, text: str, *keys: str) -> str:
    """`J`, optional keys (ctrl+t, ctrl+o), the text; returns the preview; enter."""
    app = pilot.app
    await pilot.press("J")
    await pilot.pause()
    assert isinstance(app.screen, InjectDialog)
    for key in keys:
        await pilot.press(key)
    app.screen.query_one(Input).value = text
    await pilot.pause()
    shown = str(app.screen.query_one("#inject-preview", Static).render())
    await pilot.press("enter")
    await pilot.pause()
    return shown


async def test_j_injects_into_a_live_relay_flow_both_ways(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, echo, addr):
        app = make_app([], attach=addr, tz=UTC, detail_delay=0)
        async with app.run_test(size=(140, 40)) as pilot:
            await _connected(app)
            reader, writer = await asyncio.open_connection("127.0.0.1", relay.listen[1])
            writer.write(b"hello")
            assert await asyncio.wait_for(reader.readexactly(10), 3) == b"ECHO:hello"
            await wait_until(lambda: len(app.store) == 1 and len(_tcp(app).messages) == 2)
            assert _tcp(app).live

            # a bad escape is refused in the dialog, with where
            await pilot.press("J")
            await pilot.pause()
            assert isinstance(app.screen, InjectDialog)
            app.screen.query_one(Input).value = r"bad\q"
            await pilot.pause()
            error = str(app.screen.query_one("#inject-preview", Static).render())
            assert error.startswith("unknown escape \\q") and error.endswith("at 3: bad⁁\\q")
            await pilot.press("enter")
            assert isinstance(app.screen, InjectDialog)  # not sent
            await pilot.press("escape")
            await pilot.pause()

            # to the server, typed as text with escapes
            shown = await _type_injection(pilot, r"INJ\x00\r\n")
            assert shown == "6 bytes: 49 4e 4a 00 0d 0a → the server"
            await wait_until(lambda: bytes(echo.received) == b"helloINJ\x00\r\n")
            assert await asyncio.wait_for(reader.readexactly(11), 3) == b"ECHO:INJ\x00\r\n"
            await wait_until(lambda: "Injected 6 bytes to the server." in _said(app))

            # to the client, typed as hex
            shown = await _type_injection(pilot, "50 55 53 48", "ctrl+t", "ctrl+o")
            assert shown == "4 bytes: 50 55 53 48 → the client"
            assert await asyncio.wait_for(reader.readexactly(4), 3) == b"PUSH"
            assert bytes(echo.received) == b"helloINJ\x00\r\n"  # never to the server

            # the flow records both in place, the message viewer tags them
            await wait_until(lambda: injected_indexes(app.store.view[0]) == {2, 4})
            messages = [(m.from_client, m.content) for m in _tcp(app).messages]
            assert messages[2] == (True, b"INJ\x00\r\n") and messages[4] == (False, b"PUSH")
            await wait_until(lambda: len(_headers(app)) == 5)
            tagged = [h for h in _headers(app) if INJECTED_TAG in h]
            assert [h.split()[1] for h in tagged] == ["#2", "#4"]

            # a finished flow: refused before any dialog
            writer.close()
            await wait_until(lambda: not app.store.view[0].live, timeout=5)
            await pilot.press("J")
            await pilot.pause()
            assert "Cannot inject: its connection is closed." in _said(app)
            assert not _dialog_open(app)


async def test_j_and_r_on_a_capture_file_say_why_not(tmp_path: Path) -> None:
    from flowtui.core import Client, Request, Response, Server
    from flowtui.io import FlowWriter

    client = Client(peername=("127.0.0.1", 5000), sockname=("127.0.0.1", 8080), timestamp_start=1)
    flow = HTTPFlow(client, Server(address=("127.0.0.1", 80)))
    flow.request = Request.make("GET", "http://127.0.0.1/x")
    flow.response = Response.make(200, b"ok")
    capture = tmp_path / "http.flows"
    with capture.open("wb") as f:
        FlowWriter(f).add(flow)
    app = make_app([capture], tz=UTC, detail_delay=0)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("J")
        await pilot.press("r")
        await pilot.pause()
        said = _said(app)
        assert "Cannot inject: injecting needs a live proxy (flowtui attach)." in said
        assert "Cannot replay this HTTP flow from a capture file" in said
        assert "mitmproxy's client replay" in said
        assert len(app.store) == 1


@pytest.mark.mitmproxy
async def test_r_replays_an_http_flow_through_mitmdump_next_to_it(tmp_path: Path) -> None:
    server = BodyHTTPServer()
    await server.start()
    try:
        port = free_port()
        mode = f"reverse:http://127.0.0.1:{server.port}@{port}"
        async with run_mitm(tmp_path, mode) as addr:
            app = make_app([], attach=addr, tz=UTC, detail_delay=0)
            async with app.run_test(size=(140, 40)) as pilot:
                await _connected(app)
                for path in (b"/one", b"/two"):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.write(
                        b"PUT " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                    )
                    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                    writer.close()
                await wait_until(
                    lambda: len(app.store) == 2 and not any(f.live for f in app.store.view),
                    timeout=5,
                )
                first = app.store.view[0]
                key = app.store.key_of(first)
                assert key is not None
                main = app.screen_stack[0]
                assert isinstance(main, MainScreen)
                main.flow_list.select_flow(key)
                await pilot.pause()
                await pilot.press("r")
                await wait_until(lambda: len(server.requests) == 3, timeout=5)
                assert server.requests[2] == server.requests[0]
                await wait_until(lambda: len(app.store) == 3, timeout=5)
                view = list(app.store.view)
                assert view[0].id == first.id  # the replay follows its original
                assert view[1].is_replay == "request"
                assert view[1].metadata["flowtui.replay_of"] == first.id
                await wait_until(lambda: "Replaying through mitmproxy" in _said(app), timeout=5)
    finally:
        await server.stop()
