"""The message list a flow shows in the message viewer: a TCP or UDP flow's messages, or
a WebSocket's (an HTTP flow's `websocket.messages`).

A WebSocket message already has what the viewer reads (`from_client`, `content`,
`timestamp`) and its opcode as `type`, so the list is handed over as it is: no body is
copied.
"""

from __future__ import annotations

from collections.abc import Sequence

from flowtui.core import Flow, HTTPFlow
from flowtui.core.messages import MessageFlow
from flowtui.ui.widgets.message_rows import MessageLike

__all__ = ["message_list"]


def message_list(flow: Flow | None) -> Sequence[MessageLike] | None:
    """The messages the viewer shows for `flow`, or None when it has none to show."""
    if isinstance(flow, MessageFlow):
        return flow.messages
    if isinstance(flow, HTTPFlow) and flow.websocket is not None:
        return flow.websocket.messages
    return None
