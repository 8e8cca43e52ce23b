"""The connection pane: both sides, every certificate, validity colours, safety, layout."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from ui_support import screen_ansi

from flowtui.core import Cert, Client, Error, Flow, Server, TCPFlow, TCPMessage, UnknownFlow
from flowtui.io import read_flows
from flowtui.ui.widgets.conn_format import (
    STYLES,
    certificate_text,
    connection_text,
    flow_text,
)
from flowtui.ui.widgets.connection_pane import ConnectionPane

os.environ.pop("NO_COLOR", None)

DATA = Path(__file__).parent.parent / "data" / "mitmproxy-11"
T0 = 1_700_000_000.0
NOW = datetime(2027, 6, 1, tzinfo=UTC)
BAD_PEM = b"-----BEGIN CERTIFICATE-----\nAAAAbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"


def tls_flow() -> Flow:
    return read_flows(DATA / "tls_alpn_chain.flows")[0]


def plain_flow(**changes: object) -> TCPFlow:
    """A plain TCP flow with fixed ids, times and IPv6 addresses."""
    client = Client(
        id="client-1",
        peername=("::1", 50000),
        sockname=("2001:db8::8", 8080),
        timestamp_start=T0,
    )
    server = Server(
        id="server-1",
        address=("example.test", 25),
        peername=("2001:db8::25", 25),
        sockname=("::1", 40000),
        timestamp_start=T0 + 0.001,
        timestamp_tcp_setup=T0 + 0.004,
        timestamp_end=T0 + 2.5,
    )
    flow = TCPFlow(client, server)
    flow.id = "flow-plain"
    flow.timestamp_created = T0
    flow.messages = [TCPMessage(True, b"EHLO x\r\n", T0 + 0.1)]
    for key, value in changes.items():
        setattr(flow, key, value)
    return flow


class Host(App[None]):
    def __init__(self, flow: Flow | None) -> None:
        super().__init__()
        self.flow = flow

    def compose(self) -> ComposeResult:
        yield ConnectionPane(now=lambda: NOW, tz=UTC, id="conn")

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.query_one(ConnectionPane).show_flow(self.flow)


def pane_text(app: App[None]) -> str:
    """All text of the pane's sections (not only the visible part)."""
    return "\n".join(t.plain for t in app.query_one(ConnectionPane).sections.values())


def line_texts(pane: ConnectionPane) -> list[str]:
    """The pane's lines as plain text, as drawn (side by side or stacked)."""
    return ["".join(seg.text for seg in line) for line in pane.lines]


def style_of(text: Text, needle: str) -> set[str]:
    """The styles of the spans covering the first occurrence of `needle`."""
    start = text.plain.index(needle)
    return {str(s.style) for s in text.spans if s.start <= start < s.end}


# -- content -------------------------------------------------------------------------


def test_every_certificate_of_both_chains_is_shown() -> None:
    flow = tls_flow()
    for conn in (flow.client_conn, flow.server_conn):
        assert len(conn.certificate_list) == 2
        text = connection_text(conn, t0=flow.client_conn.timestamp_start, now=NOW, tz=UTC)
        plain = re.sub(r"\s+", " ", text.plain)
        for cert in conn.certificate_list:
            for key, value in cert.subject + cert.issuer:
                assert f"{key}={value}" in plain
            for san in cert.san_list():
                assert san in plain
            fp = cert.fingerprint().hex().upper()
            colon = ":".join(fp[i : i + 2] for i in range(0, len(fp), 2))
            assert colon[:47] in plain and colon[48:] in plain
            assert ":".join(f"{cert.serial:X}".rjust(40, "0")[i : i + 2] for i in range(0, 4, 2))
        assert "#0 " in plain and "#1 intermediate" in plain


def test_tls_details_of_both_sides() -> None:
    flow = tls_flow()
    client = connection_text(flow.client_conn, t0=None, now=NOW, tz=UTC).plain
    server = connection_text(flow.server_conn, t0=None, now=NOW, tz=UTC).plain
    assert "TLSv1.3" in client and "TLSv1.3" in server
    assert "imap.flowtui.test" in client
    assert "imap, flowtui/1" in client
    assert "TLS_AES_256_GCM_SHA384" in server
    assert "3: ECDHE-RSA-AES256-GCM-SHA384" in re.sub(r"\s+", " ", server)
    assert "reverse:tls://" in client
    assert "TCP setup" in server and "TLS setup" in client
    assert "#0 client leaf" in client and "#0 leaf" in server


