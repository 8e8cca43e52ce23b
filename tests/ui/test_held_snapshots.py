"""Snapshots of held messages: the viewer with held, edited and dropped messages, the
edit dialog, and the question asked when quitting while the proxy holds flows.

A real `LiveServer` (in a thread, as in `test_attach_snapshots`) publishes a factory
flow with constant ids and times; its proxy side says which messages it holds, as the
relay does. Update with `--snapshot-update` only after looking at the new SVGs as PNG.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from live.live_helpers import wait_until
from textual.pilot import Pilot
from ui.factories import tcp_flow
from ui.test_attach_snapshots import NOW, SOCK, ServerThread

from flowtui.core import Flow, TCPFlow
from flowtui.live.held import DROPPED_KEY, MODIFIED_KEY
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.widgets.status_bar import StatusBar


class _HoldingControl:
    """A proxy side holding the last message of each direction of intercepted flows."""

    def base_state(self, flow: Any) -> dict[str, Any]:
        return Flow.get_state(flow)

    def kill(self, flow: Any) -> None: ...

    def set_intercept(self, spec: str | None, direction: str = "both") -> None: ...

    def changed(self, flow: Any) -> None: ...

    def held_messages(self, flow: Any) -> list[tuple[int, bytes]]:
        return [(i, flow.messages[i].content) for i in (2, 3)] if flow.intercepted else []

    def change_message(self, flow: Any, index: int, content: bytes | None) -> None: ...


def _held_flow() -> TCPFlow:
    """Four messages: the server's first answer dropped, the client's second edited and
    held, the server's second held."""
    flow = tcp_flow(2, messages=4)
    flow.live = True
    flow.intercepted = True
    flow.client_conn.timestamp_end = flow.server_conn.timestamp_end = None
    flow.metadata[DROPPED_KEY] = [[1, flow.messages[1].content]]
    flow.messages[1].content = b""
    flow.metadata[MODIFIED_KEY] = [[2, flow.messages[2].content]]
    flow.messages[2].content = b"USER=admin\r\nPASS=edited\r\n"
    return flow


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def server() -> Iterator[ServerThread]:
    started = ServerThread()
    started.server.control = _HoldingControl()
    yield started
    started.stop()


def _app() -> FlowtuiApp:
    return make_app([], attach=f"unix:{SOCK}", now=lambda: NOW, tz=UTC, detail_delay=0)


def _steps(server: ServerThread, *keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, FlowtuiApp)
        bar = app.screen_stack[0].query_one(StatusBar)
        await wait_until(lambda: bar.info.health == "connected", timeout=5)
        server.publish(_held_flow())
        await wait_until(lambda: len(app.store) == 1 and app.store.view[0].intercepted)
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await pilot.pause()

    return run_before


def test_held_messages_in_the_viewer(
    snap_compare: Callable[..., bool], server: ServerThread
) -> None:
    """Held messages are marked in order per direction; the edited and dropped ones say
    so; the title and the info line count the held."""
    assert snap_compare(_app(), terminal_size=(120, 36), run_before=_steps(server))


def test_edit_held_message_dialog(snap_compare: Callable[..., bool], server: ServerThread) -> None:
    """`E`: the held message (the client's, edited) as text with escapes."""
    assert snap_compare(_app(), terminal_size=(120, 36), run_before=_steps(server, "E"))


def test_edit_held_message_dialog_hex(
    snap_compare: Callable[..., bool], server: ServerThread
) -> None:
    """`E` then ctrl+t: the same message as hex."""
    assert snap_compare(_app(), terminal_size=(120, 36), run_before=_steps(server, "E", "ctrl+t"))


def test_quit_with_held_flows(snap_compare: Callable[..., bool], server: ServerThread) -> None:
    """`q` while the proxy holds a flow: what it will do, and the three choices."""
    assert snap_compare(_app(), terminal_size=(120, 36), run_before=_steps(server, "q"))
