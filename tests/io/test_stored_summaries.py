"""flowtui captures store each flow's list summary, so opening one never decodes a state.

The stored summary must be exactly what decoding the flow would give, must never be
trusted when it is of another version or malformed (a file is input), and a record
whose state is damaged is still listed, with the damage reported when it is opened.
"""

from __future__ import annotations

import contextlib
import io
import struct
from pathlib import Path
from typing import Any

import msgpack
import pytest

from flowtui.core.summary import FlowSummary, summarize
from flowtui.io import FlowReader, FlowReadException, read_flows, save_flows
from flowtui.io.lazy import CaptureIndexer, IndexEntry
from flowtui.io.native_format import NativeStateWriter
from flowtui.io.summary import (
    INDEX_FIELDS,
    INDEX_VERSION,
    V1_FIELDS,
    index_entry,
    summarize_state,
    summary_from_index,
)

ROOT = Path(__file__).resolve().parent.parent.parent
CAPTURES = [
    *sorted((ROOT / "tests" / "data").glob("mitmproxy-*/*.flows")),
    ROOT / "flowtui" / "sample" / "sample.flows",
]


def _index(path: Path) -> tuple[list[IndexEntry], CaptureIndexer]:
    indexer = CaptureIndexer(path)
    return list(indexer.entries()), indexer


def test_stored_field_layout_is_pinned_to_its_version() -> None:
    # Changing FlowSummary without bumping INDEX_VERSION would make readers trust stored
    # summaries of another layout: bump it, then update this pin.
    assert INDEX_VERSION == 2
    assert INDEX_FIELDS == FlowSummary._fields == (
        "type", "start", "client", "server", "detail", "tls_version", "messages",
        "bytes_up", "bytes_down", "duration", "marked", "intercepted", "killed", "error",
        "modified", "live", "read_only", "comment", "src", "dst", "sni", "alpn", "tls",
        "meta", "replay", "websocket", "size",
        "method", "scheme", "host", "path", "url", "status", "content_type",
        "request_content_type", "request_size", "response_size", "domains", "response",
        "dns_name", "dns_type", "dns_rcode", "dns_answers", "dns_answer",
    )  # fmt: skip
    assert INDEX_FIELDS[: INDEX_FIELDS.index("size") + 1] == V1_FIELDS


def _as_version_1(entry: list[Any]) -> list[Any]:
    """A stored summary as written before the HTTP and DNS columns (version 1)."""
    return [1, *entry[1 : len(V1_FIELDS) + 1]]


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_version_1_summaries_still_open(capture: Path) -> None:
    # TCP and UDP summaries of version 1 are exact today and are used; HTTP and DNS
    # ones lack the new columns and are recomputed from the state.
    for flow in read_flows(capture):
        entry = index_entry(flow)
        assert entry is not None
        old = _as_version_1(msgpack.unpackb(msgpack.packb(entry, use_bin_type=True)))
        summary = summary_from_index(old)
        if flow.type in ("tcp", "udp"):
            assert summary == summarize(flow)._replace(live=False)
        else:
            assert summary is None


def test_version_1_capture_opens_with_http_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = ROOT / "tests" / "data" / "mitmproxy-11" / "http_bodies.flows"
    flows = read_flows(capture)
    native = tmp_path / "old.flowtui"
    save_flows(native, flows, format="flowtui")
    # every stored summary written as version 1 (before the HTTP and DNS columns)
    import flowtui.io.writer as writer

    def old_entry(flow: Any) -> list[Any] | None:
        entry = index_entry(flow)
        return None if entry is None else _as_version_1(entry)

    monkeypatch.setattr(writer, "index_entry", old_entry)
    save_flows(native, flows, format="flowtui")
    monkeypatch.undo()
    entries, indexer = _index(native)
    assert indexer.stored == 0  # HTTP summaries of version 1 are recomputed
    assert [e.summary for e in entries] == [summarize(f) for f in read_flows(native)]
    assert any(e.summary.method for e in entries) and any(e.summary.status for e in entries)


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_converted_captures_open_from_stored_summaries(capture: Path, tmp_path: Path) -> None:
    native = tmp_path / "converted.flowtui"
    save_flows(native, read_flows(capture), format="flowtui")
    entries, indexer = _index(native)
    flows = read_flows(native)
    assert indexer.stored == len(flows)  # not one state decoded
    assert [e.id for e in entries] == [f.id for f in flows]
    assert [e.summary for e in entries] == [summarize(f) for f in flows]
    assert [e.ref.load().get_state() for e in entries] == [f.get_state() for f in flows]


