"""Summary filters over every flow at once (`filters/columns.py`) answer exactly as the
filter called on each flow, through any sequence of store changes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kept_records import KeptRecord
from ui.factories import tcp_flow

from flowtui.core.filters import parse
from flowtui.core.filters.columns import INDEXED_FIELDS, SummaryColumns
from flowtui.core.filters.content import raw_test
from flowtui.core.filters.regex import literal_bytes
from flowtui.core.store import FlowStore
from flowtui.core.summary import FlowSummary, summarize

# -- expressions --------------------------------------------------------------------------

_WORDS = ["10.0.0.1", "10.1.0.", "4000[0-4]$", "example", "TLSv1.3", "1.2", "h2", "todo", "", "."]
_SIMPLE = ["~all", "~e", "~marked", "~tcp", "~udp", "~http", "~dns", "~websocket", "~tls"]
_SIMPLE += ["~replay", "~replayq", "~replays"]
_REGEX = ["~marker", "~comment", "~meta", "~src", "~dst", "~sni", "~alpn", "~tls"]

_term = st.one_of(
    st.sampled_from(_SIMPLE),
    st.builds(lambda op, w: f'{op} "{w}"', st.sampled_from(_REGEX), st.sampled_from(_WORDS)),
    st.builds(
        lambda op, n: f"~size {op}{n}",
        st.sampled_from(["<", ">", "=", "<=", "!="]),
        st.integers(0, 80),
    ),
)
EXPRESSIONS = st.recursive(
    _term,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} & {b})", inner, inner),
        st.builds(lambda a, b: f"({a} | {b})", inner, inner),
        st.builds(lambda a: f"!{a}", inner),
    ),
    max_leaves=6,
)

# -- summaries with few and with many distinct values -----------------------------------------

_texts = st.sampled_from(["", "10.0.0.1:40000", "a.example", "TLSv1.3", "h2", "todo: x", "[::1]:1"])
SUMMARIES = st.builds(
    FlowSummary,
    type=st.sampled_from(["tcp", "udp", "http", "dns", "?"]),
    start=st.none(),
    client=st.just(""),
    server=st.just(""),
    detail=st.just(""),
    tls_version=st.just(""),
    messages=st.none(),
    bytes_up=st.none(),
    bytes_down=st.none(),
    duration=st.none(),
    marked=st.sampled_from(["", ":default:", "x"]),
    intercepted=st.booleans(),
    killed=st.booleans(),
    error=st.booleans(),
    modified=st.booleans(),
    live=st.booleans(),
    read_only=st.booleans(),
    comment=_texts,
    src=st.lists(
        _texts | st.builds(lambda n: f"10.0.0.1:{n}", st.integers(0, 400)), max_size=2
    ).map(tuple),
    dst=st.lists(_texts, max_size=4).map(tuple),
    sni=st.lists(_texts, max_size=2).map(tuple),
    alpn=st.lists(_texts, max_size=3).map(tuple),
    tls=st.lists(st.sampled_from(["", "TLSv1.2", "TLSv1.3"]), max_size=2).map(tuple),
    meta=_texts,
    replay=st.sampled_from([None, "request", "response"]),
    websocket=st.booleans(),
    size=st.integers(0, 100),
)


@settings(max_examples=200, deadline=None)
@given(EXPRESSIONS, st.lists(SUMMARIES, max_size=40))
def test_columns_answer_as_each_summary(expr: str, summaries: list[FlowSummary]) -> None:
    flt = parse(expr)
    expected = bytes(flt.match_summary(s) for s in summaries)
    assert flt.match_summaries(summaries) == expected, expr


def _decoded(columns: SummaryColumns) -> dict[str, list[Any]]:
    return {
        field: [column.values[c] for c in column.codes]
        for field, column in columns._columns.items()
    }


def _rows_as_columns(rows: list[FlowSummary], fields: Any) -> dict[str, list[Any]]:
    return {field: [getattr(r, field) for r in rows] for field in fields}


def test_columns_widen_past_256_values_whichever_way_rows_come() -> None:
    rows = [summarize(tcp_flow(0))._replace(size=i, src=(f"h:{i}",)) for i in range(700)]
    for build in ("append", "extend", "insert", "replace"):
        columns = SummaryColumns()
        if build == "append":
            for r in rows:
                columns.append(r)
        elif build == "extend":
            columns.extend(rows[:200])
            columns.extend(rows[200:])
        elif build == "insert":
            for r in reversed(rows):
                columns.insert(0, r)
        else:
            columns.extend([rows[0]] * len(rows))
            for i, r in enumerate(rows):
                columns.replace(i, r)
        assert columns.rows == rows
        assert _decoded(columns) == _rows_as_columns(rows, INDEXED_FIELDS), build
        flt = parse("~size >300 & ~src 9$")
        assert flt.match_columns(columns) == bytes(flt.match_summary(r) for r in rows)
    columns.delete(5)
    assert _decoded(columns) == _rows_as_columns(rows[:5] + rows[6:], INDEXED_FIELDS)


def test_a_field_no_filter_indexed_becomes_a_column() -> None:
    rows = [summarize(tcp_flow(i)) for i in range(3)]
    columns = SummaryColumns(rows)
    mask = columns.field_mask("client", lambda v: v.endswith(":40001"))
    assert columns.flags(mask) == b"\x00\x01\x00"
    columns.append(rows[1])
    assert columns.flags(columns.field_mask("client", lambda v: v.endswith(":40001"))) == (
        b"\x00\x01\x00\x01"
    )


# -- a store through random changes -----------------------------------------------------------


def _truth(store: FlowStore, expr: str) -> list[str]:
    flt = parse(expr)
    return [key for key, flow in zip(store.keys_in_order(), store, strict=True) if flt(flow)]


def _check(store: FlowStore) -> None:
    """The store's own lists agree with its dicts (what the fast path relies on)."""
    assert store._order_ids == list(store._seq)
    assert store._order_seqs.tolist() == list(store._seq.values())
    assert store._columns_ok
    rows = list(store._summaries.values())
    assert list(store._summaries) == store._order_ids
    assert store._columns.rows == rows
    assert _decoded(store._columns) == _rows_as_columns(rows, store._columns._columns)


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
        ids = list(store._seq)
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
    assert not store._columns_ok
    store.set_filter(parse("~src 4000[02]"))
    assert [store.view.id_at(i) for i in range(len(store.view))] == [flows[0].id, flows[2].id]
    store.clear()
    assert store._columns_ok


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


# -- the raw pre-test of content filters -------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["needle", "NeEdLe", "a-b", "\\x00z", "(?-i:Ab)", "n.e", "x+y", "é", ""]),
    st.lists(
        st.sampled_from(
            [b"needle", b"NEEDLE", b"a-B", b"\x00Z", b"ab", b"AB", b"n\xc3e", b"\xc3\xa9"]
        )
        | st.binary(max_size=8),
        max_size=6,
    ),
)
def test_raw_test_finds_what_the_regex_finds(pattern: str, parts: list[bytes]) -> None:
    flt = parse(f'~b "{pattern}"')
    regex = flt.root.regex  # type: ignore[attr-defined]
    test = raw_test(regex)
    assert test is not None
    data = b"".join(parts)
    assert test(data) == (regex.search(data) is not None), (pattern, data)


def test_literal_bytes() -> None:
    assert literal_bytes(parse("~b flowtui-needle").root.regex) == b"flowtui-needle"  # type: ignore[attr-defined]
    for pattern in ("a.b", "(?-i:a)", "[ab]", "a+", "a|b"):
        assert literal_bytes(parse(f"~b '{pattern}'").root.regex) is None, pattern  # type: ignore[attr-defined]
