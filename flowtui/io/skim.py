"""A tnetstring reader for the index pass: only the fields a summary needs.

A TCP record is mostly message contents and certificates, and the list needs only
their lengths: the skimmer walks the record's top-level dict and its two connection
dicts key by key, decodes the few values the summary uses, and jumps over every other
value by its length prefix (so text inside a value can never pass for a key). The
messages list becomes `MessageTotals` (count, bytes each way, last timestamp) in one
tight loop; contents are never copied. Any damage raises `TNetStringError`: the caller
then decodes the record fully and reports it precisely.

An HTTP record is mostly bodies and headers: the request and response dicts keep their
scalar fields, a body becomes a `Blob` (its length; it is never copied, however big),
and the header list is walked item by item by length prefix, keeping only the Host and
Content-Type fields (the only ones a summary reads) and checking that every field is a
pair of byte strings, as decoding would. A WebSocket or a DNS record is kept only as
far as the summary can tell it must be decoded fully (they are few).

This is the hot loop of opening a mitmproxy capture (about 100k records a minute of
work per core), so it trades generality for fewer Python operations per value: common
scalars are decoded inline and anything else goes to the full parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flowtui.core.connection import Client, Server
from flowtui.core.http import RequestData, ResponseData
from flowtui.core.summary import Blob, MessageTotals
from flowtui.io.tnetstring import TNetStringError, parse_at

__all__ = ["skim"]

_TOP = frozenset({b"id", b"type", b"version", b"marked", b"comment", b"error", b"is_replay",
                  b"intercepted", b"metadata", b"websocket"})  # fmt: skip
_CONN = frozenset({b"peername", b"address", b"sni", b"tls_version", b"alpn", b"alpn_offers",
                   b"timestamp_start", b"timestamp_end", b"timestamp_tls_setup"})  # fmt: skip
_MESSAGE_FLOW_KEYS = frozenset({b"version", b"type", b"id", b"error", b"client_conn",
    b"server_conn", b"intercepted", b"is_replay", b"marked", b"metadata", b"comment",
    b"timestamp_created", b"messages"})  # fmt: skip
"""The fields of a format-21 TCP or UDP flow's state (`backup` may be there too)."""
_HTTP_FLOW_KEYS = (_MESSAGE_FLOW_KEYS - {b"messages"}) | {b"request", b"response", b"websocket"}
"""The fields of a format-21 HTTP flow's state."""
_CLIENT_KEYS = frozenset(name.encode() for name, _ in Client._fields())
_SERVER_KEYS = frozenset(name.encode() for name, _ in Server._fields())
_REQUEST_KEYS = frozenset(f.encode() for f in RequestData.__dataclass_fields__)
_RESPONSE_KEYS = frozenset(f.encode() for f in ResponseData.__dataclass_fields__)
_PART = frozenset({b"http_version", b"timestamp_start", b"timestamp_end", b"host", b"port",
                   b"method", b"scheme", b"authority", b"path", b"status_code", b"reason",
                   b"trailers"})  # fmt: skip
"""What the skimmer keeps of a request or response besides its body and headers."""

_ITEM = re.compile(rb"(\d{1,12}):([^;]{0,64});(\d{1,12}):")
"""A dict item's head: key length, key text (keys are short names), value length. A key
longer than 64 bytes or holding `;` does not match: the record then goes the careful way."""


def skim(buf: bytes, start: int = 0, stop: int | None = None) -> dict[str, Any]:
    """The summary fields of the record `buf[start:stop]` (connections, messages,
    requests and responses skimmed likewise; the record is not copied out of `buf`)."""
    stop = len(buf) if stop is None else stop
    colon = buf.find(b":", start, start + 13)
    digits = buf[start:colon]
    if colon <= start or not digits.isdigit():
        raise TNetStringError("invalid length prefix", start)
    end = colon + 1 + int(digits)
    if end + 1 != stop or buf[end] != 0x7D:
        raise TNetStringError("not a dict record", start)
    out = _dict(buf, colon + 1, end, "")
    kind = out.get("type")
    if kind in ("tcp", "udp", "http") and not _fields_complete(out, kind):
        raise TNetStringError("fields missing or unexpected: decode it to say which", 0)
    return out


