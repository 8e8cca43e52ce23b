"""The flow list's columns: how a `FlowSummary` becomes cells of a fixed width.

Kept apart from the widget so the formatting is plain, testable functions. A cell is
a `SafeStr`: every field of a summary, read from a capture, a stored summary or a live
proxy, goes through `clean()` (text) or `number()` (counts) here; the widget only pads
and styles, and `fit` takes only safe text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from rich._emoji_codes import EMOJI
from rich.cells import cell_len, set_cell_size

from flowtui.store import FlowSummary
from flowtui.ui.safe_text import SafeStr, clean, concat, number

__all__ = [
    "COLUMNS",
    "Column",
    "content_type_cell",
    "count",
    "endpoints",
    "fit",
    "format_bytes",
    "format_duration",
    "format_relative",
    "format_time",
    "format_tls",
    "layout",
    "mark_emoji",
    "mark_sign",
    "request_line",
    "state_signs",
    "status_cell",
    "status_class",
]


def mark_emoji(marked: str) -> str | None:
    """The emoji of a shortcode (``:grapes:`` → 🍇) that Rich's emoji table knows, as
    mitmproxy's marks take; ``:default:`` is `●`; None for anything else."""
    if marked == ":default:":
        return "●"
    if len(marked) > 2 and marked.startswith(":") and marked.endswith(":"):
        return EMOJI.get(marked[1:-1])
    return None


def mark_sign(marked: str) -> SafeStr:
    """The sign for a flow's mark (empty when unmarked): its emoji, a single character
    as itself, anything else `●`."""
    if not marked:
        return clean("")
    emoji = mark_emoji(marked)
    if emoji is not None:
        return clean(emoji)
    if len(marked) == 1:
        sign = clean(marked)
        return sign if cell_len(sign) <= 2 else clean("●")
    return clean("●")


def state_signs(s: FlowSummary) -> SafeStr:
    """The state column: mark, intercepted, killed or error, modified, live, replay."""
    signs: str = mark_sign(s.marked)
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
    if s.replay:
        signs += "↻"
    return clean(signs)


def format_bytes(n: int | None) -> SafeStr:
    """Human sizes: `512`, `1.2k`, `3.4M`, `-` when unknown (`?` when not a number)."""
    if n is None or n < 0:
        return clean("-")
    if n < 1000:
        return number(n)
    value = float(n)
    for unit in ("k", "M", "G", "T"):
        value /= 1000.0
        if value < 999.95:
            return clean(f"{value:.1f}{unit}" if value < 99.95 else f"{value:.0f}{unit}")
    return clean(f"{value / 1000.0:.0f}P")


def format_duration(seconds: float | None) -> SafeStr:
    """`850ms`, `1.23s`, `2m03s`, `1h02m`, `-` when unknown, `?` when not a number of
    seconds (NaN, infinite: a capture may hold such timestamps)."""
    if seconds is None:
        return clean("-")
    if not math.isfinite(seconds):
        return clean("?")
    if seconds < 0:
        return clean("-")
    if seconds < 1:
        return clean(f"{seconds * 1000:.0f}ms")
    if seconds < 60:
        return clean(f"{seconds:.2f}s")
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return clean(f"{minutes}m{secs:02d}s")
    hours, minutes = divmod(minutes, 60)
    return clean(f"{hours}h{minutes:02d}m")


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


def format_time(ts: float | None, tz: tzinfo | None) -> SafeStr:
    """`HH:MM:SS.mmm` in `tz` (the local zone when None)."""
    if ts is None:
        return clean("-")
    try:
        dt = datetime.fromtimestamp(ts, tz or UTC)
        if tz is None:
            dt = dt.astimezone()
    except (OverflowError, OSError, ValueError, TypeError):
        return clean("?")
    return clean(dt.strftime("%H:%M:%S.") + f"{dt.microsecond // 1000:03d}")


def format_tls(s: FlowSummary) -> SafeStr:
    """The TLS versions `~tls` matches: one when the sides agree, `1.2/1.3` (client, then
    server) when they differ, so a row never hides the version a filter selected it by."""
    versions = list(dict.fromkeys(v for v in s.tls if v))
    if len(versions) > 1:
        return clean("/".join(v.removeprefix("TLSv") for v in versions), max_len=40)
    return clean(versions[0] if versions else s.tls_version, max_len=40)


def endpoints(s: FlowSummary) -> SafeStr:
    """`client → server  detail`, cleaned and bounded."""
    text = f"{s.client} → {s.server}"
    if s.detail:
        text += f"  {s.detail}"
    return clean(text, max_len=500)


def count(n: int | None) -> SafeStr:
    """A message count, `-` where the type has none."""
    return clean("-") if n is None else number(n)


