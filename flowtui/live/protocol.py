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
from collections.abc import Callable, Mapping
from typing import Any, Final

import msgpack

__all__ = [
    "COMMANDS",
    "EVENTS",
    "MAX_FRAME",
    "PROTOCOL_VERSION",
    "WEBSOCKET_APPENDS",
    "Frame",
    "FrameDecoder",
    "ProtocolError",
    "check_hello",
    "decode_frame_body",
    "encode",
    "encode_append",
    "frame_size",
    "hello",
    "validate",
    "without_websocket_messages",
]

PROTOCOL_VERSION: Final = 1
"""Bumped on any incompatible change; both sides must speak the same version."""

MAX_FRAME: Final = 32 * 1024 * 1024
"""Largest frame body accepted, in bytes (a length prefix above it closes the peer)."""

_HEADER = struct.Struct(">I")

WEBSOCKET_APPENDS: Final = "websocket-append"
"""An inspector naming this in its hello's ``features`` takes an HTTP flow's new
WebSocket messages as ``flows/append`` (the flow's state then leaves them out)."""


def without_websocket_messages(
    flow: Any, get_state: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """``get_state()`` of ``flow`` with its WebSocket messages left out (``messages:
    []``), as states travel with `WEBSOCKET_APPENDS`. O(1) in the messages: the list is
    set aside while the state is computed (never copied), then put back."""
    ws: Any = getattr(flow, "websocket", None) if getattr(flow, "type", None) == "http" else None
    messages = ws.messages if ws is not None else None
    if not messages:
        return get_state()
    ws.messages = []
    try:
        return get_state()
    finally:
        ws.messages = messages


EVENTS: Final = frozenset(
    {"flows/reset", "flows/add", "flows/update", "flows/append", "flows/remove"}
)
"""Events the proxy sends without being asked."""

COMMANDS: Final = frozenset(
    {"intercept", "resume", "resume_all", "kill", "mark", "comment", "set_intercept", "ping"}
    | {"inject", "replay"}  # added later: a proxy lists the commands it knows in its hello
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
    "inject": {"rid": (int,), "id": _STR, "to_client": (bool,), "content": (bytes,)},
    "replay": {"rid": (int,), "id": _STR},
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


_APPEND_HEAD: Final = b"\x83" + b"".join(msgpack.packb(x) for x in ("type", "flows/append", "id"))
_MESSAGES_KEY: Final = msgpack.packb("messages")
_FLOAT = struct.Struct(">Bd")
_U8, _U16, _U32 = struct.Struct(">BB"), struct.Struct(">BH"), struct.Struct(">BI")


def _array_header(n: int) -> bytes:
    if n < 16:
        return bytes((0x90 | n,))
    return _U16.pack(0xDC, n) if n < 0x10000 else _U32.pack(0xDD, n)


def _bin_header(n: int) -> bytes:
    if n < 0x100:
        return _U8.pack(0xC4, n)
    return _U16.pack(0xC5, n) if n < 0x10000 else _U32.pack(0xC6, n)


Frame = bytes | list[bytes]
"""An encoded frame: one buffer, or buffers to be written in order (big message contents
stay the objects they were, never copied into a frame)."""

GATHER_MIN = 16 * 1024
"""A content at least this big is its own buffer in a gathered `Frame`."""


def frame_size(frame: Frame) -> int:
    return len(frame) if isinstance(frame, bytes) else sum(map(len, frame))


def encode_append(flow_id: str, messages: list[Any]) -> Frame:
    """The frame ``encode({"type": "flows/append", "id": flow_id, "messages": messages})``
    gives, byte for byte, for message states ``(from_client, content, timestamp)``, as
    buffers to write in order (see `Frame`).

    Why: msgpack copies each content into a buffer it grows as it goes, and a relay
    at line rate spent a quarter of its time there; here no content of `GATHER_MIN` or
    more is copied at all."""
    out: list[bytes] = []
    small = bytearray()
    small += _APPEND_HEAD
    small += msgpack.packb(flow_id)
    small += _MESSAGES_KEY
    small += _array_header(len(messages))
    for state in messages:
        if len(state) != 3 or type(state[0]) is not bool or type(state[2]) is not float:
            small += msgpack.packb(list(state), use_bin_type=True)  # the general case
            continue
        from_client, content, timestamp = state
        small += b"\x93\xc3" if from_client else b"\x93\xc2"
        small += _bin_header(len(content))
        if len(content) >= GATHER_MIN and type(content) is bytes:
            out.append(bytes(small))
            out.append(content)
            small.clear()
        else:
            small += content
        small += _FLOAT.pack(0xCB, timestamp)
    out.append(bytes(small))
    size = sum(map(len, out))
    if len(out) == 1:
        return _HEADER.pack(size) + out[0]
    out[0] = _HEADER.pack(size) + out[0]
    return out


def decode_frame_body(body: bytes | memoryview) -> dict[str, Any]:
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
    """Incremental decoder: feed bytes as they arrive, get whole messages back.

    Whole frames are decoded straight from the bytes they arrived in; a frame split
    over reads is kept as its pieces and copied once, when its last piece arrives, into
    a scratch buffer reused from frame to frame (a growing buffer's copies, reallocations
    and fresh pages were half an inspector's time at line rate)."""

    SCRATCH_MAX = 4 * 1024 * 1024
    """Frames up to this size are assembled in the reused buffer; larger ones (rare)
    are joined into their own."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        """The largest body accepted; a larger length prefix raises `ProtocolError`."""
        self._parts: list[bytes | memoryview] = []
        self._have = 0
        self._need = 0
        """Bytes of the frame being gathered, its header included (0: not known yet)."""
        self._scratch = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Add ``data``; return the messages now complete (in order)."""
        out: list[dict[str, Any]] = []
        if type(data) is not bytes:
            data = bytes(data)  # a caller's buffer may change: decode a snapshot
        view = memoryview(data)
        pos = 0
        if self._parts:
            pos = self._gather(view, out)
            if pos < 0:
                return out
        size = len(data)
        while size - pos >= _HEADER.size:
            end = pos + self._frame_size(data, pos)
            if size < end:
                self._need = end - pos
                break
            out.append(decode_frame_body(view[pos + _HEADER.size : end]))
            pos = end
        if pos < size:  # the start of a frame: kept (by reference when big)
            self._parts = [data[pos:] if size - pos < 65536 else view[pos:]]
            self._have = size - pos
        return out

    def _gather(self, view: memoryview, out: list[dict[str, Any]]) -> int:
        """Add ``view`` to the frame being gathered and decode it once whole. Returns
        where the rest of ``view`` starts, or -1 when all of it was taken."""
        self._parts.append(view)
        self._have += len(view)
        if self._need == 0 and self._have >= _HEADER.size:
            head = b""
            for part in self._parts:  # the header may span the first few pieces
                head += bytes(part[: _HEADER.size])
                if len(head) >= _HEADER.size:
                    break
            self._need = self._frame_size(head, 0)
        need = self._need
        if need == 0 or self._have < need:
            return -1
        used = len(view) - (self._have - need)  # of the last piece, what is this frame's
        self._parts[-1] = view[:used]
        if need <= self.SCRATCH_MAX:
            if len(self._scratch) < need:
                self._scratch = bytearray(max(need, 2 * len(self._scratch)))
            frame = memoryview(self._scratch)
            at = 0
            for part in self._parts:
                frame[at : at + len(part)] = part
                at += len(part)
        else:
            frame = memoryview(b"".join(self._parts))
        self._parts, self._have, self._need = [], 0, 0
        out.append(decode_frame_body(frame[_HEADER.size : need]))
        return used

    def _frame_size(self, data: bytes, pos: int) -> int:
        (length,) = _HEADER.unpack_from(data, pos)
        if length > self.max_frame:
            raise ProtocolError(f"frame of {length} bytes exceeds the {self.max_frame} limit")
        return int(_HEADER.size + length)

    @property
    def pending(self) -> int:
        """Bytes buffered towards an incomplete frame."""
        return self._have


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
