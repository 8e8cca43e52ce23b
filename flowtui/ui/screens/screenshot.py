"""Saving an SVG screenshot where the user says, not into a `~/Downloads` that may not exist.

Textual's own palette command writes to the platform's downloads folder and, when that
folder is missing, can only say "Failed to save screenshot". flowtui asks for the path
(prefilled with a name in the current directory), creates nothing but the file, and
names the file and the reason when it cannot be written.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from flowtui.sanitize import safe_format
from flowtui.ui.safe_text import SafeText, clean, notify

__all__ = ["ScreenshotDialog", "default_screenshot_path", "save_screenshot"]


def default_screenshot_path(now: datetime | None = None) -> Path:
    """`flowtui-YYYYmmdd-HHMMSS.svg` in the current directory."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path.cwd() / f"flowtui-{stamp}.svg"


class ScreenshotDialog(ModalScreen[Path | None]):
    """Ask where to write the screenshot of the screen below."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, path: Path) -> None:
        super().__init__()
        # The current directory's name can hold escapes: show it escaped, keep the
        # original when the field is not edited (as the save dialog does).
        self._original = path
        self._shown = clean(str(path))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(SafeText(clean("Save a screenshot (SVG)")), classes="dialog-title")
            yield Input(self._shown, id="screenshot-path")
            yield Label(SafeText(clean("enter save · escape cancel"), style="dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        if event.value == self._shown:
            self.dismiss(self._original)
            return
        value = event.value.strip()
        self.dismiss(Path(value).expanduser() if value else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def save_screenshot(app: App[Any], path: Path) -> None:
    """Write the current screen as SVG to `path` and say where, or why not."""
    if path.suffix.lower() != ".svg":
        path = path.with_name(path.name + ".svg")
    try:
        svg = app.export_screenshot()
        path.write_text(svg, encoding="utf-8")
    except OSError as e:
        reason = e.strerror or str(e)
        notify(
            app,
            safe_format("Screenshot not saved: {}: {}", clean(str(path)), clean(reason)),
            title=clean("Screenshot"),
            severity="error",
        )
        return
    notify(app, safe_format("Saved screenshot to {}", clean(str(path))), title=clean("Screenshot"))
