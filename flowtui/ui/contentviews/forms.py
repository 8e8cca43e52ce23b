"""Tables of fields: the query string, form-urlencoded bodies and multipart forms.

Names and values are percent-decoded (or, in multipart, read from each part's
headers) and decoded as UTF-8 with `\\xNN` for other bytes, then cleaned: a field
named `\\x1b[2J` or a filename carrying `[bold]` shows as those characters, inert.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from urllib.parse import unquote_to_bytes

from rich.cells import cell_len

from flowtui.ui.contentviews.base import Context, Styles, ViewError, line
from flowtui.ui.safe_text import SafeStr, SafeText, clean
from flowtui.ui.widgets.hexdump import looks_binary

__all__ = [
    "MultipartField",
    "decode_urlencoded",
    "multipart_fields",
    "multipart_view",
    "query_view",
    "table",
    "urlencoded_view",
]

COLUMN_WIDTH = 30
"""A column is padded to its widest cell, up to this many cells (a longer cell just
pushes the rest of its row right)."""

VALUE_PREVIEW = 200
"""A multipart text value longer than this shows as its size."""

_GAP = clean("  ")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace")


def table(
    rows: Sequence[Sequence[str]], header: Sequence[str] | None = None, width: int | None = None
) -> Iterator[SafeText]:
    """Rows of cells as aligned lines; every column but the last padded to its width.

    The first column is bold; `header` (if any) is a first line in the header style.
    `width`, the pane's, caps the padded columns further so the last one stays in view.
    """
    cells = [[clean(cell) for cell in row] for row in rows]
    head = [clean(cell) for cell in header] if header else None
    columns = max((len(row) for row in (cells + ([head] if head else []))), default=0)
    cap = COLUMN_WIDTH if width is None else max(8, min(COLUMN_WIDTH, width // max(2, columns)))
    widths = [
        min(cap, max((cell_len(row[i]) for row in cells + ([head] if head else [])), default=0))
        for i in range(columns - 1)
    ]

    def one(row: Sequence[SafeStr], first_style: str, style: str) -> SafeText:
        parts: list[tuple[SafeStr, str]] = []
        while len(row) > 1 and not row[-1]:  # no padding before empty cells at the end
            row = row[:-1]
        for i, cell in enumerate(row):
            padded = cell
            if i < min(len(widths), len(row) - 1):
                padded = clean(cell + " " * max(0, widths[i] - cell_len(cell)))
            parts.append((padded, first_style if i == 0 else style))
            if i < len(row) - 1:
                parts.append((_GAP, ""))
        return line(*parts)

    if head:
        yield one(head, Styles.HEADER, Styles.HEADER)
    for row in cells:
        yield one(row, Styles.NAME, "")


def decode_urlencoded(data: bytes) -> list[tuple[str, str]]:
    """`a=1&b=%C3%BC+x` as `[("a", "1"), ("b", "ü x")]`: `+` is a space, a field without
    `=` has an empty value, empty fields (`a=1&&b=2`) are skipped."""
    pairs: list[tuple[str, str]] = []
    for field in data.split(b"&"):
        if not field:
            continue
        name, _, value = field.partition(b"=")
        pairs.append(
            (
                _text(unquote_to_bytes(name.replace(b"+", b" "))),
                _text(unquote_to_bytes(value.replace(b"+", b" "))),
            )
        )
    return pairs


def urlencoded_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """A form-urlencoded body as a name/value table."""
    if looks_binary(data):
        raise ViewError("not form-urlencoded: the body is binary")
    yield from table(decode_urlencoded(data.strip(b"\r\n")), width=ctx.width)


def query_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """Bytes read as a query string (`?a=1&b=2`, the `?` optional) as a name/value table.

    A request's own query comes as pairs, through `render_query`; this reads a body or
    a URL's tail the same way.
    """
    if looks_binary(data):
        raise ViewError("not a query string: the body is binary")
    query = data.strip(b"\r\n")
    query = query.partition(b"?")[2] if b"?" in query.split(b"&", 1)[0] else query
    yield from table(decode_urlencoded(query.partition(b"#")[0]), width=ctx.width)


class MultipartField:
    """One part of a multipart body: its headers' facts and its content."""

    __slots__ = ("content", "content_type", "filename", "name")

    def __init__(
        self, name: str | None, filename: str | None, content_type: str | None, content: bytes
    ) -> None:
        self.name = name
        """The `name` of `Content-Disposition` (None if the part has none)."""
        self.filename = filename
        """The `filename` of `Content-Disposition`, if any."""
        self.content_type = content_type
        """The part's `Content-Type`, if any."""
        self.content = content
        """The part's body."""


_PARAM = re.compile(rb"""(?:^|;)\s*([A-Za-z0-9_*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)""", re.DOTALL)


def _params(value: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _PARAM.finditer(value):
        raw = m.group(2).strip()
        if raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2:
            raw = re.sub(rb"\\(.)", rb"\1", raw[1:-1], flags=re.DOTALL)
        key = m.group(1).decode("ascii").lower()
        if key.endswith("*"):  # RFC 5987: charset'lang'percent-encoded
            _, _, encoded = raw.partition(b"'")
            _, _, encoded = encoded.partition(b"'")
            out.setdefault(key[:-1], _text(unquote_to_bytes(encoded)))
            continue
        out.setdefault(key, _text(raw))
    return out


def _boundary(data: bytes, ctx: Context) -> bytes:
    boundary = ctx.params.get("boundary")
    if boundary:
        return boundary.encode("utf-8", "surrogateescape")
    first = data.lstrip(b"\r\n").split(b"\n", 1)[0].rstrip(b"\r")
    if first.startswith(b"--") and 2 < len(first) <= 72:
        return first[2:]
    raise ViewError("no multipart boundary: none in the content type, none at the body's start")


def multipart_fields(data: bytes, ctx: Context) -> list[MultipartField]:
    """The parts of a multipart body (boundary from the content type, else the first
    line); raises `ViewError` if the boundary never occurs."""
    boundary = _boundary(data, ctx)
    delimiter = re.compile(rb"(?:^|\r?\n)--" + re.escape(boundary) + rb"(--)?[ \t]*(?:\r?\n|$)")
    marks = list(delimiter.finditer(data))
    if not marks:
        raise ViewError("not multipart: the boundary does not occur in the body")
    fields: list[MultipartField] = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        if mark.group(1):  # the closing delimiter
            break
        part = data[mark.end() : following.start() if following else len(data)]
        head, sep, body = part.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = part.partition(b"\n\n")
        if not sep:
            head, body = b"", part
        headers: dict[str, bytes] = {}
        for header_line in re.split(rb"\r?\n", head):
            name, colon, value = header_line.partition(b":")
            if colon:
                headers.setdefault(name.strip().lower().decode("latin-1"), value.strip())
        disposition = _params(headers.get("content-disposition", b""))
        ctype = headers.get("content-type")
        fields.append(
            MultipartField(
                disposition.get("name"),
                disposition.get("filename"),
                _text(ctype) if ctype is not None else None,
                body,
            )
        )
    return fields


def _size(size: int) -> str:
    return f"{size:,} byte{'s' if size != 1 else ''}"


def multipart_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """A multipart body as a table: name, filename, content type, value (or size)."""
    rows = []
    for field in multipart_fields(data, ctx):
        content = field.content
        if field.filename is not None or len(content) > VALUE_PREVIEW or looks_binary(content):
            value = _size(len(content))
        else:
            value = _text(content)
        rows.append([field.name or "", field.filename or "", field.content_type or "", value])
    yield from table(rows, header=["Name", "Filename", "Content type", "Value"], width=ctx.width)
