"""The text and hex views: the body as it is, made safe.

Text decodes with the content type's charset (UTF-8 when there is none), shows every
byte that does not decode as `\\xNN` and every control character as a visible escape,
as the message viewer's text mode does. Hex is the message viewer's hex dump.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

from flowtui.ui.contentviews.base import Context, line
from flowtui.ui.safe_text import SafeText, clean
from flowtui.ui.widgets.hexdump import HEX_WIDTH, hex_row

__all__ = ["hex_view", "text_view"]


def _ascii_compatible(charset: str) -> bool:
    """Whether `\\n` is the byte 0x0a in `charset` and never part of another character
    (false for UTF-16/32, whose text must be decoded as a whole)."""
    try:
        return codecs.encode("\n", charset) == b"\n" and not charset.startswith("utf_16")
    except (LookupError, ValueError, UnicodeError):
        return False


def utf8_cut(data: bytes) -> int:
    """How many bytes at the end of `data` are the start of a UTF-8 character cut off
    (0 to 3): a preview's head should not end in `\\xe2\\x9c`."""
    for back in range(1, min(3, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: a character starts here
            need = (
                2
                if byte >> 5 == 0b110
                else 3
                if byte >> 4 == 0b1110
                else 4
                if byte >> 3 == 0b11110
                else 1
            )
            return back if need > back else 0
    return 0


def text_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """The body as text lines, split on `\\n`, decoded line by line (so a 100 MB body
    gives its first lines at once). A final newline gives no empty last line; in a
    preview, a character cut by the end of the head is left out."""
    charset = ctx.charset or "utf-8"
    if not ctx.complete and charset == "utf-8":
        data = data[: len(data) - utf8_cut(data)]
    if not _ascii_compatible(charset):
        text = data.decode(charset, "backslashreplace")
        parts = text.split("\n")
        if len(parts) > 1 and parts[-1] == "":
            parts.pop()
        for part in parts:
            yield line((clean(part), ""))
        return
    if not data:
        return
    start = 0
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    while True:
        stop = data.find(b"\n", start, end)
        piece = data[start:end] if stop < 0 else data[start:stop]
        yield line((clean(piece.decode(charset, "backslashreplace")), ""))
        if stop < 0:
            return
        start = stop + 1


def hex_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """The hex dump: 16 bytes a line with offsets and an ASCII column."""
    for offset in range(0, len(data), HEX_WIDTH):
        yield line((hex_row(data, offset), ""))
