"""The one flow store between the data sources and the widgets.

File loading, the live socket (later) and the UI all go through `FlowStore`: it holds
the flows by id in order, keeps a filtered view that behaves as a sequence, and tells
subscribers what changed (`add`, `update`, `remove`, `reset`, after mitmweb's
`flows/add` ... event names). Adding or updating a flow is O(1) (plus the view lookup);
re-filtering is O(n). No Textual, no IO: the UI wraps the callbacks in messages.

Its reading of lazy flows is in `store_lazy`, the upkeep of its view in `store_view`
(both mixed into `FlowStore`); their public names are importable from here as before.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from flowtui.core.filters.columns import SummaryColumns
from flowtui.core.flow import Flow
from flowtui.core.store_lazy import OPEN_CACHE as OPEN_CACHE
from flowtui.core.store_lazy import OPEN_CACHE_BYTES as OPEN_CACHE_BYTES
from flowtui.core.store_lazy import PREVIEW_BYTES as PREVIEW_BYTES
from flowtui.core.store_lazy import PREVIEW_MESSAGES as PREVIEW_MESSAGES
from flowtui.core.store_lazy import LazyFlow, LazyRecordsMixin
from flowtui.core.store_view import FilteredViewMixin, FlowView
from flowtui.core.store_view import Predicate as Predicate
from flowtui.core.summary import FlowSummary, summarize

__all__ = [
    "FlowStore",
    "FlowSummary",
    "FlowView",
    "LazyFlow",
    "StoreEvent",
    "StoreSnapshot",
    "summarize",
]

EventKind = Literal["add", "update", "remove", "reset"]


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """Every flow at one moment, in columns (see `FlowStore.snapshot`).

    Columns, not a tuple per flow: the cyclic collector tracks a tuple that holds a
    summary or a record, and 100,000 of them, promoted while a content filter runs,
    made the full collections that stop every thread about 10 ms longer each.
    """

    ids: list[str]
    revisions: list[int]
    summaries: list[FlowSummary | None]
    """A lazy flow's summary; None for a resident flow (its summary may be stale)."""
    items: list[Flow | LazyFlow]
    """The resident flow, or the lazy flow's record."""

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self) -> Iterator[tuple[str, int, FlowSummary | None, Flow | LazyFlow]]:
        """(id, revision, summary, item) of each flow in order, made as they are read."""
        return zip(self.ids, self.revisions, self.summaries, self.items, strict=True)


@dataclass(frozen=True, slots=True)
class StoreEvent:
    """One change announced to subscribers."""

    kind: EventKind
    """`add`, `update`, `remove` or `reset` (the view was rebuilt: filter, clear)."""
    flows: tuple[Flow, ...] = ()
    """The flows concerned (empty for `reset`)."""