def test_a_live_or_changed_flow_is_stored_as_it_will_read_back(tmp_path: Path) -> None:
    flows = read_flows(ROOT / "flowtui" / "sample" / "sample.flows")
    for flow in flows[:5]:
        flow.live = True
        flow.backup()
        flow.marked = ":star:"
        flow.comment = "checked"
    path = tmp_path / "changed.flowtui"
    save_flows(path, flows, format="flowtui")
    entries, indexer = _index(path)
    assert indexer.stored == len(flows)
    assert [e.summary for e in entries] == [summarize(f) for f in read_flows(path)]
    assert entries[0].summary.modified and not entries[0].summary.live


def test_a_summary_that_does_not_pack_is_not_stored() -> None:
    flow = read_flows(ROOT / "flowtui" / "sample" / "sample.flows")[1]
    flow.comment = "bad \udcff surrogate"  # a file name that is not UTF-8, say
    assert index_entry(flow) is None


def _write(path: Path, records: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    buf = io.BytesIO()
    writer = NativeStateWriter(buf)
    for state, summary in records:
        writer.add_state(state, summary)
    path.write_bytes(buf.getvalue())


def _stored(flow: Any, ix: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = flow.get_state()
    summary = summarize_state(state)
    if ix is not None:
        summary["ix"] = ix
    return state, summary


def _good(flow: Any) -> list[Any]:
    entry = index_entry(flow)
    assert entry is not None
    return entry


BAD_STORED = {
    "absent (written by flowtui format 1.0)": lambda f: None,
    "another version": lambda f: [INDEX_VERSION + 1, *_good(f)[1:]],
    "a field missing": lambda f: _good(f)[:-1],
    "a number as text": lambda f: [*_good(f)[:7], "10", *_good(f)[8:]],
    "a bool as a number": lambda f: [*_good(f)[:12], 1, *_good(f)[13:]],
    "a list of numbers": lambda f: [*_good(f)[:19], [1, 2], *_good(f)[20:]],
    "a list holding a list": lambda f: [*_good(f)[:19], [["h2"], "x"], *_good(f)[20:]],
    "not a list": lambda f: {"type": "tcp"},
}


@pytest.mark.parametrize("kind", BAD_STORED)
def test_stored_summaries_not_to_be_trusted_are_not(kind: str, tmp_path: Path) -> None:
    flows = read_flows(ROOT / "flowtui" / "sample" / "sample.flows")
    path = tmp_path / "mixed.flowtui"
    bad = BAD_STORED[kind]
    _write(path, [_stored(f, bad(f) if i % 2 else _good(f)) for i, f in enumerate(flows)])
    entries, indexer = _index(path)
    assert indexer.stored == (len(flows) + 1) // 2
    assert [e.summary for e in entries] == [summarize(f) for f in read_flows(path)]


def _offsets(data: bytes) -> list[int]:
    """Where each record of an intact flowtui capture starts."""
    return [r.offset for r in FlowReader(io.BytesIO(data)).records(with_state=False)]


def test_a_damaged_state_is_listed_and_reported_when_opened(tmp_path: Path) -> None:
    flows = read_flows(ROOT / "flowtui" / "sample" / "sample.flows")
    path = tmp_path / "damaged.flowtui"
    save_flows(path, flows, format="flowtui")
    data = bytearray(path.read_bytes())
    offsets = _offsets(bytes(data))
    data[offsets[3 + 1] - 10] ^= 0xFF  # inside the state of flow #3
    path.write_bytes(bytes(data))
    entries, _ = _index(path)
    assert [e.id for e in entries] == [f.id for f in flows]  # every flow is listed
    with pytest.raises(FlowReadException) as caught:
        entries[3].ref.load()
    error = caught.value
    assert (error.path, error.index, error.offset) == (str(path), 3, offsets[3])
    assert "checksum" in str(error)
    assert entries[4].ref.load().get_state() == flows[4].get_state()


def test_a_damaged_state_without_a_stored_summary_stops_the_index(tmp_path: Path) -> None:
    flows = read_flows(ROOT / "flowtui" / "sample" / "sample.flows")
    path = tmp_path / "old.flowtui"
    _write(path, [_stored(f, None) for f in flows])
    data = bytearray(path.read_bytes())
    offsets = _offsets(bytes(data))
    data[offsets[3 + 1] - 10] ^= 0xFF
    path.write_bytes(bytes(data))
    got: list[IndexEntry] = []
    with pytest.raises(FlowReadException) as caught:
        got.extend(CaptureIndexer(path).entries())
    assert len(got) == 3
    assert (caught.value.index, caught.value.offset) == (3, offsets[3])
    assert "checksum" in str(caught.value) and str(path) in str(caught.value)


@pytest.mark.parametrize("how", ["truncated", "garbage", "flags", "other kind", "grown"])
def test_damaged_flowtui_captures_index_as_they_read(how: str, tmp_path: Path) -> None:
    flows = read_flows(ROOT / "flowtui" / "sample" / "sample.flows")
    path = tmp_path / "capture.flowtui"
    save_flows(path, flows, format="flowtui")
    data = path.read_bytes()
    at = _offsets(data)[len(flows) // 2]
    if how == "truncated":
        data = data[: at + 30]
    elif how == "garbage":
        data = data[:at] + b"JUNK" * 5 + data[at:]
    elif how == "flags":
        data = data[: at + 3] + b"\x01" + data[at + 4 :]
    elif how == "other kind":  # a record kind from a newer flowtui: skipped
        other = b"FR\x07\x00" + struct.pack(">III", 0, 3, 0) + b"abc"
        data = data[:at] + other + data[at:]
    elif how == "grown":  # a record appended while the capture was being indexed
        data = data + data[at : _offsets(data)[len(flows) // 2 + 1]]
    path.write_bytes(data)
    expected: list[str] = []
    error = None
    try:
        expected.extend(f.id for f in read_flows(path))
    except FlowReadException as e:
        error = str(e)
        with path.open("rb") as f:
            expected = [r.summary["id"] for r in _good_records(FlowReader(f))]
    got: list[IndexEntry] = []
    try:
        got.extend(CaptureIndexer(path).entries())
    except FlowReadException as e:
        assert str(e) == error
    else:
        assert error is None
    assert [e.id for e in got] == expected


def _good_records(reader: Any) -> list[Any]:
    out: list[Any] = []
    with contextlib.suppress(FlowReadException):
        out.extend(reader.records(with_state=False))
    return out


def test_a_flow_that_cannot_be_read_back_opens_as_unreadable_and_saves_as_it_was(
    tmp_path: Path,
) -> None:
    from flowtui.core import UnknownFlow
    from flowtui.io import FlowWriteException
    from flowtui.store import FlowStore

    flows = read_flows(ROOT / "flowtui" / "sample" / "sample.flows")
    path = tmp_path / "damaged.flowtui"
    save_flows(path, flows, format="flowtui")
    data = bytearray(path.read_bytes())
    data[_offsets(bytes(data))[3 + 1] - 10] ^= 0xFF  # inside the state of flow #3
    path.write_bytes(bytes(data))
    store = FlowStore()
    store.add_lazy((e.id, e.summary, e.ref) for e in CaptureIndexer(path).entries())
    broken = store.get(flows[3].id)
    assert isinstance(broken, UnknownFlow)
    assert broken.id == flows[3].id and broken.raw_type == "tcp"
    assert str(path) in broken.reason and "flow #3" in broken.reason
    assert "checksum" in broken.reason
    good = store.get(flows[4].id)
    assert good is not None and good.get_state() == flows[4].get_state()
    # Nothing is lost: the same format copies the record as it is; another format,
    # which would need it decoded, refuses and leaves no file.
    copy = tmp_path / "copy.flowtui"
    save_flows(copy, store.entries(), format="flowtui")
    assert copy.read_bytes() == bytes(data)
    with pytest.raises(FlowWriteException, match="flow #4"):
        save_flows(tmp_path / "other.flows", store.entries(), format="mitmproxy")
    assert not (tmp_path / "other.flows").exists()
