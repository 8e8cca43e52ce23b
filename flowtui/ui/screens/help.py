"""The `?` help screen, generated: every command (its keys, title, description and id)
from `ui.commands`, every filter operator from the filter catalog, and the state signs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from flowtui.core.filters import FILTER_HELP
from flowtui.ui.commands import COMMANDS, STATE_SIGNS, WHERE
from flowtui.ui.safe_text import SafeText, clean

__all__ = ["HelpScreen"]

OTHER_KEYS: list[tuple[str, str]] = [
    ("tab / shift+tab", "move between the list and the detail panes"),
    ("ctrl+p", "the command palette: every command by name"),
]


class HelpScreen(ModalScreen[None]):
    """Lists what every key does and every filter operator; escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def __init__(self, keys: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._keys = dict(keys or {})

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static(self._content())

    def _key(self, command_id: str, default: str, display: str | None) -> str:
        keys = self._keys.get(command_id)
        if keys is None:
            keys = display or default
        return keys.replace(",", " ") if keys else "(palette)"

    def _content(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        table.add_column(style="dim")
        blank = SafeText()

        def row(*cells: str) -> None:
            table.add_row(*(SafeText(clean(cell)) for cell in cells))

        def heading(text: str) -> None:
            table.add_row(SafeText(clean(text), style="bold underline"), blank, blank)

        for where, title in WHERE.items():
            heading(title)
            for c in COMMANDS:
                if c.where == where:
                    live = " (live flows)" if c.live_only else ""
                    row(self._key(c.id, c.keys, c.key_display), c.description + live, c.id)
            row("", "", "")
        for key, what in OTHER_KEYS:
            row(key, what, "")
        row("", "", "")
        heading("Filter operators (f)")
        for syntax, meaning in FILTER_HELP:
            row(syntax, meaning, "")
        row("", "", "")
        heading("State signs")
        for sign, meaning in STATE_SIGNS:
            row(sign, meaning, "")
        row("", "", "")
        table.add_row(blank, SafeText(clean("escape, q or ? closes this help"), style="dim"), blank)
        return table

    def action_close(self) -> None:
        self.dismiss(None)
