"""The flow list's columns: how a `FlowSummary` becomes cells of a fixed width.

Kept apart from the widget so the formatting is plain, testable functions. Every
captured string goes through `clean()` here; the widget only pads and styles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from rich.cells import cell_len, set_cell_size

from flowtui.core.store import FlowSummary
from flowtui.ui.safe_text import clean

__all__ = [
    "COLUMNS",
    "Column",
    "format_bytes",
    "format_duration",
    "format_relative",
    "format_time",
    "layout",
    "mark_sign",
    "state_signs",
]

MARK_EMOJI = {
    ":default:": "●",
    ":grapes:": "🍇",
    ":red_circle:": "🔴",
    ":star:": "⭐",
    ":fire:": "🔥",
    ":heart:": "❤",
    ":check_mark:": "✔",
    ":warning:": "⚠",
    ":apple:": "🍎",
    ":lemon:": "🍋",
}
"""Marks shown as an emoji; other shortcodes show `●`, single characters themselves."""


def mark_sign(marked: str) -> str:
    """The sign for a flow's mark (empty when unmarked)."""
    if not marked:
        return ""
    if marked in MARK_EMOJI:
        return MARK_EMOJI[marked]
    if len(marked) == 1:
        sign = clean(marked)
        return sign if cell_len(sign) <= 2 else "●"
    return "●"


def state_signs(s: FlowSummary) -> str:
    """The state column: mark, intercepted, killed or error, modified, live."""
    signs = mark_sign(s.marked)
    if s.intercepted:
        signs += "⏸"
    if s.killed:
        signs += "✗"
    elif s.error:
        signs += "!"
    if s.modified:
        signs += "✎"
    if s.live:
        signs += "◉"
    return signs


def format_bytes(n: int | None) -> str:
    """Human sizes: `512`, `1.2k`, `3.4M`, `-` when unknown."""
    if n is None or n < 0:
        return "-"
    if n < 1000:
        return str(n)
    value = float(n)
    for unit in ("k", "M", "G", "T"):
        value /= 1000.0
        if value < 999.95:
            return f"{value:.1f}{unit}" if value < 99.95 else f"{value:.0f}{unit}"
    return f"{value / 1000.0:.0f}P"


def format_duration(seconds: float | None) -> str:
    """`850ms`, `1.23s`, `2m03s`, `1h02m`, `-` when unknown, `?` when not a number of
    seconds (NaN, infinite: a capture may hold such timestamps)."""
    if seconds is None:
        return "-"
    if not math.isfinite(seconds):
        return "?"
    if seconds < 0:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_relative(ts: float, t0: float | None) -> str:
    """`ts` as seconds after `t0`, like `+1.250s`; `?` when that is not a number (no
    `t0`, or a NaN or infinite timestamp, which a capture may hold)."""
    if t0 is None:
        return "?"
    try:
        rel = ts - t0
    except (TypeError, OverflowError):
        return "?"
    return f"{rel:+.3f}s" if math.isfinite(rel) else "?"


def format_time(ts: float | None, tz: tzinfo | None) -> str:
    """`HH:MM:SS.mmm` in `tz` (the local zone when None)."""
    if ts is None:
        return "-"
    try:
        dt = datetime.fromtimestamp(ts, tz or UTC)
        if tz is None:
            dt = dt.astimezone()
    except (OverflowError, OSError, ValueError):
        return "?"
    return dt.strftime("%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def _endpoints(s: FlowSummary) -> str:
    text = f"{s.client} → {s.server}"
    if s.detail:
        text += f"  {s.detail}"
    return clean(text, max_len=500)


@dataclass(frozen=True)
class Column:
    """One column: its header, width (0 = takes the rest), alignment and cell text."""

    key: str
    header: str
    width: int
    cell: Callable[[FlowSummary, int, tzinfo | None], str]
    right: bool = False
    priority: int = 0
    """Columns with a higher priority are dropped first on narrow screens."""


COLUMNS: tuple[Column, ...] = (
    Column("index", "#", 5, lambda s, n, tz: str(n)),
    Column("time", "start", 12, lambda s, n, tz: format_time(s.start, tz), priority=1),
    Column("type", "type", 4, lambda s, n, tz: clean(s.type, max_len=8)),
    Column("endpoints", "client → server", 0, lambda s, n, tz: _endpoints(s)),
    Column("tls", "tls", 7, lambda s, n, tz: clean(s.tls_version), priority=4),
    Column(
        "messages",
        "msgs",
        5,
        lambda s, n, tz: "-" if s.messages is None else str(s.messages),
        right=True,
        priority=2,
    ),
    Column("up", "up", 6, lambda s, n, tz: format_bytes(s.bytes_up), right=True),
    Column("down", "down", 6, lambda s, n, tz: format_bytes(s.bytes_down), right=True),
    Column("duration", "dur", 7, lambda s, n, tz: format_duration(s.duration), True, 3),
    Column("state", "state", 6, lambda s, n, tz: state_signs(s)),
)
"""The flow list's columns, left to right."""

MIN_FLEX = 22
"""The narrowest the client → server column may get before other columns are dropped."""


def layout(width: int) -> list[tuple[Column, int]]:
    """The columns that fit in `width` cells, each with its width (1-cell gaps)."""
    cols = list(COLUMNS)
    while True:
        fixed = sum(c.width for c in cols) + len(cols) - 1
        flex = width - fixed
        droppable = [c for c in cols if c.priority]
        if flex >= MIN_FLEX or not droppable:
            break
        cols.remove(max(droppable, key=lambda c: c.priority))
    return [(c, c.width or max(flex, 1)) for c in cols]


def fit(text: str, width: int, right: bool = False) -> str:
    """`text` cut (with `…`) or padded to exactly `width` cells."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad
