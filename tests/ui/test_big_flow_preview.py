"""Opening a big message flow: its first messages show at once, the whole follows from
a worker thread and takes their place where the reader is, and changes made meanwhile
go to the whole flow."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import pytest
from textual.pilot import Pilot
from ui.factories import T0, tcp_flow

from flowtui.core import Flow, TCPMessage
from flowtui.io import read_flows, save_flows
from flowtui.store import PREVIEW_MESSAGES
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.screens.main import LARGE_RECORD
from flowtui.ui.widgets.flow_list import FlowList
from flowtui.ui.widgets.message_view import MessageView

COUNT = 4000


def _capture(tmp_path: Path, fmt: str = "mitmproxy") -> tuple[Path, str]:
    flows = [tcp_flow(n) for n in range(3)]
    big = flows[1]
    big.messages = [
        TCPMessage(i % 2 == 0, f"line {i:05d} ".encode().ljust(300, b"-"), T0 + 1 + i / 1000)
        for i in range(COUNT)
    ]
    path = tmp_path / f"big.{fmt}"
    save_flows(path, flows, format=fmt)
    return path, big.id


def _gate_whole_decode(app: FlowtuiApp) -> threading.Event:
    """Hold a worker thread's decode of a whole flow until the returned event is set
    (the UI thread decodes at once: a change needs the whole flow)."""
    gate = threading.Event()
    decode = app.store.decode

    def held(flow_id: str) -> Flow:
        if threading.current_thread() is not threading.main_thread():
            gate.wait(10)
        return decode(flow_id)

    app.store.decode = held  # type: ignore[method-assign]
    return gate


async def _preview_the_big_flow(app: FlowtuiApp, pilot: Pilot[None]) -> threading.Event:
    """Load, hold the whole decode, and move onto the big flow: its preview is shown."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    gate = _gate_whole_decode(app)
    app.query_one(FlowList).focus()
    await pilot.press("down")
    await pilot.pause()
    return gate


async def _let_the_whole_in(app: FlowtuiApp, pilot: Pilot[None], gate: threading.Event) -> None:
    """Let the held decode finish and the panes take the whole flow."""
    gate.set()
    await app.workers.wait_for_complete()
    await pilot.pause()


def _header_messages(view: MessageView) -> list[int]:
    return [r[1] for r in view.rows if str(r[2]).startswith(("→ #", "← #"))]


