"""The store's summary table: one row per flow, in the store's order.

Every flow in the store has a row here, under its key: its place (a sequence number,
the flow's number minus one, kept across filters and deletions), its revision (how
often it was updated: part of the list's row-cache key) and its summary for that
revision. The summaries are also kept column by column (`SummaryColumns`): what a
summary filter reads at once, and what ordering reads, without decoding a record.

Rows are kept in the order of their sequence numbers; appending is O(1), replacing a
row O(1) plus the columns, deleting or inserting one O(n) (a move of pointers).
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat

from flowtui.core.filters.columns import SummaryColumns
from flowtui.core.summary import FlowSummary

__all__ = ["SummaryTable"]


_PROTOCOLS = frozenset({"http", "dns"})
"""The flow types with a status and a content type or DNS answer in the list."""


class SummaryTable:
    """Every flow's place, revision and summary, in order, with the summaries' columns."""

    def __init__(self) -> None:
        self._seq: dict[str, int] = {}
        """Key -> sequence number, in order (insertion re-sorts it)."""
        self._next_seq = 0
        self._summaries: dict[str, FlowSummary] = {}
        self._revision: dict[str, int] = {}
        self.ids: list[str] = []
        """Every key in order (as `_seq`, as a list for filters over every row)."""
        self.seqs: array[int] = array("q")
        """Every sequence number in order (`bisect` finds a key's row in it)."""
        self.columns = SummaryColumns()
        """The summaries in order, field by field (see filters/columns.py)."""
        self.columns_ok = True
        """False once keeping the columns failed (a summary value that is not hashable):
        filters then read `summaries()` instead, still without decoding anything."""
        self._counted: dict[str, tuple[bool, bool, bool]] = {}
        self.protocol_count = 0
        """How many rows are HTTP or DNS flows (whose status and content the list shows)."""
        self.marked_count = 0
        """How many rows carry a mark."""
        self.modified_count = 0
        """How many rows are of flows with a backup (changed since loading)."""

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._seq)

    def __contains__(self, key: object) -> bool:
        return key in self._seq

    def __iter__(self) -> Iterator[str]:
        """Every key, in order."""
        return iter(self.ids)

    def seq(self, key: str) -> int:
        """The key's sequence number (KeyError if it has no row)."""
        return self._seq[key]

    def seq_get(self, key: str) -> int | None:
        return self._seq.get(key)

    def summary(self, key: str) -> FlowSummary:
        """The row's summary (KeyError if it has none)."""
        return self._summaries[key]

    def summary_get(self, key: str) -> FlowSummary | None:
        return self._summaries.get(key)

    def seqs_of(self, keys: Iterable[str]) -> list[int]:
        """The sequence numbers of these keys (one C-level pass)."""
        return list(map(self._seq.__getitem__, keys))

    def summaries_of(self, keys: Iterable[str]) -> list[FlowSummary]:
        """The summaries of these keys (one C-level pass)."""
        return list(map(self._summaries.__getitem__, keys))

    def revisions_of(self, keys: Iterable[str]) -> list[int]:
        """The revisions of these keys (one C-level pass)."""
        return list(map(self._revision.get, keys, repeat(0)))

    def summaries(self) -> list[FlowSummary]:
        """Every summary in order."""
        return list(self._summaries.values())

    def revision(self, key: str) -> int:
        return self._revision.get(key, 0)

    def row(self, key: str) -> int:
        """The key's position in the store's order (O(log n))."""
        return bisect.bisect_left(self.seqs, self._seq[key])

    def seqs_taken(self) -> set[int]:
        return set(self._seq.values())

    def previous(self, key: str) -> str | None:
        """The key just before `key` in order (None if it is first)."""
        row = self.row(key)
        return self.ids[row - 1] if row > 0 else None

    # -- changing ---------------------------------------------------------------------------

    def append(self, key: str, summary: FlowSummary) -> int:
        """A new row at the end; returns its sequence number."""
        seq = self._take(key, summary)
        self._keep_columns(lambda: self.columns.append(summary))
        return seq

    def extend(self, rows: Iterable[tuple[str, FlowSummary]]) -> list[int]:
        """New rows at the end (the columns take them at once); their sequence numbers."""
        summaries: list[FlowSummary] = []
        seqs: list[int] = []
        for key, summary in rows:
            seqs.append(self._take(key, summary))
            summaries.append(summary)
        if summaries:
            self._keep_columns(lambda: self.columns.extend(summaries))
        return seqs

    def _take(self, key: str, summary: FlowSummary) -> int:
        seq = self._next_seq
        self._next_seq += 1
        self._seq[key] = seq
        self._summaries[key] = summary
        self.ids.append(key)
        self.seqs.append(seq)
        self._count(key, summary)
        return seq

    def insert(self, key: str, seq: int, summary: FlowSummary, revision: int = 0) -> None:
        """A row at place `seq`, moving the rows from there on one down unless the place
        is free (a deleted flow's): O(n)."""
        if seq in self.seqs_taken():
            self._seq = {k: s + 1 if s >= seq else s for k, s in self._seq.items()}
            self._next_seq += 1
        self._next_seq = max(self._next_seq, seq + 1)
        self._seq[key] = seq
        self._seq = dict(sorted(self._seq.items(), key=lambda item: item[1]))
        self._summaries[key] = summary
        self._summaries = {k: self._summaries[k] for k in self._seq}  # the same order
        if revision:
            self._revision[key] = revision
        self.ids = list(self._seq)
        self.seqs = array("q", self._seq.values())
        pos = self.row(key)
        self._keep_columns(lambda: self.columns.insert(pos, summary))
        self._count(key, summary)

    def replace(self, key: str, summary: FlowSummary) -> FlowSummary:
        """The row's flow changed: its new summary, one revision more; returns the old."""
        old = self._summaries[key]
        self._summaries[key] = summary
        self._revision[key] = self._revision.get(key, 0) + 1
        row = self.row(key)
        self._keep_columns(lambda: self.columns.replace(row, summary))
        self._uncount(key)
        self._count(key, summary)
        return old

    def delete(self, key: str) -> None:
        row = self.row(key)
        del self.ids[row], self.seqs[row]
        self._keep_columns(lambda: self.columns.delete(row))
        self._uncount(key)
        del self._seq[key]
        self._revision.pop(key, None)
        self._summaries.pop(key, None)

    def clear(self) -> None:
        for table in (self._seq, self._summaries, self._revision, self._counted):
            table.clear()
        self.ids, self.seqs = [], array("q")
        self.columns.clear()
        self.columns_ok = True
        self.marked_count = self.modified_count = self.protocol_count = 0

    def _keep_columns(self, change: Callable[[], None]) -> None:
        """Apply a change to the columns; if it fails, stop keeping them."""
        if self.columns_ok:
            try:
                change()
            except Exception:  # never break the store: filters read `summaries()`
                self.columns_ok = False

    def _count(self, key: str, summary: FlowSummary) -> None:
        state = (bool(summary.marked), summary.modified, summary.type in _PROTOCOLS)
        self._counted[key] = state
        self.marked_count += state[0]
        self.modified_count += state[1]
        self.protocol_count += state[2]

    def _uncount(self, key: str) -> None:
        marked, modified, protocol = self._counted.pop(key, (False, False, False))
        self.marked_count -= marked
        self.modified_count -= modified
        self.protocol_count -= protocol
