"""Rows built incrementally are exactly the rows of one eager pass, and everything that
needs rows (end, search, keep-position, live appends) is right while they are building.

The first build is made tiny here (`SYNC_*` patched down), so even the small real
captures are built mostly in the background; nothing is timed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App
from textual.worker import WorkerCancelled
from ui_support import SAMPLE
from ui_support import MessageViewHost as Host

from flowtui.core import Client, Flow, Server, TCPFlow, TCPMessage
from flowtui.core.messages import MessageFlow
from flowtui.io import read_flows
from flowtui.ui.widgets import row_builder
from flowtui.ui.widgets.message_rows import (
    DIRECTIONS,
    VIEW_MODES,
    Kind,
    Row,
    RowStats,
    build_rows,
    row_text,
)
from flowtui.ui.widgets.message_view import MessageView
from flowtui.ui.widgets.row_builder import RowBuilder

DATA = Path(__file__).parent.parent / "data"
T0 = 1_700_000_000.0


@pytest.fixture(autouse=True)
def tiny_first_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build one screenful and a handful of messages at once, the rest in the background."""
    monkeypatch.setattr(row_builder, "SYNC_SCREENS", 1)
    monkeypatch.setattr(row_builder, "SYNC_MESSAGES", 2)
    monkeypatch.setattr(row_builder, "SYNC_BYTES", 1)


def big_flow(count: int = 10_000, flow_id: str = "big") -> TCPFlow:
    """A fixed flow of `count` messages: text, binary and empty ones, both directions."""
    client = Client(peername=("127.0.0.1", 50000), sockname=("127.0.0.1", 8080), timestamp_start=T0)
    flow = TCPFlow(client, Server(address=("example.test", 443)))
    flow.id = flow_id
    flow.timestamp_created = T0
    messages = []
    for i in range(count):
        if i % 7 == 3:
            content = bytes(range(256))[: 20 + i % 50]  # binary
        elif i % 11 == 5:
            content = b""
        else:
            content = b"line %d of message %d\r\n" % (i, i) * (1 + i % 4) + b"x" * (i % 150)
        messages.append(TCPMessage(i % 3 != 0, content, T0 + i * 0.001))
    flow.messages = messages
    return flow


def capture_flows() -> Iterator[Flow]:
    """Every TCP/UDP flow of the real captures and the bundled sample."""
    for path in [*sorted(DATA.glob("*/*.flows")), SAMPLE]:
        for flow in read_flows(path):
            if isinstance(flow, MessageFlow) and flow.messages:
                yield flow


def eager(view: MessageView, flow: MessageFlow) -> list[Row]:
    """The rows one `build_rows` pass gives for the view's mode, direction and width."""
    rows = build_rows(
        flow.messages,
        first_index=0,
        mode=view.mode,
        direction=view.direction,
        text_width=view.document.text_width,
        t0=flow.client_conn.timestamp_start,
    )
    if not flow.messages:
        return [(Kind.NOTE, -1, "No messages in this flow.")]
    return rows or [(Kind.NOTE, -1, "No messages in this direction (c to change).")]


async def built(app: App[None], view: MessageView) -> None:
    """Wait for the background build (a rebuild cancels the worker of the one before)."""
    while not view.complete:
        assert app.workers, "rows incomplete and nothing building them"
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()


def visible(view: MessageView) -> list[str]:
    height = view.scrollable_content_region.height
    return ["".join(seg.text for seg in view.render_line(y)) for y in range(height)]


async def check_every_mode_and_direction(app: Host, view: MessageView, flow: MessageFlow) -> None:
    for _ in DIRECTIONS:
        for _ in VIEW_MODES:
            await built(app, view)
            assert view.complete
            assert view.rows == eager(view, flow), (flow.id, view.mode, view.direction)
            view.action_cycle_view()
        view.action_cycle_direction()


async def test_capture_flows_lazy_rows_equal_eager_rows() -> None:
    flows = list(capture_flows())
    assert len(flows) >= 5
    app = Host(None)
    async with app.run_test(size=(100, 12)):
        view = app.query_one(MessageView)
        for flow in flows:
            assert isinstance(flow, MessageFlow)
            view.show_flow(flow)
            await check_every_mode_and_direction(app, view, flow)


async def test_ten_thousand_messages_lazy_rows_equal_eager_rows() -> None:
    flow = big_flow()
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        assert not view.complete  # built in the background
        assert visible(view)[0].startswith("▌ ← #0")  # the first screen is there at once
        await check_every_mode_and_direction(app, view, flow)


async def test_counts_are_whole_while_rows_build() -> None:
    flow = big_flow()
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        assert not view.complete
        stats = RowStats()
        for message in flow.messages:
            stats.add(message, True)
        assert f"TCP messages: {stats.total}" in str(view.border_title)
        assert f"→ {stats.client_msgs} " in str(view.border_title)


