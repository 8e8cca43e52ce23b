"""One bad record costs that record alone (issue #11, items 3-6).

Each capture here is a real mitmproxy 11 capture with one field of one record changed
(written with flowtui's tnetstring encoder, or flowtui's own record writer), then read
through the public surface: `read_flows`, the CLI, the index the UI lists from.
"""

from __future__ import annotations

import copy
import io
import math
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import pytest

from flowtui.core import DNSFlow, TCPFlow, UnknownFlow
from flowtui.core.summary import summarize
from flowtui.io import FlowReader, FlowReadException, read_flows, save_flows, tnetstring
from flowtui.io.lazy import CaptureIndexer
from flowtui.io.native_format import NativeStateWriter, encode_header
from flowtui.io.summary import index_entry
from flowtui.ui.widgets.flow_columns import COLUMNS, format_duration

ROOT = Path(__file__).resolve().parent.parent.parent
MIXED = ROOT / "tests/data/mitmproxy-11/mixed_protocols.flows"
"""12 flows: http, tcp, http, dns, dns, tcp, http x4, udp, udp."""


def _states() -> list[dict[str, Any]]:
    with MIXED.open("rb") as f:
        return [tnetstring.loads(r.payload) for r in FlowReader(f).records()]


def _capture(path: Path, change: Callable[[list[dict[str, Any]]], None]) -> Path:
    """mixed_protocols.flows with `change` applied to its record states."""
    states = _states()
    change(states)
    path.write_bytes(b"".join(tnetstring.dumps(s) for s in states))
    return path


def _flowtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


# --------------------------------------------------------------------------- item 3


def _odd_times(states: list[dict[str, Any]]) -> None:
    tcp = states[1]
    tcp["server_conn"]["timestamp_end"] = math.nan
    tcp["messages"][-1][2] = math.inf
    other = states[5]
    other["client_conn"]["timestamp_start"] = -math.inf
    other["server_conn"]["timestamp_end"] = math.nan


def test_nan_and_infinite_timestamps_are_kept_and_shown_as_unknown(tmp_path: Path) -> None:
    """mitmproxy 11 reads such a capture; flowtui reads every flow, keeps the values
    and lists them with no time (the list's duration column used to raise)."""
    path = _capture(tmp_path / "nan.flows", _odd_times)
    flows = read_flows(path)
    assert [type(f) for f in flows].count(TCPFlow) == 2 and len(flows) == 12
    assert math.isnan(flows[1].server_conn.timestamp_end or 0.0)
    assert flows[1].messages[-1].timestamp == math.inf
    for flow in flows:
        s = summarize(flow)
        assert s.duration is None or math.isfinite(s.duration)
        cells = [col.cell(s, 1, None) for col in COLUMNS]
        assert all(isinstance(c, str) for c in cells)
    assert summarize(flows[5]).start is None
    assert [format_duration(x) for x in (math.nan, math.inf, -math.inf)] == ["?"] * 3

    mitmproxy_io = pytest.importorskip("mitmproxy.io")
    with path.open("rb") as f:
        theirs = list(mitmproxy_io.FlowReader(f).stream())
    assert len(theirs) == 12 and math.isnan(theirs[1].server_conn.timestamp_end)


# --------------------------------------------------------------------------- item 4

WRONG_TYPES: dict[str, Callable[[dict[str, Any]], None]] = {
    "port inf": lambda s: s["server_conn"].__setitem__("address", ["example.com", math.inf]),
    "port nan": lambda s: s["server_conn"].__setitem__("address", ["example.com", math.nan]),
    "tls_version []": lambda s: s["client_conn"].__setitem__("tls_version", []),
    "transport {}": lambda s: s["server_conn"].__setitem__("transport_protocol", {}),
    "timestamp 2**2000": lambda s: s["client_conn"].__setitem__("timestamp_start", 2**2000),
    "via [[]]": lambda s: s["server_conn"].__setitem__("via", [["http"], ["h", 1]]),
}


@pytest.mark.parametrize("name", sorted(WRONG_TYPES))
def test_a_wrong_typed_field_makes_that_record_unreadable_only(name: str, tmp_path: Path) -> None:
    path = _capture(tmp_path / "bad.flows", lambda states: WRONG_TYPES[name](states[1]))
    flows = read_flows(path)
    assert len(flows) == 12
    bad = flows[1]
    assert isinstance(bad, UnknownFlow) and bad.reason
    assert bad.location.startswith(f"{path}: flow #1 at byte ")
    assert [type(f).__name__ for f in flows[2:]] == [type(f).__name__ for f in read_flows(MIXED)][
        2:
    ]
    index = CaptureIndexer(path, workers=1)
    entries = list(index.entries())
    assert len(entries) == 12  # every later flow is listed too
    assert isinstance(entries[1].ref.load(), UnknownFlow)


