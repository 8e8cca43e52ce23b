"""Typed netstrings as mitmproxy writes them: the framing of mitmproxy's capture files.

Every value is ``<decimal length>:<payload><type tag>``. Tags: ``,`` bytes, ``;`` UTF-8 text
(mitmproxy's extension), ``#`` int, ``^`` float, ``!`` bool, ``~`` null, ``]`` list, ``}`` dict.
Tuples are written as lists and read back as lists. Dict items are written in reverse
insertion order, as mitmproxy does; the reader does not care about order.

The reader works on offsets into one ``bytes`` object (no re-slicing of big buffers, so it is
linear in the input) and checks every length prefix against the bytes that are actually there
before using it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

__all__ = [
    "MAX_DEPTH",
    "MAX_PREFIX_DIGITS",
    "TNetStringError",
    "dump",
    "dumps",
    "loads",
    "loads_capped",
    "loads_head",
    "loads_head_sparse",
    "parse_at",
    "parse_length_prefix",
]

MAX_PREFIX_DIGITS = 12
"""mitmproxy rejects a length prefix of more than 12 digits; so do we."""

MAX_DEPTH = 256
"""Nesting limit when reading: real flow states are about 8 deep; hostile input is not."""


class TNetStringError(ValueError):
    """Malformed tnetstring data; ``offset`` is where in the input the problem was found."""

    def __init__(self, reason: str, offset: int, *, truncated: bool = False) -> None:
        super().__init__(f"{reason} (at byte {offset})")
        self.reason = reason
        self.offset = offset
        self.truncated = truncated
        """True when the value ran past ``end``: a cut input at top level, corruption inside."""


# --------------------------------------------------------------------------- writing


def dumps(value: Any) -> bytes:
    """Encode one value the way mitmproxy's ``tnetstring.dumps`` does."""
    out: list[bytes] = []
    _dump(value, out, 0)
    return b"".join(out)


def dump(value: Any, fileobj: BinaryIO) -> None:
    """Encode one value and write it to a binary file."""
    fileobj.write(dumps(value))