class FlowStore(LazyRecordsMixin, FilteredViewMixin):
    """Flows by id in order, a filtered view of them, and change notifications."""

    def __init__(self) -> None:
        self._flows: dict[str, Flow] = {}
        self._lazy: dict[str, LazyFlow] = {}
        self._open: OrderedDict[str, Flow] = OrderedDict()
        self._seq: dict[str, int] = {}
        self._next_seq = 0
        self._view: list[str] = []
        self._view_seqs: list[int] = []
        self._revision: dict[str, int] = {}
        # Every flow's summary for its current revision, in the store's order (as _seq):
        # add, add_lazy and update write it, so a filter reads it as one list.
        self._summaries: dict[str, FlowSummary] = {}
        # The same in lists, for filters over every flow at once: ids, sequence numbers
        # and the summaries column by column (see filters/columns.py).
        self._order_ids: list[str] = []
        self._order_seqs: array[int] = array("q")
        self._columns = SummaryColumns()
        self._columns_ok = True
        self._filter: Predicate | None = None
        self._subscribers: list[Callable[[StoreEvent], None]] = []
        self._marked = 0
        self._modified = 0
        self._counted: dict[str, tuple[bool, bool]] = {}
        self.view = FlowView(self)
        """The filtered, ordered flows (what the list shows)."""

    # -- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._seq)

    def __iter__(self) -> Iterator[Flow]:
        """Every flow in order, shown or not (lazy ones decoded one at a time)."""
        return (self._get(i) for i in list(self._seq))  # _seq is kept in order

    def __contains__(self, flow_id: object) -> bool:
        return flow_id in self._seq

    def get(self, flow_id: str) -> Flow | None:
        """The flow with this id (decoded if lazy), or None."""
        return self._get(flow_id) if flow_id in self._seq else None

    def entries(self) -> list[Flow | LazyFlow]:
        """Every flow in order: resident ones as Flows, untouched lazy ones as their
        records (so saving can copy them without decoding)."""
        ids = list(self._seq)  # _seq is kept in order
        return [self._flows[i] if i in self._flows else self._lazy[i] for i in ids]

    def revision(self, flow_id: str) -> int:
        """How often the flow was updated: part of the list's row-cache key."""
        return self._revision.get(flow_id, 0)

    def number(self, flow_id: str) -> int:
        """The flow's 1-based number in the store's order (stable across filters)."""
        return self._seq[flow_id] + 1

    def summary(self, flow: Flow) -> FlowSummary:
        """The cached summary of `flow` for its current revision (computed when it was
        added or last updated; a flow not in the store is summarised, not cached)."""
        cached = self._summaries.get(flow.id)
        return summarize(flow) if cached is None else cached

    def summary_of(self, flow_id: str) -> FlowSummary:
        """The summary of the flow with this id (never decodes a lazy flow)."""
        return self._summaries[flow_id]

    @property
    def marked_count(self) -> int:
        """How many flows carry a mark."""
        return self._marked

    @property
    def modified_count(self) -> int:
        """How many flows have a backup (changed since loading)."""
        return self._modified

    @property
    def filter(self) -> Predicate | None:
        """The view's predicate (None shows every flow)."""
        return self._filter

    # -- subscribing ----------------------------------------------------------------------

    def subscribe(self, callback: Callable[[StoreEvent], None]) -> None:
        """Call `callback` with every `StoreEvent` from now on."""
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[StoreEvent], None]) -> None:
        """Stop calling `callback`."""
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def _announce(self, kind: EventKind, flows: tuple[Flow, ...] = ()) -> None:
        event = StoreEvent(kind, flows)
        for callback in list(self._subscribers):
            callback(event)

    # -- changing -------------------------------------------------------------------------

    def add(self, flows: Iterable[Flow]) -> None:
        """Append flows (a batch is one `add` event); a known id updates that flow instead."""
        added: list[Flow] = []
        for flow in flows:
            if flow.id in self._seq:
                self.update(flow)
                continue
            self._flows[flow.id] = flow
            self._seq[flow.id] = self._next_seq
            self._next_seq += 1
            self._summaries[flow.id] = summary = summarize(flow)
            self._append_row(flow.id, summary)
            self._count(flow)
            if self._matches(flow):
                self._view.append(flow.id)
                self._view_seqs.append(self._seq[flow.id])
            added.append(flow)
        if added:
            self._announce("add", tuple(added))

    def add_lazy(self, entries: Iterable[tuple[str, FlowSummary, LazyFlow]]) -> int:
        """Append flows known by id, summary and record (one `add` event without flows);
        a known id takes the new record. Returns how many were appended."""
        count = 0
        new_rows: list[FlowSummary] = []
        for flow_id, summary, ref in entries:
            if flow_id in self._seq:
                self._extend_columns(new_rows)  # the row replaced may be a new one
                self._flows.pop(flow_id, None)
                self._open.pop(flow_id, None)
                self._lazy[flow_id] = ref
                self._revision[flow_id] = self._revision.get(flow_id, 0) + 1
                self._summaries[flow_id] = summary
                self._replace_row(flow_id, summary)
                self._uncount(flow_id)
                self._count_summary(flow_id, summary)
                self._place(flow_id, self._matches_id(flow_id))
                continue
            self._lazy[flow_id] = ref
            self._seq[flow_id] = seq = self._next_seq
            self._next_seq += 1
            self._summaries[flow_id] = summary
            self._order_ids.append(flow_id)
            self._order_seqs.append(seq)
            new_rows.append(summary)
            self._count_summary(flow_id, summary)
            if self._matches_id(flow_id):
                self._view.append(flow_id)
                self._view_seqs.append(seq)
            count += 1
        self._extend_columns(new_rows)
        self._announce("add")
        return count

    def insert_after(self, anchor_id: str | None, flow: Flow) -> None:
        """Insert a new flow right after `anchor_id` (None: first); for duplicates, O(n)."""
        if flow.id in self._seq:
            raise KeyError(flow.id)
        if anchor_id is not None and anchor_id not in self._seq:
            raise KeyError(anchor_id)
        anchor = self._seq[anchor_id] if anchor_id is not None else -1
        for fid, seq in self._seq.items():
            if seq > anchor:
                self._seq[fid] = seq + 1
        self._flows[flow.id] = flow
        self._seq[flow.id] = anchor + 1
        self._seq = dict(sorted(self._seq.items(), key=lambda item: item[1]))
        self._next_seq += 1
        self._summaries[flow.id] = summary = summarize(flow)
        self._summaries = {i: self._summaries[i] for i in self._seq}  # the same order
        self._order_ids = list(self._seq)
        self._order_seqs = array("q", self._seq.values())
        pos = self._row(flow.id)
        self._keep_columns(lambda: self._columns.insert(pos, summary))
        self._count(flow)
        self._rebuild_view()
        self._announce("add", (flow,))

    def previous_id(self, flow_id: str) -> str | None:
        """The id of the flow just before `flow_id` in the store's order (None if first)."""
        seq = self._seq[flow_id]
        before = [(s, i) for i, s in self._seq.items() if s < seq]
        return max(before)[1] if before else None

    def update(self, flow: Flow) -> None:
        """Announce that `flow` changed: bumps its revision and re-checks the filter."""
        if flow.id not in self._seq:
            raise KeyError(flow.id)
        self._flows[flow.id] = flow  # changed: resident from now on
        self._open.pop(flow.id, None)
        self._revision[flow.id] = self._revision.get(flow.id, 0) + 1
        self._summaries[flow.id] = summary = summarize(flow)
        self._replace_row(flow.id, summary)
        self._uncount(flow.id)
        self._count(flow)
        self._place(flow.id, self._matches(flow))
        self._announce("update", (flow,))

    def remove(self, flow_id: str) -> Flow:
        """Remove a flow from the store (and the view); returns it."""
        flow = self._get(flow_id)
        self._flows.pop(flow_id, None)
        self._lazy.pop(flow_id, None)
        self._open.pop(flow_id, None)
        pos = self._view_position(flow_id)
        if pos is not None:
            del self._view[pos], self._view_seqs[pos]
        row = self._row(flow_id)
        del self._order_ids[row], self._order_seqs[row]
        self._keep_columns(lambda: self._columns.delete(row))
        self._uncount(flow_id)
        del self._seq[flow_id]
        self._revision.pop(flow_id, None)
        self._summaries.pop(flow_id, None)
        self._announce("remove", (flow,))
        return flow

    def set_filter(
        self, predicate: Predicate | None, known: Mapping[str, bool] | None = None
    ) -> None:
        """Show only flows for which `predicate` is true (None: all); O(n).

        `known` holds results already computed elsewhere (say, in a worker thread over
        `snapshot()`); flows missing from it (added or changed since) are checked here.
        """
        self._filter = predicate
        self._rebuild_view(known or {})
        self._announce("reset")

    def snapshot(self) -> StoreSnapshot:
        """Every flow's id, revision, summary and flow or record, column by column: a
        copy another thread may read while this changes (a worker loads lazy ones
        itself with `load()`; their summary is given, a resident flow's is None)."""
        flows, lazy, rev, sums = self._flows, self._lazy, self._revision, self._summaries
        ids = list(self._seq)  # _seq is kept in order
        return StoreSnapshot(
            ids,
            [rev.get(i, 0) for i in ids],
            [None if i in flows else sums[i] for i in ids],
            [flows[i] if i in flows else lazy[i] for i in ids],
        )

    def clear(self) -> None:
        """Forget every flow (subscribers and the filter stay)."""
        tables = (self._flows, self._lazy, self._open, self._seq, self._revision)
        for table in (*tables, self._summaries, self._counted):
            table.clear()
        self._view, self._view_seqs = [], []
        self._order_ids, self._order_seqs = [], array("q")
        self._columns.clear()
        self._columns_ok = True
        self._marked = self._modified = 0
        self._announce("reset")

    # -- internals ----------------------------------------------------------------------

    def _count(self, flow: Flow) -> None:
        self._count_summary(flow.id, self._summaries[flow.id])

    def _count_summary(self, flow_id: str, summary: FlowSummary) -> None:
        state = (bool(summary.marked), summary.modified)
        self._counted[flow_id] = state
        self._marked += state[0]
        self._modified += state[1]

    def _uncount(self, flow_id: str) -> None:
        marked, modified = self._counted.pop(flow_id, (False, False))
        self._marked -= marked
        self._modified -= modified
