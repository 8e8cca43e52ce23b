"""`MessageDocument`: the shown flow's rows, view mode, direction, counts and search.

Rows are built incrementally (`row_builder.RowBuilder`): opening a flow, switching
text/hex or the direction builds the first screenfuls (around the kept position) at once
and the rest in short slices that the view runs between frames (`build_slice`), growing
the row count as rows arrive. Nothing waits for the whole build unless it needs every
row: `end` and a search finish the build first (correctness before speed).

A preview of a big flow (its first messages, `pending` holding the whole count) is
followed by the whole flow; the copy keeps the reader's position, mode and search, and
an `end` pressed on the preview lands at the whole flow's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TypeVar

from flowtui.core import Flow
from flowtui.live.injected import injected_indexes
from flowtui.ui.message_document.counts import Counts
from flowtui.ui.message_document.held import MessageMarks, message_marks
from flowtui.ui.message_document.reclaim import Reclaimer
from flowtui.ui.message_document.search import Search
from flowtui.ui.message_document.viewport import GUTTER, HEX_ROW_WIDTH, Viewport
from flowtui.ui.message_document.websocket import message_list
from flowtui.ui.safe_text import SafeText, clean
from flowtui.ui.widgets.message_rows import (
    DIRECTIONS,
    VIEW_MODES,
    Direction,
    Kind,
    MessageLike,
    Row,
    RowStats,
    ViewMode,
    notes_for,
)
from flowtui.ui.widgets.message_titles import message_titles
from flowtui.ui.widgets.row_builder import RowBuilder

__all__ = ["DEFAULT_HEIGHT", "DEFAULT_WIDTH", "MessageDocument"]

DEFAULT_WIDTH = 80
"""Cells per row assumed before the view has a size."""
DEFAULT_HEIGHT = 40
"""Rows per screen assumed before the view has a size (for the first build)."""


_T = TypeVar("_T")


def _cycle(values: tuple[_T, ...], value: _T) -> _T:
    return values[(values.index(value) + 1) % len(values)]


class MessageDocument:
    """The messages of the shown flow as rows, for one `Viewport`."""

    def __init__(self, viewport: Viewport) -> None:
        self.viewport = viewport
        """The view showing this document."""
        self.flow: Flow | None = None
        """The flow shown, or None."""
        self.pending: int | None = None
        """While a preview of a big flow is shown: its message count (else None)."""
        self.mode: ViewMode = "auto"
        """The view mode of the shown flow: auto, text or hex."""
        self.default_mode: ViewMode = "auto"
        """The mode a flow is first shown in (the config's `view_mode`)."""
        self.direction: Direction = "both"
        """Which messages are shown: both, client (→ only) or server (← only)."""
        self.rows: list[Row] = []
        """The rows built so far, or the notes shown instead of messages."""
        self.builder: RowBuilder | None = None
        """Builds the shown message flow's rows (None for notes)."""
        self.text_width = 0
        """Cells for a text row's text (the view's width less the gutter)."""
        self.generation = 0
        """Bumped on every rebuild: a background build of older rows stops."""
        self.revision = 0
        """Bumped whenever painted rows may look different (rebuilt, search marks moved):
        the view's cache of painted rows is keyed by it."""
        self.counts = Counts()
        """The border's counts."""
        self.search_state = Search()
        """The search and its matches."""
        self.reclaimer = Reclaimer()
        """Rows of earlier builds, freed a slice at a time."""
        self._messages: Sequence[MessageLike] | None = None
        self._modes: dict[str, ViewMode] = {}
        self._end_wanted = False
        """`end` was pressed on a preview: the whole flow opens at its end."""
        self.marks: MessageMarks = ({}, ())
        """The signs on held, edited and dropped messages' headers (see `held`)."""

    # -- what the view reads ---------------------------------------------------------------

    @property
    def messages(self) -> Sequence[MessageLike] | None:
        """The message list the rows refer to (None for notes)."""
        return self._messages

    @property
    def complete(self) -> bool:
        """True once every message's rows are built."""
        return self.builder is None or self.builder.complete

    @property
    def has_work(self) -> bool:
        """Rows remain to build, or old rows to free."""
        return not self.complete or self.reclaimer.pending > 0

    @property
    def stats(self) -> RowStats:
        """Messages and bytes each way (all messages, even before their rows are built)."""
        return self.counts.stats

    def virtual_width(self, width: int) -> int:
        """The width to scroll over in a view `width` cells wide: 0 (no sideways scroll)
        unless hex rows are shown, which need `HEX_ROW_WIDTH` and the gutter."""
        has_hex = self.builder is not None and self.builder.has_hex
        return max(width or DEFAULT_WIDTH, HEX_ROW_WIDTH + len(GUTTER)) if has_hex else 0

    def titles(self) -> tuple[SafeText, SafeText]:
        """The border's title (counts) and subtitle (mode, direction, search)."""
        s = self.search_state
        return message_titles(
            self.flow,
            self.stats,
            pending=self.pending,
            mode=self.mode,
            direction=self.direction,
            query=s.query,
            current=s.current,
            matches=len(s.matches),
            held=len(self.marks[1]),
        )

    def held_target(self) -> int | None:
        """The held message `E` (edit) and `x` (drop) act on: the first held message
        whose header is on screen, else the first one the direction filter shows, else
        the first held (None when none is held)."""
        held = [index for index, _, _ in self.marks[1]]
        messages = self._messages
        if not held or messages is None:
            return None
        top, height = self.viewport.top, self.viewport.height or DEFAULT_HEIGHT
        for row in self.rows[top : top + height]:
            if row[0] == Kind.HEADER and row[1] in held:
                return row[1]
        direction = self.direction
        shown = [
            i
            for i in held
            if i < len(messages)
            and (direction == "both" or (direction == "client") == messages[i].from_client)
        ]
        return (shown or held)[0]

    # -- showing flows ---------------------------------------------------------------------

    def show_flow(self, flow: Flow | None, *, pending: int | None = None) -> None:
        """Show `flow` (None: the empty state). Cheap when it is already shown.

        `pending`: `flow` is a preview holding the first of `pending` messages, and the
        whole flow follows. A new copy of the flow shown (the whole after its preview)
        keeps the position, view mode and search.
        """
        self.pending = pending
        if flow is not None and flow is self.flow:
            listed = message_list(flow)
            if listed is not None and listed is not self._messages:
                self.rebuild()
            else:
                self.refresh_flow()
            return
        copy = flow is not None and self.flow is not None and flow.id == self.flow.id
        self.flow = flow
        if copy:
            self._take_copy()
            return
        self._end_wanted = False
        mode = self.default_mode
        self.mode = self._modes.get(flow.id, mode) if flow is not None else mode
        self.search_state.clear()
        self.rebuild()
        self.viewport.scroll_to_start()

    def _take_copy(self) -> None:
        """Show a new copy of the flow shown where the reader is, in the same mode; an
        `end` or a search made on the preview now covers every message."""
        at_end = self._end_wanted and self.viewport.at_end
        query = self.search_state.query
        self.search_state.query = ""
        self.rebuild(keep_position=True)
        if self.pending is None:
            self._end_wanted = False
            if at_end:
                self.go_to_end()
        if query:
            self.search(query)

    def refresh_flow(self) -> None:
        """The shown flow gained messages (a live flow): append their rows only."""
        flow = self.flow
        messages = message_list(flow)
        if messages is None or messages is not self._messages:
            self.rebuild()
            return
        if message_marks(flow) != self.marks:  # held, released, edited or dropped
            self.rebuild(keep_position=True)
            return
        count, counted = len(messages), self.counts.counted
        if count < counted or (counted == 0 and count):
            self.rebuild()  # fewer messages, or the first ones replace the "empty" note
            return
        if count == counted:
            return
        builder = self.builder
        assert builder is not None
        building = builder.built < counted
        self.counts.add_new(messages)
        if building:  # the background build picks the new messages up
            self.viewport.changed()
            return
        follow = self.viewport.at_end
        if builder.rows and builder.rows[0][0] == Kind.NOTE:
            builder.drop_note()  # "no messages in this direction" until now
            self.revision += 1
        start = len(self.rows)
        builder.build_all()
        s = self.search_state
        if s.query:
            s.matches.extend(s.find(self.rows, messages, start))
        self.viewport.changed()
        if follow:
            self.viewport.scroll_to_end()

    def cycle_mode(self) -> None:
        """auto → text → hex, remembered for this flow; the top message stays in view."""
        self.mode = _cycle(VIEW_MODES, self.mode)
        if self.flow is not None:
            self._modes[self.flow.id] = self.mode
        self.rebuild(keep_position=True)

    def cycle_direction(self) -> None:
        """both → client → server only → server → client only."""
        self.direction = _cycle(DIRECTIONS, self.direction)
        self.rebuild(keep_position=True)

    def resize(self) -> None:
        """The view's width changed: re-wrap the text rows if their width changes."""
        if self._text_width() != self.text_width:
            self.rebuild(keep_position=True)

    # -- building --------------------------------------------------------------------------

    def _text_width(self) -> int:
        return max(10, (self.viewport.width or DEFAULT_WIDTH) - len(GUTTER))

    def rebuild(self, keep_position: bool = False) -> None:
        """Build the rows again from the first screenful (at the reader's top message
        when `keep_position`); the rest follows in the background."""
        anchor = self._top_message() if keep_position else None
        self.generation += 1
        self.text_width = self._text_width()
        self.reclaimer.drop(self.rows)
        self.rows, self.builder = [], None
        flow = self.flow
        listed = message_list(flow)
        self.marks = message_marks(flow)
        if flow is not None and listed is not None:
            messages = self._messages = listed
            self.counts.count(messages, self.direction)
            if not messages:
                self.rows = [(Kind.NOTE, -1, clean("No messages in this flow."))]
            else:
                self.builder = RowBuilder(
                    messages,
                    mode=self.mode,
                    direction=self.direction,
                    text_width=self.text_width,
                    t0=flow.client_conn.timestamp_start,
                    injected=partial(injected_indexes, flow),
                    marks=self.marks[0],
                )
                self.rows = self.builder.rows
                first = anchor if anchor is not None and anchor >= 0 else None
                self.builder.build_first(first, self.viewport.height or DEFAULT_HEIGHT)
                if self.search_state.query:
                    self.complete_rows()  # the match list covers every row
        else:
            self._messages = None
            self.counts.clear()
            self.rows = [(Kind.NOTE, -1, line) for line in notes_for(flow)]
        self.search_state.rematch(self.rows, self._messages or [])
        self.revision += 1
        self.viewport.changed()
        if anchor is not None:
            first_row = next((i for i, r in enumerate(self.rows) if r[1] >= anchor), None)
            if first_row is not None:
                self.viewport.scroll_to(first_row)
        if self.has_work:
            self.viewport.build_later()

    def complete_rows(self) -> None:
        """Build every remaining row now (what `end` and a search do first)."""
        builder = self.builder
        if builder is None or builder.complete:
            return
        builder.build_all()
        self.viewport.changed()

    def build_slice(self, seconds: float) -> bool:
        """One slice of the background work: free a step of old rows once the new ones
        are complete, else build rows for about `seconds`. True while work remains."""
        if self.reclaimer.pending and self.complete:  # the new rows first, then the old go
            self.reclaimer.free_step()
        if self.builder is not None and not self.builder.complete:
            self.builder.build_for(seconds)
        return self.has_work

    def _top_message(self) -> int | None:
        top = self.viewport.top
        return self.rows[top][1] if 0 <= top < len(self.rows) else None

    # -- moving ----------------------------------------------------------------------------

    def go_to_end(self) -> None:
        """To the last row, finishing the rows first (in a preview: the whole flow's end
        once it is read, unless the reader moved on meanwhile)."""
        self._end_wanted = self.pending is not None
        self.complete_rows()
        self.viewport.scroll_to_end()

    def search(self, query: str) -> None:
        """Find `query` (plain text, any case) in the rendered rows and go to the first hit
        at or below the top row (in a preview: once the whole flow is read, not among its
        first messages only)."""
        s = self.search_state
        s.query = query
        if query and self.pending is not None:
            s.matches, s.current = [], -1
            self.viewport.changed()
            return
        if query:
            self.complete_rows()  # a search covers every row, built or not yet
        s.matches = s.find(self.rows, self._messages or [], 0) if query else []
        s.current = -1
        self.revision += 1
        if s.matches:
            self.go_to_match(s.first_from(self.viewport.top))
        elif query:
            self.viewport.warn(clean("No match."))
        self.viewport.changed()

    def go_to_match(self, index: int) -> None:
        """Make match `index` current, scrolling it into view (a third down) if it is not."""
        s = self.search_state
        s.current = index
        row = s.matches[index]
        top, height = self.viewport.top, self.viewport.height or 1
        if not top <= row < top + height:
            self.viewport.scroll_to(max(0, row - height // 3))
        self.revision += 1
        self.viewport.changed()

    def next_match(self, delta: int = 1) -> None:
        """The match `delta` after the current one (negative: before), wrapping around."""
        index = self.search_state.step(delta)
        if index is not None:
            self.go_to_match(index)
