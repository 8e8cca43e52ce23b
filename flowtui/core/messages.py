"""The shared shape of TCP and UDP flows: a list of directed messages.

`TCPMessage`/`TCPFlow` and `UDPMessage`/`UDPFlow` differ only in name and type, so
both are built on the two bases here.
"""

from __future__ import annotations

import time
from typing import Any, Self

from flowtui.core.connection import Client, Server
from flowtui.core.flow import Flow
from flowtui.core.serializable import Serializable, State

__all__ = ["MessageFlow", "StreamMessage"]


class StreamMessage(Serializable):
    """One chunk of data in one direction; the state is `(from_client, content, timestamp)`."""

    def __init__(self, from_client: bool, content: bytes, timestamp: float | None = None) -> None:
        self.from_client = from_client
        """True if the client sent this message."""
        self.content = content
        """The message's bytes."""
        self.timestamp = timestamp or time.time()
        """Unix timestamp of when the proxy received the message."""

    @classmethod
    def _check(cls, state: State) -> tuple[bool, bytes, float]:
        if not isinstance(state, list | tuple) or len(state) != 3:
            raise ValueError(f"Invalid {cls.__name__} state: expected 3 items.")
        from_client, content, timestamp = state
        if not isinstance(from_client, bool):
            raise ValueError(f"Invalid {cls.__name__}.from_client: expected bool.")
        if not isinstance(content, bytes):
            raise ValueError(f"Invalid {cls.__name__}.content: expected bytes.")
        if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
            raise ValueError(f"Invalid {cls.__name__}.timestamp: expected float.")
        return from_client, content, timestamp

    @classmethod
    def from_state(cls, state: State) -> Self:
        return cls(*cls._check(state))

    def get_state(self) -> State:
        return self.from_client, self.content, self.timestamp

    def set_state(self, state: State) -> None:
        self.from_client, self.content, self.timestamp = self._check(state)

    def __repr__(self) -> str:
        return f"{'->' if self.from_client else '<-'} {self.content!r}"


class MessageFlow(Flow, register=False):
    """A flow whose content is an ordered list of messages in both directions."""

    message_class: type[StreamMessage] = StreamMessage

    def __init__(self, client_conn: Client, server_conn: Server, live: bool = False) -> None:
        super().__init__(client_conn, server_conn, live)
        self.messages: list[Any] = []
        """The messages sent over this connection; the latest is `messages[-1]`."""

    def get_state(self) -> State:
        return {**super().get_state(), "messages": [m.get_state() for m in self.messages]}

    def set_state(self, state: State) -> None:
        if not isinstance(state, dict) or not isinstance(state.get("messages"), list | tuple):
            raise ValueError(f"Invalid {type(self).__name__} state: messages must be a list.")
        messages = [self.message_class.from_state(m) for m in state.pop("messages")]
        super().set_state(state)
        self.messages = messages

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ({len(self.messages)} messages)>"
