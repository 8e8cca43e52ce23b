"""The flow store's filtered view: which flows the list shows, kept up as flows change.

`FlowView` is the view as a read-only sequence; `FilteredViewMixin` is the part of
`FlowStore` that keeps it: the filter tested on one flow, the store's order as lists and
summary columns (what a summary filter reads at once, see filters/columns.py), rebuilding
the view, and showing or hiding one changed flow. Kept apart so `flowtui.core.store`
holds the bookkeeping (order, changes, counts, events) alone; `FlowStore` mixes this in,
so its attributes stay its own.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Mapping, Sequence
from itertools import compress
from typing import TYPE_CHECKING, overload

from flowtui.core.filters.columns import SummaryColumns
from flowtui.core.flow import Flow
from flowtui.core.summary import FlowSummary

if TYPE_CHECKING:
    from flowtui.core.store import FlowStore

__all__ = ["FilteredViewMixin", "FlowView", "Predicate"]

Predicate = Callable[[Flow], bool]


class FlowView(Sequence[Flow]):
    """The filtered, ordered flows: a read-only sequence backed by the store."""

    def __init__(self, store: FlowStore) -> None:
        self._store = store

    def __len__(self) -> int:
        return len(self._store._view)

    @overload
    def __getitem__(self, index: int) -> Flow: ...
    @overload
    def __getitem__(self, index: slice) -> list[Flow]: ...
    def __getitem__(self, index: int | slice) -> Flow | list[Flow]:
        flows = self._store._flows
        get = self._store._get
        if isinstance(index, slice):
            return [get(i) for i in self._store._view[index]]
        flow_id = self._store._view[index]
        return flows[flow_id] if flow_id in flows else get(flow_id)

    def id_at(self, index: int) -> str:
        """The id of the flow at `index` (never decodes a lazy flow)."""
        return self._store._view[index]

    def position(self, flow_id: str) -> int | None:
        """The position of a flow in the view, or None if it is not shown (O(log n))."""
        return self._store._view_position(flow_id)


class FilteredViewMixin:
    """`FlowStore`'s keeping of its view (its state is set in `FlowStore.__init__`)."""

    _flows: dict[str, Flow]
    _seq: dict[str, int]
    _view: list[str]
    _view_seqs: list[int]
    _summaries: dict[str, FlowSummary]
    _order_ids: list[str]
    _order_seqs: array[int]
    _columns: SummaryColumns
    _columns_ok: bool
    _filter: Predicate | None

    if TYPE_CHECKING:  # FlowStore's and LazyRecordsMixin's

        def summary(self, flow: Flow) -> FlowSummary: ...
        def summary_of(self, flow_id: str) -> FlowSummary: ...
        def _get(self, flow_id: str) -> Flow: ...

    def _matches(self, flow: Flow) -> bool:
        if self._filter is None:
            return True
        try:
            if getattr(self._filter, "on_summaries", False):
                return bool(self._filter.match_summary(self.summary(flow)))  # type: ignore[attr-defined]
            return bool(self._filter(flow))
        except Exception:  # a filter must never break the store; treat as "no match"
            return False

    def _matches_id(self, flow_id: str) -> bool:
        """The filter on a flow by id: on its summary where the filter allows, else on
        the flow (decoding a lazy one)."""
        if self._filter is None:
            return True
        if flow_id in self._flows:
            return self._matches(self._flows[flow_id])
        try:
            if getattr(self._filter, "on_summaries", False):
                return bool(self._filter.match_summary(self.summary_of(flow_id)))  # type: ignore[attr-defined]
            return bool(self._filter(self._get(flow_id)))
        except Exception:  # as in _matches (a record gone bad included)
            return False

    def _rebuild_view(self, known: Mapping[str, bool] | None = None) -> None:
        known = known or {}
        if self._filter is None and not known:
            self._view, self._view_seqs = self._order_ids.copy(), self._order_seqs.tolist()
            return
        flt = self._filter
        if getattr(flt, "on_summaries", False):
            # The fast path: the summaries, column by column (or in one list if keeping
            # the columns failed), tested field by field: nothing decoded.
            try:
                if self._columns_ok:
                    flags = flt.match_columns(self._columns)  # type: ignore[union-attr]
                else:
                    flags = flt.match_summaries(list(self._summaries.values()))  # type: ignore[union-attr]
            except Exception:  # a filter must never break the store: go flow by flow
                flags = None
            if flags is not None and len(flags) == len(self._order_ids):
                if known:
                    flags = self._with_known(flags, known)
                self._view, self._view_seqs = self._select(flags)
                return
        match = self._matches_id
        ids = self._order_ids
        self._view = [i for i in ids if (known[i] if i in known else match(i))]
        self._view_seqs = [self._seq[i] for i in self._view]

    def _select(self, flags: bytes) -> tuple[list[str], list[int]]:
        """The ids and sequence numbers of the flows whose flag (one byte per flow, in
        the store's order) is 1."""
        ids, seqs = self._order_ids, self._order_seqs
        shown = flags.count(1)
        if shown == len(flags):
            return ids.copy(), seqs.tolist()
        if shown * 16 > len(flags):
            return list(compress(ids, flags)), list(compress(seqs, flags))
        # Few flows shown: find them, and touch none of the others' ids.
        rows, find = [], flags.find
        row = find(1)
        while row >= 0:
            rows.append(row)
            row = find(1, row + 1)
        return list(map(ids.__getitem__, rows)), list(map(seqs.__getitem__, rows))

    def _with_known(self, flags: bytes, known: Mapping[str, bool]) -> bytes:
        """`flags` (one byte per flow, in order) with the answers in `known` instead."""
        patched = bytearray(flags)
        for flow_id, ok in known.items():
            if flow_id in self._seq:
                patched[self._row(flow_id)] = 1 if ok else 0
        return bytes(patched)

    def _row(self, flow_id: str) -> int:
        """The position of a flow in the store's order (O(log n))."""
        return bisect.bisect_left(self._order_seqs, self._seq[flow_id])

    def _append_row(self, flow_id: str, summary: FlowSummary) -> None:
        self._order_ids.append(flow_id)
        self._order_seqs.append(self._seq[flow_id])
        if self._columns_ok:
            try:
                self._columns.append(summary)
            except Exception:  # never break the store: filter the summaries' list instead
                self._columns_ok = False

    def _extend_columns(self, rows: list[FlowSummary]) -> None:
        """Add the summaries of flows just appended to the columns (then empty `rows`)."""
        if rows:
            self._keep_columns(lambda: self._columns.extend(rows))
            rows.clear()

    def _replace_row(self, flow_id: str, summary: FlowSummary) -> None:
        row = self._row(flow_id)
        self._keep_columns(lambda: self._columns.replace(row, summary))

    def _keep_columns(self, change: Callable[[], None]) -> None:
        """Apply a change to the columns; if it fails, stop keeping them (filters then
        read the summaries' list, still without decoding anything)."""
        if self._columns_ok:
            try:
                change()
            except Exception:
                self._columns_ok = False

    def _place(self, flow_id: str, matches: bool) -> None:
        """Show or hide a changed flow as the filter now says."""
        shown = self._view_position(flow_id) is not None
        if matches != shown:
            seq = self._seq[flow_id]
            pos = bisect.bisect_left(self._view_seqs, seq)
            if shown:
                del self._view[pos], self._view_seqs[pos]
            else:
                self._view.insert(pos, flow_id)
                self._view_seqs.insert(pos, seq)

    def _view_position(self, flow_id: str) -> int | None:
        seq = self._seq.get(flow_id)
        if seq is None:
            return None
        pos = bisect.bisect_left(self._view_seqs, seq)
        if pos < len(self._view_seqs) and self._view_seqs[pos] == seq:
            return pos
        return None
