"""JavaScript and CSS: highlighted with Pygments, minified code lightly beautified.

Pygments' lexers are generators, so lines come out as the source is lexed. Code that
looks minified (a line longer than `MINIFIED_LINE`) is broken after `{`, `}` and `;`
(outside parentheses) and indented by braces: enough to read a bundle, without
pretending to be a formatter. Every token's text is cleaned before it is styled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pygments.lexer import Lexer
from pygments.lexers.css import CssLexer
from pygments.lexers.javascript import JavascriptLexer
from pygments.token import Comment, Keyword, Name, Number, Operator, String, Token, _TokenType

from flowtui.ui.contentviews.base import Context, LineBuilder, ViewError, indent
from flowtui.ui.safe_text import SafeText, clean
from flowtui.ui.widgets.hexdump import looks_binary

__all__ = ["code_lines", "css_view", "javascript_view"]

MINIFIED_LINE = 300
"""A line longer than this (in the first 64 kB) makes the code count as minified."""

_STYLES: dict[_TokenType, str] = {
    Keyword: "magenta",
    Keyword.Constant: "magenta",
    Name.Builtin: "cyan",
    Name.Function: "blue",
    Name.Class: "bold blue",
    Name.Tag: "blue",
    Name.Attribute: "cyan",
    Name.Property: "cyan",
    Name.Decorator: "cyan",
    String: "green",
    String.Regex: "yellow",
    Number: "cyan",
    Comment: "dim",
    Operator.Word: "magenta",
}


def _style(ttype: _TokenType) -> str:
    while ttype is not Token:
        style = _STYLES.get(ttype)
        if style is not None:
            return style
        ttype = ttype.parent
    return ""


def _minified(text: str) -> bool:
    return any(len(piece) > MINIFIED_LINE for piece in text[:65536].split("\n"))


def code_lines(
    text: str, lexer: Lexer, *, depth: int = 0, beautify: bool | None = None
) -> Iterator[SafeText]:
    """`text` lexed and highlighted, one `SafeText` per line, indented `depth` levels.

    With `beautify` (by default: when the code looks minified) lines are broken after
    braces and semicolons and indented by brace depth.
    """
    if beautify is None:
        beautify = _minified(text)
    tokens: Iterable[tuple[_TokenType, str]] = lexer.get_tokens(text)
    out = LineBuilder()
    braces = 0
    parens = 0
    after_brace = False  # a "}" just closed a line, unless ";" "," ")" follows
    for ttype, value in tokens:
        style = _style(ttype)
        if beautify:
            if after_brace:
                if not value.strip():
                    continue
                after_brace = False
                if value[0] not in ";,)":
                    yield out.take()
            if ttype in Token.Punctuation or ttype in Token.Operator:
                if value in "([":
                    parens += 1
                elif value in ")]":
                    parens = max(0, parens - 1)
                elif value == "{" and not parens:
                    if not out:
                        out.add(indent(depth + braces))
                    out.add(clean(value), style)
                    yield out.take()
                    braces += 1
                    continue
                elif value == "}" and not parens:
                    braces = max(0, braces - 1)
                    if out:
                        yield out.take()
                    out.add(indent(depth + braces))
                    out.add(clean(value), style)
                    after_brace = True
                    continue
                elif value == ";" and not parens:
                    if not out:
                        out.add(indent(depth + braces))
                    out.add(clean(value), style)
                    yield out.take()
                    continue
        pieces = value.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                yield out.take()
            if beautify and not out:
                piece = piece.lstrip()
            if not piece:
                continue
            if not out:
                out.add(indent(depth + braces))
            out.add(clean(piece), style)
    if out:
        yield out.take()


def _source(data: bytes, ctx: Context) -> str:
    if looks_binary(data):
        raise ViewError("not source code: the body is binary")
    return data.decode(ctx.charset or "utf-8", "backslashreplace")


def javascript_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """JavaScript (or JSON-like script), highlighted; minified code beautified."""
    yield from code_lines(_source(data, ctx), JavascriptLexer(stripnl=False, ensurenl=False))


def css_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """A stylesheet, highlighted; minified rules put one declaration a line."""
    yield from code_lines(_source(data, ctx), CssLexer(stripnl=False, ensurenl=False))
