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


def text_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """The body as text lines, split on `\\n`, decoded line by line (so a 100 MB body
    gives its first lines at once). A final newline gives no empty last line."""
    charset = ctx.charset or "utf-8"
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
