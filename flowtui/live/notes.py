"""What the inspector knows it does not have: detached and incomplete live flows.

Why a module of its own: the client writes these notes into a flow's metadata (so
they are saved with it and survive a resync), and the UI reads them back for the info
line, the actions and the save prompt; neither side imports the other. No I/O here.

- *Detached*: the proxy no longer has a flow that was live or intercepted (it
  restarted): it cannot be resumed, killed, marked or commented through the proxy.
- *Incomplete*: the proxy had to forget a flow before this inspector received all of
  it (its ``--retain`` budget while the inspector was behind, or a resync): how many
  messages and bytes are missing, and where the proxy recorded the full flow (``-w``).
"""

from __future__ import annotations

from typing import Any

from flowtui.live.budget import format_size

__all__ = [
    "DETACHED_KEY",
    "INCOMPLETE_KEY",
    "detached_reason",
    "incomplete_note",
    "is_incomplete",
]

DETACHED_KEY = "flowtui.detached"
"""Metadata: why the proxy can no longer act on this flow (text)."""
INCOMPLETE_KEY = "flowtui.incomplete"
"""Metadata: ``{"messages": n, "bytes": b, "record": path | None}`` missing here."""


def detached_reason(flow: Any) -> str | None:
    """Why the proxy can no longer act on ``flow``, or None if it can."""
    reason = flow.metadata.get(DETACHED_KEY)
    return reason if isinstance(reason, str) and reason else None


def is_incomplete(flow: Any) -> bool:
    """The proxy dropped part of ``flow`` before this inspector received it."""
    return isinstance(flow.metadata.get(INCOMPLETE_KEY), dict)


def incomplete_note(flow: Any) -> str | None:
    """``incomplete: 120 messages (3.2 MB) missing; the full flow is in X`` or None."""
    info = flow.metadata.get(INCOMPLETE_KEY)
    if not isinstance(info, dict):
        return None
    messages, size = info.get("messages"), info.get("bytes")
    parts: list[str] = []
    if isinstance(messages, int) and messages > 0:
        parts.append(f"{messages} message{'s' if messages != 1 else ''}")
    if isinstance(size, int) and size > 0:
        parts.append(f"({format_size(size)})" if parts else format_size(size))
    what = " ".join(parts) if parts else "its end"
    note = f"incomplete: {what} missing (the proxy dropped it before this inspector got it)"
    record = info.get("record")
    if isinstance(record, str) and record:
        note += f"; the full flow is in the proxy's recording {record}"
    return note
