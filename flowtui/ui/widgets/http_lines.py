"""The lines of the Request and Response panes: an HTTP message or a DNS message as
`SafeText` rows (first line, header table, trailers, timings; DNS record tables), and
which body to hand to the content views.

Plain functions (no widget), so they are tested without an app. Every captured field
goes through `clean()`; header values are wrapped to the pane's width, and repeated
headers keep their order (the header list is read as sent, `fields`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from rich.cells import cell_len

from flowtui.core import DNSFlow, Flow, HTTPFlow
from flowtui.core.dns import Message as DNSMessage
from flowtui.core.dns import ResourceRecord
from flowtui.core.dns_codes import classes, op_codes, response_codes, types
from flowtui.core.http import Message as HTTPMessage
from flowtui.core.http import Request, Response
from flowtui.ui.safe_text import SafeStr, SafeText, bytes_to_text, clean

__all__ = ["Body", "Side", "body_of", "detail_lines", "kv_table", "wrap_cells"]

Side = Literal["request", "response"]

NAME_STYLE = "bold"
HEADING_STYLE = "bold underline"
MUTED = "dim"
MAX_NAME = 32
"""Header names longer than this take their own width no more (the value wraps)."""


@dataclass(frozen=True)
class Body:
    """A body to show through the content views."""

    data: bytes
    """The decoded body (or as sent, when its content encoding failed)."""
    content_type: str | None
    """The Content-Type header's value."""
    complete: bool
    """False when `data` is only the head of the body (a preview of a big record)."""
    problem: SafeStr | None
    """Why the content encoding could not be undone (the body is shown as sent)."""
    size: int
    """The body's size as stored."""


def wrap_cells(text: SafeStr, width: int) -> list[SafeStr]:
    """`text` cut into pieces of at most `width` cells (at least one piece)."""
    width = max(width, 1)
    if cell_len(text) <= width:
        return [text]
    pieces: list[SafeStr] = []
    line, used = "", 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width and line:
            pieces.append(clean(line))
            line, used = "", 0
        line += ch
        used += w
    pieces.append(clean(line))
    return pieces


def kv_table(pairs: Iterable[tuple[SafeStr, SafeStr]], width: int) -> list[SafeText]:
    """A name/value table: names padded to one column, values wrapped under themselves."""
    rows = list(pairs)
    if not rows:
        return []
    name_w = min(max(cell_len(n) for n, _ in rows), MAX_NAME)
    value_w = max(width - name_w - 2, 10)
    out: list[SafeText] = []
    for name, value in rows:
        names = wrap_cells(name, name_w)
        values = wrap_cells(value, value_w)
        for i in range(max(len(names), len(values))):
            n = names[i] if i < len(names) else clean("")
            line = SafeText()
            line.append(n, NAME_STYLE)
            line.append(clean(" " * (name_w - cell_len(n) + 2)))
            if i < len(values):
                line.append(values[i])
            out.append(line)
    return out


def _heading(text: str) -> SafeText:
    return SafeText(clean(text), HEADING_STYLE)


def _fields(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[SafeStr, SafeStr]]:
    return [(bytes_to_text(k, max_len=200), bytes_to_text(v, max_len=64 << 10)) for k, v in headers]


def _time(ts: float | None) -> str:
    if ts is None or not isinstance(ts, int | float) or not math.isfinite(ts):
        return "-"
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
    except (OverflowError, OSError, ValueError):
        return "?"


def _ms(a: float | None, b: float | None) -> str:
    try:
        if a is None or b is None or not math.isfinite(b - a):
            return ""
        return f"  (+{(b - a) * 1000:.1f} ms)"
    except TypeError:
        return ""


def body_of(message: HTTPMessage, complete: bool = True) -> Body | None:
    """The body to render (None without one); a content encoding that fails (or a
    preview's cut compressed body) shows the body as sent, saying why."""
    raw = message.raw_content
    if raw is None:
        return None
    problem: SafeStr | None = None
    data = raw
    coding = message.headers.get("content-encoding")
    if coding:
        try:
            data = message.get_content(strict=True) or b""
        except ValueError as exc:
            data = raw
            why = "the body is cut (a preview)" if not complete else str(exc)
            problem = clean(f"content encoding {coding!r} not undone: {why}", max_len=300)
    ctype = message.headers.get("content-type")
    return Body(data, ctype, complete, problem, len(raw))


def _first_line(flow: HTTPFlow, side: Side) -> SafeText:
    line = SafeText()
    if side == "request":
        r: Request = flow.request
        line.append(clean(r.method, max_len=40), "bold")
        line.append(clean(" "))
        line.append(clean(r.pretty_url, max_len=4000))
        line.append(clean(f" {r.http_version}", max_len=40), MUTED)
    else:
        resp = flow.response
        assert resp is not None
        line.append(clean(resp.http_version, max_len=40), MUTED)
        line.append(clean(f" {resp.status_code} "), "bold")
        line.append(clean(resp.reason, max_len=200))
    return line


