"""Bytes as safe display lines: hex dump rows, escaped text lines, and the binary guess.

Pure functions with no Textual import, so the message viewer can build thousands of
rows cheaply and the tests can check every byte value without an app. Nothing returned
here contains a control character: hex rows use `.` for every non-printable byte, and
text lines go through `safe_text.clean()`.
"""

from __future__ import annotations

from itertools import accumulate

from rich.cells import cell_len, chop_cells

from flowtui.sanitize import split_at
from flowtui.ui.safe_text import SafeStr, clean

__all__ = [
    "HEX_WIDTH",
    "ascii_column",
    "hex_row",
    "hex_row_count",
    "looks_binary",
    "text_lines",
    "wrap_line",
]

HEX_WIDTH = 16
"""Bytes per hex dump row (two groups of 8)."""

# Printable ASCII stays itself in the ASCII column; every other byte becomes ".".
_ASCII_TABLE = bytes(b if 0x20 <= b < 0x7F else ord(".") for b in range(256))

# Bytes that count against "text" when guessing: C0 controls except \t \n \r, DEL.
_CONTROL_BYTES = bytes(b for b in [*range(0x20), 0x7F] if b not in (0x09, 0x0A, 0x0D))

BINARY_SAMPLE = 4096
"""How many leading bytes of a message `looks_binary` inspects."""

BINARY_THRESHOLD = 0.15
"""Above this share of control or invalid-UTF-8 bytes, a message is shown as hex."""


def ascii_column(chunk: bytes) -> str:
    """The ASCII column of a hex row: printable ASCII as is, everything else `.`."""
    return chunk.translate(_ASCII_TABLE).decode("ascii")


def hex_row(data: bytes, offset: int) -> SafeStr:
    """One hex dump row for `data[offset:offset + 16]`.

    Layout: 8-digit hex offset, two groups of 8 hex bytes, then the ASCII column
    between bars, padded so the bars line up on a short last row.
    """
    chunk = data[offset : offset + HEX_WIDTH]
    left = chunk[:8].hex(" ")
    right = chunk[8:].hex(" ")
    return clean(f"{offset:08x}  {left:<23}  {right:<23}  |{ascii_column(chunk):<16}|")


def hex_row_count(size: int) -> int:
    """How many hex rows `size` bytes take (an empty message still takes one)."""
    return max(1, -(-size // HEX_WIDTH))


def looks_binary(data: bytes) -> bool:
    """Guess whether `data` reads better as hex than as text.

    Counts control bytes and bytes that are not valid UTF-8 in the first
    `BINARY_SAMPLE` bytes; more than `BINARY_THRESHOLD` of them means binary.
    """
    sample = data[:BINARY_SAMPLE]
    if not sample:
        return False
    bad = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    bad += sample.decode("utf-8", "replace").count("\ufffd")
    if len(data) > len(sample):
        bad -= _cut_tail(sample)
    # One odd byte in a short message (a cut "café") is still text.
    return bad > max(1, BINARY_THRESHOLD * len(sample))


_UTF8_LEADS = ((2, 0b110), (3, 0b1110), (4, 0b11110))


def _cut_tail(sample: bytes) -> int:
    """1 if `sample` ends inside a UTF-8 sequence (cut by sampling, not binary), else 0."""
    for back in range(1, min(4, len(sample)) + 1):
        byte = sample[-back]
        if byte >> 6 != 0b10:  # not a continuation byte: the sequence starts here
            need = (
                2
                if byte >> 5 == 0b110
                else 3
                if byte >> 4 == 0b1110
                else 4
                if byte >> 3 == 0b11110
                else 1
            )
            return 1 if need > back else 0
    return 0


def wrap_line(line: SafeStr, width: int) -> list[SafeStr]:
    """`line` cut into pieces at most `width` cells wide (at least one piece)."""
    width = max(1, width)
    if line.isascii():
        if len(line) <= width:
            return [line]
        return split_at(line, [*range(width, len(line), width), len(line)])
    if cell_len(line) <= width:
        return [line]
    return split_at(line, accumulate(len(piece) for piece in chop_cells(line, width)))


def text_lines(data: bytes, width: int) -> list[SafeStr]:
    """`data` as safe text lines: UTF-8 where valid, `\\xNN` escapes elsewhere.

    Splits on `\\n` (a `\\r` before it is shown as `\\x0d`), cleans each line and wraps
    it at `width` cells, so a 1 MB line becomes many short rows rather than one
    unrenderable one. A trailing newline does not produce an empty last line.
    """
    parts = data.split(b"\n")
    if len(parts) > 1 and parts[-1] == b"":
        parts.pop()
    out: list[SafeStr] = []
    for part in parts:
        out.extend(wrap_line(clean(part.decode("utf-8", "backslashreplace")), width))
    return out
