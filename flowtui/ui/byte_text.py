"""Bytes typed as text: text with escapes, or hex, for messages a user writes (inject;
the held-message editor reads its text form with these escapes too).

Why a module of its own: the rules (which escapes, how an error is pointed at) are
tested without a UI, and the dialog only shows what they say. No Textual here.

- *Text*: characters as UTF-8, with the escapes ``\\xNN`` (one byte), ``\\n``, ``\\r``,
  ``\\t`` and ``\\\\``. Any other backslash is an error, so a typo never sends bytes
  nobody meant.
- *Hex*: pairs of hex digits; spaces, colons and line breaks between them are ignored
  (``48 45 4c 4c 4f``, ``48:45``, ``48454c``).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["ByteTextError", "ByteTextMode", "escape_bytes", "parse_bytes", "preview"]

ByteTextMode = Literal["text", "hex"]

_SIMPLE = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\"}
_HEX = frozenset("0123456789abcdefABCDEF")
_HEX_SEPARATORS = frozenset(" :\t\r\n")


class ByteTextError(ValueError):
    """What was typed is not bytes in its mode; `pos` is where it goes wrong, `kind`
    what: ``escape`` (a backslash not followed by a known escape), ``x`` (``\\x``
    without two hex digits) or ``hex`` (in the hex mode)."""

    def __init__(self, msg: str, pos: int, kind: str = "hex") -> None:
        super().__init__(f"{msg} at {pos}")
        self.msg = msg
        self.pos = pos
        self.kind = kind


def parse_bytes(text: str, mode: ByteTextMode = "text") -> bytes:
    """The bytes ``text`` stands for in ``mode``; `ByteTextError` otherwise."""
    return _parse_hex(text) if mode == "hex" else _parse_text(text)


def _parse_text(text: str) -> bytes:
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\":
            j = text.find("\\", i)
            j = n if j < 0 else j
            out += text[i:j].encode("utf-8", "surrogatepass")
            i = j
            continue
        if i + 1 >= n:
            raise ByteTextError("a lone backslash (type \\\\ for one)", i, "escape")
        e = text[i + 1]
        if e in _SIMPLE:
            out += _SIMPLE[e]
            i += 2
        elif e == "x":
            digits = text[i + 2 : i + 4]
            if len(digits) != 2 or not set(digits) <= _HEX:
                raise ByteTextError("\\x needs two hex digits", i, "x")
            out.append(int(digits, 16))
            i += 4
        else:
            raise ByteTextError(f"unknown escape \\{e} (\\xNN \\n \\r \\t \\\\)", i, "escape")
    return bytes(out)


def _parse_hex(text: str) -> bytes:
    out = bytearray()
    high: int | None = None
    high_pos = 0
    for i, c in enumerate(text):
        if c in _HEX_SEPARATORS:
            if high is not None:
                raise ByteTextError("a hex byte needs two digits", high_pos)
            continue
        if c not in _HEX:
            raise ByteTextError(f"not a hex digit: {c!r}", i)
        if high is None:
            high, high_pos = int(c, 16), i
        else:
            out.append(high * 16 + int(c, 16))
            high = None
    if high is not None:
        raise ByteTextError("a hex byte needs two digits", high_pos)
    return bytes(out)


def escape_bytes(data: bytes) -> str:
    """The text that `parse_bytes` reads back as ``data``: UTF-8 where it decodes and
    is printable, escapes for everything else."""
    out: list[str] = []
    text = data.decode("utf-8", "surrogateescape")
    for c in text:
        code = ord(c)
        if c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F or not c.isprintable():
            out.extend(f"\\x{b:02x}" for b in c.encode("utf-8"))
        else:
            out.append(c)
    return "".join(out)


def preview(data: bytes, width: int = 48) -> str:
    """``12 bytes: 48 45 4c 4c 4f 0d 0a …`` (the first bytes in hex)."""
    size = f"{len(data)} byte{'s' if len(data) != 1 else ''}"
    if not data:
        return size
    shown = " ".join(f"{b:02x}" for b in data[: width // 3])
    return f"{size}: {shown}{' …' if len(data) > width // 3 else ''}"
