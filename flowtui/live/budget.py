"""How much message content an inspector holds, and how a flow over its budget is cut.

Why: a proxy (rogue, broken, or just busy) can send an inspector more content than it
can hold; `flowtui attach` keeps at most ``--max-memory`` bytes of it. This module
measures a flow's content and cuts it from its end; `LiveClient` decides which flow
(the oldest holding content first) and records the cut in the flow's metadata under
`CUT_KEY`, so the UI shows it and a saved capture still says what is missing.

What counts: the content of every TCP/UDP message, plus `MESSAGE_COST` bytes for the
message object itself (so a flood of one-byte messages is bounded too), and in HTTP
flows the request and response bodies and every WebSocket message.
"""

from __future__ import annotations

from flowtui.core import Flow, HTTPFlow
from flowtui.core.http import Message
from flowtui.core.messages import MessageFlow
from flowtui.core.websocket import WebSocketMessage

__all__ = ["CUT_KEY", "MESSAGE_COST", "content_cost", "cut_from_end", "cut_note", "format_size"]

CUT_KEY = "flowtui.cut"
"""Metadata key of a cut flow: ``{"received": bytes, "kept": bytes}`` of content."""
MESSAGE_COST = 128
"""What one message costs beyond its content (its Python objects), for the budget."""


def _ws_messages(flow: HTTPFlow) -> list[WebSocketMessage]:
    return flow.websocket.messages if flow.websocket is not None else []


def _body(message: Message | None) -> int:
    """The bytes a request or response body holds, as sent (encoded)."""
    raw = message.raw_content if message is not None else None
    return len(raw) if raw is not None else 0


def content_cost(flow: Flow) -> tuple[int, int]:
    """``(cost, content)``: what `flow` holds against the budget, and its content bytes."""
    if isinstance(flow, MessageFlow):
        content = sum(len(m.content) for m in flow.messages)
        return content + MESSAGE_COST * len(flow.messages), content
    if isinstance(flow, HTTPFlow):
        ws = _ws_messages(flow)
        content = _body(flow.request) + _body(flow.response)
        content += sum(len(m.content) for m in ws)
        return content + MESSAGE_COST * len(ws), content
    return 0, 0


def cut_from_end(flow: Flow, cost: int, target: int) -> tuple[int, int]:
    """Drop `flow`'s content from its end (its last messages first; in HTTP the WebSocket
    messages, then the response body, then the request body) until what it holds costs
    at most `target`. `cost` is what it holds now; returns ``(cost, content)`` dropped."""
    dropped = content = 0
    if isinstance(flow, MessageFlow):
        messages = flow.messages
        while messages and cost - dropped > target:
            size = len(messages.pop().content)
            dropped += size + MESSAGE_COST
            content += size
    elif isinstance(flow, HTTPFlow):
        ws = _ws_messages(flow)
        while ws and cost - dropped > target:
            size = len(ws.pop().content)
            dropped += size + MESSAGE_COST
            content += size
        for message in (flow.response, flow.request):
            size = _body(message)
            if message is not None and size and cost - dropped > target:
                message.raw_content = None  # as mitmproxy marks a body not kept
                dropped += size
                content += size
    return dropped, content


def format_size(n: int) -> str:
    """Bytes as people read them: ``512 B``, ``12.3 kB``, ``40.0 MB``, ``1.2 GB``."""
    if n < 1000:
        return f"{n} B"
    value = n / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def cut_note(flow: Flow) -> str | None:
    """``cut: 12.3 MB of 40.0 MB not kept`` for a flow cut to stay in the budget."""
    cut = flow.metadata.get(CUT_KEY)
    if not isinstance(cut, dict):
        return None
    received, kept = cut.get("received"), cut.get("kept")
    if not isinstance(received, int) or not isinstance(kept, int) or received <= kept:
        return None
    return f"cut: {format_size(received - kept)} of {format_size(received)} not kept"
