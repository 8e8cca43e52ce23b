"""HAR files read as HTTP flows, compared with mitmproxy 11's own HAR reader on HARs
from three writers (flowtui's export, mitmproxy's save.har, and a browser-style file):
the flows' states are equal, but for ids and creation times mitmproxy makes up and
the differences `flowtui.io.har` documents. A damaged HAR names the file and entry."""

from __future__ import annotations

import base64
import copy
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from export_oracle import CAPTURES, capture_id, pairs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowtui.core import HTTPFlow
from flowtui.export import export
from flowtui.io import FlowReader, FlowReadException, read_flows
from flowtui.io.detect import CaptureFormat, detect_format
from flowtui.io.lazy import CaptureIndexer

HTTP_CAPTURES = [p for p in CAPTURES if any(b.type == "http" for _, b in pairs(p))]

_ONLY_OURS = ("id", "timestamp_created")
"""Fields mitmproxy's reader fills with fresh random ids and the current time."""


def _comparable(state: Any) -> Any:
    if isinstance(state, dict):
        return {k: _comparable(v) for k, v in state.items() if k not in _ONLY_OURS}
    if isinstance(state, list | tuple):
        return [_comparable(v) for v in state]
    return state


def _theirs(har: bytes) -> list[Any] | None:
    """mitmproxy's reading of `har`, or None when it cannot read it."""
    from mitmproxy import exceptions
    from mitmproxy import io as mio

    try:
        return list(mio.FlowReader(io.BytesIO(har)).stream())
    except exceptions.FlowReadException:
        return None


def _ours(har: bytes, name: str = "x.har") -> list[HTTPFlow]:
    flows = list(FlowReader(io.BytesIO(har), name=name).stream())
    assert all(isinstance(f, HTTPFlow) for f in flows)
    return flows  # type: ignore[return-value]


def _versions_as_mitmproxy_reads_them(har: dict[str, Any], state: Any, index: int) -> Any:
    """Our state with the HTTP versions mitmproxy would have read (documented difference:
    it reads every version but HTTP/2, http/2.0 and HTTP/3 as HTTP/1.1)."""
    entry = har["log"]["entries"][index]
    table = {"http/2.0": b"HTTP/2", "HTTP/2": b"HTTP/2", "HTTP/3": b"HTTP/3"}
    state = copy.deepcopy(state)
    state["request"]["http_version"] = table.get(entry["request"]["httpVersion"], b"HTTP/1.1")
    if state.get("response"):
        resp = table.get(entry["response"]["httpVersion"], b"HTTP/1.1")
        state["response"]["http_version"] = resp
    return state


def _compare(har: bytes) -> int:
    """Compare every entry with mitmproxy; the number compared."""
    doc = json.loads(har.removeprefix(b"\xef\xbb\xbf"))
    ours = _ours(har)
    theirs = _theirs(har)
    assert theirs is not None
    assert len(ours) == len(theirs) == len(doc["log"]["entries"])
    compared = 0
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        entry = doc["log"]["entries"][i]
        if entry["response"]["status"] == 0 and not entry["response"]["headers"]:
            assert a.response is None and a.error is not None  # documented difference
            continue
        state = _versions_as_mitmproxy_reads_them(doc, a.get_state(), i)
        assert _comparable(state) == _comparable(b.get_state()), i
        compared += 1
    return compared


@pytest.mark.mitmproxy
@pytest.mark.parametrize("path", HTTP_CAPTURES, ids=capture_id)
def test_our_har_export_reads_as_mitmproxy_reads_it(path: Path) -> None:
    har = export([a for a, _ in pairs(path)], "har")
    # mitmproxy's reader refuses a header it cannot encode; ours are all valid UTF-8.
    assert _compare(har) > 0


@pytest.mark.mitmproxy
@pytest.mark.parametrize("path", HTTP_CAPTURES, ids=capture_id)
def test_mitmproxys_har_export_reads_as_mitmproxy_reads_it(path: Path) -> None:
    from mitmproxy.addons.savehar import SaveHar

    har = json.dumps(SaveHar().make_har([b for _, b in pairs(path)])).encode()
    if _theirs(har) is None:
        # mitmproxy writes undecodable header bytes as lone surrogates (\udce9) and
        # cannot read them back; flowtui reads them as the bytes they were.
        ours = _ours(har)
        assert any(b"\xe9" in v for f in ours for _, v in f.request.headers.fields)
        return
    assert _compare(har) > 0


