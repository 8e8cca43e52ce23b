"""The message viewer: rows, directions, hex dump, auto mode, filter, search, size, safety."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from ui_support import MessageViewHost as Host
from ui_support import screen_ansi

from flowtui.core import Client, Flow, Server, TCPFlow, TCPMessage, UDPFlow, UDPMessage
from flowtui.io import read_flows
from flowtui.ui.widgets.hexdump import hex_row, looks_binary, text_lines
from flowtui.ui.widgets.message_rows import Kind, row_text
from flowtui.ui.widgets.message_view import MessageView

os.environ.pop("NO_COLOR", None)

DATA = Path(__file__).parent.parent / "data" / "mitmproxy-11"
T0 = 1_700_000_000.0

HOSTILE = [
    b"[/bold] [@click=app.quit]CLICK[/] [link=https://x]link[/link]",
    b"osc52 \x1b]52;c;SGVsbG8=\x07 title \x1b]0;PWNED\x1b\\ clear \x1b[2J",
    b"nul \x00 cr \r c1 \xc2\x9b bidi \xe2\x80\xae zero-width \xe2\x80\x8b end",
    b"invalid utf-8 \xff\xfe\xc3\x28 done",
]


def make_flow(
    messages: list[tuple[bool, bytes, float]], flow_id: str = "flow-1", udp: bool = False
) -> TCPFlow | UDPFlow:
    """A flow with fixed ids, addresses and times; message times are offsets from T0."""
    client = Client(peername=("127.0.0.1", 50000), sockname=("127.0.0.1", 8080), timestamp_start=T0)
    server = Server(address=("example.test", 443))
    flow: TCPFlow | UDPFlow = UDPFlow(client, server) if udp else TCPFlow(client, server)
    flow.id = flow_id
    flow.timestamp_created = T0
    cls = UDPMessage if udp else TCPMessage
    flow.messages = [cls(fc, content, T0 + dt) for fc, content, dt in messages]
    return flow


def visible(view: MessageView) -> list[str]:
    """The text of the viewer's visible lines."""
    height = view.scrollable_content_region.height
    return ["".join(seg.text for seg in view.render_line(y)) for y in range(height)]


_SGR = re.compile(r"\x1b\[[0-9;]*[mH]")  # colours and cursor moves


def assert_terminal_safe(ansi: str) -> None:
    """Only the console's own SGR colour codes may contain ESC; no NUL, C1 or OSC."""
    without_sgr = _SGR.sub("", ansi)
    for bad in ("\x1b", "\x00", "\x9b", "\x07", "\u202e", "\u200b"):
        assert bad not in without_sgr, repr(bad)


def header_rows(view: MessageView) -> list[str]:
    return [str(r[2]) for r in view.rows if r[0] == Kind.HEADER]


# -- rows ------------------------------------------------------------------------------


async def test_headers_show_arrow_index_relative_time_and_size() -> None:
    flow = make_flow([(True, b"hello\n", 0.5), (False, b"hi there\n", 1.25), (True, b"", 2.0)])
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        headers = header_rows(view)
        assert headers[0].startswith("→ #0  +0.500s  6 bytes  client → server")
        assert headers[1].startswith("← #1  +1.250s  9 bytes  server → client")
        assert headers[2].startswith("→ #2  +2.000s  0 bytes")
        lines = visible(view)
        assert lines[0].startswith("▌ → #0")
        assert lines[1].startswith("▌ hello")
        assert lines[3].startswith("▌ hi there")
        title = str(view.border_title)
        assert "TCP messages: 3" in title
        assert "→ 2 (6 bytes)" in title
        assert "← 1 (9 bytes)" in title


async def test_direction_colours_differ_and_reach_the_gutter() -> None:
    flow = make_flow([(True, b"up", 0), (False, b"down", 1)])
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        up_gutter = view.render_line(1)._segments[0]
        down_gutter = view.render_line(3)._segments[0]
        assert up_gutter.text == down_gutter.text == "▌ "
        assert up_gutter.style is not None and down_gutter.style is not None
        assert up_gutter.style.color != down_gutter.style.color


