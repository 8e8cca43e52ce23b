"""A tnetstring reader for the index pass: only the fields a summary needs.

A TCP record is mostly message contents and certificates, and the list needs only
their lengths: the skimmer walks the record's top-level dict and its two connection
dicts, decodes the few values the summary uses, and jumps over every other value by
its length prefix. The messages list becomes `MessageTotals` (count, bytes each way,
last timestamp) in one tight loop; contents are never copied. Any damage raises
`TNetStringError`: the caller then decodes the record fully and reports it precisely.
"""

from __future__ import annotations

from typing import Any

from flowtui.core.summary import MessageTotals
from flowtui.io.tnetstring import TNetStringError, parse_at

__all__ = ["skim"]

_TOP = frozenset({b"id", b"type", b"version", b"marked", b"comment", b"error", b"is_replay",
                  b"intercepted", b"metadata"})  # fmt: skip
_CONN = frozenset({b"peername", b"address", b"sni", b"tls_version", b"alpn", b"alpn_offers",
                   b"timestamp_start", b"timestamp_end", b"timestamp_tls_setup"})  # fmt: skip
_NULL = b"0:~"
_CONN_TOKENS = [(b"%d:%s;" % (len(k), k), k.decode()) for k in sorted(_CONN)]


def _prefix(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """(length, payload start) of the value at `pos`, checked against `end`."""
    colon = buf.find(b":", pos, pos + 13)
    digits = buf[pos:colon]
    if colon < 0 or not digits.isdigit():
        raise TNetStringError("invalid length prefix", pos)
    length = int(digits)
    if colon + 1 + length >= end:
        raise TNetStringError("value runs past its container", pos, truncated=True)
    return length, colon + 1


def skim(buf: bytes) -> dict[Any, Any]:
    """The record's summary fields (connections and messages skimmed likewise)."""
    length, pos = _prefix(buf, 0, len(buf))
    if buf[pos + length] != 0x7D or pos + length + 1 != len(buf):
        raise TNetStringError("not a dict record", 0)
    return _dict(buf, pos, pos + length, top=True)


def _dict(buf: bytes, pos: int, end: int, *, top: bool) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    wanted = _TOP if top else _CONN
    while pos < end:
        klen, kpos = _prefix(buf, pos, end)
        key = buf[kpos : kpos + klen]
        vpos = kpos + klen + 1
        vlen, vdata = _prefix(buf, vpos, end)
        after = vdata + vlen + 1
        if key in wanted:
            out[key.decode()] = parse_at(buf, vpos, after, 1)[0]
        elif top and key in (b"client_conn", b"server_conn"):
            if buf[vdata + vlen] != 0x7D:
                raise TNetStringError("connection is not a dict", vpos)
            out[key.decode()] = _conn(buf, vdata, vdata + vlen)
        elif top and key == b"messages":
            out["messages"] = _messages(buf, vdata, vdata + vlen)
        elif top and key == b"backup":
            out["backup"] = None if buf[vpos:after] == _NULL else True
        pos = after
    return out


def _conn(buf: bytes, start: int, end: int) -> dict[Any, Any]:
    """A connection dict's summary fields, found by their key tokens (a C-speed search).

    A key token that occurs once in the dict is that key: a value that merely contains
    the same text would make it occur twice, and then the dict is walked key by key.
    """
    out: dict[Any, Any] = {}
    find = buf.find
    for token, name in _CONN_TOKENS:
        at = find(token, start, end)
        if at < 0:
            continue
        if find(token, at + 1, end) >= 0:
            return _dict(buf, start, end, top=False)
        out[name] = parse_at(buf, at + len(token), end, 2)[0]
    return out


def _messages(buf: bytes, pos: int, end: int) -> MessageTotals:
    """Count and total the messages in one tight loop: each item is
    `N:` `4:true!`|`5:false!` `L:` content `,` `T:` timestamp `^`|`#` `]`."""
    if buf[end] != 0x5D:
        raise TNetStringError("messages is not a list", pos)
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
