"""Bytes typed as text with escapes or as hex (the inject dialog's notation)."""

from __future__ import annotations

import pytest

from flowtui.ui.byte_text import ByteTextError, escape_bytes, parse_bytes, preview


def test_text_with_escapes() -> None:
    assert parse_bytes(r"PING\r\n") == b"PING\r\n"
    assert parse_bytes(r"\x00\xffA\tB\\C") == b"\x00\xffA\tB\\C"
    assert parse_bytes("héllo ✓") == "héllo ✓".encode()
    assert parse_bytes("") == b""


@pytest.mark.parametrize(
    ("text", "pos", "words"),
    [
        ("ab\\", 2, "lone backslash"),
        (r"ab\q", 2, "unknown escape \\q"),
        (r"x\x4", 1, "two hex digits"),
        (r"\xg0", 0, "two hex digits"),
    ],
)
def test_text_errors_point_at_the_escape(text: str, pos: int, words: str) -> None:
    with pytest.raises(ByteTextError) as e:
        parse_bytes(text)
    assert e.value.pos == pos and words in e.value.msg


def test_hex() -> None:
    assert parse_bytes("50 49 4e 47 0d 0a", "hex") == b"PING\r\n"
    assert parse_bytes("50:49\n4E47", "hex") == b"PING"
    assert parse_bytes("  ", "hex") == b""
    with pytest.raises(ByteTextError, match="two digits") as e:
        parse_bytes("50 4 47", "hex")
    assert e.value.pos == 3
    with pytest.raises(ByteTextError, match="not a hex digit"):
        parse_bytes("5z", "hex")
    with pytest.raises(ByteTextError, match="two digits"):
        parse_bytes("505", "hex")


@pytest.mark.parametrize(
    "data",
    [b"", b"PING\r\n", b"\x00\x01\xff\xfe", "ünïcode ✓\n".encode(), b"a\\b\tc\x1b[2J", b"\x7f"],
)
def test_escape_round_trips(data: bytes) -> None:
    text = escape_bytes(data)
    assert parse_bytes(text) == data
    assert all(c.isprintable() for c in text)


def test_preview() -> None:
    assert preview(b"") == "0 bytes"
    assert preview(b"A") == "1 byte: 41"
    assert preview(bytes(range(40)), width=12) == "40 bytes: 00 01 02 03 …"