def _fields_complete(out: dict[str, Any], kind: str) -> bool:
    """True if a TCP, UDP or HTTP state has exactly the fields the model reads (else
    decoding it gives an unreadable flow, whose summary the full decode makes)."""
    top: Layout = out[" keys"]
    client, server = out.get("client_conn"), out.get("server_conn")
    if kind == "http":
        request, response = out.get("request"), out.get("response")
        if (
            top.names - {b"backup"} != _HTTP_FLOW_KEYS
            or not isinstance(request, dict)
            or request[" keys"].names != _REQUEST_KEYS
            or not request[" keys"].unique
            or not (
                response is None
                or (
                    isinstance(response, dict)
                    and response[" keys"].names == _RESPONSE_KEYS
                    and response[" keys"].unique
                )
            )
        ):
            return False
    elif top.names - {b"backup"} != _MESSAGE_FLOW_KEYS:
        return False
    return (
        top.unique
        and isinstance(client, dict)
        and isinstance(server, dict)
        and client[" keys"].names == _CLIENT_KEYS
        and client[" keys"].unique
        and server[" keys"].names == _SERVER_KEYS
        and server[" keys"].unique
    )


_SKIP, _WANTED, _MESSAGES, _CONN_DICT, _BACKUP, _PART_DICT, _BODY, _HEADERS = range(8)
"""What the skimmer does with a value (`_SKIP` is 0: the hot loop tests it as false)."""


class Layout:
    """A dict's keys in the order written, with what the skimmer does with each value.

    A writer lays out every record's dicts alike, so after the first record each dict
    is checked against the layout learned from the one before: one `startswith` per
    key instead of parsing it (a record that differs is walked key by key, and its
    layout learned in turn)."""

    __slots__ = ("last", "misses", "names", "shapes", "steps", "tokens", "unique")

    def __init__(self, keys: list[bytes], slot: str) -> None:
        self.shapes: list[Shape] = []
        """Shapes learned from records of this layout, the latest first (see `Shape`)."""
        self.misses = 0
        """Records of this layout that no shape matched."""
        self.last: list[bytes | None] = []
        """The short items of the last record learned from (a shape's literals are the
        items two records had alike)."""
        self.names = frozenset(keys)
        """The keys, for checking that a state has the fields a flow has."""
        self.unique = len(self.names) == len(keys)
        """False if a key repeats (decoding keeps the last: not for the fast path)."""
        self.tokens = [b"%d:%s;" % (len(k), k) for k in keys]
        """Each key as written (its length prefix, the key, the text tag)."""
        self.steps = [
            (re.compile(re.escape(token) + rb"(\d{1,12}):").match, _name(k), _action(k, slot))
            for token, k in zip(self.tokens, keys, strict=True)
        ]
        """Per key: a match of its token and the value's length prefix (one C call
        checks both), its name as text, and what to do with its value."""


_LITERAL_MAX = 24
"""Items up to this long (key, prefix and tag aside) may be literals of a `Shape`."""
_MAX_SHAPES = 4

Segment = tuple[Callable[..., Any], str | None, int, dict[str, Any]]
"""A `Shape`'s step: its match, the varying key's name and action, the constants."""


class Shape:
    """A dict's layout together with the exact bytes of the short items two records had
    alike (a null error, a `false` flag, `HTTP/1.1`): a record whose dict has them too
    is walked a run of keys at a time.

    Each segment matches the literal items before a key whose value varies, then that
    key and its value's length prefix; the last may be literals only. A kept literal's
    value (`constants`) was decoded from those same bytes. A record that differs
    anywhere fails a match and is walked key by key: a shape only saves time, it never
    decides what a value is."""

    __slots__ = ("segments",)

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments


