"""The one flow store between the data sources and the widgets.

File loading, the live socket and the UI all go through `FlowStore`: it holds the flows
in order under a key of their own, keeps a filtered and ordered view that behaves as a
sequence (`view`), and tells subscribers what changed (`add`, `update`, `remove`,
`reset`, after mitmweb's `flows/add` ... event names). No Textual: the UI wraps the
callbacks in messages.

A flow's key is its id, unless a flow of that id is in the store already: a capture may
hold one id several times (`cat a.flows a.flows`), and each of its records is a flow of
its own, never merged with another; the later ones get a key of their own
(`"<id>#2"`...). `key_of(flow)` finds the key of a flow the store handed out; a live
flow, whose id is unique, is updated by its id.

The store is a facade over objects that each own their data: the `SummaryTable` (every
flow's place, revision and summary, in columns), the `RecordCache` (resident flows,
lazy records, the recently opened), the `ChangeTracker` (what a save would change)
and the `FlowView` (filter, order, reverse, marked-only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from flowtui.core.flow import Flow
from flowtui.core.http import HTTPFlow
from flowtui.core.messages import MessageFlow
from flowtui.core.summary import FlowSummary, summarize
from flowtui.store.changes import ChangeTracker
from flowtui.store.filtering import Predicate
from flowtui.store.records import LazyFlow, RecordCache
from flowtui.store.table import SummaryTable
from flowtui.store.view import FlowView

__all__ = ["EventKind", "FlowStore", "Removed", "StoreEvent", "StoreSnapshot"]

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
    """`add`, `update`, `remove` or `reset` (the view was rebuilt: filter, order, clear)."""
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


class FlowStore:
    """Flows by key in order, a filtered and ordered view of them, change notifications."""

    def __init__(self) -> None:
        self.table = SummaryTable()
        """Every flow's place, revision and summary (in columns)."""
        self.records = RecordCache()
        """Where each flow lives: in memory, or as a record in its capture file."""
        self.changes = ChangeTracker()
        """What a save would change."""
        self.view = FlowView(self.table, self._get, self.records.resident, self._reset)
        """The filtered, ordered flows (what the list shows)."""
        self._subscribers: list[Callable[[StoreEvent], None]] = []
        self._tallies: dict[str, tuple[list[Any], int, int, int]] = {}
        """Per message flow updated since added: its messages list and their totals."""

    # -- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.table)

    def __iter__(self) -> Iterator[Flow]:
        """Every flow in the store's order, shown or not (lazy ones decoded one at a time)."""
        return (self._get(k) for k in list(self.table.ids))

    def __contains__(self, key: object) -> bool:
        return key in self.table

    def get(self, key: str) -> Flow | None:
        """The flow with this key (decoded if lazy), or None."""
        return self._get(key) if key in self.table else None

    def _get(self, key: str) -> Flow:
        summary = self.table.summary_get(key)
        return self.records.get(key, summary.type if summary is not None else "?")

    def keys_in_order(self) -> list[str]:
        """Every flow's key, in the store's order."""
        return list(self.table.ids)

    def key_of(self, flow: Flow) -> str | None:
        """The key of `flow`: the one it was handed out under, else its id's (a live flow
        or one made elsewhere); None if it is not in the store."""
        key = self.records.key_of(flow)
        if key is not None:
            return key if key in self.table else None
        return flow.id if flow.id in self.table else None

    def entries(self) -> list[Flow | LazyFlow]:
        """Every flow in order: resident ones as Flows, untouched lazy ones as their
        records (so saving can copy them without decoding)."""
        return self.records.entries_of(self.table.ids)[1]

    def revision(self, flow_id: str) -> int:
        """How often the flow was updated: part of the list's row-cache key."""
        return self.table.revision(flow_id)

    def number(self, flow_id: str) -> int:
        """The flow's 1-based number in the store's order (stable across filters)."""
        return self.table.seq(flow_id) + 1

    def summary(self, flow: Flow) -> FlowSummary:
        """The cached summary of `flow` for its current revision (computed when it was
        added or last updated; a flow not in the store is summarised, not cached)."""
        key = self.key_of(flow)
        cached = self.table.summary_get(key) if key is not None else None
        return summarize(flow) if cached is None else cached

    def summary_of(self, flow_id: str) -> FlowSummary:
        """The summary of the flow with this id (never decodes a lazy flow)."""
        return self.table.summary(flow_id)

    def previous_id(self, key: str) -> str | None:
        """The key of the flow just before `key` in the store's order (None if first)."""
        return self.table.previous(key)

    @property
    def protocol_count(self) -> int:
        """How many flows are HTTP or DNS (the list's status and content columns)."""
        return self.table.protocol_count

    @property
    def marked_count(self) -> int:
        """How many flows carry a mark."""
        return self.table.marked_count

    @property
    def modified_count(self) -> int:
        """How many flows have a backup (changed since loading)."""
        return self.table.modified_count

    @property
    def unsaved_count(self) -> int:
        """How many differences a save would write: flows changed (their state differs
        from the one loaded or last saved), added, deleted, or put back elsewhere."""
        return self.changes.count

    def unsaved(self) -> dict[str, int]:
        """`unsaved_count` by kind: changed, added, deleted, moved."""
        return self.changes.by_kind()

    @property
    def filter(self) -> Predicate | None:
        """The view's predicate (None shows every flow)."""
        return self.view.filter

    # -- lazy flows -----------------------------------------------------------------------

    def is_lazy(self, flow_id: str) -> bool:
        """True if the flow lives in its capture file, not in memory."""
        return self.records.is_lazy(flow_id)

    def loaded(self, flow_id: str) -> Flow | None:
        """The flow if it is in memory (resident, or a lazy one recently opened), else
        None: never decodes."""
        return self.records.loaded(flow_id)

    def record_size(self, flow_id: str) -> int:
        """How many bytes opening a lazy flow reads (0 if it is in memory)."""
        return self.records.record_size(flow_id)

    def decode(self, flow_id: str) -> Flow:
        """A lazy flow decoded from its record, not kept (a worker thread may call this
        for a big record; hand the flow to `remember` on the store's thread). A record
        that cannot be read back gives a read-only unreadable flow saying why."""
        summary = self.table.summary_get(flow_id)
        return self.records.decode(flow_id, summary.type if summary is not None else "?")

    def preview(self, flow_id: str) -> Flow | None:
        """A lazy message flow's first messages and every other field, decoded without
        the rest, or a big HTTP flow with each body cut to its head: shown while
        `decode` reads the whole of a big one (never kept, for display only). None when
        the flow is in memory, has no messages, or its record cannot be read that way."""
        summary = self.table.summary_get(flow_id)
        if summary is None:
            return None
        if summary.type == "http":  # big bodies come cut to their heads (WebSocket or not)
            return self.records.preview(flow_id, summary.messages or 0)
        return self.records.preview(flow_id, summary.messages)

    def remember(self, flow_id: str, flow: Flow) -> None:
        """Keep a decoded lazy flow among the recently opened (unless it was changed,
        removed or opened again meanwhile)."""
        self.records.remember(flow_id, flow)

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

    def _reset(self) -> None:
        self._announce("reset")

    # -- changing -------------------------------------------------------------------------

    def add(self, flows: Iterable[Flow]) -> None:
        """Append flows (a batch is one `add` event); a known id updates that flow instead
        (a live flow's update arrives as a new object of the same id)."""
        added: list[Flow] = []
        keys: list[str] = []
        for flow in flows:
            if flow.id in self.table:
                self._show(keys)
                self.update(flow)
                continue
            key = flow.id
            self.records.put(key, flow)
            self.table.append(key, summarize(flow))
            self.changes.added(key)
            keys.append(key)
            added.append(flow)
        self._show(keys)
        if added:
            self._announce("add", tuple(added))

    def _show(self, keys: list[str]) -> None:
        """Tell the view about the flows just appended (then empty `keys`)."""
        if keys:
            self.view.added(keys)
            keys.clear()

    def add_lazy(self, entries: Iterable[tuple[str, FlowSummary, LazyFlow]]) -> int:
        """Append flows known by id, summary and record (one `add` event without flows),
        each a flow of its own: a repeated id gets a key of its own. They are what was
        loaded: saving them unchanged changes nothing. Returns how many were appended."""
        rows: list[tuple[str, FlowSummary]] = []
        taken: set[str] = set()
        for flow_id, summary, ref in entries:
            key = self._free_key(flow_id, taken)
            taken.add(key)
            self.records.put_lazy(key, ref)
            self.changes.loaded(key)
            rows.append((key, summary))
        self.table.extend(rows)
        self.view.added(key for key, _ in rows)
        self._announce("add")
        return len(rows)

    def _free_key(self, flow_id: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
        """`flow_id`, or `<id>#<n>` with the first n from 2 that no flow has."""

        def used(key: str) -> bool:
            return key in self.table or self.changes.in_file(key) or key in taken

        if not used(flow_id):
            return flow_id
        n = 2
        while used(f"{flow_id}#{n}"):
            n += 1
        return f"{flow_id}#{n}"

    def insert_after(self, anchor: str | None, flow: Flow) -> str:
        """Insert a new flow right after the flow keyed `anchor` (None: first); for
        duplicates, O(n). Returns its key."""
        if anchor is not None and anchor not in self.table:
            raise KeyError(anchor)
        if self.key_of(flow) is not None:
            raise KeyError(flow.id)
        key = self._free_key(flow.id)
        self.records.put(key, flow)
        seq = self.table.seq(anchor) + 1 if anchor is not None else 0
        self.table.insert(key, seq, summarize(flow))
        self.view.rebuild({})
        self.changes.added(key)
        self._announce("add", (flow,))
        return key

    def update(self, flow: Flow) -> None:
        """Announce that `flow` changed: bumps its revision and re-checks the filter."""
        key = self.key_of(flow)
        if key is None:
            raise KeyError(flow.id)
        self.records.put(key, flow)  # changed: resident from now on
        old = self.table.replace(key, summarize(flow, self._tally(key, flow)))
        self.view.updated(key, old)
        self.changes.updated(key, flow, lambda: self._loaded_state(key))
        self._announce("update", (flow,))

    def _tally(self, key: str, flow: Flow) -> tuple[int, int, int] | None:
        """A message flow's (messages, bytes up, bytes down), counting only the messages
        appended since its last update (a live flow grows by appends: O(new) per update,
        not O(all)); an HTTP flow's WebSocket's likewise. None for other flows."""
        if isinstance(flow, MessageFlow):
            messages = flow.messages
        elif isinstance(flow, HTTPFlow) and flow.websocket is not None:
            messages = flow.websocket.messages
        else:
            return None
        known = self._tallies.get(key)
        if known is None or known[0] is not messages or known[1] >= len(messages):
            # a new list, or not grown (shorter, or edited in place): count it all
            count, up, down = 0, 0, 0
        else:
            _, count, up, down = known
        for m in messages[count:] if count else messages:
            if m.from_client:
                up += len(m.content)
            else:
                down += len(m.content)
        count = len(messages)
        self._tallies[key] = (messages, count, up, down)
        return count, up, down

    def _loaded_state(self, key: str) -> Flow | None:
        """The flow as its record holds it (what was loaded), or None if it has none."""
        record = self.records.record(key)
        return None if record is None else record.load()

    def remove(self, key: str) -> Flow:
        """Remove a flow from the store (and the view); returns it."""
        flow = self._get(key)
        self.detach(key)
        return flow

    def detach(self, key: str) -> Removed:
        """Remove a flow from the store (and the view); returns what `restore` needs to
        put it back as it was (a lazy flow stays a record, copied when saved)."""
        removed = Removed(
            key,
            self.table.seq(key),
            self.previous_id(key),
            self.records.resident(key),
            self.records.record(key),
            self.table.summary(key),
            self.table.revision(key),
            self.changes.is_changed(key),
        )
        shown = self._get(key)
        self.view.removed(key)
        self._tallies.pop(key, None)
        self.records.pop(key)
        self.table.delete(key)
        self.changes.removed(key)
        self._announce("remove", (shown,))
        return removed

    def restore(self, removed: Removed) -> str:
        """Put a flow taken out by `detach` back: at its place and under its number if
        both are free, else right after the flow that was before it. Returns its key."""
        key = removed.key
        if key in self.table:
            raise KeyError(key)
        moved = removed.seq in self.table.seqs_taken()
        if not moved:
            seq = removed.seq
        else:
            before = removed.before if removed.before in self.table else None
            seq = self.table.seq(before) + 1 if before is not None else 0
        if removed.flow is not None:
            self.records.put(key, removed.flow)
        if removed.lazy is not None:
            self.records.put_lazy(key, removed.lazy)
        self.table.insert(key, seq, removed.summary, removed.revision + 1)  # drawn afresh
        self.view.rebuild({})
        self.changes.restored(key, moved=moved, changed=removed.changed)
        self._announce("add", (self._get(key),))
        return key

    def mark_saved(self, revisions: Mapping[str, int]) -> None:
        """A save wrote the flows keyed in `revisions` at those revisions: they are now
        what counts as unchanged (flows changed since the save stay counted)."""
        self.changes.saved(
            revisions, self.table.__contains__, self.table.revision, self.records.resident
        )

    def set_filter(
        self, predicate: Predicate | None, known: Mapping[str, bool] | None = None
    ) -> None:
        """Show only flows for which `predicate` is true (None: all); O(n).

        `known` holds results already computed elsewhere (say, in a worker thread over
        `snapshot()`); flows missing from it (added or changed since) are checked here.
        """
        self.view.set_filter(predicate, known)

    def snapshot(self) -> StoreSnapshot:
        """Every flow's id, revision, summary and flow or record, column by column: a
        copy another thread may read while this changes (a worker loads lazy ones
        itself with `load()`; their summary is given, a resident flow's is None)."""
        ids = list(self.table.ids)
        resident, items = self.records.entries_of(ids)
        summaries = self.table.summaries()
        return StoreSnapshot(
            ids,
            self.table.revisions_of(ids),
            [None if f is not None else s for f, s in zip(resident, summaries, strict=True)],
            items,
        )

    def clear(self) -> None:
        """Forget every flow (subscribers, the filter and the order stay)."""
        self.table.clear()
        self.records.clear()
        self._tallies.clear()
        self.changes.clear()
        self.view.clear()
        self._announce("reset")
