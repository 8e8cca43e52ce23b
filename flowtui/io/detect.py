"""Telling capture formats apart by their first bytes, never by the file name."""

from __future__ import annotations

import enum

from flowtui.io.native_format import MAGIC

__all__ = ["PEEK_SIZE", "CaptureFormat", "UnsupportedFormat", "detect_format"]

PEEK_SIZE = 16
"""How many leading bytes detection looks at."""

_BOM = b"\xef\xbb\xbf"


class CaptureFormat(enum.Enum):
    """The capture formats flowtui reads."""

    EMPTY = "empty"
    """A 0-byte file: a valid capture without flows (mitmdump writes these)."""
    MITMPROXY = "mitmproxy"
    """mitmproxy's tnetstring records (``mitmdump -w``)."""
    FLOWTUI = "flowtui"
    """flowtui's msgpack format."""
    HAR = "har"
    """An HTTP Archive (JSON with ``log.entries``), read as HTTP flows (`flowtui.io.har`)."""


class UnsupportedFormat(ValueError):
    """The content is recognisably something else, or nothing flowtui knows."""


def detect_format(head: bytes) -> CaptureFormat:
    """Classify a capture from its first bytes (up to ``PEEK_SIZE``).

    Raises UnsupportedFormat with a message saying what the data looks like.
    """
    if not head:
        return CaptureFormat.EMPTY
    if head.startswith(MAGIC) or (len(head) < len(MAGIC) and MAGIC.startswith(head)):
        return CaptureFormat.FLOWTUI
    if head[:1].isdigit():
        return CaptureFormat.MITMPROXY
    stripped = head.removeprefix(_BOM).lstrip(b" \t\r\n")
    if stripped.startswith(b"{"):
        return CaptureFormat.HAR
    if stripped.startswith(b"["):
        raise UnsupportedFormat("looks like JSON, but not a HAR file (an object with log.entries)")
    if head.startswith(b"\x1f\x8b"):
        raise UnsupportedFormat("gzip-compressed data: decompress it first (gunzip)")
    if head.startswith((b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x0a\x0d\x0d\x0a")):
        raise UnsupportedFormat("a pcap/pcapng packet capture, not a flow capture")
    raise UnsupportedFormat(f"not a capture file (starts with {head[:8]!r})")
