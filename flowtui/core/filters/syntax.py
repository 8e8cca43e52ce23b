"""The parser: filter expression text to a tree of nodes, or FilterError at the mistake.

Grammar (mitmproxy's, with its operator precedence):

    filter   := group+                       juxtaposition is "and", binding loosest
    group    := and ('|' and)*
    and      := unary ('&' unary)*
    unary    := '!'* atom
    atom     := '(' filter ')' | '~'NAME [argument] | word | quoted
    quoted   := '...' or "..."               a backslash escapes the quote
    word     := characters up to a space or one of ( ) ~ ' "

So `a b | c` is `a & (b | c)`, as in mitmproxy. `&`, `|` and `!` inside a word belong
to it (`~b a|b` is a regex alternation); a word cannot start with them.
A hand-written recursive descent parser (no pyparsing) keeps every position exact.
"""

from __future__ import annotations

import difflib
import re

from flowtui.core.filters.catalog import OPERATORS, Arg
from flowtui.core.filters.content import BareWord, parse_size
from flowtui.core.filters.errors import FilterError
from flowtui.core.filters.nodes import And, Node, Not, Or
from flowtui.core.filters.regex import compile_pattern

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "parse_tree"]

MAX_LENGTH = 10_000
"""Longest filter expression accepted (characters)."""
MAX_DEPTH = 64
"""Deepest nesting of parentheses accepted."""

_WORD_END = frozenset("()~'\"")
_NAME_END = _WORD_END | frozenset("!&|")
_TLS_VERSION = re.compile(r"(?:(?:ssl|tls|dtls|quic)v?)?\d+(?:\.\d+)*", re.IGNORECASE)
_COMPARISONS = frozenset(("<", ">", "<=", ">=", "=", "==", "!="))
_ARG_DESCRIPTION = {
    "regex": "a regular expression",
    "code": "a status code",
    "size": "a size like >10k or <=512",
    "version": "a TLS version",
}


