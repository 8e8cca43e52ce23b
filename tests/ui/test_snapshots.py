"""Snapshots of every state of the inspector, over the real sample capture.

Deterministic: times in UTC, a fixed clock for certificate checks, detail panes that
follow the cursor at once, Textual's default theme (no config file is read), no
blinking cursor in inputs. Update with `--snapshot-update`
only after looking at the new SVGs (rsvg-convert them to PNG).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent
from ui.factories import hostile_flow, tcp_flow
from ui_support import ROOT

from flowtui.store import FlowStore
from flowtui.ui.app import FlowtuiApp, make_app

SAMPLE = Path("flowtui/sample/sample.flows")
"""Relative, so the status bar shows the same name on every machine (see `_in_root`)."""

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
"""The clock every snapshot runs at."""

Step = Callable[[Pilot[int]], Awaitable[None]]


@pytest.fixture(autouse=True)
def _in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _app(*paths: Path, store: FlowStore | None = None) -> FlowtuiApp:
    return make_app(list(paths), now=lambda: NOW, tz=UTC, detail_delay=0, store=store)


def _steps(*keys: str, row: int | None = None, tab: str | None = None) -> Step:
    """Wait for loading, move to `row`, show `tab`, then press `keys`."""

    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        await app.workers.wait_for_complete()
        await pilot.pause()
        if row is not None:
            await pilot.press("home", *["down"] * row)
        if tab is not None:
            app.screen.query_one(TabbedContent).active = tab
            await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await app.workers.wait_for_complete()
        for field in app.screen.query(Input):  # a steady cursor: the same picture each run
            field.cursor_blink = False
        await pilot.pause()

    return run_before


# -- the main screen at three sizes -------------------------------------------------------


@pytest.mark.parametrize(
    "size", [(120, 40), (80, 24), (200, 50)], ids=["120x40", "80x24", "200x50"]
)
def test_main_screen(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """The sample as first opened: list, messages of flow #1, status bar, footer."""
    assert snap_compare(_app(SAMPLE), terminal_size=size, run_before=_steps())


# -- detail panes -----------------------------------------------------------------------------


def test_tls_connection_pane(snap_compare: Callable[..., bool]) -> None:
    """A TLS 1.3 flow's connection pane: both sides, timings, every certificate."""
    assert snap_compare(
        _app(SAMPLE), terminal_size=(120, 40), run_before=_steps(row=0, tab="tab-connection")
    )


def test_tls_connection_pane_maximised(snap_compare: Callable[..., bool]) -> None:
    """enter maximises the detail area."""
    assert snap_compare(
        _app(SAMPLE),
        terminal_size=(120, 40),
        run_before=_steps("enter", row=0, tab="tab-connection"),
    )


def test_hex_view(snap_compare: Callable[..., bool]) -> None:
    """Messages of a flow with control bytes, switched to the hex dump (h twice: text, hex)."""
    assert snap_compare(
        _app(SAMPLE), terminal_size=(120, 40), run_before=_steps("enter", "h", "h", row=4)
    )


# -- flow states ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "keys"),
    [(12, ()), (9, ()), (3, ("m", "semicolon", "x", "ctrl+s"))],
    ids=["intercepted", "killed", "modified"],
)
def test_flow_state(snap_compare: Callable[..., bool], row: int, keys: tuple[str, ...]) -> None:
    """The cursor on an intercepted, a killed and a just-modified flow."""
    assert snap_compare(_app(SAMPLE), terminal_size=(120, 40), run_before=_steps(*keys, row=row))


def test_hostile_payload(snap_compare: Callable[..., bool]) -> None:
    """Markup, an action, OSC 52, a screen clear, NUL and CR show as visible escapes."""
    store = FlowStore()
    store.add([hostile_flow(), tcp_flow(2)])
    assert snap_compare(_app(store=store), terminal_size=(120, 40), run_before=_steps())


def test_hostile_payload_connection(snap_compare: Callable[..., bool]) -> None:
    """The hostile SNI in the connection pane."""
    store = FlowStore()
    store.add([hostile_flow()])
    assert snap_compare(
        _app(store=store), terminal_size=(120, 40), run_before=_steps(tab="tab-connection")
    )


def test_bad_file(
    snap_compare: Callable[..., bool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A truncated capture: the flows before the damage, and where it broke."""
    data = (ROOT / SAMPLE).read_bytes()
    (tmp_path / "cut.flows").write_bytes(data[: len(data) // 2])
    monkeypatch.chdir(tmp_path)  # a relative name, the same on every run
    assert snap_compare(_app(Path("cut.flows")), terminal_size=(120, 40), run_before=_steps())


# -- dialogs ----------------------------------------------------------------------------------


def test_comment_dialog(snap_compare: Callable[..., bool]) -> None:
    """The comment dialog on a flow with a unicode comment."""
    assert snap_compare(
        _app(SAMPLE), terminal_size=(120, 40), run_before=_steps("semicolon", row=4)
    )


def test_help_screen(snap_compare: Callable[..., bool]) -> None:
    """? lists every command with its keys and id (generated from the command table),
    then every filter operator and the state-sign legend (scrolled below)."""
    assert snap_compare(_app(SAMPLE), terminal_size=(120, 40), run_before=_steps("question_mark"))


def test_filter_dialog_with_error(snap_compare: Callable[..., bool]) -> None:
    """A bad filter expression: the dialog stays open and points at the mistake."""
    assert snap_compare(
        _app(SAMPLE), terminal_size=(120, 40), run_before=_steps("f", *"~tcp & ~bogus", "enter")
    )


def test_filtered_view(snap_compare: Callable[..., bool]) -> None:
    """The list filtered to marked flows; the status bar shows the filter."""
    assert snap_compare(
        _app(SAMPLE), terminal_size=(120, 40), run_before=_steps("f", *"~marked", "enter")
    )


def test_save_choice_dialog(snap_compare: Callable[..., bool]) -> None:
    """w first asks which flows: the shown ones (focused), the marked ones or all,
    each with how many."""
    assert snap_compare(
        _app(SAMPLE), terminal_size=(120, 40), run_before=_steps("f", *"~tcp", "enter", "w")
    )


def test_save_dialog(snap_compare: Callable[..., bool]) -> None:
    """w, then enter (the shown flows): proposes the opened file and its format and
    says which flows and how many."""

    async def run_before(pilot: Pilot[int]) -> None:
        await _steps("w", "enter")(pilot)
        pilot.app.screen.query_one(Input).value = "flowtui/sample/sample.flows"
        await pilot.pause()

    assert snap_compare(_app(SAMPLE), terminal_size=(120, 40), run_before=run_before)


def test_quit_confirmation(snap_compare: Callable[..., bool]) -> None:
    """q with unsaved changes asks: save, discard or cancel."""
    assert snap_compare(_app(SAMPLE), terminal_size=(120, 40), run_before=_steps("m", "q"))
