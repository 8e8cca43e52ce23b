"""TCP flows, mirroring `mitmproxy.tcp`."""

from __future__ import annotations

from flowtui.core.messages import MessageFlow, StreamMessage

__all__ = ["TCPFlow", "TCPMessage"]


class TCPMessage(StreamMessage):
    """An individual TCP "message": a chunk of the stream as the proxy read it.

    TCP is stream-based, not message-based: don't rely on message boundaries.
    """


class TCPFlow(MessageFlow):
    """A simplified representation of a TCP session."""

    message_class = TCPMessage
    messages: list[TCPMessage]
