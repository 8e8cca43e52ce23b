"""The one flow store between the data sources and the widgets.

File loading, the live socket (later) and the UI all go through `FlowStore`: it holds
the flows by id in order, keeps a filtered view that behaves as a sequence, and tells
subscribers what changed (`add`, `update`, `remove`, `reset`, after mitmweb's
`flows/add` ... event names). Adding or updating a flow is O(1) (plus the view lookup);
re-filtering is O(n). No Textual, no IO: the UI wraps the callbacks in messages.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, overload

from flowtui.core.connection import format_address
from flowtui.core.dns import DNSFlow
from flowtui.core.flow import Error, Flow
from flowtui.core.http import HTTPFlow
from flowtui.core.messages import MessageFlow
from flowtui.core.unknown import UnknownFlow

__all__ = ["FlowStore", "FlowSummary", "FlowView", "StoreEvent", "summarize"]

Predicate = Callable[[Flow], bool]
EventKind = Literal["add", "update", "remove", "reset"]


@dataclass(frozen=True, slots=True)
class FlowSummary:
    """What the flow list shows for one flow, computed once per revision."""

    type: str
    """Short type name: `tcp`, `udp`, `http`, `dns`, or `?` for an unreadable record."""
    start: float | None
    """Unix start time (None when the record has none)."""
    client: str
    """The client's `host:port` (raw text: sanitise before display)."""
    server: str
    """The SNI when known (the client's first), else the server's `host:port` (raw text)."""
    detail: str
    """Protocol extra for the server column, e.g. `GET http://x/ 200` (raw text)."""
    tls_version: str
    """Negotiated TLS version on the server side (else the client side), or ``""``."""
    messages: int | None
    """Message count (None where the type has no messages)."""
    bytes_up: int | None
    """Bytes sent by the client (None where unknown)."""
    bytes_down: int | None
    """Bytes sent by the server (None where unknown)."""
    duration: float | None
    """Seconds from start to the last known timestamp."""
    marked: str
    """The flow's mark (`":default:"`, a shortcode, a character) or ``""``."""
    intercepted: bool
    killed: bool
    error: bool
    modified: bool
    live: bool
    read_only: bool
    """True for an `UnknownFlow`: kept verbatim, never changed."""

    def search_text(self) -> str:
        """Everything a substring filter should match, lower-cased."""
        return " ".join(
            (self.type, self.client, self.server, self.detail, self.tls_version, self.marked)
        ).lower()


def _end_time(flow: Flow) -> float | None:
    times = [flow.client_conn.timestamp_end, flow.server_conn.timestamp_end]
    if isinstance(flow, MessageFlow) and flow.messages:
        times.append(flow.messages[-1].timestamp)
    if flow.error is not None:
        times.append(flow.error.timestamp)
    found = [t for t in times if isinstance(t, int | float)]
    return max(found) if found else None


def summarize(flow: Flow) -> FlowSummary:
    """The list summary of `flow` (O(messages); the store caches it per revision)."""
    client = format_address(flow.client_conn.peername)
    # The client's SNI is the name it asked for; the server side may carry an IP instead.
    sni = flow.client_conn.sni or flow.server_conn.sni
    server = sni or format_address(flow.server_conn.address)
    detail = ""
    messages = up = down = None
    if isinstance(flow, MessageFlow):
        messages = len(flow.messages)
        up = sum(len(m.content) for m in flow.messages if m.from_client)
        down = sum(len(m.content) for m in flow.messages if not m.from_client)
    elif isinstance(flow, HTTPFlow):
        status = flow.status_code
        detail = f"{flow.method} {flow.pretty_url}" + (f" {status}" if status else "")
        messages = flow.websocket_messages
    elif isinstance(flow, DNSFlow):
        detail = " ".join(name for name, _ in flow.questions)
    start: float | None = None
    try:
        start = float(flow.timestamp_start)
    except (TypeError, ValueError):
        start = None
    end = _end_time(flow)
    unknown = isinstance(flow, UnknownFlow)
    if isinstance(flow, UnknownFlow):
        detail = f"unreadable {flow.raw_type}: {flow.reason}"
    return FlowSummary(
        type="?" if unknown else flow.type,
        start=start,
        client=client,
        server=server,
        detail=detail,
        tls_version=flow.server_conn.tls_version or flow.client_conn.tls_version or "",
        messages=messages,
        bytes_up=up,
        bytes_down=down,
        duration=(end - start) if (start is not None and end is not None) else None,
        marked=flow.marked,
        intercepted=flow.intercepted,
        killed=flow.error is not None and flow.error.msg == Error.KILLED_MESSAGE,
        error=flow.error is not None,
        modified=flow.modified(),
        live=flow.live,
        read_only=unknown,
    )


@dataclass(frozen=True, slots=True)
class StoreEvent:
    """One change announced to subscribers."""

    kind: EventKind
    """`add`, `update`, `remove` or `reset` (the view was rebuilt: filter, clear)."""
    flows: tuple[Flow, ...] = ()
    """The flows concerned (empty for `reset`)."""


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
        if isinstance(index, slice):
            return [flows[i] for i in self._store._view[index]]
        return flows[self._store._view[index]]

    def position(self, flow_id: str) -> int | None:
        """The position of a flow in the view, or None if it is not shown (O(log n))."""
        return self._store._view_position(flow_id)


