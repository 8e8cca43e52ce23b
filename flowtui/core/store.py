"""The one flow store between the data sources and the widgets.

File loading, the live socket (later) and the UI all go through `FlowStore`: it holds
the flows in order under a key of their own, keeps a filtered view that behaves as a
sequence, and tells subscribers what changed (`add`, `update`, `remove`, `reset`, after mitmweb's
`flows/add` ... event names). Adding or updating a flow is O(1) (plus the view lookup);
re-filtering is O(n). No Textual, no IO: the UI wraps the callbacks in messages.

A flow's key is its id, unless a flow of that id is in the store already: a capture may
hold one id several times (`cat a.flows a.flows`), and each of its records is a flow of
its own, never merged with another; the later ones get a key of their own
(`"<id>#2"`...). `key_of(flow)` finds the key of a flow the store handed out; a live
flow, whose id is unique, is updated by its id.

The store also knows what a save would change (`unsaved_count`): flows whose state
differs from the one loaded or last saved, flows added, deleted or put back elsewhere.

Its reading of lazy flows is in `store_lazy`, the upkeep of its view in `store_view`
(both mixed into `FlowStore`); their public names are importable from here as before.
"""

from __future__ import annotations

import math
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

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
    "Removed",
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


@dataclass(frozen=True, slots=True)
class Removed:
    """A flow taken out of the store with what putting it back needs (`restore`): its
    key, place, record or flow, and whether it differed from what was loaded."""

    key: str
    seq: int
    before: str | None
    """The key of the flow that was just before it."""
    flow: Flow | None
    """The flow if it was in memory (changed, or made here), else None."""
    lazy: LazyFlow | None
    summary: FlowSummary
    revision: int
    changed: bool


def _same_state(a: Any, b: Any) -> bool:
    """Equal states, a NaN equal to a NaN (a timestamp may be one)."""
    if a == b:
        return True
    if isinstance(a, float) and isinstance(b, float):
        return math.isnan(a) and math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same_state(x, y) for x, y in zip(a, b, strict=True))
    return False


def _content(flow: Flow) -> dict[str, Any]:
    """What a save writes of `flow`, but for its backup (a copy taken before a change
    that was then undone is no change of its own)."""
    state: dict[str, Any] = dict(flow.get_state())
    state.pop("backup", None)
    return state