async def test_end_while_building_shows_the_last_message() -> None:
    flow = big_flow()
    app = Host(flow)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        assert not view.complete
        await pilot.press("end")
        assert view.complete
        assert view.scroll_y == view.max_scroll_y
        assert int(view.scroll_y) + view.scrollable_content_region.height == len(view.rows)
        assert view.rows == eager(view, flow)
        assert any("#9999  +9.999s" in line for line in visible(view))


async def test_search_while_building_finds_rows_not_built_yet() -> None:
    flow = big_flow()
    flow.messages[9_990] = TCPMessage(True, b"the NEEDLE at the end\n", T0 + 10)
    flow.messages[20] = TCPMessage(False, b"a needle early\n", T0 + 0.02)
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        assert not view.complete
        view.search("needle")
        expected = [
            i
            for i, row in enumerate(eager(view, flow))
            if "needle" in row_text(row, flow.messages).lower()
        ]
        assert view.matches == expected
        assert [view.rows[i][1] for i in view.matches] == [20, 9_990]
        view.action_next_match()
        assert any("NEEDLE at the end" in line for line in visible(view))


async def test_mode_switch_while_building_keeps_the_top_message() -> None:
    flow = big_flow()
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        assert not view.complete
        assert view.document.builder is not None
        view.document.builder.extend(3_000)  # as if the background had got this far, and no further
        view.update_size()
        assert not view.complete
        view.scroll_to(y=len(view.rows) - 100, animate=False, immediate=True)
        top = view.rows[int(view.scroll_y)][1]
        view.action_cycle_view()  # text: the rows change, the top message stays
        assert view.mode == "text"
        assert view.rows[int(view.scroll_y)][1] == top
        assert view.rows[int(view.scroll_y)][0] == Kind.HEADER
        view.action_cycle_view()  # hex
        assert view.rows[int(view.scroll_y)][1] == top
        await built(app, view)
        assert view.rows == eager(view, flow)
        assert view.rows[int(view.scroll_y)][1] == top


async def test_live_appends_while_building_and_after() -> None:
    flow = big_flow(2_000)
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        assert not view.complete
        for i in range(3):
            flow.messages.append(TCPMessage(i % 2 == 0, b"late %d\n" % i, T0 + 100 + i))
        view.refresh_flow()
        assert f"TCP messages: {len(flow.messages)}" in str(view.border_title)
        await built(app, view)
        assert view.complete and view.rows == eager(view, flow)
        flow.messages.append(TCPMessage(False, b"later\n", T0 + 200))
        view.refresh_flow()
        assert view.rows == eager(view, flow)
        assert f"TCP messages: {len(flow.messages)}" in str(view.border_title)


async def test_live_append_replaces_the_empty_direction_note() -> None:
    flow = big_flow(40)
    for message in flow.messages:
        message.from_client = True
    app = Host(flow)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        view.action_cycle_direction()
        view.action_cycle_direction()  # server → client only: none yet
        await built(app, view)
        assert [r[0] for r in view.rows] == [Kind.NOTE]
        flow.messages.append(TCPMessage(False, b"an answer\n", T0 + 1))
        view.refresh_flow()
        assert view.rows == eager(view, flow)
        assert view.rows[0][0] == Kind.HEADER


async def test_another_flow_while_building_stops_the_old_build() -> None:
    first, second = big_flow(flow_id="first"), big_flow(3_000, flow_id="second")
    app = Host(first)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(MessageView)
        assert not view.complete
        view.show_flow(second)
        await built(app, view)
        assert view.flow is second and view.rows == eager(view, second)


def test_builder_pieces_of_any_size_concatenate_to_one_eager_pass() -> None:
    flow = big_flow(2_000)
    for mode in VIEW_MODES:
        for direction in DIRECTIONS:
            builder = RowBuilder(
                flow.messages, mode=mode, direction=direction, text_width=50, t0=T0
            )
            rows = builder.rows
            step = 1
            while not builder.complete:
                builder.extend(step)
                step = step * 3 % 97 + 1
            builder.finish()
            expected = build_rows(
                flow.messages,
                first_index=0,
                mode=mode,
                direction=direction,
                text_width=50,
                t0=T0,
            )
            assert builder.rows is rows and rows == expected, (mode, direction)
            assert builder.has_hex == any(r[0] == Kind.HEX for r in expected)


async def test_resize_while_building_rewraps_every_row() -> None:
    flow = big_flow(3_000)
    app = Host(flow)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        assert not view.complete
        width = view.document.text_width
        await pilot.resize_terminal(70, 30)
        await built(app, view)
        assert view.document.text_width < width
        assert view.rows == eager(view, flow)