def test_timing_is_relative_to_client_start_in_utc() -> None:
    flow = plain_flow()
    text = connection_text(flow.server_conn, t0=T0, now=NOW, tz=UTC).plain
    assert "2023-11-14 22:13:20.001 UTC  +0.001s" in text
    assert re.search(r"TCP setup +2023-11-14 22:13:20\.004 UTC  \+0\.004s", text)
    assert re.search(r"end +2023-11-14 22:13:22\.500 UTC  \+2\.500s", text)
    assert re.search(r"TLS setup\s+-", text)


def test_ipv6_addresses_in_brackets() -> None:
    flow = plain_flow()
    client = connection_text(flow.client_conn, t0=T0, now=NOW, tz=UTC).plain
    server = connection_text(flow.server_conn, t0=T0, now=NOW, tz=UTC).plain
    assert "Client  [::1]:50000" in client
    assert "[2001:db8::8]:8080" in client
    assert "[2001:db8::25]:25" in server
    assert "example.test:25" in server
    assert re.search(r"TLS\s+no", client)


def test_validity_colours_follow_injected_now() -> None:
    cert = tls_flow().server_conn.certificate_list[0]
    end = cert.notafter
    fine = certificate_text(cert, 0, 2, now=end - timedelta(days=100))
    soon = certificate_text(cert, 0, 2, now=end - timedelta(days=10))
    gone = certificate_text(cert, 0, 2, now=end + timedelta(days=3))
    early = certificate_text(cert, 0, 2, now=cert.notbefore - timedelta(days=1))
    stamp = end.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert STYLES["ok"] in style_of(fine, stamp)
    assert STYLES["warning"] in style_of(soon, stamp)
    assert "(expires in 10 days)" in soon.plain
    assert STYLES["error"] in style_of(gone, stamp)
    assert "(expired 3 days ago)" in gone.plain
    assert "(not yet valid)" in early.plain


def test_malformed_certificate_shows_reason() -> None:
    cert = Cert(pem=BAD_PEM)
    assert cert.parse_error is not None
    text = certificate_text(cert, 0, 1, now=NOW).plain
    assert "#0 leaf" in text
    assert "unparseable" in text and "certificate:" in text
    flow = plain_flow()
    flow.server_conn.certificate_list = [tls_flow().server_conn.certificate_list[0], cert]
    both = connection_text(flow.server_conn, t0=T0, now=NOW, tz=UTC).plain
    assert "certificates: 2" in both
    assert "DNS:imap.flowtui.test" in both and "unparseable" in both


def test_flow_section_shows_state_error_mark_comment_metadata() -> None:
    flow = plain_flow(
        marked=":default:",
        comment="first line\nsecond [bold]line[/bold]",
        metadata={"key": {"n": 1, "raw": b"\x00\xff"}},
        error=Error("Connection killed.", T0 + 1),
        intercepted=True,
        live=True,
    )
    text = flow_text(flow, tz=UTC)
    plain = text.plain
    assert plain.startswith("TCP flow  flow-plain")
    assert "intercepted" in plain and "live" in plain
    assert "Connection killed." in plain and STYLES["error"] in style_of(text, "Connection")
    assert ":default:" in plain
    assert "first line" in plain and "second [bold]line[/bold]" in plain
    assert "{'n': 1, 'raw': b'\\x00\\xff'}" in plain
    assert "messages       1  (→ 1, 8 bytes; ← 0, 0 bytes)" in plain
    flow.backup()
    flow.marked = ""
    assert "modified" in flow_text(flow, tz=UTC).plain


def test_http_dns_and_unknown_flows() -> None:
    flows = read_flows(DATA / "mixed_protocols.flows")
    http = next(f for f in flows if f.type == "http")
    dns = next(f for f in flows if f.type == "dns")
    assert "request" in flow_text(http, tz=UTC).plain
    assert "question" in flow_text(dns, tz=UTC).plain
    unknown = UnknownFlow.from_raw({"type": "quic\x1b[2J", "id": "u1"}, "unknown type")
    plain = flow_text(unknown, tz=UTC).plain
    assert "quic\\x1b[2J" in plain and "read-only" in plain and "unknown type" in plain


# -- the widget ------------------------------------------------------------------------


async def test_pane_shows_flow_and_stacks_when_narrow() -> None:
    app = Host(tls_flow())
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.query_one(ConnectionPane)
        assert not pane.stacked
        lines = line_texts(pane)
        both = [line for line in lines if "Client " in line and "Server " in line]
        assert len(both) == 1 and both[0].index("Client ") < both[0].index("Server ")
        assert "FlowTUI Fixture client" in re.sub(r"\s+", " ", pane_text(app))
        await pilot.resize_terminal(90, 50)
        await pilot.pause()
        assert pane.stacked
        lines = line_texts(pane)
        client = next(i for i, line in enumerate(lines) if line.startswith("Client "))
        server = next(i for i, line in enumerate(lines) if line.startswith("Server "))
        assert client < server and not any("Server " in line for line in lines[:server])
        assert all(len(line) == len(lines[0]) for line in lines)  # wrapped to the width
        pane.show_flow(None)
        await pilot.pause()
        assert "No flow selected." in pane_text(app)
        assert list(pane.sections) == ["flow"]


