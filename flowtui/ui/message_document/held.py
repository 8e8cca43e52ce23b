"""The signs the message viewer puts on held, edited and dropped messages.

Read from the flow's metadata (`flowtui.live.held`): the proxy says which messages it
holds and what was changed; the viewer rebuilds its rows when that changes (a held
message edited in place keeps its index, so the held contents are compared too).
"""

from __future__ import annotations

from typing import Any

from flowtui.live.held import dropped_indexes, held_dropped, held_entries, modified_entries
from flowtui.ui.widgets.message_rows import format_size

__all__ = ["HELD_SIGN", "MessageMarks", "message_marks"]

HELD_SIGN = "⏸ held"
"""The header sign of a message the proxy holds (recorded, not yet forwarded)."""

MessageMarks = tuple[dict[int, str], tuple[tuple[int, bytes, bool], ...]]
"""The header signs by message index, and the held messages with their contents (and
whether a held WebSocket message is dropped)."""


def message_marks(flow: Any) -> MessageMarks:
    """The signs for `flow`'s message headers, and what they depend on."""
    metadata = getattr(flow, "metadata", None)
    if not isinstance(metadata, dict) or not metadata:
        return {}, ()
    held: tuple[tuple[int, bytes, bool], ...] = ()
    if getattr(flow, "intercepted", False):
        dropped = held_dropped(flow)
        held = tuple((i, content, i in dropped) for i, content in held_entries(flow))
    signs: dict[int, list[str]] = {}
    for index, _, _ in held:
        signs.setdefault(index, []).append(HELD_SIGN)
    for index in modified_entries(flow):
        signs.setdefault(index, []).append("✎ edited")
    for index, original in dropped_indexes(flow).items():
        signs.setdefault(index, []).append(f"✗ dropped ({format_size(len(original))} not sent)")
    return {i: " · ".join(parts) for i, parts in signs.items()}, held
