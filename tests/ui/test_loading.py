"""Opening captures: several files, a missing file, a truncated file, a non-capture, and a
5,000-flow capture that shows rows while it is still being read."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from textual.message import Message
from ui.factories import write_capture
from ui_support import FIXTURES, SAMPLE

from flowtui.io import read_flows
from flowtui.ui import loading
from flowtui.ui.app import FlowtuiApp, make_app
from flowtui.ui.messages import FlowsLoaded, LoadFinished, LoadProgress


def _app(*paths: Path) -> FlowtuiApp:
    return make_app(list(paths), tz=UTC, detail_delay=0)


def _notes(app: FlowtuiApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_several_files_load_in_order() -> None:
    app = _app(FIXTURES / "echo_basic.flows", FIXTURES / "errors.flows")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.loaded == {
            str(FIXTURES / "echo_basic.flows"): 3,
            str(FIXTURES / "errors.flows"): 5,
        }
        assert len(app.store) == 8 and not app.problems
        first = [f.id for f in read_flows(FIXTURES / "echo_basic.flows")]
        assert [f.id for f in app.store.view[:3]] == first
        assert app.main.status.info.files == (
            str(FIXTURES / "echo_basic.flows"),
            str(FIXTURES / "errors.flows"),
        )


async def test_missing_file_is_reported_and_others_still_open(tmp_path: Path) -> None:
    missing = tmp_path / "nope.flows"
    app = _app(missing, SAMPLE)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(app.store) == 30
        assert "nope.flows: cannot open" in app.problems[str(missing)]
        assert "nope.flows: cannot open" in _notes(app)
        assert "cannot open" in app.main.status.info.problem


async def test_truncated_file_shows_the_good_flows_and_where_it_broke(tmp_path: Path) -> None:
    data = SAMPLE.read_bytes()
    bad = tmp_path / "cut.flows"
    bad.write_bytes(data[: len(data) // 2])
    app = _app(bad)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        count = len(app.store)
        assert 0 < count < 30
        problem = app.problems[str(bad)]
        assert f"flow #{count}" in problem and "at byte" in problem and "cut.flows" in problem
        assert problem in _notes(app) and f"{count} flows read" in _notes(app)


async def test_not_a_capture(tmp_path: Path) -> None:
    bad = tmp_path / "x.har"
    bad.write_text('{"log": {}}')
    app = _app(bad)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(app.store) == 0
        assert "HAR" in app.problems[str(bad)]


async def test_large_capture_shows_rows_while_loading(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "big.flows", 5000)
    seen: list[Message] = []
    app = _app(path)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(app.store) == 5000
        batches = [m for m in seen if isinstance(m, FlowsLoaded)]
        progress = [m for m in seen if isinstance(m, LoadProgress)]
        assert len(batches) >= 2  # the first rows came before the rest
        assert max(len(b.entries) for b in batches) <= loading.BATCH
        assert progress and progress[-1].done == path.stat().st_size
        assert any(0 < p.done < p.total for p in progress)
        finished = [m for m in seen if isinstance(m, LoadFinished)]
        assert finished[-1].flows == 5000 and finished[-1].error is None
        assert app.main.status.info.loading == "loaded 5,000 flows"
        await pilot.press("end")
        assert app.main.query_one("FlowList").cursor == 4999
        # From 5,000 flows on, the filter runs in a worker; the result is the same.
        app.apply_filter("even", lambda f: int(f.id[-1]) % 2 == 0)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(app.store.view) == 2500 and app.main.status.info.filter == "even"
        assert app.main.query_one("FlowList").flow is not None


async def test_large_mitmproxy_capture_suggests_converting_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flowtui.ui.app as app_module

    monkeypatch.setattr(app_module, "CONVERT_FLOWS", 10)
    app = _app(SAMPLE)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "flowtui convert" in _notes(app)
    app = _app(SAMPLE)  # below the threshold: no tip
    monkeypatch.setattr(app_module, "CONVERT_FLOWS", 1000)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "flowtui convert" not in _notes(app)


async def test_lazy_rows_filter_on_summaries_and_open_on_demand() -> None:
    app = _app(SAMPLE)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        store = app.store
        lazy = [store.is_lazy(store.view.id_at(i)) for i in range(len(store.view))]
        assert lazy.count(True) >= len(lazy) - 1  # only the cursor's flow was opened
        from flowtui.core.filters import parse

        flt = parse("~sni imap")
        app.apply_filter("~sni imap", flt)
        await pilot.pause()
        assert store.filter is flt  # summary filters apply at once, no worker
        assert len(store.view) >= 1
        for flow in store.view:
            assert "imap" in f"{flow.client_conn.sni} {flow.server_conn.sni}"


async def test_the_list_grows_in_batches_without_laying_out_the_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each batch of an indexing capture (or of a live proxy) lengthens the list: its
    # scrollbar must follow (the end is reachable) without a screen layout each time
    # (every pane redrawn).
    from textual.widget import Widget
    from ui.factories import tcp_flow

    from flowtui.ui.widgets.flow_list import FlowList

    layouts: list[int] = []
    refresh = Widget.refresh

    def spy(self: Widget, *regions: object, layout: bool = False, **kw: bool) -> Widget:
        if layout and isinstance(self, FlowList):
            layouts.append(len(app.store))
        return refresh(self, *regions, layout=layout, **kw)  # type: ignore[arg-type]

    app = _app(SAMPLE)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        monkeypatch.setattr(Widget, "refresh", spy)
        for batch in range(20):
            app.store.add(tcp_flow(1000 + batch * 100 + n) for n in range(100))
            await pilot.pause()
        flows = app.query_one(FlowList)
        assert flows.virtual_size.height == len(app.store) + 1  # the header row too
        flows.focus()
        await pilot.press("end")
        await pilot.pause()
        assert flows.cursor == len(app.store) - 1
        assert flows.scroll_y == flows.max_scroll_y > 0
        assert len(layouts) <= 1, layouts  # only if the scrollbar appeared


async def test_a_flow_whose_record_went_bad_shows_why_instead_of_crashing(
    tmp_path: Path,
) -> None:
    # flowtui's format lists flows from their stored summaries; a damaged state is
    # found when the flow is opened, and the app must say so, not stop.
    from flowtui.io import FlowReader, save_flows
    from flowtui.ui.widgets.flow_list import FlowList
    from flowtui.ui.widgets.message_view import MessageView

    path = tmp_path / "damaged.flowtui"
    save_flows(path, read_flows(SAMPLE), format="flowtui")
    data = bytearray(path.read_bytes())
    with path.open("rb") as f:
        starts = [r.offset for r in FlowReader(f).records(with_state=False)]
    data[starts[4] - 10] ^= 0xFF  # inside flow #3's state
    path.write_bytes(bytes(data))
    app = _app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(app.store) == 30 and not app.problems  # every flow listed
        app.query_one(FlowList).focus()
        await pilot.press("down", "down", "down")
        await pilot.pause()
        notes = " ".join(str(r[2]) for r in app.query_one(MessageView).rows)
        assert "Unreadable" in notes and "checksum" in notes and "flow #3" in notes
        await pilot.press("m")  # read-only: refused, not changed
        await pilot.pause()
        assert not app.store.view[3].marked and "read-only" in _notes(app)
        await pilot.press("down")
        await pilot.pause()
        assert app.is_running and app.query_one(MessageView).flow is app.store.view[4]


async def test_a_big_flow_is_decoded_off_the_ui_thread(tmp_path: Path) -> None:
    # Decoding a record of many MB takes a noticeable time: keys must be answered
    # meanwhile, so the UI thread never does it.
    import threading

    from ui.factories import tcp_flow

    from flowtui.core import TCPMessage
    from flowtui.io import save_flows
    from flowtui.io.lazy import RecordRef
    from flowtui.ui.screens.main import LARGE_RECORD
    from flowtui.ui.widgets.flow_list import FlowList
    from flowtui.ui.widgets.message_view import MessageView

    flows = [tcp_flow(n) for n in range(3)]
    big = flows[1]
    big.messages = [TCPMessage(i % 2 == 0, b"x" * 20_000, 1.0 + i) for i in range(80)]
    path = tmp_path / "big.flows"
    save_flows(path, flows, format="mitmproxy")
    threads: list[str] = []
    load = RecordRef.load

    def spy(self: RecordRef) -> object:
        threads.append(threading.current_thread().name)
        return load(self)

    app = _app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.store.record_size(big.id) >= LARGE_RECORD
        RecordRef.load = spy  # type: ignore[method-assign]
        try:
            app.query_one(FlowList).focus()
            await pilot.press("down")
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("down")  # a small one: read at once, here
            await pilot.pause()
            await pilot.press("up")  # the big one again: already in memory
            await pilot.pause()
        finally:
            RecordRef.load = load  # type: ignore[method-assign]
        view = app.query_one(MessageView)
        assert view.flow is not None and view.flow.id == big.id
        assert len(view.flow.messages) == 80
        assert threads[0] != threading.main_thread().name  # the big record
        assert threads[1:] == [threading.main_thread().name]  # the small one only