class FlowStore:
    """Flows by id in order, a filtered view of them, and change notifications."""

    def __init__(self) -> None:
        self._flows: dict[str, Flow] = {}
        self._seq: dict[str, int] = {}
        self._next_seq = 0
        self._view: list[str] = []
        self._view_seqs: list[int] = []
        self._revision: dict[str, int] = {}
        self._summaries: dict[str, tuple[int, FlowSummary]] = {}
        self._filter: Predicate | None = None
        self._subscribers: list[Callable[[StoreEvent], None]] = []
        self._marked = 0
        self._modified = 0
        self._counted: dict[str, tuple[bool, bool]] = {}
        self.view = FlowView(self)
        """The filtered, ordered flows (what the list shows)."""

    # -- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._flows)

    def __iter__(self) -> Iterator[Flow]:
        """Every flow in order, shown or not."""
        return iter(sorted(self._flows.values(), key=lambda f: self._seq[f.id]))

    def __contains__(self, flow_id: object) -> bool:
        return flow_id in self._flows

    def get(self, flow_id: str) -> Flow | None:
        """The flow with this id, or None."""
        return self._flows.get(flow_id)

    def revision(self, flow_id: str) -> int:
        """How often the flow was updated: part of the list's row-cache key."""
        return self._revision.get(flow_id, 0)

    def number(self, flow_id: str) -> int:
        """The flow's 1-based number in the store's order (stable across filters)."""
        return self._seq[flow_id] + 1

    def summary(self, flow: Flow) -> FlowSummary:
        """The cached summary of `flow` for its current revision."""
        rev = self._revision.get(flow.id, 0)
        cached = self._summaries.get(flow.id)
        if cached is not None and cached[0] == rev:
            return cached[1]
        summary = summarize(flow)
        self._summaries[flow.id] = (rev, summary)
        return summary

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
            if flow.id in self._flows:
                self.update(flow)
                continue
            self._flows[flow.id] = flow
            self._seq[flow.id] = self._next_seq
            self._next_seq += 1
            self._count(flow)
            if self._matches(flow):
                self._view.append(flow.id)
                self._view_seqs.append(self._seq[flow.id])
            added.append(flow)
        if added:
            self._announce("add", tuple(added))

    def insert_after(self, anchor_id: str | None, flow: Flow) -> None:
        """Insert a new flow right after `anchor_id` (None: first); for duplicates, O(n)."""
        if flow.id in self._flows:
            raise KeyError(flow.id)
        if anchor_id is not None and anchor_id not in self._flows:
            raise KeyError(anchor_id)
        anchor = self._seq[anchor_id] if anchor_id is not None else -1
        for fid, seq in self._seq.items():
            if seq > anchor:
                self._seq[fid] = seq + 1
        self._flows[flow.id] = flow
        self._seq[flow.id] = anchor + 1
        self._next_seq += 1
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
        if flow.id not in self._flows:
            raise KeyError(flow.id)
        self._flows[flow.id] = flow
        self._revision[flow.id] = self._revision.get(flow.id, 0) + 1
        self._uncount(flow.id)
        self._count(flow)
        shown = self._view_position(flow.id) is not None
        if self._matches(flow) != shown:
            seq = self._seq[flow.id]
            pos = bisect.bisect_left(self._view_seqs, seq)
            if shown:
                del self._view[pos], self._view_seqs[pos]
            else:
                self._view.insert(pos, flow.id)
                self._view_seqs.insert(pos, seq)
        self._announce("update", (flow,))

    def remove(self, flow_id: str) -> Flow:
        """Remove a flow from the store (and the view); returns it."""
        flow = self._flows.pop(flow_id)
        pos = self._view_position(flow_id)
        if pos is not None:
            del self._view[pos], self._view_seqs[pos]
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

    def snapshot(self) -> list[tuple[Flow, int]]:
        """Every flow with its revision: a list another thread may read while this changes."""
        return [(f, self._revision.get(i, 0)) for i, f in self._flows.items()]

    def clear(self) -> None:
        """Forget every flow (subscribers and the filter stay)."""
        for table in (self._flows, self._seq, self._revision, self._summaries, self._counted):
            table.clear()
        self._view, self._view_seqs = [], []
        self._marked = self._modified = 0
        self._announce("reset")

    # -- internals ----------------------------------------------------------------------

    def _matches(self, flow: Flow) -> bool:
        if self._filter is None:
            return True
        try:
            return bool(self._filter(flow))
        except Exception:  # a filter must never break the store; treat as "no match"
            return False

    def _rebuild_view(self, known: Mapping[str, bool] | None = None) -> None:
        ids = sorted(self._flows, key=self._seq.__getitem__)
        known = known or {}
        self._view = [i for i in ids if (known[i] if i in known else self._matches(self._flows[i]))]
        self._view_seqs = [self._seq[i] for i in self._view]

    def _view_position(self, flow_id: str) -> int | None:
        seq = self._seq.get(flow_id)
        if seq is None:
            return None
        pos = bisect.bisect_left(self._view_seqs, seq)
        if pos < len(self._view_seqs) and self._view_seqs[pos] == seq:
            return pos
        return None

    def _count(self, flow: Flow) -> None:
        summary = self.summary(flow)
        state = (bool(summary.marked), summary.modified)
        self._counted[flow.id] = state
        self._marked += state[0]
        self._modified += state[1]

    def _uncount(self, flow_id: str) -> None:
        marked, modified = self._counted.pop(flow_id, (False, False))
        self._marked -= marked
        self._modified -= modified
