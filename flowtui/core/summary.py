"""What the flow list and the summary filters need of a flow, without its content.

`summarize(flow)` computes it from a decoded flow; `summarize_skim(state)` from a
format-21 TCP, UDP, HTTP or DNS state whose message contents, bodies and certificates
may be stand-ins (`Blob`, only a length), which is what the index pass of a large
capture produces without building Flow objects. The two must agree: tests compare them
on every fixture flow. Both compute the HTTP columns with `_http_columns` (from the
request and response models; the skim builds them from the few fields it kept, bodies
left out) and the DNS columns with `dns_columns` (from mitmproxy's state layout).
Strings are interned so 100k summaries share their hosts and versions.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

from flowtui.core.connection import TLS_VERSIONS, format_address
from flowtui.core.dns import DNSFlow, ResourceRecord
from flowtui.core.dns_codes import response_codes, types
from flowtui.core.flow import Error, Flow
from flowtui.core.http import HTTPFlow, Request, RequestData, Response, ResponseData
from flowtui.core.messages import MessageFlow
from flowtui.core.unknown import UnknownFlow

__all__ = [
    "Blob",
    "FlowSummary",
    "MessageTotals",
    "address_texts",
    "dns_columns",
    "summarize",
    "summarize_skim",
]


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
    # -- HTTP (None or empty for other flows) ------------------------------------------
    method: str | None = None
    """The request method as sent (raw text, not upper-cased: `~m` searches it)."""
    scheme: str | None = None
    """`http` or `https`."""
    host: str | None = None
    """The request's target host (`Request.host`)."""
    path: str | None = None
    """The request path with its query (`Request.path`)."""
    url: str | None = None
    """What `~u` searches: the request's `pretty_url`; for DNS the first question's name."""
    status: int | None = None
    """The response status code (None without a response)."""
    content_type: tuple[str, ...] = ()
    """Every Content-Type value of the response (usually one; `~ts`, `~a`)."""
    request_content_type: tuple[str, ...] = ()
    """Every Content-Type value of the request (`~tq`)."""
    request_size: int | None = None
    """Request body bytes as stored (None without a body)."""
    response_size: int | None = None
    """Response body bytes as stored (None without a response or body)."""
    domains: tuple[str, ...] = ()
    """The request's host and its `pretty_host` (`~d`)."""
    response: bool | None = None
    """HTTP and DNS: whether there is a response (`~q`, `~s`); None for other flows."""
    # -- DNS --------------------------------------------------------------------------
    dns_name: str | None = None
    """The first question's name."""
    dns_type: str | None = None
    """The first question's type, e.g. `A`, `AAAA`, `TYPE(99)`."""
    dns_rcode: str | None = None
    """The response code, e.g. `NOERROR`, `NXDOMAIN` (None without a response)."""
    dns_answers: int | None = None
    """How many answers the response holds (None without a response)."""
    dns_answer: str | None = None
    """The first answer as mitmproxy's `str(ResourceRecord)` shows it (`127.0.0.1`)."""

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


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _content_types(fields: Sequence[tuple[bytes, bytes]]) -> tuple[str, ...]:
    return tuple(_i(_text(v)) for name, v in fields if name.lower() == b"content-type")


_NO_HTTP: dict[str, Any] = {}


def _model_fields(message: Request | Response) -> dict[str, Any]:
    """What `_http_columns` reads of a message model, in its state's layout."""
    data = message.data
    return {**vars(data), "headers": data.headers.fields}


def _http_columns(
    request: dict[str, Any],
    response: dict[str, Any] | None,
    request_size: int | None,
    response_size: int | None,
    model: Request | None = None,
) -> dict[str, Any]:
    """The HTTP columns of a flow, from its request's and response's fields in their
    state's layout (`headers` as (name, value) pairs: all of them, or only the Host and
    Content-Type fields, which is all this reads). Both summaries use it: from the
    model's data, and from the fields the skim kept (bodies left out)."""
    host = request["host"]
    pretty_host, url = _pretty(request, model)
    status = response["status_code"] if response is not None else None
    start = _time(request["timestamp_start"])
    end = _time(request["timestamp_end"] if response is None else response["timestamp_end"])
    method = _text(request["method"])
    return {
        "method": _i(method),
        "scheme": _i(_text(request["scheme"])),
        "host": _i(host),
        "path": _text(request["path"]),
        "url": url,
        "status": status,
        "content_type": () if response is None else _content_types(response["headers"]),
        "request_content_type": _content_types(request["headers"]),
        "request_size": request_size,
        "response_size": response_size,
        "domains": _strs((host, pretty_host) if pretty_host != host else (host,)),
        "response": response is not None,
        "duration": _duration(start, end),
        "detail": f"{method.upper()} {url}" + (f" {status}" if status else ""),
    }


