"""The JSON view: a streaming tokenizer and pretty-printer over the bytes.

It never parses the whole document before showing it: each token is matched where the
previous one ended and the lines come out as the tokens do, so the first screen of a
100 MB body costs what the first screen's bytes cost. A grammar check runs alongside,
so invalid JSON is reported with its line, column and byte offset. Strings are shown
as written (escapes stay escapes), after `clean()`; raw control characters inside a
string are accepted (as `json.loads(strict=False)` does) and shown escaped. Several
documents one after another (JSON Lines) are shown one after another.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from flowtui.ui.contentviews.base import Context, LineBuilder, Styles, ViewError, indent
from flowtui.ui.safe_text import SafeStr, SafeText, clean

__all__ = ["json_view", "looks_like_json"]

_TOKEN = re.compile(
    rb"""[ \t\r\n]*(?:
      (?P<str>"[^"\\]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\]*)*")
     |(?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)(?![0-9A-Za-z.+-])
     |(?P<lit>(?:true|false|null)(?![0-9A-Za-z]))
     |(?P<punct>[{}\[\]:,])
    )""",
    re.VERBOSE,
)
_SPACE = re.compile(rb"[ \t\r\n]*")
# Something that could be the start of a token cut by the end of a preview.
_CUT_TOKEN = re.compile(
    rb'"(?:[^"\\]|\\.)*\\?\Z|-?[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]*)?\Z'
    rb"|t(?:r(?:ue?)?)?\Z|f(?:a(?:l(?:se?)?)?)?\Z|n(?:u(?:ll?)?)?\Z",
    re.DOTALL,
)

_BOM = b"\xef\xbb\xbf"
_OPEN = {b"{": b"}", b"[": b"]"}
_COLON = clean(": ")
_COMMA = clean(",")
_PUNCT = {p: clean(p.decode()) for p in (b"{", b"}", b"[", b"]")}
_EMPTY = {b"{": clean("{}"), b"[": clean("[]")}

# Parser states: what may come next.
_VALUE = 0  # a value (after ':' or ',' in an array, or at the top)
_KEY = 1  # a key (after ',' in an object)
_KEY_OR_CLOSE = 2  # a key or '}' (after '{')
_VALUE_OR_CLOSE = 3  # a value or ']' (after '[')
_COLON_NEXT = 4  # ':' after a key
_COMMA_OR_CLOSE = 5  # ',' or the closer, after a member
_TOP = 6  # after a complete top-level document: another one or the end

_EXPECTED = {
    _VALUE: "a value",
    _KEY: "a string key",
    _KEY_OR_CLOSE: "a string key or '}'",
    _VALUE_OR_CLOSE: "a value or ']'",
    _COLON_NEXT: "':'",
    _COMMA_OR_CLOSE: "',' or a closing bracket",
    _TOP: "the end of the document",
}


def _where(data: bytes, pos: int) -> str:
    line_no = data.count(b"\n", 0, pos) + 1
    column = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
    return f"line {line_no}, column {column} (byte {pos})"


def _fail(data: bytes, pos: int, state: int, what: str | None = None) -> ViewError:
    found = "the end of the document" if pos >= len(data) else repr(data[pos : pos + 12])[1:]
    return ViewError(
        f"invalid JSON at {_where(data, pos)}: expected {what or _EXPECTED[state]}, found {found}"
    )


def _text(token: bytes) -> SafeStr:
    return clean(token.decode("utf-8", "backslashreplace"))


def json_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """Pretty-printed, highlighted JSON, two spaces a level; raises `ViewError` where the
    document stops being JSON (in a preview, a document cut short is not an error)."""
    match = _TOKEN.match
    out = LineBuilder()
    stack: list[bytes] = []
    state = _VALUE
    pos = 3 if data.startswith(_BOM) else 0  # a UTF-8 byte order mark is skipped
    end = len(data)
    documents = 0
    while True:
        m = match(data, pos)
        if m is None:
            start = _SPACE.match(data, pos).end()  # type: ignore[union-attr]
            if start >= end:
                if state == _TOP or (documents == 0 and state == _VALUE and not stack):
                    if documents == 0 and ctx.complete:
                        raise _fail(data, start, _VALUE)
                    break
                if ctx.complete:
                    raise _fail(data, start, state)
                break
            if not ctx.complete and _CUT_TOKEN.match(data, start):
                break
            raise _fail(data, start, state)
        kind = m.lastgroup or "punct"
        pos = m.end()
        token = m.group(kind)
        if kind == "punct":
            if token in _OPEN:
                if state not in (_VALUE, _VALUE_OR_CLOSE, _TOP):
                    raise _fail(data, m.start(kind), state)
                closer = _OPEN[token]
                peek = match(data, pos)
                if peek is not None and peek.group(peek.lastgroup or 0) == closer:
                    pos = peek.end()
                    if not out:
                        out.add(indent(len(stack)))
                    out.add(_EMPTY[token])
                    state = _COMMA_OR_CLOSE if stack else _TOP
                    if not stack:
                        documents += 1
                        yield out.take()
                    continue
                if not out:
                    out.add(indent(len(stack)))
                out.add(_PUNCT[token])
                yield out.take()
                stack.append(token)
                state = _KEY_OR_CLOSE if token == b"{" else _VALUE_OR_CLOSE
            elif token in (b"}", b"]"):
                if (
                    not stack
                    or _OPEN[stack[-1]] != token
                    or state
                    not in (
                        _COMMA_OR_CLOSE,
                        _KEY_OR_CLOSE if token == b"}" else _VALUE_OR_CLOSE,
                    )
                ):
                    raise _fail(data, m.start(kind), state)
                stack.pop()
                if out:
                    yield out.take()
                out.add(indent(len(stack)))
                out.add(_PUNCT[token])
                if stack:
                    state = _COMMA_OR_CLOSE
                else:
                    state = _TOP
                    documents += 1
                    yield out.take()
            elif token == b":":
                if state != _COLON_NEXT:
                    raise _fail(data, m.start(kind), state)
                out.add(_COLON)
                state = _VALUE
            else:  # ","
                if state != _COMMA_OR_CLOSE:
                    raise _fail(data, m.start(kind), state)
                out.add(_COMMA)
                yield out.take()
                state = _KEY if stack[-1] == b"{" else _VALUE
            continue
        if state in (_KEY, _KEY_OR_CLOSE):
            if kind != "str":
                raise _fail(data, m.start(kind), state)
            out.add(indent(len(stack)))
            out.add(_text(token), Styles.KEY)
            state = _COLON_NEXT
            continue
        if state not in (_VALUE, _VALUE_OR_CLOSE, _TOP):
            raise _fail(data, m.start(kind), state)
        style = (
            Styles.STRING if kind == "str" else Styles.NUMBER if kind == "num" else Styles.LITERAL
        )
        if not out:
            out.add(indent(len(stack)))
        out.add(_text(token), style)
        if stack:
            state = _COMMA_OR_CLOSE
        else:
            state = _TOP
            documents += 1
            yield out.take()
    if out:
        yield out.take()


def looks_like_json(data: bytes, sample: int = 4096) -> bool:
    """Whether the body starts like a JSON object or array: its first `sample` bytes
    tokenize and parse without error (the rest is not looked at)."""
    head = data[:sample]
    start = _SPACE.match(head, 3 if head.startswith(_BOM) else 0).end()  # type: ignore[union-attr]
    if start >= len(head) or head[start] not in b"{[":
        return False
    try:
        for _ in json_view(head, Context(complete=len(data) <= sample)):
            pass
    except ViewError:
        return False
    return True