def test_dump_and_convert_go_on_past_an_unreadable_record(tmp_path: Path) -> None:
    """Exit status 1 (a data error) and one summary line on stderr; every flow printed or
    written, the unreadable one kept byte for byte."""
    path = _capture(tmp_path / "bad.flows", lambda s: WRONG_TYPES["tls_version []"](s[1]))
    offset = len(tnetstring.dumps(_states()[0]))

    dump = _flowtui("dump", str(path))
    assert dump.returncode == 1 and "Traceback" not in dump.stderr
    from flowtui.cli import format_flow_lines  # HTTP flows print as mitmdump's lines

    flows = read_flows(path)
    assert len(flows) == 12
    assert dump.stdout.splitlines() == [
        line for n, flow in enumerate(flows, 1) for line in format_flow_lines(n, flow)
    ]
    assert dump.stderr.strip().splitlines() == [
        f"flowtui: 1 of 12 flows unreadable: {path}: flow #1 at byte {offset}: "
        "Invalid value for tls_version: [] does not match any literal value."
    ]

    for out, fmt in (("out.flows", "mitmproxy"), ("out.capture", "flowtui")):
        conv = _flowtui("convert", str(path), str(tmp_path / out), "--format", fmt)
        assert conv.returncode == 1 and "Traceback" not in conv.stderr
        last = conv.stderr.strip().splitlines()[-1]
        assert last.startswith(
            f"flowtui: 1 of 12 flows unreadable (kept as they were): {path}: flow #1 at byte"
        )
        again = read_flows(tmp_path / out)
        assert len(again) == 12 and isinstance(again[1], UnknownFlow)
    assert _record(tmp_path / "out.flows", 1) == _record(path, 1)


def _record(path: Path, index: int) -> bytes:
    """The bytes of one record of a mitmproxy capture."""
    with path.open("rb") as f:
        return [r.payload for r in FlowReader(f).records()][index]


def test_dump_of_a_good_capture_still_exits_zero() -> None:
    assert _flowtui("dump", str(MIXED)).returncode == 0


# --------------------------------------------------------------------------- item 5


def test_dns_questions_that_are_not_a_list(tmp_path: Path) -> None:
    """A DNS record the model refuses (mitmproxy cannot read it either) is unreadable:
    listed, indexed, and converted byte for byte, while the other 11 flows still read."""
    path = _capture(tmp_path / "dns.flows", lambda s: s[3]["request"].__setitem__("questions", 5))
    flows = read_flows(path)
    assert len(flows) == 12 and isinstance(flows[3], UnknownFlow)
    assert flows[3].raw_type == "dns" and "questions" in flows[3].reason
    assert isinstance(flows[4], DNSFlow)
    assert summarize(flows[3]).detail.startswith("unreadable dns")
    entries = list(CaptureIndexer(path, workers=1).entries())
    assert len(entries) == 12
    conv = _flowtui("convert", str(path), str(tmp_path / "out.capture"))
    assert conv.returncode == 1 and "1 of 12 flows unreadable" in conv.stderr
    back = _flowtui("convert", str(tmp_path / "out.capture"), str(tmp_path / "back.flows"))
    assert back.returncode == 1
    assert _record(tmp_path / "back.flows", 3) == _record(path, 3)
    assert [f.get_state() for f in read_flows(tmp_path / "out.capture")] == [
        f.get_state() for f in flows
    ]


# --------------------------------------------------------------------------- item 6


def test_integers_beyond_64_bits_convert_to_flowtui_format_and_back(tmp_path: Path) -> None:
    def change(states: list[dict[str, Any]]) -> None:
        states[1]["metadata"] = {"big": 2**70, "small": -(2**80), "list": [2**64]}
        states[5]["server_conn"]["address"] = ["example.com", 2**70]  # mitmproxy reads it
        states[5]["client_conn"]["tls_version"] = [2**70]  # unreadable

    path = _capture(tmp_path / "big.flows", change)
    conv = _flowtui("convert", str(path), str(tmp_path / "out.capture"))
    assert conv.returncode == 1 and "1 of 12 flows unreadable" in conv.stderr
    assert "Traceback" not in conv.stderr
    flows = read_flows(tmp_path / "out.capture")
    assert flows[1].metadata == {"big": 2**70, "small": -(2**80), "list": [2**64]}
    assert isinstance(flows[5], UnknownFlow)
    assert flows[5].raw_state["client_conn"]["tls_version"] == [2**70]
    back = _flowtui("convert", str(tmp_path / "out.capture"), str(tmp_path / "back.flows"))
    assert back.returncode == 1
    assert _record(tmp_path / "back.flows", 5) == _record(path, 5)
    assert [f.get_state() for f in read_flows(tmp_path / "back.flows")][:5] == [
        f.get_state() for f in read_flows(path)
    ][:5]


