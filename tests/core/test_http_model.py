"""flowtui's HTTP and WebSocket model against mitmproxy 11's, on every HTTP flow of the
real captures: every property reads the same, the same changes give the same state, and
what flowtui writes mitmproxy reads back unchanged."""

from __future__ import annotations

import copy
import io
import types
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from http_oracle import http_pair, http_pair_ids, observe, plain, state

from flowtui.core import Flow, Headers, HTTPFlow, Request, Response
from flowtui.io import FlowWriter

pytest.importorskip("mitmproxy.io")
pytestmark = pytest.mark.mitmproxy

PAIRS = http_pair_ids()


def test_the_captures_hold_what_the_tests_need() -> None:
    """The differential tests below run on HTTP flows of every kind they describe."""
    kinds = set()
    for name in PAIRS:
        ours, _ = http_pair(name)
        if ours.response:
            kinds.add(ours.response.headers.get("content-encoding", "identity"))
            kinds.update(("cookies",) if ours.response.cookies else ())
        kinds.update(("websocket",) if ours.websocket else ())
        kinds.update(("http2",) if ours.request.is_http2 else ())
        kinds.update(
            ("repeated",)
            if ours.response and len(ours.response.headers.get_all("x-repeated")) > 1
            else ()
        )
        kinds.update(("urlencoded",) if ours.request.urlencoded_form else ())
        kinds.update(("multipart",) if ours.request.multipart_form else ())
    assert {"gzip", "deflate", "br", "zstd", "identity", "cookies", "websocket"} <= kinds
    assert {"urlencoded", "multipart", "http2", "repeated"} <= kinds


# -- reading: every property -----------------------------------------------------------

MESSAGE_PROPERTIES: dict[str, Callable[[Any], Any]] = {
    "http_version": lambda m: m.http_version,
    "is_http": lambda m: (m.is_http10, m.is_http11, m.is_http2, m.is_http3),
    "fields": lambda m: m.headers.fields,
    "items_multi": lambda m: list(m.headers.items(multi=True)),
    "folded": lambda m: dict(m.headers),
    "names": lambda m: list(m.headers),
    "keys_multi": lambda m: list(m.headers.keys(multi=True)),
    "values": lambda m: list(m.headers.values()),
    "len": lambda m: len(m.headers),
    "bytes": lambda m: bytes(m.headers),
    "get_all": lambda m: [m.headers.get_all(n) for n in ("set-cookie", "X-REPEATED", "nope")],
    "contains": lambda m: ["host" in m.headers, "HOST" in m.headers, "x" in m.headers],
    "trailers": lambda m: m.trailers,
    "raw_content": lambda m: m.raw_content,
    "content": lambda m: m.content,
    "lenient_content": lambda m: m.get_content(strict=False),
    "text": lambda m: m.text,
    "lenient_text": lambda m: m.get_text(strict=False),
    "json": lambda m: m.json(),
    "timestamps": lambda m: (m.timestamp_start, m.timestamp_end),
    "repr": lambda m: repr(m),
}
REQUEST_PROPERTIES: dict[str, Callable[[Any], Any]] = {
    "method": lambda r: r.method,
    "scheme": lambda r: r.scheme,
    "host": lambda r: r.host,
    "port": lambda r: r.port,
    "authority": lambda r: r.authority,
    "path": lambda r: r.path,
    "url": lambda r: r.url,
    "pretty_url": lambda r: r.pretty_url,
    "pretty_host": lambda r: r.pretty_host,
    "host_header": lambda r: r.host_header,
    "first_line_format": lambda r: r.first_line_format,
    "query": lambda r: r.query,
    "query_get": lambda r: (r.query.get("a"), r.query.get_all("a"), dict(r.query)),
    "cookies": lambda r: r.cookies,
    "cookies_get": lambda r: (dict(r.cookies), len(r.cookies)),
    "urlencoded_form": lambda r: r.urlencoded_form,
    "multipart_form": lambda r: r.multipart_form,
    "path_components": lambda r: r.path_components,
}
RESPONSE_PROPERTIES: dict[str, Callable[[Any], Any]] = {
    "status_code": lambda r: r.status_code,
    "reason": lambda r: r.reason,
    "cookies": lambda r: [(n, (v, a)) for n, (v, a) in r.cookies.items(multi=True)],
    "cookie_attrs": lambda r: [
        (a.get("path"), a.get("EXPIRES"), "httponly" in a, dict(a))
        for _, (_, a) in r.cookies.items()
    ],
}


