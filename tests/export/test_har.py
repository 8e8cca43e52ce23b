"""HAR export, checked against mitmproxy 11's own ``save.har`` on every HTTP flow of the
real captures: equal field by field, but for the differences documented in
`flowtui.export.har` (each checked here on its own terms)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from export_oracle import CAPTURES, capture_id, pairs

from flowtui.core import HTTPFlow
from flowtui.export import ExportError, export
from flowtui.export.har import har_log, head_size

pytestmark = pytest.mark.mitmproxy

HTTP_CAPTURES = [p for p in CAPTURES if any(b.type == "http" for _, b in pairs(p))]


def _latin1(value: Any) -> Any:
    """mitmproxy's lone surrogates (undecodable bytes) as the Latin-1 characters."""
    if isinstance(value, str):
        return re.sub("[\udc80-\udcff]", lambda m: chr(ord(m.group()) - 0xDC00), value)
    if isinstance(value, dict):
        return {k: _latin1(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_latin1(v) for v in value]
    return value


def _theirs(flows: list[Any]) -> dict[str, Any]:
    from mitmproxy.addons.savehar import SaveHar

    har: dict[str, Any] = _latin1(json.loads(json.dumps(SaveHar().make_har(flows))))
    return har


def _normalised(ours: dict[str, Any], theirs: dict[str, Any]) -> tuple[Any, Any]:
    """Both documents with the documented differences taken out."""
    ours, theirs = copy.deepcopy(ours), copy.deepcopy(theirs)
    assert theirs["log"]["creator"]["name"] == "mitmproxy"
    assert ours["log"]["creator"]["name"] == "flowtui"
    del ours["log"]["creator"], theirs["log"]["creator"]
    for a, b in zip(ours["log"]["entries"], theirs["log"]["entries"], strict=True):
        assert a["timings"].pop("blocked") == -1
        assert a["timings"].pop("dns") == -1
        for side in ("request", "response"):
            a[side].pop("headersSize")
            b[side].pop("headersSize")
        for cookie in a["response"]["cookies"]:
            cookie.pop("expires", None)
        content_a, content_b = a["response"]["content"], b["response"]["content"]
        if content_b:
            # mitmproxy: the encoded size; HAR 1.2: the decoded size.
            assert content_a.pop("size") == content_b["size"] + content_b["compression"]
            content_b.pop("size")
        if b["request"]["method"] not in ("POST", "PUT", "PATCH"):
            a["request"].pop("postData", None)
    return ours, theirs


@pytest.mark.parametrize("path", HTTP_CAPTURES, ids=capture_id)
def test_har_equals_mitmproxys_export(path: Any) -> None:
    flow_pairs = pairs(path)
    ours = json.loads(export([a for a, _ in flow_pairs], "har"))
    theirs = _theirs([b for _, b in flow_pairs])
    assert ours["log"]["version"] == "1.2"
    assert len(ours["log"]["entries"]) == sum(1 for _, b in flow_pairs if b.type == "http")
    a, b = _normalised(ours, theirs)
    for entry_a, entry_b in zip(a["log"]["entries"], b["log"]["entries"], strict=True):
        assert entry_a == entry_b
    assert a == b


@pytest.mark.parametrize("path", HTTP_CAPTURES, ids=capture_id)
def test_headers_size_is_the_http1_head(path: Any) -> None:
    """headersSize counts the head as mitmproxy's own HTTP/1 assembler writes it."""
    from mitmproxy.net.http.http1 import assemble

    for a, b in pairs(path):
        if not isinstance(a, HTTPFlow):
            continue
        assert head_size(a.request) == len(assemble.assemble_request_head(b.request))
        if b.response is not None:
            assert a.response is not None
            assert head_size(a.response) == len(assemble.assemble_response_head(b.response))


def test_har_of_a_flow_without_http_is_refused() -> None:
    tcp = [a for p in CAPTURES for a, _ in pairs(p) if a.type == "tcp"]
    assert tcp
    with pytest.raises(ExportError, match="har needs an HTTP flow"):
        export(tcp[:2], "har")


def test_har_leaves_other_flows_out() -> None:
    flows = [a for p in CAPTURES for a, _ in pairs(p) if "mixed_protocols" in str(p)]
    http = [f for f in flows if isinstance(f, HTTPFlow)]
    assert len(http) < len(flows)
    doc = json.loads(export(flows, "har"))
    assert [e["request"]["url"] for e in doc["log"]["entries"]] == [
        f.request.pretty_url for f in http
    ]


def test_connection_time_only_on_the_first_request_of_a_connection() -> None:
    flows = [a for p in CAPTURES for a, _ in pairs(p) if isinstance(a, HTTPFlow)]
    by_conn: dict[str, list[HTTPFlow]] = {}
    for f in flows:
        by_conn.setdefault(f.server_conn.id, []).append(f)
    reused = next(group for group in by_conn.values() if len(group) > 1)
    entries = har_log(reused)["log"]["entries"]
    assert all(e["timings"]["connect"] == -1 for e in entries[1:])


def test_undecodable_header_bytes_are_latin1_text() -> None:
    """A Latin-1 header value is written as valid UTF-8 JSON that strict readers take."""
    flows = [a for p in CAPTURES for a, _ in pairs(p) if isinstance(a, HTTPFlow)]
    odd = next(f for f in flows if "\udce9" in "".join(f.request.headers.values()))
    data = export([odd], "har")
    data.decode("utf-8", errors="strict")
    assert "\\ud" not in data.decode()
    headers = json.loads(data)["log"]["entries"][0]["request"]["headers"]
    assert any(h["value"] == "caf\u00e9" for h in headers)


def test_a_flow_with_an_impossible_time_is_refused_not_written_as_bad_json() -> None:
    flow = next(a for p in CAPTURES for a, _ in pairs(p) if isinstance(a, HTTPFlow)).copy()
    flow.request.timestamp_end = float("nan")
    with pytest.raises(ExportError, match="a time is not a finite number"):
        export([flow], "har")
    flow.request.timestamp_start = float("inf")
    with pytest.raises(ExportError, match="a time cannot be written"):
        export([flow], "har")
