"""Where the store's flows live: in memory, or as records left in their capture file.

A flow added by a data source (`FlowStore.add`) or changed is *resident*: the store
holds the object. A flow indexed from a large capture is *lazy*: the store holds its
record (`LazyFlow`, see `flowtui.io.lazy`) and decodes it when it is opened, keeping a
few recently opened ones (`OPEN_CACHE`, `OPEN_CACHE_BYTES`) and freeing the rest.
`RecordCache` owns the three tables and the key of every flow object it handed out.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Protocol

from flowtui.core.flow import Flow
from flowtui.core.unknown import UnknownFlow

__all__ = [
    "OPEN_CACHE",
    "OPEN_CACHE_BYTES",
    "PREVIEW_BYTES",
    "PREVIEW_MESSAGES",
    "LazyFlow",
    "RecordCache",
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


def _raw_length(lazy: LazyFlow | None) -> int:
    """A record's size in bytes, where the record says (0 if it does not)."""
    return int(getattr(lazy, "raw_length", 0))


class RecordCache:
    """Resident flows and lazy records by key, the recently opened lazy flows, and the
    key of each flow object handed out (a capture may hold an id twice)."""

    def __init__(self) -> None:
        self._flows: dict[str, Flow] = {}
        """Resident flows: added in memory, or changed since loading."""
        self._lazy: dict[str, LazyFlow] = {}
        """Records of flows loaded lazily (kept when the flow turns resident: a save
        of an unchanged flow copies it, and undoing a change may need it)."""
        self._open: OrderedDict[str, Flow] = OrderedDict()
        """Lazy flows decoded lately, the least recently used first."""
        self._keys: weakref.WeakKeyDictionary[Flow, str] = weakref.WeakKeyDictionary()

    # -- holding ----------------------------------------------------------------------------

    def put(self, key: str, flow: Flow) -> None:
        """`flow` is resident under `key` from now on (added, or changed)."""
        self._flows[key] = flow
        self._keys[flow] = key
        self._open.pop(key, None)

    def put_lazy(self, key: str, lazy: LazyFlow) -> None:
        self._lazy[key] = lazy

    def pop(self, key: str) -> tuple[Flow | None, LazyFlow | None]:
        """Forget the flow under `key`: its resident flow and its record, if any."""
        self._open.pop(key, None)
        return self._flows.pop(key, None), self._lazy.pop(key, None)

    def clear(self) -> None:
        for table in (self._flows, self._lazy, self._open, self._keys):
            table.clear()

    # -- reading ----------------------------------------------------------------------------

    def resident(self, key: str) -> Flow | None:
        """The resident flow under `key` (not a lazy one opened), or None."""
        return self._flows.get(key)

    def is_resident(self, key: str) -> bool:
        return key in self._flows

    def record(self, key: str) -> LazyFlow | None:
        """The lazy record under `key`, or None."""
        return self._lazy.get(key)

    def entry(self, key: str) -> Flow | LazyFlow:
        """The resident flow, else the record (KeyError if neither)."""
        flow = self._flows.get(key)
        return flow if flow is not None else self._lazy[key]

    def entries_of(self, keys: list[str]) -> tuple[list[Flow | None], list[Flow | LazyFlow]]:
        """For each key: its resident flow or None, and its resident flow or record."""
        resident: list[Flow | None] = list(map(self._flows.get, keys))
        lazy = self._lazy
        entries = [f if f is not None else lazy[k] for f, k in zip(resident, keys, strict=True)]
        return resident, entries

    def is_lazy(self, key: str) -> bool:
        """True if the flow lives in its capture file, not in memory."""
        return key in self._lazy and key not in self._flows

    def key_of(self, flow: Flow) -> str | None:
        """The key `flow` was handed out under, or None."""
        return self._keys.get(flow)

    def get(self, key: str, kind: str = "?") -> Flow:
        """The flow under `key`, decoded (and kept among the recently opened) if lazy;
        `kind` names the type of an unreadable record."""
        flow = self.loaded(key)
        if flow is not None:
            return flow
        flow = self.decode(key, kind)
        self.remember(key, flow)
        return flow

    def loaded(self, key: str) -> Flow | None:
        """The flow if it is in memory (resident, or a lazy one recently opened), else
        None: never decodes."""
        flow = self._flows.get(key)
        if flow is not None:
            return flow
        flow = self._open.get(key)
        if flow is not None:
            self._open.move_to_end(key)
        return flow

    def record_size(self, key: str) -> int:
        """How many bytes opening a lazy flow reads (0 if it is in memory)."""
        if key in self._flows or key in self._open:
            return 0
        return _raw_length(self._lazy.get(key))

    def decode(self, key: str, kind: str = "?") -> Flow:
        """A lazy flow decoded from its record, not kept (a worker thread may call this
        for a big record; hand the flow to `remember` on the store's thread).

        A record that cannot be read back (a damaged state, a file changed under us)
        gives a read-only unreadable flow naming the file and where; saving still
        copies the record as it is."""
        try:
            flow = self._lazy[key].load()
        except Exception as e:  # its record went bad since it was indexed
            flow = UnknownFlow.from_raw({"id": key, "type": kind}, f"cannot be read: {e}")
        self._keys[flow] = key  # its id may be another flow's too
        return flow

    def preview(self, key: str, messages: int | None) -> Flow | None:
        """A lazy message flow's first messages and every other field, decoded without
        the rest (`messages`: the summary's count, None for a type without messages).
        Never kept, and for display only. None when the flow is in memory, has no
        messages, or its record cannot be read that way."""
        lazy = self._lazy.get(key)
        if lazy is None or messages is None or key in self._flows or key in self._open:
            return None
        try:
            head = lazy.load_head(PREVIEW_MESSAGES, PREVIEW_BYTES)
        except Exception:  # the file went away: `decode` says so, a preview stays silent
            return None
        if head is not None:
            self._keys[head] = key
        return head

    def remember(self, key: str, flow: Flow) -> None:
        """Keep a decoded lazy flow among the recently opened (unless it was changed,
        removed or opened again meanwhile)."""
        if key not in self._lazy or key in self._flows or key in self._open:
            return
        self._open[key] = flow
        self._keys[flow] = key
        while len(self._open) > 1 and (
            len(self._open) > OPEN_CACHE or self._open_bytes() > OPEN_CACHE_BYTES
        ):
            self._open.popitem(last=False)  # the least recently opened or looked at

    def forget_opened(self, key: str) -> None:
        """Drop a lazy flow from the recently opened (the next `get` decodes it anew)."""
        self._open.pop(key, None)

    def _open_bytes(self) -> int:
        """The record bytes of the flows kept decoded."""
        return sum(_raw_length(self._lazy.get(i)) for i in self._open)
