"""The small search prompt the message viewer opens on `/`.

A modal screen rather than an Input mounted inside the viewer: a Line-API ScrollView
lays out no children, and a modal works the same in any host app without the app's
help. It returns the typed text, or None when cancelled with Escape.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input

__all__ = ["MessageSearchScreen"]


class MessageSearchScreen(ModalScreen[str | None]):
    """Ask for a search text; dismisses with the text (maybe empty) or None."""

    DEFAULT_CSS = """
    MessageSearchScreen {
        align: center bottom;
        background: $background 30%;
    }
    MessageSearchScreen > Input {
        width: 70%;
        margin-bottom: 2;
        border: tall $accent;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="messages.search_cancel"),
    ]

    def __init__(self, initial: str = "") -> None:
        super().__init__()
        self._initial = initial

    def compose(self) -> ComposeResult:
        yield Input(
            value=self._initial,
            placeholder="search messages (plain text, any case); Enter to find, Esc to cancel",
            id="message-search-input",
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: search for the typed text."""
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Escape: close without searching."""
        self.dismiss(None)
