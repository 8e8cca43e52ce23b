"""What every content view shares: the failure type, the line builder, the styles.

A view is a generator of `SafeText` lines over the body's bytes. It raises `ViewError`
(before or while yielding) when the body is not what it decodes; `render_lines` turns
that into the error message and the hex fallback. Every piece of body text reaches a
line through `flowtui.sanitize.clean` (as `SafeStr`), so no view can put markup or a
terminal escape on screen.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from flowtui.ui.safe_text import SafeStr, SafeText, clean, concat

__all__ = [
    "Context",
    "LineBuilder",
    "Styles",
    "View",
    "ViewError",
    "indent",
    "line",
    "parse_content_type",
    "plain_line",
]


class ViewError(Exception):
    """The body is not what the view decodes; the message says why (and where)."""


@dataclass(frozen=True)
class Context:
    """What a view knows besides the bytes."""

    mime: str | None = None
    """The content type without parameters, lower case (`application/json`)."""
    params: dict[str, str] = field(default_factory=dict)
    """The content type's parameters, names in lower case (`charset`, `boundary`)."""
    complete: bool = True
    """False when the bytes are only the head of the body (a preview)."""
    width: int | None = None
    """The width of the pane, when known (tables fit their first column to it)."""

    @property
    def charset(self) -> str | None:
        """The content type's charset, if Python knows the codec; else None."""
        name = self.params.get("charset")
        if not name:
            return None
        try:
            info = codecs.lookup(name)
        except (LookupError, ValueError):
            return None
        # "rot13", "base64" and friends are codecs but not text encodings.
        return info.name if getattr(info, "_is_text_encoding", True) else None


View = Callable[[bytes, Context], Iterator[SafeText]]
"""A content view: lines for the body, raising `ViewError` if it does not decode."""


def parse_content_type(content_type: str | None) -> tuple[str | None, dict[str, str]]:
    """`("text/html", {"charset": "utf-8"})` for `"text/html; charset=UTF-8"`.

    Lenient: an unparseable value gives `(None, {})`, a parameter without `=` is
    skipped, quotes around a value are removed.
    """
    if not content_type:
        return None, {}
    mime, *rest = content_type.split(";")
    mime = mime.strip().lower()
    if mime.count("/") != 1 or " " in mime:
        return None, {}
    params: dict[str, str] = {}
    for part in rest:
        name, eq, value = part.partition("=")
        if eq:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            params.setdefault(name.strip().lower(), value)
    return mime, params


class Styles:
    """Rich styles of the views (plain ANSI colours, so every terminal theme works)."""

    KEY = "bold blue"
    STRING = "green"
    NUMBER = "cyan"
    LITERAL = "magenta"
    PUNCT = ""
    TAG = "blue"
    ATTR = "cyan"
    VALUE = "green"
    COMMENT = "dim"
    HEADER = "bold"
    NAME = "bold"
    NOTE = "dim italic"
    ERROR = "red"


def line(*parts: tuple[SafeStr, str]) -> SafeText:
    """One screen line from `(safe text, style)` parts.

    Built as one string plus style ranges (`stylize`), not part by part: `Text.append`
    costs a control-code scan per part, which was half the time of a big JSON body.
    """
    out = SafeText(concat(*[text for text, _ in parts]), end="")
    start = 0
    for text, style in parts:
        end = start + len(text)
        if style and end > start:
            out.stylize(style, start, end)
        start = end
    return out


def plain_line(text: str, style: str = "") -> SafeText:
    """One screen line holding `clean(text)`."""
    return line((clean(text), style))


_INDENTS = [clean("  " * depth) for depth in range(65)]
MAX_INDENT = len(_INDENTS) - 1
"""Deeper nesting than this is shown at this depth: a hostile body nested 100,000
levels must not make lines of 200,000 spaces."""


def indent(depth: int) -> SafeStr:
    """Two spaces per level, capped at `MAX_INDENT` levels."""
    return _INDENTS[min(depth, MAX_INDENT)]


class LineBuilder:
    """Collects styled parts of the current line; `take()` finishes it."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[tuple[SafeStr, str]] = []

    def add(self, text: SafeStr, style: str = "") -> None:
        """Append a part to the current line."""
        self._parts.append((text, style))

    def __bool__(self) -> bool:
        return bool(self._parts)

    def take(self) -> SafeText:
        """The current line as `SafeText`; the builder starts a new, empty line."""
        parts, self._parts = self._parts, []
        return line(*parts)
