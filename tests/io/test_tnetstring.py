"""The tnetstring codec: mitmproxy's dialect, its limits, and hostile input."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtui.io import FlowReader, FlowReadException, tnetstring
from flowtui.io.tnetstring import TNetStringError

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.binary(max_size=64)
    | st.text(max_size=64)
)
keys = st.text(max_size=16) | st.binary(max_size=16) | st.integers() | st.booleans() | st.none()
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.tuples(inner, inner)
        | st.dictionaries(keys, inner, max_size=6)
    ),
    max_leaves=40,
)


def lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [lists(v) for v in value]
    return value


@settings(max_examples=300)
@given(values)
def test_round_trip(value: Any) -> None:
    assert tnetstring.loads(tnetstring.dumps(value)) == lists(value)


@pytest.mark.mitmproxy
@settings(max_examples=300)
@given(values)
def test_same_bytes_as_mitmproxy_and_readable_by_it(value: Any) -> None:
    from mitmproxy.io import tnetstring as mtn

    data = tnetstring.dumps(value)
    assert data == mtn.dumps(value)
    assert mtn.loads(data) == lists(value)


def test_examples_and_key_order() -> None:
    assert tnetstring.dumps("hello world") == b"11:hello world;"
    assert tnetstring.dumps(b"hi") == b"2:hi,"
    assert tnetstring.dumps([12345, True, 0]) == b"19:5:12345#4:true!1:0#]"
    assert tnetstring.dumps((1,)) == b"4:1:1#]"
    assert tnetstring.dumps(None) == b"0:~"
    assert tnetstring.dumps(1.5) == b"3:1.5^"
    # dict items come out in reverse insertion order, like mitmproxy's writer
    assert tnetstring.dumps({"a": 1, "b": 2}) == b"16:1:b;1:2#1:a;1:1#}"
    assert tnetstring.loads(b"0:~") is None
    assert math.isinf(tnetstring.loads(b"3:inf^"))


def test_unencodable_value() -> None:
    with pytest.raises(TypeError):
        tnetstring.dumps({"x": object()})


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "missing length prefix"),
        (b"12", "truncated length prefix"),
        (b"1234567890123:x,", "longer than 12 digits"),
        (b"01:x,", "leading zero"),
        (b"-1:x,", "invalid length prefix"),
        (b"a:x,", "invalid length prefix"),
        (b"5:abc,", "needs 6 bytes, 4 left"),
        (b"3:abc?", "unknown type tag"),
        (b"3:abc#", "invalid integer"),
        (b"3:abc^", "invalid float"),
        (b"3:yes!", "invalid boolean"),
        (b"1:x~", "invalid null"),
        (b"2:\xff\xfe;", "invalid UTF-8"),
        (b"4:1:a;}", "dict key without a value"),
        (b"6:0:]0:~}", "unhashable dict key"),
        (b"7:5:abc,x]", "needs 6 bytes, 5 left"),
        (b"2:ab,x", "trailing data"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(TNetStringError) as info:
        tnetstring.loads(data)
    assert reason in str(info.value)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    data = b"0:]"
    for _ in range(5000):
        data = b"%d:%s]" % (len(data), data)
    with pytest.raises(TNetStringError, match="nested deeper"):
        tnetstring.loads(data)


class CountingReader(io.RawIOBase):
    """A file that records the largest read request and serves a fixed payload."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.largest = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        self.largest = max(self.largest, len(buf))
        chunk = self.data[self.pos : self.pos + len(buf)]
        buf[: len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def test_huge_length_prefix_does_not_allocate() -> None:
    """A record claiming 10 GB is checked against what is there, never allocated."""
    raw = CountingReader(b"10000000000:" + b"x" * 100)
    with pytest.raises(FlowReadException) as info:
        list(FlowReader(raw, name="huge.flows").stream())  # type: ignore[arg-type]
    assert "truncated record (needs 10000000001 bytes, 100 left)" in str(info.value)
    assert raw.largest <= 1 << 20


def test_reading_is_linear() -> None:
    """A list of 200k items parses with offsets (a quadratic parser would take minutes)."""
    value = [b"x"] * 200_000
    assert tnetstring.loads(tnetstring.dumps(value)) == value
