"""Finding the last copy of a flow in a capture a proxy appends to (`io.lookup`)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from mitmproxy import io as mitm_io
from mitmproxy import tcp as mitm_tcp

from flowtui.core import TCPFlow
from flowtui.core.tcp import TCPMessage
from flowtui.io import FlowReadException, read_flows, save_flows
from flowtui.io.lookup import last_copies

SAMPLE = Path(__file__).resolve().parents[2] / "flowtui" / "sample" / "sample.flows"


def _copies(flow: TCPFlow, counts: list[int]) -> list[TCPFlow]:
    """Copies of `flow` (same id) holding its first `n` messages, for each n."""
    out = []
    for n in counts:
        copy = TCPFlow.from_state(flow.get_state())
        del copy.messages[n:]
        out.append(copy)
    return out


def _sample() -> list[TCPFlow]:
    flows = [f for f in read_flows(SAMPLE) if isinstance(f, TCPFlow) and len(f.messages) >= 4]
    assert len(flows) >= 3
    return flows


@pytest.mark.parametrize("fmt", ["mitmproxy", "flowtui"])
def test_the_last_copy_wins(tmp_path: Path, fmt: str) -> None:
    wanted, other, third = _sample()[:3]
    first, second, last = _copies(wanted, [1, 4, 2])  # the last copy is not the longest
    path = tmp_path / "rec.flows"
    save_flows(path, [first, other, second, third, last], format=fmt)
    found = last_copies(path, [wanted.id, "no-such-id"])
    assert found.copies == {wanted.id: 3}
    assert list(found.found) == [wanted.id]
    assert found.found[wanted.id].get_state() == last.get_state()
    assert found.records == 5 and found.stopped is None and not found.cancelled


def test_the_oracle_mitmproxy_writes_the_recording(tmp_path: Path) -> None:
    """A recording written by mitmproxy's own writer (as `save_stream_file` does)."""
    wanted, other = _sample()[:2]
    path = tmp_path / "mitm.flows"
    with path.open("wb") as f:
        writer = mitm_io.FlowWriter(f)
        for flow in [*_copies(wanted, [2]), other, *_copies(wanted, [3])]:
            writer.add(mitm_tcp.TCPFlow.from_state(flow.get_state()))
    found = last_copies(path, [wanted.id]).found[wanted.id]
    assert isinstance(found, TCPFlow) and len(found.messages) == 3


def test_an_id_inside_another_flows_content_is_not_that_flow(tmp_path: Path) -> None:
    wanted, other = _sample()[:2]
    decoy = TCPFlow.from_state(other.get_state())
    decoy.messages.append(TCPMessage(True, f"see {wanted.id}".encode(), 1.0))
    path = tmp_path / "rec.flows"
    save_flows(path, [wanted, decoy], format="mitmproxy")
    found = last_copies(path, [wanted.id])
    assert found.copies == {wanted.id: 1}
    assert found.found[wanted.id].get_state() == wanted.get_state()


def test_a_record_being_written_at_the_end_stops_the_search_after_the_copies(
    tmp_path: Path,
) -> None:
    wanted = _sample()[0]
    path = tmp_path / "rec.flows"
    save_flows(path, _copies(wanted, [1, 3]), format="mitmproxy")
    whole = path.read_bytes()
    tail = tmp_path / "tail.flows"
    save_flows(tail, [wanted], format="mitmproxy")
    path.write_bytes(whole + tail.read_bytes()[:100])  # the proxy is writing a fourth
    found = last_copies(path, [wanted.id])
    assert len(found.found[wanted.id].messages) == 3
    assert found.stopped is not None and "truncated" in str(found.stopped)
    assert str(path) in str(found.stopped)


def test_a_last_copy_too_big_is_not_decoded(tmp_path: Path) -> None:
    wanted = _sample()[0]
    path = tmp_path / "rec.flows"
    save_flows(path, [wanted], format="mitmproxy")
    found = last_copies(path, [wanted.id], max_record=100)
    assert found.found == {} and found.too_big == {wanted.id: path.stat().st_size}


def test_a_cancelled_search_says_so(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    found = last_copies(SAMPLE, [_sample()[0].id], cancel=cancel)
    assert found.cancelled and found.found == {} and found.records == 0


def test_no_file_or_no_capture_raises_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "gone.flows"
    with pytest.raises(FlowReadException, match=r"gone\.flows.*cannot open"):
        last_copies(missing, ["x"])
    bad = tmp_path / "bad.flows"
    bad.write_bytes(b"\x1f\x8b\x08 gzip")
    with pytest.raises(FlowReadException, match=r"bad\.flows.*gzip"):
        last_copies(bad, ["x"])
    empty = tmp_path / "empty.flows"
    empty.write_bytes(b"")
    assert last_copies(empty, ["x"]).found == {}
