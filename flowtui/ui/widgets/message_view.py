"""The TCP/UDP message viewer: a Line-API ScrollView over pre-built rows.

TOOLKIT.md §5 measured this shape as the only one that opens a 5,000-message
conversation instantly (RichLog, TextArea and ListView take 0.5–15 s). Rows come from
`message_rows.build_rows`; `render_line` formats only the visible rows (`message_paint`)
and caches their strips, so scrolling and cursor moves never rebuild anything.

Rows are built incrementally (`row_builder.RowBuilder`): opening a flow, switching
text/hex or the direction builds the first screenfuls (around the kept position) at
once and the rest in short slices on the UI loop (an async worker that yields between
slices, so keys and frames go first), growing the virtual size as rows arrive.
Building 10,000 messages takes a quarter of a second or more; nothing waits for it
unless it needs every row: `end` and a search finish the build first (correctness
before speed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from textual import events, work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from flowtui.core import Flow
from flowtui.core.messages import MessageFlow
from flowtui.ui.safe_text import clean, notify
from flowtui.ui.widgets.message_paint import GUTTER, HEX_ROW_WIDTH, paint_row
from flowtui.ui.widgets.message_rows import (
    DIRECTIONS,
    VIEW_MODES,
    Direction,
    Kind,
    MessageLike,
    Row,
    RowStats,
    ViewMode,
    count_stats,
    notes_for,
    row_text,
)
from flowtui.ui.widgets.message_search import MessageSearchScreen
from flowtui.ui.widgets.message_titles import message_titles
from flowtui.ui.widgets.row_builder import RowBuilder
from flowtui.ui.widgets.virtual_size import set_virtual_size

__all__ = ["BUILD_SLICE", "MessageView"]

BUILD_SLICE = 0.004
"""Seconds of row building per slice of the background build, between frames and keys."""
_FREE_STEP = 20_000
_SIZE_EVERY = 0.1


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
    }

    DEFAULT_CSS = """
    MessageView {
        border: round $foreground 30%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        scrollbar-gutter: stable;
        &:focus { border: round $accent; }
        & > .message-view--client { color: #4ebf71; }
        & > .message-view--server { color: #3fb8d0; }
        & > .message-view--header { text-style: bold; }
        & > .message-view--note { color: $text-muted; text-style: italic; }
        & > .message-view--offset { color: $text-muted; }
        & > .message-view--escape { color: #d183e8; }
        & > .message-view--match { background: #5c4a00; }
        & > .message-view--current-match { background: #b38600; color: #000000; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "cycle_view", "Text/hex", id="messages.view"),
        Binding("c", "cycle_direction", "Direction", id="messages.direction"),
        Binding("slash", "search", "Search", id="messages.search"),
        Binding("n", "next_match", "Next match", id="messages.next_match"),
        Binding("N", "previous_match", "Prev match", id="messages.previous_match"),
        Binding("up", "scroll_up", "Up", show=False, id="messages.up"),
        Binding("down", "scroll_down", "Down", show=False, id="messages.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="messages.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="messages.page_down"),
        Binding("home", "scroll_home", "Top", show=False, id="messages.top"),
        Binding("end", "scroll_end", "Bottom", show=False, id="messages.bottom"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._flow: Flow | None = None
        self._pending: int | None = None
        self._end_wanted = False
        """`end` was pressed on a preview: the whole flow opens at its end."""
        """The message count of a flow shown as a preview (its first messages only)."""
        self._messages: Sequence[MessageLike] | None = None
        self._builder: RowBuilder | None = None
        """Builds the shown message flow's rows (None for notes)."""
        self._counted = 0
        """Messages counted in `_stats` (all of them, even while rows are building)."""
        self._rows: list[Row] = []
        """The builder's rows, or the notes shown instead."""
        self._generation = 0
        """Bumped on every rebuild: a background build of older rows stops."""
        self._build_pending = False
        self._dropped: list[list[Row]] = []
        """Rows of earlier builds, freed a slice at a time (freeing 100,000 rows at once
        costs a frame or more)."""
        self._stats = RowStats()
        self._stats_key: tuple[int, Direction] = (0, "both")
        self._modes: dict[str, ViewMode] = {}
        self._mode: ViewMode = "auto"
        self._direction: Direction = "both"
        self._query = ""
        self._matches: list[int] = []
        self._current = -1
        self._text_width = 0
        self._cache: LRUCache[tuple[int, int, str], Strip] = LRUCache(1024)

    # -- the interface the app calls ---------------------------------------------------

    @property
    def flow(self) -> Flow | None:
        """The flow shown, or None."""
        return self._flow

    @property
    def pending(self) -> int | None:
        """While a preview of a big flow is shown: its message count (else None)."""
        return self._pending

    @property
    def mode(self) -> ViewMode:
        """The view mode of the shown flow: auto, text or hex."""
        return self._mode

    @property
    def direction(self) -> Direction:
        """Which messages are shown: both, client (→ only) or server (← only)."""
        return self._direction

    @property
    def rows(self) -> list[Row]:
        """The rows currently built (for tests and the app's status); see `complete`."""
        return self._rows

    @property
    def complete(self) -> bool:
        """True once every message's rows are built."""
        return self._builder is None or self._builder.complete

    def complete_rows(self) -> None:
        """Build every remaining row now (what `end` and a search do first)."""
        builder = self._builder
        if builder is None or builder.complete:
            return
        builder.build_all()
        self._update_size()
        self.refresh()

    @property
    def matches(self) -> list[int]:
        """Row indices that match the search, in order."""
        return self._matches

    @property
    def current_match(self) -> int | None:
        """The row index of the current match, or None."""
        return self._matches[self._current] if 0 <= self._current < len(self._matches) else None

    def show_flow(self, flow: Flow | None, *, pending: int | None = None) -> None:
        """Show `flow` (None: the empty state). Cheap when it is already shown.

        `pending`: `flow` is a preview holding the first of `pending` messages, and the
        whole flow follows. A new copy of the flow shown (the whole after its preview)
        keeps the position, view mode and search.
        """
        self._pending = pending
        if flow is not None and flow is self._flow:
            if isinstance(flow, MessageFlow) and flow.messages is not self._messages:
                self._rebuild()
            else:
                self.refresh_flow()
            return
        copy = flow is not None and self._flow is not None and flow.id == self._flow.id
        self._flow = flow
        if copy:
            self._take_copy()
            return
        self._end_wanted = False
        self._mode = self._modes.get(flow.id, "auto") if flow is not None else "auto"
        self._query, self._matches, self._current = "", [], -1
        self._rebuild()
        if self.is_mounted:  # the app may hand over a flow before the view is mounted
            self.scroll_to(0, 0, animate=False)

    def _take_copy(self) -> None:
        """Show a new copy of the flow shown (the whole after its preview) where the
        reader is, in the same mode; an `end` or a search made on the preview now
        covers every message."""
        at_end = self._end_wanted and self.scroll_y >= self.max_scroll_y
        query, self._query = self._query, ""
        self._rebuild(keep_position=True)
        if self._pending is None:
            self._end_wanted = False
            if at_end:
                self.action_scroll_end()
        if query:
            self.search(query)

    def refresh_flow(self) -> None:
        """The shown flow gained messages (a live flow): append their rows only."""
        flow = self._flow
        if not isinstance(flow, MessageFlow) or flow.messages is not self._messages:
            self._rebuild()
            return
        count = len(flow.messages)
        if count < self._counted or (self._counted == 0 and count):
            self._rebuild()  # fewer messages, or the first ones replace the "empty" note
            return
        if count == self._counted:
            return
        builder = self._builder
        assert builder is not None
        building = builder.built < self._counted
        count_stats(flow.messages[self._counted :], self._direction, self._stats)
        self._counted = count
        if building:  # the background build picks the new messages up
            self._update_titles()
            return
        follow = self.scroll_y >= self.max_scroll_y
        if builder.rows and builder.rows[0][0] == Kind.NOTE:
            builder.drop_note()  # "no messages in this direction" until now
            self._cache.clear()
        start = len(self._rows)
        builder.build_all()
        if self._query:
            self._matches.extend(self._find(self._query, start))
        self._update_size()
        self._update_titles()
        self.refresh()
        if follow:
            self.scroll_end(animate=False, immediate=True)

    def search(self, query: str) -> None:
        """Find `query` (plain text, any case) in the rendered rows and go to the first hit
        (in a preview: once the whole flow is read, not among its first messages only)."""
        self._query = query
        if query and self._pending is not None:
            self._matches, self._current = [], -1
            self._update_titles()
            return
        if query:
            self.complete_rows()  # a search covers every row, built or not yet
        self._matches = self._find(query, 0) if query else []
        self._current = -1
        self._cache.clear()
        if self._matches:
            top = int(self.scroll_y)
            after = [i for i, row in enumerate(self._matches) if row >= top]
            self._go_to_match(after[0] if after else 0)
        elif query:
            notify(self.app, clean("No match."), severity="warning", timeout=2)
        self._update_titles()
        self.refresh()

    # -- actions -------------------------------------------------------------------------

    def action_cycle_view(self) -> None:
        """`h`: auto → text → hex, remembered for this flow."""
        self._mode = VIEW_MODES[(VIEW_MODES.index(self._mode) + 1) % len(VIEW_MODES)]
        if self._flow is not None:
            self._modes[self._flow.id] = self._mode
        self._rebuild(keep_position=True)

    def action_cycle_direction(self) -> None:
        """`c`: both → client → server only → server → client only."""
        self._direction = DIRECTIONS[(DIRECTIONS.index(self._direction) + 1) % len(DIRECTIONS)]
        self._rebuild(keep_position=True)

    def action_search(self) -> None:
        """`/`: ask for a search text."""

        def found(query: str | None) -> None:
            if query is not None:
                self.search(query)

        self.app.push_screen(MessageSearchScreen(self._query), found)

    def action_next_match(self) -> None:
        """`n`: the next match, wrapping around."""
        if self._matches:
            self._go_to_match((self._current + 1) % len(self._matches))

    def action_previous_match(self) -> None:
        """`N`: the previous match, wrapping around."""
        if self._matches:
            self._go_to_match((self._current - 1) % len(self._matches))

    def action_scroll_home(self) -> None:
        """`home`: the first row, at once (a smooth scroll over 10,000 rows only delays)."""
        self.scroll_home(animate=False)

    def action_scroll_end(self) -> None:
        """`end`: the last row, at once (finishing the rows first; in a preview, the
        whole flow's once it is read, unless the reader moved on meanwhile)."""
        self._end_wanted = self._pending is not None
        self.complete_rows()
        self.scroll_end(animate=False, immediate=True)

    # -- building --------------------------------------------------------------------------

    def _content_width(self) -> int:
        width = self.scrollable_content_region.width
        return width if width > 0 else 80

    def _rebuild(self, keep_position: bool = False) -> None:
        anchor = self._top_message() if keep_position else None
        self._generation += 1
        self._text_width = max(10, self._content_width() - len(GUTTER))
        if len(self._rows) > _FREE_STEP:
            self._dropped.append(self._rows)
        self._rows, self._builder = [], None
        flow = self._flow
        if isinstance(flow, MessageFlow):
            messages = flow.messages
            key = (id(messages), self._direction)
            # A view-mode switch keeps the counts; a new flow or direction counts again.
            if (
                messages is not self._messages
                or key != self._stats_key
                or (self._counted != len(messages))
            ):
                self._stats = RowStats()
                count_stats(messages, self._direction, self._stats)
                self._counted, self._stats_key = len(messages), key
            self._messages = messages
            if not flow.messages:
                self._rows = [(Kind.NOTE, -1, clean("No messages in this flow."))]
            else:
                self._builder = RowBuilder(
                    messages,
                    mode=self._mode,
                    direction=self._direction,
                    text_width=self._text_width,
                    t0=flow.client_conn.timestamp_start,
                )
                self._rows = self._builder.rows
                height = self.scrollable_content_region.height if self.is_mounted else 0
                first = anchor if anchor is not None and anchor >= 0 else None
                self._builder.build_first(first, height or 40)
                if self._query:
                    self.complete_rows()  # the match list covers every row
        else:
            self._messages, self._stats, self._counted = None, RowStats(), 0
            self._rows = [(Kind.NOTE, -1, line) for line in notes_for(flow)]
        self._matches = self._find(self._query, 0) if self._query else []
        self._current = min(self._current, len(self._matches) - 1)
        self._cache.clear()
        self._update_size()
        self._update_titles()
        self.refresh()
        if anchor is not None and self.is_mounted:
            first = next((i for i, r in enumerate(self._rows) if r[1] >= anchor), None)
            if first is not None:
                self.scroll_to(y=first, animate=False, immediate=True)
        if not self.complete or self._dropped:
            self._start_build()

    def on_mount(self) -> None:
        """Start a background build asked for before the view was mounted."""
        if self._build_pending:
            self._start_build()

    def _start_build(self) -> None:
        if not self.is_mounted:
            self._build_pending = True
            return
        self._build_pending = False
        self._build_rest(self._generation)

    # `@work` starts the coroutine only when the worker runs, so a worker cancelled
    # before it starts (by the next rebuild's) leaves no coroutine un-awaited.
    @work(name="message-rows", group="message-rows", exclusive=True)
    async def _build_rest(self, generation: int) -> None:
        """The background build: slices of `BUILD_SLICE` seconds, yielding in between."""
        sized = time.perf_counter()
        while generation == self._generation and (self._dropped or not self.complete):
            start = len(self._rows)
            now = time.perf_counter()
            if self._dropped and self.complete:  # the new rows first, then the old go
                del self._dropped[-1][-_FREE_STEP:]
                if not self._dropped[-1]:
                    self._dropped.pop()
            if self._builder is not None and not self._builder.complete:
                self._builder.build_for(BUILD_SLICE)
            # The scrollbar follows the growing rows a few times a second, not per slice.
            if self.complete or now - sized > _SIZE_EVERY:
                sized = now
                self._update_size()
            if len(self._rows) > start and (
                start < self.scroll_offset.y + self.scrollable_content_region.height
            ):
                self.refresh()  # new rows land on screen
            await asyncio.sleep(0.001)

    def _top_message(self) -> int | None:
        top = int(self.scroll_y)
        return self._rows[top][1] if 0 <= top < len(self._rows) else None

    def _update_size(self) -> None:
        has_hex = self._builder is not None and self._builder.has_hex
        width = max(self._content_width(), HEX_ROW_WIDTH + len(GUTTER)) if has_hex else 0
        set_virtual_size(self, Size(width, len(self._rows)))  # rows arrive: no screen layout

    def _find(self, query: str, start: int) -> list[int]:
        needle = query.lower()
        messages = self._messages or []
        return [
            i
            for i in range(start, len(self._rows))
            if needle in row_text(self._rows[i], messages).lower()
        ]

    def _go_to_match(self, index: int) -> None:
        self._current = index
        row = self._matches[index]
        height = self.scrollable_content_region.height or 1
        if not self.scroll_y <= row < self.scroll_y + height:
            self.scroll_to(y=max(0, row - height // 3), animate=False, immediate=True)
        self._cache.clear()
        self._update_titles()
        self.refresh()

    def _update_titles(self) -> None:
        self.border_title, self.border_subtitle = message_titles(
            self._flow,
            self._stats,
            pending=self._pending,
            mode=self._mode,
            direction=self._direction,
            query=self._query,
            current=self._current,
            matches=len(self._matches),
        )

    # -- rendering -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def on_resize(self, event: events.Resize) -> None:
        """Re-wrap text rows when the width changes."""
        if max(10, self._content_width() - len(GUTTER)) != self._text_width:
            self._rebuild(keep_position=True)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, base)
        key = (index, self._text_width, self._mode)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(index, base)
            self._cache[key] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _render_row(self, index: int, base: Style) -> Strip:
        match = bool(self._query) and index in self._match_set()
        return paint_row(
            self._rows[index],
            self._messages,
            base=base,
            style=self.get_component_rich_style,
            console=self.app.console,
            query=self._query if match else "",
            current=index == self.current_match,
        )

    def _match_set(self) -> frozenset[int]:
        key = (id(self._matches), len(self._matches))
        if getattr(self, "_match_key", None) != key:
            self._match_key = key
            self._match_rows = frozenset(self._matches)
        return self._match_rows
