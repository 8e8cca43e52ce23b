"""Freeing the rows of earlier builds a slice at a time.

Dropping the last reference to 100,000 rows frees them all at once, which costs a frame
or more; a rebuild hands its old rows here instead, and the background build deletes
them `STEP` at a time once the new rows are complete.
"""

from __future__ import annotations

from flowtui.ui.widgets.message_rows import Row

__all__ = ["STEP", "Reclaimer"]

STEP = 20_000
"""Rows freed per slice (and the size below which old rows are simply let go)."""


class Reclaimer:
    """Old row lists waiting to be freed."""

    def __init__(self) -> None:
        self._lists: list[list[Row]] = []

    def drop(self, rows: list[Row]) -> None:
        """Take `rows`, no longer shown (small lists are let go at once)."""
        if len(rows) > STEP:
            self._lists.append(rows)

    @property
    def pending(self) -> int:
        """Rows still held, to be freed."""
        return sum(len(rows) for rows in self._lists)

    def free_step(self) -> None:
        """Free up to `STEP` rows, the newest list's last first."""
        if not self._lists:
            return
        del self._lists[-1][-STEP:]
        if not self._lists[-1]:
            self._lists.pop()
