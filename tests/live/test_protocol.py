"""Protocol round trips, limits, hello checks, and a hypothesis fuzz of the decoder."""

from __future__ import annotations

import contextlib
import struct

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtui.live.protocol import (
    PROTOCOL_VERSION,
    FrameDecoder,
    ProtocolError,
    check_hello,
    encode,
    encode_append,
    hello,
)

MESSAGES = [
    hello("proxy", "flowtui", token="t"),
    {"type": "flows/reset", "flows": [{"id": "a", "messages": []}]},
    {"type": "flows/update", "id": "a", "changes": {"comment": "x", "live": False}},
    {"type": "flows/append", "id": "a", "messages": [[True, b"\x00\xff[/bold]", 1.5]]},
    {"type": "flows/remove", "id": "a"},
    {"type": "kill", "rid": 3, "id": "a"},
    {"type": "set_intercept", "rid": 4, "filter": None},
    {"type": "reply", "rid": 3, "ok": False, "error": "Flow is not killable."},
]


def test_round_trip_byte_by_byte() -> None:
    data = b"".join(encode(m) for m in MESSAGES)
    decoder = FrameDecoder()
    out = []
    for i in range(len(data)):
        out += decoder.feed(data[i : i + 1])
    assert out == [msgpack.unpackb(msgpack.packb(m), raw=False) for m in MESSAGES]
    assert out[3]["messages"][0][1] == b"\x00\xff[/bold]"  # bytes stay bytes
    assert decoder.pending == 0


_STATES = st.lists(
    st.tuples(
        st.booleans(),
        st.binary(max_size=40_000),
        st.one_of(st.floats(allow_nan=False), st.integers(0, 2**40)),
    ),
    max_size=20,
)


@settings(max_examples=60, deadline=None)
@given(
    flows=st.lists(st.tuples(st.text(max_size=40), _STATES), min_size=1, max_size=6),
    cuts=st.lists(st.integers(1, 100_000), max_size=40),
)
def test_append_frames_decode_whole_however_the_reads_split_them(
    flows: list[tuple[str, list[tuple[bool, bytes, float]]]], cuts: list[int]
) -> None:
    """The proxy's hand-built append frames equal msgpack's own encoding, and the
    decoder gives back every message whatever sizes the socket's reads came in."""
    frames = []
    for flow_id, states in flows:
        frame = encode_append(flow_id, states)
        whole = frame if isinstance(frame, bytes) else b"".join(frame)
        expected = {"type": "flows/append", "id": flow_id, "messages": [list(s) for s in states]}
        assert whole == encode(expected)
        frames.append(whole)
    data = b"".join(frames)
    decoder, out, pos = FrameDecoder(), [], 0
    for cut in [*cuts, len(data)]:
        out += decoder.feed(data[pos : pos + cut])
        pos += cut
    out += decoder.feed(data[pos:])
    assert [(m["id"], [tuple(x) for x in m["messages"]]) for m in out] == flows
    assert decoder.pending == 0


def test_a_split_oversized_length_prefix_is_refused() -> None:
    decoder = FrameDecoder(max_frame=1024)
    header = struct.pack(">I", 4096)
    assert decoder.feed(header[:1]) == [] and decoder.feed(header[1:3]) == []
    with pytest.raises(ProtocolError, match="exceeds"):
        decoder.feed(header[3:] + b"x")


def test_oversized_frame_refused_before_buffering() -> None:
    decoder = FrameDecoder(max_frame=1024)
    with pytest.raises(ProtocolError, match="exceeds"):
        decoder.feed(struct.pack(">I", 10 * 1024**3 % 2**32 or 2**32 - 1))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (msgpack.packb([1, 2]), "must be a map"),
        (msgpack.packb({"no": "type"}), "needs a text 'type'"),
        (msgpack.packb({"type": "flows/explode"}), "unknown message type"),
        (msgpack.packb({"type": "kill", "rid": True, "id": "a"}), "'rid'"),
        (b"\xc1", "malformed"),
    ],
)
def test_bad_messages(body: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        FrameDecoder().feed(struct.pack(">I", len(body)) + body)


def test_hello_version_and_role_checks() -> None:
    check_hello(hello("proxy", "x"), "proxy")
    with pytest.raises(ProtocolError, match="incompatible protocol version 99"):
        check_hello({**hello("proxy", "x"), "protocol": 99}, "proxy")
    with pytest.raises(ProtocolError, match="expected a proxy"):
        check_hello(hello("inspector", "x"), "proxy")
    with pytest.raises(ProtocolError, match="refused by peer: wrong"):
        check_hello({"type": "error", "message": "wrong token"}, "proxy")
    assert PROTOCOL_VERSION == 1


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_garbage_only_raises_protocol_error(data: bytes) -> None:
    decoder = FrameDecoder(max_frame=4096)
    with contextlib.suppress(ProtocolError):
        decoder.feed(data)


@settings(max_examples=1000, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text() | st.binary(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=20,
    )
)
def test_fuzz_any_msgpack_value(value: object) -> None:
    body = msgpack.packb(value, use_bin_type=True)
    with contextlib.suppress(ProtocolError):
        FrameDecoder().feed(struct.pack(">I", len(body)) + body)