def _learn_shape(buf: bytes, pos: int, end: int, layout: Layout) -> Shape | None:
    """The shape of the dict at `buf[pos:end]` (which has `layout`'s keys) and the
    record learned from before, or None (the first one, or nothing alike)."""
    segments: list[Segment] = []
    pending: list[bytes] = []
    constants: dict[str, Any] = {}
    before = layout.last
    layout.last = items = []
    steps = zip(layout.steps, layout.tokens, strict=True)
    for i, ((match, name, action), token) in enumerate(steps):
        m = match(buf, pos, end)
        if m is None:
            return None
        vpos, vdata = m.start(1), m.end()
        tag_at = vdata + int(m[1])
        if tag_at >= end:
            return None
        item = buf[pos : tag_at + 1] if tag_at + 1 - vpos <= _LITERAL_MAX else None
        items.append(item)
        literal = item is not None and i < len(before) and before[i] == item
        value: Any = None
        if literal and action == _WANTED and buf[tag_at] in b";,#^!~":
            try:
                value = _value(buf, vpos, vdata, tag_at)
            except TNetStringError:
                literal = False
        elif literal and action == _BACKUP:
            literal = tag_at == vdata and buf[tag_at] == 0x7E  # null
        elif action != _SKIP:
            literal = False
        if literal:
            pending.append(re.escape(buf[pos : tag_at + 1]))
            if action != _SKIP:
                constants[name] = value
        else:
            pattern = b"".join(pending) + re.escape(token) + rb"(\d{1,12}):"
            segments.append((re.compile(pattern).match, name, action, constants))
            pending, constants = [], {}
        pos = tag_at + 1
    if pending or constants:
        segments.append((re.compile(b"".join(pending)).match, None, _SKIP, constants))
    if pos != end or not before or len(segments) == len(layout.steps):
        return None
    return Shape(segments)


def _by_shape(
    buf: bytes, pos: int, end: int, shape: Shape, layout: Layout
) -> dict[str, Any] | None:
    """`_follow` a run of keys at a time, if the dict has `shape` (else None)."""
    out: dict[str, Any] = {}
    for match, name, action, constants in shape.segments:
        m = match(buf, pos, end)
        if m is None:
            return None
        if constants:
            out.update(constants)
        if name is None:
            pos = m.end()
        elif action:
            vdata = m.end()
            tag_at = vdata + int(m[1])
            if tag_at >= end:
                return None
            if action != _WANTED:
                out[name] = _take(buf, m.start(1), vdata, tag_at, action, name)
            else:  # the common scalars inline (as `_kept`)
                tag = buf[tag_at]
                if tag == 0x3B:  # ; text
                    try:
                        out[name] = buf[vdata:tag_at].decode()
                    except UnicodeDecodeError:
                        raise TNetStringError("invalid UTF-8", m.start(1)) from None
                elif tag == 0x5E:  # ^ float
                    try:
                        out[name] = float(buf[vdata:tag_at])
                    except ValueError:
                        raise TNetStringError("invalid float", m.start(1)) from None
                elif tag == 0x2C:  # , bytes
                    out[name] = buf[vdata:tag_at]
                elif tag == 0x7E and vdata == tag_at:  # ~ null
                    out[name] = None
                else:
                    out[name] = _kept(buf, m.start(1), vdata, tag_at, action, name)
            pos = tag_at + 1
        else:
            pos = m.end() + int(m[1]) + 1
    if pos != end:
        return None
    out[" keys"] = layout
    return out


def _name(key: bytes) -> str:
    """A key as text (any bytes: only the ASCII ones the skimmer keeps matter)."""
    return key.decode("ascii", "backslashreplace")


def _action(key: bytes, slot: str) -> int:
    """What the skimmer does with the value of `key` in the dict at `slot`."""
    if slot in ("request", "response"):
        if key == b"content":
            return _BODY
        if key == b"headers":
            return _HEADERS
        return _WANTED if key in _PART else _SKIP
    if slot:
        return _WANTED if key in _CONN else _SKIP
    if key in _TOP:
        return _BACKUP if key == b"websocket" else _WANTED
    if key == b"messages":
        return _MESSAGES
    if key in (b"client_conn", b"server_conn"):
        return _CONN_DICT
    if key in (b"request", b"response"):
        return _PART_DICT
    return _BACKUP if key == b"backup" else _SKIP


