"""Snapshots of steering: a replayed TCP flow next to its original (the list's replay
sign, the replay's messages and its connection pane), and the inject dialog over a live
flow that already holds an injected message.

Deterministic as the other snapshots: fixed ids, times and addresses, UTC, a fixed
clock. The live one attaches through the real client to a real `LiveServer` on a Unix
socket (see `test_attach_snapshots`). Update with `--snapshot-update` only after
looking at the new SVGs as PNG.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path

import pytest
from live.live_helpers import wait_until
from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent
from ui.factories import T0, tcp_flow
from ui.test_attach_snapshots import NOW, SOCK, ServerThread

from flowtui.core import Client, Server, TCPFlow, TCPMessage
from flowtui.live.injected import INJECTED_KEY
from flowtui.store import FlowStore
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.screens.inject_dialog import InjectDialog


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def server() -> Iterator[ServerThread]:
    started = ServerThread()
    yield started
    started.stop()


def _original() -> TCPFlow:
    flow = tcp_flow(1, messages=0)
    flow.messages = [
        TCPMessage(True, b"HELO one\r\n", T0 + 1.1),
        TCPMessage(False, b"250 ok\r\n", T0 + 1.2),
        TCPMessage(True, b"QUIT\r\n", T0 + 1.3),
        TCPMessage(False, b"221 bye\r\n", T0 + 1.4),
    ]
    return flow


def _replay_of(original: TCPFlow) -> TCPFlow:
    """What `r` makes of `original` (see `flowtui.live.replay`), with fixed values."""
    start = T0 + 60
    client = Client(
        peername=("127.0.0.1", 52000),
        sockname=("127.0.0.1", 52000),
        timestamp_start=start,
        timestamp_end=start + 2.1,
    )
    server = Server(
        address=original.server_conn.address,
        peername=original.server_conn.address,
        sockname=("127.0.0.1", 52000),
        timestamp_start=start,
        timestamp_tcp_setup=start + 0.002,
        timestamp_end=start + 2.1,
    )
    new = TCPFlow(client, server, live=False)
    new.id = "00000000-0000-4000-8000-000000000099"
    new.timestamp_created = start
    new.is_replay = "request"
    new.metadata["flowtui.replay_of"] = original.id
    new.messages = [
        TCPMessage(True, b"HELO one\r\n", start + 0.01),
        TCPMessage(False, b"250 ok again\r\n", start + 0.02),
        TCPMessage(True, b"QUIT\r\n", start + 0.03),
        TCPMessage(False, b"221 bye\r\n", start + 0.04),
    ]
    return new


def _replay_app() -> FlowtuiApp:
    store = FlowStore()
    original = _original()
    store.add([original, _replay_of(original), tcp_flow(2), tcp_flow(3)])
    return make_app([], now=lambda: NOW, tz=UTC, detail_delay=0, store=store)


def _on_replay(tab: str | None, row: int = 1) -> Callable[[Pilot[int]], object]:
    """Move to `row` (the replay's), show `tab`."""

    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("home", *["down"] * row)
        if tab is not None:
            app.screen.query_one(TabbedContent).active = tab
        await pilot.pause()

    return run_before


def test_replay_next_to_its_original(snap_compare: Callable[..., bool]) -> None:
    """The replay (↻) right after its original; its messages below."""
    assert snap_compare(_replay_app(), terminal_size=(120, 36), run_before=_on_replay(None))


def test_replay_connection_pane(snap_compare: Callable[..., bool]) -> None:
    """The replay's connection pane: the replay badge and which flow it replays."""
    assert snap_compare(
        _replay_app(), terminal_size=(120, 36), run_before=_on_replay("tab-connection")
    )


def test_inject_dialog(snap_compare: Callable[..., bool], server: ServerThread) -> None:
    """`J` on a live flow: direction, notation, the typed text and its byte preview;
    behind it the flow's message #2, injected earlier, tagged."""

    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, FlowtuiApp)
        await wait_until(lambda: app.attachment is not None and app.attachment.client.can("inject"))
        flow = _original()
        flow.live = True
        flow.client_conn.timestamp_end = flow.server_conn.timestamp_end = None
        flow.metadata[INJECTED_KEY] = [2]
        server.publish(flow)
        await wait_until(lambda: len(app.store) == 1)
        await pilot.pause()
        await pilot.press("J")
        await pilot.pause()
        assert isinstance(app.screen, InjectDialog)
        field = app.screen.query_one(Input)
        field.cursor_blink = False
        field.value = r"NOOP\r\n\x00\xff"
        await pilot.pause()

    app = make_app([], attach=f"unix:{SOCK}", now=lambda: NOW, tz=UTC, detail_delay=0)
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_injected_messages_tagged(snap_compare: Callable[..., bool]) -> None:
    """A flow's injected messages (TCP: by index in its metadata) tagged in the viewer."""
    store = FlowStore()
    flow = _original()
    flow.messages.insert(2, TCPMessage(True, b"NOOP\r\n", T0 + 1.25))
    flow.messages.append(TCPMessage(False, b"\x00\xffpush", T0 + 1.5))
    flow.metadata[INJECTED_KEY] = [2, 5]
    store.add([flow, tcp_flow(2)])
    app = make_app([], now=lambda: NOW, tz=UTC, detail_delay=0, store=store)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_on_replay(None, row=0))
