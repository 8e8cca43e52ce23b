"""What the flow list and the summary filters need of a flow, without its content.

`summarize(flow)` computes it from a decoded flow; `summarize_skim(state)` from a
format-21 TCP/UDP state whose message contents and certificates may be stand-ins
(`Blob`, only a length), which is what the index pass of a large capture produces
without building Flow objects. The two must agree: tests compare them on every
fixture flow. Strings are interned so 100k summaries share their hosts and versions.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

from flowtui.core.connection import TLS_VERSIONS, format_address
from flowtui.core.dns import DNSFlow
from flowtui.core.flow import Error, Flow
from flowtui.core.http import HTTPFlow
from flowtui.core.messages import MessageFlow
from flowtui.core.unknown import UnknownFlow

__all__ = ["Blob", "FlowSummary", "MessageTotals", "address_texts", "summarize", "summarize_skim"]


class Blob:
    """A payload the index pass skipped: only its length is known."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size


class MessageTotals:
    """A skimmed messages list reduced to what a summary needs (the index pass builds
    this instead of one list per message)."""

    __slots__ = ("count", "down", "last", "up")

    def __init__(self, count: int, up: int, down: int, last: float | int | None) -> None:
        self.count, self.up, self.down, self.last = count, up, down, last


class FlowSummary(NamedTuple):
    """What the flow list shows and summary filters test, computed once per revision.

    A named tuple, not a dataclass: the index builds 100k of them and worker processes
    send them back pickled, and a tuple is several times cheaper to build and unpickle.
    """

    type: str
    """Short type name: `tcp`, `udp`, `http`, `dns`, or `?` for an unreadable record."""
    start: float | None
    """Unix start time (None when the record has none)."""
    client: str
    """The client's `host:port` (raw text: sanitise before display)."""
    server: str
    """The SNI when known (the client's first), else the server's `host:port` (raw text)."""
    detail: str
    """Protocol extra for the server column, e.g. `GET http://x/ 200` (raw text)."""
    tls_version: str
    """Negotiated TLS version on the server side (else the client side), or ``""``."""
    messages: int | None
    """Message count (None where the type has no messages)."""
    bytes_up: int | None
    """Bytes sent by the client (None where unknown)."""
    bytes_down: int | None
    """Bytes sent by the server (None where unknown)."""
    duration: float | None
    """Seconds from start to the last known timestamp."""
    marked: str
    """The flow's mark (`":default:"`, a shortcode, a character) or ``""``."""
    intercepted: bool
    killed: bool
    error: bool
    modified: bool
    live: bool
    read_only: bool
    """True for an `UnknownFlow`: kept verbatim, never changed."""
    comment: str = ""
    """The flow's comment (for `~comment` and the substring filter)."""
    src: tuple[str, ...] = ()
    """The client address as `~src` matches it."""
    dst: tuple[str, ...] = ()
    """Server address, resolved address and SNIs, as `~dst` matches them."""
    sni: tuple[str, ...] = ()
    """The SNIs of both sides (`~sni`)."""
    alpn: tuple[str, ...] = ()
    """Negotiated and offered ALPN protocols of both sides (`~alpn`)."""
    tls: tuple[str, ...] = ()
    """One entry per side with TLS: its version, or ``""`` (`~tls`)."""
    meta: str = ""
    """Metadata as `key: value` lines (`~meta`)."""
    replay: str | None = None
    """`request`, `response` or None (`~replay`)."""
    websocket: bool = False
    """An HTTP flow with a WebSocket (`~websocket`)."""
    size: int = 0
    """Total payload bytes (`~size`)."""

    def search_text(self) -> str:
        """Everything a substring filter should match, lower-cased."""
        return " ".join(
            (self.type, self.client, self.server, self.detail, self.tls_version, self.marked)
        ).lower()


def address_texts(address: Any) -> list[str]:
    """`host:port` as stored and as displayed (IPv6 in brackets), without duplicates."""
    if not isinstance(address, tuple | list) or len(address) < 2:
        return []
    plain = f"{address[0]}:{address[1]}"
    out = [plain]
    host = str(address[0])
    if ":" in host:
        out.append(f"[{host}]:{address[1]}")
    return out


def _i(text: str) -> str:
    return sys.intern(text)


def _strs(texts: Sequence[str]) -> tuple[str, ...]:
    return tuple(sys.intern(t) for t in texts)


