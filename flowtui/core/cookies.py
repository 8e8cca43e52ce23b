"""Lenient Cookie and Set-Cookie parsing and formatting, with mitmproxy's results.

Real headers break the RFCs all the time, so nothing is rejected: repeated cookies are
kept, quoted values are unescaped, several cookies in one comma-separated Set-Cookie
are split (with the `Expires=Wdy, DD ...` comma special-cased), and malformed parts
are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from flowtui.core.multidict import MultiDict

__all__ = [
    "CookieAttrs",
    "format_cookie_header",
    "format_set_cookie_header",
    "parse_cookie_headers",
    "parse_set_cookie_headers",
]


class CookieAttrs(MultiDict[str, str | None]):
    """A cookie's attributes: names compare case-insensitively, the last value wins;
    a flag attribute (`HttpOnly`) has the value None."""

    @staticmethod
    def _kconv(key: Any) -> Any:
        return key.lower()

    @staticmethod
    def _reduce_values(values: Sequence[Any]) -> Any:
        return values[-1]


class _Scanner:
    """A cursor over one header value."""

    def __init__(self, s: str) -> None:
        self.s = s
        self.pos = 0

    def until(self, stops: str) -> str:
        """Text up to (not including) the next stop character; at the end of the text,
        the cursor moves one past it, which ends the caller's loop."""
        s, start = self.s, self.pos
        if start == len(s):
            self.pos = start + 1
            return ""
        for i in range(start, len(s)):
            if s[i] in stops:
                self.pos = i
                return s[start:i]
        self.pos = len(s)
        return s[start:]

    def value(self, stops: str) -> str:
        """A value: a quoted string (backslash escapes honoured) or text up to a stop."""
        if self.pos >= len(self.s):
            return ""
        if self.s[self.pos] == '"':
            return self._quoted()
        return self.until(stops)

    def _quoted(self) -> str:
        s, out, escaped = self.s, [], False
        i = self.pos
        for i in range(self.pos + 1, len(s)):
            if escaped:
                out.append(s[i])
                escaped = False
            elif s[i] == '"':
                break
            elif s[i] == "\\":
                escaped = True
            else:
                out.append(s[i])
        self.pos = i + 1
        return "".join(out)

    def at(self, char: str) -> bool:
        return self.pos < len(self.s) and self.s[self.pos] == char

    def more(self) -> bool:
        return self.pos < len(self.s)


def _cookie_pairs(line: str) -> list[list[str]]:
    """The `[name, value]` pairs of a Cookie header value."""
    sc, pairs = _Scanner(line), []
    while True:
        name = sc.until(";=").lstrip()
        value = ""
        if sc.at("="):
            sc.pos += 1
            value = sc.value(";")
        if name or value:
            pairs.append([name, value])
        sc.pos += 1
        if not sc.more():
            return pairs


def parse_cookie_headers(lines: Iterable[str]) -> list[list[str]]:
    """Every `[name, value]` of the given Cookie header values, in order."""
    return [pair for line in lines for pair in _cookie_pairs(line)]


def _set_cookie_groups(line: str) -> list[list[tuple[str, str | None]]]:
    """The `(name, value)` pairs of each cookie of a Set-Cookie value (commas split
    cookies, except inside an Expires date)."""
    sc = _Scanner(line)
    groups: list[list[tuple[str, str | None]]] = []
    pairs: list[tuple[str, str | None]] = []
    while True:
        name = sc.until(";=,").lstrip()
        if sc.at("="):
            sc.pos += 1
            value = sc.value(";,")
            # An Expires date holds a comma ("Wed, 21 Oct ..."): a value of three
            # characters or fewer is only the weekday, so read on past the comma.
            if name.lower() == "expires" and len(value) <= 3:
                sc.pos += 1
                value = value + "," + sc.value(";,")
            pairs.append((name, value))
        elif name:
            pairs.append((name, None))
        if sc.at(","):
            groups.append(pairs)
            pairs = []
        sc.pos += 1
        if not sc.more():
            break
    if pairs or not groups:
        groups.append(pairs)
    return groups


def parse_set_cookie_headers(lines: Iterable[str]) -> list[tuple[str, str | None, CookieAttrs]]:
    """`(name, value, attributes)` for every cookie the Set-Cookie values set."""
    out = []
    for line in lines:
        for pairs in _set_cookie_groups(line):
            if pairs:
                (name, value), *attrs = pairs
                out.append((name, value, CookieAttrs(attrs)))
    return out


_ESCAPE = re.compile(r'(["\\])')


def _needs_quotes(value: str) -> bool:
    return any(c in '",;\\' or not 0x21 <= ord(c) <= 0x7E for c in value)


def _format_pairs(
    pairs: Iterable[Sequence[Any]], unquoted: tuple[str, ...] = (), sep: str = "; "
) -> str:
    out = []
    for name, value in pairs:
        if value is None:
            out.append(name)
        elif name.lower() not in unquoted and _needs_quotes(value):
            escaped = _ESCAPE.sub(r"\\\1", value)
            out.append(f'{name}="{escaped}"')
        else:
            out.append(f"{name}={value}")
    return sep.join(out)


def format_cookie_header(pairs: Iterable[Sequence[Any]]) -> str:
    """A Cookie header value for `(name, value)` pairs (values quoted when needed)."""
    return _format_pairs(pairs)


def format_set_cookie_header(cookies: Iterable[tuple[str, str | None, Any]]) -> str:
    """A Set-Cookie header value for `(name, value, attributes)` cookies."""
    out = []
    for name, value, attrs in cookies:
        fields = attrs.fields if hasattr(attrs, "fields") else attrs
        out.append(_format_pairs([(name, value), *fields], unquoted=("expires", "path")))
    return ", ".join(out)
