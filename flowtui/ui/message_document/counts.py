"""The border's counts (messages and bytes each way, how many are shown), kept right as a
live flow grows and recounted only when the messages or the direction change."""

from __future__ import annotations

from collections.abc import Sequence

from flowtui.ui.widgets.message_rows import Direction, MessageLike, RowStats, count_stats

__all__ = ["Counts"]


class Counts:
    """`RowStats` over one message list in one direction, counted once."""

    def __init__(self) -> None:
        self.stats = RowStats()
        """The counts the border shows."""
        self.counted = 0
        """Messages counted in `stats` (all of them, even while rows are still building)."""
        self._messages: Sequence[MessageLike] | None = None
        self._direction: Direction = "both"

    def count(self, messages: Sequence[MessageLike], direction: Direction) -> None:
        """Count `messages` seen in `direction`, unless these are already counted (a view
        mode switch keeps the counts; a new list, direction or length counts again)."""
        if (
            messages is self._messages
            and direction == self._direction
            and self.counted == len(messages)
        ):
            return
        self.stats = RowStats()
        count_stats(messages, direction, self.stats)
        self._messages, self._direction, self.counted = messages, direction, len(messages)

    def add_new(self, messages: Sequence[MessageLike]) -> None:
        """Count the messages appended to the counted list since the last count."""
        count_stats(messages[self.counted :], self._direction, self.stats)
        self.counted = len(messages)

    def clear(self) -> None:
        """Nothing to count (a flow without messages to show)."""
        self.stats, self.counted, self._messages = RowStats(), 0, None