def _observe_all(flow: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {"timestamp_start": observe(lambda: flow.timestamp_start)}
    messages = [("request", flow.request, REQUEST_PROPERTIES)]
    if flow.response is not None:
        messages.append(("response", flow.response, RESPONSE_PROPERTIES))
    for part, message, extra in messages:
        for name, get in {**MESSAGE_PROPERTIES, **extra}.items():
            seen[f"{part}.{name}"] = observe(lambda get=get, message=message: get(message))
    seen["response"] = flow.response is not None
    if flow.websocket is not None:
        ws = flow.websocket
        seen["ws"] = observe(
            lambda: (ws.closed_by_client, ws.close_code, ws.close_reason, ws.timestamp_end)
        )
        seen["ws.repr"] = repr(ws)
        for i, m in enumerate(ws.messages):
            for name in ("type", "from_client", "content", "timestamp", "dropped", "injected"):
                seen[f"ws.{i}.{name}"] = observe(lambda m=m, name=name: getattr(m, name))
            seen[f"ws.{i}.is_text"] = m.is_text
            seen[f"ws.{i}.text"] = observe(lambda m=m: m.text)
            seen[f"ws.{i}.repr"] = repr(m)
    return seen


@pytest.mark.parametrize("name", PAIRS)
def test_every_property_reads_as_in_mitmproxy(name: str) -> None:
    ours, theirs = http_pair(name)
    mine, reference = _observe_all(ours), _observe_all(theirs)
    assert mine.keys() == reference.keys()
    assert {k: v for k, v in mine.items() if v != reference[k]} == {}


@pytest.mark.parametrize("name", PAIRS)
def test_state_is_mitmproxys_exactly(name: str) -> None:
    """Same keys in the same order, same container types (tuples where mitmproxy has them)."""
    ours, theirs = http_pair(name)
    a, b = ours.get_state(), theirs.get_state()
    assert a == b
    assert list(a) == list(b) and list(a["request"]) == list(b["request"])
    if b["response"]:
        assert list(a["response"]) == list(b["response"])


# -- changing: the same changes give the same state ------------------------------------


def _set_cookie(r: Any) -> None:
    for name, (value, attrs) in list(r.cookies.items()):
        r.cookies[name] = (value + "-changed", attrs)


def _multipart(r: Any) -> None:
    r.headers["content-type"] = "multipart/form-data; boundary=fixedBoundary"
    r.multipart_form = [(b"field", b"value \xff"), (b"file.txt", b"text")]


CHANGES: dict[str, Callable[[Any], None]] = {
    "header set": lambda f: f.request.headers.__setitem__("X-New", "v ü"),
    "header set existing": lambda f: f.request.headers.__setitem__("HOST", "other.test:81"),
    "header insert": lambda f: f.request.headers.insert(0, b"X-\xff", b"\x00\xfe"),
    "header add": lambda f: f.request.headers.add("Accept", "a/b"),
    "header set_all": lambda f: f.request.headers.set_all("X-Multi", ["1", b"2", "3"]),
    "header delete": lambda f: f.request.headers.pop("user-agent", None),
    "header update": lambda f: f.request.headers.update({"A": "1", "b": "2"}),
    "method": lambda f: setattr(f.request, "method", "put"),
    "scheme": lambda f: setattr(f.request, "scheme", "https"),
    "host": lambda f: setattr(f.request, "host", "example.org"),
    "port": lambda f: setattr(f.request, "port", 8443),
    "path": lambda f: setattr(f.request, "path", "/x/y?z=1&z=2"),
    "url": lambda f: setattr(f.request, "url", "https://exämple.com:8443/a/b%20c?d=e#f"),
    "authority": lambda f: setattr(f.request, "authority", "auth.test:99"),
    "host_header": lambda f: setattr(f.request, "host_header", "hh.test"),
    "no host_header": lambda f: setattr(f.request, "host_header", None),
    "http2 host_header": lambda f: (
        setattr(f.request, "http_version", "HTTP/2.0"),
        setattr(f.request, "host_header", "h2.test"),
    ),
    "query set": lambda f: f.request.query.__setitem__("a", "z ü"),
    "query set_all": lambda f: f.request.query.set_all("k", ["1", "2"]),
    "query replace": lambda f: setattr(f.request, "query", [("x", "1"), ("x", "")]),
    "query delete": lambda f: f.request.query.pop("a", None),
    "request cookies": lambda f: f.request.cookies.__setitem__("n", 'v "q";'),
    "path_components": lambda f: setattr(f.request, "path_components", ["a b", "ü", "c/d"]),
    "urlencoded_form": lambda f: setattr(f.request, "urlencoded_form", [("k", "v ü"), ("e", "")]),
    "urlencoded add": lambda f: f.request.urlencoded_form.add("more", "1"),
    "multipart_form": lambda f: _multipart(f.request),
    "content": lambda f: setattr(f.request, "content", b"new body \x00"),
    "text": lambda f: setattr(f.request, "text", "tëxt ✓"),
    "no content": lambda f: setattr(f.request, "content", None),
    "raw_content": lambda f: setattr(f.request, "raw_content", b"raw"),
    "encode gzip": lambda f: f.request.encode("gzip"),
    "encode br": lambda f: f.request.encode("br"),
    "encode zstd": lambda f: f.request.encode("zstd"),
    "encode deflate": lambda f: f.request.encode("deflate"),
    "encode unknown": lambda f: f.request.encode("xyz"),
    "anticache": lambda f: f.request.anticache(),
    "anticomp": lambda f: f.request.anticomp(),
    "constrain_encoding": lambda f: (
        f.request.headers.__setitem__("accept-encoding", "gzip, sdch"),
        f.request.constrain_encoding(),
    ),
    "http_version": lambda f: setattr(f.request, "http_version", "HTTP/1.0"),
    "trailers": lambda f: setattr(f.request, "trailers", type(f.request.headers)(x_t="1")),
    "request timestamps": lambda f: setattr(f.request, "timestamp_end", 5.5),
    "response status": lambda f: f.response and setattr(f.response, "status_code", 418),
    "response reason": lambda f: f.response and setattr(f.response, "reason", "Tëapot"),
    "response decode": lambda f: f.response and f.response.decode(strict=False),
    "response decode strict": lambda f: f.response and f.response.decode(),
    "response content": lambda f: f.response and setattr(f.response, "content", b"x" * 100),
    "response text": lambda f: f.response and setattr(f.response, "text", "ü ✓ 中"),
    "response same content": lambda f: (
        f.response and setattr(f.response, "content", f.response.get_content(strict=False))
    ),
    "response cookies": lambda f: f.response and _set_cookie(f.response),
    "response cookies clear": lambda f: f.response and setattr(f.response, "cookies", []),
    "response refresh": lambda f: f.response and f.response.refresh(now=2_000_000_000.0),
    "no response": lambda f: setattr(f, "response", None),
    "websocket drop": lambda f: f.websocket and f.websocket.messages[0].drop(),
    "websocket text": lambda f: (
        f.websocket and setattr(f.websocket.messages[0], "text", "changed ✓")
    ),
    "websocket content": lambda f: (
        f.websocket and setattr(f.websocket.messages[-1], "content", b"\xff")
    ),
    "websocket close": lambda f: (
        f.websocket
        and (setattr(f.websocket, "close_code", 1001), setattr(f.websocket, "close_reason", "x"))
    ),
    "websocket clear": lambda f: f.websocket and f.websocket.messages.clear(),
    "marked": lambda f: setattr(f, "marked", ":grapes:"),
    "comment": lambda f: setattr(f, "comment", "c"),
    "backup then change": lambda f: (f.backup(), setattr(f.request, "method", "DELETE")),
    "backup change revert": lambda f: (
        f.backup(),
        setattr(f.request, "path", "/reverted"),
        f.response and setattr(f.response, "status_code", 500),
        f.revert(),
    ),
    "intercept": lambda f: f.intercept(),
    "intercept resume": lambda f: (f.intercept(), f.resume()),
    "kill": lambda f: (setattr(f, "live", True), f.kill(), setattr(f.error, "timestamp", 1.0)),
    "kill twice": lambda f: (f.kill(), f.kill()),
}


def _raised(result: Any) -> bool:
    return isinstance(result, list) and result[:1] == ["raises"]


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("name", PAIRS)
def test_same_change_same_state(name: str, change: str) -> None:
    ours, theirs = http_pair(name)
    mine = observe(lambda: CHANGES[change](ours))
    reference = observe(lambda: CHANGES[change](theirs))
    if _raised(reference) or _raised(mine):
        assert mine == reference
    assert state(ours) == state(theirs)
    assert ours.modified() == theirs.modified()
    assert _observe_all(ours) == _observe_all(theirs)


@pytest.mark.parametrize("name", PAIRS)
def test_copy_matches(name: str) -> None:
    ours, theirs = http_pair(name)
    a, b = ours.copy(), theirs.copy()
    assert a.id != ours.id and b.id != theirs.id
    sa, sb = state(a), state(b)
    sa.pop("id"), sb.pop("id")
    assert sa == sb


def test_make_matches() -> None:
    from mitmproxy import http as mhttp

    cases: list[tuple[str, Callable[[Any], Any]]] = [
        ("get", lambda m: m.Request.make("GET", "http://example.com/path?q=1")),
        (
            "post text",
            lambda m: m.Request.make(
                "post", "https://[::1]:8443/%C3%BC", "tëxt", {"Content-Type": "text/plain"}
            ),
        ),
        ("post bytes", lambda m: m.Request.make("PUT", "http://h:81/", b"\x00", [(b"A", b"b")])),
        ("non-ascii url", lambda m: m.Request.make("GET", "http://h/ü")),
        ("response", lambda m: m.Response.make()),
        ("response 418", lambda m: m.Response.make(418, "ü", {"content-type": "text/html"})),
        ("response 599", lambda m: m.Response.make(599, b"x", m.Headers(a="1"))),
    ]
    ours_module = types.SimpleNamespace(Request=Request, Response=Response, Headers=Headers)

    def made(module: Any, make: Callable[[Any], Any]) -> Any:
        m = make(module)
        m.timestamp_start = m.timestamp_end = 1.0
        return m.get_state(), repr(m)

    for label, make in cases:
        a = observe(lambda make=make: made(ours_module, make))
        b = observe(lambda make=make: made(mhttp, make))
        assert a == b, label
    assert not _raised(observe(lambda: made(ours_module, cases[0][1])))
    with pytest.raises(TypeError):
        Request.make("GET", "http://x/", content=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Request.make("GET", "no host")


def test_mode_is_deprecated_as_in_mitmproxy() -> None:
    ours, theirs = http_pair(PAIRS[0])
    for flow in (ours, theirs):
        with pytest.warns(DeprecationWarning):
            assert flow.mode == "regular"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flow.mode = "upstream"
            assert flow.mode == "upstream"


# -- writing: what flowtui writes, mitmproxy reads back the same -----------------------


def test_written_by_flowtui_read_by_mitmproxy() -> None:
    from mitmproxy import io as mio

    ours = []
    for name in PAIRS:
        flow, _ = http_pair(name)
        CHANGES["header insert"](flow)
        CHANGES["response text"](flow)
        CHANGES["websocket drop"](flow)
        ours.append(flow)
    buf = io.BytesIO()
    writer = FlowWriter(buf)
    for flow in ours:
        writer.add(flow)
    buf.seek(0)
    theirs = list(mio.FlowReader(buf).stream())
    assert [state(f) for f in theirs] == [state(f) for f in ours]
    assert [f.get_state() for f in theirs] == [f.get_state() for f in ours]


def test_bad_types_are_refused_not_modelled() -> None:
    """A state that does not model raises ValueError (the reader keeps it as UnknownFlow)."""
    good = http_pair(PAIRS[0])[0].get_state()
    for part, key, bad in [
        ("request", "headers", [[b"a"]]),
        ("request", "headers", [["a", "b"]]),
        ("request", "port", "80"),
        ("request", "method", "GÉT"),
        ("request", "host", b"\xff"),
        ("request", "content", "text"),
        ("request", "timestamp_start", None),
        ("request", "trailers", "x"),
        ("request", "extra", 1),
    ]:
        s = copy.deepcopy(good)
        s[part][key] = bad
        with pytest.raises(ValueError):
            Flow.from_state(s)
    s = copy.deepcopy(good)
    del s["request"]["path"]
    with pytest.raises(ValueError):
        Flow.from_state(s)
    s = copy.deepcopy(good)
    s["request"] = None
    with pytest.raises(ValueError):
        Flow.from_state(s)
    s = copy.deepcopy(good)
    s["websocket"] = {"messages": [[7, True, b"", 1.0, False, False]]}
    with pytest.raises(ValueError):
        Flow.from_state(s)
    assert isinstance(Flow.from_state(copy.deepcopy(good)), HTTPFlow)


def test_text_where_bytes_are_stored_is_accepted_as_in_mitmproxy() -> None:
    """mitmproxy's constructors turn ASCII text into bytes (and a bytes host into text):
    such a record reads, and its state is what mitmproxy makes of it."""
    from mitmproxy import flow as mflow

    ours, _ = http_pair(PAIRS[0])
    s = ours.get_state()
    s["request"].update(method="POST", scheme="https", path="/t", http_version="HTTP/1.1")
    s["request"]["host"] = b"example.com"
    if s["response"]:
        s["response"]["reason"] = "Fine"
    a = Flow.from_state(copy.deepcopy(s))
    b = mflow.Flow.from_state(copy.deepcopy(s))
    assert a.get_state() == b.get_state()
    assert isinstance(a, HTTPFlow) and a.request.method == "POST"


def _mitmproxy_style_script(flows: list[Any]) -> list[Any]:
    """An addon-like script written against mitmproxy's HTTP API only."""
    out = []
    for flow in flows:
        if getattr(flow, "type", None) != "http":
            continue
        req, resp = flow.request, flow.response
        row: dict[str, Any] = {
            "line": f"{req.method} {req.pretty_url} {req.http_version}",
            "host": (req.host, req.port, req.pretty_host),
            "query": dict(req.query),
            "cookies": req.cookies.fields,
            "form": req.urlencoded_form.fields or req.multipart_form.fields,
            "ua": req.headers.get("user-agent"),
        }
        if req.headers.get("content-type", "").startswith("application/json"):
            row["request_json"] = observe(req.json)
        if resp is not None:
            row["status"] = (resp.status_code, resp.reason)
            row["body"] = resp.get_text(strict=False)
            row["set_cookies"] = {n: v for n, (v, _) in resp.cookies.items()}
            if "json" in resp.headers.get("content-type", ""):
                row["json"] = observe(resp.json)
        if flow.websocket is not None:
            row["ws"] = [
                (m.from_client, m.text if m.is_text else m.content) for m in flow.websocket.messages
            ]
        req.headers["x-seen-by"] = "script"
        req.query["seen"] = "1"
        try:
            if resp is not None and resp.text is not None and "json" not in resp.text:
                resp.text = resp.text.replace("not", "NOT")
        except ValueError as e:  # a body that does not decode, as mitmproxy says
            row["rewrite"] = type(e).__name__
        out.append(row)
    return out


def test_a_mitmproxy_script_runs_unchanged_on_read_flows() -> None:
    from http_oracle import CAPTURES
    from mitmproxy import io as mio

    from flowtui.io import read_flows

    for path in CAPTURES:
        ours = read_flows(path)
        with path.open("rb") as f:
            theirs = list(mio.FlowReader(f).stream())
        assert plain(_mitmproxy_style_script(ours)) == plain(_mitmproxy_style_script(theirs))
        assert [state(f) for f in ours] == [state(f) for f in theirs], path.name
