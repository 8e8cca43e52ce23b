"""WebSocket messages and connection data, mirroring `mitmproxy.websocket`.

A WebSocket is an HTTP flow whose `websocket` attribute holds a `WebSocketData`.
Message contents are always bytes; `text` decodes those of TEXT messages.
"""

from __future__ import annotations

import enum
import time
import warnings
from typing import Any, Self

from flowtui.core.serializable import Serializable, State

__all__ = ["Opcode", "WebSocketData", "WebSocketMessage"]


class Opcode(enum.IntEnum):
    """RFC 6455 frame opcodes (the values wsproto's `Opcode` has)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise ValueError(f"Invalid value for {what}.")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class WebSocketMessage(Serializable):
    """One WebSocket message (fragments reassembled) from one peer to the other.

    The state is `(type, from_client, content, timestamp, dropped, injected)`.
    """

    def __init__(
        self,
        type: int | Opcode,
        from_client: bool,
        content: bytes,
        timestamp: float | None = None,
        dropped: bool = False,
        injected: bool = False,
    ) -> None:
        self.from_client = from_client
        """True if the client sent this message."""
        self.type = Opcode(type)
        """The opcode: `Opcode.TEXT` or `Opcode.BINARY` for the messages mitmproxy records."""
        self.content = content
        """The message's bytes."""
        self.timestamp: float = timestamp or time.time()
        """When the message was received or created."""
        self.dropped = dropped
        """True if the proxy did not forward the message."""
        self.injected = injected
        """True if the message was injected, not sent by a peer."""

    @staticmethod
    def _checked(state: State) -> tuple[Opcode, bool, bytes, float, bool, bool]:
        _check(isinstance(state, list | tuple) and len(state) == 6, "WebSocketMessage state")
        typ, from_client, content, timestamp, dropped, injected = state
        _check(isinstance(typ, int) and not isinstance(typ, bool), "WebSocketMessage.type")
        _check(isinstance(from_client, bool), "WebSocketMessage.from_client")
        _check(isinstance(content, bytes), "WebSocketMessage.content")
        _check(_is_number(timestamp), "WebSocketMessage.timestamp")
        _check(isinstance(dropped, bool), "WebSocketMessage.dropped")
        _check(isinstance(injected, bool), "WebSocketMessage.injected")
        return Opcode(typ), from_client, content, timestamp, dropped, injected

    @classmethod
    def from_state(cls, state: State) -> Self:
        return cls(*cls._checked(state))

    def get_state(self) -> State:
        return (
            int(self.type),
            self.from_client,
            self.content,
            self.timestamp,
            self.dropped,
            self.injected,
        )

    def set_state(self, state: State) -> None:
        (
            self.type,
            self.from_client,
            self.content,
            self.timestamp,
            self.dropped,
            self.injected,
        ) = self._checked(state)

    def __repr__(self) -> str:
        if self.type == Opcode.TEXT:
            return repr(self.content.decode(errors="replace"))
        return repr(self.content)

    @property
    def is_text(self) -> bool:
        """True for a message of TEXT frames, False for BINARY ones."""
        return self.type == Opcode.TEXT

    def drop(self) -> None:
        """Drop this message: it is not forwarded to the other peer."""
        self.dropped = True

    def kill(self) -> None:
        """Deprecated alias of `drop()` (as in mitmproxy)."""
        warnings.warn(
            "WebSocketMessage.kill() is deprecated, use .drop() instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        self.drop()

    @property
    def text(self) -> str:
        """The content as text (UTF-8); only TEXT messages have it (AttributeError)."""
        if self.type != Opcode.TEXT:
            raise AttributeError(
                f"{self.type.name.title()} WebSocket frames do not have a 'text' attribute."
            )
        return self.content.decode()

    @text.setter
    def text(self, value: str) -> None:
        if self.type != Opcode.TEXT:
            raise AttributeError(
                f"{self.type.name.title()} WebSocket frames do not have a 'text' attribute."
            )
        self.content = value.encode()


class WebSocketData(Serializable):
    """Everything about one WebSocket connection (`HTTPFlow.websocket`)."""

    def __init__(
        self,
        messages: list[WebSocketMessage] | None = None,
        closed_by_client: bool | None = None,
        close_code: int | None = None,
        close_reason: str | None = None,
        timestamp_end: float | None = None,
    ) -> None:
        self.messages: list[WebSocketMessage] = [] if messages is None else messages
        """Every message sent over this connection, in order."""
        self.closed_by_client = closed_by_client
        """True if the client closed the connection, False the server, None while open."""
        self.close_code = close_code
        """The close code (RFC 6455, section 7.1.5)."""
        self.close_reason = close_reason
        """The close reason (RFC 6455, section 7.1.6)."""
        self.timestamp_end = timestamp_end
        """When the WebSocket connection closed."""

    _KEYS = ("messages", "closed_by_client", "close_code", "close_reason", "timestamp_end")

    @classmethod
    def _checked(cls, state: State) -> dict[str, Any]:
        _check(isinstance(state, dict), "WebSocketData state")
        missing = [k for k in cls._KEYS if k not in state]
        _check(not missing, f"WebSocketData state: missing {missing}")
        extra = sorted(set(state) - set(cls._KEYS))
        _check(not extra, f"WebSocketData state: unexpected {extra}")
        messages = state["messages"]
        _check(isinstance(messages, list | tuple), "WebSocketData.messages")
        closed, code = state["closed_by_client"], state["close_code"]
        reason, end = state["close_reason"], state["timestamp_end"]
        _check(closed is None or isinstance(closed, bool), "WebSocketData.closed_by_client")
        # numbers are converted to the field's type, as mitmproxy's dataclass state does
        _check(code is None or isinstance(code, int | float), "WebSocketData.close_code")
        _check(reason is None or isinstance(reason, str), "WebSocketData.close_reason")
        _check(end is None or isinstance(end, int | float), "WebSocketData.timestamp_end")
        try:
            code = None if code is None else int(code)
        except OverflowError:
            raise ValueError("Invalid value for WebSocketData.close_code.") from None
        return {
            "messages": [WebSocketMessage.from_state(m) for m in messages],
            "closed_by_client": closed,
            "close_code": code,
            "close_reason": reason,
            "timestamp_end": None if end is None else float(end),
        }

    @classmethod
    def from_state(cls, state: State) -> Self:
        return cls(**cls._checked(state))

    def get_state(self) -> State:
        return {
            "messages": [m.get_state() for m in self.messages],
            "closed_by_client": self.closed_by_client,
            "close_code": self.close_code,
            "close_reason": self.close_reason,
            "timestamp_end": self.timestamp_end,
        }

    def set_state(self, state: State) -> None:
        for key, value in self._checked(state).items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"<WebSocketData ({len(self.messages)} messages)>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WebSocketData):
            return NotImplemented
        return bool(self.get_state() == other.get_state())

    __hash__ = None  # type: ignore[assignment]