def request_line(s: FlowSummary) -> SafeStr:
    """What the wide column shows: for HTTP `METHOD host/path` (cut at the end, so inside
    the path and never the host while the host fits), for DNS `name → first answer`,
    else `client → server  detail`."""
    if s.type == "http" and s.method is not None:
        method = clean(s.method, max_len=20)
        host = clean(s.host or "", max_len=300)
        path = clean(s.path or "", max_len=2000)
        return concat(method, clean(" "), host, path)
    if s.type == "dns" and s.dns_name is not None:
        name = clean(s.dns_name, max_len=300)
        n = s.dns_answers
        if n is None:
            return name
        if not n or s.dns_answer is None:
            return concat(name, clean(f"  {n} answer" if n == 1 else f"  {n} answers"))
        more = clean(f" (+{n - 1} more)" if n > 1 else "")
        return concat(name, clean(" → "), clean(s.dns_answer, max_len=200), more)
    return endpoints(s)


def status_cell(s: FlowSummary) -> SafeStr:
    """The HTTP status code (`-` without a response), blank for other flows."""
    if s.type != "http":
        return clean("")
    return clean("-") if s.status is None else number(s.status)


def status_class(s: FlowSummary) -> str | None:
    """The component class colouring a status code by its class (1xx…5xx)."""
    if s.type != "http" or s.status is None or not 100 <= s.status < 600:
        return None
    return f"flowlist--status-{s.status // 100}xx"


def content_type_cell(s: FlowSummary) -> SafeStr:
    """The response's media type without its parameters (`application/json`); for a
    WebSocket its message count; for DNS the query type and the response code."""
    if s.type == "dns":
        rcode = "-" if s.dns_rcode is None else s.dns_rcode
        return clean(f"{s.dns_type or '?'} {rcode}", max_len=80)
    if s.websocket:
        return clean(f"websocket {count(s.messages)}")
    if not s.content_type:
        return clean("")
    return clean(s.content_type[0].split(";", 1)[0].strip().lower(), max_len=80)


def size_down(s: FlowSummary) -> SafeStr:
    """Bytes down: the response body for HTTP, else what the server sent."""
    if s.type == "http":
        return format_bytes(s.response_size)
    return format_bytes(s.bytes_down)


@dataclass(frozen=True)
class Column:
    """One column: its header, width (0 = takes the rest), alignment and cell text."""

    key: str
    header: SafeStr
    width: int
    cell: Callable[[FlowSummary, int, tzinfo | None], SafeStr]
    right: bool = False
    priority: int = 0
    """Columns with a higher priority are dropped first on narrow screens."""
    style: Callable[[FlowSummary], str | None] | None = None
    """The component class of a cell's style (e.g. a status code's colour), if any."""


COLUMNS: tuple[Column, ...] = (
    Column("index", clean("#"), 5, lambda s, n, tz: number(n)),
    Column("time", clean("start"), 12, lambda s, n, tz: format_time(s.start, tz), priority=4),
    Column("type", clean("type"), 4, lambda s, n, tz: clean(s.type, max_len=20), priority=3),
    Column("endpoints", clean("request · client → server"), 0, lambda s, n, tz: request_line(s)),
    Column("status", clean("code"), 4, lambda s, n, tz: status_cell(s), True, 0, status_class),
    Column("ctype", clean("content/dns"), 16, lambda s, n, tz: content_type_cell(s), priority=2),
    Column("tls", clean("tls"), 7, lambda s, n, tz: format_tls(s), priority=7),
    Column(
        "messages", clean("msgs"), 5, lambda s, n, tz: count(s.messages), right=True, priority=5
    ),
    Column("up", clean("up"), 6, lambda s, n, tz: format_bytes(s.bytes_up), True, 6),
    Column("down", clean("size"), 6, lambda s, n, tz: size_down(s), right=True),
    Column("duration", clean("dur"), 7, lambda s, n, tz: format_duration(s.duration), True, 1),
    Column("state", clean("state"), 6, lambda s, n, tz: state_signs(s)),
)
"""The flow list's columns, left to right."""

MIN_FLEX = 28
"""The narrowest the request / client → server column may get before other columns are
dropped (an HTTP row's method, host and the start of its path)."""


PROTOCOL_COLUMNS = frozenset({"status", "ctype"})
"""The columns only HTTP and DNS flows fill: left out while none is listed, so a TCP
capture gives their room to the endpoints."""


def layout(width: int, protocols: bool = True) -> list[tuple[Column, int]]:
    """The columns that fit in `width` cells, each with its width (1-cell gaps);
    `protocols`: whether HTTP or DNS flows are listed (else their columns stay out)."""
    cols = [c for c in COLUMNS if protocols or c.key not in PROTOCOL_COLUMNS]
    while True:
        fixed = sum(c.width for c in cols) + len(cols) - 1
        flex = width - fixed
        droppable = [c for c in cols if c.priority]
        if flex >= MIN_FLEX or not droppable:
            break
        cols.remove(max(droppable, key=lambda c: c.priority))
    return [(c, c.width or max(flex, 1)) for c in cols]


def fit(text: SafeStr, width: int, right: bool = False) -> SafeStr:
    """`text` cut (with `…`) or padded to exactly `width` cells."""
    if cell_len(text) > width:
        cut = set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
        return clean(cut)
    pad = clean(" " * (width - cell_len(text)))
    return concat(pad, text) if right else concat(text, pad)
