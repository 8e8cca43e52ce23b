"""The flow store: order, filtered view as a sequence, events, counts, summaries."""

from __future__ import annotations

from kept_records import KeptRecord
from ui.factories import T0, tcp_flow

from flowtui.core import Flow
from flowtui.store import OPEN_CACHE, OPEN_CACHE_BYTES, FlowStore, StoreEvent, summarize


def _store(n: int = 5) -> tuple[FlowStore, list[StoreEvent]]:
    store = FlowStore()
    events: list[StoreEvent] = []
    store.subscribe(events.append)
    store.add(tcp_flow(i) for i in range(n))
    return store, events


def test_add_keeps_order_and_announces_one_batch() -> None:
    store, events = _store(5)
    assert len(store) == 5 and len(store.view) == 5
    assert [f.id for f in store.view] == [tcp_flow(i).id for i in range(5)]
    assert [e.kind for e in events] == ["add"] and len(events[0].flows) == 5
    assert store.number(tcp_flow(3).id) == 4
    assert store.view.position(tcp_flow(3).id) == 3


def test_filter_view_is_a_sequence_and_updates_follow_the_filter() -> None:
    store, events = _store(6)
    store.set_filter(lambda f: f.client_conn.peername[1] % 2 == 0)
    assert events[-1].kind == "reset"
    assert len(store.view) == 3
    assert [store.number(f.id) for f in store.view[:]] == [1, 3, 5]
    odd = store.get(tcp_flow(1).id)
    assert odd is not None and store.view.position(odd.id) is None
    odd.client_conn.peername = ("10.0.0.1", 50000)
    store.update(odd)
    assert store.view.position(odd.id) == 1
    assert store.revision(odd.id) == 1
    store.set_filter(None)
    assert len(store.view) == 6


def test_summary_is_cached_per_revision() -> None:
    store, _ = _store(1)
    flow = store.view[0]
    first = store.summary(flow)
    assert store.summary(flow) is first
    flow.marked = ":default:"
    assert store.summary(flow) is first  # no update announced yet
    store.update(flow)
    assert store.summary(flow).marked == ":default:"
    assert store.marked_count == 1


def test_counts_marked_and_modified() -> None:
    store, _ = _store(3)
    flow = store.view[1]
    flow.backup()
    flow.marked = ":grapes:"
    store.update(flow)
    assert (store.marked_count, store.modified_count) == (1, 1)
    flow.revert()
    store.update(flow)
    assert (store.marked_count, store.modified_count) == (0, 0)


def test_remove_and_insert_after() -> None:
    store, events = _store(3)
    middle = store.view[1]
    assert store.previous_id(middle.id) == store.view[0].id
    store.remove(middle.id)
    assert events[-1].kind == "remove" and len(store.view) == 2
    dup = store.view[0].copy()
    store.insert_after(store.view[0].id, dup)
    assert [f.id for f in store.view][1] == dup.id
    assert store.number(dup.id) == 2
    store.insert_after(None, middle)
    assert store.view[0] is middle


def test_summarize_counts_bytes_and_duration() -> None:
    flow = tcp_flow(0, messages=3)
    s = summarize(flow)
    assert s.type == "tcp" and s.messages == 3
    assert s.bytes_up == len(b"message 0 of flow 0\n") + len(b"message 2 of flow 0\n")
    assert s.bytes_down == len(b"message 1 of flow 0\n")
    assert s.start == T0 and s.duration == 0.5
    assert not (s.error or s.killed or s.modified or s.live)


def test_a_failing_filter_hides_instead_of_raising() -> None:
    store, _ = _store(2)

    def broken(flow: object) -> bool:
        raise RuntimeError("boom")

    store.set_filter(broken)
    assert len(store.view) == 0


def test_clear_keeps_subscribers() -> None:
    store, events = _store(2)
    store.clear()
    assert len(store) == 0 and events[-1].kind == "reset"
    store.add([tcp_flow(9)])
    assert events[-1].kind == "add"


class _Record:
    """A lazy flow whose record is `raw_length` bytes: decodes a fresh copy."""

    def __init__(self, n: int, raw_length: int) -> None:
        self.n, self.raw_length = n, raw_length

    def load(self) -> Flow:
        return tcp_flow(self.n)

    def raw(self) -> bytes:
        return b""

    def load_head(self, messages: int, size: int) -> Flow | None:
        return None


def _lazy_store(sizes: list[int]) -> FlowStore:
    store = FlowStore()
    store.add_lazy(
        (tcp_flow(n).id, summarize(tcp_flow(n)), _Record(n, size)) for n, size in enumerate(sizes)
    )
    return store