def _browser_har() -> dict[str, Any]:
    """A HAR as browsers write it: HTTP/2 spelled three ways, a base64 image, a posted
    form, cookies, a blocked request (status 0), Slack's [name, value] headers."""
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256))).decode()

    def entry(url: str, version: str, status: int, **extra: Any) -> dict[str, Any]:
        e: dict[str, Any] = {
            "startedDateTime": "2026-12-01T10:00:00.123Z",
            "time": 42.5,
            "request": {
                "method": extra.pop("method", "GET"),
                "url": url,
                "httpVersion": version,
                "headers": extra.pop("req_headers", [{"name": "accept", "value": "*/*"}]),
                "cookies": [],
                "queryString": [],
                "headersSize": -1,
                "bodySize": 0,
            },
            "response": {
                "status": status,
                "statusText": "",
                "httpVersion": version,
                "headers": extra.pop("resp_headers", []),
                "cookies": [],
                "content": extra.pop("content", {"size": 0, "mimeType": "x-unknown"}),
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": -1,
            },
            "cache": {},
            "timings": {"send": 1, "wait": 40, "receive": 1.5},
        }
        if "_error" in extra:  # devtools puts it in the response
            e["response"]["_error"] = extra.pop("_error")
        e.update(extra)
        return e

    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": [],
            "entries": [
                entry(
                    "https://example.com/a?x=1&y=%C3%A9",
                    "http/2.0",
                    200,
                    serverIPAddress="93.184.215.14",
                    resp_headers=[
                        {"name": "content-type", "value": "text/html; charset=utf-8"},
                        {"name": "set-cookie", "value": "s=1; HttpOnly"},
                    ],
                    content={"size": 12, "mimeType": "text/html", "text": "<p>grüße</p>"},
                ),
                entry(
                    "https://example.com/i.png",
                    "HTTP/2",
                    200,
                    resp_headers=[{"name": "content-type", "value": "image/png"}],
                    content={
                        "size": 264,
                        "mimeType": "image/png",
                        "text": png,
                        "encoding": "base64",
                    },
                ),
                entry(
                    "http://example.com/form",
                    "HTTP/1.1",
                    302,
                    method="POST",
                    req_headers=[["content-type", "application/x-www-form-urlencoded"]],
                    resp_headers=[["location", "/done"]],
                    **{"_x": 1},
                ),
                entry("https://tracker.example/t.js", "", 0, _error="net::ERR_BLOCKED_BY_CLIENT"),
                entry(
                    "https://example.com/gz",
                    "HTTP/3",
                    200,
                    resp_headers=[
                        {"name": "content-encoding", "value": "gzip"},
                        {"name": "content-type", "value": "application/json"},
                    ],
                    content={"size": 9, "mimeType": "application/json", "text": '{"a": 1}\n'},
                ),
            ],
        }
    }


@pytest.mark.mitmproxy
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_browser_har_reads_as_mitmproxy_reads_it(bom: bytes) -> None:
    doc = _browser_har()
    doc["log"]["entries"][2]["request"]["postData"] = {
        "mimeType": "application/x-www-form-urlencoded",
        "text": "a=1&b=%C3%BC",
        "params": [],
    }
    har = bom + json.dumps(doc).encode()
    assert _compare(har) == 4
    flows = _ours(har)
    assert flows[0].request.http_version == "HTTP/2" and flows[4].request.http_version == "HTTP/3"
    assert flows[1].response is not None and flows[1].response.content.startswith(b"\x89PNG")
    assert flows[2].request.urlencoded_form["b"] == "ü"
    assert flows[3].error is not None and flows[3].error.msg == "net::ERR_BLOCKED_BY_CLIENT"
    assert flows[4].response is not None and flows[4].response.json() == {"a": 1}
    assert flows[4].response.raw_content != flows[4].response.content  # gzip-encoded again