def test_hex_rows_for_all_256_byte_values() -> None:
    data = bytes(range(256))
    for row_index in range(16):
        offset = row_index * 16
        line = hex_row(data, offset)
        assert line[:8] == f"{offset:08x}"
        left, right = line[10:33], line[35:58]
        assert bytes.fromhex(left + right) == data[offset : offset + 16]
        ascii_col = line[60:78]
        assert ascii_col[0] == ascii_col[-1] == "|"
        for i, ch in enumerate(ascii_col[1:-1]):
            byte = offset + i
            assert ch == (chr(byte) if 0x20 <= byte < 0x7F else ".")
    short = hex_row(b"AB\x00", 0)
    assert short == "00000000  41 42 00" + " " * 15 + "  " + " " * 23 + "  |AB.             |"
    assert short.index("|") == 60


async def test_hex_mode_shows_every_byte_once() -> None:
    flow = make_flow([(False, bytes(range(256)), 0.0)])
    app = Host(flow)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        await pilot.press("h", "h")
        assert view.mode == "hex"
        hex_rows = [r for r in view.rows if r[0] == Kind.HEX]
        assert [r[2] for r in hex_rows] == list(range(0, 256, 16))
        assert visible(view)[1].rstrip() == "▌ " + hex_row(bytes(range(256)), 0)
        assert "view: hex" in str(view.border_subtitle)


async def test_auto_picks_hex_for_binary_and_text_for_text() -> None:
    binary = bytes(range(64)) * 4
    flow = make_flow([(True, b"EHLO example.test\r\n", 0), (False, binary, 1)])
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        assert view.mode == "auto"
        headers = header_rows(view)
        assert headers[0].endswith("[text]")
        assert headers[1].endswith("[hex]")
        kinds = {r[1]: r[0] for r in view.rows if r[0] != Kind.HEADER}
        assert kinds == {0: Kind.TEXT, 1: Kind.HEX}
        assert view.rows[1][2] == "EHLO example.test\\x0d"


def test_binary_guess() -> None:
    assert not looks_binary(b"")
    assert not looks_binary(b"plain text\r\n\tindented\n")
    assert not looks_binary("grüße ✓ 中文\n".encode() * 1000)
    assert looks_binary(bytes(range(256)))
    assert looks_binary(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 10)