_LEARNED: dict[str, Layout] = {}
"""The last layout seen of the top-level dict (`""`), `client_conn`, `server_conn`,
`request` and `response`."""
_LAYOUTS: dict[tuple[Any, ...], Layout] = {}
"""Every layout seen, by slot and keys (a capture mixing flow types has a few)."""


def _dict(buf: bytes, pos: int, end: int, slot: str) -> dict[str, Any]:
    """A dict's wanted items (its tag is at `end`; `slot` is its key in the record, `""`
    for the record itself); its `Layout` is kept as `" keys"` (a state with missing or
    extra fields is not a flow)."""
    learned = _LEARNED.get(slot)
    if learned is not None:
        for shape in learned.shapes:
            out = _by_shape(buf, pos, end, shape, learned)
            if out is not None:
                return out
        out = _follow(buf, pos, end, learned)
        if out is not None:
            learned.misses += 1
            if learned.misses <= 16 or learned.misses % 64 == 0:  # a capture has few shapes
                new = _learn_shape(buf, pos, end, learned)
                if new is not None:
                    learned.shapes = [new, *learned.shapes[: _MAX_SHAPES - 1]]
            return out
    out = {}
    item = _ITEM.match
    keys: list[bytes] = []
    steps: list[tuple[int, int, int, int]] = []
    while pos < end:
        m = item(buf, pos, end)
        if m is None:
            raise TNetStringError("invalid dict item", pos)
        klen, key, vlen = m.groups()
        if len(key) != int(klen):
            raise TNetStringError("invalid dict key", pos)
        vdata = m.end()
        tag_at = vdata + int(vlen)
        if tag_at >= end:
            raise TNetStringError("value runs past its container", pos, truncated=True)
        keys.append(key)
        steps.append((pos + len(klen) + len(key) + 2, vdata, tag_at, len(keys) - 1))
        pos = tag_at + 1
    layout = _LAYOUTS.get((slot, *keys))
    if layout is None:
        if len(_LAYOUTS) > 256:
            _LAYOUTS.clear()
        layout = _LAYOUTS[(slot, *keys)] = Layout(keys, slot)
    _LEARNED[slot] = layout
    for vpos, vdata, tag_at, i in steps:
        _, name, action = layout.steps[i]
        if action != _SKIP:
            out[name] = _take(buf, vpos, vdata, tag_at, action, name)
    out[" keys"] = layout
    return out


def _follow(buf: bytes, pos: int, end: int, layout: Layout) -> dict[str, Any] | None:
    """The dict's wanted items if its keys are exactly `layout`'s, else None.

    A skipped value costs one regex match (its key and length prefix), an `int` and two
    additions; a value that runs past the dict makes the next match fail (or the end
    check), so only kept values check their bounds."""
    out: dict[str, Any] = {}
    for match, name, action in layout.steps:
        m = match(buf, pos, end)
        if m is None:
            return None
        if action:
            vdata = m.end()
            tag_at = vdata + int(m[1])
            if tag_at >= end:
                return None
            out[name] = _kept(buf, m.start(1), vdata, tag_at, action, name)
            pos = tag_at + 1
        else:
            pos = m.end() + int(m[1]) + 1
    if pos != end:
        return None
    out[" keys"] = layout
    return out


def _kept(buf: bytes, vpos: int, vdata: int, tag_at: int, action: int, name: str) -> Any:
    """A kept value: the common scalars inline (the hot loop of the index)."""
    if action == _WANTED:
        tag = buf[tag_at]
        if tag == 0x3B:  # ; text
            try:
                return buf[vdata:tag_at].decode()
            except UnicodeDecodeError:
                raise TNetStringError("invalid UTF-8 in text value", vpos) from None
        if tag == 0x2C:  # , bytes
            return buf[vdata:tag_at]
        if tag == 0x7E and vdata == tag_at:  # ~ null
            return None
        if tag == 0x5E:  # ^ float
            try:
                return float(buf[vdata:tag_at])
            except ValueError:
                raise TNetStringError("invalid float", vpos) from None
        if tag == 0x23:  # # integer
            try:
                return int(buf[vdata:tag_at])
            except ValueError:
                raise TNetStringError("invalid integer", vpos) from None
        return _value(buf, vpos, vdata, tag_at)
    return _take(buf, vpos, vdata, tag_at, action, name)