def _describe(char: str) -> str:
    return f"'{char}'"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    # -- characters -------------------------------------------------------------------

    def skip_space(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        self.pos = pos

    def peek(self) -> str:
        """The next character after spaces, or "" at the end."""
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    # -- grammar ----------------------------------------------------------------------

    def parse(self) -> Node:
        if not self.text.strip():
            raise FilterError("empty filter expression", 0)
        node = self.sequence(opener=None)
        if self.peek() == ")":
            raise FilterError("unexpected ')' without a matching '('", self.pos)
        return node

    def sequence(self, opener: int | None) -> Node:
        """One or more groups side by side, up to the end or a ')'."""
        parts: list[Node] = []
        while True:
            char = self.peek()
            if char in ("", ")"):
                break
            if char in ("&", "|"):
                raise FilterError(f"expected an expression before {_describe(char)}", self.pos)
            parts.append(self.group())
        if not parts:
            raise FilterError("expected an expression after '('", self.pos)
        return parts[0] if len(parts) == 1 else And(parts)

    def group(self) -> Node:
        parts = [self.conjunction()]
        while self.peek() == "|":
            self.pos += 1
            parts.append(self.conjunction(after="'|'"))
        return parts[0] if len(parts) == 1 else Or(parts)

    def conjunction(self, after: str | None = None) -> Node:
        parts = [self.unary(after)]
        while self.peek() == "&":
            self.pos += 1
            parts.append(self.unary(after="'&'"))
        return parts[0] if len(parts) == 1 else And(parts)

    def unary(self, after: str | None) -> Node:
        negations = 0
        while self.peek() == "!":
            self.pos += 1
            negations += 1
            after = "'!'"
        node = self.atom(after)
        for _ in range(negations):
            node = Not(node)
        return node

    def atom(self, after: str | None) -> Node:
        char = self.peek()
        start = self.pos
        if char in ("", ")", "&", "|"):
            where = f" after {after}" if after else ""
            raise FilterError(f"expected an expression{where}", start)
        if char == "(":
            return self.parenthesised()
        if char == "~":
            return self.operator()
        arg = self.argument("a filter")
        assert arg is not None  # the characters above always start an argument
        text = arg.regex(str)
        data = compile_pattern(
            arg.value, bytes, flags=re.DOTALL, what=arg.op, pos=arg.pos, offsets=arg.offsets
        )
        return BareWord(text, data)

    def parenthesised(self) -> Node:
        start = self.pos
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(f"parentheses nested too deeply (max {MAX_DEPTH})", start)
        self.pos += 1
        node = self.sequence(opener=start)
        if self.peek() != ")":
            raise FilterError("'(' is never closed", start)
        self.pos += 1
        self.depth -= 1
        return node

    def operator(self) -> Node:
        start = self.pos
        text, pos = self.text, start + 1
        while pos < len(text) and not text[pos].isspace() and text[pos] not in _NAME_END:
            pos += 1
        name = text[start + 1 : pos]
        if not name:
            raise FilterError("expected a filter name after '~'", start + 1)
        spec = OPERATORS.get(name.lower())
        if spec is None:
            close = difflib.get_close_matches(name.lower(), OPERATORS, n=1)
            hint = f" (did you mean ~{close[0]}?)" if close else ""
            raise FilterError(f"unknown filter '~{name[:40]}'{hint}", start)
        self.pos = pos
        what = f"~{spec.name}"
        if spec.arg == "none":
            return spec.build(None)
        if spec.arg == "version":
            return spec.build(self.tls_version(what))
        if spec.arg == "size":
            return spec.build(self.size_argument(what))
        arg = self.argument(what)
        if arg is None:
            raise FilterError(f"expected {_ARG_DESCRIPTION[spec.arg]} after {what}", self.pos)
        if spec.arg == "code" and not (arg.value.isascii() and arg.value.isdigit()):
            raise FilterError(f"expected a status code (a number) after {what}", arg.pos)
        if spec.arg == "code" and len(arg.value) > 9:
            raise FilterError(f"status code too long after {what}", arg.pos)
        return spec.build(arg)

    # -- arguments --------------------------------------------------------------------

    def argument(self, what: str) -> Arg | None:
        """A quoted string or a word; None (nothing consumed) if neither follows."""
        char = self.peek()
        if char in ("'", '"'):
            return self.quoted(what)
        if char == "" or char in _WORD_END or char in "!&|":
            return None
        start, text, pos = self.pos, self.text, self.pos
        while pos < len(text) and not text[pos].isspace() and text[pos] not in _WORD_END:
            pos += 1
        self.pos = pos
        return Arg(what, text[start:pos], start, list(range(start, pos)))

    def quoted(self, what: str) -> Arg:
        text, start = self.text, self.pos
        quote = text[start]
        chars: list[str] = []
        offsets: list[int] = []
        pos = start + 1
        while pos < len(text):
            char = text[pos]
            if char == quote:
                self.pos = pos + 1
                return Arg(what, "".join(chars), start, offsets)
            if char == "\\" and pos + 1 < len(text) and text[pos + 1] in (quote, "\\"):
                # \" becomes ", \\ stays \\ (a regex's escaped backslash)
                if text[pos + 1] == quote:
                    chars.append(quote)
                    offsets.append(pos + 1)
                else:
                    chars.extend("\\\\")
                    offsets.extend((pos, pos + 1))
                pos += 2
                continue
            chars.append(char)
            offsets.append(pos)
            pos += 1
        raise FilterError(f"unterminated string: no closing {quote}", start)

    def tls_version(self, what: str) -> Arg | None:
        """`~tls`'s optional argument: a quoted string or a word that looks like a version."""
        save = self.pos
        char = self.peek()
        if char in ("'", '"'):
            return self.quoted(what)
        arg = self.argument(what)
        if arg is not None and _TLS_VERSION.fullmatch(arg.value):
            return arg
        self.pos = save
        return None

    def size_argument(self, what: str) -> Arg:
        """`~size`'s argument: `>10k`, `<= 512`, `!=0`, `"> 1m"`."""
        char = self.peek()
        if char in ("'", '"'):
            arg = self.quoted(what)
        elif char == "" or char in _WORD_END or char in "&|":
            raise FilterError(f"expected {_ARG_DESCRIPTION['size']} after {what}", self.pos)
        else:
            start = self.pos
            value = self.raw_word()
            if value in _COMPARISONS:  # `> 10k`: the number is the next word
                save = self.pos
                char = self.peek()
                if char and char not in _WORD_END and char not in "!&|":
                    value += self.raw_word()
                else:
                    self.pos = save
            arg = Arg(what, value, start, [])
        if parse_size(arg.value) is None:
            raise FilterError(
                f"bad size {arg.value[:20]!r} after {what}: expected e.g. >10k, <=512 or 1m",
                arg.pos,
            )
        return arg

    def raw_word(self) -> str:
        text, start = self.text, self.pos
        pos = start
        while pos < len(text) and not text[pos].isspace() and text[pos] not in _WORD_END:
            pos += 1
        self.pos = pos
        return text[start:pos]


def parse_tree(text: str) -> Node:
    """Parse `text` into a node tree; FilterError (with a position) if it is not valid."""
    if len(text) > MAX_LENGTH:
        raise FilterError(f"filter expression too long (max {MAX_LENGTH} characters)", MAX_LENGTH)
    return _Parser(text).parse()
