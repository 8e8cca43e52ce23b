"""The view's order (mitmproxy console's `o`: time, size, duration, server, type), its
reverse (`v`) and marked-only (`M`) over 100,000 flows: the right order, ties in the
store's order, kept as flows are added, updated (live flows growing) and removed, and
combined with a filter. Checked against a plain sort of the store's summaries; nothing
is timed here (bench/bench_order.py prints timings)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kept_records import KeptRecord
from ui.factories import T0, tcp_flow

from flowtui.core import Flow, TCPMessage
from flowtui.core.filters import parse
from flowtui.core.summary import FlowSummary
from flowtui.store import FlowStore, OrderKey, StoreEvent, summarize

N = 100_000
_FIELDS = {"time": "start", "size": "size", "duration": "duration", "server": "server"}
_FIELDS["type"] = "type"


class _Record:
    """A lazy flow that decodes factory flow `n` (its summary is made up: never read)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def load(self) -> Flow:
        return tcp_flow(self.n)

    def raw(self) -> bytes:
        return b""

    def load_head(self, messages: int, size: int) -> Flow | None:
        return None


_BASE = summarize(tcp_flow(0))


def _summary(i: int) -> FlowSummary:
    """Flow i's summary: few distinct values per field (many ties), some unknown."""
    server = f"svc{i * 17 % 50}.example"
    return _BASE._replace(
        type=("tcp", "udp", "http", "dns")[i % 4] if i % 5 else "tcp",
        start=None if i % 97 == 0 else T0 + (i * 7919 % 5000) / 10,
        duration=None if i % 13 == 0 else (i % 300) / 10,
        size=i * 31 % 1000,
        server=server,
        dst=(server,),
        marked=":default:" if i % 10 == 3 else "",
    )


def _big_store(n: int = N) -> FlowStore:
    store = FlowStore()
    ids = [f"flow-{i:06d}" for i in range(n)]
    for start in range(0, n, 5000):  # in batches, as a capture is indexed
        store.add_lazy(
            (ids[i], _summary(i), _Record(i)) for i in range(start, min(n, start + 5000))
        )
    return store


@pytest.fixture(scope="module")
def big() -> FlowStore:
    """100,000 lazy flows (shared: tests that change it restore it or copy it)."""
    return _big_store()


def _value(label: str, summary: FlowSummary) -> Any:
    value = getattr(summary, _FIELDS[label])
    return float("-inf") if value is None else value


def expected(
    store: FlowStore,
    order: OrderKey | None,
    reverse: bool = False,
    marked_only: bool = False,
    expr: str | None = None,
) -> list[str]:
    """The shown keys, by a plain stable sort of the store's summaries."""
    flt = parse(expr) if expr else None
    rows = [(k, store.summary_of(k)) for k in store.keys_in_order()]
    if marked_only:
        rows = [r for r in rows if r[1].marked]
    if flt is not None:
        rows = [r for r in rows if flt.match_summary(r[1])]
    if order is not None:
        rows.sort(key=lambda r: _value(order.label, r[1]))  # stable: ties by number
    keys = [k for k, _ in rows]
    return keys[::-1] if reverse else keys


def shown(store: FlowStore) -> list[str]:
    return [store.view.id_at(i) for i in range(len(store.view))]


