"""Summary filters over every flow at once (`filters/columns.py`) answer exactly as the
filter called on each flow (through store changes: tests/store/test_view_filter.py)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ui.factories import tcp_flow

from flowtui.core.filters import parse
from flowtui.core.filters.columns import INDEXED_FIELDS, SummaryColumns
from flowtui.core.filters.content import raw_test
from flowtui.core.filters.regex import literal_bytes
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
