"""The HTTP inspector on real captures (mitmdump recordings in tests/data/mitmproxy-11):
list rows for HTTP, WebSocket and DNS, the Request and Response panes, content views
switched with a key, WebSocket messages in the message viewer, export and saving a
body from the UI, and a big body's preview."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mitmproxy import io as mio
from mitmproxy.test import tflow
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent
from ui_support import FIXTURES

from flowtui.core import Flow, HTTPFlow
from flowtui.export import export
from flowtui.io import read_flows, save_flows
from flowtui.store import summarize
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.safe_text import clean
from flowtui.ui.widgets.detail_pane import FIRST_LINES, DetailPane
from flowtui.ui.widgets.flow_columns import (
    content_type_cell,
    fit,
    layout,
    request_line,
    status_class,
)
from flowtui.ui.widgets.http_lines import detail_lines, kv_table
from flowtui.ui.widgets.message_view import MessageView

BODIES = FIXTURES / "http_bodies.flows"
VIEWS = FIXTURES / "http_views.flows"
MIXED = FIXTURES / "mixed_protocols.flows"
DNS = FIXTURES / "dns.flows"


def _app(path: Path) -> FlowtuiApp:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    return make_app([path], now=lambda: now, tz=UTC, detail_delay=0)


async def _open(pilot: Pilot[None], row: int) -> None:
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("home", *["down"] * row)
    await app.workers.wait_for_complete()
    await pilot.pause()


def _plain(pane: DetailPane) -> list[str]:
    return [t.plain for t in pane.head + pane.body]


# -- list rows ------------------------------------------------------------------------


def test_http_rows_show_method_host_path_status_and_type() -> None:
    flows = read_flows(BODIES)
    s = summarize(flows[11])  # POST /json
    assert request_line(s).startswith("POST 127.0.0.1:") is False  # host, not authority
    assert request_line(s) == "POST 127.0.0.1/json"
    assert content_type_cell(s) == "application/json"
    assert status_class(s) == "flowlist--status-2xx"
    assert status_class(summarize(flows[13])) == "flowlist--status-4xx"  # the 404


def test_a_url_is_cut_in_its_path_never_in_its_host() -> None:
    s = summarize(read_flows(BODIES)[8])  # GET /query?a=1&a=2&...
    cell = fit(request_line(s), 22)
    assert cell.startswith("GET 127.0.0.1/query") and cell.endswith("…")
    assert cell_len(cell) == 22


def test_websocket_and_dns_rows() -> None:
    flows = read_flows(MIXED)
    by_type = {summarize(f).type: summarize(f) for f in flows if f.type != "http"}
    ws = next(summarize(f) for f in flows if isinstance(f, HTTPFlow) and f.websocket)
    assert content_type_cell(ws) == f"websocket {ws.messages}"
    dns = [summarize(f) for f in read_flows(DNS)]
    aaaa = next(s for s in dns if s.dns_name == "aaaa.flowtui.test")
    assert content_type_cell(aaaa) == "AAAA NOERROR"  # the type by name, never 28
    assert request_line(aaaa) == "aaaa.flowtui.test → ::1 (+1 more)"  # the first answer
    nx = next(s for s in dns if s.dns_name == "nx.flowtui.test")
    assert content_type_cell(nx) == "A NXDOMAIN"
    assert request_line(nx) == "nx.flowtui.test  0 answers"
    txt = next(s for s in dns if s.dns_name == "txt.flowtui.test")
    assert request_line(txt).startswith("txt.flowtui.test → \\x0bv=spf1")  # escaped
    assert "tcp" in by_type and "→" in request_line(by_type["tcp"])


def test_columns_drop_by_priority_keeping_the_http_ones() -> None:
    narrow = [c.key for c, _ in layout(80)]
    assert narrow == ["index", "endpoints", "status", "ctype", "down", "duration", "state"]
    assert {"time", "tls", "messages", "up"} <= {c.key for c, _ in layout(120)}


# -- the panes' lines -------------------------------------------------------------------


def test_repeated_headers_keep_their_order_and_long_values_wrap() -> None:
    flow = read_flows(BODIES)[7]  # /cookies: three Set-Cookie, two X-Repeated
    lines = [t.plain for t in detail_lines(flow, "response", 60)]
    cookies = [line for line in lines if line.startswith("Set-Cookie")]
    assert len(cookies) == 3 and "session=abc123" in cookies[0] and "a=1, b=2" in cookies[2]
    repeated = [line.split()[-1] for line in lines if line.startswith("X-Repeated")]
    assert repeated == ["first", "second"]
    table = kv_table([(clean("Name"), clean("v" * 100))], 40)
    assert len(table) == 3 and all(cell_len(t.plain) <= 40 for t in table)
    assert table[1].plain.startswith("      v")  # the value wraps under itself


def test_dns_panes_are_record_tables() -> None:
    flow = next(f for f in read_flows(DNS) if "aaaa.flowtui.test" in str(f.get_state()))
    lines = [t.plain for t in detail_lines(flow, "response", 100)]
    assert any(line.startswith("Answers (2)") for line in lines)
    rows = [line.split() for line in lines if line.startswith("aaaa.flowtui.test")]
    assert rows[0][:3] == ["aaaa.flowtui.test", "AAAA", "IN"]
    assert {r[-1] for r in rows[1:]} == {"::1", "2001:db8::1"}


# -- the app ----------------------------------------------------------------------------


async def test_an_http_flow_opens_on_its_response_with_the_json_view() -> None:
    app = _app(BODIES)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, 11)  # POST /json
        assert app.screen.query_one(TabbedContent).active == "tab-response"
        pane = app.screen.query_one("#response", DetailPane)
        text = _plain(pane)
        assert text[0] == "HTTP/1.1 201 Created"
        assert pane.shown_view == "json" and "view: JSON (auto)" in str(pane.border_title)
        assert json.loads("\n".join(t.plain for t in pane.body)) == json.loads(
            read_flows(BODIES)[11].response.content
        )
        request = app.screen.query_one("#request", DetailPane)
        assert _plain(request)[0].startswith("POST http://127.0.0.1:")


async def test_b_cycles_the_view_and_the_title_names_it() -> None:
    app = _app(BODIES)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, 11)
        pane = app.screen.query_one("#response", DetailPane)
        await pilot.press("b")
        await pilot.pause()
        assert pane.view == "text" and "view: Text" in str(pane.border_title)
        await pilot.press("b")
        await pilot.pause()
        assert pane.view == "hex" and pane.body[0].plain.startswith("00000000  7b")


async def test_a_body_that_does_not_decode_says_why_above_the_hex() -> None:
    app = _app(VIEWS)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, 1)  # /bad.json
        pane = app.screen.query_one("#response", DetailPane)
        assert pane.error is not None and "invalid JSON" in pane.error
        assert pane.body[0].plain.startswith("⚠ json view failed: invalid JSON")
        assert pane.body[2].plain.startswith("00000000  7b 22 6f 6b")
        assert "decode error" in str(pane.border_title)


async def test_websocket_messages_show_in_the_message_viewer() -> None:
    app = _app(BODIES)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, 14)  # /chat?room=1
        assert app.screen.query_one(TabbedContent).active == "tab-messages"
        view = app.screen.query_one(MessageView)
        headers = [str(r[2]) for r in view.rows if r[0] == 0]
        assert headers[0].startswith("→ #0") and "[text frame · text]" in headers[0]
        assert "[binary frame · hex]" in headers[1] and "256 bytes" in headers[1]
        assert str(view.border_title).startswith("WebSocket messages: 8")
        view.focus()
        await pilot.press("c")  # client → server only
        await pilot.pause()
        assert all(str(r[2]).startswith("→") for r in view.rows if r[0] == 0)


async def test_export_the_focused_flow_as_curl_from_the_ui(tmp_path: Path) -> None:
    app = _app(BODIES)
    target = tmp_path / "one.sh"
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, 11)
        await pilot.press("e")
        await pilot.pause()
        field = app.screen.query_one(Input)
        assert field.value.startswith("har flow-12")
        field.value = f"curl {target}"
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()  # the export runs in a worker
        flow = app.main.flow_list.flow
        assert flow is not None
        assert target.read_bytes() == export([flow], "curl")


async def test_save_the_response_body_decoded(tmp_path: Path) -> None:
    app = _app(BODIES)
    target = tmp_path / "body.json"
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, 0)  # gzip JSON
        await pilot.press("W")
        await pilot.pause()
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
    raw = read_flows(BODIES)[0].response
    assert target.read_bytes() == raw.get_content() and raw.raw_content != raw.get_content()


def _big_capture(tmp_path: Path, size: int) -> Path:
    """A capture written by mitmproxy: a small flow, then one with a `size`-byte JSON body."""
    path = tmp_path / "big.flows"
    flows = []
    item = b'{"n": %d, "s": "' + b"x" * 100 + b'"}'
    for body in (b"{}", b"[" + b", ".join(item % i for i in range(size // 110)) + b"]"):
        f = tflow.tflow(resp=True)
        f.response.headers["content-type"] = "application/json"
        f.response.content = body
        flows.append(f)
    with path.open("wb") as out:
        writer = mio.FlowWriter(out)
        for f in flows:
            writer.add(f)
    return path


@pytest.mark.parametrize("fmt", ["mitmproxy", "flowtui"])
async def test_a_big_body_shows_its_head_at_once_then_the_whole(tmp_path: Path, fmt: str) -> None:
    """In either format the head of each body shows at once (read on the UI thread:
    about a megabyte), and the whole follows from a worker."""
    capture = _big_capture(tmp_path, 3_000_000)
    if fmt == "flowtui":
        native = tmp_path / "big.native"
        save_flows(native, read_flows(capture), format="flowtui")
        capture = native
    app = _app(capture)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        gate = threading.Event()
        decode = app.store.decode

        def held(flow_id: str) -> Flow:
            if threading.current_thread() is not threading.main_thread():
                gate.wait(10)
            return decode(flow_id)

        app.store.decode = held  # type: ignore[method-assign]
        await pilot.press("home", "down")
        await pilot.pause()
        pane = app.screen.query_one("#response", DetailPane)
        assert pane.preview and pane.body[:2] and pane.body[1].plain.strip() == "{"
        assert "head of the body" in pane.head[-1].plain
        gate.set()
        for _ in range(2000):  # the whole is decoded and built by workers (bounded wait)
            if not pane.preview and pane.body_complete:
                break
            await pilot.pause(0.01)
        assert not pane.preview and pane.body_complete
        assert len(pane.body) > FIRST_LINES and pane.body[-1].plain == "]"


async def test_export_the_marked_flows_as_har(tmp_path: Path) -> None:
    app = _app(BODIES)
    target = tmp_path / "marked.har"
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, 0)
        await pilot.press("m", "down", "down", "m")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        field = app.screen.query_one(Input)
        assert field.value == "har flows-2.har"
        field.value = f"har {target}"
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()  # the export runs in a worker
        marked = [
            f for f in (app.store.get(k) for k in app.store.keys_in_order()) if f and f.marked
        ]
    har = json.loads(target.read_text())
    assert len(har["log"]["entries"]) == 2 == len(marked)
    assert [e["request"]["url"] for e in har["log"]["entries"]] == [
        f.request.url for f in marked if isinstance(f, HTTPFlow)
    ]


def test_without_http_or_dns_flows_the_endpoints_take_the_protocol_columns_room() -> None:
    wide = dict((c.key, w) for c, w in layout(120))
    tcp_only = dict((c.key, w) for c, w in layout(120, protocols=False))
    assert "status" in wide and "ctype" in wide
    assert "status" not in tcp_only and "ctype" not in tcp_only
    assert tcp_only["endpoints"] == wide["endpoints"] + wide["status"] + wide["ctype"] + 2


async def test_a_tcp_capture_lists_whole_server_names_and_no_empty_http_columns(
    tmp_path: Path,
) -> None:
    """A TCP-only capture at 120 columns: no empty `code` and `content` columns (the
    endpoints get their room); once an HTTP capture is loaded into the session the
    columns come back."""
    from ui_support import screen_text

    app = _app(FIXTURES / "smtp_dialogue.flows")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        top = screen_text(app).splitlines()[:3]
        assert "code" not in top[0] and "content" not in top[0]
        assert "→ 127.0.0.1:45765" in top[1]
        app.load_more(BODIES)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "code" in screen_text(app).splitlines()[0]
