"""A held message's bytes as editable text, and back: escapes or hex, validated.

Why exact: what the user saves is what the proxy sends, so every byte must round-trip.
The text form keeps printable ASCII and line breaks as they are and writes every other
byte as a Python-style escape (``\\xNN``, ``\\t``, ``\\r``, and ``\\\\`` for a
backslash); a real line break is the byte 0x0a (``\\n`` is accepted too). The hex form
is pairs of hex digits, any whitespace between them ignored. No Textual here.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["EditMode", "EditProblem", "from_text", "to_text"]

EditMode = Literal["text", "hex"]

_NAMED = {ord("\t"): "\\t", ord("\r"): "\\r", ord("\\"): "\\\\"}
_UNESCAPE = {"n": 0x0A, "t": 0x09, "r": 0x0D, "\\": 0x5C}
_HEX = frozenset("0123456789abcdefABCDEF")
HEX_PER_LINE = 16
"""Bytes per line of the hex form."""


class EditProblem(ValueError):
    """The edited text is not valid in its mode; the message says where and why."""


def to_text(data: bytes, mode: EditMode) -> str:
    """``data`` in the editable form of ``mode``."""
    if mode == "hex":
        return "\n".join(
            data[i : i + HEX_PER_LINE].hex(" ") for i in range(0, len(data), HEX_PER_LINE)
        )
    out: list[str] = []
    for byte in data:
        if byte in _NAMED:
            out.append(_NAMED[byte])
        elif byte == 0x0A or 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


def from_text(text: str, mode: EditMode) -> bytes:
    """The bytes ``text`` (in ``mode``) stands for; `EditProblem` if it is invalid."""
    if mode == "hex":
        digits = "".join(text.split())
        bad = next((i for i, c in enumerate(digits) if c not in _HEX), None)
        if bad is not None:
            raise EditProblem(f"not a hex digit: {digits[bad]!r} (digit {bad + 1})")
        if len(digits) % 2:
            raise EditProblem("an odd number of hex digits: each byte is two")
        return bytes.fromhex(digits)
    out = bytearray()
    i, size = 0, len(text)
    while i < size:
        c = text[i]
        if c != "\\":
            code = ord(c)
            if code > 0x7F:
                raise EditProblem(
                    f"character {i + 1} ({c!r}) is not ASCII: write its bytes as \\xNN"
                )
            out.append(code)
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt in _UNESCAPE:
            out.append(_UNESCAPE[nxt])
            i += 2
        elif nxt == "x":
            pair = text[i + 2 : i + 4]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise EditProblem(f"\\x at character {i + 1} needs two hex digits")
            out.append(int(pair, 16))
            i += 4
        else:
            shown = repr(nxt) if nxt else "the end"
            raise EditProblem(
                f"unknown escape at character {i + 1}: \\ then {shown} (\\xNN, \\n, \\t, \\r, \\\\)"
            )
    return bytes(out)
