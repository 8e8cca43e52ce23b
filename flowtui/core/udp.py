"""UDP flows, mirroring `mitmproxy.udp`."""

from __future__ import annotations

from flowtui.core.messages import MessageFlow, StreamMessage

__all__ = ["UDPFlow", "UDPMessage"]


class UDPMessage(StreamMessage):
    """An individual UDP datagram."""

    def __repr__(self) -> str:
        return f"{'->' if self.from_client else '<-'} {self.content!r}"


class UDPFlow(MessageFlow):
    """A representation of a UDP session."""

    message_class = UDPMessage
    messages: list[UDPMessage]