_PRETTY: dict[tuple[Any, ...], tuple[str, str]] = {}
"""(pretty host, the pretty URL before its path) by everything they depend on but the
path: requests to one server share them, and computing them parses the Host header."""


def _pretty(request: dict[str, Any], model: Request | None) -> tuple[str, str | None]:
    """`Request.pretty_host` and `Request.pretty_url` (None if they raise) of the
    request with these fields, computed by its `model` (the skim's is built from the
    fields, only when needed); the URL's part before the path is computed once per
    server."""
    path = _text(request["path"])
    connect = request["method"].upper() == b"CONNECT"
    direct = path == "*" or connect
    hosts = tuple((k, v) for k, v in request["headers"] if k.lower() == b"host")
    key = (request["scheme"], request["host"], request["port"], request["authority"],
           request["http_version"], connect, hosts)  # fmt: skip
    known = None if direct else _PRETTY.get(key)
    if known is not None:
        return known[0], known[1] + path
    if model is None:
        try:
            model = Request(
                request["host"],
                request["port"],
                request["method"],
                request["scheme"],
                request["authority"],
                request["path"],
                request["http_version"],
                hosts,
                None,
                None,
                0.0,
                None,
            )
        except Exception:  # whatever the model refuses: decode the record
            raise _Skip from None
    try:
        pretty_host, url = model.pretty_host, model.pretty_url
    except ValueError:  # an authority that does not parse: no URL to search
        return request["host"], None
    if not direct and url.endswith(path):
        if len(_PRETTY) > 4096:
            _PRETTY.clear()
        _PRETTY[key] = (pretty_host, url[: len(url) - len(path)])
    return pretty_host, url


def dns_columns(request: Any, response: Any) -> dict[str, Any]:
    """The DNS columns from a DNS flow's `request` and `response` states (mitmproxy's
    layout: dicts with `questions` and `answers` lists). Both summaries use it; odd
    values give empty columns, never an error."""
    name = qtype = url = rcode = answers = answer = None
    questions = request.get("questions") if isinstance(request, dict) else None
    if isinstance(questions, list | tuple) and questions and isinstance(questions[0], dict):
        first = questions[0]
        if isinstance(first.get("name"), str):
            name = url = first["name"]
        t = first.get("type")
        if type(t) is int:
            qtype = _i(types.to_str(t))
    if isinstance(response, dict):
        code = response.get("response_code")
        if type(code) is int:
            rcode = _i(response_codes.to_str(code))
        found = response.get("answers")
        answers = len(found) if isinstance(found, list | tuple) else None
        if answers:
            answer = _first_answer(found[0])  # type: ignore[index]
    listed = questions if isinstance(questions, list | tuple) else ()
    names = [q["name"] for q in listed if isinstance(q, dict) and isinstance(q.get("name"), str)]
    return {
        "detail": " ".join(names),
        "url": url,
        "dns_name": name,
        "dns_type": qtype,
        "dns_rcode": rcode,
        "dns_answers": answers,
        "dns_answer": answer,
        "response": isinstance(response, dict),
    }


def _first_answer(state: Any) -> str | None:
    """A resource record's state as the DNS model shows it, or None if it does not
    model (an odd stored state is data, never an error). `from_state` takes the dict's
    items, so it gets a copy: the caller's state stays whole."""
    try:
        return _i(str(ResourceRecord.from_state(dict(state))))
    except Exception:
        return None