async def test_show_flow_redraws_only_on_change() -> None:
    flow = plain_flow()
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        pane = app.query_one(ConnectionPane)
        before = pane.sections["flow"]
        pane.show_flow(flow)
        assert pane.sections["flow"] is before
        flow.comment = "now commented"
        pane.show_flow(flow)
        assert "now commented" in pane_text(app)


async def test_a_taller_flow_scrolls_without_a_screen_layout() -> None:
    # Certificates make a flow much taller than a plain one: the pane's content grows
    # and shrinks with each, and the screen must not be laid out again for it.
    tls, plain = tls_flow(), plain_flow()
    app = Host(plain)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ConnectionPane)
        await pilot.pause()
        layouts: list[int] = []
        refresh_layout = app.screen._refresh_layout

        def counted(*args: object, **kwargs: object) -> None:
            layouts.append(1)
            refresh_layout(*args, **kwargs)  # type: ignore[arg-type]

        app.screen._refresh_layout = counted  # type: ignore[method-assign]
        short = pane.virtual_size.height
        pane.show_flow(tls)
        await pilot.pause()
        assert pane.virtual_size.height > short and pane.max_scroll_y > 0
        pane.show_flow(plain)
        await pilot.pause()
        assert pane.virtual_size.height == short
        assert layouts == []


async def test_hostile_fields_render_escaped_and_terminal_safe() -> None:
    hostile = (
        "[/bold][@click=app.quit]X[/] [link=https://x]l "
        "\x1b]52;c;SGVsbG8=\x07\x1b[2J\x00\r\x9b\u202e\u200b"
    )
    flow = plain_flow(comment=hostile, metadata={hostile: hostile}, error=Error(hostile, T0))
    flow.client_conn.sni = hostile
    flow.client_conn.alpn = hostile.encode() + b"\xff"
    flow.client_conn.cipher_list = [hostile] * 20
    flow.server_conn.error = hostile
    flow.server_conn.certificate_list = [Cert(pem=BAD_PEM + hostile.encode())]
    app = Host(flow)
    async with app.run_test(size=(160, 60)):
        text = pane_text(app)
        assert "[@click=app.quit]X[/]" in text
        assert "\\x1b]52;c;SGVsbG8=\\x07\\x1b[2J\\x00\\x0d\\x9b\\u202e\\u200b" in text
        assert "… (8 more)" in re.sub(r"\s+", " ", text)
        ansi = re.sub(r"\x1b\[[0-9;]*[mH]", "", screen_ansi(app))
        for bad in ("\x1b", "\x00", "\x9b", "\x07", "\u202e", "\u200b"):
            assert bad not in ansi, repr(bad)
        assert app.is_running


# -- snapshots ---------------------------------------------------------------------------
# The pane alone, in UTC, with `now` fixed three weeks before the fixture leaf expires.

SNAP_NOW = datetime(2029, 2, 1, tzinfo=UTC)


class SnapHost(Host):
    def compose(self) -> ComposeResult:
        yield ConnectionPane(now=lambda: SNAP_NOW, tz=UTC, id="conn")


def test_snapshot_tls_wide(snap_compare: object) -> None:
    """TLS flow, side by side: both certificate chains, the leaves expiring soon (yellow)."""
    assert snap_compare(SnapHost(tls_flow()), terminal_size=(160, 50))  # type: ignore[operator]


def test_snapshot_tls_narrow(snap_compare: object) -> None:
    """TLS flow below 100 columns: client and server stacked."""
    assert snap_compare(SnapHost(tls_flow()), terminal_size=(90, 50))  # type: ignore[operator]


def test_snapshot_plain_tcp(snap_compare: object) -> None:
    """A plain TCP flow with IPv6 addresses, a mark, a two-line comment and metadata."""
    flow = plain_flow(marked=":default:", comment="checked\nby hand", metadata={"tag": [1, 2]})
    assert snap_compare(SnapHost(flow), terminal_size=(120, 40))  # type: ignore[operator]


def test_snapshot_error_flow(snap_compare: object) -> None:
    """A failed upstream connect: flow error and server error in red, no messages."""
    flow = read_flows(DATA / "errors.flows")[0]
    assert snap_compare(SnapHost(flow), terminal_size=(120, 40))  # type: ignore[operator]
