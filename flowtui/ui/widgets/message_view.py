"""The TCP/UDP message viewer: a Line-API ScrollView that paints a `MessageDocument`.

TOOLKIT.md §5 measured this shape as the only one that opens a 5,000-message
conversation instantly (RichLog, TextArea and ListView take 0.5–15 s). The document
(`flowtui.ui.message_document`, no Textual) holds the rows, mode, direction, counts and
search; this widget paints the visible rows (`message_paint`), caching their strips by
the document's revision, so scrolling never rebuilds anything, and runs the document's
background build in short slices on the UI loop (an async worker that yields between
slices, so keys and frames go first), growing the virtual size as rows arrive.
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

from rich.style import Style
from textual import events, work
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from flowtui.core import Flow
from flowtui.ui.commands import bindings
from flowtui.ui.message_document import MessageDocument
from flowtui.ui.message_document.held import HELD_SIGN
from flowtui.ui.safe_text import SafeStr, notify
from flowtui.ui.widgets.message_paint import paint_row
from flowtui.ui.widgets.message_rows import Direction, Kind, Row, ViewMode
from flowtui.ui.widgets.message_search import MessageSearchScreen
from flowtui.ui.widgets.virtual_size import set_virtual_size

__all__ = ["BUILD_SLICE", "MessageView"]

BUILD_SLICE = 0.004
"""Seconds of row building per slice of the background build, between frames and keys."""
_SIZE_EVERY = 0.1
"""Seconds between virtual size updates while rows arrive in the background."""


class _ScrollViewport:
    """The `Viewport` the document sees: the widget's scroll state and repaint."""

    def __init__(self, view: MessageView) -> None:
        self.view = view

    @property
    def top(self) -> int:
        return int(self.view.scroll_y)

    @property
    def height(self) -> int:
        view = self.view
        return view.scrollable_content_region.height if view.is_mounted else 0

    @property
    def width(self) -> int:
        return max(0, self.view.scrollable_content_region.width)

    @property
    def at_end(self) -> bool:
        return self.view.scroll_y >= self.view.max_scroll_y

    def scroll_to(self, row: int) -> None:
        if self.view.is_mounted:
            self.view.scroll_to(y=row, animate=False, immediate=True)

    def scroll_to_start(self) -> None:
        if self.view.is_mounted:  # the app may hand over a flow before the view is mounted
            self.view.scroll_to(0, 0, animate=False)

    def scroll_to_end(self) -> None:
        self.view.scroll_end(animate=False, immediate=True)

    def changed(self) -> None:
        view = self.view
        view.update_size()
        view.border_title, view.border_subtitle = view.document.titles()
        view.refresh()

    def build_later(self) -> None:
        self.view.start_build()

    def warn(self, message: SafeStr) -> None:
        notify(self.view.app, message, severity="warning", timeout=2)


