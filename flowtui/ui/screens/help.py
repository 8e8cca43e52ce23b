"""The `?` help screen: every binding (with its id) and the state-sign legend."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from flowtui.ui.bindings import FLOW_BINDINGS, STATE_SIGNS, VIEW_BINDINGS
from flowtui.ui.safe_text import SafeText, clean

__all__ = ["HelpScreen"]

DETAIL_KEYS: list[tuple[str, str]] = [
    ("tab / shift+tab", "move between the list and the detail panes"),
    ("↑ ↓ pgup pgdn home end", "move in the flow list (also j k g G)"),
    ("h", "messages: text / hex / auto"),
    ("c", "messages: client only / server only / both"),
    ("/  n  N", "messages: search, next, previous"),
    ("ctrl+q", "quit (asks first when there are unsaved changes)"),
]


class HelpScreen(ModalScreen[None]):
    """Lists what every key does; any of escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def __init__(self, keys: dict[str, str] | None = None) -> None:
        super().__init__()
        self._keys = keys or {}

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static(self._content())

    def _content(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        table.add_column(style="dim")
        blank = SafeText()

        def row(*cells: str) -> None:
            table.add_row(*(SafeText(clean(cell)) for cell in cells))

        table.add_row(SafeText(clean("Keys"), style="bold underline"), blank, blank)
        for binding in [*FLOW_BINDINGS, *VIEW_BINDINGS]:
            key = self._keys.get(binding.id or "", binding.key_display or binding.key)
            row(key, binding.description, binding.id or "")
        for key, what in DETAIL_KEYS:
            row(key, what, "")
        row("", "", "")
        table.add_row(SafeText(clean("State signs"), style="bold underline"), blank, blank)
        for sign, meaning in STATE_SIGNS:
            row(sign, meaning, "")
        row("", "", "")
        table.add_row(blank, SafeText(clean("escape, q or ? closes this help"), style="dim"), blank)
        return table

    def action_close(self) -> None:
        self.dismiss(None)
