"""The status bar: files (or the live connection), flow counts, load progress, the filter,
the last problem.

It is handed plain values by the screen (attributes down) and renders them as
`SafeText`: a file name (also inside the load progress) or an error message from a
capture is cleaned, never read as markup or passed to the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.widgets import Static

from flowtui.ui.attach import health_style
from flowtui.ui.safe_text import SafeText, clean, concat, join, number

__all__ = ["StatusBar", "StatusInfo"]


@dataclass(frozen=True)
class StatusInfo:
    """Everything the status bar shows."""

    files: tuple[str, ...] = ()
    total: int = 0
    shown: int = 0
    marked: int = 0
    modified: int = 0
    loading: str = ""
    """Load state, e.g. ``loading 42% (1,200 flows)``; empty when idle."""
    filter: str = ""
    unsaved: bool = False
    problem: str = ""
    """The last load or save problem (one line)."""
    connection: str = ""
    """The live proxy's address in attach mode, else empty."""
    health: str = ""
    """The live connection's state: ``connected``, ``lost: ...; retrying in 2s`` ..."""
    follow: bool = False
    """Follow mode: the newest flow stays in view."""


class StatusBar(Static):
    """One line under the flows: what is open and what is shown."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = StatusInfo()
        """The values currently shown."""

    def set(self, **changes: object) -> None:
        """Change some values and redraw (unchanged values: nothing to do)."""
        info = replace(self.info, **changes)  # type: ignore[arg-type]
        if info == self.info and self.is_mounted:
            return
        self.info = info
        # One line whatever the text: a repaint, never a screen layout (tens of ms).
        self.update(self.render_info(), layout=False)

    def render_info(self) -> SafeText:
        """The bar's content (every value cleaned)."""
        i = self.info
        text = SafeText(no_wrap=True, overflow="ellipsis")
        if i.connection:
            text.append(clean("⇄ "))
            text.append(clean(i.connection, max_len=80), style="bold")
            text.append(clean(" "))
            text.append(clean(i.health, max_len=200), style=health_style(i.health))
        else:
            names = join(clean(", "), (clean(f) for f in i.files)) or clean("no file")
            text.append(names, style="bold")
        if i.unsaved:
            text.append(clean(" [+]"), style="bold yellow")
        sep = clean(" │ ")
        text.append(sep).append(number(i.shown, ",")).append(clean("/"))
        text.append(number(i.total, ",")).append(clean(" shown"))
        if i.marked:
            text.append(clean(", ")).append(number(i.marked, ",")).append(clean(" marked"))
        if i.modified:
            text.append(clean(", ")).append(number(i.modified, ",")).append(clean(" modified"))
        if i.follow:
            text.append(concat(sep, clean("follow")), style="cyan")
        if i.filter:
            text.append(sep).append(clean("filter "))
            text.append(clean(i.filter, max_len=60), style="italic")
        if i.loading:
            text.append(concat(sep, clean(i.loading)), style="cyan")
        if i.problem:
            text.append(concat(sep, clean("⚠ ")), style="bold red")
            text.append(clean(i.problem, max_len=300), style="red")
        return text
