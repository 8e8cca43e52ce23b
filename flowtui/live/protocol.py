"""The live socket protocol between a proxy (relay or mitmproxy addon) and inspectors.

Why one module: the encoder and the decoder must never drift apart, and both proxy
sides and the client import the same names. Every frame is a 4-byte big-endian length
followed by one msgpack map (``use_bin_type=True``, ``raw=False``) that carries a
``type`` key. See ``docs/protocol.md`` for the full description.

The decoder treats its input as hostile: lengths are checked before anything is
buffered, nesting is bounded by msgpack's own limits, and every failure surfaces as
`ProtocolError`, never as another exception.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, Final

import msgpack

__all__ = [
    "COMMANDS",
    "EVENTS",
    "MAX_FRAME",
    "PROTOCOL_VERSION",
    "FrameDecoder",
    "ProtocolError",
    "check_hello",
    "decode_frame_body",
    "encode",
    "hello",
    "validate",
]

PROTOCOL_VERSION: Final = 1
"""Bumped on any incompatible change; both sides must speak the same version."""

MAX_FRAME: Final = 32 * 1024 * 1024
"""Largest frame body accepted, in bytes (a length prefix above it closes the peer)."""

_HEADER = struct.Struct(">I")

EVENTS: Final = frozenset(
    {"flows/reset", "flows/add", "flows/update", "flows/append", "flows/remove"}
)
"""Events the proxy sends without being asked."""

COMMANDS: Final = frozenset(
    {"intercept", "resume", "resume_all", "kill", "mark", "comment", "set_intercept", "ping"}
    # held messages (optional, added with them): change one before it is forwarded
    | {"edit_message", "drop_message"}
)
"""Commands an inspector may send; each is answered by a `reply` with the same `rid`."""

# Required fields per message type: name -> accepted Python types.
_STR = (str,)
_SCHEMA: Final[dict[str, dict[str, tuple[type, ...]]]] = {
    "hello": {"protocol": (int,), "role": _STR, "software": _STR},
    "error": {"message": _STR},
    "reply": {"rid": (int,), "ok": (bool,)},
    "flows/reset": {"flows": (list,)},
    "flows/add": {"flow": (dict,)},
    "flows/update": {"id": _STR, "changes": (dict,)},
    "flows/append": {"id": _STR, "messages": (list,)},
    "flows/remove": {"id": _STR},
    "intercept": {"rid": (int,), "id": _STR},
    "resume": {"rid": (int,), "id": _STR},
    "resume_all": {"rid": (int,)},
    "kill": {"rid": (int,), "id": _STR},
    "mark": {"rid": (int,), "id": _STR, "marked": _STR},
    "comment": {"rid": (int,), "id": _STR, "comment": _STR},
    "set_intercept": {"rid": (int,), "filter": (str, type(None))},
    "ping": {"rid": (int,)},
    # held messages
    "edit_message": {"rid": (int,), "id": _STR, "index": (int,), "content": (bytes,)},
    "drop_message": {"rid": (int,), "id": _STR, "index": (int,)},
}


class ProtocolError(Exception):
    """The peer broke the protocol: bad frame, bad message, wrong version or token."""


def encode(message: Mapping[str, Any]) -> bytes:
    """One frame: length prefix plus the msgpack body of ``message``."""
    body: bytes = msgpack.packb(message, use_bin_type=True)
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds the {MAX_FRAME} byte limit")
    return _HEADER.pack(len(body)) + body


def decode_frame_body(body: bytes) -> dict[str, Any]:
    """Unpack one frame body into a validated message; `ProtocolError` otherwise."""
    try:
        value = msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True)
    except Exception as e:  # msgpack raises many types for garbage; all mean "malformed".
        raise ProtocolError(f"malformed frame: {type(e).__name__}") from None
    return validate(value)


def validate(value: Any) -> dict[str, Any]:
    """Check that ``value`` is a known message with the fields its type needs."""
    if not isinstance(value, dict):
        raise ProtocolError(f"a message must be a map, not {type(value).__name__}")
    kind = value.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("a message needs a text 'type'")
    schema = _SCHEMA.get(kind)
    if schema is None:
        raise ProtocolError(f"unknown message type {kind[:64]!r}")
    for name, types in schema.items():
        field = value.get(name)
        if not isinstance(field, types) or (isinstance(field, bool) and bool not in types):
            raise ProtocolError(f"{kind}: field {name!r} is missing or has the wrong type")
    return value


class FrameDecoder:
    """Incremental decoder: feed bytes as they arrive, get whole messages back."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        """The largest body accepted; a larger length prefix raises `ProtocolError`."""
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Add ``data``; return the messages now complete (in order).

        The consumed frames are cut from the buffer once per call, not once per frame:
        a read holding a thousand small frames costs one copy, not a thousand."""
        buf = self._buf
        buf += data
        out: list[dict[str, Any]] = []
        pos, size = 0, len(buf)
        view = memoryview(buf)
        try:
            while size - pos >= _HEADER.size:
                (length,) = _HEADER.unpack_from(buf, pos)
                if length > self.max_frame:
                    raise ProtocolError(
                        f"frame of {length} bytes exceeds the {self.max_frame} limit"
                    )
                end = pos + _HEADER.size + length
                if size < end:
                    break
                body = bytes(view[pos + _HEADER.size : end])
                pos = end
                out.append(decode_frame_body(body))
        finally:
            view.release()
            if pos:
                del buf[:pos]
        return out

    @property
    def pending(self) -> int:
        """Bytes buffered towards an incomplete frame."""
        return len(self._buf)


def hello(role: str, software: str, **extra: Any) -> dict[str, Any]:
    """A hello message for ``role`` (``"proxy"`` or ``"inspector"``)."""
    return {
        "type": "hello",
        "protocol": PROTOCOL_VERSION,
        "role": role,
        "software": software,
        **extra,
    }


def check_hello(message: Mapping[str, Any], expect_role: str) -> None:
    """Refuse a hello of another protocol version or role, with a message for the user."""
    if message.get("type") == "error":
        raise ProtocolError(f"refused by peer: {message.get('message')}")
    if message.get("type") != "hello":
        raise ProtocolError(f"expected a hello, got {message.get('type')!r}")
    version = message["protocol"]
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"incompatible protocol version {version} (this side speaks {PROTOCOL_VERSION}); "
            "use the same flowtui version on both sides"
        )
    if message["role"] != expect_role:
        raise ProtocolError(f"expected a {expect_role}, the peer is a {message['role'][:32]!r}")
