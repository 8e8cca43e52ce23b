"""A held message's bytes as editable text, and back: escapes or hex, validated.

Why exact: what the user saves is what the proxy sends, so every byte must round-trip.
The text form keeps printable ASCII and line breaks as they are and writes every other
byte as a Python-style escape (``\\xNN``, ``\\t``, ``\\r``, and ``\\\\`` for a
backslash); a real line break is the byte 0x0a (``\\n`` is accepted too). The hex form
is pairs of hex digits, any whitespace between them ignored. No Textual here.
"""

from __future__ import annotations

from typing import Literal

from flowtui.ui.byte_text import ByteTextError, parse_bytes

__all__ = ["EditMode", "EditProblem", "from_text", "to_text"]

EditMode = Literal["text", "hex"]

_NAMED = {ord("\t"): "\\t", ord("\r"): "\\r", ord("\\"): "\\\\"}
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
    # The escapes are the inject dialog's (`byte_text`); an edit adds only that every
    # other character must be ASCII (a byte is written as \xNN, never guessed).
    first = next((i for i, c in enumerate(text) if ord(c) > 0x7F), len(text))
    try:
        data = parse_bytes(text[:first], "text")
    except ByteTextError as e:
        raise EditProblem(_escape_problem(text, e)) from None
    if first < len(text):
        raise EditProblem(
            f"character {first + 1} ({text[first]!r}) is not ASCII: write its bytes as \\xNN"
        )
    return data


def _escape_problem(text: str, error: ByteTextError) -> str:
    at = error.pos + 1
    if error.kind == "x":
        return f"\\x at character {at} needs two hex digits"
    nxt = text[error.pos + 1 : error.pos + 2]
    shown = repr(nxt) if nxt else "the end"
    return f"unknown escape at character {at}: \\ then {shown} (\\xNN, \\n, \\t, \\r, \\\\)"
