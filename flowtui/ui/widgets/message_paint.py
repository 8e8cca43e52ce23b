"""How the message viewer draws one row: a gutter in the message's side colour, then
the row's text, styled by kind (header, hex offset and ASCII column, escapes), with
the search text marked.

Functions of a row and the view's component styles, apart from the widget, so
`MessageView` keeps only scrolling and painting (its state is a `MessageDocument`).
Rows are already clean (`message_rows`: a row's text is a `SafeStr`), and everything
here is `SafeText`: no capture byte is read as markup or reaches the terminal raw.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from flowtui.ui.message_document.viewport import GUTTER, HEX_ROW_WIDTH
from flowtui.ui.safe_text import SafeText, clean
from flowtui.ui.widgets.message_rows import Kind, MessageLike, Row, row_text

__all__ = ["GUTTER", "HEX_ROW_WIDTH", "paint_row"]
_ESCAPES = re.compile(r"\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|\\U[0-9a-f]{8}")


def paint_row(
    row: Row,
    messages: Sequence[MessageLike] | None,
    *,
    base: Style,
    style: Callable[[str], Style],
    console: Console,
    query: str = "",
    current: bool = False,
    held: bool = False,
) -> Strip:
    """`row` as a strip over `base`, styled with `style` (the view's component styles).

    `query`: the search text to mark in the row, empty when the row is no match;
    `current`: the row is the current match; `held`: the row's message is held by the
    proxy (its header is drawn as such). Notes are never marked.
    """
    kind, number, payload = row
    if kind == Kind.NOTE:
        assert isinstance(payload, str)
        text = SafeText(clean("  "), style=base, end="", no_wrap=True)
        text.append(payload, style=style("message-view--note"))
        return Strip(text.render(console), text.cell_len).apply_style(base)
    assert messages is not None
    message = messages[number]
    side = style("message-view--client" if message.from_client else "message-view--server")
    line = row_text(row, messages)
    text = SafeText(line, style=base, end="", no_wrap=True)
    if kind == Kind.HEADER:
        text.stylize(side + style("message-view--header"))
        if held:
            text.stylize(style("message-view--held"))
    elif kind == Kind.HEX:
        text.stylize(style("message-view--offset"), 0, 8)
        text.stylize(side, 60)
    else:
        escape = style("message-view--escape")
        for m in _ESCAPES.finditer(line):
            text.stylize(escape, m.start(), m.end())
    if query:
        hit = style("message-view--current-match" if current else "message-view--match")
        _highlight(text, line, query, hit)
    gutter = Segment(GUTTER, base + side)
    # Rich yields an unstyled segment for a Text without spans: put `base` under all.
    segments = [gutter, *text.render(console)]
    return Strip(segments, len(GUTTER) + text.cell_len).apply_style(base)


def _highlight(text: SafeText, line: str, query: str, hit: Style) -> None:
    needle = query.lower()
    lowered = line.lower()
    pos = lowered.find(needle)
    while pos >= 0 and needle:
        text.stylize(hit, pos, pos + len(needle))
        pos = lowered.find(needle, pos + len(needle))
