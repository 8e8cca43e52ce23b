"""The flow store's lazy side: flows left in their capture file until they are opened.

`LazyFlow` is what the store holds of such a flow (its record, see `flowtui.io.lazy`);
`LazyRecordsMixin` is the part of `FlowStore` that reads them: a small cache of the
recently opened, decoding (whole or only the head, for a preview) and the bytes opening
one costs. Kept apart so `flowtui.core.store` holds the bookkeeping (order, changes,
counts, events) alone; `FlowStore` mixes this in, so its attributes stay its own.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Protocol

from flowtui.core.flow import Flow
from flowtui.core.summary import FlowSummary
from flowtui.core.unknown import UnknownFlow

__all__ = [
    "OPEN_CACHE",
    "OPEN_CACHE_BYTES",
    "PREVIEW_BYTES",
    "PREVIEW_MESSAGES",
    "LazyFlow",
    "LazyRecordsMixin",
]

OPEN_CACHE = 32
"""How many decoded lazy flows the store keeps (the cursor's, the recently opened)."""
OPEN_CACHE_BYTES = 64 << 20
"""...and at most this many bytes of their records (a decoded flow takes 1.5 to 3 times
its record), except the newest: a few flows of 100 MB are not kept at once."""
PREVIEW_MESSAGES = 256
PREVIEW_BYTES = 256 << 10
"""A preview holds this many messages at most, fewer once they take this many bytes:
more than the first screens of rows, and a few milliseconds to decode."""


class LazyFlow(Protocol):
    """A flow not held in memory: its record in a capture file (see `flowtui.io.lazy`)."""

    def load(self) -> Flow:
        """Decode a fresh Flow (may raise the reader's exception)."""
        ...

    def raw(self) -> bytes:
        """The record's bytes as stored (for saving it unchanged)."""
        ...

    def load_head(self, messages: int, size: int) -> Flow | None:
        """A message flow with only its first messages (`messages` of them, fewer once
        they take `size` bytes), decoded without the rest; None if it cannot be."""
        ...


class LazyRecordsMixin:
    """`FlowStore`'s reading of lazy flows (its state is set in `FlowStore.__init__`)."""

    _flows: dict[str, Flow]
    _lazy: dict[str, LazyFlow]
    _open: OrderedDict[str, Flow]
    _summaries: dict[str, FlowSummary]
    _keys: weakref.WeakKeyDictionary[Flow, str]

    def is_lazy(self, flow_id: str) -> bool:
        """True if the flow lives in its capture file, not in memory."""
        return flow_id in self._lazy and flow_id not in self._flows

    def _get(self, flow_id: str) -> Flow:
        flow = self.loaded(flow_id)
        if flow is not None:
            return flow
        flow = self.decode(flow_id)
        self.remember(flow_id, flow)
        self._keys[flow] = flow_id
        return flow

    def loaded(self, flow_id: str) -> Flow | None:
        """The flow if it is in memory (resident, or a lazy one recently opened), else
        None: never decodes."""
        flow = self._flows.get(flow_id)
        if flow is not None:
            return flow
        flow = self._open.get(flow_id)
        if flow is not None:
            self._open.move_to_end(flow_id)
        return flow

    def record_size(self, flow_id: str) -> int:
        """How many bytes opening a lazy flow reads (0 if it is in memory)."""
        if flow_id in self._flows or flow_id in self._open:
            return 0
        return int(getattr(self._lazy.get(flow_id), "raw_length", 0))

    def decode(self, flow_id: str) -> Flow:
        """A lazy flow decoded from its record, not kept (a worker thread may call this
        for a big record; hand the flow to `remember` on the store's thread).

        A record that cannot be read back (a damaged state, a file changed under us)
        gives a read-only unreadable flow naming the file and where; saving still
        copies the record as it is."""
        try:
            flow = self._lazy[flow_id].load()
        except Exception as e:  # its record went bad since it was indexed
            kind = self._summaries[flow_id].type if flow_id in self._summaries else "?"
            flow = UnknownFlow.from_raw({"id": flow_id, "type": kind}, f"cannot be read: {e}")
        self._keys[flow] = flow_id  # its id may be another flow's too
        return flow

    def preview(self, flow_id: str) -> Flow | None:
        """A lazy message flow's first messages and every other field, decoded without
        the rest: shown while `decode` reads the whole of a big one. Never kept, and
        for display only (a change goes to the whole flow, from `get`). None when the
        flow is in memory, has no messages, or its record cannot be read that way."""
        lazy = self._lazy.get(flow_id)
        summary = self._summaries.get(flow_id)
        if lazy is None or summary is None or summary.messages is None:
            return None
        if flow_id in self._flows or flow_id in self._open:
            return None
        try:
            head = lazy.load_head(PREVIEW_MESSAGES, PREVIEW_BYTES)
        except Exception:  # the file went away: `decode` says so, a preview stays silent
            return None
        if head is not None:
            self._keys[head] = flow_id
        return head

    def remember(self, flow_id: str, flow: Flow) -> None:
        """Keep a decoded lazy flow among the recently opened (unless it was changed,
        removed or opened again meanwhile)."""
        if flow_id not in self._lazy or flow_id in self._flows or flow_id in self._open:
            return
        self._open[flow_id] = flow
        self._keys[flow] = flow_id
        while len(self._open) > 1 and (
            len(self._open) > OPEN_CACHE or self._open_bytes() > OPEN_CACHE_BYTES
        ):
            self._open.popitem(last=False)  # the least recently opened or looked at

    def _open_bytes(self) -> int:
        """The record bytes of the flows kept decoded."""
        return sum(int(getattr(self._lazy.get(i), "raw_length", 0)) for i in self._open)
