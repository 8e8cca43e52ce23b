"""The store's view answers as the filter called on each flow, through any sequence of
changes, on the summaries' columns and flow by flow alike (moved from
tests/core/test_filter_columns.py with the store)."""

from __future__ import annotations

import pytest
from core.test_filter_columns import EXPRESSIONS, _decoded, _rows_as_columns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kept_records import KeptRecord
from ui.factories import tcp_flow

from flowtui.core.filters import parse
from flowtui.store import FlowStore, summarize

# -- a store through random changes -----------------------------------------------------------


def _truth(store: FlowStore, expr: str) -> list[str]:
    flt = parse(expr)
    return [key for key, flow in zip(store.keys_in_order(), store, strict=True) if flt(flow)]


def _check(store: FlowStore) -> None:
    """The store's own lists agree with its dicts (what the fast path relies on)."""
    table = store.table
    assert table.ids == list(table._seq)
    assert table.seqs.tolist() == list(table._seq.values())
    assert table.columns_ok
    rows = table.summaries()
    assert list(table._summaries) == table.ids
    assert table.columns.rows == rows
    assert _decoded(table.columns) == _rows_as_columns(rows, table.columns._columns)


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["add", "lazy", "relazy", "mark", "comment", "remove", "dup", "filter"]),
        st.integers(0, 10_000),
        EXPRESSIONS,
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_OPS)
def test_store_view_matches_every_flow_through_changes(ops: list[tuple[str, int, str]]) -> None:
    store = FlowStore()
    expr = "~all"
    store.set_filter(parse(expr))
    made = 0
    for op, n, new_expr in ops:
        ids = store.keys_in_order()
        pick = ids[n % len(ids)] if ids else None
        if op == "add" or (pick is None and op != "filter"):
            store.add([tcp_flow(made + i, sni="a.example" if i % 2 else None) for i in range(3)])
            made += 3
        elif op == "lazy":
            flows = [tcp_flow(made + i, messages=i % 5) for i in range(n % 40)]
            made += len(flows)
            store.add_lazy((f.id, summarize(f), KeptRecord(f)) for f in flows)
        elif op == "relazy" and pick is not None:
            # A second record with the same id (a capture that repeats it): a flow of its
            # own, while the first stays as it was.
            flow = store.get(pick)
            assert flow is not None
            again = flow.copy()
            again.id = flow.id
            again.comment = f"todo {n}"
            store.add_lazy([(again.id, summarize(again), KeptRecord(again))])
        elif op in ("mark", "comment") and pick is not None:
            flow = store.get(pick)
            assert flow is not None
            if op == "mark":
                flow.marked = "" if flow.marked else ":default:"
            else:
                flow.comment = f"todo {n}"
                flow.client_conn.peername = ("10.0.0.1", n)
            store.update(flow)
        elif op == "remove" and pick is not None:
            store.remove(pick)
        elif op == "dup" and pick is not None:
            flow = store.get(pick)
            assert flow is not None
            store.insert_after(pick, flow.copy())
        elif op == "filter":
            expr = new_expr
            store.set_filter(parse(expr))
        _check(store)
        # The view as kept up incrementally, then rebuilt: both as each flow answers.
        assert [store.view.id_at(i) for i in range(len(store.view))] == _truth(store, expr)
        store.set_filter(parse(expr))
        assert [store.view.id_at(i) for i in range(len(store.view))] == _truth(store, expr)


def test_store_columns_past_256_values_through_changes() -> None:
    store = FlowStore()
    flows = [tcp_flow(i) for i in range(300)]
    store.add_lazy((f.id, summarize(f), KeptRecord(f)) for f in flows[:250])
    store.add(flows[250:260])
    store.add_lazy((f.id, summarize(f), KeptRecord(f)) for f in flows[260:])
    for f in flows[::7]:
        store.remove(f.id)
    store.insert_after(flows[1].id, flows[1].copy())
    changed = store.get(flows[3].id)
    assert changed is not None
    changed.client_conn.peername = ("10.0.0.1", 1)
    store.update(changed)
    _check(store)
    for expr in ("~src :4002", "~dst 10.1.0.1[0-9]{2}:", "!~src 1$ & ~tcp"):
        store.set_filter(parse(expr))
        assert [f.id for f in store.view] == _truth(store, expr)


# -- a filter that fails never breaks the store -----------------------------------------------


def test_a_filter_raising_on_odd_summary_data_hides_that_flow_only() -> None:
    store = FlowStore()
    good = [tcp_flow(i) for i in range(4)]
    store.add_lazy((f.id, summarize(f), KeptRecord(f)) for f in good)
    odd = tcp_flow(9)
    broken = summarize(odd)._replace(dst=(b"bytes, not text",))  # type: ignore[arg-type]
    store.add_lazy([(odd.id, broken, KeptRecord(odd))])
    store.set_filter(parse("~dst 10.1"))  # the column path raises: the store goes flow by flow
    assert [store.view.id_at(i) for i in range(len(store.view))] == [f.id for f in good]
    store.set_filter(parse("~tcp"))
    assert len(store.view) == 5


def test_unhashable_summary_values_fall_back_to_the_summaries_list() -> None:
    store = FlowStore()
    flows = [tcp_flow(i) for i in range(3)]
    store.add_lazy((f.id, summarize(f), KeptRecord(f)) for f in flows[:2])
    weird = summarize(flows[2])._replace(src=["10.0.0.1:40002"])  # type: ignore[arg-type]
    store.add_lazy([(flows[2].id, weird, KeptRecord(flows[2]))])
    assert not store.table.columns_ok
    store.set_filter(parse("~src 4000[02]"))
    assert [store.view.id_at(i) for i in range(len(store.view))] == [flows[0].id, flows[2].id]
    store.clear()
    assert store.table.columns_ok


def test_known_results_override_the_summaries() -> None:
    store = FlowStore()
    flows = [tcp_flow(i) for i in range(5)]
    store.add_lazy((f.id, summarize(f), KeptRecord(f)) for f in flows)
    store.set_filter(parse("~tcp"), known={flows[1].id: False, "gone": True})
    assert [store.view.id_at(i) for i in range(len(store.view))] == [
        f.id for i, f in enumerate(flows) if i != 1
    ]


@pytest.mark.parametrize("expr", ["~tcp", "!~tcp", "~src 10.0.0.1:4000[13]", "~all | ~e"])
def test_a_plain_function_filter_still_goes_flow_by_flow(expr: str) -> None:
    store = FlowStore()
    flows = [tcp_flow(i) for i in range(4)]
    store.add(flows)
    flt = parse(expr)
    store.set_filter(lambda f: flt(f))
    assert [f.id for f in store.view] == [f.id for f in flows if flt(f)]