def _take(buf: bytes, vpos: int, vdata: int, tag_at: int, action: int, name: str) -> Any:
    """What the skimmer keeps of a value (`vpos`: its prefix, `vdata`: its payload)."""
    if action == _WANTED:
        return _value(buf, vpos, vdata, tag_at)
    if action == _MESSAGES:
        if buf[tag_at] != 0x5D:
            raise TNetStringError("messages is not a list", vpos)
        return _messages(buf, vdata, tag_at)
    if action == _BODY:
        tag = buf[tag_at]
        if tag == 0x2C:  # , bytes: only its length
            return Blob(tag_at - vdata)
        if tag == 0x7E and tag_at == vdata:
            return None
        raise TNetStringError("body is neither bytes nor null", vpos)
    if action == _HEADERS:
        if buf[tag_at] != 0x5D:
            raise TNetStringError("headers are not a list", vpos)
        return _headers(buf, vdata, tag_at)
    if action in (_CONN_DICT, _PART_DICT):
        tag = buf[tag_at]
        if tag == 0x7D:
            return _dict(buf, vdata, tag_at, name)
        if action == _PART_DICT and tag == 0x7E and tag_at == vdata:
            return None  # no response
        raise TNetStringError(f"{name} is not a dict", vpos)
    return None if tag_at == vdata and buf[tag_at] == 0x7E else True  # backup, websocket


_FIELD = re.compile(rb"(\d{1,12}):(\d{1,12}):")
"""A header field's head: the pair's length prefix and its name's."""
_LENGTH = re.compile(rb"(\d{1,12}):")


def _headers(buf: bytes, pos: int, end: int) -> list[tuple[bytes, bytes]]:
    """The Host and Content-Type fields of a header list (each item checked to be a
    pair of byte strings, as decoding checks it; the rest skipped by length)."""
    field, length = _FIELD.match, _LENGTH.match
    out = []
    while pos < end:
        m = field(buf, pos, end)
        if m is None:
            raise TNetStringError("invalid header field", pos)
        item_end = m.end(1) + 1 + int(m[1])
        name_at = m.end()
        name_end = name_at + int(m[2])
        if item_end >= end or buf[item_end] != 0x5D or name_end >= item_end:
            raise TNetStringError("header field is not a list", pos)
        if buf[name_end] != 0x2C:
            raise TNetStringError("header name is not bytes", pos)
        v = length(buf, name_end + 1, item_end)
        if v is None or v.end() + int(v[1]) + 1 != item_end or buf[item_end - 1] != 0x2C:
            raise TNetStringError("header value is not bytes, or more than a pair", pos)
        size = name_end - name_at
        if size == 4 or size == 12:
            name = buf[name_at:name_end]
            lower = name.lower()
            if lower == b"host" or lower == b"content-type":
                out.append((name, buf[v.end() : item_end - 1]))
        pos = item_end + 1
    return out


