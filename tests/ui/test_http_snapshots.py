"""Snapshots of the HTTP inspector on captures recorded with a real mitmdump
(tests/data/mitmproxy-11: http_bodies, http_views, mixed_protocols, dns).

Deterministic as tests/ui/test_snapshots.py: UTC, a fixed clock, panes that follow the
cursor at once. Update with `--snapshot-update` only after looking at the new SVGs as
PNG.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent
from ui_support import ROOT

from flowtui.ui.app import FlowtuiApp, make_app

DATA = Path("tests/data/mitmproxy-11")
"""Relative, so the status bar shows the same name on every machine."""
BODIES = DATA / "http_bodies.flows"
VIEWS = DATA / "http_views.flows"
MIXED = DATA / "mixed_protocols.flows"
DNS = DATA / "dns.flows"
NOW = datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC)

Step = Callable[[Pilot[int]], Awaitable[None]]


@pytest.fixture(autouse=True)
def _in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _app(path: Path) -> FlowtuiApp:
    return make_app([path], now=lambda: NOW, tz=UTC, detail_delay=0)


def _steps(*keys: str, row: int = 0, tab: str | None = None) -> Step:
    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("home", *["down"] * row)
        await app.workers.wait_for_complete()
        if tab is not None:
            app.screen.query_one(TabbedContent).active = tab
            await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_http_list(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """HTTP, WebSocket, DNS, TCP and UDP rows: method, host and path, status coloured by
    class, content type (WebSocket count, DNS type and code), size, duration; columns
    drop by priority at 80."""
    assert snap_compare(_app(MIXED), terminal_size=size, run_before=_steps(row=0))


def test_json_body(snap_compare: Callable[..., bool]) -> None:
    """A JSON response, pretty-printed and highlighted, the detail maximised."""
    assert snap_compare(_app(VIEWS), terminal_size=(120, 40), run_before=_steps("enter", row=6))


def test_headers(snap_compare: Callable[..., bool]) -> None:
    """Response headers as a name/value table: three Set-Cookie and two X-Repeated kept
    in order, the Expires value with its comma."""
    assert snap_compare(_app(BODIES), terminal_size=(120, 40), run_before=_steps("enter", row=7))


def test_form(snap_compare: Callable[..., bool]) -> None:
    """A URL-encoded form request as a table (repeated and non-ASCII fields)."""
    assert snap_compare(
        _app(BODIES),
        terminal_size=(120, 40),
        run_before=_steps("enter", row=9, tab="tab-request"),
    )


def test_image(snap_compare: Callable[..., bool]) -> None:
    """A PNG response: type, dimensions, colour and its text chunk."""
    assert snap_compare(_app(VIEWS), terminal_size=(120, 40), run_before=_steps("enter", row=0))


def test_decode_error(snap_compare: Callable[..., bool]) -> None:
    """JSON that does not parse: the reason above the hex dump, the title says so."""
    assert snap_compare(_app(VIEWS), terminal_size=(120, 40), run_before=_steps("enter", row=1))


def test_websocket(snap_compare: Callable[..., bool]) -> None:
    """WebSocket messages in the message viewer: arrows, time, size, opcode."""
    assert snap_compare(_app(BODIES), terminal_size=(120, 40), run_before=_steps("enter", row=14))


def test_dns(snap_compare: Callable[..., bool]) -> None:
    """A DNS response: header, questions and answers as tables."""
    assert snap_compare(_app(DNS), terminal_size=(120, 40), run_before=_steps("enter", row=3))
