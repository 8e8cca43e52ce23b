"""The status bar: files (or the live connection), flow counts, load progress, the filter,
the last problem.

It is handed plain values by the screen (attributes down) and renders them as
`SafeText`: a file name (also inside the load progress) or an error message from a
capture is cleaned, never read as markup or passed to the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePath

from rich.cells import cell_len, set_cell_size
from textual.widgets import Static

from flowtui.sanitize import SafeStr, split_at
from flowtui.ui.attach import health_style
from flowtui.ui.safe_text import SafeText, clean, concat, join, number

__all__ = ["StatusBar", "StatusInfo", "fit_names"]


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
    order: str = ""
    """The list's order when not the flows' numbers (``by size ↑``)."""
    marked_only: bool = False
    """Only marked flows are shown (`M`)."""
    intercept: str = ""
    """The live proxy's intercept filter this inspector set (`I`), with its direction."""


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

    def on_resize(self) -> None:
        # The file names are fitted to the width: a new width fits them anew.
        self.update(self.render_info(), layout=False)

    def render_info(self) -> SafeText:
        """The bar's content (every value cleaned).

        Counts, load progress and the filter come first in importance: the file names
        take what width they leave (each file by its name alone, then the first and
        how many more), so opening several files never pushes the counts off the line.
        """
        i = self.info
        text = SafeText(no_wrap=True, overflow="ellipsis")
        if i.connection:
            text.append(clean("⇄ "))
            text.append(clean(i.connection, max_len=80), style="bold")
            text.append(clean(" "))
            text.append(clean(i.health, max_len=200), style=health_style(i.health))
            return text.append(self._rest())
        rest = self._rest()
        width = self.content_size.width if self.is_mounted else 0
        # A long problem may be cut at the line's end; keep room for its start only.
        problem = self._problem()
        counts = rest.cell_len - problem.cell_len
        room = width - counts - min(problem.cell_len, 24) if width else 10_000
        text.append(fit_names(i.files, room), style="bold")
        return text.append(rest)

    def _problem(self) -> SafeText:
        text = SafeText(no_wrap=True)
        if self.info.problem:
            text.append(clean(" │ ⚠ "), style="bold red")
            text.append(clean(self.info.problem, max_len=300), style="red")
        return text

    def _rest(self) -> SafeText:
        """Everything after the file names (or the live connection)."""
        i = self.info
        text = SafeText(no_wrap=True, overflow="ellipsis")
        if i.unsaved:
            text.append(clean(" [+]"), style="bold yellow")
        sep = clean(" │ ")
        text.append(sep).append(number(i.shown, ",")).append(clean("/"))
        text.append(number(i.total, ",")).append(clean(" shown"))
        if i.marked:
            text.append(clean(", ")).append(number(i.marked, ",")).append(clean(" marked"))
        if i.modified:
            text.append(clean(", ")).append(number(i.modified, ",")).append(clean(" modified"))
        if i.marked_only:
            text.append(concat(sep, clean("marked only")), style="bold")
        if i.order:
            text.append(concat(sep, clean(i.order)))
        if i.follow:
            text.append(concat(sep, clean("follow")), style="cyan")
        if i.intercept:
            text.append(sep).append(clean("intercept "), style="bold yellow")
            text.append(clean(i.intercept, max_len=60), style="italic")
        if i.filter:
            text.append(sep).append(clean("filter "))
            text.append(clean(i.filter, max_len=60), style="italic")
        if i.loading:
            text.append(concat(sep, clean(i.loading)), style="cyan")
        return text.append(self._problem())


def fit_names(files: tuple[str, ...], room: int) -> SafeStr:
    """The open files' names in at most `room` cells (at least the first name's start).

    In order of preference: the paths as given; the file names alone; the first name
    and `+N more`; the first name cut with `…`.
    """
    if not files:
        return clean("no file")
    comma = clean(", ")
    joined = join(comma, (clean(f) for f in files))
    if cell_len(joined) <= room:
        return joined
    names = [clean(PurePath(f).name or f) for f in files]
    joined = join(comma, names)
    if cell_len(joined) <= room:
        return joined
    more = clean(f" +{len(files) - 1} more" if len(files) > 1 else "")
    first = names[0]
    if cell_len(first) + cell_len(more) <= room:
        return concat(first, more)
    keep = max(room - cell_len(more) - 1, 8)
    # A prefix of safe text is safe: cut it where the cells run out.
    return concat(split_at(first, [len(set_cell_size(first, keep))])[0], clean("…"), more)