class FlowStore(LazyRecordsMixin, FilteredViewMixin):
    """Flows by key in order, a filtered view of them, and change notifications."""

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
        # The key of each flow object handed out (a capture may hold an id twice).
        self._keys: weakref.WeakKeyDictionary[Flow, str] = weakref.WeakKeyDictionary()
        # What a save would change: keys of the loaded or last saved flows, the state of
        # those of them in memory as loaded or saved, and the differences now.
        self._base: set[str] = set()
        self._base_state: dict[str, dict[str, Any] | None] = {}
        self._changed: set[str] = set()
        self._added: set[str] = set()
        self._missing: set[str] = set()
        self._moved: set[str] = set()
        self.view = FlowView(self)
        """The filtered, ordered flows (what the list shows)."""

    # -- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._seq)

    def __iter__(self) -> Iterator[Flow]:
        """Every flow in order, shown or not (lazy ones decoded one at a time)."""
        return (self._get(i) for i in list(self._seq))  # _seq is kept in order

    def __contains__(self, key: object) -> bool:
        return key in self._seq

    def get(self, key: str) -> Flow | None:
        """The flow with this key (decoded if lazy), or None."""
        return self._get(key) if key in self._seq else None

    def keys_in_order(self) -> list[str]:
        """Every flow's key, in order."""
        return list(self._seq)

    def key_of(self, flow: Flow) -> str | None:
        """The key of `flow`: the one it was handed out under, else its id's (a live flow
        or one made elsewhere); None if it is not in the store."""
        key = self._keys.get(flow)
        if key is not None:
            return key if key in self._seq else None
        return flow.id if flow.id in self._seq else None

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
        key = self.key_of(flow)
        cached = self._summaries.get(key) if key is not None else None
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
    def unsaved_count(self) -> int:
        """How many differences a save would write: flows changed (their state differs
        from the one loaded or last saved), added, deleted, or put back elsewhere."""
        return len(self._changed) + len(self._added) + len(self._missing) + len(self._moved)

    def unsaved(self) -> dict[str, int]:
        """`unsaved_count` by kind: changed, added, deleted, moved."""
        return {
            "changed": len(self._changed),
            "added": len(self._added),
            "deleted": len(self._missing),
            "moved": len(self._moved),
        }

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
        """Append flows (a batch is one `add` event); a known id updates that flow instead
        (a live flow's update arrives as a new object of the same id)."""
        added: list[Flow] = []
        for flow in flows:
            if flow.id in self._seq:
                self.update(flow)
                continue
            key = flow.id
            self._flows[key] = flow
            self._keys[flow] = key
            self._seq[key] = self._next_seq
            self._next_seq += 1
            self._summaries[key] = summary = summarize(flow)
            self._append_row(key, summary)
            self._count_summary(key, summary)
            self._added.add(key)
            if self._matches(flow):
                self._view.append(key)
                self._view_seqs.append(self._seq[key])
            added.append(flow)
        if added:
            self._announce("add", tuple(added))

    def add_lazy(self, entries: Iterable[tuple[str, FlowSummary, LazyFlow]]) -> int:
        """Append flows known by id, summary and record (one `add` event without flows),
        each a flow of its own: a repeated id gets a key of its own. They are what was
        loaded: saving them unchanged changes nothing. Returns how many were appended."""
        count = 0
        new_rows: list[FlowSummary] = []
        for flow_id, summary, ref in entries:
            key = self._free_key(flow_id)
            self._lazy[key] = ref
            self._seq[key] = seq = self._next_seq
            self._next_seq += 1
            self._summaries[key] = summary
            self._order_ids.append(key)
            self._order_seqs.append(seq)
            new_rows.append(summary)
            self._count_summary(key, summary)
            self._base.add(key)
            if self._matches_id(key):
                self._view.append(key)
                self._view_seqs.append(seq)
            count += 1
        self._extend_columns(new_rows)
        self._announce("add")
        return count

    def _free_key(self, flow_id: str) -> str:
        """`flow_id`, or `<id>#<n>` with the first n from 2 that no flow has."""
        if flow_id not in self._seq and flow_id not in self._base:
            return flow_id
        n = 2
        while f"{flow_id}#{n}" in self._seq or f"{flow_id}#{n}" in self._base:
            n += 1
        return f"{flow_id}#{n}"

    def insert_after(self, anchor: str | None, flow: Flow) -> str:
        """Insert a new flow right after the flow keyed `anchor` (None: first); for
        duplicates, O(n). Returns its key."""
        if anchor is not None and anchor not in self._seq:
            raise KeyError(anchor)
        if self.key_of(flow) is not None:
            raise KeyError(flow.id)
        key = self._free_key(flow.id)
        self._insert(key, self._seq[anchor] + 1 if anchor is not None else 0, flow, None)
        self._summaries[key] = summary = summarize(flow)
        self._finish_insert(key, summary)
        self._added.add(key)
        self._announce("add", (flow,))
        return key

    def _insert(self, key: str, seq: int, flow: Flow | None, lazy: LazyFlow | None) -> None:
        """Give `key` the place `seq`, moving the flows from there on one down unless the
        place is free (a deleted flow's)."""
        if seq in self._seqs_taken():
            for k, s in self._seq.items():
                if s >= seq:
                    self._seq[k] = s + 1
            self._next_seq += 1
        self._next_seq = max(self._next_seq, seq + 1)
        if flow is not None:
            self._flows[key] = flow
            self._keys[flow] = key
        if lazy is not None:
            self._lazy[key] = lazy
        self._seq[key] = seq
        self._seq = dict(sorted(self._seq.items(), key=lambda item: item[1]))

    def _seqs_taken(self) -> set[int]:
        return set(self._seq.values())

    def _finish_insert(self, key: str, summary: FlowSummary) -> None:
        self._summaries = {i: self._summaries[i] for i in self._seq}  # the same order
        self._order_ids = list(self._seq)
        self._order_seqs = array("q", self._seq.values())
        pos = self._row(key)
        self._keep_columns(lambda: self._columns.insert(pos, summary))
        self._count_summary(key, summary)
        self._rebuild_view()

    def previous_id(self, key: str) -> str | None:
        """The key of the flow just before `key` in the store's order (None if first)."""
        seq = self._seq[key]
        before = [(s, i) for i, s in self._seq.items() if s < seq]
        return max(before)[1] if before else None

    def update(self, flow: Flow) -> None:
        """Announce that `flow` changed: bumps its revision and re-checks the filter."""
        key = self.key_of(flow)
        if key is None:
            raise KeyError(flow.id)
        self._flows[key] = flow  # changed: resident from now on
        self._keys[flow] = key
        self._open.pop(key, None)
        self._revision[key] = self._revision.get(key, 0) + 1
        self._summaries[key] = summary = summarize(flow)
        self._replace_row(key, summary)
        self._uncount(key)
        self._count_summary(key, summary)
        self._place(key, self._matches(flow))
        self._note_content(key, flow)
        self._announce("update", (flow,))

    def _note_content(self, key: str, flow: Flow) -> None:
        """Whether the flow now differs from what was loaded or last saved."""
        if key not in self._base:
            return  # added since: counted as added
        if key not in self._base_state:
            lazy = self._lazy.get(key)
            try:
                self._base_state[key] = None if lazy is None else _content(lazy.load())
            except Exception:  # its record went bad: count the flow as changed
                self._base_state[key] = None
        base = self._base_state[key]
        if base is not None and _same_state(_content(flow), base):
            self._changed.discard(key)
        else:
            self._changed.add(key)

    def remove(self, key: str) -> Flow:
        """Remove a flow from the store (and the view); returns it."""
        flow = self._get(key)
        self.detach(key)
        return flow

    def detach(self, key: str) -> Removed:
        """Remove a flow from the store (and the view); returns what `restore` needs to
        put it back as it was (a lazy flow stays a record, copied when saved)."""
        flow = self._flows.get(key)
        removed = Removed(
            key,
            self._seq[key],
            self.previous_id(key),
            flow,
            self._lazy.get(key),
            self._summaries[key],
            self._revision.get(key, 0),
            key in self._changed,
        )
        shown = self._get(key)
        self._flows.pop(key, None)
        self._lazy.pop(key, None)
        self._open.pop(key, None)
        pos = self._view_position(key)
        if pos is not None:
            del self._view[pos], self._view_seqs[pos]
        row = self._row(key)
        del self._order_ids[row], self._order_seqs[row]
        self._keep_columns(lambda: self._columns.delete(row))
        self._uncount(key)
        del self._seq[key]
        self._revision.pop(key, None)
        self._summaries.pop(key, None)
        self._changed.discard(key)
        self._moved.discard(key)
        if key in self._base:
            self._missing.add(key)
        else:
            self._added.discard(key)
        self._announce("remove", (shown,))
        return removed

    def restore(self, removed: Removed) -> str:
        """Put a flow taken out by `detach` back: at its place and under its number if
        both are free, else right after the flow that was before it. Returns its key."""
        key = removed.key
        if key in self._seq:
            raise KeyError(key)
        taken = self._seqs_taken()
        if removed.seq not in taken:
            seq = removed.seq
        else:
            before = removed.before if removed.before in self._seq else None
            seq = self._seq[before] + 1 if before is not None else 0
            if key in self._base:
                self._moved.add(key)
        self._insert(key, seq, removed.flow, removed.lazy)
        self._revision[key] = removed.revision + 1  # drawn afresh
        self._summaries[key] = removed.summary
        self._finish_insert(key, removed.summary)
        if key in self._base:
            self._missing.discard(key)
            if removed.changed:
                self._changed.add(key)
        else:
            self._added.add(key)
        self._announce("add", (self._get(key),))
        return key

    def mark_saved(self, revisions: Mapping[str, int]) -> None:
        """A save wrote the flows keyed in `revisions` at those revisions: they are now
        what counts as unchanged (flows changed since the save stay counted)."""
        for key in list(self._base):
            if key not in revisions:  # deleted before the save: not in the file
                self._base.discard(key)
                self._base_state.pop(key, None)
                self._missing.discard(key)
                self._changed.discard(key)
                self._moved.discard(key)
                if key in self._seq:  # put back since: not in the file either
                    self._added.add(key)
        for key, revision in revisions.items():
            self._base.add(key)
            if key not in self._seq:  # deleted after the save started: in the file
                self._missing.add(key)
                continue
            self._added.discard(key)
            self._moved.discard(key)
            flow = self._flows.get(key)
            if self._revision.get(key, 0) != revision:
                self._base_state.pop(key, None)
                self._changed.add(key)
            elif flow is not None:
                self._base_state[key] = _content(flow)
                self._changed.discard(key)
            else:
                self._changed.discard(key)

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
        for table in (*tables, self._summaries, self._counted, self._keys, self._base_state):
            table.clear()
        for keys in (self._base, self._changed, self._added, self._missing, self._moved):
            keys.clear()
        self._view, self._view_seqs = [], []
        self._order_ids, self._order_seqs = [], array("q")
        self._columns.clear()
        self._columns_ok = True
        self._marked = self._modified = 0
        self._announce("reset")

    # -- internals ----------------------------------------------------------------------

    def _count_summary(self, flow_id: str, summary: FlowSummary) -> None:
        state = (bool(summary.marked), summary.modified)
        self._counted[flow_id] = state
        self._marked += state[0]
        self._modified += state[1]

    def _uncount(self, flow_id: str) -> None:
        marked, modified = self._counted.pop(flow_id, (False, False))
        self._marked -= marked
        self._modified -= modified
