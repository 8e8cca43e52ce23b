"""`flowtui attach`: the app attached to a real `flowtui proxy` relay.

Every test runs a real relay (in-process, on the test's loop) in front of a real echo
server on 127.0.0.1 and drives a real client socket; the keys go through the running
app and the effect is checked on the sockets and through a second `LiveClient`.
Every wait is bounded; everything stops at the end of its test.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from live.live_helpers import EchoServer, running_client, wait_until
from textual.widgets import Input, Static

from flowtui.core import Flow, TCPFlow
from flowtui.io import read_flows
from flowtui.live.endpoints import Endpoint, load_or_create_token
from flowtui.live.relay import Relay
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.screens.dialogs import QuitDialog, SaveDialog
from flowtui.ui.widgets.message_view import MessageView
from flowtui.ui.widgets.status_bar import StatusBar

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


def _app(address: str, token: str | None = None) -> FlowtuiApp:
    return make_app([], attach=address, token=token, now=lambda: NOW, tz=UTC, detail_delay=0)


@contextlib.asynccontextmanager
async def _relay(path: Path, **kw: Any) -> AsyncIterator[tuple[Relay, EchoServer]]:
    echo = EchoServer()
    await echo.start()
    relay = Relay(("127.0.0.1", 0), ("127.0.0.1", echo.port), **kw)
    await relay.start(Endpoint("unix", path=str(path)))
    try:
        yield relay, echo
    finally:
        await relay.close()
        await echo.stop()


@contextlib.asynccontextmanager
async def _client(relay: Relay) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection(*relay.listen)
    try:
        yield reader, writer
    finally:
        writer.transport.abort()


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    assert await asyncio.wait_for(reader.readexactly(5 + len(data)), 2) == b"ECHO:" + data


def _health(app: FlowtuiApp) -> str:
    return app.screen_stack[0].query_one(StatusBar).info.health


def _live_flow(app: FlowtuiApp) -> TCPFlow:
    flow = app.store.view[-1]
    assert isinstance(flow, TCPFlow)
    return flow


def _shown_text(app: FlowtuiApp) -> str:
    view = app.screen_stack[0].query_one(MessageView)
    return "\n".join(str(row[2]) for row in view.rows)


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "sock" / "live.sock"


async def test_live_flow_messages_intercept_resume_kill(sock: Path) -> None:
    async with _relay(sock) as (relay, echo):
        app = _app(f"unix:{sock}")
        async with app.run_test(size=(120, 40)) as pilot, _client(relay) as (reader, writer):
            await wait_until(lambda: _health(app) == "connected")
            await _echo(reader, writer, b"hello")
            await wait_until(lambda: len(app.store) == 1)
            flow = _live_flow(app)
            assert flow.live
            await wait_until(lambda: "ECHO:hello" in _shown_text(app))
            assert "No messages" not in _shown_text(app)
            await _echo(reader, writer, b"second")  # a new message appends in the viewer
            await wait_until(lambda: "ECHO:second" in _shown_text(app))

            await pilot.press("i")
            await wait_until(lambda: _live_flow(app).intercepted)
            writer.write(b"held")
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reader.readexactly(9), 0.5)
            assert b"held" not in echo.received
            await pilot.press("a")
            assert await asyncio.wait_for(reader.readexactly(9), 2) == b"ECHO:held"
            await wait_until(lambda: not _live_flow(app).intercepted)

            await pilot.press("i")
            await wait_until(lambda: _live_flow(app).intercepted)
            await pilot.press("A")
            await wait_until(lambda: not _live_flow(app).intercepted)
            await _echo(reader, writer, b"again")

            await pilot.press("X")
            assert await asyncio.wait_for(reader.read(), 1) == b""
            await asyncio.wait_for(echo.closed.wait(), 1)
            await wait_until(lambda: app.store.summary(_live_flow(app)).killed)
            assert not _live_flow(app).live


async def test_mark_and_comment_reach_the_proxy(sock: Path) -> None:
    async with (
        _relay(sock) as (relay, _),
        running_client(f"unix:{sock}") as other,
    ):
        app = _app(f"unix:{sock}")
        async with app.run_test(size=(120, 40)) as pilot, _client(relay) as (reader, writer):
            await _echo(reader, writer, b"x")
            await wait_until(lambda: len(app.store) == 1)
            fid = _live_flow(app).id
            await pilot.press("m")
            await wait_until(lambda: other.flows[fid].marked == ":default:")
            await wait_until(lambda: _live_flow(app).marked == ":default:")
            await pilot.press("semicolon")
            await pilot.press(*"look", "space", *"here", "ctrl+s")
            await wait_until(lambda: other.flows[fid].comment == "look here")
            await wait_until(lambda: _live_flow(app).comment == "look here")
            assert app.changes == 0  # the proxy owns the flows: nothing "unsaved" locally


async def test_refused_command_is_shown(sock: Path) -> None:
    async with _relay(sock) as (relay, _):
        app = _app(f"unix:{sock}")
        async with app.run_test(size=(120, 40)) as pilot, _client(relay) as (reader, writer):
            await _echo(reader, writer, b"x")
            await wait_until(lambda: len(app.store) == 1)
            writer.transport.abort()
            await wait_until(lambda: not _live_flow(app).live)
            await pilot.press("i")
            await wait_until(lambda: any("not live" in str(n.message) for n in app._notifications))


async def test_lost_proxy_is_retried_and_resynchronised(sock: Path) -> None:
    app = _app(f"unix:{sock}")
    async with (
        _relay(sock) as (relay, _),
        app.run_test(size=(120, 40)),
        _client(relay) as (reader, writer),
    ):
        await _echo(reader, writer, b"before")
        await wait_until(lambda: len(app.store) == 1)
        first = _live_flow(app).id
        await relay.close()
        await wait_until(lambda: "retrying in" in _health(app))
        assert _health(app).startswith("lost")
        assert first in app.store  # nothing shown is lost
        async with _relay(sock) as (relay2, _), _client(relay2) as (r2, w2):
            await wait_until(lambda: _health(app).startswith("connected"), timeout=8)
            assert "the proxy restarted" in _health(app)  # a new relay: said so
            await _echo(r2, w2, b"after")
            await wait_until(lambda: len(app.store) == 2)
            assert first in app.store
            old = app.store.get(first)
            assert old is not None and not old.live
            assert any(m.content == b"ECHO:before" for m in old.messages)  # type: ignore[attr-defined]


async def test_wrong_token_is_refused_once(tmp_path: Path) -> None:
    token = load_or_create_token(str(tmp_path / "token"))
    echo = EchoServer()
    await echo.start()
    relay = Relay(("127.0.0.1", 0), ("127.0.0.1", echo.port), token=token)
    await relay.start(Endpoint("tcp", host="127.0.0.1", port=0))
    try:
        assert relay.live.endpoint is not None
        app = _app(str(relay.live.endpoint), token="wrong")
        async with app.run_test(size=(120, 40)):
            await wait_until(lambda: _health(app).startswith("refused"))
            assert "token" in _health(app) and "retrying" not in _health(app)
            # The live worker ended: no retry loop.
            await asyncio.wait_for(app.workers.wait_for_complete(), 3)
            assert app.is_running
    finally:
        await relay.close()
        await echo.stop()


async def test_garbage_server_shows_an_error_and_the_app_stays_up(sock: Path) -> None:
    async def junk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff" * 64 + b"not a protocol at all\r\n")
        await writer.drain()
        with contextlib.suppress(OSError):
            await reader.read()
        writer.close()

    sock.parent.mkdir(mode=0o700)
    server = await asyncio.start_unix_server(junk, str(sock))
    try:
        app = _app(f"unix:{sock}")
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(lambda: _health(app).startswith("refused"))
            await pilot.press("F", "w", "escape")
            assert app.is_running
            assert "frame" in _health(app) or "invalid" in _health(app)
    finally:
        server.close()


async def test_save_writes_the_live_capture(sock: Path, tmp_path: Path) -> None:
    target = tmp_path / "live.flows"
    async with _relay(sock) as (relay, _):
        app = _app(f"unix:{sock}")
        async with app.run_test(size=(120, 40)) as pilot, _client(relay) as (reader, writer):
            await _echo(reader, writer, b"keep me")
            await wait_until(lambda: len(_live_flow(app).messages) == 2 if app.store else False)
            await pilot.press("w", "a")
            dialog = app.screen
            assert isinstance(dialog, SaveDialog)
            field = dialog.query_one(Input)
            assert field.value == "flowtui-live-20261120-120000.flows"
            field.value = str(target)
            await pilot.press("enter")
            await wait_until(target.exists)  # written atomically: complete once there
    flows: list[Flow] = read_flows(target)
    assert len(flows) == 1 and isinstance(flows[0], TCPFlow)
    assert [m.content for m in flows[0].messages] == [b"keep me", b"ECHO:keep me"]


def _dialog_text(app: FlowtuiApp) -> str:
    return " ".join(str(w.render()) for w in app.screen.query(Static))


async def test_quit_asks_before_dropping_unsaved_captured_flows(sock: Path, tmp_path: Path) -> None:
    target = tmp_path / "kept.flows"
    async with _relay(sock) as (relay, _):
        app = _app(f"unix:{sock}")
        async with app.run_test(size=(120, 40)) as pilot, _client(relay) as (reader, writer):
            await _echo(reader, writer, b"precious")
            await wait_until(lambda: len(_live_flow(app).messages) == 2 if app.store else False)
            await pilot.press("ctrl+q")
            assert isinstance(app.screen, QuitDialog)
            assert "1 captured flow is not saved." in _dialog_text(app)
            await pilot.press("escape")  # cancel: still attached, nothing lost
            assert not isinstance(app.screen, QuitDialog) and app.is_running
            assert len(app.store) == 1

            await pilot.press("ctrl+q", "s")  # save and quit
            dialog = app.screen
            assert isinstance(dialog, SaveDialog)
            dialog.query_one(Input).value = str(target)
            await pilot.press("enter")
            await wait_until(lambda: not app.is_running)
    assert app.return_code == 0
    flows = read_flows(target)
    assert [m.content for m in flows[0].messages] == [b"precious", b"ECHO:precious"]  # type: ignore[attr-defined]


async def test_quit_after_save_asks_again_only_for_new_captures(sock: Path, tmp_path: Path) -> None:
    async with _relay(sock) as (relay, _):
        app = _app(f"unix:{sock}")
        async with app.run_test(size=(120, 40)) as pilot, _client(relay) as (reader, writer):
            await _echo(reader, writer, b"one")
            await wait_until(lambda: len(_live_flow(app).messages) == 2 if app.store else False)
            app.saving.save(tmp_path / "saved.flows")
            await wait_until(lambda: app.attachment is not None and app.attachment.saved)
            await _echo(reader, writer, b"two")  # captured after the save
            await wait_until(lambda: len(_live_flow(app).messages) == 4)
            await pilot.press("ctrl+q")
            assert isinstance(app.screen, QuitDialog)
            assert "1 captured flow is not saved." in _dialog_text(app)
            await pilot.press("d")  # discard: quits without saving
            await wait_until(lambda: not app.is_running)
    assert app.return_code == 0


async def test_quit_without_captures_or_after_saving_everything_does_not_ask(
    sock: Path, tmp_path: Path
) -> None:
    async with _relay(sock) as (relay, _):
        empty = _app(f"unix:{sock}")  # nothing captured yet: quits at once
        async with empty.run_test(size=(120, 40)) as pilot:
            await wait_until(lambda: _health(empty) == "connected")
            await pilot.press("ctrl+q")
            await wait_until(lambda: not empty.is_running)
        assert empty.return_code == 0

        app = _app(f"unix:{sock}")
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(lambda: _health(app) == "connected")
            async with _client(relay) as (reader, writer):
                await _echo(reader, writer, b"one")
            await wait_until(lambda: len(app.store) == 1 and not _live_flow(app).live)
            app.saving.save(tmp_path / "saved.flows")
            await wait_until(lambda: app.attachment is not None and app.attachment.saved)
            await pilot.press("ctrl+q")
            await wait_until(lambda: not app.is_running)
        assert app.return_code == 0
