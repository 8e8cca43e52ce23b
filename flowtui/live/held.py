"""Held messages: which messages of an intercepted flow wait to be forwarded, and the
record of those changed or dropped before they were.

Why a module of its own: both proxy sides (the relay and the mitmproxy addon) change a
held message the same way, the server tells inspectors which messages are held, and the
inspector's client and UI read the same keys back; no side imports another. No I/O,
no mitmproxy, no Textual here.

What a flow records, in its metadata (so a saved flow says what happened and mitmproxy
still reads the file; indexes are into ``flow.messages``, or ``flow.websocket.messages``
for a WebSocket):

- ``flowtui.modified``: ``[[index, original], ...]``: messages whose bytes were
  replaced before they were sent; the message holds what was sent, ``original`` what
  the peer sent.
- ``flowtui.dropped``: ``[[index, original], ...]``: TCP/UDP messages never sent; the
  message's content is empty (nothing went on the wire), ``original`` is what the peer
  sent. A WebSocket message dropped is mitmproxy's own ``dropped`` flag instead.

And on the wire only (added by the proxy's live server to the state it sends, never
stored in the proxy's flow): ``flowtui.held``: ``[[index, content], ...]`` in order, the
messages held now and the bytes that will be sent when the flow is resumed (a third
item, True, for a held WebSocket message dropped: mitmproxy's drop keeps its bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "DROPPED_KEY",
    "HELD_KEY",
    "MODIFIED_KEY",
    "apply_held",
    "change_message",
    "dropped_indexes",
    "held_changes",
    "held_dropped",
    "held_entries",
    "modified_entries",
    "originals",
]

HELD_KEY = "flowtui.held"
"""Wire-only metadata: ``[[index, content], ...]``, the messages held now."""
MODIFIED_KEY = "flowtui.modified"
"""Metadata: ``[[index, original], ...]``, messages edited before they were sent."""
DROPPED_KEY = "flowtui.dropped"
"""Metadata: ``[[index, original], ...]``, messages never sent."""


def _pairs(value: Any, longer: bool = False) -> list[tuple[int, bytes]]:
    """Well-formed ``[index, bytes]`` entries of a metadata value (others are skipped:
    the metadata may come from any file or proxy); ``longer``: entries may carry more
    items after those two."""
    out: list[tuple[int, bytes]] = []
    if not isinstance(value, list | tuple):
        return out
    for entry in value:
        if (
            isinstance(entry, list | tuple)
            and (len(entry) == 2 or (longer and len(entry) > 2))
            and type(entry[0]) is int
            and entry[0] >= 0
            and isinstance(entry[1], bytes)
        ):
            out.append((entry[0], entry[1]))
    return out


def held_entries(flow: Any) -> list[tuple[int, bytes]]:
    """The messages of ``flow`` held now, as ``(index, content to be sent)`` in order."""
    metadata = getattr(flow, "metadata", None)
    if not isinstance(metadata, dict):
        return []
    return sorted(_pairs(metadata.get(HELD_KEY), longer=True))


def held_dropped(flow: Any) -> set[int]:
    """The held WebSocket messages of ``flow`` that are dropped (mitmproxy's ``drop()``
    keeps their bytes: the ``flowtui.held`` entry says so with a third item, True)."""
    value = getattr(flow, "metadata", {}).get(HELD_KEY)
    if not isinstance(value, list | tuple):
        return set()
    return {
        e[0]
        for e in value
        if isinstance(e, list | tuple) and len(e) == 3 and type(e[0]) is int and e[2] is True
    }


def modified_entries(flow: Any) -> dict[int, bytes]:
    """The messages of ``flow`` edited before they were sent: index -> original bytes."""
    return dict(_pairs(getattr(flow, "metadata", {}).get(MODIFIED_KEY)))


def dropped_indexes(flow: Any) -> dict[int, bytes]:
    """The messages of ``flow`` dropped (never sent): index -> original bytes."""
    return dict(_pairs(getattr(flow, "metadata", {}).get(DROPPED_KEY)))


def originals(flow: Any) -> dict[int, bytes]:
    """Every changed message's original bytes (edited or dropped), by index."""
    return {**modified_entries(flow), **dropped_indexes(flow)}


def held_changes(flow: Any) -> dict[int, bytes]:
    """The held messages of ``flow`` that were edited or dropped: index -> original
    (what `V` sends back while they are still held)."""
    if not getattr(flow, "intercepted", False):
        return {}
    changed = originals(flow)
    return {i: changed[i] for i, _ in held_entries(flow) if i in changed}


def _store(metadata: dict[str, Any], key: str, entries: dict[int, bytes]) -> None:
    if entries:
        metadata[key] = [[i, entries[i]] for i in sorted(entries)]
    else:
        metadata.pop(key, None)


def change_message(
    flow: Any, message: Any, index: int, content: bytes | None, *, websocket: bool = False
) -> None:
    """Edit (``content``) or drop (None) the held ``message`` (``index`` in its list)
    and record it in ``flow.metadata``; the original is kept once, so editing a message
    back to it (or `V`) restores it, and editing a dropped message sends it again.

    TCP/UDP: a dropped message's content becomes empty (what went on the wire). A
    WebSocket message is dropped with mitmproxy's own ``drop()`` and keeps its bytes."""
    metadata: dict[str, Any] = flow.metadata
    modified = dict(_pairs(metadata.get(MODIFIED_KEY)))
    dropped = dict(_pairs(metadata.get(DROPPED_KEY)))
    original = modified.pop(index, None)
    if original is None:
        original = dropped.pop(index, None)
    if original is None:
        original = message.content
    if websocket:
        if content is None:
            message.drop()
            if message.content != original:
                modified[index] = original
        else:
            message.dropped = False
            message.content = content
            if content != original:
                modified[index] = original
    elif content is None:
        message.content = b""
        dropped[index] = original
    else:
        message.content = content
        if content != original:
            modified[index] = original
    _store(metadata, MODIFIED_KEY, modified)
    _store(metadata, DROPPED_KEY, dropped)


def apply_held(flow: Any, messages: Sequence[Any]) -> bool:
    """Give a mirrored flow's held messages the content the proxy says it will send
    (an edit made by any inspector); True if a message changed."""
    changed = False
    dropped = held_dropped(flow)
    for index, content in held_entries(flow):
        if index >= len(messages):
            continue
        message = messages[index]
        if message.content != content:
            message.content = content
            changed = True
        if hasattr(message, "dropped") and message.dropped != (index in dropped):
            message.dropped = index in dropped  # a WebSocket message (un)dropped
            changed = True
    return changed