def _dump(value: Any, out: list[bytes], depth: int) -> int:
    """Append the encoding of ``value`` to ``out``; return its size in bytes."""
    t = type(value)
    if t is str:
        data = value.encode("utf-8")
        head = b"%d:" % len(data)
        out += (head, data, b";")
        return len(head) + len(data) + 1
    if t is bytes:
        head = b"%d:" % len(value)
        out += (head, value, b",")
        return len(head) + len(value) + 1
    if value is None:
        out.append(b"0:~")
        return 3
    if value is True:
        out.append(b"4:true!")
        return 7
    if value is False:
        out.append(b"5:false!")
        return 8
    if depth > MAX_DEPTH:
        raise ValueError(f"value nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        slot = len(out)
        out.append(b"")
        size = 0
        for key, item in reversed(value.items()):
            size += _dump(key, out, depth + 1)
            size += _dump(item, out, depth + 1)
        out.append(b"}")
        out[slot] = head = b"%d:" % size
        return len(head) + size + 1
    if isinstance(value, list | tuple):
        slot = len(out)
        out.append(b"")
        size = 0
        for item in value:
            size += _dump(item, out, depth + 1)
        out.append(b"]")
        out[slot] = head = b"%d:" % size
        return len(head) + size + 1
    if isinstance(value, int):
        data = int.__repr__(value).encode("ascii")
        tag = b"#"
    elif isinstance(value, float):
        data = float.__repr__(value).encode("ascii")
        tag = b"^"
    elif isinstance(value, str):
        return _dump(str(value), out, depth)
    elif isinstance(value, bytes):
        return _dump(bytes(value), out, depth)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as a tnetstring")
    head = b"%d:" % len(data)
    out += (head, data, tag)
    return len(head) + len(data) + 1


# --------------------------------------------------------------------------- reading


def loads(data: bytes | bytearray | memoryview) -> Any:
    """Decode exactly one value that fills ``data`` completely."""
    buf = bytes(data)
    value, end = parse_at(buf, 0, len(buf))
    if end != len(buf):
        raise TNetStringError(f"{len(buf) - end} bytes of trailing data", end)
    return value


def loads_head(data: bytes, list_key: str, items: int, size: int) -> dict[Any, Any]:
    """Decode a dict that fills `data`, keeping of its list under `list_key` only the
    first items: `items` of them, or fewer once they take `size` bytes (at least one).

    The rest of that list is skipped unread (its length prefix says where it ends), so a
    flow's first messages and every other field decode in time that does not grow with
    the messages after them. Raises TNetStringError if `data` is not such a dict.
    """
    end = len(data)
    length, pos = parse_length_prefix(data, 0, end)
    tag_at = pos + length
    if tag_at != end - 1 or data[tag_at] != 0x7D:  # }
        raise TNetStringError("not a dict filling the record", 0)
    result: dict[Any, Any] = {}
    found = False
    names = (list_key, list_key.encode())  # old captures have bytes keys
    while pos < tag_at:
        key_at = pos
        key, pos = _next(data, pos, tag_at, 1)
        if pos >= tag_at:
            raise TNetStringError("dict key without a value", key_at)
        if not found and key in names:
            value, pos = _list_head(data, pos, tag_at, items, size)
            found = True
        else:
            value, pos = _next(data, pos, tag_at, 1)
        try:
            result[key] = value
        except TypeError:
            raise TNetStringError("unhashable dict key", key_at) from None
    if not found:
        raise TNetStringError(f"no {list_key!r} list", 0)
    return result


def loads_head_sparse(
    read: Callable[[int, int], bytes], total: int, list_key: str, items: int, size: int, head: int
) -> dict[Any, Any]:
    """`loads_head` of a `total`-byte dict whose first key is `list_key`, reading only its
    first `head` bytes and what follows the list: `read(offset, length)` gives bytes of
    the dict. The list's items are those of the first `items` (fewer once they take
    `size` bytes) that lie whole within `head`; at least one, or TNetStringError.

    For a big flow in mitmproxy's format (its writer puts `messages` first): a preview
    reads about `head` bytes however long the record is.
    """
    start = read(0, min(head, total))
    end = len(start)
    length, pos = parse_length_prefix(start, 0, end)
    if pos + length != total - 1:
        raise TNetStringError("not a dict filling the record", 0)
    key, pos = _next(start, pos, end, 1)
    if key not in (list_key, list_key.encode()):
        raise TNetStringError(f"{list_key!r} is not the first key", 0)
    list_length, item = parse_length_prefix(start, pos, end)
    list_tag = item + list_length
    if list_tag >= total - 1:
        raise TNetStringError("not a list", pos)
    stop, first = min(list_tag, end), item
    values: list[Any] = []
    while item < stop and len(values) < items and (not values or item - first < size):
        try:
            value, item = _next(start, item, stop, 2)
        except TNetStringError:
            break  # the next item runs past `head`
        values.append(value)
    if not values and list_length:
        raise TNetStringError("the first item is longer than the head read", item)
    rest = read(list_tag, total - list_tag)  # "]", the other items, "}"
    if rest[:1] != b"]" or rest[-1:] != b"}":
        raise TNetStringError("not a list", pos)
    return _fill_dict({key: values}, rest, 1, len(rest) - 1, 1)


CAPPED_WHOLE = 1 << 16
"""`loads_capped` reads a value up to this long at once (and parses it in memory)."""


def loads_capped(read: Callable[[int, int], bytes], total: int, cap: int) -> Any:
    """The `total`-byte value that `read(offset, length)` gives, with every byte string
    longer than `cap` cut to its first `cap` bytes, which are all that is read of it.

    A preview of an HTTP flow with big bodies: the record's structure and small values
    are read as usual, a body of 50 MB costs `cap` bytes. Raises TNetStringError if the
    value is damaged where it is read (what is skipped is not checked)."""
    value, end = _capped(read, 0, total, cap, 0)
    if end != total:
        raise TNetStringError(f"{total - end} bytes of trailing data", end)
    return value


def _capped(
    read: Callable[[int, int], bytes], start: int, end: int, cap: int, depth: int
) -> tuple[Any, int]:
    head = read(start, min(MAX_PREFIX_DIGITS + 1, end - start))
    length, data = parse_length_prefix(head, 0, len(head))
    data += start
    tag_at = data + length
    if tag_at >= end:
        raise TNetStringError("value runs past its container", start, truncated=True)
    if tag_at + 1 - start <= CAPPED_WHOLE:
        value, _ = parse_at(read(start, tag_at + 1 - start), 0, tag_at + 1 - start, depth)
        return value, tag_at + 1
    tag = read(tag_at, 1)
    if tag == b",":
        return read(data, min(cap, length)), tag_at + 1
    if tag in (b"]", b"}"):
        if depth >= MAX_DEPTH:
            raise TNetStringError(f"nested deeper than {MAX_DEPTH} levels", start)
        items = []
        pos = data
        while pos < tag_at:
            item, pos = _capped(read, pos, tag_at, cap, depth + 1)
            items.append(item)
        if tag == b"]":
            return items, tag_at + 1
        if len(items) % 2:
            raise TNetStringError("dict key without a value", start)
        try:
            return dict(zip(items[::2], items[1::2], strict=True)), tag_at + 1
        except TypeError:
            raise TNetStringError("unhashable dict key", start) from None
    value, _ = parse_at(read(start, tag_at + 1 - start), 0, tag_at + 1 - start, depth)
    return value, tag_at + 1


def _fill_dict(
    result: dict[Any, Any], buf: bytes, pos: int, end: int, depth: int
) -> dict[Any, Any]:
    """Add the key/value pairs at `buf[pos:end]` (items at `depth`) to `result`."""
    while pos < end:
        key_at = pos
        key, pos = _next(buf, pos, end, depth)
        if pos >= end:
            raise TNetStringError("dict key without a value", key_at)
        value, pos = _next(buf, pos, end, depth)
        try:
            result[key] = value
        except TypeError:
            raise TNetStringError("unhashable dict key", key_at) from None
    return result


def _list_head(buf: bytes, start: int, end: int, items: int, size: int) -> tuple[list[Any], int]:
    """The first items of the list at `start` (see `loads_head`) and the offset after it."""
    length, pos = parse_length_prefix(buf, start, end)
    tag_at = pos + length
    if tag_at >= end or buf[tag_at] != 0x5D:  # ]
        raise TNetStringError("not a list", start)
    head: list[Any] = []
    first = pos
    while pos < tag_at and len(head) < items and (not head or pos - first < size):
        item, pos = _next(buf, pos, tag_at, 2)
        head.append(item)
    return head, tag_at + 1


def parse_length_prefix(buf: bytes, start: int, end: int) -> tuple[int, int]:
    """Read ``<digits>:`` at ``start``; return (payload length, payload start).

    Enforces mitmproxy's limits: 1 to 12 ASCII digits, no leading zero (except ``0`` itself).
    """
    colon = buf.find(b":", start, min(end, start + MAX_PREFIX_DIGITS + 1))
    if colon < 0:
        digits = buf[start : min(end, start + MAX_PREFIX_DIGITS + 1)]
        if digits.isdigit():
            if len(digits) > MAX_PREFIX_DIGITS:
                raise TNetStringError("length prefix longer than 12 digits", start)
            raise TNetStringError("truncated length prefix", start, truncated=True)
        if not digits:
            raise TNetStringError("missing length prefix", start, truncated=True)
        raise TNetStringError(f"invalid length prefix {_show(digits)}", start)
    digits = buf[start:colon]
    if not digits.isdigit():
        raise TNetStringError(f"invalid length prefix {_show(digits)}", start)
    if len(digits) > 1 and digits[0] == 0x30:
        raise TNetStringError(f"length prefix with a leading zero {_show(digits)}", start)
    return int(digits), colon + 1


def parse_at(buf: bytes, start: int, end: int, depth: int = 0) -> tuple[Any, int]:
    """Decode the value at ``buf[start:end]``; return it and the offset just after it."""
    length, pos = parse_length_prefix(buf, start, end)
    tag_at = pos + length
    if tag_at >= end:
        raise TNetStringError(
            f"value needs {tag_at + 1 - pos} bytes, {end - pos} left",
            start,
            truncated=True,
        )
    tag = buf[tag_at]
    if tag == 0x3B:  # ;
        try:
            return buf[pos:tag_at].decode("utf-8"), tag_at + 1
        except UnicodeDecodeError as e:
            raise TNetStringError(f"invalid UTF-8 in text value: {e.reason}", start) from None
    if tag == 0x2C:  # ,
        return buf[pos:tag_at], tag_at + 1
    if tag == 0x5D:  # ]
        if depth >= MAX_DEPTH:
            raise TNetStringError(f"nested deeper than {MAX_DEPTH} levels", start)
        items = []
        while pos < tag_at:
            item, pos = _next(buf, pos, tag_at, depth + 1)
            items.append(item)
        return items, tag_at + 1
    if tag == 0x7D:  # }
        if depth >= MAX_DEPTH:
            raise TNetStringError(f"nested deeper than {MAX_DEPTH} levels", start)
        return _fill_dict({}, buf, pos, tag_at, depth + 1), tag_at + 1
    return _parse_scalar(buf, start, pos, tag_at, tag), tag_at + 1


def _next(buf: bytes, start: int, end: int, depth: int) -> tuple[Any, int]:
    """`parse_at` for an item of a container: bytes, text, numbers and nulls are read
    here in one step (a 10,000-message flow is 30,000 of them); anything else, and
    anything invalid, goes to `parse_at`, which also words the errors."""
    colon = buf.find(b":", start, start + MAX_PREFIX_DIGITS + 1)
    if start < colon < end:
        digits = buf[start:colon]
        if digits.isdigit() and (colon == start + 1 or digits[0] != 0x30):
            tag_at = colon + 1 + int(digits)
            if tag_at < end:
                tag = buf[tag_at]
                if tag == 0x2C:  # ,
                    return buf[colon + 1 : tag_at], tag_at + 1
                try:
                    if tag == 0x5E:  # ^
                        return float(buf[colon + 1 : tag_at]), tag_at + 1
                    if tag == 0x23:  # #
                        return int(buf[colon + 1 : tag_at]), tag_at + 1
                    if tag == 0x3B:  # ;
                        return buf[colon + 1 : tag_at].decode("utf-8"), tag_at + 1
                except ValueError:  # UnicodeDecodeError too: parse_at words the error
                    pass
                if tag == 0x21:  # !
                    data = buf[colon + 1 : tag_at]
                    if data == b"true" or data == b"false":
                        return data == b"true", tag_at + 1
                elif tag == 0x5D and depth < MAX_DEPTH:  # ] (deeper: parse_at says so)
                    items = []
                    pos = colon + 1
                    while pos < tag_at:
                        item, pos = _next(buf, pos, tag_at, depth + 1)
                        items.append(item)
                    return items, tag_at + 1
                elif tag == 0x7E and tag_at == colon + 1:  # ~
                    return None, tag_at + 1
    return parse_at(buf, start, end, depth)


def _parse_scalar(buf: bytes, start: int, pos: int, tag_at: int, tag: int) -> Any:
    """Decode the non-container types."""
    data = buf[pos:tag_at]
    if tag == 0x23:  # #
        try:
            return int(data)
        except ValueError:
            raise TNetStringError(f"invalid integer {_show(data)}", start) from None
    if tag == 0x5E:  # ^
        try:
            return float(data)
        except ValueError:
            raise TNetStringError(f"invalid float {_show(data)}", start) from None
    if tag == 0x21:  # !
        if data == b"true":
            return True
        if data == b"false":
            return False
        raise TNetStringError(f"invalid boolean {_show(data)}", start)
    if tag == 0x7E:  # ~
        if data:
            raise TNetStringError(f"invalid null {_show(data)}", start)
        return None
    raise TNetStringError(f"unknown type tag {_show(bytes((tag,)))}", tag_at)


def _show(data: bytes) -> str:
    """A short, safe rendering of some input bytes for an error message."""
    if len(data) > 16:
        return repr(data[:16])[:-1] + "…'"
    return repr(data)