def test_har_is_detected_by_content_not_name(tmp_path: Path) -> None:
    assert detect_format(b'  {"log"') is CaptureFormat.HAR
    assert detect_format(b'\xef\xbb\xbf{"log"') is CaptureFormat.HAR
    path = tmp_path / "capture.flows"  # a HAR under another name
    path.write_text(json.dumps(_browser_har()))
    assert len(read_flows(path)) == 5


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["log"]["entries"][2]["request"].pop("url"),
            'flow #2: log.entries[2].request: no "url"',
        ),
        (
            lambda d: d["log"]["entries"][1].update(startedDateTime="yesterday"),
            "flow #1: log.entries[1].startedDateTime: not an ISO 8601 date: 'yesterday'",
        ),
        (
            lambda d: d["log"]["entries"][0]["response"].update(status="200"),
            "flow #0: log.entries[0].response.status: expected int, found str",
        ),
        (
            lambda d: d["log"]["entries"][1]["response"]["content"].update(text="!!not base64!!"),
            "flow #1: log.entries[1].response.content.text: not valid base64",
        ),
        (
            lambda d: d["log"]["entries"][4]["request"]["headers"].append(
                {"name": 1, "value": "x"}
            ),
            "flow #4: log.entries[4].request.headers[1].name: expected str, found int",
        ),
        (lambda d: d["log"].pop("entries"), 'at byte 0: not a HAR file: log: no "entries"'),
        (
            lambda d: d.update(log=[]),
            "at byte 0: not a HAR file: HAR.log: expected dict, found list",
        ),
    ],
)
def test_a_bad_har_names_the_file_and_the_entry(tmp_path: Path, mutate: Any, message: str) -> None:
    doc = _browser_har()
    mutate(doc)
    path = tmp_path / "bad.har"
    path.write_text(json.dumps(doc))
    with pytest.raises(FlowReadException) as info:
        read_flows(path)
    assert str(info.value) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"log": {"entries": [}',
            "at byte 21: not valid JSON: Expecting value (line 1, column 22)",
        ),
        (b'{"log": "\xff"}', "a HAR file must be UTF-8 JSON"),
        (b'{"other": 1}', 'not a HAR file: HAR: no "log"'),
    ],
)
def test_not_json_or_not_a_har(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.har"
    path.write_bytes(content)
    with pytest.raises(FlowReadException, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_flows(path)


def test_the_ui_indexer_reads_a_har(tmp_path: Path) -> None:
    """The lazy indexer the UI uses reads records by offset: it gets the entries as a
    mitmproxy capture, and each entry loads as its flow."""
    path = tmp_path / "b.har"
    path.write_text(json.dumps(_browser_har()))
    indexer = CaptureIndexer(path, workers=0)
    entries = list(indexer.entries())
    assert indexer.format is CaptureFormat.MITMPROXY
    assert [e.ref.load().request.url for e in entries] == [f.request.url for f in read_flows(path)]  # type: ignore[attr-defined]
    assert entries[0].ref.verified_raw().startswith(b"")


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.mitmproxy
def test_dump_and_convert_a_har(tmp_path: Path) -> None:
    path = tmp_path / "b.har"
    path.write_text(json.dumps(_browser_har()))
    dump = _cli("dump", path)
    assert dump.returncode == 0, dump.stderr
    lines = dump.stdout.splitlines()
    assert lines[0] == "127.0.0.1:0: GET https://example.com/a?x=1&y=%C3%A9 HTTP/2"
    assert " << net::ERR_BLOCKED_BY_CLIENT" in lines
    out = tmp_path / "b.flows"
    conv = _cli("convert", path, out)
    assert conv.returncode == 0, conv.stderr
    from mitmproxy import io as mio

    with out.open("rb") as f:
        theirs = list(mio.FlowReader(f).stream())
    assert [_comparable(f.get_state()) for f in theirs] == [
        _comparable(f.get_state()) for f in read_flows(path)
    ]
    bad = tmp_path / "bad.har"
    bad.write_text('{"log": {"entries": [{"time": 1}]}}')
    proc = _cli("dump", bad)
    assert proc.returncode == 1
    assert proc.stderr == f'flowtui: error: {bad}: flow #0: log.entries[0]: no "startedDateTime"\n'


@pytest.mark.parametrize("path", HTTP_CAPTURES, ids=capture_id)
def test_export_then_import_keeps_the_exchange(path: Path) -> None:
    """A HAR written by flowtui reads back as the same requests and responses: method,
    path, query, decoded bodies, status, and the headers but Content-Length (which the
    reader sets from the body, as mitmproxy's does) and undecodable bytes (written as
    their Latin-1 characters, read back as UTF-8)."""
    flows = [a for a, _ in pairs(path) if isinstance(a, HTTPFlow)]
    back = _ours(export(flows, "har"))
    assert len(back) == len(flows)

    def headers(message: Any) -> list[tuple[bytes, bytes]]:
        return [(k, v) for k, v in message.headers.fields if k.lower() != b"content-length"]

    for a, b in zip(flows, back, strict=True):
        assert (b.request.method, b.request.path) == (a.request.method, a.request.path)
        body = a.request.get_content(strict=False) or b""
        assert (b.request.get_content(strict=False) or b"") == body
        if all(v.isascii() for _, v in a.request.headers.fields):
            assert headers(b.request) == headers(a.request)
        if a.response is None:
            assert b.response is None and b.error is not None
            continue
        assert b.response is not None
        assert b.response.status_code == a.response.status_code
        if a.response.raw_content is not None:
            assert b.response.get_content(strict=False) == a.response.get_content(strict=False)
        if all(v.isascii() for _, v in a.response.headers.fields):
            assert headers(b.response) == headers(a.response)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_value_anywhere_is_read_or_refused_with_its_place(data: st.DataObject) -> None:
    """Whatever value stands anywhere in an entry, reading gives flows or one
    FlowReadException naming the file; never another exception."""
    doc = _browser_har()
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(_JSON)
    try:
        flows = list(FlowReader(io.BytesIO(json.dumps(doc).encode()), name="f.har").stream())
    except FlowReadException as e:
        assert str(e).startswith("f.har: ")
        return
    for flow in flows:
        assert isinstance(flow, HTTPFlow)
        flow.get_state()
