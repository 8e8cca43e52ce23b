"""Lazy captures: the index pass, flows decoded on demand, saving by copying records."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from capture_gen import split_records
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtui.core.filters import parse
from flowtui.core.messages import MessageFlow
from flowtui.core.summary import Blob, summarize, summarize_skim
from flowtui.io import FlowReader, FlowReadException, read_flows, save_flows, tnetstring
from flowtui.io.detect import CaptureFormat
from flowtui.io.lazy import CaptureIndexer, IndexEntry
from flowtui.io.reader import flow_from_record
from flowtui.io.skim import skim
from flowtui.store import FlowStore


def record_flow(record: Any) -> Any:
    """The flow a mitmproxy record decodes to."""
    return flow_from_record(record, None, CaptureFormat.MITMPROXY)


ROOT = Path(__file__).resolve().parent.parent.parent
CAPTURES = [
    *sorted((ROOT / "tests" / "data").glob("mitmproxy-*/*.flows")),
    ROOT / "flowtui" / "sample" / "sample.flows",
]
IDS = [f"{p.parent.name}/{p.name}" for p in CAPTURES]


def _index(path: Path) -> list[IndexEntry]:
    return list(CaptureIndexer(path).entries())


def _both_formats(capture: Path, tmp: Path) -> list[Path]:
    native = tmp / (capture.stem + ".flowtui")
    save_flows(native, read_flows(capture), format="flowtui")
    return [capture, native]


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_index_summaries_equal_full_decoding(capture: Path, tmp_path: Path) -> None:
    for path in _both_formats(capture, tmp_path):
        flows = read_flows(path)
        entries = _index(path)
        assert [e.id for e in entries] == [f.id for f in flows]
        assert [e.summary for e in entries] == [summarize(f) for f in flows]


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_lazily_opened_flows_equal_eagerly_read_ones(capture: Path, tmp_path: Path) -> None:
    for path in _both_formats(capture, tmp_path):
        eager = [f.get_state() for f in read_flows(path)]
        assert [e.ref.load().get_state() for e in _index(path)] == eager


def _lazy_store(path: Path) -> FlowStore:
    store = FlowStore()
    store.add_lazy((e.id, e.summary, e.ref) for e in _index(path))
    return store


def test_save_after_lazy_load_copies_untouchedsplit_records(tmp_path: Path) -> None:
    source = ROOT / "flowtui" / "sample" / "sample.flows"
    store = _lazy_store(source)
    assert all(store.is_lazy(store.view.id_at(i)) for i in range(len(store.view)))
    changed = store.view[2]
    changed.marked = ":star:"
    store.update(changed)
    out = tmp_path / "saved.flows"
    assert save_flows(out, store.entries(), format="mitmproxy") == len(store)
    before, after = split_records(source.read_bytes()), split_records(out.read_bytes())
    assert len(before) == len(after)
    assert [a == b for a, b in zip(before, after, strict=True)].count(False) == 1
    assert before[2] != after[2]
    saved = read_flows(out)
    assert saved[2].marked == ":star:"
    original = read_flows(source)
    assert [f.get_state() for i, f in enumerate(saved) if i != 2] == [
        f.get_state() for i, f in enumerate(original) if i != 2
    ]


def test_save_after_lazy_load_reads_in_mitmproxy(tmp_path: Path) -> None:
    mitm_io = pytest.importorskip("mitmproxy.io")
    source = ROOT / "flowtui" / "sample" / "sample.flows"
    store = _lazy_store(source)
    flow = store.view[0]
    flow.comment = "looked at"
    store.update(flow)
    out = tmp_path / "saved.flows"
    save_flows(out, store.entries(), format="mitmproxy")
    with source.open("rb") as f:
        theirs_before = [x.get_state() for x in mitm_io.FlowReader(f).stream()]
    with out.open("rb") as f:
        theirs_after = [x.get_state() for x in mitm_io.FlowReader(f).stream()]
    assert theirs_after[0]["comment"] == "looked at"
    theirs_after[0]["comment"] = theirs_before[0]["comment"]
    assert theirs_after == theirs_before


def test_save_in_the_other_format_converts_lazysplit_records(tmp_path: Path) -> None:
    source = ROOT / "flowtui" / "sample" / "sample.flows"
    out = tmp_path / "saved.flowtui"
    save_flows(out, _lazy_store(source).entries(), format="flowtui")
    assert [f.get_state() for f in read_flows(out)] == [f.get_state() for f in read_flows(source)]


def test_truncated_capture_gives_its_good_flows_then_the_error(tmp_path: Path) -> None:
    source = ROOT / "flowtui" / "sample" / "sample.flows"
    data = source.read_bytes()
    records = split_records(data)
    cut = tmp_path / "cut.flows"
    cut.write_bytes(b"".join(records[:5]) + records[5][: len(records[5]) // 2])
    got: list[IndexEntry] = []
    with pytest.raises(FlowReadException) as caught:
        got.extend(CaptureIndexer(cut).entries())
    assert len(got) == 5
    assert str(cut) in str(caught.value) and "truncated" in str(caught.value)
    assert [e.ref.load().get_state() for e in got] == [
        f.get_state() for f in read_flows(source)[:5]
    ]


# -- filters on summaries agree with filters on flows ------------------------------------

_FLOWS = [f for p in CAPTURES for f in read_flows(p)]
_SUMMARIES = [summarize(f) for f in _FLOWS]
_WORDS = ["127", "0.0.1", "flowtui", "imap", "TLSv1.3", "1.2", "h2", "http", "grapes", ".", ""]
_WORDS += ["GET", "json", "text", "^/", "example", "google"]
_SUMMARY_OPS = ["~all", "~e", "~marked", "~tcp", "~udp", "~http", "~dns", "~websocket"]
_SUMMARY_OPS += ["~replay", "~replayq", "~replays", "~tls", "~q", "~s", "~a", "~c 200", "~c 404"]
_REGEX_OPS = ["~marker", "~comment", "~meta", "~src", "~dst", "~sni", "~alpn", "~tls"]
_REGEX_OPS += ["~u", "~d", "~m", "~t", "~tq", "~ts"]

_term = st.one_of(
    st.sampled_from(_SUMMARY_OPS),
    st.builds(lambda op, w: f'{op} "{w}"', st.sampled_from(_REGEX_OPS), st.sampled_from(_WORDS)),
    st.builds(
        lambda op, n: f"~size {op}{n}", st.sampled_from(["<", ">", "=", ">="]), st.integers(0, 4000)
    ),
)
_expr = st.recursive(
    _term,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} & {b})", inner, inner),
        st.builds(lambda a, b: f"({a} | {b})", inner, inner),
        st.builds(lambda a: f"!{a}", inner),
    ),
    max_leaves=5,
)


@settings(max_examples=150, deadline=None)
@given(_expr)
def test_filters_on_summaries_agree_with_filters_on_flows(expr: str) -> None:
    flt = parse(expr)
    assert flt.on_summaries
    for flow in _FLOWS:
        assert flt.match_summary(summarize(flow)) == flt(flow), (expr, flow.id)
    # All summaries at once (field by field, each distinct value once): the same answers.
    assert flt.match_summaries(_SUMMARIES) == bytes(flt(f) for f in _FLOWS), expr
    assert flt.match_summaries([]) == b""


def test_content_filters_need_the_flows() -> None:
    for expr in ("~b x", "~tcp & ~bq x", "~h example", "~cert flowtui", "word"):
        assert not parse(expr).on_summaries


def test_index_is_not_fooled_by_key_text_inside_values(tmp_path: Path) -> None:
    source = ROOT / "tests" / "data" / "mitmproxy-11" / "tls_alpn_chain.flows"
    flows = read_flows(source)
    for flow in flows:
        flow.client_conn.sni = "8:peername;17:127.0.0.1:1;11:tls_version;"
    path = tmp_path / "tricky.flows"
    save_flows(path, flows, format="mitmproxy")
    assert [e.summary for e in _index(path)] == [summarize(f) for f in read_flows(path)]


_ENTRIES = [e for p in CAPTURES for e in _index(p)]
_CONTENT = ["hello", "LOGIN", "a1", "^a1", r"\bOK\b", "(?=C)A", "x$", ".", "zzz-none", "EHLO"]
_CONTENT += ["login", "(?-i:login)", "ehlo ", "Capability", "a\\.b", "OK [a-z]+"]


@settings(max_examples=80, deadline=None)
@given(
    st.builds(
        lambda op, w, extra: f'{op} "{w}"{extra}',
        st.sampled_from(["~b", "~bq", "~bs", "!~b", ""]),  # "": a bare word
        st.sampled_from(_CONTENT),
        st.sampled_from(["", " & ~tcp", " | ~udp", " & ~src 127"]),
    )
)
def test_raw_prefilter_never_drops_a_matching_flow(expr: str) -> None:
    flt = parse(expr)
    for entry in _ENTRIES:
        if flt(entry.ref.load()):
            assert flt.may_match(entry.summary, entry.ref.raw()), (expr, entry.id)


def test_store_filters_lazy_and_changed_flows_alike() -> None:
    source = ROOT / "flowtui" / "sample" / "sample.flows"
    store = _lazy_store(source)
    flows = read_flows(source)
    for expr in ("~tcp", "~marked", "~sni imap | ~dst 127.0.0.1:3", "!~tls & ~size >100"):
        flt = parse(expr)
        store.set_filter(flt)
        assert [store.view.id_at(i) for i in range(len(store.view))] == [
            f.id for f in flows if flt(f)
        ]
    unmarked = next(f for f in store if not f.marked)
    unmarked.marked = ":star:"
    store.update(unmarked)  # now resident: its new summary counts
    store.set_filter(parse("~marked"))
    assert store.view.position(unmarked.id) is not None
    assert store.is_lazy(store.view.id_at(0)) or store.view.id_at(0) == unmarked.id


@pytest.mark.parametrize("timestamp", [1795000000.25, 1795000000, None, "text"])
def test_index_totals_messages_like_full_decoding(timestamp: object, tmp_path: Path) -> None:
    source = ROOT / "tests" / "data" / "mitmproxy-11" / "tls_alpn_chain.flows"
    flows = [f for f in read_flows(source) if isinstance(f, MessageFlow)]
    assert flows
    path = tmp_path / "messages.flows"
    save_flows(path, flows, format="mitmproxy")
    data = bytearray()
    for record in split_records(path.read_bytes()):
        state = tnetstring.loads(record)
        extra = [[True, b"", 1.5], [False, b"x" * 300, timestamp], [True, b"tail", 2]]
        state["messages"] = [*state["messages"], *extra]
        data += tnetstring.dumps(state)
    path.write_bytes(bytes(data))
    entries = _index(path)
    reread = read_flows(path)
    assert [e.summary for e in entries] == [summarize(f) for f in reread]
    counts = [len(f.messages) for f in reread if isinstance(f, MessageFlow)]
    assert [e.summary.messages for e in entries][: len(counts)] == counts


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s["server_conn"].pop("timestamp_tls_setup"),
        lambda s: s["client_conn"].pop("sockname"),
        lambda s: s["client_conn"].__setitem__("zzz", 1),
        lambda s: s.__setitem__("zzz", 1),
        lambda s: s.pop("timestamp_created"),
    ],
    ids=[
        "server field missing",
        "client field missing",
        "extra client field",
        "extra field",
        "flow field missing",
    ],
)
def test_index_of_a_state_with_missing_or_extra_fields_equals_full_decoding(
    change: Any, tmp_path: Path
) -> None:
    # Found by fuzzing: the index listed such a record as a TCP flow, which then opened
    # as unreadable.
    source = ROOT / "tests" / "data" / "mitmproxy-11" / "tls_alpn_chain.flows"
    states = [tnetstring.loads(r) for r in split_records(source.read_bytes())]
    change(states[0])
    path = tmp_path / "odd.flows"
    path.write_bytes(b"".join(tnetstring.dumps(s) for s in states))
    flows = read_flows(path)
    assert [e.summary for e in _index(path)] == [summarize(f) for f in flows]
    assert _index(path)[0].summary.read_only  # listed as unreadable, as it opens


def _as_read(value: Any) -> Any:
    """A state as a reader gives it (lists where the model has tuples)."""
    if isinstance(value, dict):
        return {k: _as_read(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_read(v) for v in value]
    return value


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_summaries_of_full_states_equal_the_models(capture: Path) -> None:
    # `summarize_skim` also summarises whole states (a flowtui record whose stored
    # summary is missing): every HTTP flow without a WebSocket and every DNS flow; when
    # it gives a summary for any other, it is the model's.
    for flow in read_flows(capture):
        state = _as_read(flow.get_state())
        summary = summarize_skim(state)
        websocket = flow.type == "http" and state["websocket"] is not None
        if flow.type in ("http", "dns") and not websocket:
            assert summary == summarize(flow), flow.id
        else:
            assert summary is None or summary == summarize(flow), flow.id


@pytest.mark.parametrize("capture", CAPTURES, ids=IDS)
def test_http_records_are_skimmed_not_decoded(capture: Path) -> None:
    # the index pass summarises HTTP records from the skim (bodies as lengths), and
    # exactly as decoding them would
    with capture.open("rb") as f:
        for record in FlowReader(f).records(with_state=False):
            flow = record_flow(record)
            if flow.type != "http" or flow.get_state()["websocket"] is not None:
                continue
            skimmed = skim(record.payload)
            assert isinstance(skimmed["request"]["content"], Blob | type(None))
            assert summarize_skim(skimmed) == summarize(flow), flow.id


def _set(path: str, value: Any) -> Any:
    def change(state: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = state
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        elif value is _POP:
            target.pop(last)
        else:
            target[last] = value

    return change


_POP = object()
_WEBSOCKET = {
    "messages": [[1, True, b"hi", 1.5, False, False]],
    "closed_by_client": True,
    "close_code": 1000,
    "close_reason": "",
    "timestamp_end": 2.0,
}
_HTTP_CHANGES = {
    "text header name": _set("request.headers.0", ["Host", b"x"]),
    "header of three": _set("request.headers.0", [b"Host", b"x", b"y"]),
    "text header value": _set("response.headers.0", [b"content-type", "text/html"]),
    "header not a list": _set("request.headers.0", b"Host: x"),
    "text method": _set("request.method", "GET"),
    "bytes host": _set("request.host", b"example.com"),
    "bool port": _set("request.port", True),
    "text body": _set("response.content", "body"),
    "int body": _set("request.content", 5),
    "trailers": _set("response.trailers", [[b"x-trailer", b"1"]]),
    "bad trailers": _set("response.trailers", [[b"x-trailer", 1]]),
    "status as text": _set("response.status_code", "200"),
    "missing reason": _set("response.reason", _POP),
    "extra request field": _set("request.zzz", 1),
    "missing path": _set("request.path", _POP),
    "int timestamp": _set("request.timestamp_start", 1_700_000_000),
    "huge int timestamp": _set("request.timestamp_start", 10**400),
    "no response": _set("response", None),
    "response not a dict": _set("response", [1]),
    "websocket": _set("websocket", _WEBSOCKET),
    "no websocket key": _set("websocket", _POP),
}


@pytest.mark.parametrize("change", list(_HTTP_CHANGES.values()), ids=list(_HTTP_CHANGES))
def test_index_of_an_odd_http_state_equals_full_decoding(change: Any, tmp_path: Path) -> None:
    # The skim summarises an HTTP record only when decoding would model it exactly as
    # read; anything else is decoded (and listed as it opens, readable or not).
    source = ROOT / "tests" / "data" / "mitmproxy-11" / "http_bodies.flows"
    states = [tnetstring.loads(r) for r in split_records(source.read_bytes())]
    http = [s for s in states if s["type"] == "http" and s["response"] and not s["websocket"]]
    change(http[0])
    path = tmp_path / "odd.flows"
    path.write_bytes(b"".join(tnetstring.dumps(s) for s in states))
    flows = read_flows(path)
    assert [e.summary for e in _index(path)] == [summarize(f) for f in flows]


_VARIANTS: dict[str, list[Any]] = {
    "marked": ["", ":star:", "x"],
    "intercepted": [False, True],
    "is_replay": [None, "request"],
    "comment": ["", "c", "ü"],
    "error": [None, {"msg": "boom", "timestamp": 1.5}],
    "client_conn.sni": [None, "a.example", "b.example"],
    "server_conn.tls_version": [None, "TLSv1.3", "TLSv1.2"],
    "server_conn.alpn": [None, b"h2", b"http/1.1"],
    "request.http_version": [b"HTTP/1.1", b"HTTP/2.0", b"HTTP/1.0"],
    "request.method": [b"GET", b"POST", b"get"],
    "request.authority": [b"", b"example.com:8443"],
    "request.trailers": [None, [[b"x-t", b"1"]]],
    "request.port": [80, 443, 8080],
    "response.reason": [b"OK", b"", b"Not Found"],
    "response.status_code": [200, 404, 101],
    "response.timestamp_end": [None, 2.0e9, 1_900_000_000],
}


def test_index_of_records_whose_short_values_vary_equals_full_decoding(tmp_path: Path) -> None:
    # The skim learns the short values records share and walks a run of keys at a
    # time while the next record has them too: records that differ in any of them, in
    # any order, are summarised exactly as decoding them, with and without workers.
    import random

    source = ROOT / "tests" / "data" / "mitmproxy-11" / "http_bodies.flows"
    base = [tnetstring.loads(r) for r in split_records(source.read_bytes())]
    rng = random.Random(7)
    states = []
    for i in range(1500):  # the first 1,000 read in this thread, the rest by workers
        state = copy.deepcopy(base[i % len(base)])
        for field, values in _VARIANTS.items():
            if rng.random() < 0.2:
                *parents, last = field.split(".")
                target = state
                for key in parents:
                    target = target.get(key) if isinstance(target, dict) else None
                if isinstance(target, dict) and last in target:
                    target[last] = rng.choice(values)
        states.append(state)
    path = tmp_path / "varied.flows"
    path.write_bytes(b"".join(tnetstring.dumps(s) for s in states))
    expected = [summarize(f) for f in read_flows(path)]
    assert [e.summary for e in _index(path)] == expected
    pooled = CaptureIndexer(path, workers=2, parallel_min=0)
    assert [e.summary for e in pooled.entries()] == expected
    assert pooled.pooled > 0
    from flowtui.io import skim as skim_module

    assert any(layout.shapes for layout in skim_module._LEARNED.values())