def summarize(flow: Flow, totals: tuple[int, int, int] | None = None) -> FlowSummary:
    """The summary of a decoded flow (O(messages); the store caches it per revision).

    ``totals`` is a message flow's (messages, bytes up, bytes down), or an HTTP flow's
    WebSocket's, when the caller keeps them (a live flow that grows): then this is O(1)
    in its messages."""
    from flowtui.core.filters.content import flow_size  # the filters build on core

    client, server = flow.client_conn, flow.server_conn
    sni = client.sni or server.sni
    detail = ""
    messages = up = down = None
    size: int | None = None
    extra: dict[str, Any] = _NO_HTTP
    if isinstance(flow, MessageFlow) and totals is not None:
        messages, up, down = totals
    elif isinstance(flow, MessageFlow):
        messages = len(flow.messages)
        up = sum(len(m.content) for m in flow.messages if m.from_client)
        down = sum(len(m.content) for m in flow.messages if not m.from_client)
    elif isinstance(flow, HTTPFlow):
        messages = flow.websocket_messages
        request, response = flow.request, flow.response
        req_body = request.raw_content
        resp_body = response.raw_content if response is not None else None
        if totals is not None and flow.websocket is not None:
            messages = totals[0]
            size = totals[1] + totals[2] + len(req_body or b"") + len(resp_body or b"")
        extra = _http_columns(
            _model_fields(request),
            None if response is None else _model_fields(response),
            None if req_body is None else len(req_body),
            None if resp_body is None else len(resp_body),
            request,
        )
        detail = extra.pop("detail")
    elif isinstance(flow, DNSFlow):
        state = flow.get_state()  # mitmproxy's layout, whatever the model keeps
        extra = dns_columns(state.get("request"), state.get("response"))
        detail = extra.pop("detail")
    start = _time(flow.timestamp_start)
    end = _end_time(flow)
    duration = extra.pop("duration") if "duration" in extra else _duration(start, end)
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
        duration=None if unknown else duration,
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
        size=size
        if size is not None
        else up + down
        if totals is not None and up is not None and down is not None
        else flow_size(flow),
        **extra,
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
    """The summary of a skimmed TCP, UDP, HTTP or DNS state (format 21, no backup), or
    None when the state needs full decoding to be summarised exactly (other types, odd
    values, a WebSocket)."""
    try:
        return _skim(state)
    except (_Skip, KeyError, TypeError, ValueError):
        return None


def _skim_http(state: dict[str, Any]) -> tuple[dict[str, Any], float | None, int] | None:
    """The HTTP columns, start time and payload size of a skimmed HTTP state, whose
    request and response are checked at least as strictly as decoding checks them (what
    decoding would convert, say a text `method`, is left to it)."""
    if state.get("websocket") is not None:
        return None  # rare: the full decode counts its messages
    request, response = state["request"], state["response"]
    req_size = _checked(request, _REQUEST_FIELDS)
    resp_size = None if response is None else _checked(response, _RESPONSE_FIELDS)
    columns = _http_columns(request, response, req_size, resp_size)
    return columns, _time(request["timestamp_start"]), (req_size or 0) + (resp_size or 0)


_MESSAGE_TYPES = {"http_version": bytes, "method": bytes, "scheme": bytes, "authority": bytes,
                  "path": bytes, "reason": bytes, "host": str, "port": int,
                  "status_code": int}  # fmt: skip
_REQUEST_FIELDS = frozenset(RequestData.__dataclass_fields__)
_RESPONSE_FIELDS = frozenset(ResponseData.__dataclass_fields__)


def _checked(state: Any, fields: frozenset[str]) -> int | None:
    """The body size of a request or response state (None: no body) whose fields are
    exactly `fields` with the types the model keeps (else `_Skip`: decode it)."""
    if not isinstance(state, dict) or state.keys() - {" keys"} != fields:
        raise _Skip
    for key in fields:
        kind = _MESSAGE_TYPES.get(key)
        if kind is not None and type(state[key]) is not kind:
            raise _Skip
    for key in ("timestamp_start", "timestamp_end"):
        ts = state[key]
        if ts is None and key == "timestamp_end":
            continue
        if not (type(ts) is float or (type(ts) is int and abs(ts) < _BIG)):
            raise _Skip
    if state["trailers"] is not None:
        raise _Skip
    headers = state["headers"]
    if not isinstance(headers, list):
        raise _Skip
    for field in headers:
        if (
            not isinstance(field, list | tuple)
            or len(field) != 2
            or type(field[0]) is not bytes
            or type(field[1]) is not bytes
        ):
            raise _Skip
    content = state["content"]
    if content is None:
        return None
    if isinstance(content, bytes | Blob):
        return len(content)
    raise _Skip


