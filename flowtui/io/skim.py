"""A tnetstring reader for the index pass: only the fields a summary needs.

A TCP record is mostly message contents and certificates, and the list needs only
their lengths: the skimmer walks the record's top-level dict and its two connection
dicts key by key, decodes the few values the summary uses, and jumps over every other
value by its length prefix (so text inside a value can never pass for a key). The
messages list becomes `MessageTotals` (count, bytes each way, last timestamp) in one
tight loop; contents are never copied. Any damage raises `TNetStringError`: the caller
then decodes the record fully and reports it precisely.

This is the hot loop of opening a mitmproxy capture (about 100k records a minute of
work per core), so it trades generality for fewer Python operations per value: common
scalars are decoded inline and anything else goes to the full parser.
"""

from __future__ import annotations

import re
from typing import Any

from flowtui.core.connection import Client, Server
from flowtui.core.summary import MessageTotals
from flowtui.io.tnetstring import TNetStringError, parse_at

__all__ = ["skim"]

_TOP = frozenset({b"id", b"type", b"version", b"marked", b"comment", b"error", b"is_replay",
                  b"intercepted", b"metadata"})  # fmt: skip
_CONN = frozenset({b"peername", b"address", b"sni", b"tls_version", b"alpn", b"alpn_offers",
                   b"timestamp_start", b"timestamp_end", b"timestamp_tls_setup"})  # fmt: skip
_MESSAGE_FLOW_KEYS = frozenset({b"version", b"type", b"id", b"error", b"client_conn",
    b"server_conn", b"intercepted", b"is_replay", b"marked", b"metadata", b"comment",
    b"timestamp_created", b"messages"})  # fmt: skip
"""The fields of a format-21 TCP or UDP flow's state (`backup` may be there too)."""
_CLIENT_KEYS = frozenset(name.encode() for name, _ in Client._fields())
_SERVER_KEYS = frozenset(name.encode() for name, _ in Server._fields())

_ITEM = re.compile(rb"(\d{1,12}):([^;]{0,64});(\d{1,12}):")
"""A dict item's head: key length, key text (keys are short names), value length. A key
longer than 64 bytes or holding `;` does not match: the record then goes the careful way."""


def skim(buf: bytes) -> dict[str, Any]:
    """The record's summary fields (connections and messages skimmed likewise)."""
    colon = buf.find(b":", 0, 13)
    digits = buf[:colon]
    if colon < 1 or not digits.isdigit():
        raise TNetStringError("invalid length prefix", 0)
    end = colon + 1 + int(digits)
    if end + 1 != len(buf) or buf[end] != 0x7D:
        raise TNetStringError("not a dict record", 0)
    out = _dict(buf, colon + 1, end, True)
    if out.get("type") in ("tcp", "udp") and not _fields_complete(out):
        raise TNetStringError("fields missing or unexpected: decode it to say which", 0)
    return out


def _fields_complete(out: dict[str, Any]) -> bool:
    """True if a TCP/UDP state has exactly the fields the model reads (else decoding
    it gives an unreadable flow, whose summary the full decode makes)."""
    top = set(out[" keys"])
    top.discard(b"backup")
    client, server = out.get("client_conn"), out.get("server_conn")
    return (
        top == _MESSAGE_FLOW_KEYS
        and len(out[" keys"]) == len(top) + ("backup" in out)
        and isinstance(client, dict)
        and isinstance(server, dict)
        and frozenset(client[" keys"]) == _CLIENT_KEYS
        and frozenset(server[" keys"]) == _SERVER_KEYS
    )


def _dict(buf: bytes, pos: int, end: int, top: bool) -> dict[str, Any]:
    """Walk a dict's items from `pos` to its tag at `end`, keeping the wanted ones; its
    keys are kept as `" keys"` (a state with missing or extra fields is not a flow)."""
    out: dict[str, Any] = {}
    wanted = _TOP if top else _CONN
    item = _ITEM.match
    keys: list[bytes] = []
    out[" keys"] = keys
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
        vpos = pos + len(klen) + len(key) + 2
        pos = tag_at + 1
        keys.append(key)
        if key in wanted:
            out[key.decode()] = _value(buf, vpos, vdata, tag_at)
        elif top:
            if key == b"messages":
                if buf[tag_at] != 0x5D:
                    raise TNetStringError("messages is not a list", vpos)
                out["messages"] = _messages(buf, vdata, tag_at)
            elif key == b"client_conn" or key == b"server_conn":
                if buf[tag_at] != 0x7D:
                    raise TNetStringError("connection is not a dict", vpos)
                out[key.decode()] = _dict(buf, vdata, tag_at, False)
            elif key == b"backup":
                out["backup"] = None if tag_at == vdata and buf[tag_at] == 0x7E else True
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
        items = []
        pos = data
        while pos < tag_at:
            colon = buf.find(b":", pos, pos + 13)
            digits = buf[pos:colon]
            if colon < 0 or not digits.isdigit():
                raise TNetStringError("invalid length prefix", pos)
            item_tag = colon + 1 + int(digits)
            if item_tag >= tag_at:
                raise TNetStringError("value runs past its container", pos, truncated=True)
            if buf[item_tag] in b"]}":
                return parse_at(buf, start, tag_at + 1, 1)[0]  # nested: the careful way
            items.append(_value(buf, pos, colon + 1, item_tag))
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
