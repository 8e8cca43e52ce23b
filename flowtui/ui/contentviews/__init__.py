"""Content views: an HTTP body (or any message) shown as what it is.

No Textual here (an import contract holds it): the views are functions from bytes to
`SafeText` lines, so the detail pane can build rows in a worker, and tests and benches
need no app. `render` gives the whole result; `render_lines` the same lines one by one,
for big bodies. A view that cannot decode the body never raises: the result carries
the reason in `error` and the hex dump as its lines.

Every piece of body text goes through `flowtui.sanitize` (`SafeStr`), so network bytes
can neither inject Rich markup nor reach the terminal as escapes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from flowtui.ui.contentviews.auto import choose
from flowtui.ui.contentviews.base import Context, View, ViewError, parse_content_type
from flowtui.ui.contentviews.code import css_view, javascript_view
from flowtui.ui.contentviews.forms import multipart_view, query_view, table, urlencoded_view
from flowtui.ui.contentviews.image import image_view
from flowtui.ui.contentviews.json_view import json_view
from flowtui.ui.contentviews.markup import html_view, xml_view
from flowtui.ui.contentviews.msgpack_view import msgpack_view
from flowtui.ui.contentviews.plain import hex_view, text_view
from flowtui.ui.contentviews.protobuf import protobuf_view
from flowtui.ui.safe_text import SafeStr, SafeText, clean

__all__ = [
    "VIEW_NAMES",
    "VIEW_TITLES",
    "Lines",
    "Rendered",
    "choose",
    "render",
    "render_lines",
    "render_query",
]

VIEW_NAMES: tuple[str, ...] = (
    "auto",
    "text",
    "hex",
    "json",
    "xml",
    "html",
    "javascript",
    "css",
    "urlencoded",
    "multipart",
    "query",
    "msgpack",
    "protobuf",
    "image",
)
"""Every view, in the order a key cycles through them; "auto" picks one of the others."""

VIEW_TITLES: dict[str, str] = {
    "auto": "Auto",
    "text": "Text",
    "hex": "Hex",
    "json": "JSON",
    "xml": "XML",
    "html": "HTML",
    "javascript": "JavaScript",
    "css": "CSS",
    "urlencoded": "Form (URL-encoded)",
    "multipart": "Multipart form",
    "query": "Query string",
    "msgpack": "MessagePack",
    "protobuf": "Protobuf",
    "image": "Image",
}
"""A title for each view, for the pane's header and the view switcher."""


_VIEWS: dict[str, View] = {
    "text": text_view,
    "hex": hex_view,
    "json": json_view,
    "urlencoded": urlencoded_view,
    "multipart": multipart_view,
    "query": query_view,
    "javascript": javascript_view,
    "css": css_view,
    "xml": xml_view,
    "html": html_view,
    "msgpack": msgpack_view,
    "protobuf": protobuf_view,
    "image": image_view,
}


@dataclass(frozen=True)
class Rendered:
    """A body as screen lines, with the view that made them."""

    view: str
    """The view used ("json"; for auto, the one it chose). When `error` is set, the
    view that failed."""
    lines: Sequence[SafeText]
    """One `SafeText` per screen line, unwrapped (the pane wraps or scrolls)."""
    error: SafeStr | None
    """Why the view failed (then `lines` is the hex dump of the body), else None."""
    complete: bool
    """False when only the head of the body was rendered (a preview)."""


class Lines(Iterator[SafeText]):
    """`render_lines`'s result: the lines one by one, plus what `Rendered` says.

    `view` and `complete` are known at once. `error` is set when the view fails: then
    the lines yielded so far belong to the failed view and should be dropped, and the
    lines that follow are the hex dump of the whole body (`error` is already set when
    the first of them is yielded). `render` does exactly that, so consuming `Lines`
    this way gives `render`'s lines.
    """

    def __init__(self, data: bytes, ctx: Context, view: str) -> None:
        self.view = view
        """The view producing the lines (the one auto chose)."""
        self.complete = ctx.complete
        """False when the bytes are only the head of the body."""
        self.error: SafeStr | None = None
        """Why the view failed, once it has; the lines after that are hex."""
        self._lines = self._run(data, ctx)

    def __next__(self) -> SafeText:
        return next(self._lines)

    def __iter__(self) -> Lines:
        return self

    def _run(self, data: bytes, ctx: Context) -> Iterator[SafeText]:
        if not data:
            return
        try:
            yield from _VIEWS[self.view](data, ctx)
            return
        except ViewError as exc:
            self.error = clean(str(exc), 500)
        except RecursionError:
            self.error = clean("the body is nested too deeply to show")
        except Exception as exc:  # a bug in a view must not take the app down
            self.error = clean(f"{type(exc).__name__}: {exc}", 500)
        yield from hex_view(data, ctx)


def _context(content_type: str | None, complete: bool, width: int | None) -> Context:
    mime, params = parse_content_type(content_type)
    return Context(mime=mime, params=params, complete=complete, width=width)


def render_lines(
    data: bytes,
    *,
    content_type: str | None = None,
    view: str = "auto",
    complete: bool = True,
    width: int | None = None,
) -> Lines:
    """`render`, one line at a time: the first lines of a big body come out before the
    rest is decoded (see `Lines` for what happens when the view fails midway).

    `content_type` is the header's whole value (its charset and boundary are used);
    `view` one of `VIEW_NAMES` (an unknown name means "auto"); `complete=False` says
    `data` is only the head of the body, so a document cut short is not an error.
    """
    ctx = _context(content_type, complete, width)
    name = view if view in _VIEWS else "auto"
    if name == "auto":
        try:
            name = choose(data, content_type)
        except Exception:  # sniffing must not fail either
            name = "hex"
    return Lines(data, ctx, name)


def render(
    data: bytes,
    *,
    content_type: str | None = None,
    view: str = "auto",
    complete: bool = True,
    width: int | None = None,
) -> Rendered:
    """The body in `view` (or auto's choice) as screen lines; never raises.

    A body the view cannot decode gives the reason in `error` and the hex dump.
    `width` (the pane's, optional) only narrows the padded columns of tables; lines are
    never wrapped here. Arguments as in `render_lines`.
    """
    stream = render_lines(
        data, content_type=content_type, view=view, complete=complete, width=width
    )
    lines: list[SafeText] = []
    failed = False
    for line in stream:
        if stream.error is not None and not failed:
            failed = True
            lines.clear()
        lines.append(line)
    if stream.error is not None and not failed:
        lines.clear()
    return Rendered(view=stream.view, lines=lines, error=stream.error, complete=complete)


def render_query(query: Sequence[tuple[str, str]], *, width: int | None = None) -> Rendered:
    """A request's query string (name, value pairs in order, already decoded, as
    `request.query` holds them) as a two-column table; `width` as in `render`."""
    return Rendered(view="query", lines=list(table(query, width=width)), error=None, complete=True)