def _native_record(state: bytes, summary: bytes = b"") -> bytes:
    crc = zlib.crc32(state, zlib.crc32(summary))
    return struct.pack(">2sBBIII", b"FR", 1, 0, len(summary), len(state), crc) + summary + state


@pytest.mark.parametrize("depth", [900, 200_000])
def test_deep_nesting_is_an_error_with_a_reason(depth: int, tmp_path: Path) -> None:
    """In both formats: a FlowReadException that says why, after the flows before it."""
    tcp = _states()[1]
    mark = msgpack.packb("PLACEHOLDER")
    state = msgpack.packb({**tcp, "metadata": {"x": "PLACEHOLDER"}}, use_bin_type=True)
    state = state.replace(mark, b"\x91" * depth + b"\x90")
    good = msgpack.packb(_states()[5], use_bin_type=True)
    native = tmp_path / "deep.capture"
    native.write_bytes(encode_header({}) + _native_record(good) + _native_record(state))
    with native.open("rb") as f, pytest.raises(FlowReadException) as e:
        list(FlowReader(f, name=str(native)).stream())
    assert "nested" in e.value.reason and e.value.index == 1

    sizes = [3]  # a list `depth` deep, built without copying the inside at every level
    for _ in range(depth):
        sizes.append(len(str(sizes[-1])) + sizes[-1] + 2)
    inner = b"".join(b"%d:" % n for n in reversed(sizes[:-1])) + b"0:]" + b"]" * depth
    body = tnetstring.dumps({**tcp, "deep": "PLACEHOLDER"}).split(b":", 1)[1]
    body = body.replace(b"11:PLACEHOLDER;", inner)
    mitm = tmp_path / "deep.flows"
    mitm.write_bytes(tnetstring.dumps(_states()[5]) + b"%d:%s" % (len(body) - 1, body))
    with mitm.open("rb") as f, pytest.raises(FlowReadException) as e:
        list(FlowReader(f, name=str(mitm)).stream())
    assert "nested" in e.value.reason and e.value.index == 1


def test_a_summary_too_big_to_store_is_left_out(tmp_path: Path) -> None:
    """A flow whose summary would pass the readers' 1 MB bound saves without it: the
    saved capture reads back (it used to be refused as implausibly large)."""
    flows = read_flows(MIXED)
    flows[1].client_conn.sni = "x" * 2_000_000
    save_flows(tmp_path / "out.capture", flows, format="flowtui")
    again = read_flows(tmp_path / "out.capture")
    assert [f.get_state() for f in again] == [f.get_state() for f in flows]


def test_records_without_a_stored_summary_open_from_the_index(tmp_path: Path) -> None:
    """The index decodes such a record to list it; opening it later read the wrong bytes
    ("record framing changed")."""
    out = io.BytesIO()
    writer = NativeStateWriter(out, meta={})
    flows = read_flows(MIXED)
    for n, flow in enumerate(flows):
        entry = index_entry(flow)
        writer.add_state(flow.get_state(), {"ix": entry} if n % 2 and entry else None)
    path = tmp_path / "mixed.capture"
    path.write_bytes(out.getvalue())
    entries = list(CaptureIndexer(path, workers=1).entries())
    assert [e.ref.load().get_state() for e in entries] == [
        copy.deepcopy(f.get_state()) for f in flows
    ]


def test_dump_prints_a_status_code_stored_as_text_safely(tmp_path: Path) -> None:
    """Found by the mutation harness: the status went to stdout as it was stored."""
    path = _capture(
        tmp_path / "status.flows",
        lambda s: s[0]["response"].__setitem__("status_code", "\x1b]52;c;aGk=\x07\x9b2J"),
    )
    dump = _flowtui("dump", str(path))
    line = dump.stdout.splitlines()[0]
    assert "\x1b" not in dump.stdout and "\x07" not in dump.stdout and "\x9b" not in dump.stdout
    # mitmproxy refuses a text status code too: the record is listed as unreadable.
    assert "unreadable record" in line and "status_code" in line, line