def _value(buf: bytes, start: int, data: int, tag_at: int) -> Any:
    """The value at `start` whose payload is `buf[data:tag_at]`: common scalars and
    lists of them inline, anything else by the full parser."""
    tag = buf[tag_at]
    if tag == 0x7E and data == tag_at:  # ~ null
        return None
    if tag == 0x3B:  # ; text
        try:
            return buf[data:tag_at].decode()
        except UnicodeDecodeError:
            raise TNetStringError("invalid UTF-8 in text value", start) from None
    if tag == 0x5E:  # ^ float
        try:
            return float(buf[data:tag_at])
        except ValueError:
            raise TNetStringError("invalid float", start) from None
    if tag == 0x2C:  # , bytes
        return buf[data:tag_at]
    if tag == 0x21:  # ! boolean
        text = buf[data:tag_at]
        if text == b"true" or text == b"false":
            return text == b"true"
        raise TNetStringError("invalid boolean", start)
    if tag == 0x23:  # # integer
        try:
            return int(buf[data:tag_at])
        except ValueError:
            raise TNetStringError("invalid integer", start) from None
    if tag == 0x5D:  # ] a list: an address or ALPN offers
        items: list[Any] = []
        pos = data
        length = _LENGTH.match
        while pos < tag_at:
            m = length(buf, pos, tag_at)
            if m is None:
                raise TNetStringError("invalid length prefix", pos)
            item_data = m.end()
            item_tag = item_data + int(m[1])
            if item_tag >= tag_at:
                raise TNetStringError("value runs past its container", pos, truncated=True)
            item = buf[item_tag]
            if item == 0x3B:  # ; text (a host)
                try:
                    items.append(buf[item_data:item_tag].decode())
                except UnicodeDecodeError:
                    raise TNetStringError("invalid UTF-8 in text value", pos) from None
            elif item == 0x23:  # # integer (a port)
                try:
                    items.append(int(buf[item_data:item_tag]))
                except ValueError:
                    raise TNetStringError("invalid integer", pos) from None
            elif item == 0x2C:  # , bytes (an ALPN protocol)
                items.append(buf[item_data:item_tag])
            elif item in b"]}":
                return parse_at(buf, start, tag_at + 1, 1)[0]  # nested: the careful way
            else:
                items.append(_value(buf, pos, item_data, item_tag))
            pos = item_tag + 1
        return items
    return parse_at(buf, start, tag_at + 1, 1)[0]


def _messages(buf: bytes, pos: int, end: int) -> MessageTotals:
    """Count and total the messages in one tight loop: each item is
    `N:` `4:true!`|`5:false!` `L:` content `,` `T:` timestamp `^`|`#` `]`."""
    find, startswith = buf.find, buf.startswith
    count = up = down = 0
    last: float | int | None = None
    while pos < end:
        colon = find(b":", pos, pos + 13)
        digits = buf[pos:colon]
        if colon < 0 or not digits.isdigit():
            raise TNetStringError("invalid length prefix", pos)
        mend = colon + 1 + int(digits)
        if mend >= end or buf[mend] != 0x5D:
            raise TNetStringError("message is not a list", pos)
        if startswith(b"4:true!", colon + 1):
            client, p = True, colon + 8
        elif startswith(b"5:false!", colon + 1):
            client, p = False, colon + 9
        else:
            raise TNetStringError("message direction is not a boolean", colon + 1)
        colon = find(b":", p, p + 13)
        digits = buf[p:colon]
        if colon < 0 or not digits.isdigit():
            raise TNetStringError("invalid length prefix", p)
        size = int(digits)
        p = colon + 1 + size
        if p >= mend or buf[p] != 0x2C:
            raise TNetStringError("message content is not bytes", colon)
        p += 1
        colon = find(b":", p, p + 13)
        digits = buf[p:colon]
        if colon < 0 or not digits.isdigit():
            raise TNetStringError("invalid length prefix", p)
        tag_at = colon + 1 + int(digits)
        if tag_at + 1 != mend:
            raise TNetStringError("message has extra or missing items", p)
        tag = buf[tag_at]
        try:
            if tag == 0x5E:  # ^ as tnetstring.parse_at reads it
                last = float(buf[colon + 1 : tag_at])
            elif tag == 0x23:  # #
                last = int(buf[colon + 1 : tag_at])
            else:  # a full decode turns other timestamps into an unreadable flow
                raise TNetStringError("message timestamp is not a number", p)
        except ValueError:
            raise TNetStringError("invalid message timestamp", p) from None
        if client:
            up += size
        else:
            down += size
        count += 1
        pos = mend + 1
    return MessageTotals(count, up, down, last)
