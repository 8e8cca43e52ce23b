"""Hypothesis-generated headers, bodies, cookies, queries and WebSocket messages: flowtui's
classes give what mitmproxy 11's give, for the same input and the same changes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from http_oracle import observe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowtui.core import Headers, Request, Response

pytest.importorskip("mitmproxy.http")
from mitmproxy import http as mhttp

pytestmark = pytest.mark.mitmproxy
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.sampled_from(
    [b"Host", b"host", b"Content-Type", b"content-encoding", b"Set-Cookie", b"Cookie",
     b"X-Rep", b"x-rep", b"\xff\xfe", b"", b"Transfer-Encoding", b"Accept-Encoding"]
) | st.binary(max_size=6)  # fmt: skip
values = st.sampled_from(
    [b"gzip", b"br", b"zstd", b"deflate", b"identity", b"utf8", b"text/html; charset=latin-1",
     b"application/json", b"text/plain; charset=utf-8", b"multipart/form-data; boundary=b",
     b"application/x-www-form-urlencoded", b"a=1; b=\"2\"", b"c=d; Path=/; HttpOnly",
     b"e=f; Expires=Wed, 21 Oct 2037 07:28:00 GMT, g=h", b"caf\xe9", b""]
) | st.binary(max_size=12)  # fmt: skip
header_fields = st.lists(st.tuples(names, values), max_size=8)
bodies = st.none() | st.binary(max_size=200) | st.sampled_from(
    [b"{\"a\": [1, 2]}", b"a=1&a=2&b=%C3%A9", "grüße ✓".encode(), b"\x1f\x8b\x08garbage",
     b"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--b--\r\n"]
)  # fmt: skip
texts = st.text(max_size=30)
codings = st.sampled_from(["gzip", "deflate", "br", "zstd", "identity", "none", "utf8", "nope"])


def _message_state(kind: str, fields: list[tuple[bytes, bytes]], body: bytes | None) -> Any:
    common = {
        "http_version": b"HTTP/1.1",
        "headers": [list(f) for f in fields],
        "content": body,
        "trailers": None,
        "timestamp_start": 1.0,
        "timestamp_end": 2.0,
    }
    if kind == "request":
        return {
            **common,
            "host": "example.com",
            "port": 443,
            "method": b"POST",
            "scheme": b"https",
            "authority": b"",
            "path": b"/p/a%20b?q=1&q=2&r",
        }
    return {**common, "status_code": 200, "reason": b"OK"}


def _pair(kind: str, fields: list[tuple[bytes, bytes]], body: bytes | None) -> tuple[Any, Any]:
    s = _message_state(kind, fields, body)
    ours = (Request if kind == "request" else Response).from_state(copy.deepcopy(s))
    theirs = (mhttp.Request if kind == "request" else mhttp.Response).from_state(copy.deepcopy(s))
    return ours, theirs


def _reads(m: Any) -> dict[str, Any]:
    out = {
        name: observe(lambda get=get: get(m))
        for name, get in {
            "fields": lambda m: m.headers.fields,
            "folded": lambda m: dict(m.headers),
            "multi": lambda m: list(m.headers.items(multi=True)),
            "bytes": lambda m: bytes(m.headers),
            "content": lambda m: m.content,
            "lenient": lambda m: m.get_content(strict=False),
            "text": lambda m: m.text,
            "lenient_text": lambda m: m.get_text(strict=False),
            "json": lambda m: m.json(),
        }.items()
    }
    if hasattr(m, "cookies"):
        out["cookies"] = observe(lambda: list(m.cookies.items(multi=True)))
    if hasattr(m, "query"):
        out["query"] = observe(lambda: m.query)
        out["form"] = observe(lambda: m.urlencoded_form)
        out["multipart"] = observe(lambda: m.multipart_form)
        out["pretty_url"] = observe(lambda: m.pretty_url)
    return out


@SETTINGS
@given(kind=st.sampled_from(["request", "response"]), fields=header_fields, body=bodies)
def test_generated_messages_read_the_same(
    kind: str, fields: list[tuple[bytes, bytes]], body: bytes | None
) -> None:
    ours, theirs = _pair(kind, fields, body)
    assert _reads(ours) == _reads(theirs)
    assert ours.get_state() == theirs.get_state()


@SETTINGS
@given(
    kind=st.sampled_from(["request", "response"]),
    fields=header_fields,
    body=bodies,
    name=names.map(lambda b: b.decode("utf-8", "surrogateescape")),
    value=texts,
    coding=codings,
    new_body=st.binary(max_size=100),
    text=texts,
    index=st.integers(0, 9),
)
def test_generated_changes_give_the_same_state(
    kind: str,
    fields: list[tuple[bytes, bytes]],
    body: bytes | None,
    name: str,
    value: str,
    coding: str,
    new_body: bytes,
    text: str,
    index: int,
) -> None:
    ours, theirs = _pair(kind, fields, body)
    steps = [
        lambda m: m.headers.__setitem__(name, value),
        lambda m: m.headers.insert(index, name, value),
        lambda m: m.headers.set_all(name, [value, "second"]),
        lambda m: m.headers.pop(name, None),
        lambda m: m.encode(coding),
        lambda m: setattr(m, "content", new_body),
        lambda m: m.decode(strict=False),
        lambda m: setattr(m, "text", text),
        lambda m: m.decode(),
        lambda m: setattr(m, "content", m.get_content(strict=False)),
    ]
    if kind == "request":
        steps += [
            lambda m: m.query.__setitem__(value, text),
            lambda m: m.cookies.__setitem__(value or "n", text),
            lambda m: setattr(m, "urlencoded_form", [(value, text)]),
            lambda m: setattr(m, "path_components", [value, text]),
        ]
    else:
        steps += [
            lambda m: setattr(
                m, "cookies", [(value or "n", (text, [("Path", "/"), ("HttpOnly", None)]))]
            ),
            lambda m: m.cookies.__setitem__(
                value or "n", (text, m.cookies.fields[0][1][1] if m.cookies else [])
            ),
            lambda m: setattr(m, "reason", text),
        ]
    for step in steps:
        a, b = observe(lambda step=step: step(ours)), observe(lambda step=step: step(theirs))
        assert a == b
        assert ours.get_state() == theirs.get_state()
        assert _reads(ours) == _reads(theirs)


@SETTINGS
@given(
    header=st.text(max_size=40)
    | st.sampled_from(
        [
            'a="b\\"c"; d',
            "a, b=1",
            "=;=",
            '"',
            ";",
            "e=f; Expires=Wed, 21 Oct 2037 07:28:00 GMT, g=h",
            "x=1; expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
            "k=v; Expires=Sunday, 06-Nov-94",
        ]
    )
)
def test_generated_cookie_headers_parse_the_same(header: str) -> None:
    fields = [(b"Cookie", header.encode("utf-8", "surrogateescape"))]
    set_fields = [(b"Set-Cookie", header.encode("utf-8", "surrogateescape"))]
    ours, theirs = _pair("request", fields, None)
    assert observe(lambda: ours.cookies) == observe(lambda: theirs.cookies)
    ours_r, theirs_r = _pair("response", set_fields, None)
    assert observe(lambda: list(ours_r.cookies.items(multi=True))) == observe(
        lambda: list(theirs_r.cookies.items(multi=True))
    )
    ours_r.cookies = ours_r.cookies.fields
    theirs_r.cookies = theirs_r.cookies.fields
    assert ours_r.get_state() == theirs_r.get_state()


def test_headers_constructor_and_errors_as_in_mitmproxy() -> None:
    for build in (
        lambda H: H(host="a", content_type="b", x_y=b"c").fields,
        lambda H: H([(b"A", b"1"), (b"a", b"2")])["A"],
        lambda H: H([("A", b"1")]),
        lambda H: H([(b"A", b"1")])["missing"],
        lambda H: H([(b"A", b"1")]) == H([(b"A", b"1")]),
        lambda H: H([(b"A", b"1")]) == H([(b"a", b"1")]),
        lambda H: bytes(H()),
    ):
        assert observe(lambda build=build: build(Headers)) == observe(
            lambda build=build: build(mhttp.Headers)
        )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    host=st.text(max_size=20) | st.sampled_from(["::1", "[::1]", "xn--", "a..b", "é.test"]),
    port=st.integers(-1, 2**70) | st.booleans(),
    authority=st.binary(max_size=20) | st.sampled_from([b"h:99999", b"[::1]:80", b"\xff"]),
    method=st.binary(max_size=8) | st.sampled_from([b"CONNECT", b"connect", b"GET"]),
    scheme=st.binary(max_size=8) | st.sampled_from([b"http", b"https"]),
    path=st.binary(max_size=20) | st.sampled_from([b"*", b"", b"//x?%zz=%ff"]),
    version=st.sampled_from([b"HTTP/1.1", b"HTTP/2.0", b"HTTP/3", b"\x1b"]),
    fields=header_fields,
    body=bodies,
    status=st.integers(-(2**64), 2**64),
)
def test_odd_requests_never_stop_a_list_or_a_filter(
    host: str,
    port: int,
    authority: bytes,
    method: bytes,
    scheme: bytes,
    path: bytes,
    version: bytes,
    fields: list[tuple[bytes, bytes]],
    body: bytes | None,
    status: int,
) -> None:
    """Whatever a capture holds in the request line and headers, the flow models, lists
    (its summary) and goes through every filter operator without raising."""
    from truth import state_of

    from flowtui.core import Flow
    from flowtui.core.filters import parse
    from flowtui.core.filters.catalog import OPERATORS
    from flowtui.core.summary import summarize

    state = state_of("mixed_protocols", 0)
    request = _message_state("request", fields, body)
    request.update(
        host=host, port=port, authority=authority, method=method, scheme=scheme, path=path
    )
    request["http_version"] = version
    state["request"] = request
    state["response"] = _message_state("response", fields, body)
    state["response"]["status_code"] = status
    from mitmproxy import flow as mflow

    flow = Flow.from_state(copy.deepcopy(state))
    theirs = mflow.Flow.from_state(copy.deepcopy(state))
    for read in (
        lambda f: f.request.url,
        lambda f: f.request.pretty_url,
        lambda f: f.request.pretty_host,
        lambda f: f.request.host_header,
        lambda f: f.request.authority,
        lambda f: f.request.first_line_format,
        lambda f: f.request.path_components,
        lambda f: f.request.query,
        lambda f: repr(f.request),
        lambda f: repr(f.response),
    ):
        assert observe(lambda read=read: read(flow)) == observe(lambda read=read: read(theirs))
    summarize(flow)
    for name, op in OPERATORS.items():
        arg = {"none": "", "regex": " .", "code": " 200", "size": " >0", "version": ""}[op.arg]
        assert parse(f"~{name}{arg}")(flow) in (True, False)
