"""Previews of big message flows: the first messages and every other field, decoded
without the rest of the record, must be exactly the whole flow cut short."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowtui.core import HTTPFlow, TCPFlow, TCPMessage
from flowtui.core.messages import MessageFlow
from flowtui.io import read_flows, save_flows, tnetstring
from flowtui.io.lazy import CaptureIndexer, IndexEntry
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
