"""A small digest of a flow state: enough to list a flow without keeping its whole state.

flowtui's format stores it beside each record; ``flowtui dump`` prints it. It is computed
from the state dict alone and is best effort: odd states give fewer keys, never an error.

Its ``"ix"`` entry is the flow's `FlowSummary` exactly as the flow list and the summary
filters use it, so opening a flowtui capture decodes these small maps and never a state
(`index_entry` writes it, `summary_from_index` reads it back).
"""

from __future__ import annotations

from typing import Any

import msgpack

from flowtui.core import Flow
from flowtui.core.summary import FlowSummary, summarize

__all__ = [
    "INDEX_FIELDS",
    "INDEX_VERSION",
    "SUMMARY_VERSION",
    "index_entry",
    "summarize_state",
    "summary_from_index",
]

INDEX_VERSION = 2
"""The layout and meaning of a stored `FlowSummary` (`"ix": [INDEX_VERSION, *fields]`).
Bump it whenever `FlowSummary` gains a field or `summarize()` changes what a field
holds: a reader ignores stored summaries of versions it does not know and decodes the
state. Version 1 (before the HTTP and DNS columns) is read for TCP and
UDP flows, whose summaries did not change (the new fields take their defaults)."""
INDEX_FIELDS = FlowSummary._fields
"""The field order of a stored summary at `INDEX_VERSION`."""
V1_FIELDS = INDEX_FIELDS[: INDEX_FIELDS.index("size") + 1]
"""The fields of a version-1 summary (a prefix of today's)."""
_V1_TYPES = frozenset({"tcp", "udp"})
"""The flow types whose version-1 summaries are still exact."""
_V1_REST = [
    [] if FlowSummary._field_defaults[name] == () else FlowSummary._field_defaults[name]
    for name in INDEX_FIELDS[len(V1_FIELDS) :]
]
"""What a version-1 summary lacks, as stored (tuples are stored as lists)."""
_INTERNED = frozenset({"type", "client", "server", "tls_version", "marked", "method", "scheme",
                       "host", "dns_type", "dns_rcode"})  # fmt: skip
_NONE = type(None)
_KINDS: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("type", "client", "server", "detail", "tls_version", "marked"), (str,)),
    **dict.fromkeys(("comment", "meta"), (str,)),
    **dict.fromkeys(("start", "duration"), (float, int, _NONE)),
    **dict.fromkeys(("messages", "bytes_up", "bytes_down"), (int, _NONE)),
    **dict.fromkeys(("intercepted", "killed", "error", "modified", "live"), (bool,)),
    **dict.fromkeys(("read_only", "websocket"), (bool,)),
    **dict.fromkeys(("src", "dst", "sni", "alpn", "tls"), (list,)),
    "replay": (str, _NONE),
    "size": (int,),
    **dict.fromkeys(("method", "scheme", "host", "path", "url"), (str, _NONE)),
    **dict.fromkeys(("dns_name", "dns_type", "dns_rcode", "dns_answer"), (str, _NONE)),
    **dict.fromkeys(("status", "request_size", "response_size", "dns_answers"), (int, _NONE)),
    **dict.fromkeys(("content_type", "request_content_type", "domains"), (list,)),
    "response": (bool, _NONE),
}
"""What each stored field may hold: a file is input, and the list formats these."""
_KIND_LIST = [frozenset(_KINDS[name]) for name in INDEX_FIELDS]
_TEXT_POSITIONS = [i for i, name in enumerate(INDEX_FIELDS) if name in _INTERNED]
_LIST_POSITIONS = [i for i, name in enumerate(INDEX_FIELDS) if _KINDS[name] == (list,)]
_GOOD_SIGNATURES: set[tuple[type, ...]] = set()
_SHARED: dict[Any, Any] = {}
"""Texts and text tuples already seen, so 100k summaries share their hosts and versions."""
_SHARED_MAX = 200_000


def index_entry(flow: Flow) -> list[Any] | None:
    """The `"ix"` value for `flow`: its summary as a reader of the saved record will
    compute it (a saved flow is not live), or None when it does not pack."""
    entry = [INDEX_VERSION, *summarize(flow)._replace(live=False)]
    try:
        msgpack.packb(entry, use_bin_type=True)
    except (TypeError, ValueError, OverflowError, UnicodeError):
        return None  # say, a comment with a lone surrogate: readers decode the state
    return entry


def summary_from_index(value: Any) -> FlowSummary | None:
    """The `FlowSummary` stored as `"ix"`, or None if it is absent, of another version or
    malformed (then the record's state is decoded instead).

    This runs once per flow when a capture opens, so it checks the field types as one
    signature (a capture has few distinct ones) and shares equal texts between flows."""
    if type(value) is not list:
        return None
    if len(value) == len(INDEX_FIELDS) + 1 and value[0] == INDEX_VERSION:
        items = value[1:]
    elif len(value) == len(V1_FIELDS) + 1 and value[0] == 1 and value[1] in _V1_TYPES:
        items = value[1:] + _V1_REST
    else:
        return None
    signature = tuple(map(type, items))
    if signature not in _GOOD_SIGNATURES:
        if not all(t in kinds for t, kinds in zip(signature, _KIND_LIST, strict=True)):
            return None
        if len(_GOOD_SIGNATURES) < 1024:
            _GOOD_SIGNATURES.add(signature)
    shared = _SHARED
    if len(shared) > _SHARED_MAX:
        shared.clear()
    for i in _TEXT_POSITIONS:
        text = items[i]
        items[i] = shared.setdefault(text, text)
    for i in _LIST_POSITIONS:
        texts = tuple(items[i])
        try:
            known = shared.get(texts)
        except TypeError:  # a list inside: not even a key to look up
            return None
        if known is None:
            if not all(type(x) is str for x in texts):
                return None
            known = shared[texts] = tuple(shared.setdefault(x, x) for x in texts)
        items[i] = known
    return FlowSummary._make(items)