def _alpn(values: Sequence[Any]) -> list[str]:
    return [p.decode("utf-8", "backslashreplace") for p in values if isinstance(p, bytes) and p]


def _meta(meta: Any) -> str:
    if not isinstance(meta, dict) or not meta:
        return ""
    return "\n".join(f"{key}: {value}" for key, value in meta.items())


def _time(value: Any) -> float | None:
    """A timestamp as a float, or None when there is none that can be computed with:
    NaN and infinities are valid in a state (mitmproxy reads them) but mean no time."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        t = float(value)
    except OverflowError:
        return None
    return t if math.isfinite(t) else None


def _latest(times: Sequence[Any]) -> float | None:
    """The latest of the computable `times`, or None."""
    found = [t for t in map(_time, times) if t is not None]
    return max(found) if found else None


def _duration(start: float | None, end: float | None) -> float | None:
    """Seconds from `start` to `end`, or None when either is unknown."""
    if start is None or end is None:
        return None
    return end - start


def _end_time(flow: Flow) -> float | None:
    times = [flow.client_conn.timestamp_end, flow.server_conn.timestamp_end]
    if isinstance(flow, MessageFlow) and flow.messages:
        times.append(flow.messages[-1].timestamp)
    if flow.error is not None:
        times.append(flow.error.timestamp)
    return _latest(times)


def summarize(flow: Flow, totals: tuple[int, int, int] | None = None) -> FlowSummary:
    """The summary of a decoded flow (O(messages); the store caches it per revision).

    ``totals`` is a message flow's (messages, bytes up, bytes down) when the caller
    keeps them (a live flow that grows): then this is O(1) in its messages."""
    from flowtui.core.filters.content import flow_size  # the filters build on core

    client, server = flow.client_conn, flow.server_conn
    sni = client.sni or server.sni
    detail = ""
    messages = up = down = None
    if isinstance(flow, MessageFlow) and totals is not None:
        messages, up, down = totals
    elif isinstance(flow, MessageFlow):
        messages = len(flow.messages)
        up = sum(len(m.content) for m in flow.messages if m.from_client)
        down = sum(len(m.content) for m in flow.messages if not m.from_client)
    elif isinstance(flow, HTTPFlow):
        status = flow.status_code
        detail = f"{flow.method} {flow.pretty_url}" + (f" {status}" if status else "")
        messages = flow.websocket_messages
    elif isinstance(flow, DNSFlow):
        detail = " ".join(name for name, _ in flow.questions)
    start = _time(flow.timestamp_start)
    end = _end_time(flow)
    unknown = isinstance(flow, UnknownFlow)
    if isinstance(flow, UnknownFlow):
        detail = f"unreadable {flow.raw_type}: {flow.reason}"
    snis = [s for s in (client.sni, server.sni) if s]
    return FlowSummary(
        type="?" if unknown else flow.type,
        start=start,
        client=_i(format_address(client.peername)),
        server=_i(sni or format_address(server.address)),
        detail=detail,
        tls_version=_i(server.tls_version or client.tls_version or ""),
        messages=messages,
        bytes_up=up,
        bytes_down=down,
        duration=None if unknown else _duration(start, end),
        marked=flow.marked,
        intercepted=flow.intercepted,
        killed=flow.error is not None and flow.error.msg == Error.KILLED_MESSAGE,
        error=flow.error is not None,
        modified=flow.modified(),
        live=flow.live,
        read_only=unknown,
        comment=flow.comment if isinstance(flow.comment, str) else "",
        src=_strs(address_texts(client.peername)),
        dst=_strs(address_texts(server.address) + address_texts(server.peername) + snis),
        sni=_strs(snis),
        alpn=_strs(
            _alpn([client.alpn, *client.alpn_offers]) + _alpn([server.alpn, *server.alpn_offers])
        ),
        tls=_strs(
            [c.tls_version or "" for c in (client, server) if c.tls_established or c.tls_version]
        ),
        meta=_meta(flow.metadata),
        replay=flow.is_replay,
        websocket=isinstance(flow, HTTPFlow) and flow.websocket is not None,
        size=up + down
        if totals is not None and up is not None and down is not None
        else flow_size(flow),
    )


_BIG = 2**1000
"""Beyond this an int timestamp may not convert to a float (mitmproxy's model fails)."""


class _Skip(Exception):
    """The state is not on the fast path: decode it fully instead."""


def _addr(value: Any, optional: bool) -> list[Any] | None:
    if value is None and optional:
        return None
    if (
        isinstance(value, list)
        and len(value) in (2, 4)
        and isinstance(value[0], str)
        and type(value[1]) is int
    ):
        return value
    raise _Skip


def _conn(state: Any) -> dict[str, Any]:
    if not isinstance(state, dict):
        raise _Skip
    version = state.get("tls_version")
    if version is not None and version not in TLS_VERSIONS:
        raise _Skip
    for key in ("sni",):
        if state.get(key) is not None and not isinstance(state[key], str):
            raise _Skip
    if state.get("alpn") is not None and not isinstance(state["alpn"], bytes):
        raise _Skip
    offers = state.get("alpn_offers", [])
    if not isinstance(offers, list) or not all(isinstance(o, bytes) for o in offers):
        raise _Skip
    for key in ("timestamp_start", "timestamp_end", "timestamp_tls_setup"):
        ts = state.get(key)
        if ts is not None and not (type(ts) is float or (type(ts) is int and abs(ts) < _BIG)):
            raise _Skip  # an int no float holds does not model: let the model say so
    return state


def summarize_skim(state: Any) -> FlowSummary | None:
    """The summary of a skimmed TCP/UDP state (format 21, no backup), or None when the
    state needs full decoding to be summarised exactly (other types, odd values)."""
    try:
        return _skim(state)
    except (_Skip, KeyError, TypeError, ValueError):
        return None


def _skim(state: Any) -> FlowSummary | None:
    if not isinstance(state, dict) or state.get("type") not in ("tcp", "udp"):
        return None
    if state.get("version") != 21 or state.get("backup") is not None:
        return None
    client, server = _conn(state["client_conn"]), _conn(state["server_conn"])
    peer = _addr(client["peername"], False)
    address = _addr(server.get("address"), True)
    speer = _addr(server.get("peername"), True)
    marked, comment, error = state.get("marked", ""), state.get("comment", ""), state.get("error")
    if not isinstance(marked, str) or not isinstance(comment, str):
        return None
    if error is not None and not (isinstance(error, dict) and isinstance(error.get("msg"), str)):
        return None
    replay = state.get("is_replay")
    if replay not in (None, "request", "response") or type(state.get("intercepted")) is not bool:
        return None
    messages = state["messages"]
    if isinstance(messages, MessageTotals):
        count, up, down, last = messages.count, messages.up, messages.down, messages.last
    else:
        count, up, down, last = len(messages), 0, 0, None
        for m in messages:
            if not (isinstance(m, list) and len(m) == 3 and type(m[0]) is bool):
                return None
            if not isinstance(m[1], bytes | Blob) or type(m[2]) not in (float, int):
                return None
            if m[0]:
                up += len(m[1])
            else:
                down += len(m[1])
            last = m[2]
    start = client.get("timestamp_start")
    times = [client.get("timestamp_end"), server.get("timestamp_end")]
    if count:
        times.append(last)
    if error is not None:
        times.append(error.get("timestamp"))
    end = _latest(times)
    sni_c, sni_s = client.get("sni"), server.get("sni")
    snis = [s for s in (sni_c, sni_s) if s]
    start_f = _time(start)
    return FlowSummary(
        type=_i(state["type"]),
        start=start_f,
        client=_i(format_address(tuple(peer or ()))),
        server=_i(sni_c or sni_s or format_address(tuple(address) if address else None)),
        detail="",
        tls_version=_i(server.get("tls_version") or client.get("tls_version") or ""),
        messages=count,
        bytes_up=up,
        bytes_down=down,
        duration=_duration(start_f, end),
        marked=_i(marked),
        intercepted=state["intercepted"],
        killed=error is not None and error["msg"] == Error.KILLED_MESSAGE,
        error=error is not None,
        modified=False,
        live=False,
        read_only=False,
        comment=comment,
        src=_strs(address_texts(peer)),
        dst=_strs(address_texts(address) + address_texts(speer) + snis),
        sni=_strs(snis),
        alpn=_strs(
            _alpn([client.get("alpn"), *client.get("alpn_offers", [])])
            + _alpn([server.get("alpn"), *server.get("alpn_offers", [])])
        ),
        tls=_strs(
            [
                c.get("tls_version") or ""
                for c in (client, server)
                if c.get("timestamp_tls_setup") is not None or c.get("tls_version")
            ]
        ),
        meta=_meta(state.get("metadata")),
        replay=replay,
        websocket=False,
        size=up + down,
    )
