"""Damaged input: a FlowReadException naming file, byte and flow, after every good flow."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from truth import DATA, as_lists

from flowtui.io import FlowReader, FlowReadException, NativeFlowWriter, read_flows, tnetstring
from flowtui.io.native_format import HEADER_SIZE, MAGIC, RECORD_HEADER_SIZE

CAPTURE = DATA / "kill_intercept_mark.flows"  # 4 small TCP flows


def record_offsets(data: bytes) -> list[int]:
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        _, pos = tnetstring.parse_at(data, pos, len(data))
    return offsets


def read_until_error(data: bytes, name: str = "bad.flows") -> tuple[int, FlowReadException]:
    got = []
    with pytest.raises(FlowReadException) as info:
        got.extend(FlowReader(io.BytesIO(data), name=name).stream())
    return len(got), info.value


def native_bytes() -> bytes:
    buf = io.BytesIO()
    writer = NativeFlowWriter(buf)
    for flow in read_flows(CAPTURE):
        writer.add(flow)
    return buf.getvalue()


def native_offsets(data: bytes) -> list[int]:
    meta_len = struct.unpack(">I", data[16:20])[0]
    pos, offsets = HEADER_SIZE + meta_len, []
    while pos < len(data):
        offsets.append(pos)
        s_len, st_len = struct.unpack(">II", data[pos + 4 : pos + 12])
        pos += RECORD_HEADER_SIZE + s_len + st_len
    return offsets


# ---- mitmproxy format


def test_truncated_at_every_record_boundary_and_inside() -> None:
    data = CAPTURE.read_bytes()
    offsets = record_offsets(data)
    for i, start in enumerate(offsets):
        end = offsets[i + 1] if i + 1 < len(offsets) else len(data)
        for cut in (start + 1, start + 3, start + 5, (start + end) // 2, end - 1):
            n, e = read_until_error(data[:cut])
            assert n == i
            assert (e.path, e.index, e.offset) == ("bad.flows", i, start)
            assert "truncated record" in e.reason
            assert str(e).startswith(f"bad.flows: flow #{i} at byte {start}: truncated record")
        if i:  # a cut exactly between records is a clean, shorter capture
            assert len(read_flows_bytes(data[:start])) == i


def read_flows_bytes(data: bytes) -> list:
    return list(FlowReader(io.BytesIO(data)).stream())


def test_truncated_message_format() -> None:
    data = CAPTURE.read_bytes()
    second = record_offsets(data)[1]
    n, e = read_until_error(data[: second + 600])
    length = int(data[second : data.index(b":", second)])
    prefix = len(str(length)) + 1
    assert e.reason == f"truncated record (needs {length + 1} bytes, {600 - prefix} left)"
    assert n == 1


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (b"0123:abc}", "leading zero"),
        (b"1234567890123:", "longer than 12 digits"),
        (b"xyz", "not a tnetstring record"),
        (b"3:abc]", "record is a list, not a flow dict"),
        (b"3:abc,", "record is bytes, not a flow dict"),
        (b"1:1#", "record is an integer, not a flow dict"),
        (b"3:abc?", "invalid type tag"),
        (b"6:1:a;1:b}", "invalid type tag"),
        (b"9:3:abc;1:b}", "corrupt record"),
        (b"4:\x00\x00\x00\x00}", "corrupt record"),
    ],
)
def test_garbage_after_good_flows(garbage: bytes, reason: str) -> None:
    data = CAPTURE.read_bytes()
    n, e = read_until_error(data + garbage + data)
    assert n == 4
    assert e.index == 4
    assert reason in e.reason
    assert e.offset is not None and e.offset >= len(data)


def test_corruption_inside_a_record_points_into_it() -> None:
    data = bytearray(CAPTURE.read_bytes())
    second = record_offsets(bytes(data))[1]
    at = data.index(b"8:messages;", second) + 2  # break the key's type tag
    data[at + 8] = ord("?")
    n, e = read_until_error(bytes(data))
    assert n == 1
    assert e.index == 1
    assert e.offset is not None and second < e.offset < second + 400
    assert "unknown type tag" in e.reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"log": {"entries": {}}}', "not a HAR file: log.entries: expected list"),
        (b'\xef\xbb\xbf{"log": {}}', 'not a HAR file: log: no "entries"'),
        (b"[1, 2]", "looks like JSON"),
        (b"\x1f\x8b\x08\x00rest", "gzip"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "pcap"),
        (b"hello world\n", "not a capture file"),
        (b"\x00\x01\x02", "not a capture file"),
    ],
)
def test_not_a_capture(content: bytes, reason: str) -> None:
    n, e = read_until_error(content, name="other.bin")
    assert n == 0
    assert reason in e.reason
    assert e.path == "other.bin" and e.offset == 0


def test_empty_file_is_an_empty_capture(tmp_path: Path) -> None:
    empty = tmp_path / "empty.flows"
    empty.write_bytes(b"")
    assert read_flows(empty) == []


def test_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "cut.flows"
    path.write_bytes(CAPTURE.read_bytes()[:-10])
    with path.open("rb") as f, pytest.raises(FlowReadException) as info:
        list(FlowReader(f).stream())
    assert info.value.path == str(path)
    assert info.value.index == 3


def test_unreadable_path() -> None:
    with pytest.raises(FlowReadException, match="cannot open"):
        read_flows("/nonexistent/x.flows")


def test_records_with_unknown_type_or_bad_fields_are_kept() -> None:
    good = as_lists(read_flows(CAPTURE)[0].get_state())
    odd_type = dict(good, type="quic-future")
    extra_key = dict(good, surprise=1)
    data = b"".join(tnetstring.dumps(s) for s in (odd_type, good, extra_key))
    flows = read_flows_bytes(data)
    assert [type(f).__name__ for f in flows] == ["UnknownFlow", "TCPFlow", "UnknownFlow"]
    assert flows[0].get_state() == odd_type
    assert flows[2].get_state() == extra_key
    assert "quic-future" in flows[0].reason
    out = io.BytesIO()
    from flowtui.io import FlowWriter

    for f in flows:
        FlowWriter(out).add(f)
    assert [as_lists(f.get_state()) for f in read_flows_bytes(out.getvalue())] == [
        odd_type,
        as_lists(flows[1].get_state()),
        extra_key,
    ]


# ---- flowtui format


def test_native_truncated_everywhere() -> None:
    data = native_bytes()
    offsets = native_offsets(data)
    assert len(offsets) == 4
    for i, start in enumerate(offsets):
        end = offsets[i + 1] if i + 1 < len(offsets) else len(data)
        for cut in (start + 1, start + RECORD_HEADER_SIZE + 2, (start + end) // 2, end - 1):
            n, e = read_until_error(data[:cut], name="bad.flowtui")
            assert n == i
            assert (e.index, e.offset) == (i, start)
            assert e.reason.startswith("truncated record")
            assert str(e).startswith(f"bad.flowtui: flow #{i} at byte {start}: truncated")


@pytest.mark.parametrize("cut", [3, 12, 17, 21])
def test_native_truncated_header(cut: int) -> None:
    n, e = read_until_error(native_bytes()[:cut])
    assert n == 0
    assert "truncated flowtui header" in e.reason
    assert e.offset == 0


def test_native_bad_magic_and_versions() -> None:
    data = native_bytes()
    n, e = read_until_error(MAGIC[:-1] + b"X" + data[len(MAGIC) :])
    assert "not a capture file" in e.reason or "bad magic" in e.reason
    newer = data[:12] + struct.pack(">HH", 2, 0) + data[16:]
    n, e = read_until_error(newer, name="new.flowtui")
    assert n == 0
    assert e.reason == (
        "written by a newer flowtui: flowtui format version 2.0, this flowtui reads 1.x (up to 1.1)"
    )
    minor = data[:12] + struct.pack(">HH", 1, 7) + data[16:]
    assert len(read_flows_bytes(minor)) == 4  # a newer minor version only adds optional things


def test_native_corrupt_record_is_detected_by_checksum() -> None:
    data = bytearray(native_bytes())
    offsets = native_offsets(bytes(data))
    data[offsets[2] + RECORD_HEADER_SIZE + 40] ^= 0xFF
    n, e = read_until_error(bytes(data))
    assert (n, e.index, e.offset) == (2, 2, offsets[2])
    assert "checksum" in e.reason


def test_native_garbage_between_records() -> None:
    data = native_bytes()
    offsets = native_offsets(data)
    broken = data[: offsets[1]] + b"JUNKJUNKJUNKJUNKJUNK" + data[offsets[1] :]
    n, e = read_until_error(broken)
    assert (n, e.index, e.offset) == (1, 1, offsets[1])
    assert "expected a record marker" in e.reason


def test_native_unknown_flags_and_kinds() -> None:
    data = bytearray(native_bytes())
    offsets = native_offsets(bytes(data))
    flagged = bytearray(data)
    flagged[offsets[1] + 3] = 0x01
    n, e = read_until_error(bytes(flagged))
    assert n == 1 and "unsupported features" in e.reason
    kind = bytearray(data)
    kind[offsets[1] + 2] = 0x7F  # an unknown record kind is skipped
    assert len(read_flows_bytes(bytes(kind))) == 3


def test_native_non_dict_state_and_bad_msgpack() -> None:
    from flowtui.io.native_format import NativeStateWriter

    buf = io.BytesIO()
    w = NativeStateWriter(buf)
    w.add_state(read_flows(CAPTURE)[0].get_state())
    w.add_state([1, 2, 3])
    n, e = read_until_error(buf.getvalue())
    assert n == 1 and e.index == 1 and "not a flow dict" in e.reason
