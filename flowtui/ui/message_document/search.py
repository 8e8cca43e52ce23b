"""The message search: plain text, any case, over the rows' rendered text."""

from __future__ import annotations

from collections.abc import Sequence

from flowtui.ui.widgets.message_rows import MessageLike, Row, row_text

__all__ = ["Search"]


class Search:
    """A query, the rows that match it, and which match is current."""

    def __init__(self) -> None:
        self.query = ""
        """The text searched for ("" for no search)."""
        self.matches: list[int] = []
        """Row indices that match, in order."""
        self.current = -1
        """The index in `matches` of the current match, -1 for none."""
        self._set_key: tuple[int, int] = (0, -1)
        self._set: frozenset[int] = frozenset()

    def clear(self) -> None:
        """No search."""
        self.query, self.matches, self.current = "", [], -1

    @property
    def current_row(self) -> int | None:
        """The row index of the current match, or None."""
        i = self.current
        return self.matches[i] if 0 <= i < len(self.matches) else None

    def find(self, rows: Sequence[Row], messages: Sequence[MessageLike], start: int) -> list[int]:
        """The rows from `start` on whose text holds the query."""
        needle = self.query.lower()
        return [i for i in range(start, len(rows)) if needle in row_text(rows[i], messages).lower()]

    def rematch(self, rows: Sequence[Row], messages: Sequence[MessageLike]) -> None:
        """Match the query against new rows, keeping the current index where it can."""
        self.matches = self.find(rows, messages, 0) if self.query else []
        self.current = min(self.current, len(self.matches) - 1)

    def first_from(self, row: int) -> int:
        """The index of the first match at or after `row` (wrapping to the first)."""
        return next((i for i, r in enumerate(self.matches) if r >= row), 0)

    def step(self, delta: int) -> int | None:
        """The index `delta` matches away from the current one, wrapping; None without
        matches."""
        if not self.matches:
            return None
        return (self.current + delta) % len(self.matches)

    def is_match(self, row: int) -> bool:
        """Whether `row` matches (a set lookup, rebuilt when the matches change)."""
        if not self.query:
            return False
        key = (id(self.matches), len(self.matches))
        if key != self._set_key:
            self._set_key, self._set = key, frozenset(self.matches)
        return row in self._set