def test_text_lines_escape_and_wrap() -> None:
    assert text_lines(b"a\r\nb\n", 80) == ["a\\x0d", "b"]
    assert text_lines(b"x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert text_lines(b"\xff\x00", 80) == ["\\xff\\x00"]


async def test_direction_filter_cycles() -> None:
    flow = make_flow([(True, b"c0", 0), (False, b"s1", 1), (True, b"c2", 2), (False, b"s3", 3)])
    app = Host(flow)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        assert {r[1] for r in view.rows} == {0, 1, 2, 3}
        await pilot.press("c")
        assert view.direction == "client"
        assert {r[1] for r in view.rows} == {0, 2}
        assert "client → server only" in str(view.border_subtitle)
        assert "showing 2" in str(view.border_title)
        await pilot.press("c")
        assert {r[1] for r in view.rows} == {1, 3}
        await pilot.press("c")
        assert view.direction == "both"
        assert {r[1] for r in view.rows} == {0, 1, 2, 3}


async def test_search_next_and_previous() -> None:
    messages = [(i % 2 == 0, f"line {i}\n".encode(), float(i)) for i in range(60)]
    messages[5] = (False, b"a NEEDLE here\n", 5.0)
    messages[30] = (True, b"needle again\n", 30.0)
    messages[55] = (False, b"last Needle\n", 55.0)
    app = Host(make_flow(messages))
    async with app.run_test(size=(120, 20)) as pilot:
        view = app.query_one(MessageView)
        await pilot.press("slash")
        await pilot.press(*"needle", "enter")
        assert [view.rows[i][1] for i in view.matches] == [5, 30, 55]
        assert view.current_match == view.matches[0]
        await pilot.press("n")
        assert view.current_match == view.matches[1]
        row = view.matches[1]
        assert view.scroll_y <= row < view.scroll_y + view.scrollable_content_region.height
        assert any("needle again" in line for line in visible(view))
        assert "2/3" in str(view.border_subtitle)
        await pilot.press("n", "n")
        assert view.current_match == view.matches[0]
        await pilot.press("N")
        assert view.current_match == view.matches[2]
        await pilot.press("slash", "escape")
        assert view.current_match == view.matches[2]


async def test_search_without_hit_and_in_hex_rows() -> None:
    app = Host(make_flow([(True, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 0)]))
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        view.search("nothing-like-this")
        assert view.matches == []
        assert "no match" in str(view.border_subtitle)
        await pilot.press("h", "h")
        view.search("51 52")  # the hex of "QR" in the second group
        assert [view.rows[i][0] for i in view.matches] == [Kind.HEX]


async def test_view_mode_is_kept_per_flow() -> None:
    a = make_flow([(True, b"a", 0)], flow_id="a")
    b = make_flow([(True, b"b", 0)], flow_id="b")
    app = Host(a)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        await pilot.press("h")
        assert view.mode == "text"
        view.show_flow(b)
        assert view.mode == "auto"
        await pilot.press("h", "h")
        assert view.mode == "hex"
        view.show_flow(a)
        assert view.mode == "text"
        view.show_flow(b)
        assert view.mode == "hex"


async def test_ten_thousand_messages_open_and_scroll_to_end() -> None:
    flow = make_flow([(i % 2 == 0, b"message %d\n" % i, i * 0.001) for i in range(10_000)])
    app = Host(flow)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        assert visible(view)[1].startswith("▌ message 0")  # the first screen at once
        await app.workers.wait_for_complete()  # the rest is built in the background
        assert view.complete and len(view.rows) == 20_000
        await pilot.press("end")
        assert any("message 9999" in line for line in visible(view))
        await pilot.press("home")
        assert visible(view)[1].startswith("▌ message 0")


async def test_refresh_flow_appends_new_messages() -> None:
    flow = make_flow([(True, b"one", 0)])
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        before = list(view.rows)
        flow.messages.append(TCPMessage(False, b"two", T0 + 1))
        view.refresh_flow()
        assert view.rows[: len(before)] == before
        assert header_rows(view)[-1].startswith("← #1  +1.000s  3 bytes")
        view.show_flow(flow)  # the same flow again: nothing changes
        assert len(view.rows) == len(before) + 2


async def test_one_megabyte_line_is_wrapped_not_frozen() -> None:
    flow = make_flow([(True, b"A" * 1_000_000 + b"\x1b[2J", 0)])
    app = Host(flow)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        width = view.scrollable_content_region.width
        assert all(len(str(r[2])) <= width - 2 for r in view.rows if r[0] == Kind.TEXT)
        await pilot.press("end")
        assert any("\\x1b[2J" in line for line in visible(view))
        assert_terminal_safe(screen_ansi(app))


async def test_udp_flow_and_empty_states() -> None:
    udp = make_flow([(True, b"ping", 0), (False, b"pong", 0.01)], udp=True)
    app = Host(None)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        assert "No flow selected." in visible(view)[0]
        view.show_flow(udp)
        await pilot.pause()
        assert "UDP datagrams: 2" in str(view.border_title)
        view.show_flow(make_flow([]))
        assert "No messages in this flow." in visible(view)[0]
        view.show_flow(make_flow([(True, b"x", 0)], flow_id="z"))
        await pilot.press("c", "c")
        assert "No messages in this direction" in visible(view)[0]


async def test_fixture_flows_match_ground_truth() -> None:
    flows = read_flows(DATA / "echo_basic.flows")
    app = Host(flows[0])
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        messages = flows[0].messages
        headers = header_rows(view)
        assert len(headers) == len(messages) == 20
        for index, (header, message) in enumerate(zip(headers, messages, strict=True)):
            arrow = "→" if message.from_client else "←"
            assert header.startswith(f"{arrow} #{index}  ")
            assert f"  {len(message.content):,} byte" in header
            rel = message.timestamp - flows[0].client_conn.timestamp_start
            assert f"{rel:+.3f}s" in header


async def test_http_dns_and_unknown_flows_explain_themselves() -> None:
    flows = read_flows(DATA / "mixed_protocols.flows")
    http = next(f for f in flows if f.type == "http")
    dns = next(f for f in flows if f.type == "dns")
    app = Host(http)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        text = "\n".join(visible(view))
        assert "HTTP  GET" in text or "HTTP  " in text
        assert "The Request and Response tabs show its headers and bodies" in text
        view.show_flow(dns)
        assert "DNS  query:" in "\n".join(visible(view))
        assert "The Request and Response tabs show its records" in "\n".join(visible(view))


# -- safety ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode_presses", [0, 1, 2], ids=["auto", "text", "hex"])
async def test_hostile_payloads_render_escaped(mode_presses: int) -> None:
    flow = make_flow([(i % 2 == 0, payload, float(i)) for i, payload in enumerate(HOSTILE)])
    app = Host(flow)
    async with app.run_test(size=(140, 40)) as pilot:
        view = app.query_one(MessageView)
        await pilot.press(*["h"] * mode_presses)
        text = "\n".join(visible(view))
        if view.mode != "hex":
            assert "[@click=app.quit]CLICK[/]" in text
            assert "\\x1b]52;c;SGVsbG8=\\x07" in text
            assert "\\x1b[2J" in text
            assert "\\x00" in text and "\\x0d" in text and "\\x9b" in text
            assert "\\u202e" in text and "\\u200b" in text
            assert "\\xff\\xfe" in text
        view.search("[/bold]")
        assert_terminal_safe(screen_ansi(app))
        assert app.is_running


def test_row_text_is_always_clean() -> None:
    flow = make_flow([(True, b"".join(HOSTILE), 0)])
    from flowtui.ui.widgets.message_rows import RowStats, build_rows

    for mode in ("auto", "text", "hex"):
        rows = build_rows(
            flow.messages,
            first_index=0,
            mode=mode,  # type: ignore[arg-type]
            direction="both",
            text_width=60,
            t0=T0,
            stats=RowStats(),
        )
        for row in rows:
            line = row_text(row, flow.messages)
            assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202e\u200b]", line), (mode, line)


