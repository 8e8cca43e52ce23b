"""XML and HTML: a lenient tokenizer that indents by element and highlights.

No XML parser is involved, so nothing is ever resolved: entities stay as written
(`&amp;`, `&xxe;`), a DTD is shown and never fetched, and broken HTML (unclosed tags,
stray end tags, `<` in text) is shown as it is rather than rejected. HTML's void
elements (`<br>`, `<img>`) do not indent; the text of `<script>` and `<style>` is
highlighted as JavaScript and CSS.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator

from pygments.lexers.css import CssLexer
from pygments.lexers.javascript import JavascriptLexer

from flowtui.ui.contentviews.base import Context, LineBuilder, Styles, ViewError, indent
from flowtui.ui.contentviews.code import code_lines
from flowtui.ui.safe_text import SafeText, clean
from flowtui.ui.widgets.hexdump import looks_binary

__all__ = ["html_view", "markup_charset", "xml_view"]

INLINE_TEXT = 80
"""An element holding only text up to this long is shown on one line: `<b>x</b>`."""

VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
"""HTML elements that have no end tag."""

RAW_TEXT = frozenset(("script", "style", "textarea", "title", "xmp", "plaintext"))
"""HTML elements whose content is text up to their end tag, not markup."""

_ENDED_BY = {
    "li": ("li",),
    "p": ("p",),
    "option": ("option",),
    "tr": ("tr", "td", "th"),
    "td": ("td", "th"),
    "th": ("td", "th"),
    "dt": ("dt", "dd"),
    "dd": ("dt", "dd"),
}
"""HTML elements whose start tag ends an open element of these names (no end tag needed)."""

# Every alternative matches on its first, greedy path (each ends in "or the end of the
# text"), so nothing backtracks: an attribute list written as `(\s*name)*` took seconds on
# `<a bbb…`, and a tag that could fail would be rescanned from every later `<`. As in a
# browser, an unclosed quote or tag runs to the end. Attributes are split by `_ATTR`.
_TOKEN = re.compile(
    r"""
     (?P<comment><!--.*?(?:-->|\Z))
    |(?P<cdata><!\[CDATA\[.*?(?:\]\]>|\Z))
    |(?P<decl><![^\[>]*(?:\[[^\]]*\]?)?[^>]*>?)
    |(?P<pi><\?.*?(?:\?>|\Z))
    |(?P<close></[^>]*(?:>|\Z))
    |(?P<open><[A-Za-z_:][^\s/>]*(?:[^>"']+|"[^"]*(?:"|\Z)|'[^']*(?:'|\Z))*(?:>|\Z))
    |(?P<text>[^<]+|<[^<]*)
    """,
    re.VERBOSE | re.DOTALL,
)
_ATTR = re.compile(r"""\s*([^\s=/>]+)(?:\s*=\s*("[^"]*"?|'[^']*'?|[^\s>]*))?""")
_NAME = re.compile(r"</?([^\s/>]*)")
_CHARSET = re.compile(
    rb"""<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)|<meta[^>]*charset\s*=\s*["']?([A-Za-z0-9._-]+)""",
    re.IGNORECASE,
)

_LT = clean("<")
_LT_SLASH = clean("</")
_GT = clean(">")
_SLASH_GT = clean("/>")
_SPACE = clean(" ")
_EQ = clean("=")


def markup_charset(data: bytes, ctx: Context) -> str:
    """The charset: the content type's, else the XML declaration's or a `<meta>`'s in
    the first 2 kB, else UTF-8."""
    if ctx.charset:
        return ctx.charset
    m = _CHARSET.search(data[:2048])
    if m:
        name = (m.group(1) or m.group(2)).decode("ascii")
        try:
            return Context(params={"charset": name}).charset or "utf-8"
        except LookupError:
            pass
    return "utf-8"


def _tag(out: LineBuilder, token: str, closing: bool) -> None:
    """Append a start or end tag's parts, attributes normalised to one space apart (a
    tag cut by the end of the text gets no `>` it did not have)."""
    m = _NAME.match(token)
    name = m.group(1) if m else ""
    out.add(_LT_SLASH if closing else _LT)
    out.add(clean(name), Styles.TAG)
    rest = token[len(name) + (2 if closing else 1) :]
    if closing:
        out.add(clean(rest) if rest.strip() != ">" else _GT)
        return
    ended = rest.endswith(">")
    body = rest.removesuffix(">")
    self_closing = ended and body.rstrip().endswith("/")
    if self_closing:
        body = body.rstrip()[:-1]
    for attr in _ATTR.finditer(body):
        if not attr.group(1):
            continue
        out.add(_SPACE)
        out.add(clean(attr.group(1)), Styles.ATTR)
        if attr.group(2) is not None:
            out.add(_EQ)
            out.add(clean(attr.group(2)), Styles.VALUE)
    if ended:
        out.add(_SLASH_GT if self_closing else _GT)


def _tokens(text: str, html: bool) -> Iterator[tuple[str, str]]:
    """`(kind, text)` tokens, adjacent text joined (`1 < 2` is one text); in HTML, a
    raw-text element's content is one token."""
    pos = 0
    end = len(text)
    pending: list[str] = []
    while pos < end:
        m = _TOKEN.match(text, pos)
        kind = (m.lastgroup or "text") if m else "text"
        token = m.group() if m else text[pos:]
        pos = m.end() if m else end
        if kind == "text":
            pending.append(token)
            continue
        if pending:
            yield "text", "".join(pending)
            pending = []
        yield kind, token
        if html and kind == "open" and not token.endswith("/>"):
            name = _NAME.match(token).group(1).lower()  # type: ignore[union-attr]
            if name in RAW_TEXT:
                close = re.compile(rf"</{re.escape(name)}\s*>", re.IGNORECASE)
                found = close.search(text, pos)
                stop = found.start() if found else end
                if stop > pos:
                    yield "raw:" + name, text[pos:stop]
                pos = stop
    if pending:
        yield "text", "".join(pending)


def _markup(data: bytes, ctx: Context, html: bool) -> Iterator[SafeText]:
    if looks_binary(data):
        raise ViewError(f"not {'HTML' if html else 'XML'}: the body is binary")
    text = data.decode(markup_charset(data, ctx), "backslashreplace")
    tokens = deque[tuple[str, str]]()
    source = _tokens(text, html)

    def peek(n: int) -> tuple[str, str] | None:
        while len(tokens) < n:
            nxt = next(source, None)
            if nxt is None:
                return None
            tokens.append(nxt)
        return tokens[n - 1]

    def fold(name: str) -> str:
        return name.lower() if html else name

    stack: list[str] = []
    out = LineBuilder()
    while True:
        if not tokens and peek(1) is None:
            break
        kind, token = tokens.popleft()
        depth = len(stack)
        if kind == "open":
            name = fold(_NAME.match(token).group(1))  # type: ignore[union-attr]
            if html:  # <li>1<li>2: a new item ends the open one
                while stack and stack[-1] in _ENDED_BY.get(name, ()):
                    stack.pop()
                depth = len(stack)
            out.add(indent(depth))
            _tag(out, token, closing=False)
            if token.endswith("/>") or (html and name in VOID):
                yield out.take()
                continue
            # <b>short text</b> and <p></p> on one line.
            nxt = peek(1)
            after = peek(2)
            if nxt and nxt[0] == "close" and fold(_NAME.match(nxt[1]).group(1)) == name:  # type: ignore[union-attr]
                tokens.popleft()
                _tag(out, nxt[1], closing=True)
                yield out.take()
                continue
            if (
                nxt
                and nxt[0] in ("text", "raw:" + name)
                and "\n" not in nxt[1].strip()
                and len(nxt[1].strip()) <= INLINE_TEXT
                and after
                and after[0] == "close"
                and fold(_NAME.match(after[1]).group(1)) == name  # type: ignore[union-attr]
            ):
                tokens.popleft()
                tokens.popleft()
                out.add(clean(nxt[1].strip()))
                _tag(out, after[1], closing=True)
                yield out.take()
                continue
            yield out.take()
            stack.append(name)
        elif kind == "close":
            name = fold(_NAME.match(token).group(1))  # type: ignore[union-attr]
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name) :]
            out.add(indent(len(stack)))
            _tag(out, token, closing=True)
            yield out.take()
        elif kind.startswith("raw:"):
            lexer = {"script": JavascriptLexer, "style": CssLexer}.get(kind[4:])
            body = token.strip("\n")
            if lexer is not None:
                common = _common_indent(body)
                yield from code_lines(
                    "\n".join(piece[common:] for piece in body.split("\n")),
                    lexer(stripnl=False, ensurenl=False),
                    depth=depth,
                )
            else:
                yield from _text_lines(body, depth)
        elif kind == "text":
            yield from _text_lines(token, depth)
        else:  # comment, cdata, declaration, processing instruction
            style = Styles.COMMENT if kind == "comment" else Styles.LITERAL
            for piece in token.split("\n"):
                if piece.strip():
                    out.add(indent(depth))
                    out.add(clean(piece.strip()), style)
                    yield out.take()


def _common_indent(text: str) -> int:
    widths = [len(p) - len(p.lstrip()) for p in text.split("\n") if p.strip()]
    return min(widths, default=0)


def _text_lines(text: str, depth: int) -> Iterator[SafeText]:
    for piece in text.split("\n"):
        piece = piece.strip()
        if piece:
            out = LineBuilder()
            out.add(indent(depth))
            out.add(clean(piece))
            yield out.take()


def xml_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """XML indented by element, highlighted; entities and DTDs shown, never resolved."""
    yield from _markup(data, ctx, html=False)


def html_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """HTML indented by element (void elements and broken nesting allowed)."""
    yield from _markup(data, ctx, html=True)
