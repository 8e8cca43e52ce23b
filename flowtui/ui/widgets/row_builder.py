"""A flow's message rows, built a piece at a time (no Textual: the viewer drives it).

`build_rows` makes the rows of any run of messages, and a row depends only on its
message and that message's index, so pieces built one after the other concatenate to
exactly the rows of one eager pass. `RowBuilder` remembers how far it got: the viewer
builds what its first frame shows at once, the rest in short slices between frames,
and finishes it whenever something needs every row (`end`, a search).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence

from flowtui.ui.safe_text import clean
from flowtui.ui.widgets.message_rows import (
    Direction,
    Kind,
    MessageLike,
    Row,
    ViewMode,
    build_rows,
)

__all__ = ["NO_MESSAGES_THIS_WAY", "SYNC_BYTES", "SYNC_MESSAGES", "SYNC_SCREENS", "RowBuilder"]

SYNC_SCREENS = 2
"""Screenfuls of rows built at once when a flow opens or its mode changes."""
SYNC_MESSAGES = 64
SYNC_BYTES = 64 * 1024
"""...and at least this many messages or bytes (so small flows are built at once)."""
STEP = 32
"""Messages per `build_rows` call while building in pieces."""

NO_MESSAGES_THIS_WAY = clean("No messages in this direction (c to change).")
"""The note shown when the direction filter hides every message."""


class RowBuilder:
    """The rows of `messages` in one mode, direction and width, built on demand."""

    def __init__(
        self,
        messages: Sequence[MessageLike],
        *,
        mode: ViewMode,
        direction: Direction,
        text_width: int,
        t0: float | None,
        injected: Callable[[], Collection[int]] | None = None,
        marks: Mapping[int, str] | None = None,
    ) -> None:
        self.messages = messages
        """The flow's message list (a live flow's list grows; the builder follows)."""
        self.mode = mode
        self.direction = direction
        self.text_width = text_width
        self.t0 = t0
        self.marks = marks
        """Signs for some messages' headers (held, edited, dropped), by index."""
        self.rows: list[Row] = []
        """The rows built so far (changed in place only, so callers may keep it)."""
        self.built = 0
        """How many messages have their rows in `rows`."""
        self.has_hex = False
        """True once a hex row was built (the viewer then needs a wider virtual size)."""
        self.injected = injected
        """The indexes of the injected messages now (a live flow's grow with it)."""

    @property
    def complete(self) -> bool:
        """True when every message has its rows."""
        return self.built >= len(self.messages)

    def extend(self, count: int) -> int:
        """Build the rows of up to `count` more messages (at least one); returns the
        bytes they held."""
        first = self.built
        chunk = self.messages[first : first + max(1, count)]
        rows = build_rows(
            chunk,
            first_index=first,
            mode=self.mode,
            direction=self.direction,
            text_width=self.text_width,
            t0=self.t0,
            injected=self.injected() if self.injected is not None else (),
            marks=self.marks,
        )
        self.built = first + len(chunk)
        if not self.has_hex and self.mode != "text":
            self.has_hex = any(row[0] == Kind.HEX for row in rows)
        self.rows.extend(rows)
        return sum(len(m.content) for m in chunk)

    def finish(self) -> None:
        """Once every row is built: the note for a direction that hides everything."""
        if self.complete and not self.rows and self.messages:
            self.rows.append((Kind.NOTE, -1, NO_MESSAGES_THIS_WAY))

    def drop_note(self) -> None:
        """Before appending rows for new messages: drop the "no messages" note."""
        if len(self.rows) == 1 and self.rows[0][0] == Kind.NOTE:
            self.rows.clear()

    def build_first(self, anchor: int | None, height: int) -> None:
        """Build what the first frame shows: `SYNC_SCREENS` screens of `height` rows
        from the top, or from message `anchor` (kept in view across a mode switch),
        and small flows entirely."""
        if anchor is not None:
            while not self.complete and self.built <= anchor:
                self.extend(STEP)
        base = len(self.rows)
        if anchor is not None:
            base = next((i for i, r in enumerate(self.rows) if r[1] >= anchor), base)
        need = SYNC_SCREENS * height
        messages = size = 0
        while not self.complete:
            if len(self.rows) - base >= need and (messages >= SYNC_MESSAGES or size >= SYNC_BYTES):
                break
            before = self.built
            size += self.extend(STEP)
            messages += self.built - before
        self.finish()

    def build_for(self, seconds: float) -> None:
        """Build for about `seconds` (at least one step), or until complete."""
        deadline = time.perf_counter() + seconds
        while not self.complete:
            self.extend(STEP)
            if time.perf_counter() >= deadline:
                break
        self.finish()

    def build_all(self) -> None:
        """Build every remaining row now."""
        while not self.complete:
            self.extend(1024)
        self.finish()
