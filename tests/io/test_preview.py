"""Previews of big message flows: the first messages and every other field, decoded
without the rest of the record, must be exactly the whole flow cut short."""

from __future__ import annotations

import contextlib
import io
import struct
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtui.core import HTTPFlow, TCPFlow, TCPMessage
from flowtui.core.messages import MessageFlow
from flowtui.io import native_format, read_flows, save_flows, tnetstring
from flowtui.io.lazy import CaptureIndexer, IndexEntry
from flowtui.io.records import RecordDecodeError
from flowtui.store import PREVIEW_MESSAGES, FlowStore

ROOT = Path(__file__).resolve().parent.parent.parent
CAPTURES = [
    *sorted((ROOT / "tests" / "data").glob("mitmproxy-*/*.flows")),
    ROOT / "flowtui" / "sample" / "sample.flows",
]
FORMATS = ["mitmproxy", "flowtui"]


def _index(path: Path) -> list[IndexEntry]:
    return list(CaptureIndexer(path).entries())


def _cut(state: dict[str, Any], count: int) -> dict[str, Any]:
    return {**state, "messages": state["messages"][:count]}


def _long_flow(messages: int, size: int) -> TCPFlow:
    flow = read_flows(ROOT / "flowtui" / "sample" / "sample.flows")[0]
    assert isinstance(flow, TCPFlow)
    flow.messages = [
        TCPMessage(i % 2 == 0, f"{i:06d}".encode().ljust(size, b"."), 1_700_000_000.0 + i)
        for i in range(messages)
    ]
    return flow


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("capture", CAPTURES, ids=[f"{p.parent.name}/{p.name}" for p in CAPTURES])
def test_a_preview_is_the_whole_flow_cut_after_its_first_messages(
    capture: Path, fmt: str, tmp_path: Path
) -> None:
    path = tmp_path / f"capture.{fmt}"
    save_flows(path, read_flows(capture), format=fmt)
    for entry in _index(path):
        whole = entry.ref.load()
        preview = entry.ref.load_head(2, 1 << 20)
        if isinstance(whole, MessageFlow):
            assert preview is not None
            assert preview.get_state() == _cut(whole.get_state(), 2)
        else:  # HTTP, DNS, unreadable records: nothing to preview
            assert preview is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_preview_stops_once_its_messages_take_the_byte_budget(fmt: str, tmp_path: Path) -> None:
    flow = _long_flow(50, 1000)
    path = tmp_path / f"long.{fmt}"
    save_flows(path, [flow], format=fmt)
    (entry,) = _index(path)
    some = entry.ref.load_head(100, 2500)
    assert some is not None and 2 <= len(some.messages) <= 4  # not all 50
    assert some.get_state() == _cut(flow.get_state(), len(some.messages))
    one = entry.ref.load_head(100, 0)  # always at least one message
    assert one is not None and one.get_state() == _cut(flow.get_state(), 1)
    every = entry.ref.load_head(1000, 1 << 30)
    assert every is not None and every.get_state() == flow.get_state()


def test_a_damaged_flowtui_record_has_no_preview(tmp_path: Path) -> None:
    # A record read whole for its preview (up to HEAD_READ) has its checksum checked: its
    # preview never shows bytes the whole decode rejects.
    path = tmp_path / "long.flowtui"
    save_flows(path, [_long_flow(400, 100)], format="flowtui")
    data = bytearray(path.read_bytes())
    data[-2000] ^= 0x01  # inside a late message, far past what a preview shows
    path.write_bytes(bytes(data))
    (entry,) = _index(path)
    assert entry.ref.load_head(4, 1 << 20) is None
    with pytest.raises(Exception, match="checksum"):
        entry.ref.load()


def test_a_preview_of_a_capture_cut_short_on_disk_is_none(tmp_path: Path) -> None:
    path = tmp_path / "long.flows"
    save_flows(path, [_long_flow(400, 100)], format="mitmproxy")
    (entry,) = _index(path)
    path.write_bytes(path.read_bytes()[:1000])  # the file changed under the index
    assert entry.ref.load_head(4, 1 << 20) is None


