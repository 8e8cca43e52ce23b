"""A tnetstring reader for the index pass: only the fields a summary needs.

A TCP record is mostly message contents and certificates, and the list needs only
their lengths: the skimmer walks the record's top-level dict and its two connection
dicts, decodes the few values the summary uses, and jumps over every other value by
its length prefix. Message contents become `Blob`s (a length; the bytes are never
copied). Any damage raises `TNetStringError`: the caller then decodes the record fully
and reports it precisely.
"""

from __future__ import annotations

from typing import Any

from flowtui.core.summary import Blob
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


def _messages(buf: bytes, pos: int, end: int) -> list[list[Any]]:
    """`[from_client, Blob(len(content)), timestamp]` per message."""
    if buf[end] != 0x5D:
        raise TNetStringError("messages is not a list", pos)
    out: list[list[Any]] = []
    while pos < end:
        mlen, mpos = _prefix(buf, pos, end)
        mend = mpos + mlen
        if buf[mend] != 0x5D:
            raise TNetStringError("message is not a list", pos)
        if buf.startswith(b"4:true!", mpos):
            from_client, p = True, mpos + 7
        elif buf.startswith(b"5:false!", mpos):
            from_client, p = False, mpos + 8
        else:
            raise TNetStringError("message direction is not a boolean", mpos)
        clen, cpos = _prefix(buf, p, mend)
        if buf[cpos + clen] != 0x2C:
            raise TNetStringError("message content is not bytes", p)
        timestamp, p = parse_at(buf, cpos + clen + 1, mend, 2)
        if p != mend:
            raise TNetStringError("message has extra items", p)
        out.append([from_client, Blob(clen), timestamp])
        pos = mend + 1
    return out
