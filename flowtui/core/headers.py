"""HTTP header fields (`Headers`) and Content-Type parsing, as mitmproxy has them.

Header names and values are kept as the bytes that were on the wire, in order, repeats
included; the `str` interface decodes them as UTF-8 with surrogate escapes, so any
byte survives a round trip through text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flowtui.core.multidict import MultiDict

__all__ = [
    "Headers",
    "assemble_content_type",
    "infer_content_encoding",
    "parse_content_type",
    "to_bytes",
    "to_str",
]


def to_str(value: bytes) -> str:
    """Header bytes as text (UTF-8; undecodable bytes surrogate-escaped)."""
    return value.decode("utf-8", "surrogateescape")


def to_bytes(value: str | bytes) -> bytes:
    """Text or bytes as header bytes (the reverse of `to_str`)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    raise TypeError(f"Expected str or bytes, but received {type(value).__name__}.")


class Headers(MultiDict[Any, Any]):
    """HTTP headers: case-insensitive access to raw `(name, value)` byte fields.

    `h["Accept"]` folds repeated fields into one value joined by `", "`; use `get_all`
    for fields that must not be folded (`Set-Cookie`, `Cookie`). Setting a name replaces
    all its fields. Keyword arguments add fields, with `_` in names turned into `-`.
    `bytes(h)` is the HTTP/1 header block.
    """

    def __init__(self, fields: Iterable[Sequence[bytes]] = (), **headers: str | bytes) -> None:
        super().__init__(fields)
        for name, value in self.fields:
            if not isinstance(name, bytes) or not isinstance(value, bytes):
                raise TypeError("Header fields must be bytes.")
        self.update({to_bytes(k).replace(b"_", b"-"): to_bytes(v) for k, v in headers.items()})

    @staticmethod
    def _reduce_values(values: Sequence[Any]) -> Any:
        return ", ".join(values)

    @staticmethod
    def _kconv(key: Any) -> Any:
        return key.lower()

    def __bytes__(self) -> bytes:
        if not self.fields:
            return b""
        return b"\r\n".join(name + b": " + value for name, value in self.fields) + b"\r\n"

    def __getitem__(self, key: str | bytes) -> str:
        values = self.get_all(key)
        if not values:
            raise KeyError(key)
        return ", ".join(values)

    def __setitem__(self, key: str | bytes, value: str | bytes) -> None:
        self.set_all(key, [value])

    def __delitem__(self, key: str | bytes) -> None:
        super().__delitem__(to_bytes(key))

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str | bytes):
            return False
        return bool(self.get_all(key))

    def __iter__(self) -> Iterator[str]:
        for name in super().__iter__():
            yield to_str(name)

    def get_all(self, name: str | bytes) -> list[str]:
        """Every value of `name`, unfolded, as text."""
        wanted = to_bytes(name).lower()
        return [to_str(v) for k, v in self.fields if k.lower() == wanted]

    def set_all(self, name: str | bytes, values: Iterable[str | bytes]) -> None:
        """Replace every field of `name` with one field per value (kept in place)."""
        super().set_all(to_bytes(name), [to_bytes(v) for v in values])

    def insert(self, index: int, key: str | bytes, value: str | bytes) -> None:
        """Insert a field at position `index`."""
        super().insert(index, to_bytes(key), to_bytes(value))

    def items(self, multi: bool = False) -> Any:
        """`(name, value)` text pairs; with `multi` every field, else one folded per name."""
        if multi:
            return ((to_str(k), to_str(v)) for k, v in self.fields)
        return super().items()


def parse_content_type(c: str) -> tuple[str, str, dict[str, str]] | None:
    """`"text/html; charset=UTF-8"` as `("text", "html", {"charset": "UTF-8"})`, or None
    when there is no `type/subtype`."""
    main, _, params = c.partition(";")
    kind = main.split("/", 1)
    if len(kind) != 2:
        return None
    parameters: dict[str, str] = {}
    if _:
        for clause in params.split(";"):
            key, eq, value = clause.partition("=")
            if eq:
                parameters[key.strip()] = value.strip()
    return kind[0].lower(), kind[1].lower(), parameters


def assemble_content_type(type: str, subtype: str, parameters: dict[str, str]) -> str:
    """The reverse of `parse_content_type`."""
    if not parameters:
        return f"{type}/{subtype}"
    return f"{type}/{subtype}; " + "; ".join(f"{k}={v}" for k, v in parameters.items())


_META_CHARSET = re.compile(rb"""<meta[^>]+charset=['"]?([^'">]+)""", re.IGNORECASE)
_CSS_CHARSET = re.compile(rb"""@charset "([^"]+)";""", re.IGNORECASE)


def infer_content_encoding(content_type: str, content: bytes = b"") -> str:
    """The charset of a body: the Content-Type's `charset`, else UTF-8 for JSON, a
    `<meta charset>` for HTML, an `@charset` rule for CSS, else latin-1 (which decodes
    any bytes). GB2312 and GBK are read as their superset GB 18030."""
    parsed = parse_content_type(content_type)
    enc = parsed[2].get("charset") if parsed else None
    if not enc and "json" in content_type:
        enc = "utf8"
    if not enc and "html" in content_type:
        meta = _META_CHARSET.search(content)
        if meta:
            enc = meta.group(1).decode("ascii", "ignore")
    if not enc and "text/css" in content_type:
        css = _CSS_CHARSET.match(content)
        if css:
            enc = css.group(1).decode("ascii", "ignore")
    if not enc:
        enc = "latin-1"
    if enc.lower() in ("gb2312", "gbk"):
        enc = "gb18030"
    return enc