_DNS_KEYS = frozenset({"id", "query", "op_code", "authoritative_answer", "truncation",
                       "recursion_desired", "recursion_available", "reserved",
                       "response_code", "questions", "answers", "authorities", "additionals",
                       "timestamp"})  # fmt: skip


_DNS_FLOW_KEYS = frozenset({"version", "type", "id", "error", "client_conn", "server_conn",
                            "intercepted", "is_replay", "marked", "metadata", "comment",
                            "timestamp_created", "request", "response"})  # fmt: skip


def _dns_part(state: Any, optional: bool) -> dict[str, Any] | None:
    """A DNS message state in mitmproxy's layout, checked as far as the columns read it
    (anything else: decode it fully)."""
    if state is None and optional:
        return None
    if not isinstance(state, dict) or set(state) - {" keys"} != _DNS_KEYS:
        raise _Skip
    for key in ("questions", "answers", "authorities", "additionals"):
        records = state[key]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise _Skip
    for q in state["questions"]:
        if not isinstance(q.get("name"), str) or type(q.get("type")) is not int:
            raise _Skip
    if type(state["response_code"]) is not int:
        raise _Skip
    return state


def _skim(state: Any) -> FlowSummary | None:
    if not isinstance(state, dict):
        return None
    kind = state.get("type")
    if kind not in ("tcp", "udp", "http", "dns"):
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
    extra: dict[str, Any] = _NO_HTTP
    if kind == "http":
        http = _skim_http(state)
        if http is None:
            return None
        extra, start_f, size = http
        count = up = down = None
        duration = extra.pop("duration")
        detail = extra.pop("detail")
    elif kind == "dns":
        if set(state) - {" keys", "backup"} != _DNS_FLOW_KEYS:
            return None
        request, response = _dns_part(state["request"], False), _dns_part(state["response"], True)
        assert request is not None
        extra = dns_columns(request, response)
        count = up = down = None
        detail = extra.pop("detail")
        start_f = _time(client.get("timestamp_start"))  # as `Flow.timestamp_start`
        times = [client.get("timestamp_end"), server.get("timestamp_end")]
        if error is not None:
            times.append(error.get("timestamp"))
        duration = _duration(start_f, _latest(times))
        size = sum(
            len(r["data"])
            for part in (request, response or {})
            for key in ("answers", "authorities", "additionals")
            for r in part.get(key, ())
            if isinstance(r.get("data"), bytes)
        )
    else:
        count, up, down, start_f, duration = _skim_messages(state, client, server, error)
        if count is None:
            return None
        size, detail = up + down, ""
    sni_c, sni_s = client.get("sni"), server.get("sni")
    snis = [s for s in (sni_c, sni_s) if s]
    return FlowSummary(
        type=_i(kind),
        start=start_f,
        client=_i(format_address(tuple(peer or ()))),
        server=_i(sni_c or sni_s or format_address(tuple(address) if address else None)),
        detail=detail,
        tls_version=_i(server.get("tls_version") or client.get("tls_version") or ""),
        messages=count,
        bytes_up=up,
        bytes_down=down,
        duration=duration,
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
        size=size,
        **extra,
    )


def _skim_messages(
    state: dict[str, Any], client: dict[str, Any], server: dict[str, Any], error: Any
) -> tuple[Any, Any, Any, float | None, float | None]:
    """Count, bytes up and down, start and duration of a TCP/UDP state (count None:
    decode it fully)."""
    messages = state["messages"]
    if isinstance(messages, MessageTotals):
        count, up, down, last = messages.count, messages.up, messages.down, messages.last
    else:
        count, up, down, last = len(messages), 0, 0, None
        for m in messages:
            if not (isinstance(m, list) and len(m) == 3 and type(m[0]) is bool):
                return None, None, None, None, None
            if not isinstance(m[1], bytes | Blob) or type(m[2]) not in (float, int):
                return None, None, None, None, None
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
    start_f = _time(start)
    return count, up, down, start_f, _duration(start_f, _latest(times))