def test_opened_flows_are_kept_up_to_a_count_and_a_byte_budget() -> None:
    small = _lazy_store([1000] * (OPEN_CACHE + 5))
    for n in range(OPEN_CACHE + 5):
        small.get(tcp_flow(n).id)
    kept = [n for n in range(OPEN_CACHE + 5) if small.loaded(tcp_flow(n).id) is not None]
    assert kept == list(range(5, OPEN_CACHE + 5))  # the most recently opened
    big = OPEN_CACHE_BYTES // 3
    store = _lazy_store([big, big, 10, big, 2 * OPEN_CACHE_BYTES])
    ids = [tcp_flow(n).id for n in range(5)]
    for flow_id in ids[:3]:
        store.get(flow_id)
    store.loaded(ids[0])  # looked at again: the most recent now
    store.get(ids[3])  # over the budget: the least recently used goes
    assert [store.loaded(i) is not None for i in ids[:4]] == [True, False, True, True]
    whole = store.get(ids[4])  # bigger than the budget alone: kept, the others go
    assert store.loaded(ids[4]) is whole
    assert [store.loaded(i) is not None for i in ids[:4]] == [False] * 4


# -- issue #11: a flow is its place, not its id; what a save would change --------------


def _records(*flows: Flow) -> list[tuple[str, object, object]]:
    return [(f.id, summarize(f), KeptRecord(f)) for f in flows]


def test_repeated_ids_are_flows_of_their_own() -> None:
    store = FlowStore()
    flows = [tcp_flow(0), tcp_flow(1), tcp_flow(0), tcp_flow(0)]
    assert store.add_lazy(_records(*flows)) == 4  # type: ignore[arg-type]
    keys = store.keys_in_order()
    assert len(store) == len(store.view) == 4 and len(set(keys)) == 4
    assert [store.number(k) for k in keys] == [1, 2, 3, 4]
    third = store.view[2]
    assert third.id == tcp_flow(0).id and store.key_of(third) == keys[2]
    third.marked = ":default:"
    store.update(third)
    assert [f.marked for f in store] == ["", "", ":default:", ""]
    assert len(store.entries()) == 4 and store.unsaved_count == 1


def test_detach_and_restore_keep_numbers_records_and_revision() -> None:
    store = FlowStore()
    store.add_lazy(_records(*(tcp_flow(i) for i in range(5))))  # type: ignore[arg-type]
    keys = store.keys_in_order()
    removed = store.detach(keys[1])
    store.detach(keys[2])
    assert [store.number(k) for k in store.keys_in_order()] == [
        1,
        4,
        5,
    ] and store.unsaved_count == 2
    store.restore(removed)  # out of order: its place is still free
    assert [store.number(k) for k in store.keys_in_order()] == [1, 2, 4, 5]
    assert store.is_lazy(keys[1]) and store.revision(keys[1]) == 1
    assert store.unsaved_count == 1


def test_restore_after_an_insert_goes_after_its_neighbour() -> None:
    store = FlowStore()
    store.add_lazy(_records(*(tcp_flow(i) for i in range(3))))  # type: ignore[arg-type]
    keys = store.keys_in_order()
    removed = store.detach(keys[1])
    dup_key = store.insert_after(keys[0], tcp_flow(7))  # takes the free place
    assert store.number(dup_key) == 2
    store.restore(removed)
    assert store.keys_in_order() == [keys[0], keys[1], dup_key, keys[2]]
    assert store.unsaved() == {"changed": 0, "added": 1, "deleted": 0, "moved": 1}


def test_unsaved_counts_differences_from_the_loaded_state() -> None:
    flow = tcp_flow(0)
    flow.timestamp_created = float("nan")  # a NaN equals itself here
    store = FlowStore()
    store.add_lazy(_records(flow, tcp_flow(1)))  # type: ignore[arg-type]
    shown = store.view[0]
    shown.backup()
    shown.comment = "x"
    store.update(shown)
    assert store.unsaved_count == 1
    shown.comment = ""
    store.update(shown)  # the backup stays, the content is as loaded
    assert store.unsaved_count == 0
    shown.comment = "y"
    store.update(shown)
    store.mark_saved({k: store.revision(k) for k in store.keys_in_order()})
    assert store.unsaved_count == 0
    shown.revert()  # back to what was loaded: no longer what was saved
    store.update(shown)
    assert store.unsaved_count == 1
