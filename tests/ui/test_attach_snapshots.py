"""Snapshots of the inspector attached to a live proxy: connected with live flows, the
connection lost and being retried, and refused for a wrong token.

Real where it matters: a real `LiveServer` on a Unix socket (in a thread with its own
event loop, so it outlives nothing) publishes factory flows with constant ids, times and
addresses; the app attaches through its real client and event bridge. The socket path
is relative to the test's directory so the status bar reads the same everywhere. Update
with `--snapshot-update` only after looking at the new SVGs (rsvg-convert them to PNG).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from live.live_helpers import wait_until
from textual.pilot import Pilot
from ui.factories import tcp_flow

from flowtui.core import Error, Flow
from flowtui.live.endpoints import Endpoint
from flowtui.live.server import LiveServer
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.widgets.status_bar import StatusBar

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
SOCK = "sock/live.sock"
"""Relative to the test's own directory (see `_in_tmp`)."""


class _Control:
    """The proxy side of a server that only publishes: commands are accepted, no-ops."""

    def base_state(self, flow: Any) -> dict[str, Any]:
        return Flow.get_state(flow)

    def kill(self, flow: Any) -> None: ...

    def set_intercept(self, spec: str | None) -> None: ...

    def changed(self, flow: Any) -> None: ...


class ServerThread:
    """A `LiveServer` on its own loop in a thread; stopped by the fixture."""

    def __init__(self, token: str | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = LiveServer(_Control(), token=token)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._call(self.server.start(Endpoint("unix", path=SOCK))).result(5)

    def _call(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def publish(self, *flows: Flow) -> None:
        async def go() -> None:
            for flow in flows:
                self.server.publish(flow)

        self._call(go()).result(5)

    async def close(self) -> None:
        await asyncio.wrap_future(self._call(self.server.close()))

    def stop(self) -> None:
        self._call(self.server.close()).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def servers() -> Iterator[list[ServerThread]]:
    started: list[ServerThread] = []
    yield started
    for s in started:
        s.stop()


def _app(token: str | None = None) -> FlowtuiApp:
    return make_app([], attach=f"unix:{SOCK}", token=token, now=lambda: NOW, tz=UTC, detail_delay=0)


def _health(app: FlowtuiApp) -> str:
    return app.screen_stack[0].query_one(StatusBar).info.health


def _live_flows() -> list[Flow]:
    done = tcp_flow(1, messages=4)
    done.error = Error("Connection killed.", 1_700_000_001.6)
    done.marked = ":default:"
    done.comment = "seen"
    held = tcp_flow(2, messages=3)
    held.live = True
    held.intercepted = True
    held.client_conn.timestamp_end = held.server_conn.timestamp_end = None
    return [done, held]


def _attached(server: ServerThread, *then: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, FlowtuiApp)
        await wait_until(lambda: _health(app) == "connected", timeout=5)
        server.publish(*_live_flows())
        await wait_until(lambda: len(app.store) == 2 and app.store.view[-1].intercepted)
        if "lose" in then:
            assert app.attachment is not None
            app.attachment.client.backoff = (30.0, 30.0)  # hold the retry text still
            await server.close()
            await wait_until(lambda: _health(app).endswith("retrying in 30s"))
        await pilot.pause()

    return run_before


def test_attached_with_live_flows(
    snap_compare: Callable[..., bool], servers: list[ServerThread]
) -> None:
    """Connected: a killed flow and a live intercepted one, following the newest."""
    servers.append(ServerThread())
    assert snap_compare(_app(), terminal_size=(120, 32), run_before=_attached(servers[0]))


def test_attached_connection_lost_retrying(
    snap_compare: Callable[..., bool], servers: list[ServerThread]
) -> None:
    """The proxy went away: the flows stay, the status bar says lost and when it retries."""
    servers.append(ServerThread())
    assert snap_compare(_app(), terminal_size=(120, 32), run_before=_attached(servers[0], "lose"))


def test_attached_refused_wrong_token(
    snap_compare: Callable[..., bool], servers: list[ServerThread]
) -> None:
    """A wrong token: refused once, in red, with no retrying."""
    servers.append(ServerThread(token="right"))

    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, FlowtuiApp)
        await wait_until(lambda: _health(app).startswith("refused"), timeout=5)
        await app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(_app(token="wrong"), terminal_size=(120, 32), run_before=run_before)