# -- snapshots ---------------------------------------------------------------------------
# Each shows the viewer alone at 120x30 over a real capture or a fixed flow.


def _echo_flow() -> Flow:
    return read_flows(DATA / "echo_basic.flows")[0]


def test_snapshot_auto_with_binary(snap_compare: object) -> None:
    """Auto mode: text messages as text, the 256-byte binary message as a hex dump."""
    assert snap_compare(Host(_echo_flow()), terminal_size=(120, 30), press=["pagedown"])  # type: ignore[operator]


def test_snapshot_text_mode(snap_compare: object) -> None:
    """Text mode: every byte shown, non-printables escaped."""
    assert snap_compare(Host(_echo_flow()), terminal_size=(120, 30), press=["h", "pagedown"])  # type: ignore[operator]


def test_snapshot_hex_mode(snap_compare: object) -> None:
    """Hex mode: offset, two groups of 8 bytes, ASCII column."""
    assert snap_compare(Host(_echo_flow()), terminal_size=(120, 30), press=["h", "h"])  # type: ignore[operator]


def test_snapshot_server_only(snap_compare: object) -> None:
    """Direction filter on server → client only; the border says so."""
    assert snap_compare(Host(_echo_flow()), terminal_size=(120, 30), press=["c", "c"])  # type: ignore[operator]


def test_snapshot_search_hit(snap_compare: object) -> None:
    """A search for "crlf": hits highlighted, the current one brighter, count in the border."""
    press = ["slash", *"crlf", "enter", "n"]
    assert snap_compare(Host(_echo_flow()), terminal_size=(120, 30), press=press)  # type: ignore[operator]


def test_snapshot_hostile_payload(snap_compare: object) -> None:
    """Markup, OSC/CSI escapes, NUL, CR, C1, bidi and invalid UTF-8 shown as visible text."""
    flow = make_flow([(i % 2 == 0, payload, i * 0.25) for i, payload in enumerate(HOSTILE)])
    assert snap_compare(Host(flow), terminal_size=(120, 20), press=["h"])  # type: ignore[operator]
