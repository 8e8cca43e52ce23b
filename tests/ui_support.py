"""Paths and helpers the UI tests share (a named module: `conftest` is ambiguous to import)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult

from flowtui.core import Flow
from flowtui.ui.widgets.message_view import MessageView

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "flowtui" / "sample" / "sample.flows"
"""The bundled real capture (30 flows)."""
FIXTURES = ROOT / "tests" / "data" / "mitmproxy-11"
"""Real mitmproxy 11 captures with ground truth."""


def screen_text(app: Any, styles: bool = False) -> str:
    """The app's current screen as text (the route `export_screenshot` takes)."""
    from rich.console import Console

    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=styles)


def screen_ansi(app: Any) -> str:
    """Everything Textual would write to the terminal for the current screen (ANSI)."""
    from rich.console import Console

    out = io.StringIO()
    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=out,
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return out.getvalue()


class MessageViewHost(App[None]):
    """A bare app holding only the message viewer, showing `flow`."""

    TITLE = "Host"  # the name its snapshots were taken under

    def __init__(self, flow: Flow | None) -> None:
        super().__init__()
        self.flow = flow

    def compose(self) -> ComposeResult:
        yield MessageView(id="messages")

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        view = self.query_one(MessageView)
        view.show_flow(self.flow)
        view.focus()
