"""The msgpack view: the document decoded and shown as a JSON-like tree.

Strings that are not UTF-8 show `\\xNN` escapes, binary values show as hex, extension
types by code and bytes, timestamps as UTC times; maps keep their order and duplicate
keys, and keys that are not strings are shown in the same notation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

import msgpack

from flowtui.ui.contentviews.base import Context, Styles, ViewError
from flowtui.ui.contentviews.tree import Key, Mapping, Shown, scalar, tree_lines
from flowtui.ui.safe_text import SafeText, clean

__all__ = ["msgpack_view"]


def _key(value: object) -> Key:
    if isinstance(value, Mapping | list | tuple):
        return Key(clean(repr(_plain(value)), 200), Styles.KEY)
    text, _ = scalar(_convert(value))
    return Key(text, Styles.KEY)


def _plain(value: object) -> object:
    """A key that is itself a container, as Python data for a one-line repr."""
    if isinstance(value, Mapping):
        return {repr(k.text): _plain(v) for k, v in value}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _convert(value: object) -> object:
    if isinstance(value, msgpack.Timestamp):
        try:
            when = value.to_datetime().astimezone(UTC).isoformat()
        except (OverflowError, ValueError, OSError):
            when = f"{value.seconds}s {value.nanoseconds}ns"
        return Shown(f"Timestamp({when})", Styles.LITERAL)
    if isinstance(value, msgpack.ExtType):
        data = bytes(value.data)
        return Shown(f"ExtType(code={value.code}, {len(data)} bytes: {data[:64].hex(' ')})")
    return value


def _pairs(pairs: list[tuple[object, object]]) -> Mapping:
    return Mapping((_key(k), _convert(v)) for k, v in pairs)


def msgpack_view(data: bytes, ctx: Context) -> Iterator[SafeText]:
    """One msgpack document as a tree; raises `ViewError` for bytes that are not one
    (trailing bytes too, except in a preview, where the document may be cut)."""
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            unicode_errors="backslashreplace",
            strict_map_key=False,
            object_pairs_hook=_pairs,
            ext_hook=msgpack.ExtType,
            timestamp=0,
        )
    except msgpack.ExtraData as exc:
        end = len(data) - len(exc.extra)
        raise ViewError(
            f"not one msgpack document: {len(exc.extra)} more bytes after byte {end}"
        ) from None
    except msgpack.exceptions.StackError as exc:
        raise ViewError("not shown: the msgpack document is nested too deeply") from exc
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        if not ctx.complete:
            raise ViewError("the preview ends inside the msgpack document") from exc
        raise ViewError(f"not msgpack: {exc or type(exc).__name__}") from exc
    yield from tree_lines(_convert(value))