class MessageView(ScrollView, can_focus=True):
    """The messages of the focused flow, as escaped text or a hex dump."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "message-view--client",
        "message-view--server",
        "message-view--header",
        "message-view--note",
        "message-view--offset",
        "message-view--escape",
        "message-view--match",
        "message-view--current-match",
        "message-view--held",
    }

    DEFAULT_CSS = """
    MessageView {
        border: round $foreground 30%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        scrollbar-gutter: stable;
        &:focus { border: round $accent; }
        & > .message-view--client { color: $success; }
        & > .message-view--server { color: $text-primary; }
        & > .message-view--header { text-style: bold; }
        & > .message-view--note { color: $text-muted; text-style: italic; }
        & > .message-view--offset { color: $text-muted; }
        & > .message-view--escape { color: $text-error; }
        & > .message-view--match { background: $warning-muted; }
        & > .message-view--current-match { background: $warning; color: $background; }
        & > .message-view--held { background: $error-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("messages")]

    def __init__(
        self, *, id: str | None = None, classes: str | None = None, view_mode: ViewMode = "auto"
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.document = MessageDocument(_ScrollViewport(self))
        """What is shown: rows, mode, direction, counts and search."""
        self.document.default_mode = view_mode
        self._build_pending = False
        self._cache: LRUCache[tuple[int, int], Strip] = LRUCache(1024)
        """Painted rows by (row index, document revision)."""

    # -- the interface the app calls (the document's, under the names it always had) -------

    @property
    def flow(self) -> Flow | None:
        """The flow shown, or None."""
        return self.document.flow

    @property
    def pending(self) -> int | None:
        """While a preview of a big flow is shown: its message count (else None)."""
        return self.document.pending

    @property
    def mode(self) -> ViewMode:
        """The view mode of the shown flow: auto, text or hex."""
        return self.document.mode

    @property
    def direction(self) -> Direction:
        """Which messages are shown: both, client (→ only) or server (← only)."""
        return self.document.direction

    @property
    def rows(self) -> list[Row]:
        """The rows currently built (for tests and the app's status); see `complete`."""
        return self.document.rows

    @property
    def complete(self) -> bool:
        """True once every message's rows are built."""
        return self.document.complete

    @property
    def matches(self) -> list[int]:
        """Row indices that match the search, in order."""
        return self.document.search_state.matches

    @property
    def current_match(self) -> int | None:
        """The row index of the current match, or None."""
        return self.document.search_state.current_row

    def show_flow(self, flow: Flow | None, *, pending: int | None = None) -> None:
        """Show `flow` (None: the empty state); see `MessageDocument.show_flow`."""
        self.document.show_flow(flow, pending=pending)

    def refresh_flow(self) -> None:
        """The shown flow gained messages (a live flow): append their rows only."""
        self.document.refresh_flow()

    def search(self, query: str) -> None:
        """Find `query` (plain text, any case) and go to the first hit."""
        self.document.search(query)

    def held_target(self) -> int | None:
        """The held message `E` and `x` act on (see `MessageDocument.held_target`)."""
        return self.document.held_target()

    # -- actions -------------------------------------------------------------------------

    def action_cycle_view(self) -> None:
        """`h`: auto → text → hex, remembered for this flow."""
        self.document.cycle_mode()

    def action_cycle_direction(self) -> None:
        """`c`: both → client → server only → server → client only."""
        self.document.cycle_direction()

    def action_search(self) -> None:
        """`/`: ask for a search text."""

        def found(query: str | None) -> None:
            if query is not None:
                self.search(query)

        self.app.push_screen(MessageSearchScreen(self.document.search_state.query), found)

    def action_next_match(self) -> None:
        """`n`: the next match, wrapping around."""
        self.document.next_match(1)

    def action_previous_match(self) -> None:
        """`N`: the previous match, wrapping around."""
        self.document.next_match(-1)

    def action_scroll_home(self) -> None:
        """`home`: the first row, at once (a smooth scroll over 10,000 rows only delays)."""
        self.scroll_home(animate=False)

    def action_scroll_end(self) -> None:
        """`end`: the last row, at once (finishing the rows first; in a preview, the
        whole flow's once it is read, unless the reader moved on meanwhile)."""
        self.document.go_to_end()

    # -- the background build ----------------------------------------------------------------

    def on_mount(self) -> None:
        """Start a background build asked for before the view was mounted."""
        if self._build_pending:
            self.start_build()

    def start_build(self) -> None:
        """Run the document's remaining work in slices between frames (once mounted)."""
        if not self.is_mounted:
            self._build_pending = True
            return
        self._build_pending = False
        self._build_rest(self.document.generation)

    # `@work` starts the coroutine only when the worker runs, so a worker cancelled
    # before it starts (by the next rebuild's) leaves no coroutine un-awaited.
    @work(name="message-rows", group="message-rows", exclusive=True)
    async def _build_rest(self, generation: int) -> None:
        """The background build: slices of `BUILD_SLICE` seconds, yielding in between."""
        document = self.document
        sized = time.perf_counter()
        while generation == document.generation and document.has_work:
            start = len(document.rows)
            now = time.perf_counter()
            document.build_slice(BUILD_SLICE)
            # The scrollbar follows the growing rows a few times a second, not per slice.
            if document.complete or now - sized > _SIZE_EVERY:
                sized = now
                self.update_size()
            if len(document.rows) > start and (
                start < self.scroll_offset.y + self.scrollable_content_region.height
            ):
                self.refresh()  # new rows land on screen
            await asyncio.sleep(0.001)

    def update_size(self) -> None:
        """Take the document's row count (and hex width) as the virtual size."""
        document = self.document
        width = document.virtual_width(self.scrollable_content_region.width)
        set_virtual_size(self, Size(width, len(document.rows)))  # no screen layout

    # -- rendering -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def on_resize(self, event: events.Resize) -> None:
        """Re-wrap text rows when the width changes."""
        self.document.resize()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        document = self.document
        if not 0 <= index < len(document.rows):
            return Strip.blank(width, base)
        key = (index, document.revision)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(index, base)
            self._cache[key] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _render_row(self, index: int, base: Style) -> Strip:
        document = self.document
        search = document.search_state
        return paint_row(
            document.rows[index],
            document.messages,
            base=base,
            style=self.get_component_rich_style,
            console=self.app.console,
            query=search.query if search.is_match(index) else "",
            current=index == search.current_row,
            held=_is_held(document, index),
        )


def _is_held(document: MessageDocument, index: int) -> bool:
    """Row `index` is the header of a message the proxy holds."""
    kind, message, _ = document.rows[index]
    sign = document.marks[0].get(message) if kind == Kind.HEADER else None
    return sign is not None and HELD_SIGN in sign