def test_tnetstring_head_skips_the_rest_of_one_list_only() -> None:
    state = {"a": [1, 2], "messages": [[True, b"x", 1.0]] * 5, "z": {"k": "v"}}
    data = tnetstring.dumps(state)
    assert tnetstring.loads_head(data, "messages", 2, 1 << 20) == _cut(state, 2)
    assert tnetstring.loads_head(data, "messages", 99, 1 << 20) == tnetstring.loads(data)
    with pytest.raises(tnetstring.TNetStringError, match="no 'messages' list"):
        tnetstring.loads_head(tnetstring.dumps({"a": 1}), "messages", 2, 1)
    with pytest.raises(tnetstring.TNetStringError, match="not a list"):
        tnetstring.loads_head(tnetstring.dumps({"messages": 3}), "messages", 2, 1)
    with pytest.raises(tnetstring.TNetStringError, match="not a dict"):
        tnetstring.loads_head(tnetstring.dumps([1]), "messages", 2, 1)
    # Damage after the list is still found: only the list's tail goes unread.
    bad = data[:-3] + b"!}}"
    with pytest.raises(tnetstring.TNetStringError):
        tnetstring.loads_head(bad, "messages", 2, 1)


def test_store_previews_only_lazy_message_flows_not_in_memory(tmp_path: Path) -> None:
    long = _long_flow(PREVIEW_MESSAGES + 50, 10)
    others = read_flows(ROOT / "flowtui" / "sample" / "sample.flows")[1:]
    path = tmp_path / "mixed.flows"
    save_flows(path, [long, *others], format="mitmproxy")
    store = FlowStore()
    store.add_lazy((e.id, e.summary, e.ref) for e in _index(path))
    preview = store.preview(long.id)
    assert preview is not None and preview.get_state() == _cut(long.get_state(), PREVIEW_MESSAGES)
    assert store.get(long.id) is not preview  # never kept: opening decodes the whole
    assert len(store.get(long.id).messages) == PREVIEW_MESSAGES + 50  # type: ignore[union-attr]
    assert store.preview(long.id) is None  # in memory now: nothing to preview
    for flow in others:
        if not isinstance(flow, MessageFlow):
            assert store.preview(flow.id) is None
    resident = FlowStore()
    resident.add([long])
    assert resident.preview(long.id) is None


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The byte counts every record read asks for, from here on."""
    from flowtui.io.lazy import CaptureFile

    lengths: list[int] = []
    read = CaptureFile.read

    def counted(self: CaptureFile, offset: int, length: int) -> bytes:
        lengths.append(length)
        return read(self, offset, length)

    monkeypatch.setattr(CaptureFile, "read", counted)
    return lengths


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_big_records_preview_reads_its_start_not_all_of_it(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtui.io import lazy

    monkeypatch.setattr(lazy, "HEAD_READ", 16 << 10)
    flow = _long_flow(400, 500)  # about 200 kB of messages
    path = tmp_path / f"long.{fmt}"
    save_flows(path, [flow], format=fmt)
    (entry,) = _index(path)
    reads = _reads(monkeypatch)
    preview = entry.ref.load_head(100, 1 << 20)
    assert preview is not None and 10 <= len(preview.messages) < 40  # what 16 kB holds
    assert preview.get_state() == _cut(flow.get_state(), len(preview.messages))
    assert sum(reads) < entry.ref.raw_length // 4


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_first_message_longer_than_the_head_read_is_previewed_whole(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtui.io import lazy

    monkeypatch.setattr(lazy, "HEAD_READ", 16 << 10)
    flow = _long_flow(3, 40_000)
    path = tmp_path / f"long.{fmt}"
    save_flows(path, [flow], format=fmt)
    (entry,) = _index(path)
    preview = entry.ref.load_head(100, 1)
    assert preview is not None and preview.get_state() == _cut(flow.get_state(), 1)


def test_a_big_mitmproxy_record_with_messages_last_is_previewed_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # mitmproxy writes `messages` first; another writer may not: then the record is
    # read whole, and the preview is the same.
    from flowtui.io import lazy

    monkeypatch.setattr(lazy, "HEAD_READ", 16 << 10)
    flow = _long_flow(400, 500)
    state = flow.get_state()
    path = tmp_path / "last.flows"
    path.write_bytes(tnetstring.dumps({"messages": state["messages"], **state}))  # written last
    (entry,) = _index(path)
    preview = entry.ref.load_head(5, 1 << 20)
    assert preview is not None and preview.get_state() == _cut(state, 5)


def test_a_big_flowtui_records_preview_skips_the_checksum_that_opening_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The checksum covers the whole record: a preview that reads only its start cannot
    # check it; the whole decode that follows every preview does, and says so.
    from flowtui.io import lazy

    monkeypatch.setattr(lazy, "HEAD_READ", 16 << 10)
    flow = _long_flow(400, 500)
    path = tmp_path / "long.flowtui"
    save_flows(path, [flow], format="flowtui")
    data = bytearray(path.read_bytes())
    data[-2000] ^= 0x01  # inside a late message, far past the head read
    path.write_bytes(bytes(data))
    (entry,) = _index(path)
    preview = entry.ref.load_head(4, 1 << 20)
    assert preview is not None and preview.get_state() == _cut(flow.get_state(), 4)
    with pytest.raises(Exception, match="checksum"):
        entry.ref.load()


def whole_body(flow: HTTPFlow, side: str) -> bytes:
    message = flow.request if side == "request" else flow.response
    assert message is not None and message.raw_content is not None
    return message.raw_content


def _big_http_flow(body: int) -> HTTPFlow:
    flow = next(
        f
        for f in read_flows(ROOT / "tests" / "data" / "mitmproxy-11" / "http_bodies.flows")
        if isinstance(f, HTTPFlow) and f.response is not None and f.websocket is None
    )
    assert flow.response is not None
    flow.response.headers["content-encoding"] = "identity"
    flow.response.raw_content = bytes(range(256)) * (body // 256)
    flow.request.raw_content = b"q" * (body // 2)
    return flow


def test_a_big_http_records_preview_reads_the_head_of_each_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtui.io import lazy

    flow = _big_http_flow(3 << 20)  # 3 MB response, 1.5 MB request body
    path = tmp_path / "big-http.flows"
    save_flows(path, [flow], format="mitmproxy")
    (entry,) = _index(path)
    assert entry.summary.response_size == 3 << 20 and entry.summary.request_size == 3 << 19
    reads = _reads(monkeypatch)
    preview = entry.ref.load_head(PREVIEW_MESSAGES, 1 << 20)
    assert isinstance(preview, HTTPFlow) and preview.response is not None
    head = lazy.HEAD_READ
    body, upload = whole_body(flow, "response"), whole_body(flow, "request")
    assert preview.response.raw_content == body[:head]
    assert preview.request.raw_content == upload[:head]
    state, whole = preview.get_state(), flow.get_state()
    for key in ("request", "response"):
        state[key]["content"] = whole[key]["content"]
    assert state == whole  # everything else exactly as decoding the record gives it
    assert sum(reads) < 2 * head + (64 << 10) * 4  # the heads, not the 4.5 MB


def test_tnetstring_capped_loads_cuts_only_long_byte_strings() -> None:
    value = {"a": b"x" * 100_000, "b": [b"y" * 10, "t", 1, None, {"c": b"z" * 70_000}]}
    data = tnetstring.dumps(value)
    reads: list[int] = []

    def read(at: int, length: int) -> bytes:
        reads.append(length)
        return data[at : at + length]

    capped = tnetstring.loads_capped(read, len(data), 1000)
    assert capped == {"a": b"x" * 1000, "b": [b"y" * 10, "t", 1, None, {"c": b"z" * 1000}]}
    assert sum(reads) < 10_000
    assert tnetstring.loads_capped(read, len(data), 1 << 20) == value
    with pytest.raises(tnetstring.TNetStringError):
        tnetstring.loads_capped(read, len(data) + 5, 1000)


# -- flowtui's format: capped msgpack states ------------------------------------------


def _capped_of(data: bytes, cap: int, kind: str | None = None) -> tuple[Any, list[int]]:
    """`decode_state_capped` over `data`, and the lengths it read."""
    reads: list[int] = []

    def read(at: int, length: int) -> bytes:
        assert at >= 0 and at + length <= len(data)  # never past the state
        reads.append(length)
        return data[at : at + length]

    return native_format.decode_state_capped(read, len(data), cap, kind=kind), reads


def _cut_strings(value: Any, cap: int) -> Any:
    """`value` with every bytes longer than `cap` cut to `cap` bytes, every str to the
    whole characters in its first `cap` UTF-8 bytes: what a capped decode must give."""
    if isinstance(value, bytes):
        return value[:cap]
    if isinstance(value, str):
        data = value.encode()
        return value if len(data) <= cap else data[:cap].decode(errors="ignore")
    if isinstance(value, list):
        return [_cut_strings(v, cap) for v in value]
    if isinstance(value, dict):
        return {_cut_strings(k, cap): _cut_strings(v, cap) for k, v in value.items()}
    return value


def _states_of(path: Path) -> list[bytes]:
    """The msgpack state bytes of every record of a flowtui capture."""
    out = []
    for entry in _index(path):
        ref = entry.ref
        out.append(ref.file.read(ref.state_offset, ref.state_length))
    return out


def test_a_big_flowtui_http_records_preview_reads_the_head_of_each_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtui.io import lazy

    flow = _big_http_flow(20 << 20)  # 20 MB response, 10 MB request body
    path = tmp_path / "big-http.flowtui"
    save_flows(path, [flow], format="flowtui")
    (entry,) = _index(path)
    assert entry.ref.raw_length > 30 << 20
    reads = _reads(monkeypatch)
    preview = entry.ref.load_head(PREVIEW_MESSAGES, 1 << 20)
    assert isinstance(preview, HTTPFlow) and preview.response is not None
    head = lazy.HEAD_READ
    body, upload = whole_body(flow, "response"), whole_body(flow, "request")
    assert preview.response.raw_content == body[:head]
    assert preview.request.raw_content == upload[:head]
    assert sum(reads) < 2 * head + (64 << 10) * 4  # the heads, not the 30 MB
    loaded = entry.ref.load()  # the whole flow, checksum checked
    state, whole = preview.get_state(), loaded.get_state()
    assert whole == flow.get_state()
    for key in ("request", "response"):
        state[key]["content"] = whole[key]["content"]
    assert state == whole  # everything else exactly as decoding the record gives it


def test_a_flowtui_http_preview_with_a_smaller_head_read_cuts_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtui.io import lazy

    monkeypatch.setattr(lazy, "HEAD_READ", 16 << 10)
    flow = _big_http_flow(1 << 20)
    path = tmp_path / "big-http.flowtui"
    save_flows(path, [flow], format="flowtui")
    (entry,) = _index(path)
    reads = _reads(monkeypatch)
    preview = entry.ref.load_head(PREVIEW_MESSAGES, 1 << 20)
    assert isinstance(preview, HTTPFlow) and preview.response is not None
    assert preview.response.raw_content == whole_body(flow, "response")[: 16 << 10]
    assert preview.request.raw_content == whole_body(flow, "request")[: 16 << 10]
    assert sum(reads) < 200 << 10  # of 1.5 MB


def test_a_big_flowtui_http_preview_skips_the_checksum_that_opening_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtui.io import lazy

    monkeypatch.setattr(lazy, "HEAD_READ", 16 << 10)
    flow = _big_http_flow(1 << 20)
    path = tmp_path / "big-http.flowtui"
    save_flows(path, [flow], format="flowtui")
    data = bytearray(path.read_bytes())
    at = data.index(bytes(range(256)) * 4) + 500_000  # deep inside the response body
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    (entry,) = _index(path)
    preview = entry.ref.load_head(PREVIEW_MESSAGES, 1 << 20)
    assert isinstance(preview, HTTPFlow) and preview.response is not None
    assert preview.response.raw_content == whole_body(flow, "response")[: 16 << 10]
    with pytest.raises(Exception, match="checksum"):
        entry.ref.load()


def test_a_flowtui_preview_of_a_capture_cut_short_on_disk_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtui.io import lazy

    monkeypatch.setattr(lazy, "HEAD_READ", 16 << 10)
    path = tmp_path / "big-http.flowtui"
    save_flows(path, [_big_http_flow(1 << 20)], format="flowtui")
    (entry,) = _index(path)
    data = path.read_bytes()
    for size in (len(data) - 10, 100_000, 1000, 40):
        path.write_bytes(data[:size])  # the file changed under the index
        assert entry.ref.load_head(PREVIEW_MESSAGES, 1 << 20) is None
        assert entry.ref.load_capped(16 << 10, "http") is None


@pytest.mark.parametrize("capture", CAPTURES, ids=[f"{p.parent.name}/{p.name}" for p in CAPTURES])
def test_capped_msgpack_states_equal_the_whole_decode(capture: Path, tmp_path: Path) -> None:
    path = tmp_path / "capture.flowtui"
    save_flows(path, read_flows(capture), format="flowtui")
    http = 0
    for entry, state in zip(_index(path), _states_of(path), strict=True):
        whole = native_format.decode_state(state)
        assert _capped_of(state, 1 << 30)[0] == whole
        for cap in (0, 1, 3, 40):
            assert _capped_of(state, cap)[0] == _cut_strings(whole, cap)
        if whole.get("type") == "http":
            http += 1
            preview = entry.ref.load_capped(1 << 30, "http")
            assert preview is not None
            assert preview.get_state() == entry.ref.load().get_state()
        else:
            with pytest.raises(RecordDecodeError, match="not a http flow"):
                _capped_of(state, 1 << 30, "http")
            assert entry.ref.load_capped(1 << 30, "http") is None
    if "http" in capture.name or "mixed" in capture.name:
        assert http


def test_a_capped_decode_stops_at_the_type_it_was_not_asked_for() -> None:
    state = msgpack.packb(
        {"version": 21, "type": "tcp", "messages": [[True, b"x" * 1000, 1.0]] * 1000}
    )
    with pytest.raises(RecordDecodeError, match="not a http flow"):
        _capped_of(state, 10, "http")
    reads: list[int] = []

    def read(at: int, length: int) -> bytes:
        reads.append(length)
        return state[at : at + length]

    with pytest.raises(RecordDecodeError):
        native_format.decode_state_capped(read, len(state), 10, kind="http")
    assert sum(reads) <= 4096  # one small read, not the megabyte


def test_capped_msgpack_handles_every_type_the_writer_writes() -> None:
    value = {
        "ints": [0, 1, 127, 128, 255, 256, 65535, 65536, (1 << 32) - 1, 1 << 32, (1 << 64) - 1],
        "negative": [-1, -32, -33, -128, -129, -32768, -32769, -(1 << 31) - 1, -(1 << 63)],
        "big": [1 << 64, -(1 << 63) - 1, 10**40],
        "floats": [0.0, -1.5, 1e300],
        "consts": [None, True, False],
        "bytes": [b"", b"a" * 31, b"b" * 255, b"c" * 256, b"d" * 70_000],
        "text": ["", "é" * 16, "x" * 31, "y" * 255, "z" * 70_000, "ü€𝄞" * 30_000],
        "maps": [{}, {i: i for i in range(16)}, {str(i): i for i in range(70_000)}],
        "lists": [[], list(range(15)), list(range(16)), list(range(70_000))],
        b"bytes key": {1: {None: [[[]]]}},
    }
    stream = io.BytesIO()
    writer = native_format.NativeStateWriter(stream, header=False)
    writer.add_state(value)
    record = stream.getvalue()
    state = record[native_format.RECORD_HEADER_SIZE :]
    whole = native_format.decode_framed(record)
    assert whole == value
    assert _capped_of(state, 1 << 30)[0] == whole
    for cap in (0, 1, 2, 5, 100, 300, 65536):
        assert _capped_of(state, cap)[0] == _cut_strings(whole, cap)
    ext = msgpack.packb([msgpack.ExtType(5, b"abc"), msgpack.ExtType(1, b"12")])
    assert _capped_of(ext, 1)[0] == [msgpack.ExtType(5, b"abc"), 12]  # as decode_state
    assert native_format.decode_state(ext) == [msgpack.ExtType(5, b"abc"), 12]
    f32 = b"\xca" + struct.pack(">f", 1.25)
    assert _capped_of(f32, 1)[0] == native_format.decode_state(f32) == 1.25


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "runs past the end"),
        (b"\xc6\xff\xff\xff\xffxyz", "runs past the end"),  # bin of 4 GB in 8 bytes
        (b"\xdb\xff\xff\xff\xffxyz", "runs past the end"),
        (b"\xc9\xff\xff\xff\xff\x01xy", "runs past the end"),  # ext
        (b"\xdf\xff\xff\xff\xff\x01\x02", "runs past the end"),  # map of 4 G items
        (b"\xdd\xff\xff\xff\xff\x01\x02", "runs past the end"),  # array
        (b"\x92\x01", "runs past the end"),  # an item missing
        (b"\xcb\x00\x00", "runs past the end"),  # a float cut
        (b"\xc1", "unknown msgpack type"),
        (b"\x91" * 300 + b"\xc0", "nested deeper"),
        (b"\x81" * 300 + b"\xc0" * 301, "nested deeper"),
        (b"\x81\x90\x01", "unhashable"),  # a list as a map key
        (b"\xa2\xff\xfe", "utf-8"),
        (b"\xc7\x02\x01x1", "invalid big integer"),
        (b"\x01\x02", "extra data"),
    ],
)
def test_hostile_msgpack_states_raise_a_clean_error(data: bytes, reason: str) -> None:
    for cap in (1, 1 << 20):
        with pytest.raises(RecordDecodeError, match=reason):
            _capped_of(data, cap)


def test_the_nesting_limit_is_decode_states() -> None:
    deepest = b"\x91" * 255 + b"\x90"  # 256 levels: both read it
    assert _capped_of(deepest, 1)[0] == native_format.decode_state(deepest)
    deeper = b"\x91" + deepest
    with pytest.raises(RecordDecodeError, match="nested"):
        native_format.decode_state(deeper)
    with pytest.raises(RecordDecodeError, match="nested"):
        _capped_of(deeper, 1)


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(1 << 70), max_value=1 << 70)
    | st.floats(allow_nan=False)
    | st.binary(max_size=40)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.text(max_size=5) | st.integers() | st.binary(max_size=5), inner, max_size=5
        )
    ),
    max_leaves=30,
)


def _packed(value: Any) -> bytes:
    stream = io.BytesIO()
    native_format.NativeStateWriter(stream, header=False).add_state(value)
    state: bytes = stream.getvalue()[native_format.RECORD_HEADER_SIZE :]
    return state


@settings(max_examples=200, deadline=None)
@given(_values, st.integers(min_value=0, max_value=50))
def test_capped_msgpack_is_the_whole_decode_cut(value: Any, cap: int) -> None:
    data = _packed(value)
    whole = native_format.decode_state(data)
    assert _capped_of(data, 1 << 30)[0] == whole
    assert _capped_of(data, cap)[0] == _cut_strings(whole, cap)


@settings(max_examples=300, deadline=None)
@given(_values, st.data())
def test_damaged_msgpack_states_decode_as_the_whole_decode_does_or_fail_cleanly(
    value: Any, data: st.DataObject
) -> None:
    state = bytearray(_packed(value))
    how = data.draw(st.sampled_from(["cut", "flip", "insert", "set"]))
    at = data.draw(st.integers(min_value=0, max_value=len(state)))
    if how == "cut":
        del state[at:]
    elif how == "insert":
        state[at:at] = data.draw(st.binary(min_size=1, max_size=6))
    elif at < len(state):
        byte = data.draw(st.integers(0, 255)) if how == "set" else state[at] ^ 0x80
        state[at] = byte
    damaged = bytes(state)
    try:
        whole: Any = repr(native_format.decode_state(damaged))
    except RecordDecodeError:
        whole = RecordDecodeError
    try:
        capped: Any = repr(_capped_of(damaged, 1 << 30)[0])
    except RecordDecodeError:
        capped = RecordDecodeError
    assert capped == whole  # reads as the whole decode does, or fails cleanly as it does
    with contextlib.suppress(RecordDecodeError):  # the cut decode fails cleanly too, or reads
        _capped_of(damaged, 3)


@pytest.mark.parametrize("fmt", ["mitmproxy", "flowtui"])
def test_the_store_previews_a_big_http_flow_with_its_bodies_cut(tmp_path: Path, fmt: str) -> None:
    """What the detail panes ask for when a big HTTP flow is focused: the store hands
    out the flow with each body cut to its head (it refused every flow without messages
    before), and opening it still decodes the whole."""
    from flowtui.io import lazy

    flow = _big_http_flow(3 << 20)
    path = tmp_path / f"big-http.{fmt}"
    save_flows(path, [flow], format=fmt)  # type: ignore[arg-type]
    store = FlowStore()
    store.add_lazy((e.id, e.summary, e.ref) for e in _index(path))
    preview = store.preview(flow.id)
    assert isinstance(preview, HTTPFlow) and preview.response is not None
    assert preview.response.raw_content == whole_body(flow, "response")[: lazy.HEAD_READ]
    whole = store.get(flow.id)
    assert isinstance(whole, HTTPFlow) and whole is not preview
    assert whole.response is not None
    assert whole.response.raw_content == whole_body(flow, "response")