SUMMARY_VERSION = 2
"""Bumped when the summary's keys change (stored as ``"v"``); 2 added HTTP
``content_type`` and ``duration`` and DNS ``response_code``."""

_DNS_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
              33: "SRV", 65: "HTTPS", 255: "ANY"}  # fmt: skip


def summarize_state(state: Any) -> dict[str, Any]:
    """Digest a (format 21) flow state; see docs/format.md for the keys."""
    if not isinstance(state, dict):
        return {"v": SUMMARY_VERSION}
    s: dict[str, Any] = {"v": SUMMARY_VERSION}
    for key in ("type", "id", "timestamp_created", "marked", "comment", "intercepted"):
        if key in state:
            s[key] = state[key]
    error = state.get("error")
    if isinstance(error, dict):
        s["error"] = error.get("msg")
    client = state.get("client_conn")
    server = state.get("server_conn")
    if isinstance(client, dict):
        s["client"] = client.get("peername")
        s["client_tls"] = _tls(client)
        if client.get("proxy_mode") is not None:
            s["proxy_mode"] = client.get("proxy_mode")
    if isinstance(server, dict):
        s["server"] = server.get("address") or server.get("peername")
        s["server_tls"] = _tls(server)
        if server.get("error") is not None:
            s["server_error"] = server.get("error")
    messages = state.get("messages")
    if isinstance(messages, list):
        counts = [0, 0]
        sizes = [0, 0]
        for m in messages:
            if isinstance(m, list | tuple) and len(m) >= 2:
                side = 0 if m[0] else 1
                counts[side] += 1
                sizes[side] += len(m[1]) if isinstance(m[1], bytes | str) else 0
        s["messages"] = counts
        s["bytes"] = sizes
    if state.get("type") == "http":
        _http(state, s)
    elif state.get("type") == "dns":
        _dns(state, s)
    return s


def _tls(conn: dict[str, Any]) -> dict[str, Any] | None:
    """The TLS facts of a connection, or None without TLS."""
    if not conn.get("tls") and conn.get("tls_version") is None:
        return None
    tls: dict[str, Any] = {"version": conn.get("tls_version")}
    for key in ("sni", "alpn", "cipher"):
        if conn.get(key) is not None:
            tls[key] = conn[key]
    return tls


def _text(value: Any) -> str:
    """Bytes or text as text (bytes decoded leniently)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)


def _http(state: dict[str, Any], s: dict[str, Any]) -> None:
    """Request line and status of an HTTP flow."""
    request = state.get("request")
    if isinstance(request, dict):
        method = _text(request.get("method", b""))
        if request.get("authority") and method == "CONNECT":
            url = _text(request.get("authority"))
        else:
            scheme = _text(request.get("scheme", b""))
            host = _text(request.get("host", ""))
            port = request.get("port")
            default = {"http": 80, "https": 443}.get(scheme)
            hostport = host if port == default or port is None else f"{host}:{port}"
            if ":" in host and port is not None:
                hostport = f"[{host}]" if port == default else f"[{host}]:{port}"
            url = f"{scheme}://{hostport}{_text(request.get('path', b''))}"
        s["request"] = f"{method} {url}"
        if isinstance(request.get("content"), bytes):
            s["request_size"] = len(request["content"])
    response = state.get("response")
    if isinstance(response, dict):
        s["status"] = response.get("status_code")
        if isinstance(response.get("content"), bytes):
            s["response_size"] = len(response["content"])
        fields = response.get("headers")
        types = [
            _text(f[1])
            for f in (fields if isinstance(fields, list | tuple) else ())
            if isinstance(f, list | tuple) and len(f) == 2 and _text(f[0]).lower() == "content-type"
        ]
        if types:
            s["content_type"] = types[0]
        start = request.get("timestamp_start") if isinstance(request, dict) else None
        end = response.get("timestamp_end")
        if isinstance(start, int | float) and isinstance(end, int | float):
            s["duration"] = end - start
    websocket = state.get("websocket")
    if isinstance(websocket, dict) and isinstance(websocket.get("messages"), list):
        counts = [0, 0]
        for m in websocket["messages"]:
            if isinstance(m, list | tuple) and len(m) >= 2:
                counts[0 if m[1] else 1] += 1
        s["websocket"] = counts


def _dns(state: dict[str, Any], s: dict[str, Any]) -> None:
    """Question and answer count of a DNS flow."""
    request = state.get("request")
    if isinstance(request, dict) and isinstance(request.get("questions"), list):
        s["questions"] = [
            f"{_text(q.get('name'))} {_dns_type(q.get('type'))}"
            for q in request["questions"]
            if isinstance(q, dict)
        ]
    response = state.get("response")
    if isinstance(response, dict) and isinstance(response.get("answers"), list):
        s["answers"] = len(response["answers"])
    if isinstance(response, dict) and isinstance(response.get("response_code"), int):
        s["response_code"] = response["response_code"]


def _dns_type(value: Any) -> str:
    """A DNS record type number as its usual name (A, AAAA, ...) when known."""
    return _DNS_TYPES.get(value, str(value)) if isinstance(value, int) else str(value)
