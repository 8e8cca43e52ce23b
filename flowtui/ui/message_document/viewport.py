"""What the message document needs of the widget that shows it, and the row geometry both
agree on."""

from __future__ import annotations

from typing import Protocol

from flowtui.ui.safe_text import SafeStr

__all__ = ["GUTTER", "HEX_ROW_WIDTH", "Viewport"]

GUTTER = "▌ "
"""Before every message row, in the colour of the message's side."""
HEX_ROW_WIDTH = 78
"""Characters in a hex row (`hexdump.hex_row`): a view showing hex rows is at least this
wide plus the gutter, and scrolls sideways when narrower."""


class Viewport(Protocol):
    """The window onto the document: a scrolling widget in the app, a plain object in tests.

    Rows are numbered from 0; the document calls these while it changes, and the view asks
    the document what to paint.
    """

    @property
    def top(self) -> int:
        """The index of the row at the top of the view."""
        ...

    @property
    def height(self) -> int:
        """How many rows the view shows; 0 before it has a size."""
        ...

    @property
    def width(self) -> int:
        """How many cells a row gets, gutter included; 0 before the view has a size."""
        ...

    @property
    def at_end(self) -> bool:
        """True when the view is scrolled to its last row."""
        ...

    def scroll_to(self, row: int) -> None:
        """Put `row` at the top of the view, at once."""
        ...

    def scroll_to_start(self) -> None:
        """Back to the first row and the first column (a new flow is shown)."""
        ...

    def scroll_to_end(self) -> None:
        """To the last row, at once."""
        ...

    def changed(self) -> None:
        """Rows were added or changed, or the counts, marks or titles did: take the new
        size, titles and revision (`MessageDocument.revision`) and repaint."""
        ...

    def build_later(self) -> None:
        """Rows remain to be built or freed: call `MessageDocument.build_slice` between
        frames while it returns True and the document's generation is unchanged."""
        ...

    def warn(self, message: SafeStr) -> None:
        """Tell the user something briefly (e.g. "No match.")."""
        ...