async def test_a_big_flow_shows_its_first_messages_then_the_whole(tmp_path: Path) -> None:
    path, big_id = _capture(tmp_path)
    app = make_app([path], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        gate = await _preview_the_big_flow(app, pilot)
        assert app.store.record_size(big_id) >= LARGE_RECORD  # not decoded yet
        view = app.query_one(MessageView)
        assert view.flow is not None and view.flow.id == big_id
        assert view.pending == COUNT and len(view.flow.messages) == PREVIEW_MESSAGES
        assert str(view.border_title) == f"TCP messages: {COUNT}  reading…"
        assert _header_messages(view)[:3] == [0, 1, 2]  # the flow's first messages
        # Read on while the rest is decoded: the whole flow keeps this place.
        view.focus()
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        top = view.rows[int(view.scroll_y)][1]
        assert top > 0
        await _let_the_whole_in(app, pilot, gate)
        assert view.pending is None
        assert view.flow is app.store.get(big_id)
        assert len(view.flow.messages) == COUNT
        assert view.rows[int(view.scroll_y)][1] == top
        assert str(view.border_title).startswith(f"TCP messages: {COUNT}  → {COUNT // 2} ")


async def test_a_change_made_on_a_preview_goes_to_the_whole_flow(tmp_path: Path) -> None:
    path, big_id = _capture(tmp_path, "flowtui")
    app = make_app([path], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        gate = await _preview_the_big_flow(app, pilot)
        assert app.query_one(MessageView).pending == COUNT
        await pilot.press("m")  # marks the whole flow (decoded for it), not the preview
        await pilot.pause()
        await _let_the_whole_in(app, pilot, gate)
        view = app.query_one(MessageView)
        assert view.pending is None and view.flow is app.store.get(big_id)
        assert view.flow is not None and view.flow.marked
        saved = tmp_path / "saved.flows"
        save_flows(saved, app.store.entries(), format="mitmproxy")
        (again,) = [f for f in read_flows(saved) if f.id == big_id]
        assert again.marked and len(again.messages) == COUNT  # type: ignore[attr-defined]


async def test_moving_on_while_the_whole_decodes_keeps_the_panes_on_the_new_flow(
    tmp_path: Path,
) -> None:
    path, big_id = _capture(tmp_path)
    app = make_app([path], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        gate = await _preview_the_big_flow(app, pilot)
        view = app.query_one(MessageView)
        assert view.pending == COUNT
        await pilot.press("down")  # a small flow, while the big one decodes
        await pilot.pause()
        small = app.store.view[2]
        assert view.flow is small and view.pending is None
        await _let_the_whole_in(app, pilot, gate)
        assert view.flow is small  # the finished decode does not pull the panes back
        await pilot.press("up")  # kept in memory: the whole at once, no preview
        await pilot.pause()
        assert view.pending is None and view.flow is app.store.get(big_id)
        assert len(view.flow.messages) == COUNT  # type: ignore[union-attr]


async def test_back_on_a_big_flow_still_decoding_shows_its_preview_again(
    tmp_path: Path,
) -> None:
    path, big_id = _capture(tmp_path)
    app = make_app([path], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        decoded: list[str] = []
        decode = app.store.decode

        def counted(flow_id: str) -> Flow:
            decoded.append(flow_id)
            return decode(flow_id)

        app.store.decode = counted  # type: ignore[method-assign]
        gate = await _preview_the_big_flow(app, pilot)
        view = app.query_one(MessageView)
        await pilot.press("down", "up")  # away and back while the whole is read
        await pilot.pause()
        assert view.flow is not None and view.flow.id == big_id and view.pending == COUNT
        await _let_the_whole_in(app, pilot, gate)
        assert view.pending is None and view.flow is app.store.get(big_id)
        assert decoded.count(big_id) == 1  # the decode already under way, not a second


async def test_a_search_on_a_preview_covers_the_whole_flow_once_read(tmp_path: Path) -> None:
    path, _ = _capture(tmp_path)
    app = make_app([path], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        gate = await _preview_the_big_flow(app, pilot)
        view = app.query_one(MessageView)
        view.search(f"line {COUNT - 5:05d}")  # only in a message the preview lacks
        await pilot.pause()
        assert view.matches == [] and "when read" in str(view.border_subtitle)
        assert not any("No match" in str(n.message) for n in app._notifications)
        await _let_the_whole_in(app, pilot, gate)
        assert view.pending is None and view.current_match is not None
        assert view.rows[view.current_match][1] == COUNT - 5
        top = int(view.scroll_y)
        assert top <= view.current_match < top + view.scrollable_content_region.height
        assert "1/1" in str(view.border_subtitle)


@pytest.mark.parametrize(
    ("keys", "at_end"), [(("end",), True), (("end", "home"), False)], ids=["end", "end-home"]
)
async def test_end_on_a_preview_goes_to_the_whole_flows_end_unless_left(
    tmp_path: Path, keys: tuple[str, ...], at_end: bool
) -> None:
    path, _ = _capture(tmp_path)
    app = make_app([path], tz=UTC, detail_delay=0)
    async with app.run_test(size=(120, 40)) as pilot:
        gate = await _preview_the_big_flow(app, pilot)
        view = app.query_one(MessageView)
        view.focus()
        await pilot.press(*keys)  # `home` after `end`: changed their mind, stays on top
        await pilot.pause()
        await _let_the_whole_in(app, pilot, gate)
        assert view.pending is None
        if at_end:
            assert view.scroll_y == view.max_scroll_y > 0
            assert view.rows[-1][1] == COUNT - 1  # the whole flow's last message
        else:
            assert view.scroll_y == 0


def test_snapshot_a_big_flows_preview(
    snap_compare: Callable[..., bool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 4,000-message flow as it opens: its first messages, "reading…" in the title."""
    path, _ = _capture(tmp_path)
    monkeypatch.chdir(tmp_path)  # the status bar names the file as given
    app = make_app([Path(path.name)], tz=UTC, detail_delay=0)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        app.main.details._decode_after_preview = lambda flow_id: None  # type: ignore[method-assign]
        app.query_one(FlowList).focus()
        await pilot.press("down")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


async def test_a_huge_record_is_previewed_by_the_worker_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading and checking a record of hundreds of MB for its preview would stall the
    # UI thread: above PREVIEW_AT_ONCE the worker makes the preview, then the whole.
    from flowtui.ui.screens import detail_loader as main

    monkeypatch.setattr(main, "PREVIEW_AT_ONCE", LARGE_RECORD)  # this flow counts as huge
    path, big_id = _capture(tmp_path)
    app = make_app([path], tz=UTC, detail_delay=0)
    previewed_in: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        preview = app.store.preview

        def spy(flow_id: str) -> Flow | None:
            previewed_in.append(threading.current_thread().name)
            return preview(flow_id)

        app.store.preview = spy  # type: ignore[method-assign]
        gate = await _preview_the_big_flow(app, pilot)
        view = app.query_one(MessageView)
        for _ in range(100):  # the worker's preview arrives through the message queue
            if view.pending is not None:
                break
            await pilot.pause(0.02)
        assert view.pending == COUNT and view.flow is not None and view.flow.id == big_id
        assert previewed_in and threading.main_thread().name not in previewed_in
        await _let_the_whole_in(app, pilot, gate)
        assert view.pending is None and view.flow is app.store.get(big_id)