def check(store: FlowStore, expr: str | None = None) -> None:
    """The view is as a plain sort says, and finds each of its flows where it shows it."""
    view = store.view
    want = expected(store, view.order, view.reverse, view.marked_only, expr)
    assert shown(store) == want
    assert view.ids() == want
    step = max(len(want) // 500, 1)
    for pos in range(0, len(want), step):
        assert view.position(want[pos]) == pos
    if want:
        assert view.id_at(-1) == want[-1]


@pytest.mark.parametrize("order", list(OrderKey))
def test_each_order_and_its_reverse_over_100k_flows(big: FlowStore, order: OrderKey) -> None:
    events: list[StoreEvent] = []
    big.subscribe(events.append)
    try:
        big.view.set_order(order, reverse=False)
        check(big)
        big.view.set_order(order, reverse=True)
        check(big)
        assert big.view.order is order and big.view.reverse
        assert [e.kind for e in events] == ["reset", "reset"]
        big.view.set_reverse(False)
        check(big)
    finally:
        big.unsubscribe(events.append)
        big.view.set_order(None, reverse=False)
    assert shown(big) == big.keys_in_order()


def test_ties_keep_the_store_order_and_reverse_mirrors_them(big: FlowStore) -> None:
    big.view.set_order(OrderKey.TYPE)
    try:
        keys = shown(big)
        types = [big.summary_of(k).type for k in keys]
        assert types == sorted(types)
        dns = [k for k, t in zip(keys, types, strict=True) if t == "dns"]
        assert dns == sorted(dns) and len(dns) > 10_000  # keys are numbered in order
        big.view.set_reverse(True)
        assert shown(big) == keys[::-1]
    finally:
        big.view.set_order(None, reverse=False)


def test_flows_without_a_value_come_first(big: FlowStore) -> None:
    big.view.set_order(OrderKey.TIME)
    try:
        first = [big.summary_of(big.view.id_at(i)).start for i in range(N // 97 + 2)]
        assert first[: N // 97 + 1] == [None] * (N // 97 + 1)
        assert first[-1] is not None
    finally:
        big.view.set_order(None)


def test_marked_only_with_filter_and_order_combined(big: FlowStore) -> None:
    expr = "~dst svc1 & !~udp"
    try:
        big.set_filter(parse(expr))
        big.view.set_order(OrderKey.SIZE, reverse=True)
        big.view.set_marked_only(True)
        assert big.view.marked_only
        check(big, expr)
        assert 0 < len(big.view) < N // 10
        big.view.set_order(OrderKey.DURATION)
        check(big, expr)
        big.view.set_marked_only(False)
        check(big, expr)
        big.set_filter(None)
        check(big)
        big.view.set_marked_only(True)
        check(big)
        assert len(big.view) == N // 10
    finally:
        big.set_filter(None)
        big.view.set_marked_only(False)
        big.view.set_order(None, reverse=False)


def _grow(flow: Flow, count: int) -> None:
    """A live flow's next messages: bigger and longer."""
    assert isinstance(flow.messages, list)
    last = flow.messages[-1].timestamp if flow.messages else T0
    for i in range(count):
        flow.messages.append(TCPMessage(i % 2 == 0, b"x" * 700, last + 5 + i))  # type: ignore[attr-defined]


@pytest.mark.parametrize("order", [OrderKey.SIZE, OrderKey.DURATION, OrderKey.TIME])
def test_adds_updates_and_removals_keep_the_order_at_100k(order: OrderKey) -> None:
    store = _big_store()
    expr = "!~dst svc7"
    store.set_filter(parse(expr))
    store.view.set_order(order, reverse=order is OrderKey.DURATION)
    store.view.set_marked_only(order is OrderKey.TIME)
    check(store, expr)
    # A batch landing everywhere (merged), and a few (each put at its place).
    store.add_lazy((f"late-{i}", _summary(i * 3 + 1), _Record(i)) for i in range(2000))
    check(store, expr)
    store.add_lazy((f"later-{i}", _summary(i * 7 + 3), _Record(i)) for i in range(5))
    check(store, expr)
    # Flows changed: marked, commented, growing (as live flows do), then removed.
    keys = store.keys_in_order()
    for n, key in enumerate(keys[:: len(keys) // 40]):
        flow = store.get(key)
        assert flow is not None
        flow.marked = "" if n % 2 else ":default:"
        _grow(flow, n % 4)
        store.update(flow)
    check(store, expr)
    for key in keys[5 :: len(keys) // 30]:
        store.remove(key)
    check(store, expr)
    # Resident flows added in memory (a live capture), then their updates.
    live = [tcp_flow(900_000 + i, messages=1) for i in range(50)]
    for flow in live:
        flow.marked = ":default:"
    store.add(live)
    check(store, expr)
    for i, flow in enumerate(live):
        _grow(flow, i % 5)
        store.add([flow])  # a live update arrives as the flow again
    check(store, expr)
    # A duplicate inserted after a flow, and a removal undone: the view is rebuilt.
    removed = store.detach(keys[7])
    store.insert_after(keys[9], live[0].copy())
    store.restore(removed)
    check(store, expr)


def test_live_store_keeps_its_order_flow_by_flow() -> None:
    """A live capture ordered by size: each flow arrives, then grows update by update."""
    store = FlowStore()
    store.view.set_order(OrderKey.SIZE, reverse=True)
    flows: list[Flow] = []
    for n in range(300):
        flow = tcp_flow(n, messages=n % 3)
        flows.append(flow)
        store.add([flow])
        if n % 7 == 0:
            grown = flows[n // 2]
            _grow(grown, 1)
            store.add([grown])
        if n % 50 == 49:
            check(store)
    check(store)
    newest = store.view.newest_position()
    assert newest is not None and store.view.id_at(newest) == flows[-1].id


def test_odd_stored_values_sort_among_the_others() -> None:
    """A damaged stored summary (a size that is text, a NaN time) neither breaks the
    view nor hides a flow."""
    store = FlowStore()
    flows = [tcp_flow(i) for i in range(6)]
    store.add_lazy((f.id, summarize(f), KeptRecord(f)) for f in flows[:4])
    store.view.set_order(OrderKey.SIZE)
    odd = summarize(flows[4])._replace(size="big", start=float("nan"))  # type: ignore[arg-type]
    store.add_lazy([(flows[4].id, odd, KeptRecord(flows[4]))])
    assert len(store.view) == 5 and store.view.position(flows[4].id) == 4  # text after numbers
    store.add_lazy([(flows[5].id, summarize(flows[5]), KeptRecord(flows[5]))])
    for order in OrderKey:
        store.view.set_order(order)
        assert sorted(shown(store)) == sorted(f.id for f in flows)
        for pos, key in enumerate(shown(store)):
            assert store.view.position(key) == pos


def test_order_keys_by_label() -> None:
    assert [k.label for k in OrderKey] == ["time", "size", "duration", "server", "type"]
    assert OrderKey.from_label("Size") is OrderKey.SIZE
    with pytest.raises(ValueError, match="time, size, duration, server, type"):
        OrderKey.from_label("url")


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["add", "lazy", "mark", "grow", "remove", "dup", "order", "marked"]),
        st.integers(0, 1000),
        st.sampled_from([None, *OrderKey]),
        st.booleans(),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _OPS, st.sampled_from([None, "~tcp", "!~marked", "~dst 10.1.0.1", "~comment 1"]), st.booleans()
)
def test_view_matches_a_plain_sort_through_any_changes(
    ops: list[tuple[str, int, OrderKey | None, bool]], expr: str | None, by_flow: bool
) -> None:
    """`by_flow`: the filter as a plain function (tested flow by flow, answers kept)."""
    store = FlowStore()
    flt = parse(expr) if expr else None
    store.set_filter((lambda f: flt(f)) if by_flow and flt is not None else flt)
    made = 0
    for op, n, order, flag in ops:
        keys = store.keys_in_order()
        pick = keys[n % len(keys)] if keys else None
        if op == "add" or (pick is None and op in ("mark", "grow", "remove", "dup")):
            store.add([tcp_flow(made + i, messages=(n + i) % 4) for i in range(n % 5 + 1)])
            made += n % 5 + 1
        elif op == "lazy":
            fresh = [tcp_flow(made + i, messages=i % 3) for i in range(n % 40)]
            made += len(fresh)
            store.add_lazy((f.id, summarize(f), KeptRecord(f)) for f in fresh)
        elif op in ("mark", "grow") and pick is not None:
            flow = store.get(pick)
            assert flow is not None
            if op == "mark":
                flow.marked = "" if flow.marked else ":default:"
                flow.comment = f"note {n}"
            else:
                _grow(flow, n % 3)
            store.update(flow)
        elif op == "remove" and pick is not None:
            store.remove(pick)
        elif op == "dup" and pick is not None:
            store.insert_after(pick, tcp_flow(made))
            made += 1
        elif op == "order":
            store.view.set_order(order, reverse=flag)
        elif op == "marked":
            store.view.set_marked_only(flag)
        check(store, expr)


def test_switching_marked_only_never_asks_a_flow_filter_again() -> None:
    """A filter that needs the flows (content) is not run again over a lazy capture
    when marked-only or the order changes: its answers are kept."""
    flows = [tcp_flow(i, messages=i % 4) for i in range(30)]
    for f in flows[::3]:
        f.marked = ":default:"
    store = FlowStore()
    store.add_lazy((f.id, summarize(f), KeptRecord(f)) for f in flows)
    asked: list[str] = []

    def odd_port(flow: Flow) -> bool:
        asked.append(flow.id)
        return flow.client_conn.peername[1] % 2 == 1

    store.set_filter(odd_port)
    assert len(asked) == 30
    store.view.set_marked_only(True)
    assert shown(store) == [f.id for f in flows[3::6]]
    store.view.set_order(OrderKey.SIZE, reverse=True)
    store.view.set_marked_only(False)
    want = sorted(flows[1::2], key=lambda f: summarize(f).size)[::-1]
    assert shown(store) == [f.id for f in want]  # the mirror of sizes up, ties by number
    assert len(asked) == 30


def test_a_flow_changed_while_marked_only_hides_it_is_asked_again() -> None:
    flows = [tcp_flow(i) for i in range(4)]
    for f in flows:
        f.comment, f.marked = "keep", ":default:"
    store = FlowStore()
    store.add(flows)
    store.set_filter(lambda f: "keep" in f.comment)
    store.view.set_order(OrderKey.TIME, reverse=True)
    store.view.set_marked_only(True)
    assert len(store.view) == 4
    flows[1].marked, flows[1].comment = "", "drop"  # hidden as unmarked, no longer a match
    store.update(flows[1])
    flows[2].marked = ""  # hidden as unmarked, still a match
    store.update(flows[2])
    assert shown(store) == [flows[3].id, flows[0].id]
    store.view.set_marked_only(False)
    assert shown(store) == [flows[3].id, flows[2].id, flows[0].id]
