"""UDP flows, mirroring `mitmproxy.udp`."""

from __future__ import annotations

from flowtui.core.messages import MessageFlow, StreamMessage

__all__ = ["UDPFlow", "UDPMessage"]


class UDPMessage(StreamMessage):
    """An individual UDP datagram."""


class UDPFlow(MessageFlow):
    """A representation of a UDP session."""

    message_class = UDPMessage
    messages: list[UDPMessage]
