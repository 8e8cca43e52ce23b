"""Held messages in the real app attached to a real relay: the viewer marks what is held,
`E` edits it (text with escapes or hex, validated), `x` drops it, `V` restores it, `a`
sends what is held, and quitting while the proxy holds flows asks first. The bytes are
checked where they arrive: at the echo server, or at the client."""

from __future__ import annotations

import asyncio
from datetime import UTC
from pathlib import Path

import pytest
from live_helpers import relay_setup, wait_until
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from flowtui.core import Flow
from flowtui.live.held import dropped_indexes, held_entries, modified_entries
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.screens.dialogs import QuitDialog
from flowtui.ui.screens.held_dialogs import LeaveHeldDialog, MessageEditDialog
from flowtui.ui.widgets.flow_info import FlowInfo
from flowtui.ui.widgets.message_rows import Kind
from flowtui.ui.widgets.message_view import MessageView
from flowtui.ui.widgets.status_bar import StatusBar

HOLD = 0.3
"""Seconds a held connection is watched for bytes that must not arrive."""


async def _nothing_arrives(reader: asyncio.StreamReader) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(1), HOLD)


def _headers(app: FlowtuiApp) -> list[str]:
    view = app.main.query_one(MessageView)
    return [str(r[2]) for r in view.rows if r[0] == Kind.HEADER]


async def _connected(app: FlowtuiApp) -> None:
    bar = app.screen_stack[0].query_one(StatusBar)
    await wait_until(lambda: bar.info.health == "connected")


async def _held_in_store(app: FlowtuiApp, first: int) -> Flow:
    def holding() -> Flow | None:
        for flow in app.store.view:
            held = held_entries(flow) if flow.intercepted else []
            if held and held[0][0] == first:
                return flow
        return None

    flow: Flow = await wait_until(holding)
    return flow


async def _edit(pilot: Pilot[int], text: str) -> None:
    app = pilot.app
    await pilot.press("E")
    await pilot.pause()
    assert isinstance(app.screen, MessageEditDialog)
    app.screen.query_one(TextArea).load_text(text)
    await pilot.press("ctrl+s")
    await pilot.pause()


async def test_edit_drop_revert_and_send_held_messages(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, echo, addr):
        app = make_app([], attach=addr, tz=UTC, detail_delay=0)
        async with app.run_test(size=(140, 40)) as pilot:
            await _connected(app)
            client = app.attachment.client if app.attachment else None
            assert client is not None
            await client.set_intercept("~tcp", "client")
            r, w = await asyncio.open_connection(*relay.listen)
            w.write(b"hello\r\n")
            await _held_in_store(app, 0)
            await pilot.pause()
            view = app.main.query_one(MessageView)
            await wait_until(lambda: any("⏸ held" in h for h in _headers(app)))
            assert "⏸ 1 held" in str(view.border_title)
            info = str(app.main.query_one(FlowInfo).describe(view.flow))
            assert "intercepted: 1 message held" in info

            # E: the content as text with escapes; a bad escape is refused in the dialog
            await pilot.press("E")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, MessageEditDialog)
            area = dialog.query_one(TextArea)
            assert area.text == "hello\\r\n"
            area.load_text("hel\\q")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is dialog  # refused: still editing
            assert "unknown escape" in str(dialog.query_one("#edit-error", Static).render())
            area.load_text("HELLO\\x21")
            await pilot.press("ctrl+t")  # to hex, validated on the way
            await pilot.pause()
            assert dialog.mode == "hex" and area.text == "48 45 4c 4c 4f 21"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert not isinstance(app.screen, MessageEditDialog)
            await wait_until(lambda: relay_flow(relay).messages[0].content == b"HELLO!")
            await wait_until(lambda: any("✎ edited" in h for h in _headers(app)))

            # V: back to what the client sent, while it is still held
            await pilot.press("V")
            await wait_until(lambda: relay_flow(relay).messages[0].content == b"hello\r\n")
            await wait_until(lambda: not modified_entries(relay_flow(relay)))
            await _edit(pilot, "edited\\n")
            await wait_until(lambda: relay_flow(relay).messages[0].content == b"edited\n")
            await _nothing_arrives(r)
            assert echo.received == b""

            # a: sends what is held, edited; the answer (held next) is dropped with x
            await client.set_intercept("~tcp", "server")
            await pilot.press("a")
            await wait_until(lambda: echo.received == b"edited\n")
            await _held_in_store(app, 1)
            await pilot.pause()
            await pilot.press("x")
            await wait_until(lambda: 1 in dropped_indexes(relay_flow(relay)))
            await wait_until(
                lambda: any("✗ dropped (12 bytes not sent)" in h for h in _headers(app))
            )
            await client.set_intercept(None)
            await pilot.press("a")
            await _nothing_arrives(r)  # the dropped answer never reaches the client
            w.write(b"then")
            assert await asyncio.wait_for(r.readexactly(9), 3) == b"ECHO:then"
            w.close()


def relay_flow(relay: object) -> Flow:
    """The relay's own flow (the only one)."""
    flows = list(getattr(relay, "live").flows.values())  # noqa: B009
    assert len(flows) == 1
    flow: Flow = flows[0]
    return flow


async def test_nothing_held_says_so(tmp_path: Path) -> None:
    async with relay_setup(tmp_path) as (relay, _echo, addr):
        app = make_app([], attach=addr, tz=UTC, detail_delay=0)
        async with app.run_test(size=(140, 40)) as pilot:
            await _connected(app)
            r, w = await asyncio.open_connection(*relay.listen)
            w.write(b"free")
            assert await asyncio.wait_for(r.readexactly(9), 3) == b"ECHO:free"
            await wait_until(lambda: len(app.store) == 1)
            await pilot.pause()
            await pilot.press("E")
            await pilot.pause()
            assert not isinstance(app.screen, MessageEditDialog)
            notes = [str(n.message) for n in app._notifications]
            assert any("No message of this flow is held" in n for n in notes)
            w.close()


async def test_quitting_with_held_flows_asks_and_can_resume_them(tmp_path: Path) -> None:
    async with relay_setup(tmp_path, on_detach="keep") as (relay, echo, addr):
        app = make_app([], attach=addr, tz=UTC, detail_delay=0)
        async with app.run_test(size=(140, 40)) as pilot:
            await _connected(app)
            client = app.attachment.client if app.attachment else None
            assert client is not None
            await client.set_intercept("~tcp", "client")
            _r, w = await asyncio.open_connection(*relay.listen)
            w.write(b"waiting")
            await _held_in_store(app, 0)
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, LeaveHeldDialog)
            text = str(app.screen.query_one("#leave-text", Static).render())
            assert "1 flow is held by the proxy" in text and "keep it held" in text
            await pilot.press("escape")  # cancel: still attached, still held
            await pilot.pause()
            assert not isinstance(app.screen, LeaveHeldDialog) and app.is_running
            assert echo.received == b""
            await pilot.press("q")
            await pilot.pause()
            await pilot.press("r")  # resume all and quit (asking about the unsaved capture)
            await wait_until(lambda: echo.received == b"waiting")
            await wait_until(lambda: isinstance(app.screen, QuitDialog))
            await pilot.press("d")
            await pilot.pause()
            assert not app.is_running
            w.close()