def _http_lines(flow: HTTPFlow, side: Side, width: int) -> list[SafeText]:
    message: HTTPMessage | None = flow.request if side == "request" else flow.response
    if message is None:
        why = flow.error.msg if flow.error is not None else "no response (yet)"
        return [SafeText(clean(f"No response: {why}", max_len=500), MUTED)]
    lines = [_first_line(flow, side), _timing(flow, message), SafeText()]
    fields = _fields(message.headers.fields)
    lines.append(_heading(f"Headers ({len(fields)})"))
    lines.extend(kv_table(fields, width) or [SafeText(clean("(none)"), MUTED)])
    if isinstance(message, Request) and message.query:
        lines.append(SafeText())
        pairs = [(clean(k, 200), clean(v, 64 << 10)) for k, v in message.query.items(multi=True)]
        lines.append(_heading(f"Query ({len(pairs)})"))
        lines.extend(kv_table(pairs, width))
    trailers = message.trailers
    if trailers is not None:
        lines.append(SafeText())
        lines.append(_heading("Trailers"))
        lines.extend(kv_table(_fields(trailers.fields), width))
    return lines


def _timing(flow: HTTPFlow, message: HTTPMessage) -> SafeText:
    """One line: when the message started, how long after the request (a response),
    and how long it took to arrive."""
    start, end = message.timestamp_start, message.timestamp_end
    text = f"started {_time(start)}"
    if isinstance(message, Response):
        text += _ms(flow.request.timestamp_start, start).replace("(+", "(after the request: +")
    took = _ms(start, end).strip().strip("()+")
    text += f" · took {took}" if took else " · not finished"
    return SafeText(clean(text), MUTED)


def _record_rows(records: Sequence[ResourceRecord]) -> list[SafeText]:
    rows: list[list[SafeStr]] = [[clean(h) for h in ("name", "type", "class", "ttl", "data")]]
    for r in records:
        data = str(r)  # odd data reads as hex, never raises
        rows.append(
            [
                clean(r.name, 300),
                clean(types.to_str(r.type)),
                clean(classes.to_str(r.class_)),
                clean(str(r.ttl)),
                clean(data, 2000),
            ]
        )
    return _grid(rows)


def _grid(rows: list[list[SafeStr]]) -> list[SafeText]:
    widths = [max(cell_len(row[i]) for row in rows) for i in range(len(rows[0]))]
    widths = [min(w, 60) for w in widths]
    out: list[SafeText] = []
    for n, row in enumerate(rows):
        line = SafeText()
        for i, cell in enumerate(row):
            if i:
                line.append(clean("  "))
            text = cell if i == len(row) - 1 else clean(cell[: widths[i]])
            line.append(text, NAME_STYLE if n == 0 else "")
            if i < len(row) - 1:
                line.append(clean(" " * (widths[i] - cell_len(text))))
        out.append(line)
    return out


def _dns_lines(flow: DNSFlow, side: Side) -> list[SafeText]:
    message: DNSMessage | None = flow.request if side == "request" else flow.response
    if message is None:
        why = flow.error.msg if flow.error is not None else "no response (yet)"
        return [SafeText(clean(f"No response: {why}", max_len=500), MUTED)]
    head = SafeText()
    head.append(clean(f"id {message.id}  {op_codes.to_str(message.op_code)}"), "bold")
    if side == "response":
        head.append(clean(f"  {response_codes.to_str(message.response_code)}"), "bold")
    flags = [
        name
        for name, on in (
            ("aa", message.authoritative_answer),
            ("tc", message.truncation),
            ("rd", message.recursion_desired),
            ("ra", message.recursion_available),
        )
        if on
    ]
    head.append(clean(f"  flags: {' '.join(flags) or '-'}"), MUTED)
    lines = [head, SafeText(), _heading(f"Questions ({len(message.questions)})")]
    qrows: list[list[SafeStr]] = [[clean(h) for h in ("name", "type", "class")]]
    for q in message.questions:
        qrows.append(
            [clean(q.name, 300), clean(types.to_str(q.type)), clean(classes.to_str(q.class_))]
        )
    lines.extend(_grid(qrows))
    for title, records in (
        ("Answers", message.answers),
        ("Authorities", message.authorities),
        ("Additionals", message.additionals),
    ):
        if records or title == "Answers":
            lines.append(SafeText())
            lines.append(_heading(f"{title} ({len(records)})"))
            lines.extend(_record_rows(records) if records else [SafeText(clean("(none)"), MUTED)])
    lines.append(SafeText())
    lines.append(_heading("Timing"))
    lines.extend(kv_table([(clean("time"), clean(_time(message.timestamp)))], 80))
    return lines


def detail_lines(flow: Flow | None, side: Side, width: int) -> list[SafeText]:
    """Everything of `side` but its body, as lines for a pane `width` cells wide."""
    if isinstance(flow, HTTPFlow):
        return _http_lines(flow, side, width)
    if isinstance(flow, DNSFlow):
        return _dns_lines(flow, side)
    if flow is None:
        return [SafeText(clean("No flow selected."), MUTED)]
    name = clean(flow.type, 20).upper()
    return [SafeText(clean(f"{name} flow: see the Messages tab."), MUTED)]
