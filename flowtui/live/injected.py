"""Which messages of a flow were injected (sent by an inspector, not by either peer).

Why a module of its own: the proxy side writes the note (the relay, and the mitmproxy
addon for TCP and UDP) and the UI reads it back for the message viewer's marker; a
capture keeps it. mitmproxy marks an injected WebSocket message itself
(``WebSocketMessage.injected``); its TCP and UDP messages have no such field, so
flowtui records their indexes in the flow's metadata, which mitmproxy reads and keeps
as it is. No I/O here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["INJECTED_KEY", "injected_indexes", "note_injected"]

INJECTED_KEY = "flowtui.injected"
"""Metadata: the indexes (in ``flow.messages``) of the injected messages, ascending."""


def note_injected(flow: Any, index: int) -> None:
    """Record that ``flow.messages[index]`` was injected."""
    noted = flow.metadata.get(INJECTED_KEY)
    if not isinstance(noted, list):
        noted = flow.metadata[INJECTED_KEY] = []
    noted.append(index)


def injected_indexes(flow: Any) -> frozenset[int]:
    """The indexes of ``flow``'s injected messages (from a capture: whatever is not a
    list of integers is ignored)."""
    metadata = getattr(flow, "metadata", None)
    noted = metadata.get(INJECTED_KEY) if isinstance(metadata, dict) else None
    if not isinstance(noted, list):
        return frozenset()
    return frozenset(i for i in noted if type(i) is int and i >= 0)
