"""The filtered and ordered view of the store: what the flow list shows.

`FlowView` owns which flows are shown and in what order: its `Selection` (a filter,
any `Predicate`, a `SummaryFilter` tested on the summaries' columns and decoding
nothing; the marked-only switch), and an order (`OrderKey`, or None for the store's own order, the
flows' numbers) read from summary columns, never from a decoded flow. Ties keep the
store's order; `reverse` mirrors the whole list (ties included) and costs nothing: the
view keeps one forward list and reads it from the end.

It is kept up flow by flow as flows are added, updated and removed: a flow is put at its
place with a binary search over the shown flows' sort keys, so a live capture keeps its
order without re-sorting. Only a new filter, order or marked-only switch rebuilds it
(O(n), a sort when ordered: see bench/bench_order.py). The sort keys are kept as two
parallel lists (values, sequence numbers), not a tuple per flow: 100,000 new tuples
set off the cyclic collector's full passes over every object of the session.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import compress
from typing import Any, overload

from flowtui.core.flow import Flow
from flowtui.core.summary import FlowSummary
from flowtui.store.filtering import Predicate, Selection
from flowtui.store.order import OddValue, OrderKey
from flowtui.store.table import SummaryTable

__all__ = ["FlowView"]

_MERGE = 32
"""A batch of more new shown flows than this is merged by one sort, not inserted one
at a time (each insert moves the pointers after it)."""


def _gather(items: list[Any], order: list[int]) -> list[Any]:
    """`[items[i] for i in order]`, in C."""
    if len(order) < 2:
        return [items[i] for i in order]
    return list(operator.itemgetter(*order)(items))


class FlowView(Sequence[Flow]):
    """The shown flows, filtered and ordered: a read-only sequence over the store."""

    def __init__(
        self,
        table: SummaryTable,
        get: Callable[[str], Flow],
        resident: Callable[[str], Flow | None],
        changed: Callable[[], None],
    ) -> None:
        self._table = table
        self._get = get
        """Decodes a flow (kept among the recently opened): for filters that need it."""
        self._resident = resident
        """The flow if it is resident, else None (never decodes)."""
        self._changed = changed
        """Announces a rebuilt view (the store's `reset` event)."""
        self._selection = Selection(table, self._flow)
        """The filter and marked-only: which flows are shown."""
        self._order: OrderKey | None = None
        self._ranked = False
        """True when the sort values are (rank, value) pairs (see `OrderKey.values`)."""
        self._reverse = False
        self._ids: list[str] = []
        """The shown keys, in forward order: ascending (value, sequence number)."""
        self._vals: list[Any] | None = None
        """Their sort values (None in the store's order, where the value is `_seqs`)."""
        self._seqs: list[int] = []
        """Their sequence numbers (ascending within a run of equal values: ties keep the
        store's order, and a flow's place is found by two bisections)."""
        self._pending: tuple[list[Any], list[int], list[int]] | None = None
        """After a sort: the values, sequence numbers and the sorted order, from which
        `_vals` and `_seqs` are gathered when first needed (`_ready`): a new order
        costs the sort and the keys alone, and finding the cursor's flow once after it
        is a scan of pointers (`position` is O(n) until then, O(log n) after)."""

    # -- the sequence ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Flow: ...
    @overload
    def __getitem__(self, index: slice) -> list[Flow]: ...
    def __getitem__(self, index: int | slice) -> Flow | list[Flow]:
        if isinstance(index, slice):
            ids = self._ids[::-1] if self._reverse else self._ids
            return [self._flow(i) for i in ids[index]]
        return self._flow(self.id_at(index))

    def _flow(self, key: str) -> Flow:
        flow = self._resident(key)
        return flow if flow is not None else self._get(key)

    def id_at(self, index: int) -> str:
        """The key of the flow at `index` (never decodes a lazy flow)."""
        if not self._reverse:
            return self._ids[index]
        n = len(self._ids)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self._ids[n - 1 - index]

    def ids(self) -> list[str]:
        """Every shown key, in the shown order."""
        return self._ids[::-1] if self._reverse else list(self._ids)

    def position(self, key: str) -> int | None:
        """The position of a flow in the view, or None if it is not shown (O(log n);
        a scan of pointers right after a new order)."""
        pos = self._forward_position(key)
        if pos is None or not self._reverse:
            return pos
        return len(self._ids) - 1 - pos

    def newest_position(self) -> int | None:
        """The position of the shown flow added last (the highest number), or None if no
        flow is shown: where follow mode puts the cursor."""
        if not self._ids:
            return None
        if self._order is None:
            return 0 if self._reverse else len(self._ids) - 1
        table = self._table
        if table.ids:
            pos = self.position(table.ids[-1])
            if pos is not None:
                return pos
        self._ready()
        newest = max(range(len(self._seqs)), key=self._seqs.__getitem__)
        return len(self._ids) - 1 - newest if self._reverse else newest

    # -- settings -------------------------------------------------------------------------

    @property
    def filter(self) -> Predicate | None:
        """The predicate (None shows every flow)."""
        return self._selection.filter

    @property
    def order(self) -> OrderKey | None:
        """What the view is ordered by; None: the store's order (the flows' numbers)."""
        return self._order

    @property
    def reverse(self) -> bool:
        """True when the order is reversed (the last first)."""
        return self._reverse

    @property
    def marked_only(self) -> bool:
        """True when only marked flows are shown (mitmproxy console's `M`)."""
        return self._selection.marked_only

    def set_filter(self, predicate: Predicate | None, known: Mapping[str, bool] | None) -> None:
        """Show only flows for which `predicate` is true (None: all); O(n). `known`
        holds answers computed elsewhere (a worker over `snapshot()`)."""
        self._selection.set_filter(predicate)
        self.rebuild(known or {})
        self._changed()

    def set_order(self, order: OrderKey | None, reverse: bool | None = None) -> None:
        """Order the view by `order` (None: the store's order), reversed or not (None:
        as it is); re-sorts the shown flows only (nothing is filtered again)."""
        if reverse is not None:
            self._reverse = reverse
        if order != self._order:
            was_store_order = self._order is None
            self._order = order
            self._resort(was_store_order)
        self._changed()

    def set_reverse(self, reverse: bool) -> None:
        """Reverse the order or not (O(1))."""
        self._reverse = reverse
        self._changed()

    def set_marked_only(self, marked_only: bool) -> None:
        """Show only marked flows (among those the filter shows), or not."""
        if marked_only == self._selection.marked_only:
            return
        self._selection.marked_only = marked_only
        self.rebuild({})  # the filter's answers are known: only summaries are read
        self._changed()

    # -- keeping up ---------------------------------------------------------------------

    def rebuild(self, known: Mapping[str, bool]) -> None:
        """Filter and order every flow anew (answers in `known`, then those a
        flow-by-flow filter gave before, are taken as they are)."""
        flags = self._selection.flags(self._selection.known(known))
        table = self._table
        if flags is None:
            rows: list[int] | None = None
        elif flags.count(1) * 16 > len(flags):
            rows = list(compress(range(len(flags)), flags))
        else:  # few flows shown: find them, touching none of the others
            rows, find = [], flags.find
            row = find(1)
            while row >= 0:
                rows.append(row)
                row = find(1, row + 1)
        ids = table.ids if rows is None else _gather(table.ids, rows)
        seqs = table.seqs.tolist() if rows is None else _gather(table.seqs.tolist(), rows)
        if self._order is None:
            self._ids = ids.copy() if rows is None else ids
            self._vals, self._seqs, self._pending = None, seqs, None
            return
        summaries = table.summaries()
        if rows is not None:
            summaries = _gather(summaries, rows)
        self._sort(ids if rows is not None else ids.copy(), seqs, summaries)

    def _resort(self, was_store_order: bool) -> None:
        """Sort the shown flows by the current order (ties in the store's order)."""
        table = self._table
        if len(self._ids) == len(table):  # every flow shown: the table's own lists
            ids, seqs = table.ids.copy(), table.seqs.tolist()
            summaries = table.summaries()
        else:
            self._ready()
            ids, seqs = self._ids, self._seqs
            if not was_store_order:  # back to the store's order first: ties keep it
                back = sorted(range(len(seqs)), key=seqs.__getitem__)
                ids, seqs = _gather(ids, back), _gather(seqs, back)
            summaries = table.summaries_of(ids) if self._order is not None else []
        if self._order is None:
            self._ids, self._vals, self._seqs, self._pending = ids, None, seqs, None
            return
        self._sort(ids, seqs, summaries)

    def _sort(self, ids: list[str], seqs: list[int], summaries: list[FlowSummary]) -> None:
        """Show `ids` (in the store's order, with their sequence numbers and summaries)
        sorted by the order's values; ties keep the store's order (a stable sort)."""
        assert self._order is not None
        values, self._ranked = self._order.values(summaries)
        order = sorted(range(len(ids)), key=values.__getitem__)
        self._ids = _gather(ids, order)
        self._vals, self._seqs, self._pending = [], [], (values, seqs, order)

    def _ready(self) -> None:
        """Gather the shown flows' sort keys if a sort left them pending."""
        if self._pending is not None:
            values, seqs, order = self._pending
            self._pending = None
            self._vals, self._seqs = _gather(values, order), _gather(seqs, order)

    def _value(self, key: str, summary: FlowSummary | None = None) -> Any:
        """The flow's sort value (its sequence number in the store's order); raises
        `OddValue` for a value of another type while the values are not ranked."""
        if self._order is None:
            return self._table.seq(key)
        summary = self._table.summary(key) if summary is None else summary
        return self._order.value_of(summary, self._ranked)

    def _locate(self, value: Any, seq: int) -> int:
        """Where (value, seq) is or would go in the forward order (O(log n))."""
        self._ready()
        if self._vals is None:
            return bisect.bisect_left(self._seqs, seq)
        lo = bisect.bisect_left(self._vals, value)
        hi = bisect.bisect_right(self._vals, value, lo)
        return bisect.bisect_left(self._seqs, seq, lo, hi)

    def _forward_position(self, key: str, summary: FlowSummary | None = None) -> int | None:
        seq = self._table.seq_get(key)
        if seq is None:
            return None
        if self._pending is not None and summary is None:  # fresh from a sort: scan
            try:
                return self._ids.index(key)
            except ValueError:
                return None
        try:
            pos = self._locate(self._value(key, summary), seq)
        except (OddValue, TypeError):  # not sorted by a comparable value: look
            try:
                return self._ids.index(key)
            except ValueError:
                return None
        if pos < len(self._ids) and self._ids[pos] == key:
            return pos
        return None

    def added(self, keys: Iterable[str]) -> None:
        """Flows just appended to the table: show those that match, at their place."""
        self._insert([k for k in keys if self._selection.matches(k)])

    def _insert(self, shown: list[str]) -> None:
        """Show these flows (not shown yet), each at its place."""
        if not shown:
            return
        try:
            rows = sorted((self._value(k), self._table.seq(k), k) for k in shown)
        except (OddValue, TypeError):
            self._resort_all(shown)  # an odd value among them: every value ranked
            return
        first_value, first_seq, _ = rows[0]
        self._ready()
        vals = self._vals
        if not self._ids or (
            (first_seq > self._seqs[-1])
            if vals is None
            else (first_value, first_seq) > (vals[-1], self._seqs[-1])
        ):  # the usual case (a capture indexed, a live flow arriving): at the end
            self._ids.extend(map(operator.itemgetter(2), rows))
            self._seqs.extend(map(operator.itemgetter(1), rows))
            if vals is not None:
                vals.extend(map(operator.itemgetter(0), rows))
        elif len(rows) <= _MERGE:
            for value, seq, key in rows:
                pos = self._locate(value, seq)
                self._ids.insert(pos, key)
                self._seqs.insert(pos, seq)
                if vals is not None:
                    vals.insert(pos, value)
        else:  # two sorted runs: by sequence number, then (stable) by value
            ids = self._ids + list(map(operator.itemgetter(2), rows))
            seqs = self._seqs + list(map(operator.itemgetter(1), rows))
            order = sorted(range(len(seqs)), key=seqs.__getitem__)
            if vals is not None:
                values = vals + list(map(operator.itemgetter(0), rows))
                order.sort(key=values.__getitem__)
                self._vals = _gather(values, order)
            self._ids = _gather(ids, order)
            self._seqs = _gather(seqs, order)

    def _resort_all(self, extra: list[str]) -> None:
        """Sort the shown flows and `extra` anew (the values ranked if need be)."""
        ids = sorted({*self._ids, *extra}, key=self._table.seq)
        table = self._table
        self._sort(ids, table.seqs_of(ids), table.summaries_of(ids))

    def _delete(self, pos: int) -> None:
        self._ready()
        del self._ids[pos], self._seqs[pos]
        if self._vals is not None:
            del self._vals[pos]

    def updated(self, key: str, old: FlowSummary) -> None:
        """The flow's summary was `old` and changed: show it or not, at its new place."""
        pos = self._forward_position(key, old)
        if pos is not None:
            self._delete(pos)
        if self._selection.matches(key):
            self._insert([key])

    def removed(self, key: str) -> None:
        """The flow is about to leave the table (its row and summary still there)."""
        self._selection.forget(key)
        pos = self._forward_position(key)
        if pos is not None:
            self._delete(pos)

    def clear(self) -> None:
        """The table was emptied (the filter, order and switches stay)."""
        self._ids, self._seqs, self._pending = [], [], None
        self._vals = None if self._order is None else []
        self._selection.clear()
