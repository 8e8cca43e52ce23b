"""A JSON-like tree printer for decoded values (msgpack documents, protobuf messages).

It walks with an explicit stack, never recursion, so a hostile body nested 100,000
levels deep prints (indent capped) instead of overflowing Python's stack. Keys of
maps come already rendered (`Key`); scalars are shown JSON-like, bytes as hex.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from flowtui.ui.contentviews.base import LineBuilder, Styles, indent
from flowtui.ui.safe_text import SafeStr, SafeText, clean

__all__ = ["BYTES_SHOWN", "Key", "Mapping", "Shown", "scalar", "tree_lines"]

BYTES_SHOWN = 64
"""Bytes values show at most this many bytes in hex (and their length)."""


@dataclass(frozen=True)
class Shown:
    """A value already put in words (`Timestamp(...)`, `150 (zigzag 75)`): shown as is."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class Key:
    """A map key as shown: text and style (a quoted string, a field number...)."""

    text: SafeStr
    style: str = Styles.KEY


class Mapping(list[tuple[Key, object]]):
    """A map's items in order (duplicates kept), keys rendered."""


def scalar(value: object) -> tuple[SafeStr, str]:
    """A scalar (None, bool, int, float, str, bytes, `Shown`) as JSON-like safe text."""
    if value is None:
        return clean("null"), Styles.LITERAL
    if value is True or value is False:
        return clean("true" if value else "false"), Styles.LITERAL
    if isinstance(value, int | float):
        return clean(repr(value)), Styles.NUMBER
    if isinstance(value, str):
        return clean(json.dumps(value, ensure_ascii=False)), Styles.STRING
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        shown = raw[:BYTES_SHOWN].hex(" ")
        more = " …" if len(raw) > BYTES_SHOWN else ""
        return clean(f"<{len(raw)} bytes: {shown}{more}>"), Styles.LITERAL
    if isinstance(value, Shown):
        return clean(value.text), value.style
    return clean(repr(value), 200), ""


_COMMA = clean(",")
_COLON = clean(": ")
_BRACKETS = {
    True: (clean("{"), clean("}"), clean("{}")),
    False: (clean("["), clean("]"), clean("[]")),
}


def tree_lines(root: object) -> Iterator[SafeText]:
    """`root` pretty-printed: `Mapping` as `{...}`, `list`/`tuple` as `[...]`."""
    out = LineBuilder()
    # Each frame: the container's items, the index of the next one, the closer.
    stack: list[tuple[list[tuple[Key | None, object]], list[int], SafeStr]] = []
    stack.append(([(None, root)], [0], clean("")))
    while stack:
        children, index, closer = stack[-1]
        depth = len(stack) - 1
        if index[0] >= len(children):
            stack.pop()
            if stack:  # the closer of a container (the root frame has none)
                out.add(indent(depth - 1))
                out.add(closer)
                parent, parent_index, _ = stack[-1]
                if parent_index[0] < len(parent):
                    out.add(_COMMA)
                yield out.take()
            continue
        key, value = children[index[0]]
        index[0] += 1
        last = index[0] >= len(children)
        out.add(indent(depth))
        if key is not None:
            out.add(key.text, key.style)
            out.add(_COLON)
        if isinstance(value, Mapping | list | tuple):
            is_map = isinstance(value, Mapping)
            opener, close, empty = _BRACKETS[is_map]
            if not value:
                out.add(empty)
            else:
                out.add(opener)
                yield out.take()
                grand: list[tuple[Key | None, object]] = (
                    list(value) if is_map else [(None, v) for v in value]
                )
                stack.append((grand, [0], close))
                continue
        else:
            text, style = scalar(value)
            out.add(text, style)
        if not last and depth:
            out.add(_COMMA)
        yield out.take()
