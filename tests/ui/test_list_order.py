"""The flow list follows the store's ordered view in the running app: rows in the view's
order on screen, the cursor on its flow while rows move, follow mode on the newest flow
wherever the order puts it, marked-only (the `o`, `v`, `M` habits, wired later)."""

from __future__ import annotations

import re
from datetime import UTC

from textual.message import Message
from ui.factories import tcp_flow
from ui_support import screen_text

from flowtui.store import FlowStore, OrderKey
from flowtui.ui.app import make_app
from flowtui.ui.widgets.flow_list import FlowList

_ROW = re.compile(r"^(\d+) +\d\d:\d\d:\d\d")


def _numbers_on_screen(app: object) -> list[int]:
    """The flow numbers of the list's rows as painted, top to bottom."""
    rows = []
    for line in screen_text(app).splitlines():
        if line.startswith("─"):  # the list ends where the detail panes begin
            break
        match = _ROW.match(line)
        if match:
            rows.append(int(match.group(1)))
    return rows


def _store(messages: list[int]) -> FlowStore:
    store = FlowStore()
    store.add([tcp_flow(i, messages=m) for i, m in enumerate(messages)])
    return store


def _highlighted(seen: list[Message]) -> list[str | None]:
    return [m.flow_id for m in seen if isinstance(m, FlowList.Highlighted)]


async def test_rows_follow_the_order_and_the_cursor_stays_on_its_flow() -> None:
    store = _store([4, 0, 3, 1, 2])  # sizes grow with the message count
    app = make_app([], tz=UTC, detail_delay=0, store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        flows = app.main.query_one(FlowList)
        await pilot.press("down", "down")  # flow #3
        assert flows.flow is not None and flows.flow.id == tcp_flow(2).id
        store.view.set_order(OrderKey.SIZE)
        await pilot.pause()
        assert _numbers_on_screen(app) == [2, 4, 5, 3, 1]
        assert flows.cursor == 3 and flows.flow is not None and flows.flow.id == tcp_flow(2).id
        store.view.set_order(OrderKey.SIZE, reverse=True)
        await pilot.pause()
        assert _numbers_on_screen(app) == [1, 3, 5, 4, 2]
        assert flows.cursor == 1 and flows.flow.id == tcp_flow(2).id


async def test_an_updated_flow_moves_to_its_place_and_the_screen_follows() -> None:
    store = _store([4, 0, 3, 1, 2])
    app = make_app([], tz=UTC, detail_delay=0, store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        flows = app.main.query_one(FlowList)
        store.view.set_order(OrderKey.SIZE)
        await pilot.pause()
        flows.select_flow(tcp_flow(4).id)  # #5, third by size
        await pilot.pause()
        assert flows.cursor == 2
        smallest = store.get(tcp_flow(1).id)
        assert smallest is not None
        smallest.messages.extend(tcp_flow(1, messages=9).messages)  # now the biggest
        store.update(smallest)
        await pilot.pause()
        assert _numbers_on_screen(app) == [4, 5, 3, 1, 2]
        assert flows.cursor == 1 and flows.flow is not None and flows.flow.id == tcp_flow(4).id


async def test_follow_mode_goes_to_the_newest_flow_wherever_the_order_puts_it() -> None:
    store = _store([1, 1, 1])
    app = make_app([], tz=UTC, detail_delay=0, store=store)
    seen: list[Message] = []
    async with app.run_test(size=(120, 30), message_hook=seen.append) as pilot:
        await pilot.pause()
        flows = app.main.query_one(FlowList)
        store.view.set_order(OrderKey.TIME, reverse=True)  # the newest first
        flows.follow = True
        await pilot.pause()
        store.add([tcp_flow(10, messages=1)])
        await pilot.pause()
        assert _numbers_on_screen(app) == [4, 3, 2, 1]
        assert flows.cursor == 0 and _highlighted(seen)[-1] == tcp_flow(10).id
        store.view.set_order(OrderKey.SIZE, reverse=False)  # ties: the store's order
        store.add([tcp_flow(11, messages=0)])  # the smallest: first
        await pilot.pause()
        assert _numbers_on_screen(app) == [5, 1, 2, 3, 4]
        assert flows.cursor == 0 and _highlighted(seen)[-1] == tcp_flow(11).id


async def test_marked_only_lists_the_marked_flows_in_order() -> None:
    store = _store([0, 1, 2, 3, 4, 5])
    for n in (1, 4, 5):
        flow = store.get(tcp_flow(n).id)
        assert flow is not None
        flow.marked = ":default:"
        store.update(flow)
    app = make_app([], tz=UTC, detail_delay=0, store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        store.view.set_order(OrderKey.SIZE, reverse=True)
        store.view.set_marked_only(True)
        await pilot.pause()
        assert _numbers_on_screen(app) == [6, 5, 2]
        flow = store.get(tcp_flow(2).id)
        assert flow is not None
        flow.marked = ":default:"  # marked while only marked flows are shown: it appears
        store.update(flow)
        await pilot.pause()
        assert _numbers_on_screen(app) == [6, 5, 3, 2]
        store.view.set_marked_only(False)
        await pilot.pause()
        assert _numbers_on_screen(app) == [6, 5, 4, 3, 2, 1]


def _status(app: object) -> str:
    from flowtui.ui.widgets.status_bar import StatusBar

    return str(app.main.query_one(StatusBar).render_info())  # type: ignore[attr-defined]


async def test_o_orders_v_reverses_and_the_status_bar_says_so() -> None:
    """The keys a mitmproxy user types: `o` then a choice, `v`, and `o n` back to the
    flows' numbers; the status bar names the order."""
    app = make_app([], tz=UTC, detail_delay=0, store=_store([4, 0, 3, 1, 2]))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("s")  # size
        await pilot.pause()
        assert _numbers_on_screen(app) == [2, 4, 5, 3, 1]
        assert "by size" in _status(app) and "↑" not in _status(app)
        await pilot.press("v")
        await pilot.pause()
        assert _numbers_on_screen(app) == [1, 3, 5, 4, 2]
        assert "by size ↑" in _status(app)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("escape")  # cancelled: nothing changes
        await pilot.pause()
        assert _numbers_on_screen(app) == [1, 3, 5, 4, 2]
        await pilot.press("o", "n", "v")
        await pilot.pause()
        assert _numbers_on_screen(app) == [1, 2, 3, 4, 5]
        assert "by " not in _status(app) and "reversed" not in _status(app)


async def test_capital_m_shows_only_the_marked_flows() -> None:
    app = make_app([], tz=UTC, detail_delay=0, store=_store([4, 0, 3, 1, 2]))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("M")  # nothing marked yet: an empty list, and a word why
        await pilot.pause()
        assert _numbers_on_screen(app) == [] and "marked only" in _status(app)
        await pilot.press("M", "down", "m", "down", "down", "m", "M")
        await pilot.pause()
        assert _numbers_on_screen(app) == [2, 4]
        await pilot.press("o", "s")  # marked-only and an order together
        await pilot.pause()
        assert _numbers_on_screen(app) == [2, 4]
        await pilot.press("M")
        await pilot.pause()
        assert _numbers_on_screen(app) == [2, 4, 5, 3, 1]
        assert "marked only" not in _status(app)
